import { invalidRequest } from '../../protocol/errors';
import type { OutputStream, SignalName, WriteStatus } from '../../protocol/types';
import type { ChildHandle, SpawnSpec } from './childProcess';
import { spawnChild } from './childProcess';
import type { ServerConfig } from '../config';
import { OutputBuffer, type RetainedChunk } from './outputBuffer';
import { hostPlatform } from '../../platform/hostPlatform';
import { groupAlive, killGroup } from './processGroup';

export type ProcessState = 'running' | 'exited' | 'closed';

/** Receives a process's seq'd events (its session, which fans them out). */
export interface ProcessEvents {
  output(p: ManagedProcess, chunk: RetainedChunk): void;
  exited(p: ManagedProcess, seq: number): void;
  closed(p: ManagedProcess, seq: number): void;
}

export interface StartOptions {
  sessionId: string;
  processId: string;
  spec: SpawnSpec;
  metadata?: Record<string, unknown>;
  config: ServerConfig;
  events: ProcessEvents;
}

const SIGNALS: Record<SignalName, NodeJS.Signals> = {
  interrupt: 'SIGINT',
  terminate: 'SIGTERM',
  kill: 'SIGKILL',
  hangup: 'SIGHUP',
};

/** writeIds remembered per process for de-duplication (oldest forgotten first). */
const MAX_WRITE_IDS = 4096;

/**
 * One child process with its seq counter (shared by output, exited and closed), bounded
 * retained output, lifecycle and controls. Knows nothing about connections.
 */
export class ManagedProcess {
  readonly startedAt = Date.now();
  readonly output: OutputBuffer;
  state: ProcessState = 'running';
  exitCode: number | null = null;
  exitSignal: string | null = null;
  exitedAt: number | null = null;
  outputBytes = 0;
  /** What the server was asked to do to it last (lets a UI tell "killed" from "failed"). */
  stopRequest: SignalName | null = null;
  private seq = 0;
  private child!: ChildHandle;
  private readonly waiters = new Set<() => void>();
  private readonly pausedBy = new Set<object>();
  private readonly writeIds = new Set<string>();
  private ended = false;
  private closeTimer: NodeJS.Timeout | undefined;
  private killTimer: NodeJS.Timeout | undefined;

  private constructor(
    readonly sessionId: string,
    readonly processId: string,
    readonly spec: SpawnSpec,
    readonly metadata: Record<string, unknown> | undefined,
    private readonly config: ServerConfig,
    private readonly events: ProcessEvents,
  ) {
    this.output = new OutputBuffer(config.retainedOutputBytes);
  }

  static async start(o: StartOptions): Promise<ManagedProcess> {
    const p = new ManagedProcess(o.sessionId, o.processId, o.spec, o.metadata, o.config, o.events);
    p.child = await spawnChild(o.spec, {
      data: (stream, data) => p.onData(stream, data),
      exit: (code, signal) => p.onExit(code, signal),
      end: () => p.onEnd(),
    });
    return p;
  }

  get pid(): number {
    return this.child.pid;
  }

  get tty(): boolean {
    return this.spec.tty;
  }

  /** Highest seq assigned so far plus one (exited and closed use seqs too). */
  get nextSeq(): number {
    return this.seq + 1;
  }

  get paused(): boolean {
    return this.pausedBy.size > 0;
  }

  write(data: Buffer, writeId: string | undefined): WriteStatus {
    if (this.state !== 'running' || !this.child.stdinOpen) return 'stdinClosed';
    if (writeId !== undefined) {
      if (this.writeIds.has(writeId)) return 'accepted'; // a retry of a write already done
      this.writeIds.add(writeId);
      if (this.writeIds.size > MAX_WRITE_IDS) {
        this.writeIds.delete(this.writeIds.values().next().value as string);
      }
    }
    if (data.length > 0) this.child.write(data);
    return 'accepted';
  }

  closeStdin(): boolean {
    if (this.state !== 'running' || !this.child.stdinOpen) return false;
    this.child.closeStdin();
    return true;
  }

