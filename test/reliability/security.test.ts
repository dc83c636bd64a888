/**
 * Security: refused upgrades never reach JSON-RPC (a raw socket sends the upgrade *and* a
 * pipelined initialize + process/start that would create a marker file: refused → no file),
 * non-loopback binds without a token are refused, token comparison is digest +
 * timingSafeEqual, client `env` never reaches the server's own environment, fs paths and argv
 * are never shell-interpreted, the discovery file is created 0600 even under umask 0.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli, startWsCli, ROOT } from '../helpers/cli';
import { ProcessGuard, isAlive, sleep } from '../helpers/procs';
import { RawWs, b64, startParams, tryUpgrade, unb64 } from '../helpers/rawWs';
import { tokensEqual } from '../../src/transport/auth';
import { writeDiscoveryFile } from '../../src/discovery/discoveryFiles';

const guard = new ProcessGuard();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'exec-sec-'));
const ENV_PATH = process.env.PATH ?? '/usr/bin:/bin';

/** A masked WebSocket text frame (client → server), any length. */
function clientFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  const mask = randomBytes(4);
  let header: Buffer;
  if (payload.length < 126) header = Buffer.from([0x81, 0x80 | payload.length]);
  else if (payload.length < 65536) {
    header = Buffer.alloc(4);
    header[0] = 0x81;
    header[1] = 0x80 | 126;
    header.writeUInt16BE(payload.length, 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = 0x81;
    header[1] = 0x80 | 127;
    header.writeBigUInt64BE(BigInt(payload.length), 2);
  }
  const masked = Buffer.alloc(payload.length);
  for (let i = 0; i < payload.length; i++) masked[i] = payload[i]! ^ mask[i % 4]!;
  return Buffer.concat([header, mask, masked]);
}

/**
 * Sends an upgrade with exact headers immediately followed (same write) by initialize,
 * initialized and a process/start that touches `marker`. Returns the HTTP status line and
 * everything the server sent until it closed (or 3 s of silence after an upgrade).
 */
function upgradeAndPipeline(port: number, headers: Record<string, string>, marker: string, reqPath = '/'): Promise<{ status: number; raw: Buffer }> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let quiet: NodeJS.Timeout | undefined;
    const finish = () => {
      clearTimeout(quiet);
      sock.destroy();
      const raw = Buffer.concat(chunks);
      const m = /^HTTP\/1\.1 (\d{3})/.exec(raw.toString('latin1'));
      resolve({ status: m ? Number(m[1]) : 0, raw });
    };
    sock.on('data', (d) => {
      chunks.push(d);
      clearTimeout(quiet);
      quiet = setTimeout(finish, 3_000);
    });
    sock.on('close', finish);
    sock.on('error', reject);
    sock.on('connect', () => {
      const lines = [`GET ${reqPath} HTTP/1.1`, 'Connection: Upgrade', 'Upgrade: websocket', 'Sec-WebSocket-Version: 13', `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`];
      for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
      const start = startParams('pwn', ['touch', marker]);
      sock.write(
        Buffer.concat([
          Buffer.from(lines.join('\r\n') + '\r\n\r\n'),
          clientFrame(JSON.stringify({ id: 1, method: 'initialize', params: { clientName: 'attacker' } })),
          clientFrame(JSON.stringify({ method: 'initialized' })),
          clientFrame(JSON.stringify({ id: 2, method: 'process/start', params: start })),
        ]),
      );
    });
  });
}

