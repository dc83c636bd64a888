import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';

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
 * The Host header must name this listener: DNS rebinding makes a browser send an attacker's
 * *name* (`evil.example:PORT` resolving to us), never an address literal, so accepted are
 * `localhost` and the loopback literals, the bound address itself, and, for a wildcard bind
 * (0.0.0.0, ::), the literal addresses of this machine's interfaces (what a client on the
 * network types). Any other DNS name is refused, and the port must be ours.
 */
function hostAllowed(host: string | undefined, port: number, boundHost: string): boolean {
  const m = /^(?:\[([0-9a-f:.]+)\]|([a-z0-9.-]+))(?::(\d{1,5}))?$/.exec((host ?? '').toLowerCase());
  if (!m || (m[3] ?? '80') !== String(port)) return false;
  const name = m[1] ?? m[2];
  if (m[1] !== undefined && isIP(name) !== 6) return false;
  if (name === 'localhost') return true;
  if (isIP(name) === 0) return false; // any other name: what rebinding would send
  const addr = canonicalIp(name);
  if (addr === '127.0.0.1' || addr === '::1' || addr === canonicalIp(boundHost)) return true;
  return isWildcard(boundHost) && (isWildcard(addr) || localAddresses().has(addr));
}

function canonicalIp(a: string): string {
  const bare = a.replace(/^\[|\]$/g, '');
  return isIP(bare) === 6 ? new URL(`http://[${bare}]/`).hostname.slice(1, -1) : bare;
}

function isWildcard(host: string): boolean {
  const a = canonicalIp(host);
  return a === '0.0.0.0' || a === '::';
}

/** Read on each check: interfaces come and go (DHCP, VPNs); only wildcard binds ask. */
function localAddresses(): Set<string> {
  const out = new Set<string>();
  for (const list of Object.values(networkInterfaces())) {
    for (const i of list ?? []) if (!i.address.includes('%')) out.add(canonicalIp(i.address));
  }
  return out;
}

export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost' || host === '::1' || host === '[::1]') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}
