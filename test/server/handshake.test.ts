/**
 * The handshake and JSON-RPC framing rules (seed README + upstream notes §2), over raw
 * WebSocket frames against the built CLI.
 */
import { before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { startWsCli, type CliServer } from '../helpers/cli';
import { ProcessGuard } from '../helpers/procs';
import { RawWs } from '../helpers/rawWs';

const guard = new ProcessGuard();
let server: CliServer;

before(async () => {
  server = await startWsCli(guard);
});

const open = () => RawWs.open(server.url, { token: server.token });

function assertError(msg: any, code: number, message?: RegExp | string) {
  assert.ok(msg.error, `expected an error, got ${JSON.stringify(msg)}`);
  assert.equal(msg.error.code, code, JSON.stringify(msg.error));
  if (typeof message === 'string') assert.equal(msg.error.message, message);
  else if (message) assert.match(msg.error.message, message);
  assert.equal('jsonrpc' in msg, false);
}

/** The connection still answers requests (used after recoverable errors). */
async function stillServes(ws: RawWs) {
  const r = await ws.call('process/list', {});
  assert.ok(r.result || r.error, 'the connection keeps serving');
}

test('requests before initialize are -32600 and say what to do; the connection stays open', async () => {
  const ws = await open();
  assertError(await ws.call('process/start', { processId: 'x', argv: ['true'], cwd: '/tmp', env: {}, tty: false }), -32600, 'client must call initialize before using exec methods');
  assertError(await ws.call('process/read', { processId: 'x' }), -32600, /initialize/);
  assertError(await ws.call('fs/readFile', { path: 'file:///etc/hostname' }), -32600, 'client must call initialize before using filesystem methods');
  assertError(await ws.call('environment/info', {}), -32600, /client must call initialize before using environment info methods/);
  // Still open: initialize now works.
  const init = await ws.call('initialize', { clientName: 'late' });
  assert.equal(init.result.protocolVersion, 'exec-server.v0');
  await ws.close();
});

test('requests after initialize but before initialized are -32600', async () => {
  const ws = await open();
  await ws.result('initialize', { clientName: 'x' });
  assertError(await ws.call('process/list', {}), -32600, 'client must send initialized before using exec methods');
  ws.notify('initialized');
  assert.deepEqual((await ws.call('process/list', {})).result, { processes: [] });
  // A repeated `initialized` is ignored.
  ws.notify('initialized');
  assert.deepEqual((await ws.call('process/list', {})).result, { processes: [] });
  await ws.close();
});

test('initialize twice is -32600 and the connection stays open', async () => {
  const ws = await open();
  const first = await ws.handshake();
  assertError(await ws.call('initialize', { clientName: 'again' }), -32600, 'initialize may only be sent once per connection');
  assert.ok(ws.isOpen);
  await stillServes(ws);
  assert.equal(typeof first.sessionId, 'string');
  await ws.close();
});

test('initialize param errors are -32602 naming the field', async () => {
  const ws = await open();
  assertError(await ws.call('initialize', {}), -32602, 'missing field `clientName`');
  assertError(await ws.call('initialize'), -32602, /expected struct InitializeParams/);
  assertError(await ws.call('initialize', { clientName: 5 }), -32602, /clientName/);
  // A failed initialize does not count: it may be retried.
  assert.equal((await ws.call('initialize', { clientName: 'ok' })).result.protocolVersion, 'exec-server.v0');
  await ws.close();
});

test('initialized before initialize closes the connection', async () => {
  const ws = await open();
  ws.notify('initialized');
  const c = await ws.closed;
  assert.notEqual(c.code, 1000);
});

test('an unknown notification closes the connection (protocol error)', async () => {
  const ws = await open();
  await ws.handshake();
  ws.notify('process/whatever', { x: 1 });
  const c = await ws.closed;
  assert.notEqual(c.code, 1000);
  assert.equal(ws.messages.filter((m) => m.error).length, 0, 'no error frame, as upstream');
});

test('a client-sent response closes the connection', async () => {
  const ws = await open();
  await ws.handshake();
  ws.send({ id: 5, result: {} });
  await ws.closed;
  const ws2 = await open();
  ws2.send({ id: 6, error: { code: 1, message: 'x' } });
  await ws2.closed;
});

test('invalid JSON → -32700 with id null, and the connection keeps serving', async () => {
  const ws = await open();
  await ws.handshake();
  ws.sendText('{not json');
  const err = await ws.waitFor((m) => m.error && m.id === null, 'parse error');
  assertError(err, -32700);
  assert.ok('id' in err && err.id === null);
  ws.sendText('');
  ws.sendText('{"id":1,');
  await stillServes(ws);
  await ws.close();
});

test('batch → -32600; non-object JSON → -32600; the connection keeps serving', async () => {
  const ws = await open();
  await ws.handshake();
  ws.sendText('[{"id":1,"method":"process/list","params":{}},{"id":2,"method":"process/list","params":{}}]');
  const batch = await ws.waitFor((m) => m.error && m.id === null, 'batch error');
  assertError(batch, -32600, /batch/);
  assert.equal(ws.messages.filter((m) => m.id === 1 || m.id === 2).length, 0, 'no batch member was executed');
  ws.sendText('42');
  await ws.waitFor((m) => m.error && m.id === null && /JSON-RPC object/.test(m.error.message), 'non-object error');
  ws.sendText('{"id":9,"params":{}}');
  assertError(await ws.waitFor((m) => m.id === 9, 'missing method error'), -32600, /method/);
  await stillServes(ws);
  await ws.close();
});

test('unknown method → -32601 naming it (before and after the handshake)', async () => {
  const ws = await open();
  assertError(await ws.call('process/frobnicate', {}), -32601, /process\/frobnicate/);
  await ws.handshake();
  assertError(await ws.call('no/such/method', {}), -32601, /no\/such\/method/);
  assertError(await ws.call('process/exited', {}), -32601, /process\/exited/);
  await stillServes(ws);
  await ws.close();
});

test('initialize result: protocolVersion, sessionId, environmentInfo', async () => {
  const ws = await open();
  const r = await ws.handshake('info');
  assert.equal(r.protocolVersion, 'exec-server.v0');
  assert.match(r.sessionId, /^[0-9a-f-]{36}$/);
  assert.equal(typeof r.environmentInfo, 'object');
  assert.equal(typeof r.environmentInfo.shell?.path, 'string');
  await ws.close();
});
