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

/**
 * The Host header must name this listener, which defeats DNS rebinding: a browser tricked
 * into connecting here sends the attacker's *name* (`evil.example:PORT`). Accepted: the
 * loopback names (`localhost`, 127.0.0.1, [::1] in any spelling) and the bound address itself
 * (127.0.0.5, or 0.0.0.0 / [::] for a wildcard bind), with exactly our port. The machine's
 * other addresses (a LAN IP) are refused even on a wildcard bind: a deliberate choice that
 * keeps such a bind usable from this machine only. It is not access control: a network
 * client can send any Host; the token is what keeps it out.
 */
function hostAllowed(host: string | undefined, port: number, boundHost: string): boolean {
  const m = /^(?:\[([0-9a-f:.]+)\]|([a-z0-9.-]+))(?::(\d{1,5}))?$/.exec((host ?? '').toLowerCase());
  if (!m || (m[3] ?? '80') !== String(port)) return false;
  const name = m[1] ?? m[2];
  if (m[1] !== undefined && isIP(name) !== 6) return false;
  if (name === 'localhost') return true;
  if (isIP(name) === 0) return false; // any other name: what rebinding would send
  const addr = canonicalIp(name);
  const bound = canonicalIp(boundHost);
  return addr === '127.0.0.1' || addr === '::1' || addr === bound || (isWildcard(bound) && isWildcard(addr));
}

function canonicalIp(a: string): string {
  const bare = a.replace(/^\[|\]$/g, '');
  return isIP(bare) === 6 ? new URL(`http://[${bare}]/`).hostname.slice(1, -1) : bare;
}

function isWildcard(addr: string): boolean {
  return addr === '0.0.0.0' || addr === '::';
}

export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost' || host === '::1' || host === '[::1]') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}
