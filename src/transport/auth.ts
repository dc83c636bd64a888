import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';

export interface UpgradeVerdict {
  ok: boolean;
  status?: number;
  reason?: string;
}

/**
 * Checks an HTTP upgrade before any JSON-RPC is read: no browser origin (any Origin header,
 * even "null", is refused: a page must never drive this server), a Host naming the
 * loopback listener (DNS rebinding), and the bearer token, from the Authorization header
 * or, for clients configured with a bare URL (codex's CODEX_EXEC_SERVER_URL), `?token=`.
 */
export function checkUpgrade(req: IncomingMessage, opts: { token: string | null; port: number; host: string }): UpgradeVerdict {
  if (req.headers.origin !== undefined) {
    return { ok: false, status: 403, reason: 'cross-origin WebSocket connections are refused (Origin header present)' };
  }
  if (!hostAllowed(req.headers.host, opts.port, opts.host)) {
    return { ok: false, status: 403, reason: `Host header ${JSON.stringify(req.headers.host ?? '')} does not name this server` };
  }
  if (opts.token === null) return { ok: true };
  const presented = presentedToken(req);
  if ('error' in presented) return { ok: false, status: 401, reason: presented.error };
  if (!tokensEqual(presented.token, opts.token)) return { ok: false, status: 401, reason: 'invalid websocket bearer token' };
  return { ok: true };
}

function presentedToken(req: IncomingMessage): { token: string } | { error: string } {
  const header = req.headers.authorization;
  if (header !== undefined) {
    const m = /^Bearer +(\S+) *$/i.exec(header);
    return m ? { token: m[1] } : { error: 'invalid authorization header (expected `Bearer <token>`)' };
  }
  const query = new URL(req.url ?? '/', 'http://localhost').searchParams.get('token');
  return query !== null ? { token: query } : { error: 'missing websocket bearer token' };
}

/** Constant-time regardless of length: compare fixed-size digests. */
export function tokensEqual(a: string, b: string): boolean {
  const da = createHash('sha256').update(a).digest();
  const db = createHash('sha256').update(b).digest();
  return timingSafeEqual(da, db);
}

function hostAllowed(host: string | undefined, port: number, boundHost: string): boolean {
  if (!host) return false;
  const allowed = new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]);
  if (!isLoopbackHost(boundHost)) allowed.add(`${isIP(boundHost) === 6 ? `[${boundHost}]` : boundHost}:${port}`);
  return allowed.has(host.toLowerCase());
}

export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost' || host === '::1' || host === '[::1]') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}