  resize(cols: number, rows: number): void {
    if (!this.spec.tty) throw invalidRequest(`process ${this.processId} is not a PTY process (started with tty:false)`);
    if (this.state === 'running') this.child.resize(cols, rows);
  }

  /** Signal the whole process group; false when nothing was left to signal. */
  signal(name: SignalName): boolean {
    if (this.state === 'closed' && !groupAlive(this.pid)) return false;
    if (name === 'interrupt') {
      // POSIX: SIGINT to the group. Windows has no signals: Ctrl-C typed into a PTY (ConPTY
      // raises CTRL_C_EVENT in its console); a pipe process has no console to type into.
      const route = hostPlatform().interruptRoute(this.spec.tty);
      if (route === 'ctrl-c') {
        if (this.state !== 'running') return false;
        this.child.write(Buffer.from('\x03'));
        return true;
      }
      if (route === 'tree-kill') {
        this.stopRequest = 'kill';
        return killGroup(this.pid, 'SIGKILL');
      }
      return killGroup(this.pid, SIGNALS.interrupt);
    }
    this.stopRequest = name;
    return killGroup(this.pid, SIGNALS[name]);
  }

  /**
   * SIGTERM to the group, SIGKILL after the grace period for anything still alive
   * (grandchildren that ignore SIGTERM included). Returns whether the child was running.
   */
  terminate(graceMs = this.config.terminateGraceMs): boolean {
    const wasRunning = this.state === 'running';
    if (!wasRunning && !groupAlive(this.pid)) return false;
    this.stopRequest ??= 'terminate';
    killGroup(this.pid, graceMs > 0 ? 'SIGTERM' : 'SIGKILL');
    if (graceMs > 0 && !this.killTimer) {
      this.killTimer = setTimeout(() => {
        if (groupAlive(this.pid)) killGroup(this.pid, 'SIGKILL');
      }, graceMs);
      this.killTimer.unref();
    }
    return wasRunning;
  }

  /** Backpressure: stop reading output while any holder wants it paused. */
  pause(holder: object): void {
    if (this.state === 'closed') return;
    if (this.pausedBy.size === 0) this.child.pause();
    this.pausedBy.add(holder);
  }

  resume(holder: object): void {
    if (!this.pausedBy.delete(holder) || this.pausedBy.size > 0) return;
    if (this.state !== 'closed') this.child.resume();
  }

  /** Resolves on the next output or state change, or after `ms`. */
  waitForChange(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.add(done);
    });
  }

  private changed(): void {
    for (const w of [...this.waiters]) w();
  }

  private onData(stream: OutputStream, data: Buffer): void {
    const chunk: RetainedChunk = { seq: ++this.seq, stream, data };
    this.outputBytes += data.length;
    this.output.push(chunk);
    this.events.output(this, chunk);
    this.changed();
  }

  private onExit(exitCode: number, signal: string | null): void {
    this.state = 'exited';
    this.exitCode = exitCode;
    this.exitSignal = signal;
    this.exitedAt = Date.now();
    this.events.exited(this, ++this.seq);
    this.changed();
    if (this.ended) this.onClosed();
    else this.armCloseTimer();
  }

  private onEnd(): void {
    this.ended = true;
    if (this.state === 'exited') this.onClosed();
  }

  /** Grandchildren may hold our pipes after exit: wait for them, but not forever. */
  private armCloseTimer(): void {
    this.closeTimer = setTimeout(() => {
      // A paused stream is not at EOF because we stopped reading it: keep waiting.
      if (this.paused) this.armCloseTimer();
      else this.child.abandonOutput();
    }, this.config.closeWaitMs);
    this.closeTimer.unref();
  }

  private onClosed(): void {
    if (this.state === 'closed') return;
    clearTimeout(this.closeTimer);
    this.state = 'closed';
    this.pausedBy.clear();
    this.events.closed(this, ++this.seq);
    this.changed();
  }
}
