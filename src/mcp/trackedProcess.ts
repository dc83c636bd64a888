import { OutputLog } from './outputLog';

export type ProcessStatus = 'running' | 'exited' | 'killed' | 'failed_to_start';

export interface TrackedInit {
  id: string;
  command: string;
  cwd: string;
  tty: boolean;
  /** Input can still be written (a PTY, or pipes kept open with keep_stdin_open). */
  stdinOpen: boolean;
  description?: string;
  /** Which exec-server connection started it (a new connection means a new server session). */
  link: number;
  outputCapBytes?: number;
}

/**
 * One process the agent started through this bridge, as the bridge knows it from the
 * server's notifications: output mirrored in an {@link OutputLog}, exit, close, and the
 * agent's read position (`get_output` without a cursor continues from there).
 */
export class TrackedProcess {
  readonly id: string;
  readonly command: string;
  readonly cwd: string;
  readonly tty: boolean;
  readonly description: string | undefined;
  readonly link: number;
  readonly log: OutputLog;
  readonly startedAt = Date.now();
  pid = 0;
  stdinOpen: boolean;
  exitCode: number | null = null;
  signal: string | null = null;
  exitedAt: number | null = null;
  /** Output complete (the server's `closed`), or given up on. */
  closed = false;
  /** The agent (stop_process), its timeout_ms, or the bridge's shutdown asked for it to stop. */
  stopRequested: 'stop_process' | 'timeout' | 'shutdown' | null = null;
  failure: string | null = null;
  /** Something the agent should know that no other field says (lost connection, timeout…). */
  note: string | null = null;
  readPos = 0;
  timeoutTimer: NodeJS.Timeout | undefined;
  private waiters = new Set<() => void>();

  constructor(o: TrackedInit) {
    this.id = o.id;
    this.command = o.command;
    this.cwd = o.cwd;
    this.tty = o.tty;
    this.stdinOpen = o.stdinOpen;
    this.description = o.description;
    this.link = o.link;
    this.log = new OutputLog(o.outputCapBytes);
  }

  get running(): boolean {
    return this.failure === null && this.exitedAt === null;
  }

  get status(): ProcessStatus {
    if (this.failure !== null) return 'failed_to_start';
    if (this.exitedAt === null) return 'running';
    if (this.signal) return 'killed';
    // Stopped on request but exited by itself with a non-zero code (e.g. a SIGTERM handler's exit 143).
    if (this.stopRequested && this.exitCode !== 0) return 'killed';
    return 'exited';
  }

  /** Runtime: start to exit, or to now while running. */
  get elapsedMs(): number {
    return (this.exitedAt ?? Date.now()) - this.startedAt;
  }

  output(data: Buffer): void {
    this.log.append(data);
    this.wake();
  }

  exited(exitCode: number, signal: string | null): void {
    if (this.exitedAt !== null) return;
    this.exitCode = exitCode;
    this.signal = signal;
    this.exitedAt = Date.now();
    this.stdinOpen = false;
    clearTimeout(this.timeoutTimer);
    this.wake();
  }

  closedNow(): void {
    this.closed = true;
    this.wake();
  }

  failedToStart(message: string): void {
    this.failure = message;
    this.closed = true;
    this.stdinOpen = false;
    this.exitedAt = Date.now();
    this.wake();
  }

  /** The connection that ran it is gone: the server ended its session, and the process with it. */
  lost(reason: string): void {
    if (!this.closed) this.note = `the connection to the exec server was lost (${reason}); the server stops the processes of a lost connection`;
    if (this.exitedAt === null) {
      this.exitedAt = Date.now();
      this.exitCode = null;
      this.signal = null;
      this.stopRequested ??= 'shutdown';
    }
    this.stdinOpen = false;
    this.closedNow();
  }

  /**
   * Resolves when `until()` holds, or after `ms`, or when `signal` aborts: whichever is first.
   * Checked on every change (output, exit, close).
   */
  async waitFor(until: () => boolean, ms: number, signal?: AbortSignal): Promise<void> {
    if (until() || ms <= 0 || signal?.aborted) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const check = () => {
        if (until()) done();
      };
      const timer = setTimeout(done, ms);
      this.waiters.add(check);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }
}
