import { StringDecoder } from 'node:string_decoder';
import * as vscode from 'vscode';
import { AnsiStripper } from './ansi';
import { commandLabel, commandLine, formatClock } from './format';
import type { ProcessModel } from './processModel';

const FLUSH_MS = 100;
/**
 * At most HEAD + TAIL characters are appended per flush: the start of a burst and its newest
 * part; the middle is replaced by a note. Memory per channel stays bounded whatever the rate.
 */
const HEAD_CHARS = 64 * 1024;
const TAIL_CHARS = 192 * 1024;
const MAX_KEPT_CHARS = 256 * 1024;

/**
 * "Show output": one plain output channel per process, created on first use, filled with the
 * retained output and then live output (ANSI stripped). Appends are batched so a process
 * printing megabytes per second costs one append per 100 ms, bounded in size.
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
      const name = `Exec: ${commandLabel(p.snap.argv, 40)} (${p.snap.pid})`;
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

  /** Text appended so far (tests). */
  contents(key: string): string | undefined {
    return this.channels.get(key)?.written;
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
  private readonly decoder = new StringDecoder('utf8');
  private readonly stripper = new AnsiStripper();
  private head = '';
  private tail: string[] = [];
  private tailChars = 0;
  private skippedChars = 0;
  private timer: NodeJS.Timeout | undefined;
  private lastSeq = 0;
  private live: { dispose(): void } | undefined;
  private buffering: Array<{ seq: number; data: Buffer }> | undefined = [];
  /** Kept only for tests; bounded. */
  written = '';

  constructor(
    readonly channel: vscode.OutputChannel,
    private readonly key: string,
    private readonly model: ProcessModel,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  async fill(): Promise<void> {
    const p = this.model.getProcess(this.key)!;
    this.append(`$ ${commandLine(p.snap.argv)}\n# cwd ${p.snap.cwd} · pid ${p.snap.pid} · started ${formatClock(p.snap.startedAtMs)}\n`);
    const observer = this.model.observer;
    if (observer && this.model.isLive(p)) {
      // Subscribe first (buffering), then read what is retained, then replay what came meanwhile.
      this.live = this.model.watchOutput(
        this.key,
        (c) => (this.buffering ? this.buffering.push(c) : this.onChunk(c.seq, c.data)),
        () => this.onEnd(),
      );
      try {
        const r = await observer.retainedOutput(this.key);
        if (r.truncated) this.append('[… earlier output was discarded (execServer.retainedOutputBytes) …]\n');
        for (const c of r.chunks) this.onChunk(c.seq, c.data);
      } catch (err) {
        this.append(`[retained output unavailable: ${(err as Error).message}]\n`);
      }
      const early = this.buffering ?? [];
      this.buffering = undefined;
      for (const c of early) this.onChunk(c.seq, c.data);
      this.onEnd();
    } else {
      this.append('[the server that ran this process has stopped; its output is no longer available]\n');
      this.onEnd();
    }
  }

  private onChunk(seq: number, data: Buffer): void {
    if (seq <= this.lastSeq) return;
    this.lastSeq = seq;
    this.append(this.stripper.push(this.decoder.write(data)));
  }

  private ended = false;
  private onEnd(): void {
    if (this.ended || this.buffering) return; // fill() calls it again once the replay is done
    const p = this.model.getProcess(this.key);
    if (p && p.snap.state !== 'closed' && !p.lost && this.model.isLive(p)) return; // still streaming
    this.ended = true;
    this.live?.dispose();
    // Live events can trail the `closed` event or be dropped by a slow observer channel (child
    // mode): catch up from the retained output before writing the end line.
    const observer = this.model.observer;
    const catchUp = observer && p && this.model.isLive(p) && !this.buffering
      ? observer.retainedOutput(this.key).then((r) => r.chunks.forEach((c) => this.onChunk(c.seq, c.data)), () => undefined)
      : Promise.resolve();
    void catchUp.then(() => {
      const tail = this.stripper.push(this.decoder.end()) + this.stripper.flush();
      this.append(tail);
      const how = !p || p.lost ? 'the server stopped' : p.snap.signal ? `killed by ${p.snap.signal}` : `exit code ${p.snap.exitCode}`;
      const lastChar = (this.tail.length ? this.tail[this.tail.length - 1] : this.head || this.written).slice(-1);
      this.append(`${lastChar === '\n' || lastChar === '' ? '' : '\n'}[process ended: ${how}]\n`);
    });
  }

  private append(text: string): void {
    if (!text) return;
    if (this.tail.length === 0 && this.head.length < HEAD_CHARS) {
      const room = HEAD_CHARS - this.head.length;
      this.head += text.slice(0, room);
      text = text.slice(room);
    }
    if (text) {
      this.tail.push(text);
      this.tailChars += text.length;
      while (this.tailChars > TAIL_CHARS && this.tail.length > 1) {
        const dropped = this.tail.shift()!;
        this.tailChars -= dropped.length;
        this.skippedChars += dropped.length;
      }
      if (this.tailChars > TAIL_CHARS) {
        const cut = this.tailChars - TAIL_CHARS;
        this.tail[0] = this.tail[0].slice(cut);
        this.tailChars -= cut;
        this.skippedChars += cut;
      }
    }
    this.timer ??= setTimeout(() => this.flush(), FLUSH_MS);
  }

  private flush(): void {
    this.timer = undefined;
    const skipped = this.skippedChars ? `\n[… ${this.skippedChars} characters skipped (output too fast) …]\n` : '';
    const text = this.head + skipped + this.tail.join('');
    this.head = '';
    this.tail = [];
    this.tailChars = 0;
    this.skippedChars = 0;
    if (!text) return;
    try {
      this.channel.append(text);
    } catch (err) {
      this.log.debug(`output channel append failed: ${(err as Error).message}`);
    }
    this.written = (this.written + text).slice(-MAX_KEPT_CHARS);
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.live?.dispose();
    this.channel.dispose();
  }
}
