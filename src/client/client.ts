import { EventEmitter } from 'node:events';
import type { ChildProcess } from 'node:child_process';
import { Method } from '../protocol/methods';
import type { EnvironmentInfo, EnvPolicy, OutputStream, ReadResult, SignalName, WriteResult } from '../protocol/types';
import type { ExecServer } from '../server/execServer';
import { openInProcess, openStdio, openWebSocket, type ClientTransport, type TransportCallbacks, type WebSocketTransportOptions } from './transports';

export interface ClientOptions {
  clientName?: string;
  initializeTimeoutMs?: number;
  /**
   * undefined: a seed client (its processes die with the connection);
   * null: an upstream client starting a resumable session; a string: resume that session.
   */
  resumeSessionId?: string | null;
}

export interface OutputEvent { processId: string; seq: number; stream: OutputStream; data: Buffer }
export interface ExitedEvent { processId: string; seq: number; exitCode: number; signal: string | null }
export interface ClosedEvent { processId: string; seq: number }

export interface StartOptions {
  processId?: string;
  argv: string[];
  cwd?: string;
  env?: Record<string, string>;
  tty?: boolean;
  pipeStdin?: boolean;
  arg0?: string | null;
  cols?: number;
  rows?: number;
  envPolicy?: EnvPolicy;
  metadata?: Record<string, unknown>;
}

export interface RunResult { exitCode: number; signal: string | null; stdout: Buffer; stderr: Buffer; output: Buffer }

let nextAutoId = 0;

/**
 * Typed exec-server client over WebSocket, stdio or in-process. Emits 'output', 'exited',
 * 'closed' (process events) and 'disconnect'. `wait` and `run` are helpers built on the
 * protocol's primitives, as the seed's design suggests.
 */
export class ExecClient extends EventEmitter {
  sessionId = '';
  protocolVersion = '';
  environmentInfo: EnvironmentInfo | undefined;
  private transport!: ClientTransport;
  private connected = true;
  private readonly finished = new Map<string, ExitedEvent>();

  private constructor() {
    super();
    this.setMaxListeners(0);
  }

  static async connectWebSocket(url: string, opts: ClientOptions & WebSocketTransportOptions = {}): Promise<ExecClient> {
    const c = new ExecClient();
    c.transport = await openWebSocket(url, opts, c.callbacks());
    return c.initialize(opts);
  }

  static async connectStdio(child: ChildProcess, opts: ClientOptions = {}): Promise<ExecClient> {
    const c = new ExecClient();
    c.transport = openStdio(child, c.callbacks());
    return c.initialize(opts);
  }

  static async connectInProcess(server: ExecServer, opts: ClientOptions = {}): Promise<ExecClient> {
    const c = new ExecClient();
    c.transport = openInProcess(server, c.callbacks());
    return c.initialize(opts);
  }

  get isConnected(): boolean {
    return this.connected;
  }

  /** Any method, for what has no typed wrapper (fs/*, environment/*). */
  request<T = unknown>(method: string, params?: unknown): Promise<T> {
    return this.transport.request(method, params) as Promise<T>;
  }

  async start(o: StartOptions): Promise<{ processId: string; pid: number }> {
    const processId = o.processId ?? `p-${process.pid}-${++nextAutoId}`;
    const r = await this.request<{ processId: string; pid: number }>(Method.processStart, {
      processId,
      argv: o.argv,
      cwd: o.cwd ?? process.cwd(),
      env: o.env ?? inheritEnv(),
      tty: o.tty ?? false,
      pipeStdin: o.pipeStdin ?? false,
      arg0: o.arg0 ?? null,
      cols: o.cols,
      rows: o.rows,
      envPolicy: o.envPolicy,
      metadata: o.metadata,
    });
    return { processId: r.processId ?? processId, pid: r.pid };
  }

  read(processId: string, opts: { afterSeq?: number; maxBytes?: number; waitMs?: number } = {}): Promise<ReadResult> {
    return this.request(Method.processRead, { processId, ...opts });
  }

  write(processId: string, data: Buffer | string, writeId?: string): Promise<WriteResult> {
    const chunk = (typeof data === 'string' ? Buffer.from(data) : data).toString('base64');
    return this.request(Method.processWrite, writeId === undefined ? { processId, chunk } : { processId, chunk, writeId });
  }

  signal(processId: string, signal: SignalName): Promise<{ delivered: boolean }> {
    return this.request(Method.processSignal, { processId, signal });
  }

  resize(processId: string, cols: number, rows: number): Promise<void> {
    return this.request(Method.processResize, { processId, cols, rows });
  }

  closeStdin(processId: string): Promise<{ closed: boolean }> {
    return this.request(Method.processCloseStdin, { processId });
  }

  terminate(processId: string): Promise<{ running: boolean }> {
    return this.request(Method.processTerminate, { processId });
  }

