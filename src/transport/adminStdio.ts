import type { Readable, Writable } from 'node:stream';
import type { SignalName } from '../protocol/types';
import type { ObservedChunk, ServerObserver } from '../server/observer';
import { LineSplitter } from './lineFraming';

/**
 * The privileged admin channel of `exec-server --admin-stdio` (the extension's child mode):
 * a ServerObserver served over the CLI's stdin/stdout, one JSON-RPC 2.0 message per line.
 * It is NOT the exec protocol, and it is reachable only by the parent that holds the pipes,
 * never over the WebSocket.
 *
 * Server → parent, in this order:
 *   - first line: `admin/ready` {url, port, pid} (the parent learns the port without
 *     parsing stderr);
 *   - notifications: admin/sessionChanged (SessionSnapshot), admin/sessionRemoved {id},
 *     admin/processChanged (ProcessSnapshot), admin/processRemoved {key},
 *     admin/output {key, seq, stream, data: base64}, admin/outputDropped {key};
 *   - responses to the parent's requests.
 * Parent → server requests: admin/snapshot, admin/retainedOutput {key},
 * admin/signal {key, signal}, admin/terminate {key}, admin/terminateAll,
 * admin/write {key, data: base64}, admin/resize {key, cols, rows}, admin/shutdown.
 * Buffers travel as base64. Closing the server's stdin (or the parent dying) shuts it down.
 *
 * Bounded output: process output can be a flood, and a parent that reads slowly must not
 * make the server buffer without limit (nor block it: the CLI writes to fd 1 asynchronously).
 * While more than `highWaterMarkBytes` are unsent, admin/output events are dropped; every
 * later chunk of a process that lost one is dropped too until the pipe drains, and then a
 * single admin/outputDropped {key} per such process is sent. The parent re-fetches what it
 * missed with admin/retainedOutput (chunks carry seqs; observeOverStdio does this by
 * itself). Lifecycle events and responses are never dropped: they are few and small.
 */
export const AdminMethod = {
  ready: 'admin/ready',
  snapshot: 'admin/snapshot',
  retainedOutput: 'admin/retainedOutput',
  signal: 'admin/signal',
  terminate: 'admin/terminate',
  terminateAll: 'admin/terminateAll',
  write: 'admin/write',
  resize: 'admin/resize',
  shutdown: 'admin/shutdown',
  sessionChanged: 'admin/sessionChanged',
  sessionRemoved: 'admin/sessionRemoved',
  processChanged: 'admin/processChanged',
  processRemoved: 'admin/processRemoved',
  output: 'admin/output',
  outputDropped: 'admin/outputDropped',
} as const;

export interface AdminReady {
  url: string;
  port: number;
  pid: number;
}

export interface WireChunk {
  seq: number;
  stream: ObservedChunk['stream'];
  data: string;
}

export const DEFAULT_ADMIN_HIGH_WATER_MARK = 8 * 1024 * 1024;
/** Requests from the parent are small; this only guards against a runaway line. */
const MAX_REQUEST_LINE_BYTES = 64 * 1024 * 1024;

const SIGNALS: readonly SignalName[] = ['interrupt', 'terminate', 'kill', 'hangup'];

export interface AdminStdioOptions {
  ready: AdminReady;
  /** Unsent bytes above which admin/output events are dropped (default 8 MiB). */
  highWaterMarkBytes?: number;
  /** The parent asked for admin/shutdown (answered before this runs). */
  onShutdown?(): void;
  /** More methods served on this channel (the owner channel of src/cli/ownerChannel.ts). */
  extraMethods?: Record<string, (params: Record<string, unknown>) => unknown>;
}

export interface AdminStdioServer {
  /** Resolves when the input ends (the parent closed stdin or died) or the output fails. */
  readonly closed: Promise<void>;
  /** How many admin/output events were dropped so far (diagnostics, tests). */
  readonly droppedOutputEvents: number;
  dispose(): void;
}

class InvalidParams extends Error {}

