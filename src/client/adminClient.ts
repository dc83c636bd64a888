import type { ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import {
  AdminOutput, AdminOutputDropped, AdminProcessChanged, AdminProcessRemoved, AdminReadyNotification, AdminResize, AdminRetainedOutput,
  AdminSessionChanged, AdminSessionRemoved, AdminShutdown, AdminSignal, AdminSnapshot, AdminTerminate, AdminTerminateAll, AdminWrite,
  fromWireChunk, type AdminApi, type AdminListener, type AdminReady, type ObservedChunk, type ProcessSnapshot, type SessionSnapshot,
  type WireChunk,
} from '../protocol/admin';
import { RpcError } from '../protocol/errors';
import { decodeServerMessage, encodeRequest } from '../protocol/jsonrpc';
import type { RequestMethod } from '../protocol/requestTypes';
import { LineSplitter } from '../transport/lineFraming';

/** The admin API (src/protocol/admin.ts) of a server reached over a stream: its stdio, or an adopted control socket. */
export interface AdminClient extends AdminApi {
  /** The server's first notification: where it listens. Rejects if the channel closes first. */
  readonly ready: Promise<AdminReady>;
  /** Resolves when the channel is closed (server exited, or dispose()). */
  readonly closed: Promise<void>;
  readonly isClosed: boolean;
  /** Ask for a clean shutdown (every process terminated, then the server exits). */
  shutdown(): Promise<void>;
  /** Stop reading and fail pending requests (does not touch the server). */
  dispose(): void;
  /** Any admin request by its descriptor (admin/advertise of a child-mode server). Errors reject as RpcError. */
  request<P, R>(m: RequestMethod<P, R>, params: NoInfer<P>): Promise<R>;
}

/** Responses can carry a whole retained buffer; the child is trusted, so the limit is generous. */
const MAX_LINE_BYTES = 1024 * 1024 * 1024;

/** The admin channel of `exec-server --admin-stdio` over its stdio. */
export function adminOverStdio(child: ChildProcess): AdminClient {
  if (!child.stdout || !child.stdin) throw new Error('adminOverStdio needs a child spawned with piped stdin and stdout');
  const admin = adminOverStreams(child.stdout, child.stdin);
  child.once('exit', () => {
    // stdout may still hold the last lines: close when it ends, or shortly after exit.
    setTimeout(() => admin.dispose(), 1_000).unref();
  });
  return admin;
}

interface KeyState {
  lastSeq: number;
  repairing: boolean;
  again: boolean;
  queue: ObservedChunk[];
}

export function adminOverStreams(fromServer: Readable, toServer: Writable): AdminClient {
  const listeners = new Set<AdminListener>();
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

  const each = (f: (l: AdminListener) => void) => {
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

  /** The server dropped output of `key` under congestion: fetch the retained output and fill the gap. */
  const repair = (key: string) => {
    const st = stateOf(key);
    if (st.repairing) {
      st.again = true;
      return;
    }
    st.repairing = true;
    admin
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

  const onNotification = (method: string, params: unknown) => {
    const p = (params ?? {}) as Record<string, unknown>;
    switch (method) {
      case AdminReadyNotification.method:
        resolveReady(p as unknown as AdminReady);
        break;
      case AdminSessionChanged.method:
        each((l) => l.sessionChanged?.(p as unknown as SessionSnapshot));
        break;
      case AdminSessionRemoved.method:
        each((l) => l.sessionRemoved?.(String(p.id)));
        break;
      case AdminProcessChanged.method:
        each((l) => l.processChanged?.(p as unknown as ProcessSnapshot));
        break;
      case AdminProcessRemoved.method:
        keys.delete(String(p.key));
        each((l) => l.processRemoved?.(String(p.key)));
        break;
      case AdminOutput.method: {
        const key = String(p.key);
        const st = stateOf(key);
        const c = fromWireChunk(p as unknown as WireChunk);
        if (st.repairing) st.queue.push(c);
        else deliver(key, st, c);
        break;
      }
      case AdminOutputDropped.method:
        repair(String(p.key));
        break;
    }
  };

  const onLine = (line: string) => {
    const m = decodeServerMessage(line);
    if (m.kind === 'notification') return onNotification(m.method, m.params);
    if (m.kind === 'invalid' || typeof m.id !== 'number') return; // not ours (a stray write to stdout): ignore
    const w = pending.get(m.id);
    if (!w) return;
    pending.delete(m.id);
    if (m.kind === 'error') w.reject(new RpcError(m.error.code, m.error.message, m.error.data));
    else w.resolve(m.result);
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

  const request = <P, R>(m: RequestMethod<P, R>, params: NoInfer<P>): Promise<R> => {
    if (closed) return Promise.reject(new Error('the exec server admin channel is closed'));
    const id = nextId++;
    return new Promise<R>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      toServer.write(encodeRequest(id, m.method, params) + '\n');
    });
  };

  const admin: AdminClient = {
    ready,
    closed: closedP,
    get isClosed() {
      return closed;
    },
    snapshot: () => request(AdminSnapshot, {}),
    retainedOutput: async (key) => {
      const r = await request(AdminRetainedOutput, { key });
      return { chunks: r.chunks.map(fromWireChunk), truncated: r.truncated };
    },
    signal: (key, signal) => request(AdminSignal, { key, signal }),
    terminate: (key) => request(AdminTerminate, { key }),
    terminateAll: () => request(AdminTerminateAll, {}),
    write: (key, data) => request(AdminWrite, { key, data: data.toString('base64') }),
    resize: async (key, cols, rows) => {
      await request(AdminResize, { key, cols, rows });
    },
    subscribe: (l) => {
      listeners.add(l);
      return { dispose: () => listeners.delete(l) };
    },
    shutdown: async () => {
      await request(AdminShutdown, {});
    },
    dispose: close,
    request,
  };
  return admin;
}
