import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { tokensEqual } from './auth';

/**
 * The private control channel of a child-mode server (issue 14): how a new extension host finds
 * the server its window left running across a reload, and adopts it. Never the agent-facing
 * WebSocket port: a UNIX socket (a named pipe on Windows) in a 0700 directory of this user, keyed
 * by the window's slot (see src/extension/host/serverSlots.ts), with its own secret.
 *
 * Protocol, one JSON line each way, then the socket carries the admin protocol
 * (src/transport/adminStdio.ts) exactly as the child's stdio does:
 *   client → `{"id":1,"method":"control/adopt","params":{"secret":S,"pid":P}}`
 *   server → `{"id":1,"result":AdoptResult}`, then `admin/ready` and the admin protocol; or
 *            `{"id":1,"error":{code,message}}` and the socket is closed:
 *            -32001 wrong secret, -32002 the server still has a live owner (another window),
 *            -32600 anything else.
 * The first line is bounded (4 KiB) and must arrive within 5 s.
 */
export interface AdoptResult {
  url: string;
  port: number;
  pid: number;
  /** Processes still running when adopted. */
  running: number;
  /** Every process the server still knows (running or finished). */
  processes: number;
  /** How long it had been without an owner. */
  orphanedMs: number;
}

export type ControlFailure = 'absent' | 'auth' | 'owned' | 'protocol';

export class ControlError extends Error {
  constructor(
    readonly reason: ControlFailure,
    message: string,
  ) {
    super(message);
    this.name = 'ControlError';
  }
}

export const CONTROL_AUTH_FAILED = -32001;
export const CONTROL_OWNED = -32002;
const MAX_HELLO_BYTES = 4096;
const HELLO_TIMEOUT_MS = 5_000;

/** Create (or check) the 0700 directory of the control sockets; refuses one that is not ours. */
export function ensurePrivateDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = fs.lstatSync(dir);
  if (!st.isDirectory()) throw new Error(`${dir} is not a directory`);
  if (typeof process.getuid === 'function' && st.uid !== process.getuid()) throw new Error(`${dir} is not owned by this user`);
  if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) fs.chmodSync(dir, 0o700);
}

export interface ControlServerOptions {
  path: string;
  secret: string;
  /** After authentication: accept (return what to answer) or refuse (throw a ControlError). */
  adopt(pid: number | null): AdoptResult;
  /** The adopter's socket, now carrying the admin protocol. */
  onAdopted(socket: net.Socket): void;
}

export interface ControlServer {
  readonly path: string;
  close(): void;
}

/** Listen on `o.path` (its directory must be private; a stale socket file is replaced). */
export async function listenControlSocket(o: ControlServerOptions): Promise<ControlServer> {
  if (process.platform !== 'win32') {
    ensurePrivateDir(path.dirname(o.path));
    await removeIfStale(o.path);
  }
  const server = net.createServer((socket) => handshake(socket, o));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.path, () => {
      server.off('error', reject);
      resolve();
    });
  });
  if (process.platform !== 'win32') fs.chmodSync(o.path, 0o600);
  server.on('error', () => undefined);
  server.unref(); // the server's life is decided by its owner and the grace, not by this socket
  return {
    path: o.path,
    close: () => {
      server.close();
      if (process.platform !== 'win32') {
        try {
          fs.unlinkSync(o.path);
        } catch {
          // already gone
        }
      }
    },
  };
}

