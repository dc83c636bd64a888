import type { ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import type { SignalName, WriteStatus } from '../protocol/types';
import type { ObservedChunk, ObserverListener, ProcessSnapshot, ServerObserver, SessionSnapshot } from '../server/observer';
import { AdminMethod, type AdminReady, type WireChunk } from '../transport/adminStdio';
import { LineSplitter } from '../transport/lineFraming';

/** A ServerObserver reached over `exec-server --admin-stdio`'s stdin/stdout. */
export interface StdioObserver extends ServerObserver {
  /** The server's first line: where it listens. Rejects if the channel closes first. */
  readonly ready: Promise<AdminReady>;
  /** Resolves when the channel is closed (server exited, or dispose()). */
  readonly closed: Promise<void>;
  readonly isClosed: boolean;
  /** Ask for a clean shutdown (every process terminated, then the server exits). */
  shutdown(): Promise<void>;
  /** Stop reading and fail pending requests (does not touch the server). */
  dispose(): void;
  /** Any other request of the channel (the owner channel's control/* methods). */
  request<T>(method: string, params?: unknown): Promise<T>;
}

/** Responses can carry a whole retained buffer; the child is trusted, so the limit is generous. */
const MAX_LINE_BYTES = 1024 * 1024 * 1024;

/** The client side of the admin protocol (see src/transport/adminStdio.ts) over a child's stdio. */
export function observeOverStdio(child: ChildProcess): StdioObserver {
  if (!child.stdout || !child.stdin) throw new Error('observeOverStdio needs a child spawned with piped stdin and stdout');
  const o = observeOverStreams(child.stdout, child.stdin);
  child.once('exit', () => {
    // stdout may still hold the last lines: close when it ends, or shortly after exit.
    setTimeout(() => o.dispose(), 1_000).unref();
  });
  return o;
}

interface KeyState {
  lastSeq: number;
  repairing: boolean;
  again: boolean;
  queue: ObservedChunk[];
}

export function observeOverStreams(fromServer: Readable, toServer: Writable): StdioObserver {
  const listeners = new Set<ObserverListener>();
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  const keys = new Map<string, KeyState>();
  let nextId = 1;
  let closed = false;
  let resolveReady!: (r: AdminReady) => void;
  let rejectReady!: (e: Error) => void;
  const ready = new Promise<AdminReady>((res, rej) => {
    resolveReady = res;
    rejectReady = rej;
  });
  ready.catch(() => undefined);
  let resolveClosed!: () => void;
  const closedP = new Promise<void>((r) => (resolveClosed = r));

  const each = (f: (l: ObserverListener) => void) => {
    for (const l of [...listeners]) {
      try {
        f(l);
      } catch {
        // a listener's bug must not break the channel
      }
    }
  };
  const stateOf = (key: string): KeyState => {
    let st = keys.get(key);
    if (!st) keys.set(key, (st = { lastSeq: 0, repairing: false, again: false, queue: [] }));
    return st;
  };
  const deliver = (key: string, st: KeyState, c: ObservedChunk) => {
    if (c.seq <= st.lastSeq) return; // already delivered (a repair overlapping live output)
    st.lastSeq = c.seq;
    each((l) => l.output?.(key, c));
  };
  const decodeChunk = (c: WireChunk): ObservedChunk => ({ seq: c.seq, stream: c.stream, data: Buffer.from(c.data, 'base64') });

  /** The server dropped output of `key` under congestion: fetch the retained output and fill the gap. */
  const repair = (key: string) => {
    const st = stateOf(key);
    if (st.repairing) {
      st.again = true;
      return;
    }
    st.repairing = true;
    observer
      .retainedOutput(key)
      .then((r) => {
        for (const c of [...r.chunks].sort((a, b) => a.seq - b.seq)) deliver(key, st, c);
      })
      .catch(() => undefined) // the process is gone: nothing to repair
      .finally(() => {
        st.repairing = false;
        const queued = st.queue;
        st.queue = [];
        for (const c of queued) deliver(key, st, c);
        if (st.again) {
          st.again = false;
          repair(key);
        }
      });
  };

  const onNotification = (method: string, p: Record<string, unknown>) => {
    switch (method) {
      case AdminMethod.ready:
        resolveReady(p as unknown as AdminReady);
        break;
      case AdminMethod.sessionChanged:
        each((l) => l.sessionChanged?.(p as unknown as SessionSnapshot));
        break;
      case AdminMethod.sessionRemoved:
        each((l) => l.sessionRemoved?.(String(p.id)));
        break;
      case AdminMethod.processChanged:
        each((l) => l.processChanged?.(p as unknown as ProcessSnapshot));
        break;
      case AdminMethod.processRemoved:
        keys.delete(String(p.key));
        each((l) => l.processRemoved?.(String(p.key)));
        break;
      case AdminMethod.output: {
        const key = String(p.key);
        const st = stateOf(key);
        const c = decodeChunk(p as unknown as WireChunk);
        if (st.repairing) st.queue.push(c);
        else deliver(key, st, c);
        break;
      }
      case AdminMethod.outputDropped:
        repair(String(p.key));
        break;
    }
  };

  const onLine = (line: string) => {
    let msg: { id?: unknown; method?: unknown; params?: unknown; result?: unknown; error?: { code?: number; message?: string } };
    try {
      msg = JSON.parse(line);
    } catch {
      return; // not ours (a stray write to stdout): ignore
    }
    if (typeof msg !== 'object' || msg === null) return;
    if (typeof msg.method === 'string') {
      onNotification(msg.method, (msg.params ?? {}) as Record<string, unknown>);
      return;
    }
    if (typeof msg.id !== 'number') return;
    const w = pending.get(msg.id);
    if (!w) return;
    pending.delete(msg.id);
    if (msg.error) w.reject(Object.assign(new Error(msg.error.message ?? 'admin request failed'), { code: msg.error.code }));
    else w.resolve(msg.result);
  };

  const close = () => {
    if (closed) return;
    closed = true;
    fromServer.off('data', onData);
    rejectReady(new Error('the exec server closed its admin channel before it was ready'));
    for (const w of pending.values()) w.reject(new Error('the exec server admin channel is closed'));
    pending.clear();
    resolveClosed();
  };
  const splitter = new LineSplitter(MAX_LINE_BYTES, onLine, () => undefined);
  const onData = (d: Buffer) => splitter.push(d);
  fromServer.on('data', onData);
  fromServer.once('end', close);
  fromServer.once('close', close);
  fromServer.on('error', close);
  toServer.on('error', () => undefined); // EPIPE once the server is gone: requests fail via close()

  const request = <T>(method: string, params?: unknown): Promise<T> => {
    if (closed) return Promise.reject(new Error('the exec server admin channel is closed'));
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      toServer.write(JSON.stringify({ jsonrpc: '2.0', id, method, params: params ?? {} }) + '\n');
    });
  };

  const observer: StdioObserver = {
    ready,
    closed: closedP,
    get isClosed() {
      return closed;
    },
    snapshot: () => request(AdminMethod.snapshot),
    retainedOutput: async (key) => {
      const r = await request<{ chunks: WireChunk[]; truncated: boolean }>(AdminMethod.retainedOutput, { key });
      return { chunks: r.chunks.map(decodeChunk), truncated: r.truncated };
    },
    signal: (key, signal: SignalName) => request<boolean>(AdminMethod.signal, { key, signal }),
    terminate: (key) => request<boolean>(AdminMethod.terminate, { key }),
    terminateAll: () => request<number>(AdminMethod.terminateAll),
    write: (key, data) => request<WriteStatus>(AdminMethod.write, { key, data: data.toString('base64') }),
    resize: async (key, cols, rows) => {
      await request(AdminMethod.resize, { key, cols, rows });
    },
    subscribe: (l) => {
      listeners.add(l);
      return { dispose: () => listeners.delete(l) };
    },
    shutdown: async () => {
      await request(AdminMethod.shutdown);
    },
    dispose: close,
    request,
  };
  return observer;
}
