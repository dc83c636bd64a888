/**
 * The admin protocol (src/protocol/admin.ts) on the exec protocol's codec and error codes: the
 * admin channel answers malformed lines with the shared JSON-RPC errors and keeps serving, an
 * unknown method is MethodNotFound, bad params are InvalidParams naming the field; the control
 * socket's admin/adopt answers with named codes (AdminAuthFailed, AdminOwned) and closes, or hands
 * the socket to the admin channel with nothing lost. A real ExecServer in this process; the
 * control socket is a real UNIX socket in a private temp dir.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { adminOverStreams } from '../../src/client/adminClient';
import { ExecClient } from '../../src/client/client';
import { AdminAdopt, type AdoptResult } from '../../src/protocol/admin';
import { ErrorCode, RpcError } from '../../src/protocol/errors';
import { request } from '../../src/protocol/requestTypes';
import { adminInProcess } from '../../src/server/admin/adminApi';
import { ExecServer } from '../../src/server/execServer';
import { serveAdmin } from '../../src/transport/adminChannel';
import { adoptOverControlSocket, ControlError, listenControlSocket } from '../../src/transport/controlSocket';
import { LineSplitter } from '../../src/transport/lineFraming';

const T = { timeout: 20_000 };
const READY = { url: 'ws://127.0.0.1:1', port: 1, pid: process.pid };

/** Every JSON line `stream` carries, in order; next() waits for the next one. */
function jsonLines(stream: Readable) {
  const queue: any[] = [];
  const waiters: ((v: any) => void)[] = [];
  const splitter = new LineSplitter(1 << 30, (line) => {
    const v = JSON.parse(line);
    const w = waiters.shift();
    if (w) w(v);
    else queue.push(v);
  }, () => assert.fail('oversized line from the server'));
  stream.on('data', (d: Buffer) => splitter.push(d));
  const next = (): Promise<any> => (queue.length ? Promise.resolve(queue.shift()) : new Promise((r) => waiters.push(r)));
  return {
    next,
    /** The next response (skipping notifications). */
    async reply(): Promise<any> {
      for (;;) {
        const m = await next();
        if (!('method' in m)) return m;
      }
    },
  };
}

function rawChannel(t: { after(fn: () => unknown): void }) {
  const server = new ExecServer({ terminateGraceMs: 200 });
  const toServer = new PassThrough();
  const fromServer = new PassThrough();
  const channel = serveAdmin(adminInProcess(server), toServer, fromServer, { ready: READY });
  t.after(async () => {
    channel.dispose();
    await server.shutdown();
  });
  return { server, channel, toServer, fromServer, send: (line: string) => toServer.write(line + '\n'), lines: jsonLines(fromServer) };
}

test('admin channel: a malformed line gets the shared JSON-RPC error and the channel keeps serving', T, async (t) => {
  const c = rawChannel(t);
  assert.deepEqual(await c.lines.next(), { method: 'admin/ready', params: READY }, 'admin/ready comes first');

  c.send('{not json');
  const parse = await c.lines.reply();
  assert.equal(parse.id, null);
  assert.equal(parse.error.code, ErrorCode.ParseError);

  c.send('[{"id":1,"method":"admin/snapshot"}]');
  assert.equal((await c.lines.reply()).error.code, ErrorCode.InvalidRequest, 'a batch');

  c.send('{"id":2,"method":"admin/snapshot","params":5}');
  const badParams = await c.lines.reply();
  assert.equal(badParams.id, 2);
  assert.equal(badParams.error.code, ErrorCode.InvalidRequest);

  c.send('{"id":3,"result":true}');
  const response = await c.lines.reply();
  assert.equal(response.id, null);
  assert.equal(response.error.code, ErrorCode.InvalidRequest, 'a response from the owner');

  // A notification gets no answer (JSON-RPC): the next reply is the request after it.
  c.send('{"method":"admin/snapshot"}');
  c.send('{"id":4,"method":"admin/snapshot"}');
  const snap = await c.lines.reply();
  assert.equal(snap.id, 4);
  assert.deepEqual(snap.result, { sessions: [], processes: [] });
});

