import { EventEmitter } from 'node:events';
import type { ChildProcess } from 'node:child_process';
import type { EnvironmentInfo } from '../protocol/environmentTypes';
import {
  Initialize, Initialized, ProcessCloseStdin, ProcessClosed, ProcessExited, ProcessOutput, ProcessRead, ProcessResize,
  ProcessSignal, ProcessStart, ProcessTerminate, ProcessWrite,
} from '../protocol/methods';
import type { RequestMethod } from '../protocol/requestTypes';
import type {
  ClosedNotification, CloseStdinResult, EnvPolicy, ExitedNotification, InitializeParams, OutputStream, ReadParams, ReadResult,
  ResizeResult, SignalName, SignalResult, StartResult, TerminateResult, WriteResult,
} from '../protocol/types';
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

  /**
   * A request checked against its declaration (src/protocol/methods.ts): `call(FsReadFile,
   * { path })` resolves to an FsReadFileResult. Rejects with an RpcError the server sent.
   */
  call<P, R>(m: RequestMethod<P, R>, params: NoInfer<P>): Promise<R> {
    return this.transport.request(m.method, params) as Promise<R>;
  }

  /** Any method name with any params, unchecked: for tests that send what the protocol does not allow. */
  request(method: string, params?: unknown): Promise<unknown> {
    return this.transport.request(method, params);
  }

  async start(o: StartOptions): Promise<StartResult> {
    const processId = o.processId ?? `p-${process.pid}-${++nextAutoId}`;
    const r = await this.call(ProcessStart, {
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
    // A seed server may answer without the id: it is the one we sent.
    return { ...r, processId: r.processId ?? processId };
  }

  read(processId: string, opts: Omit<ReadParams, 'processId'> = {}): Promise<ReadResult> {
    return this.call(ProcessRead, { processId, ...opts });
  }

  write(processId: string, data: Buffer | string, writeId?: string): Promise<WriteResult> {
    const chunk = (typeof data === 'string' ? Buffer.from(data) : data).toString('base64');
    return this.call(ProcessWrite, writeId === undefined ? { processId, chunk } : { processId, chunk, writeId });
  }

  signal(processId: string, signal: SignalName): Promise<SignalResult> {
    return this.call(ProcessSignal, { processId, signal });
  }

  resize(processId: string, cols: number, rows: number): Promise<ResizeResult> {
    return this.call(ProcessResize, { processId, cols, rows });
  }

  closeStdin(processId: string): Promise<CloseStdinResult> {
    return this.call(ProcessCloseStdin, { processId });
  }

  terminate(processId: string): Promise<TerminateResult> {
    return this.call(ProcessTerminate, { processId });
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
    const params: InitializeParams = { clientName: o.clientName ?? 'exec-server-client' };
    if (o.resumeSessionId !== undefined) params.resumeSessionId = o.resumeSessionId;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('initialize timed out')), o.initializeTimeoutMs ?? 10_000);
    });
    try {
      const r = await Promise.race([this.call(Initialize, params), timeout]);
      this.sessionId = r.sessionId;
      this.protocolVersion = r.protocolVersion;
      this.environmentInfo = r.environmentInfo;
    } catch (err) {
      this.transport.close();
      throw err;
    } finally {
      clearTimeout(timer);
    }
    this.transport.notify(Initialized.method, {});
    return this;
  }

  private callbacks(): TransportCallbacks {
    return {
      notification: (method, p) => {
        if (method === ProcessOutput.method) {
          // In process the chunk arrives as the server's Buffer; over a wire as base64.
          const n = p as unknown as { processId: string; seq: number; stream: OutputStream; chunk: string | Buffer };
          const data = Buffer.isBuffer(n.chunk) ? n.chunk : Buffer.from(String(n.chunk), 'base64');
          this.emit('output', { processId: n.processId, seq: n.seq, stream: n.stream, data } satisfies OutputEvent);
        } else if (method === ProcessExited.method) {
          const n = p as unknown as ExitedNotification;
          const e: ExitedEvent = { processId: n.processId, seq: n.seq, exitCode: n.exitCode, signal: n.signal ?? null };
          this.finished.set(e.processId, e);
          this.emit('exited', e);
        } else if (method === ProcessClosed.method) {
          const n = p as unknown as ClosedNotification;
          this.emit('closed', { processId: n.processId, seq: n.seq } satisfies ClosedEvent);
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
