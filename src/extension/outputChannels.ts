import * as vscode from 'vscode';
import { formatClock } from './format';
import { OutputThrottle, type ChannelStats } from './outputThrottle';
import { copyableCommand, displayCommand } from './processLabels';
import type { OutputFollowing, ProcessModel } from './processModel';

/**
 * "Show output": one plain output channel per process, created on first use, filled with the
 * retained output and then live output (ANSI stripped). What it may cost (batching, rate limit,
 * size cap) is the throttle's business (outputThrottle.ts); reading the output is the model's
 * (followOutput). This file only joins the two to a VS Code output channel.
 */
export class OutputChannels implements vscode.Disposable {
  private readonly channels = new Map<string, ProcessChannel>();

  constructor(
    private readonly model: ProcessModel,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  async show(key: string): Promise<void> {
    let c = this.channels.get(key);
    if (!c) {
      const p = this.model.getProcess(key);
      if (!p) throw new Error(`no such process ${key}`);
      const name = `Exec: ${displayCommand(p.snap, 40)} (${p.snap.pid})`;
      c = new ProcessChannel(vscode.window.createOutputChannel(name), key, this.model, this.log);
      this.channels.set(key, c);
      c.channel.show(true);
      await c.fill();
      return;
    }
    c.channel.show(true);
  }

  has(key: string): boolean {
    return this.channels.has(key);
  }

  /** The text the channel holds now (tests). */
  contents(key: string): string | undefined {
    return this.channels.get(key)?.throttle.content;
  }

  stats(key: string): ChannelStats | undefined {
    const t = this.channels.get(key)?.throttle;
    return t && { ...t.stats, chars: t.content.length };
  }

  /** Drop channels of processes no longer listed. */
  prune(): void {
    for (const [key, c] of this.channels) {
      if (!this.model.getProcess(key)) {
        c.dispose();
        this.channels.delete(key);
      }
    }
  }

  dispose(): void {
    for (const c of this.channels.values()) c.dispose();
    this.channels.clear();
  }
}

class ProcessChannel {
  readonly throttle: OutputThrottle;
  private following: OutputFollowing | undefined;

  constructor(
    readonly channel: vscode.OutputChannel,
    private readonly key: string,
    private readonly model: ProcessModel,
    log: vscode.LogOutputChannel,
  ) {
    this.throttle = new OutputThrottle(channel, undefined, (err) => log.debug(`output channel write failed: ${err.message}`));
  }

  /** The header, the retained output (written at once), then live output until the end line. */
  async fill(): Promise<void> {
    const t = this.throttle;
    const p = this.model.getProcess(this.key)!;
    t.note(`$ ${copyableCommand(p.snap)}\n# cwd ${p.snap.cwd} · pid ${p.snap.pid} · started ${formatClock(p.snap.startedAtMs)}\n`);
    if (!this.model.controlOf(p)) t.note('[the server that ran this process has stopped; its output is no longer available]\n');
    this.following = this.model.followOutput(this.key, {
      truncated: () => t.note('[… earlier output was discarded (execServer.retainedOutputBytes) …]\n'),
      unavailable: (err) => t.note(`[retained output unavailable: ${err.message}]\n`),
      chunk: (c) => t.output(c.data),
      replayed: () => t.endReplay(),
      ended: (end) => {
        const how = !end || end.lost ? 'the server stopped' : end.snap.signal ? `killed by ${end.snap.signal}` : `exit code ${end.snap.exitCode ?? 'unknown'}`;
        t.finish(`[process ended: ${how}]\n`);
      },
    });
    await this.following.replayed;
  }

  dispose(): void {
    this.throttle.dispose();
    this.following?.dispose();
    this.channel.dispose();
  }
}
