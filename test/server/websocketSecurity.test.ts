/**
 * The WebSocket listener's security and limits: token (header and ?token=), 401 reasons,
 * --auth none on loopback, Origin and Host checks (403), /readyz, oversized frames (1009)
 * without harming other clients.
 */
import { before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { CLI, runCli, startWsCli, type CliServer } from '../helpers/cli';
import { ProcessGuard } from '../helpers/procs';
import { httpGet, RawWs, tryUpgrade } from '../helpers/rawWs';

const guard = new ProcessGuard();
let server: CliServer;

before(async () => {
  server = await startWsCli(guard, { args: ['--max-frame-bytes', '65536'] });
});

const host = () => `127.0.0.1:${server.port}`;

test('no token → 401 with a text/plain reason', async () => {
  const r = await tryUpgrade(server.port);
  assert.equal(r.status, 401);
  assert.match(String(r.headers['content-type']), /^text\/plain/);
  assert.match(r.body, /missing websocket bearer token/);
});

test('wrong token → 401 text/plain reason (header and query)', async () => {
  const viaHeader = await tryUpgrade(server.port, { headers: { authorization: 'Bearer wrong-token' } });
  assert.equal(viaHeader.status, 401);
  assert.match(String(viaHeader.headers['content-type']), /^text\/plain/);
  assert.match(viaHeader.body, /invalid websocket bearer token/);
  const prefix = await tryUpgrade(server.port, { headers: { authorization: `Bearer ${server.token!.slice(0, -1)}` } });
  assert.equal(prefix.status, 401);
  const longer = await tryUpgrade(server.port, { headers: { authorization: `Bearer ${server.token}x` } });
  assert.equal(longer.status, 401);
  const viaQuery = await tryUpgrade(server.port, { path: '/?token=wrong' });
  assert.equal(viaQuery.status, 401);
  assert.match(viaQuery.body, /invalid websocket bearer token/);
  const basic = await tryUpgrade(server.port, { headers: { authorization: `Basic ${server.token}` } });
  assert.equal(basic.status, 401);
  assert.match(basic.body, /invalid authorization header/);
});

test('the right token works as Authorization: Bearer (any case) and as ?token=', async () => {
  assert.equal((await tryUpgrade(server.port, { headers: { authorization: `Bearer ${server.token}` } })).status, 101);
  assert.equal((await tryUpgrade(server.port, { headers: { authorization: `bearer ${server.token}` } })).status, 101);
  assert.equal((await tryUpgrade(server.port, { path: `/?token=${server.token}` })).status, 101);
  for (const tokenInQuery of [false, true]) {
    const ws = await RawWs.open(server.url, { token: server.token, tokenInQuery });
    assert.equal((await ws.handshake()).protocolVersion, 'exec-server.v0');
    await ws.close();
  }
});

test('any Origin header → 403, even "null", empty, or loopback, and even with a valid token', async () => {
  for (const origin of ['null', 'http://127.0.0.1', `http://127.0.0.1:${server.port}`, 'https://evil.example', '']) {
    const r = await tryUpgrade(server.port, { headers: { origin, authorization: `Bearer ${server.token}` } });
    assert.equal(r.status, 403, `Origin ${JSON.stringify(origin)}`);
  }
});

test('a foreign Host header → 403 (DNS rebinding); loopback names with the right port are accepted', async () => {
  const auth = { authorization: `Bearer ${server.token}` };
  for (const h of [`evil.example:${server.port}`, 'evil.example', `127.0.0.1:${server.port + 1}`, `127.0.0.2:${server.port}`, `localhost.evil.example:${server.port}`]) {
    const r = await tryUpgrade(server.port, { headers: { ...auth, host: h } });
    assert.equal(r.status, 403, `Host ${h}`);
    assert.match(String(r.headers['content-type']), /^text\/plain/);
  }
  for (const h of [host(), `localhost:${server.port}`, `LOCALHOST:${server.port}`, `[::1]:${server.port}`]) {
    assert.equal((await tryUpgrade(server.port, { headers: { ...auth, host: h } })).status, 101, `Host ${h}`);
  }
});

test('GET /readyz → 200 without auth; other paths 404; plain GET / is not an upgrade', async () => {
  assert.equal((await httpGet(server.port, '/readyz')).status, 200);
  assert.equal((await httpGet(server.port, '/nope')).status, 404);
  assert.notEqual((await httpGet(server.port, '/')).status, 200);
  assert.equal((await tryUpgrade(server.port, { path: '/other', headers: { authorization: `Bearer ${server.token}` } })).status, 404);
});

test('an oversized frame closes that connection with 1009; the server keeps serving other clients', async () => {
  const bystander = await RawWs.open(server.url, { token: server.token });
  await bystander.handshake('bystander');
  const big = await RawWs.open(server.url, { token: server.token });
  await big.handshake('big');
  big.sendText(JSON.stringify({ id: 1, method: 'process/list', params: { pad: 'x'.repeat(200_000) } }));
  const c = await big.closed;
  assert.equal(c.code, 1009);
  assert.deepEqual((await bystander.call('process/list', {})).result, { processes: [] });
  const fresh = await RawWs.open(server.url, { token: server.token });
  assert.equal((await fresh.handshake()).protocolVersion, 'exec-server.v0');
  await fresh.close();
  await bystander.close();
});

test('--auth none works on loopback', async () => {
  const open = await startWsCli(guard, { auth: 'none' });
  assert.match(open.stderr(), /authentication disabled/);
  assert.equal((await tryUpgrade(open.port)).status, 101);
  const ws = await RawWs.open(open.url);
  assert.equal((await ws.handshake()).protocolVersion, 'exec-server.v0');
  await ws.close();
  // Origin and Host checks still apply without a token.
  assert.equal((await tryUpgrade(open.port, { headers: { origin: 'null' } })).status, 403);
  assert.equal((await tryUpgrade(open.port, { headers: { host: `evil.example:${open.port}` } })).status, 403);
  await open.stop();
});

test('the CLI refuses --auth none on a non-loopback address', async () => {
  const r = await runCli(['--auth', 'none', '--listen', 'ws://0.0.0.0:0']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /refusing to listen on non-loopback address 0\.0\.0\.0 without a token/);
  assert.doesNotMatch(r.stderr, /listening on/);
});

test('without a token file or EXEC_SERVER_TOKEN the CLI generates a token and prints it', async () => {
  const env = { ...process.env };
  delete env.EXEC_SERVER_TOKEN;
  const proc = spawn(process.execPath, [CLI, '--listen', 'ws://127.0.0.1:0'], { stdio: ['ignore', 'ignore', 'pipe'], env });
  guard.track(proc.pid!);
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise((r) => proc.once('exit', r));
  const deadline = Date.now() + 10_000;
  while (!/listening on ws:\/\/\S+/.test(err) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const token = /generated token (\S+)/.exec(err)?.[1];
  const url = /listening on (ws:\/\/\S+)/.exec(err)?.[1];
  assert.ok(token && url, err);
  assert.equal((await tryUpgrade(Number(new URL(url).port))).status, 401);
  const ws = await RawWs.open(url, { token });
  await ws.handshake();
  await ws.close();
  process.kill(proc.pid!, 'SIGTERM');
  await exited;
});