/** Serve `observer` on `input`/`output`; writes the ready line first, synchronously. */
export function serveAdminStdio(observer: ServerObserver, input: Readable, output: Writable, opts: AdminStdioOptions): AdminStdioServer {
  const hwm = opts.highWaterMarkBytes ?? DEFAULT_ADMIN_HIGH_WATER_MARK;
  let open = true;
  let dropped = 0;
  const droppedKeys = new Set<string>();
  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => (resolveClosed = r));

  const send = (msg: object) => {
    if (open) output.write(JSON.stringify({ jsonrpc: '2.0', ...msg }) + '\n');
  };
  const notify = (method: string, params: unknown) => send({ method, params });

  const onDrain = () => {
    const keys = [...droppedKeys];
    droppedKeys.clear();
    for (const key of keys) notify(AdminMethod.outputDropped, { key });
  };

  notify(AdminMethod.ready, opts.ready);

  const sub = observer.subscribe({
    sessionChanged: (s) => notify(AdminMethod.sessionChanged, s),
    sessionRemoved: (id) => notify(AdminMethod.sessionRemoved, { id }),
    processChanged: (p) => notify(AdminMethod.processChanged, p),
    processRemoved: (key) => notify(AdminMethod.processRemoved, { key }),
    output: (key, c) => {
      if (!open) return;
      // writableNeedDrain guarantees a 'drain' event will end the episode.
      if (droppedKeys.has(key) || (output.writableLength > hwm && output.writableNeedDrain)) {
        dropped++;
        if (droppedKeys.size === 0) output.once('drain', onDrain);
        droppedKeys.add(key);
        return;
      }
      notify(AdminMethod.output, { key, seq: c.seq, stream: c.stream, data: c.data.toString('base64') });
    },
  });

  const str = (p: Record<string, unknown>, k: string): string => {
    const v = p[k];
    if (typeof v !== 'string') throw new InvalidParams(`${k} must be a string`);
    return v;
  };
  const uint = (p: Record<string, unknown>, k: string): number => {
    const v = p[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffff) throw new InvalidParams(`${k} must be an integer in 0..65535`);
    return v;
  };

  const dispatch = async (method: string, p: Record<string, unknown>): Promise<unknown> => {
    switch (method) {
      case AdminMethod.snapshot:
        return observer.snapshot();
      case AdminMethod.retainedOutput: {
        const r = await observer.retainedOutput(str(p, 'key'));
        return {
          chunks: r.chunks.map((c): WireChunk => ({ seq: c.seq, stream: c.stream, data: c.data.toString('base64') })),
          truncated: r.truncated,
        };
      }
      case AdminMethod.signal: {
        const signal = str(p, 'signal') as SignalName;
        if (!SIGNALS.includes(signal)) throw new InvalidParams(`unknown signal ${JSON.stringify(signal)}`);
        return observer.signal(str(p, 'key'), signal);
      }
      case AdminMethod.terminate:
        return observer.terminate(str(p, 'key'));
      case AdminMethod.terminateAll:
        return observer.terminateAll();
      case AdminMethod.write:
        return observer.write(str(p, 'key'), Buffer.from(str(p, 'data'), 'base64'));
      case AdminMethod.resize:
        await observer.resize(str(p, 'key'), uint(p, 'cols'), uint(p, 'rows'));
        return null;
      case AdminMethod.shutdown:
        setImmediate(() => opts.onShutdown?.());
        return null;
      default: {
        const extra = opts.extraMethods?.[method];
        if (extra) return extra(p);
        throw Object.assign(new Error(`unknown admin method ${method}`), { code: -32601 });
      }
    }
  };

  const receive = (line: string) => {
    let msg: { id?: unknown; method?: unknown; params?: unknown };
    try {
      msg = JSON.parse(line);
    } catch {
      return send({ id: null, error: { code: -32700, message: 'parse error' } });
    }
    const id = msg?.id;
    if (typeof msg !== 'object' || msg === null || typeof msg.method !== 'string' || (typeof id !== 'number' && typeof id !== 'string')) {
      return send({ id: typeof id === 'number' || typeof id === 'string' ? id : null, error: { code: -32600, message: 'invalid request' } });
    }
    const params = typeof msg.params === 'object' && msg.params !== null ? (msg.params as Record<string, unknown>) : {};
    dispatch(msg.method, params).then(
      (result) => send({ id, result: result ?? null }),
      (err: Error & { code?: unknown }) =>
        send({
          id,
          error: { code: err instanceof InvalidParams ? -32602 : typeof err.code === 'number' ? err.code : -32000, message: err.message },
        }),
    );
  };

  const splitter = new LineSplitter(MAX_REQUEST_LINE_BYTES, receive, () =>
    send({ id: null, error: { code: -32600, message: 'request line too large' } }),
  );
  const onData = (d: Buffer) => splitter.push(d);
  const dispose = () => {
    if (!open) return;
    open = false;
    sub.dispose();
    input.off('data', onData);
    output.off('drain', onDrain);
    resolveClosed();
  };
  input.on('data', onData);
  input.once('end', dispose);
  input.once('close', dispose);
  input.on('error', dispose);
  output.on('error', dispose);
  return {
    closed,
    get droppedOutputEvents() {
      return dropped;
    },
    dispose,
  };
}