test('refused upgrades are refused before any JSON-RPC: no session, no process (pipelined frames ignored)', async (t) => {
  const server = await startWsCli(guard);
  const token = server.token!;
  const port = server.port;
  const host = `127.0.0.1:${port}`;
  const bearer = (tk: string) => ({ Authorization: `Bearer ${tk}` });
  const flip = token.slice(0, -1) + (token.endsWith('a') ? 'b' : 'a');
  const refused: Array<{ name: string; headers: Record<string, string>; status: number; path?: string }> = [
    { name: 'no token', headers: { Host: host }, status: 401 },
    { name: 'wrong token, same length', headers: { Host: host, ...bearer(flip) }, status: 401 },
    { name: 'token prefix (shorter)', headers: { Host: host, ...bearer(token.slice(0, -1)) }, status: 401 },
    { name: 'token + 1 char (longer)', headers: { Host: host, ...bearer(token + 'x') }, status: 401 },
    { name: 'very long token', headers: { Host: host, ...bearer('t'.repeat(8000)) }, status: 401 },
    { name: 'empty bearer', headers: { Host: host, Authorization: 'Bearer ' }, status: 401 },
    { name: 'basic auth with the token', headers: { Host: host, Authorization: `Basic ${b64(`user:${token}`)}` }, status: 401 },
    { name: 'wrong token in query', headers: { Host: host }, status: 401, path: `/?token=${flip}` },
    { name: 'token in query, case-changed', headers: { Host: host }, status: 401, path: `/?token=${token.toUpperCase()}` },
    { name: 'Origin null (valid token)', headers: { Host: host, Origin: 'null', ...bearer(token) }, status: 403 },
    { name: 'Origin empty (valid token)', headers: { Host: host, Origin: '', ...bearer(token) }, status: 403 },
    { name: 'Origin evil (valid token)', headers: { Host: host, Origin: 'https://evil.example', ...bearer(token) }, status: 403 },
    { name: 'Origin loopback itself (valid token)', headers: { Host: host, Origin: `http://${host}`, ...bearer(token) }, status: 403 },
    { name: 'Origin vscode-webview (valid token)', headers: { Host: host, Origin: 'vscode-webview://abc', ...bearer(token) }, status: 403 },
    { name: 'Host evil.example (rebinding)', headers: { Host: `evil.example:${port}`, ...bearer(token) }, status: 403 },
    { name: 'Host 127.0.0.1.nip.io (rebinding)', headers: { Host: `127.0.0.1.nip.io:${port}`, ...bearer(token) }, status: 403 },
    { name: 'Host loopback, other port', headers: { Host: `127.0.0.1:${port === 65535 ? 1 : port + 1}`, ...bearer(token) }, status: 403 },
    { name: 'Host without port', headers: { Host: '127.0.0.1', ...bearer(token) }, status: 403 },
    { name: 'Host 0.0.0.0', headers: { Host: `0.0.0.0:${port}`, ...bearer(token) }, status: 403 },
    { name: 'Host localhost. (trailing dot)', headers: { Host: `localhost.:${port}`, ...bearer(token) }, status: 403 },
    { name: 'other path with the token', headers: { Host: host, ...bearer(token) }, status: 404, path: '/admin' },
  ];
  for (const r of refused) {
    const marker = path.join(tmp, `marker-${refused.indexOf(r)}`);
    const res = await upgradeAndPipeline(port, r.headers, marker, r.path);
    assert.equal(res.status, r.status, `${r.name}: got ${res.raw.toString('latin1').slice(0, 200)}`);
    assert.ok(!res.raw.toString('latin1').includes('sessionId'), `${r.name}: the server answered JSON-RPC`);
    await sleep(50);
    assert.ok(!fs.existsSync(marker), `${r.name}: a refused upgrade started a process`);
  }
  // Also through tryUpgrade (the HTTP client form) for the header shapes a socket cannot vary.
  assert.equal((await tryUpgrade(port, { headers: { origin: 'null', authorization: `Bearer ${token}` } })).status, 403);
  // Control: the same pipelined bytes with valid credentials DO run the process, so the
  // negative results above are meaningful.
  const ok = path.join(tmp, 'marker-control');
  const res = await upgradeAndPipeline(port, { Host: host, ...bearer(token) }, ok);
  assert.equal(res.status, 101);
  for (let i = 0; i < 100 && !fs.existsSync(ok); i++) await sleep(50);
  assert.ok(fs.existsSync(ok), 'control: the accepted upgrade ran the pipelined process/start');
  t.diagnostic(`FIGURES ${JSON.stringify({ refusedUpgradeKinds: refused.length + 1, processesStartedByRefusedUpgrades: 0 })}`);
  assert.ok(isAlive(server.pid));
  await server.stop();
});

