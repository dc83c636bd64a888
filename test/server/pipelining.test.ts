/**
 * A client that pipelines (sends requests back to back without awaiting the answers, as the
 * real codex client does with up to 13 in flight) must see them take effect in arrival order:
 * a request for a process that is still starting waits for the start; fs calls see the effects
 * of the ones before them. Only a process/read long poll waiting for output may be overtaken.
 * Every message of a batch goes out in one synchronous loop on a raw WebSocket.
 */
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startWsCli, type CliServer } from '../helpers/cli';
import { assertGone, ProcessGuard } from '../helpers/procs';
import { b64, RawWs, startParams, unb64, type Json } from '../helpers/rawWs';

const guard = new ProcessGuard();
let server: CliServer;
let ws: RawWs;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'exec-pipelining-'));

before(async () => {
  server = await startWsCli(guard);
  ws = await RawWs.open(server.url, { token: server.token });
  await ws.handshake('pipelining-tests', { resumeSessionId: null });
});
after(async () => {
  await ws.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

let nextId = 1;
let n = 0;
const fresh = (what: string) => `${what}-${++n}`;

/** Sends every request in one synchronous loop (truly pipelined), then awaits all responses in order. */
async function pipeline(conn: RawWs, reqs: Array<[string, unknown]>): Promise<Json[]> {
  const ids = reqs.map(() => `p${nextId++}`);
  const replies = ids.map((id, i) => conn.waitFor((m) => m.id === id && ('result' in m || 'error' in m), `response to ${reqs[i][0]} (${id})`));
  // Corked: the frames leave in one write, so the server reads them all in one go, as it
  // does from a busy client (without it, each frame may arrive after the previous answer).
  const socket = (conn.ws as unknown as { _socket: import('node:net').Socket })._socket;
  socket.cork();
  reqs.forEach(([method, params], i) => conn.send({ id: ids[i], method, params }));
  process.nextTick(() => socket.uncork());
  return Promise.all(replies);
}

function ok(r: Json): Json {
  assert.ok(r.result, `expected a result, got ${JSON.stringify(r.error)}`);
  return r.result;
}

test('start → write → closeStdin → read (waitMs) pipelined: the write reaches the child, the read sees its echo', async () => {
  const id = fresh('cat');
  const [start, write, close, read] = await pipeline(ws, [
    ['process/start', startParams(id, ['cat'], { pipeStdin: true })],
    ['process/write', { processId: id, chunk: b64('hello\n'), writeId: 'w1' }],
    ['process/closeStdin', { processId: id }],
    ['process/read', { processId: id, afterSeq: 0, waitMs: 10_000 }],
  ]);
  guard.trackGroup(ok(start).pid);
  assert.deepEqual(ok(write), { accepted: true, status: 'accepted' });
  assert.deepEqual(ok(close), { closed: true });
  const chunks = ok(read).chunks as Json[];
  assert.equal(chunks.map((c) => unb64(c.chunk)).join(''), 'hello\n');
  await ws.waitClosedNotification(id);
});

test('several writes pipelined behind the start arrive in order', async () => {
  const id = fresh('cat-many');
  const parts = Array.from({ length: 20 }, (_, i) => `line ${i}\n`);
  const replies = await pipeline(ws, [
    ['process/start', startParams(id, ['cat'], { pipeStdin: true })],
    ...parts.map((p): [string, unknown] => ['process/write', { processId: id, chunk: b64(p) }]),
    ['process/closeStdin', { processId: id }],
  ]);
  guard.trackGroup(ok(replies[0]).pid);
  for (const r of replies.slice(1, -1)) assert.deepEqual(ok(r), { accepted: true, status: 'accepted' });
  assert.deepEqual(ok(replies[replies.length - 1]), { closed: true });
  await ws.waitClosedNotification(id);
  assert.equal(ws.output(id), parts.join(''));
});

test('start → terminate pipelined: terminate finds the process running and ends it', async () => {
  const id = fresh('term');
  const [start, term] = await pipeline(ws, [
    ['process/start', startParams(id, ['sleep', '60'])],
    ['process/terminate', { processId: id }],
  ]);
  const pid = guard.trackGroup(ok(start).pid);
  assert.deepEqual(ok(term), { running: true });
  await ws.waitClosedNotification(id);
  await assertGone(pid);
});

test('start → signal pipelined: the signal is delivered to the new process', async () => {
  const id = fresh('sig');
  const [start, sig] = await pipeline(ws, [
    ['process/start', startParams(id, ['sleep', '60'])],
    ['process/signal', { processId: id, signal: 'kill' }],
  ]);
  const pid = guard.trackGroup(ok(start).pid);
  assert.deepEqual(ok(sig), { delivered: true });
  const exited = await ws.waitFor((m) => m.method === 'process/exited' && m.params.processId === id, 'exited');
  assert.equal(exited.params.signal, 'SIGKILL');
  await assertGone(pid);
});

test('start → closeStdin pipelined: stdin is closed (cat ends by itself)', async () => {
  const id = fresh('close');
  const [start, close] = await pipeline(ws, [
    ['process/start', startParams(id, ['cat'], { pipeStdin: true })],
    ['process/closeStdin', { processId: id }],
  ]);
  guard.trackGroup(ok(start).pid);
  assert.deepEqual(ok(close), { closed: true });
  const exited = await ws.waitFor((m) => m.method === 'process/exited' && m.params.processId === id, 'exited');
  assert.equal(exited.params.exitCode, 0);
});

test('a long-polling read does not hold back the requests behind it', async () => {
  const id = fresh('poll');
  const [start] = await pipeline(ws, [['process/start', startParams(id, ['cat'], { pipeStdin: true })]]);
  guard.trackGroup(ok(start).pid);
  // The read waits for output that only the write behind it produces: if it held the
  // connection, neither would ever answer (the read's wait is 60 s, the test's 15 s).
  const [read, write] = await pipeline(ws, [
    ['process/read', { processId: id, afterSeq: 0, waitMs: 60_000 }],
    ['process/write', { processId: id, chunk: b64('wake\n') }],
  ]);
  assert.deepEqual(ok(write), { accepted: true, status: 'accepted' });
  assert.equal((ok(read).chunks as Json[]).map((c) => unb64(c.chunk)).join(''), 'wake\n');
  ok((await pipeline(ws, [['process/terminate', { processId: id }]]))[0]);
  await ws.waitClosedNotification(id);
});

test('fs writeFile "first" → readFile → writeFile "second" → readFile pipelined read first, then second', async () => {
  const file = path.join(tmp, 'order.txt');
  const [w1, r1, w2, r2] = await pipeline(ws, [
    ['fs/writeFile', { path: file, dataBase64: b64('first') }],
    ['fs/readFile', { path: file }],
    ['fs/writeFile', { path: file, dataBase64: b64('second') }],
    ['fs/readFile', { path: file }],
  ]);
  ok(w1);
  ok(w2);
  assert.equal(unb64(ok(r1).dataBase64), 'first');
  assert.equal(unb64(ok(r2).dataBase64), 'second');
});

test('fs createDirectory a/b → writeFile a/b/f → getMetadata pipelined succeed in order', async () => {
  const dir = path.join(tmp, 'a', 'b');
  const file = path.join(dir, 'f');
  const [mk, w, meta] = await pipeline(ws, [
    ['fs/createDirectory', { path: dir, recursive: true }],
    ['fs/writeFile', { path: file, dataBase64: b64('x') }],
    ['fs/getMetadata', { path: file }],
  ]);
  ok(mk);
  ok(w);
  assert.equal(ok(meta).isFile, true);
  assert.equal(fs.readFileSync(file, 'utf8'), 'x');
});

test('a failing start does not stall the requests queued behind it', async () => {
  const id = fresh('missing');
  const file = path.join(tmp, 'after-failure.txt');
  const [start, write, w, r] = await pipeline(ws, [
    ['process/start', startParams(id, ['/nonexistent/program'])],
    ['process/write', { processId: id, chunk: b64('x'), writeId: 'w' }],
    ['fs/writeFile', { path: file, dataBase64: b64('after') }],
    ['fs/readFile', { path: file }],
  ]);
  assert.ok(start.error, 'a missing program fails');
  assert.equal(ok(write).status, 'unknownProcess');
  ok(w);
  assert.equal(unb64(ok(r).dataBase64), 'after');
});
