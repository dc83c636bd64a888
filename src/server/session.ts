import { Method } from '../protocol/methods';
import type { ClientChannel } from './clientChannel';
import type { ServerConfig } from './config';
import type { ManagedProcess, ProcessEvents } from './managedProcess';
import type { RetainedChunk } from './outputBuffer';
import { sandboxDeniedFor } from './sandbox';
import type { ServerEvents } from './serverEvents';

/**
 * A client's processes, outliving its connection when the client can resume (upstream
 * clients send `resumeSessionId`). Seed clients' sessions end with their connection.
 */
export class Session implements ProcessEvents {
  readonly createdAt = Date.now();
  readonly processes = new Map<string, ManagedProcess>();
  /** processIds whose spawn is under way: reserved, and writes answer `starting`. */
  readonly starting = new Set<string>();
  channel: ClientChannel | null = null;
  detachedAt: number | null = null;
  ended = false;
  private ttlTimer: NodeJS.Timeout | undefined;
  private readonly pausedByChannel = new Set<ManagedProcess>();

  constructor(
    readonly id: string,
    readonly clientName: string,
    readonly resumable: boolean,
    private readonly config: ServerConfig,
    private readonly events: ServerEvents,
    private readonly onEnd: (s: Session) => void,
  ) {}

  attach(channel: ClientChannel): void {
    clearTimeout(this.ttlTimer);
    this.channel = channel;
    this.detachedAt = null;
    this.events.emit('sessionChanged', this);
  }

  /** The connection went away: end the session (seed) or keep it for a resume (upstream). */
  detach(): void {
    if (!this.channel) return;
    this.resumePaused();
    this.channel = null;
    if (!this.resumable) {
      this.end();
      return;
    }
    this.detachedAt = Date.now();
    this.ttlTimer = setTimeout(() => this.end(), this.config.sessionTtlMs);
    this.ttlTimer.unref();
    this.events.emit('sessionChanged', this);
  }

  /** Terminate every process and forget the session. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.ttlTimer);
    for (const p of this.processes.values()) p.terminate();
    this.onEnd(this);
    this.events.emit('sessionRemoved', this);
  }

  get runningCount(): number {
    let n = 0;
    for (const p of this.processes.values()) if (p.state === 'running') n++;
    return n;
  }

  add(p: ManagedProcess): void {
    this.processes.set(p.processId, p);
    this.events.emit('processStarted', p);
  }

  // --- ProcessEvents: fan out to the attached client and to observers ---

  output(p: ManagedProcess, chunk: RetainedChunk): void {
    const ch = this.channel;
    if (ch) {
      ch.notify(Method.processOutput, { processId: p.processId, seq: chunk.seq, stream: chunk.stream, chunk: chunk.data });
      if (ch.congested) this.pauseUntilDrained(ch, p);
    }
    this.events.emit('processOutput', p, chunk);
  }

  exited(p: ManagedProcess, seq: number): void {
    this.channel?.notify(Method.processExited, {
      processId: p.processId,
      seq,
      exitCode: p.exitCode,
      signal: p.exitSignal,
      sandboxDenied: sandboxDeniedFor(p),
    });
    this.events.emit('processExited', p);
  }

  closed(p: ManagedProcess, seq: number): void {
    this.pausedByChannel.delete(p);
    this.channel?.notify(Method.processClosed, { processId: p.processId, seq });
    this.events.emit('processClosed', p);
    // Keep the record readable for a while (and its id reserved), then let it go.
    const t = setTimeout(() => {
      if (this.processes.get(p.processId) === p) {
        this.processes.delete(p.processId);
        this.events.emit('processRemoved', p);
      }
    }, this.config.exitedRetentionMs);
    t.unref();
  }

  /** Backpressure: a congested client pauses the processes feeding it until it drains. */
  private pauseUntilDrained(ch: ClientChannel, p: ManagedProcess): void {
    if (this.pausedByChannel.has(p)) return;
    const first = this.pausedByChannel.size === 0;
    this.pausedByChannel.add(p);
    p.pause(this);
    if (first) {
      ch.onceDrained(() => {
        if (this.channel === ch) this.resumePaused();
      });
    }
  }

  private resumePaused(): void {
    const paused = [...this.pausedByChannel];
    this.pausedByChannel.clear();
    for (const p of paused) p.resume(this);
  }
}
