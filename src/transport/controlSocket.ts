import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { hostPlatform } from '../platform/hostPlatform';
import { AdminAdopt, type AdoptParams, type AdoptResult } from '../protocol/admin';
import { ErrorCode, toWireError } from '../protocol/errors';
import { decodeMessage, decodeServerMessage, encodeError, encodeRequest, encodeResponse, type RequestId } from '../protocol/jsonrpc';
import { Params } from '../protocol/validate';
import { tokensEqual } from './auth';
import { readOneLine } from './lineFraming';

/**
 * The private control socket of a child-mode server (issue 14): how a new extension host finds
 * the server its window left running across a reload, and adopts it. Never the agent-facing
 * WebSocket port: a UNIX socket (a named pipe on Windows) in a 0700 directory of this user, keyed
 * by the window's slot (see src/extension/host/serverSlots.ts), with its own secret.
 *
 * It speaks the admin protocol (src/protocol/admin.ts), whose first request here must be
 * `admin/adopt` {secret, pid}:
 *   - answered with an AdoptResult, after which the socket carries the admin channel exactly
 *     as the child's stdio does (admin/ready first);
 *   - or with an error, and the socket is closed: ErrorCode.AdminAuthFailed (wrong secret),
 *     ErrorCode.AdminOwned (the server still has a live owner: another window), or the codec's
 *     own errors for anything else.
 * That first line is bounded (4 KiB) and must arrive within 5 s.
 */
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

const MAX_HELLO_BYTES = 4096;
/** The answer to admin/adopt is small: only a broken server sends more. */
const MAX_ANSWER_BYTES = 1024 * 1024;
const HELLO_TIMEOUT_MS = 5_000;

/** Create (or check) the 0700 directory of the control sockets; refuses one that is not ours. */
function ensurePrivateDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = fs.lstatSync(dir);
  if (!st.isDirectory()) throw new Error(`${dir} is not a directory`);
  if (typeof process.getuid === 'function' && st.uid !== process.getuid()) throw new Error(`${dir} is not owned by this user`);
  if (hostPlatform().fileModes && (st.mode & 0o077) !== 0) fs.chmodSync(dir, 0o700);
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
  if (hostPlatform().fileModes) {
    ensurePrivateDir(path.dirname(o.path));
    await removeIfStale(o.path);
  }
  const server = net.createServer((socket) => void handshake(socket, o));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.path, () => {
      server.off('error', reject);
      resolve();
    });
  });
  if (hostPlatform().fileModes) fs.chmodSync(o.path, 0o600);
  server.on('error', () => undefined);
  server.unref(); // the server's life is decided by its owner and the grace, not by this socket
  return {
    path: o.path,
    close: () => {
      server.close();
      if (hostPlatform().fileModes) {
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

async function handshake(socket: net.Socket, o: ControlServerOptions): Promise<void> {
  socket.on('error', () => undefined);
  const timer = setTimeout(() => socket.destroy(), HELLO_TIMEOUT_MS);
  const first = await readOneLine(socket, MAX_HELLO_BYTES);
  clearTimeout(timer);
  const refuse = (id: RequestId | null, error: { code: number; message: string }) => {
    socket.end(encodeError(id, error) + '\n');
  };
  if (first.kind === 'closed') return;
  if (first.kind === 'tooLarge') return refuse(null, { code: ErrorCode.InvalidRequest, message: `${AdminAdopt.method} line too large` });
  const d = decodeMessage(first.text);
  if (d.kind === 'invalid') return refuse(d.id, { code: d.code, message: d.message });
  if (d.kind !== 'request' || d.method !== AdminAdopt.method) {
    return refuse(d.kind === 'request' ? d.id : null, { code: ErrorCode.InvalidRequest, message: `expected ${AdminAdopt.method} first` });
  }
  let params: AdoptParams;
  try {
    const p = Params.of(d.params, 'AdoptParams');
    params = { secret: p.string('secret'), pid: p.optUint('pid') };
  } catch (err) {
    return refuse(d.id, toWireError(err));
  }
  if (!tokensEqual(params.secret, o.secret)) return refuse(d.id, { code: ErrorCode.AdminAuthFailed, message: 'authentication failed' });
  let result: AdoptResult;
  try {
    result = o.adopt(params.pid ?? null);
  } catch (err) {
    const owned = err instanceof ControlError && err.reason === 'owned';
    return refuse(d.id, { code: owned ? ErrorCode.AdminOwned : ErrorCode.InvalidRequest, message: (err as Error).message });
  }
  // The socket is paused with whatever followed the request pushed back: the channel reads it first.
  socket.write(encodeResponse(d.id, result) + '\n');
  o.onAdopted(socket);
  socket.resume(); // paused explicitly: a new 'data' listener alone would not resume it
}

/**
 * Connect and adopt. Resolves with the server's answer and the socket (paused; whatever the
 * server sent after its answer is pushed back, so an admin client attached next reads it first).
 * Rejects with a ControlError: 'absent' (nothing listens there), 'auth', 'owned', 'protocol'.
 */
export async function adoptOverControlSocket(p: string, secret: string, opts: { timeoutMs?: number } = {}): Promise<{ result: AdoptResult; socket: net.Socket }> {
  const timeoutMs = opts.timeoutMs ?? HELLO_TIMEOUT_MS;
  const socket = net.connect(p);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    socket.destroy();
  }, timeoutMs);
  const fail = (reason: ControlFailure, message: string) => {
    clearTimeout(timer);
    socket.destroy();
    return new ControlError(reason, message);
  };
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
      socket.once('close', () => reject(new Error('closed')));
    });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (timedOut) throw fail('protocol', `no answer on ${p} within ${timeoutMs} ms`);
    throw fail(code === 'ENOENT' || code === 'ECONNREFUSED' ? 'absent' : 'protocol', `${p}: ${(err as Error).message}`);
  }
  socket.removeAllListeners('close');
  socket.removeAllListeners('error');
  socket.on('error', () => undefined);
  const params: AdoptParams = { secret, pid: process.pid };
  socket.write(encodeRequest(1, AdminAdopt.method, params) + '\n');
  const answer = await readOneLine(socket, MAX_ANSWER_BYTES);
  if (answer.kind === 'closed') {
    throw fail('protocol', timedOut ? `no answer on ${p} within ${timeoutMs} ms` : `${p} closed the connection without an answer`);
  }
  if (answer.kind === 'tooLarge') throw fail('protocol', 'answer too large');
  const m = decodeServerMessage(answer.text);
  if (m.kind === 'error') {
    const reason: ControlFailure = m.error.code === ErrorCode.AdminAuthFailed ? 'auth' : m.error.code === ErrorCode.AdminOwned ? 'owned' : 'protocol';
    throw fail(reason, m.error.message);
  }
  const result = m.kind === 'response' ? (m.result as AdoptResult | null) : null;
  if (typeof result?.url !== 'string') throw fail('protocol', m.kind === 'invalid' ? `unreadable answer: ${m.reason}` : 'answer without a result');
  clearTimeout(timer);
  return { result, socket };
}