test('admin channel: an unknown method is MethodNotFound (-32601), bad params are InvalidParams naming the field, an unknown key is InvalidRequest', T, async (t) => {
  const c = rawChannel(t);
  const call = async (method: string, params: unknown) => {
    c.send(JSON.stringify({ id: method, method, params }));
    const r = await c.lines.reply();
    assert.equal(r.id, method);
    return r.error as { code: number; message: string };
  };
  for (const method of ['admin/nope', 'control/adopt', 'process/start', 'toString', '__proto__', 'constructor']) {
    assert.equal((await call(method, {})).code, ErrorCode.MethodNotFound, method);
  }
  // admin/adopt exists only as the control socket's first request.
  assert.equal((await call('admin/adopt', { secret: 'x' })).code, ErrorCode.MethodNotFound);

  const signal = await call('admin/signal', { key: 'a/b', signal: 'boom' });
  assert.equal(signal.code, ErrorCode.InvalidParams);
  assert.match(signal.message, /`signal`/);
  const write = await call('admin/write', { key: 'a/b', data: 'not base64!' });
  assert.equal(write.code, ErrorCode.InvalidParams);
  assert.match(write.message, /`data`/);
  const resize = await call('admin/resize', { key: 'a/b', cols: 70_000, rows: 24 });
  assert.equal(resize.code, ErrorCode.InvalidParams);
  assert.match(resize.message, /`cols`/);
  assert.equal((await call('admin/terminate', {})).code, ErrorCode.InvalidParams, 'missing key');
  const unknown = await call('admin/terminate', { key: 'no/such' });
  assert.equal(unknown.code, ErrorCode.InvalidRequest);
  assert.match(unknown.message, /unknown process no\/such/);

  // The client side: an error answer rejects as an RpcError with the wire code.
  const admin = adminOverStreams(c.fromServer, c.toServer);
  t.after(() => admin.dispose());
  await assert.rejects(admin.request(request<Record<string, never>, unknown>('admin/nope'), {}), (e: RpcError) => e instanceof RpcError && e.code === ErrorCode.MethodNotFound);
  await assert.rejects(admin.signal('no/such', 'kill'), (e: RpcError) => e.code === ErrorCode.InvalidRequest);
});

test('admin channel: the client sees a real process through it (snapshot, output, terminate)', T, async (t) => {
  const c = rawChannel(t);
  const admin = adminOverStreams(c.fromServer, c.toServer);
  t.after(() => admin.dispose());
  assert.deepEqual(await admin.ready, READY);
  const client = await ExecClient.connectInProcess(c.server);
  t.after(() => client.close());
  const r = await client.run(['sh', '-c', 'printf "one\\ntwo\\n"']);
  assert.equal(String(r.stdout), 'one\ntwo\n');
  const [p] = (await admin.snapshot()).processes;
  assert.deepEqual(p.argv, ['sh', '-c', 'printf "one\\ntwo\\n"']);
  const out = await admin.retainedOutput(p.key);
  assert.equal(Buffer.concat(out.chunks.map((ch) => ch.data)).toString(), 'one\ntwo\n');
  assert.equal(out.truncated, false);
  assert.equal(await admin.terminateAll(), 0, 'nothing left running');
});

async function controlRig(t: { after(fn: () => unknown): void }, adopt: () => AdoptResult) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'admin-ctl-'));
  const server = new ExecServer({ terminateGraceMs: 200 });
  const adopted: net.Socket[] = [];
  const ctl = await listenControlSocket({
    path: path.join(dir, 'ctl', 's.sock'),
    secret: 'the-secret',
    adopt,
    onAdopted: (socket) => {
      adopted.push(socket);
      serveAdmin(adminInProcess(server), socket, socket, { ready: READY });
    },
  });
  t.after(async () => {
    ctl.close();
    for (const s of adopted) s.destroy();
    await server.shutdown();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return ctl;
}

/** Connect, write `text`, and collect everything until the server closes the socket. */
function exchange(p: string, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(p);
    let got = '';
    s.on('data', (d) => (got += d));
    s.on('error', reject);
    s.on('close', () => resolve(got));
    s.write(text);
  });
}