test('a non-loopback bind without a token is refused; with a token, a non-loopback Host is still refused', async (t) => {
  for (const listen of ['ws://0.0.0.0:0', 'ws://[::]:0']) {
    const r = await runCli(['--auth', 'none', '--listen', listen]);
    assert.notEqual(r.code, 0, `${listen}: ${r.stderr}`);
    assert.equal(r.code !== null, true, `${listen}: the CLI did not exit by itself`);
    assert.match(r.stderr, /non-loopback|refus/i);
  }
  const lan = Object.values(os.networkInterfaces())
    .flat()
    .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
  if (!lan) {
    t.diagnostic('no non-loopback IPv4 interface: skipping the LAN-address upgrade check');
    return;
  }
  const server = await startWsCli(guard, { listen: 'ws://0.0.0.0:0' });
  const res = await new Promise<number>((resolve, reject) => {
    const sock = net.connect(server.port, lan);
    let got = '';
    sock.on('data', (d) => (got += d.toString('latin1')));
    sock.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(got)?.[1] ?? 0)));
    sock.on('error', reject);
    sock.write(
      `GET / HTTP/1.1\r\nHost: ${lan}:${server.port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nAuthorization: Bearer ${server.token}\r\n\r\n`,
    );
  });
  t.diagnostic(`upgrade over ${lan} with a valid token → ${res}`);
  assert.equal(res, 403, 'a Host naming a non-loopback address is refused');
  await server.stop();
});

test('tokensEqual: digests + timingSafeEqual, any lengths, never throws', () => {
  assert.equal(tokensEqual('abc', 'abc'), true);
  assert.equal(tokensEqual('abc', 'abd'), false);
  assert.equal(tokensEqual('abc', 'ab'), false);
  assert.equal(tokensEqual('', 'a'), false);
  assert.equal(tokensEqual('a'.repeat(100_000), 'a'), false);
  assert.equal(tokensEqual('é', 'e\u0301'), false);
  assert.equal(tokensEqual('tök€n', 'tök€n'), true);
  // The implementation compares fixed-size SHA-256 digests with crypto.timingSafeEqual, so the
  // work does not depend on where (or whether) the inputs differ, nor on their lengths. A
  // statistical timing test would be flaky; this pins the construction instead.
  const src = fs.readFileSync(path.join(ROOT, 'src', 'transport', 'auth.ts'), 'utf8');
  const body = /export function tokensEqual[\s\S]*?\n}/.exec(src)?.[0] ?? '';
  assert.match(body, /createHash\('sha256'\)\.update\(a\)\.digest\(\)/);
  assert.match(body, /createHash\('sha256'\)\.update\(b\)\.digest\(\)/);
  assert.match(body, /timingSafeEqual\(da, db\)/);
  assert.doesNotMatch(body, /===|!==|\.length/);
  // And the upgrade path uses it (no other comparison of the token).
  const check = /export function checkUpgrade[\s\S]*?\n}/.exec(src)?.[0] ?? '';
  assert.match(check, /tokensEqual\(presented\.token, opts\.token\)/);
  assert.doesNotMatch(check.replace('opts.token === null', ''), /token\s*(===|!==|==)/);
});

test('a client `env` never reaches the server environment; envPolicy inherit:all shows only the server own', async () => {
  const server = await startWsCli(guard);
  const raw = await RawWs.open(server.url, { token: server.token });
  await raw.handshake('env-test');
  const secret = `bar-${randomBytes(6).toString('hex')}`;
  const a = await raw.result('process/start', startParams('a', ['sh', '-c', 'printf "%s" "$FOO_EXEC_TEST"'], { env: { FOO_EXEC_TEST: secret, PATH: ENV_PATH, SECOND_VAR_EXEC_TEST: 'x' } }));
  guard.trackGroup(a.pid);
  await raw.waitClosedNotification('a');
  assert.equal(raw.output('a'), secret, 'the child got the env it asked for');
  const policy = { inherit: 'all', ignoreDefaultExcludes: true, exclude: [], set: {}, includeOnly: [] };
  const b = await raw.result('process/start', startParams('b', ['env'], { env: { PATH: ENV_PATH }, envPolicy: policy }));
  guard.trackGroup(b.pid);
  await raw.waitClosedNotification('b');
  const inherited = raw.output('b');
  assert.ok(inherited.includes('PATH='), 'inherit:all did inherit');
  assert.ok(!inherited.includes('FOO_EXEC_TEST'), 'a previous client env leaked into the server environment');
  assert.ok(!inherited.includes('SECOND_VAR_EXEC_TEST'));
  const own = fs.readFileSync(`/proc/${server.pid}/environ`, 'utf8');
  assert.ok(!own.includes('FOO_EXEC_TEST'));
  await raw.close();
  await server.stop();
});

