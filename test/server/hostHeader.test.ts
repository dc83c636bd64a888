/**
 * The Host rule beyond the default 127.0.0.1 bind. DNS rebinding makes a browser send an
 * attacker's *name*, so names other than `localhost` are always refused. Accepted: loopback
 * names (any spelling), the bound address itself, and for a wildcard bind (0.0.0.0, ::) the
 * wildcard literals. The machine's other addresses (a LAN IP) stay refused even on a
 * wildcard bind (see SECURITY.md); the port must match exactly.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as http from 'node:http';
import { networkInterfaces } from 'node:os';
import { startWsCli } from '../helpers/cli';
import { ProcessGuard } from '../helpers/procs';
import { RawWs } from '../helpers/rawWs';

const guard = new ProcessGuard();

/** An upgrade sent to `connectTo` with an exact Host header; resolves with the HTTP status. */
function upgradeStatus(connectTo: string, port: number, hostHeader: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: connectTo,
      port,
      headers: {
        host: hostHeader,
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': randomBytes(16).toString('base64'),
        authorization: `Bearer ${token}`,
      },
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve(res.statusCode ?? 0);
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error('upgrade timed out')));
    req.end();
  });
}

const interfaceAddresses = (family: 'IPv4' | 'IPv6') =>
  Object.values(networkInterfaces())
    .flat()
    .filter((i) => i && !i.internal && i.family === family)
    .map((i) => i!.address);
const literal = (a: string) => (a.includes(':') ? `[${a}]` : a);

/** Hosts no bind accepts: other names (rebinding), shorthand or foreign literals, wrong or missing port. */
const foreign = (port: number) => [
  `evil.example:${port}`,
  `localhost.evil.example:${port}`,
  `127.0.0.1.nip.io:${port}`,
  `localhost.:${port}`,
  `127.1:${port}`,
  `203.0.113.9:${port}`,
  `[2001:db8::1]:${port}`,
  `127.0.0.1:${port + 1}`,
  `127.0.0.1:0${port}`,
  'evil.example',
  `user@127.0.0.1:${port}`,
];

test('bound to 0.0.0.0: loopback names in any spelling are accepted; other names and LAN addresses refused; a warning is printed', async () => {
  const s = await startWsCli(guard, { listen: 'ws://0.0.0.0:0' });
  assert.match(s.stderr(), /warning: listening on non-loopback address 0\.0\.0\.0/);
  const ok = [`127.0.0.1:${s.port}`, `localhost:${s.port}`, `LocalHost:${s.port}`, `[::1]:${s.port}`, `[0:0:0:0:0:0:0:1]:${s.port}`, `0.0.0.0:${s.port}`, `[::]:${s.port}`];
  for (const h of ok) assert.equal(await upgradeStatus('127.0.0.1', s.port, h, s.token!), 101, `Host ${h}`);
  const lan = interfaceAddresses('IPv4').map((a) => `${a}:${s.port}`);
  for (const h of [...foreign(s.port), ...lan]) assert.equal(await upgradeStatus('127.0.0.1', s.port, h, s.token!), 403, `Host ${h}`);
  // Over loopback, a client library that derives Host from the URL gets in.
  const ws = await RawWs.open(`ws://localhost:${s.port}`, { token: s.token });
  assert.equal((await ws.handshake()).protocolVersion, 'exec-server.v0');
  await ws.close();
  await s.stop();
});

const hasIpv6Loopback = Object.values(networkInterfaces()).flat().some((i) => i?.address === '::1');

test('bound to :: (dual stack): loopback names and wildcard literals are accepted; other names and interface addresses refused', { skip: !hasIpv6Loopback && 'no IPv6 loopback (::1) on this machine' }, async () => {
  const s = await startWsCli(guard, { listen: 'ws://[::]:0' });
  const ok = [`[::1]:${s.port}`, `[0:0:0:0:0:0:0:1]:${s.port}`, `127.0.0.1:${s.port}`, `localhost:${s.port}`, `[::]:${s.port}`, `[0::0]:${s.port}`];
  for (const h of ok) assert.equal(await upgradeStatus('::1', s.port, h, s.token!), 101, `Host ${h}`);
  const lan = [...interfaceAddresses('IPv6'), ...interfaceAddresses('IPv4')].map((a) => `${literal(a)}:${s.port}`);
  for (const h of [...foreign(s.port), ...lan]) assert.equal(await upgradeStatus('::1', s.port, h, s.token!), 403, `Host ${h}`);
  await s.stop();
});

test('bound to another loopback address (127.0.0.5): its own address is accepted, a neighbour is not; no warning', async () => {
  const s = await startWsCli(guard, { listen: 'ws://127.0.0.5:0' });
  assert.doesNotMatch(s.stderr(), /warning/);
  for (const h of [`127.0.0.5:${s.port}`, `localhost:${s.port}`]) assert.equal(await upgradeStatus('127.0.0.5', s.port, h, s.token!), 101, `Host ${h}`);
  for (const h of [`127.0.0.6:${s.port}`, `0.0.0.0:${s.port}`, ...foreign(s.port)]) {
    assert.equal(await upgradeStatus('127.0.0.5', s.port, h, s.token!), 403, `Host ${h}`);
  }
  const ws = await RawWs.open(s.url, { token: s.token });
  assert.equal((await ws.handshake()).protocolVersion, 'exec-server.v0');
  await ws.close();
  await s.stop();
});