const RESULT: AdoptResult = { url: READY.url, port: READY.port, pid: READY.pid, running: 0, processes: 0, orphanedMs: 5 };

test('control socket: admin/adopt answers a wrong secret with AdminAuthFailed, a live owner with AdminOwned, anything else with the codec errors, and closes', T, async (t) => {
  let owned = false;
  const ctl = await controlRig(t, () => {
    if (owned) throw new ControlError('owned', 'still owned');
    return RESULT;
  });
  const adopt = (secret: unknown) => JSON.stringify({ id: 9, method: AdminAdopt.method, params: { secret, pid: 1 } }) + '\n';

  const wrong = JSON.parse(await exchange(ctl.path, adopt('wrong')));
  assert.deepEqual(wrong, { id: 9, error: { code: ErrorCode.AdminAuthFailed, message: 'authentication failed' } });
  await assert.rejects(adoptOverControlSocket(ctl.path, 'wrong'), (e: ControlError) => e instanceof ControlError && e.reason === 'auth');

  owned = true;
  assert.equal(JSON.parse(await exchange(ctl.path, adopt('the-secret'))).error.code, ErrorCode.AdminOwned);
  await assert.rejects(adoptOverControlSocket(ctl.path, 'the-secret'), (e: ControlError) => e.reason === 'owned');
  owned = false;

  assert.equal(JSON.parse(await exchange(ctl.path, '{nope\n')).error.code, ErrorCode.ParseError);
  const first = JSON.parse(await exchange(ctl.path, '{"id":1,"method":"admin/snapshot"}\n'));
  assert.equal(first.error.code, ErrorCode.InvalidRequest);
  assert.match(first.error.message, /expected admin\/adopt first/);
  assert.equal(JSON.parse(await exchange(ctl.path, adopt(42))).error.code, ErrorCode.InvalidParams, 'a secret that is not a string');
  assert.equal(JSON.parse(await exchange(ctl.path, 'x'.repeat(8192))).error.code, ErrorCode.InvalidRequest, 'an unbounded first line');
  await assert.rejects(adoptOverControlSocket(path.join(path.dirname(ctl.path), 'none.sock'), 'the-secret'), (e: ControlError) => e.reason === 'absent');
});

test('control socket: after admin/adopt the socket carries the admin channel, including a request sent in the same write', T, async (t) => {
  const ctl = await controlRig(t, () => RESULT);
  // Raw: the adopt request and an admin/snapshot behind it in one write.
  const s = net.connect(ctl.path);
  t.after(() => s.destroy());
  const lines = jsonLines(s);
  s.write(JSON.stringify({ id: 'a', method: AdminAdopt.method, params: { secret: 'the-secret' } }) + '\n{"id":"b","method":"admin/snapshot"}\n');
  assert.deepEqual(await lines.next(), { id: 'a', result: RESULT });
  assert.deepEqual(await lines.next(), { method: 'admin/ready', params: READY });
  assert.deepEqual(await lines.reply(), { id: 'b', result: { sessions: [], processes: [] } });

  // The client: adopt, then the admin client on the same socket.
  const { result, socket } = await adoptOverControlSocket(ctl.path, 'the-secret');
  t.after(() => socket.destroy());
  assert.deepEqual(result, RESULT);
  const admin = adminOverStreams(socket, socket);
  socket.resume();
  assert.deepEqual(await admin.ready, READY);
  assert.deepEqual(await admin.snapshot(), { sessions: [], processes: [] });
  admin.dispose();
});