/** A socket file nobody answers on is left over from a dead server: remove it. A live one is an error. */
async function removeIfStale(p: string): Promise<void> {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(p);
  } catch {
    return;
  }
  if (!st.isSocket()) throw new Error(`${p} exists and is not a socket`);
  const live = await new Promise<boolean>((resolve) => {
    const s = net.connect(p);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
  if (live) throw new Error(`another server already listens on ${p}`);
  fs.unlinkSync(p);
}

function handshake(socket: net.Socket, o: ControlServerOptions): void {
  let buf = Buffer.alloc(0);
  const timer = setTimeout(() => socket.destroy(), HELLO_TIMEOUT_MS);
  socket.on('error', () => undefined);
  const refuse = (id: unknown, code: number, message: string) => {
    clearTimeout(timer);
    socket.off('data', onData);
    socket.end(JSON.stringify({ jsonrpc: '2.0', id: typeof id === 'number' || typeof id === 'string' ? id : null, error: { code, message } }) + '\n');
  };
  const onData = (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    const nl = buf.indexOf(10);
    if (nl < 0) {
      if (buf.length > MAX_HELLO_BYTES) refuse(null, -32600, 'control/adopt line too large');
      return;
    }
    const rest = buf.subarray(nl + 1);
    let msg: { id?: unknown; method?: unknown; params?: { secret?: unknown; pid?: unknown } };
    try {
      msg = JSON.parse(buf.subarray(0, nl).toString('utf8'));
    } catch {
      return refuse(null, -32700, 'parse error');
    }
    if (typeof msg !== 'object' || msg === null || msg.method !== 'control/adopt') return refuse(msg?.id, -32600, 'expected control/adopt');
    const secret = msg.params?.secret;
    if (typeof secret !== 'string' || !tokensEqual(secret, o.secret)) return refuse(msg.id, CONTROL_AUTH_FAILED, 'authentication failed');
    let result: AdoptResult;
    try {
      result = o.adopt(typeof msg.params?.pid === 'number' ? msg.params.pid : null);
    } catch (err) {
      const e = err as ControlError;
      return refuse(msg.id, e.reason === 'owned' ? CONTROL_OWNED : -32600, e.message);
    }
    clearTimeout(timer);
    socket.off('data', onData);
    socket.pause();
    socket.write(JSON.stringify({ jsonrpc: '2.0', id: msg.id, result }) + '\n');
    if (rest.length) socket.unshift(rest);
    o.onAdopted(socket);
    socket.resume(); // paused explicitly above: a new 'data' listener alone would not resume it
  };
  socket.on('data', onData);
}

/**
 * Connect and adopt. Resolves with the server's answer and the socket (paused; whatever the
 * server sent after its answer is pushed back, so an admin client attached next reads it first).
 * Rejects with a ControlError: 'absent' (nothing listens there), 'auth', 'owned', 'protocol'.
 */
export function adoptOverControlSocket(p: string, secret: string, opts: { timeoutMs?: number } = {}): Promise<{ result: AdoptResult; socket: net.Socket }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(p);
    let buf = Buffer.alloc(0);
    let done = false;
    const fail = (e: ControlError) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      reject(e);
    };
    const timer = setTimeout(() => fail(new ControlError('protocol', `no answer on ${p} within ${opts.timeoutMs ?? HELLO_TIMEOUT_MS} ms`)), opts.timeoutMs ?? HELLO_TIMEOUT_MS);
    socket.once('error', (err: NodeJS.ErrnoException) => {
      const absent = err.code === 'ENOENT' || err.code === 'ECONNREFUSED';
      fail(new ControlError(absent ? 'absent' : 'protocol', `${p}: ${err.message}`));
    });
    socket.once('close', () => fail(new ControlError('protocol', `${p} closed the connection without an answer`)));
    socket.once('connect', () => socket.write(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'control/adopt', params: { secret, pid: process.pid } }) + '\n'));
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const nl = buf.indexOf(10);
      if (nl < 0) {
        if (buf.length > 1024 * 1024) fail(new ControlError('protocol', 'answer too large'));
        return;
      }
      let msg: { result?: AdoptResult; error?: { code?: number; message?: string } };
      try {
        msg = JSON.parse(buf.subarray(0, nl).toString('utf8'));
      } catch {
        return fail(new ControlError('protocol', 'unreadable answer'));
      }
      if (msg.error) {
        const reason: ControlFailure = msg.error.code === CONTROL_AUTH_FAILED ? 'auth' : msg.error.code === CONTROL_OWNED ? 'owned' : 'protocol';
        return fail(new ControlError(reason, msg.error.message ?? 'refused'));
      }
      if (!msg.result || typeof msg.result.url !== 'string') return fail(new ControlError('protocol', 'answer without a result'));
      done = true;
      clearTimeout(timer);
      socket.off('data', onData);
      socket.removeAllListeners('close');
      socket.removeAllListeners('error');
      socket.on('error', () => undefined);
      socket.pause();
      const rest = buf.subarray(nl + 1);
      if (rest.length) socket.unshift(rest);
      resolve({ result: msg.result, socket });
    };
    socket.on('data', onData);
  });
}
