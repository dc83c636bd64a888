import { Method } from '../../protocol/methods';
import type { ClientChannel } from '../connection/clientChannel';
import type { ManagedProcess, ProcessEvents } from '../process/managedProcess';
import type { RetainedChunk } from '../process/outputBuffer';
import { sandboxDeniedFor } from '../sandbox';

/**
 * What a session tells whoever keeps it (the process registry), instead of importing it:
 * the registry owns the session's processes and the observers' event bus.
 */
export interface SessionHooks {
  /** Attached to a connection or detached from one (for observers). */
  changed(s: Session): void;
  /** Ended (seed client gone, TTL expired, shutdown): its processes must be terminated. */
  ended(s: Session): void;
}

/**
 * A client's view of the process registry: the connection it is attached to, if any, and
 * the notifications that go to it. Its processes live in the registry (processRegistry.ts)
 * and outlive the connection when the client can resume (upstream clients send
 * `resumeSessionId`), for `ttlMs`. Seed clients' sessions end with their connection.
 */
export class Session implements ProcessEvents {
  readonly createdAt = Date.now();
  private attachedTo: ClientChannel | null = null;
  private detachedSince: number | null = null;
  private isEnded = false;
  private ttlTimer: NodeJS.Timeout | undefined;
  private readonly pausedByChannel = new Set<ManagedProcess>();

  constructor(
    readonly id: string,
    readonly clientName: string,
    readonly resumable: boolean,
    private readonly ttlMs: number,
    private readonly hooks: SessionHooks,
  ) {}

  /** The connection it is attached to; null while detached (or ended). */
  get channel(): ClientChannel | null {
    return this.attachedTo;
  }

  /** When it was detached (ms since epoch), null while attached. */
  get detachedAt(): number | null {
    return this.detachedSince;
  }

  get ended(): boolean {
    return this.isEnded;
  }

  attach(channel: ClientChannel): void {
    clearTimeout(this.ttlTimer);
    this.attachedTo = channel;
    this.detachedSince = null;
    this.hooks.changed(this);
  }

  /** The connection went away: end the session (seed) or keep it for a resume (upstream). */
  detach(): void {
    if (!this.attachedTo) return;
    this.resumePaused();
    this.attachedTo = null;
    if (!this.resumable) {
      this.end();
      return;
    }
    this.detachedSince = Date.now();
    this.ttlTimer = setTimeout(() => this.end(), this.ttlMs);
    this.ttlTimer.unref();
    this.hooks.changed(this);
  }

  /** End the session: the registry terminates its processes and forgets it. */
  end(): void {
    if (this.isEnded) return;
    this.isEnded = true;
    clearTimeout(this.ttlTimer);
    this.hooks.ended(this);
  }

  // --- ProcessEvents: notifications to the attached client (the registry calls these) ---

  output(p: ManagedProcess, chunk: RetainedChunk): void {
    const ch = this.attachedTo;
    if (!ch) return;
    ch.notify(Method.processOutput, { processId: p.processId, seq: chunk.seq, stream: chunk.stream, chunk: chunk.data });
    if (ch.congested) this.pauseUntilDrained(ch, p);
  }

  exited(p: ManagedProcess, seq: number): void {
    this.attachedTo?.notify(Method.processExited, {
      processId: p.processId,
      seq,
      exitCode: p.exitCode,
      signal: p.exitSignal,
      sandboxDenied: sandboxDeniedFor(p),
    });
  }

  closed(p: ManagedProcess, seq: number): void {
    this.pausedByChannel.delete(p);
    this.attachedTo?.notify(Method.processClosed, { processId: p.processId, seq });
  }

  /** Backpressure: a congested client pauses the processes feeding it until it drains. */
  private pauseUntilDrained(ch: ClientChannel, p: ManagedProcess): void {
    if (this.pausedByChannel.has(p)) return;
    const first = this.pausedByChannel.size === 0;
    this.pausedByChannel.add(p);
    p.pause(this);
    if (first) {
      ch.onceDrained(() => {
        if (this.attachedTo === ch) this.resumePaused();
      });
    }
  }

  private resumePaused(): void {
    const paused = [...this.pausedByChannel];
    this.pausedByChannel.clear();
    for (const p of paused) p.resume(this);
  }
}