  /** Resolves when the process has exited and its output is closed. */
  async wait(processId: string, timeoutMs = 0): Promise<ExitedEvent> {
    const known = this.finished.get(processId);
    if (known) return known;
    return new Promise<ExitedEvent>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      // eslint-disable-next-line prefer-const -- set after done() is defined; done() reads it, so it stays a let.
      let poll: NodeJS.Timeout | undefined;
      const done = (e: ExitedEvent | Error) => {
        clearTimeout(timer);
        clearInterval(poll);
        this.off('closed', onClosed);
        this.off('disconnect', onDisconnect);
        if (e instanceof Error) reject(e);
        else resolve(e);
      };
      const onClosed = (e: ClosedEvent) => {
        const f = this.finished.get(e.processId);
        if (e.processId === processId && f) done(f);
      };
      const onDisconnect = () => done(new Error(`disconnected while waiting for ${processId}`));
      // Notifications can be missed (e.g. after a resume): confirm with a cheap status read.
      const check = () =>
        this.read(processId, { afterSeq: Number.MAX_SAFE_INTEGER })
          .then((r) => {
            if (r.closed) done({ processId, seq: r.nextSeq - 2, exitCode: r.exitCode ?? 0, signal: null });
          })
          .catch((err: Error) => done(err));
      this.on('closed', onClosed);
      this.on('disconnect', onDisconnect);
      if (timeoutMs > 0) timer = setTimeout(() => done(new Error(`timed out waiting for ${processId}`)), timeoutMs);
      poll = setInterval(() => void check(), 1000);
      void check();
    });
  }

  /** Start, feed stdin, collect all output, wait for close: the `communicate` helper. */
  async run(argv: string[], o: Omit<StartOptions, 'argv'> & { stdin?: Buffer | string; timeoutMs?: number } = {}): Promise<RunResult> {
    const processId = o.processId ?? `run-${process.pid}-${++nextAutoId}`;
    const chunks: OutputEvent[] = [];
    const onOutput = (e: OutputEvent) => {
      if (e.processId === processId) chunks.push(e);
    };
    this.on('output', onOutput);
    try {
      await this.start({ ...o, processId, argv, pipeStdin: o.stdin !== undefined || o.pipeStdin });
      if (o.stdin !== undefined) {
        await this.write(processId, o.stdin);
        await this.closeStdin(processId);
      }
      const exit = await this.wait(processId, o.timeoutMs ?? 0);
      let got = chunks;
      // A gap in seq means notifications were missed: take the retained output instead.
      if (got.some((c, i) => i > 0 && c.seq !== got[i - 1].seq + 1) || (got.length > 0 && got[0].seq !== 1)) {
        got = await this.readAll(processId);
      }
      const pick = (s?: OutputStream) => Buffer.concat(got.filter((c) => !s || c.stream === s).map((c) => c.data));
      return { exitCode: exit.exitCode, signal: exit.signal, stdout: pick('stdout'), stderr: pick('stderr'), output: pick() };
    } finally {
      this.off('output', onOutput);
    }
  }

  async readAll(processId: string): Promise<OutputEvent[]> {
    const out: OutputEvent[] = [];
    let after = 0;
    for (let i = 0; i < 100_000; i++) {
      const r = await this.read(processId, { afterSeq: after });
      for (const c of r.chunks) out.push({ processId, seq: c.seq, stream: c.stream, data: Buffer.from(c.chunk, 'base64') });
      if (r.chunks.length === 0) break;
      after = r.chunks[r.chunks.length - 1].seq;
    }
    return out;
  }

  close(): void {
    this.transport.close();
  }

  /**
   * Stop taking messages from the server until `resumeIncoming` (WebSocket only; a no-op
   * elsewhere): for consumers that write output to a slower sink, so the server pauses the
   * process instead of this client buffering without bound.
   */
  pauseIncoming(): void {
    this.transport.pause?.();
  }

  resumeIncoming(): void {
    this.transport.resume?.();
  }

  private async initialize(o: ClientOptions): Promise<this> {
    const params: Record<string, unknown> = { clientName: o.clientName ?? 'exec-server-client' };
    if (o.resumeSessionId !== undefined) params.resumeSessionId = o.resumeSessionId;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('initialize timed out')), o.initializeTimeoutMs ?? 10_000);
    });
    try {
      const r = await Promise.race([this.request<{ sessionId: string; protocolVersion: string; environmentInfo: EnvironmentInfo }>(Method.initialize, params), timeout]);
      this.sessionId = r.sessionId;
      this.protocolVersion = r.protocolVersion;
      this.environmentInfo = r.environmentInfo;
    } catch (err) {
      this.transport.close();
      throw err;
    } finally {
      clearTimeout(timer);
    }
    this.transport.notify(Method.initialized, {});
    return this;
  }

  private callbacks(): TransportCallbacks {
    return {
      notification: (method, p) => {
        if (method === Method.processOutput) {
          const chunk = p.chunk;
          const data = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk), 'base64');
          this.emit('output', { processId: p.processId, seq: p.seq, stream: p.stream, data } as OutputEvent);
        } else if (method === Method.processExited) {
          const e = { processId: p.processId, seq: p.seq, exitCode: p.exitCode, signal: p.signal ?? null } as ExitedEvent;
          this.finished.set(e.processId, e);
          this.emit('exited', e);
        } else if (method === Method.processClosed) {
          this.emit('closed', { processId: p.processId, seq: p.seq } as ClosedEvent);
        } else {
          this.emit('notification', method, p);
        }
      },
      closed: (reason) => {
        this.connected = false;
        this.emit('disconnect', reason);
      },
    };
  }
}

/** The calling process's environment as a plain string map (what `env` needs by default). */
export function inheritEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  return env;
}