test('fs/* paths and argv are taken literally: shell metacharacters run nothing', async () => {
  const server = await startWsCli(guard);
  const raw = await RawWs.open(server.url, { token: server.token });
  await raw.handshake('fs-literal');
  const dir = fs.mkdtempSync(path.join(tmp, 'lit-'));
  const pwned = path.join(dir, 'pwned');
  const names = ['$(touch pwned)', '`touch pwned`', 'a; touch pwned', 'a && touch pwned', 'a | touch pwned', '$HOME', '*', '~', "'quoted'", '"dq"', 'a\\nb', '-rf', '${IFS}x', '!!', 'a\ttab'];
  for (const name of names) {
    const p = path.join(dir, name);
    const w = await raw.call('fs/writeFile', { path: p, dataBase64: b64(name) });
    assert.ok(w.result, `${name}: ${JSON.stringify(w)}`);
    assert.equal(fs.readFileSync(p, 'utf8'), name, `${name}: written literally`);
    const r = await raw.result('fs/readFile', { path: p });
    assert.equal(unb64(r.dataBase64), name);
    await raw.result('fs/getMetadata', { path: p });
    await raw.result('fs/copy', { sourcePath: p, destinationPath: `${p}.copy`, recursive: false });
    assert.ok(fs.existsSync(`${p}.copy`));
    await raw.result('fs/createDirectory', { path: `${p}.d`, recursive: false });
    assert.ok(fs.statSync(`${p}.d`).isDirectory());
  }
  // `*` is a file name, not a glob: reading `dir/*x*` finds nothing.
  const glob = await raw.call('fs/readFile', { path: path.join(dir, '*x*') });
  assert.equal(glob.error?.code, -32004);
  const listing = await raw.result('fs/readDirectory', { path: dir });
  const listed = new Set((listing.entries as Array<{ fileName: string }>).map((e) => e.fileName));
  for (const name of names) assert.ok(listed.has(name), `${name} listed literally`);
  for (const name of names) {
    await raw.result('fs/remove', { path: `${path.join(dir, name)}.copy`, recursive: false, force: false });
    assert.ok(!fs.existsSync(`${path.join(dir, name)}.copy`));
  }
  // argv is passed to execve, not to a shell.
  const e = await raw.result('process/start', startParams('echo', ['echo', '$(touch pwned)', '`touch pwned`', ';', 'touch', 'pwned'], { cwd: dir }));
  guard.trackGroup(e.pid);
  await raw.waitClosedNotification('echo');
  assert.equal(raw.output('echo'), '$(touch pwned) `touch pwned` ; touch pwned\n');
  assert.ok(!fs.existsSync(pwned), 'a shell metacharacter was interpreted');
  assert.ok(!fs.existsSync(path.join(process.cwd(), 'pwned')) && !fs.existsSync('/tmp/pwned'));
  await raw.close();
  await server.stop();
});

test('the discovery file is created 0600 (O_EXCL, mode at open) even under umask 0; its directory 0700', async () => {
  const dir = path.join(tmp, 'discovery');
  const old = process.umask(0);
  try {
    const file = await writeDiscoveryFile(
      { url: 'ws://127.0.0.1:1', port: 1, token: 'secret-token', pid: process.pid, workspaceFolders: [], appName: 'test', protocolVersion: 'exec-server.v0', startedAt: new Date().toISOString() },
      dir,
    );
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.equal(fs.statSync(path.dirname(file)).mode & 0o777, 0o700);
    // Nothing else (no temp file) is left behind in the directory.
    assert.deepEqual(fs.readdirSync(path.dirname(file)), [path.basename(file)]);
  } finally {
    process.umask(old);
  }
});
