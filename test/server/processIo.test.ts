/**
 * Process I/O and lifecycle over the wire: seq/closed ordering, process/read (afterSeq,
 * maxBytes, waitMs), long-poll concurrency, pipeStdin/closeStdin, write statuses and writeId
 * de-duplication, signals to the process group, resize, terminate (grace + SIGKILL), grandchildren,
 * late output after exit, exit codes. Real processes behind the built CLI.
 */
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as os from 'node:os';
import { startWsCli, type CliServer } from '../helpers/cli';
import { assertGone, childrenOf, groupMembers, isAlive, ProcessGuard, waitUntil } from '../helpers/procs';
import { b64, RawWs, startParams, unb64 } from '../helpers/rawWs';

const guard = new ProcessGuard();
let server: CliServer;
let ws: RawWs;

before(async () => {
  server = await startWsCli(guard);
  ws = await RawWs.open(server.url, { token: server.token });
  await ws.handshake('io-tests');
});
after(async () => {
  await ws.close();
});

let n = 0;
const fresh = (what: string) => `${what}-${++n}`;

async function start(params: Record<string, unknown>, conn = ws): Promise<number> {
  const r = await conn.call('process/start', params);
  assert.ok(r.result, `start failed: ${JSON.stringify(r.error)}`);
  return guard.trackGroup(r.result.pid);
}

/** Every seq'd notification of one process, in wire order. */
function events(id: string, conn = ws) {
  return conn.messages.filter((m) => ['process/output', 'process/exited', 'process/closed'].includes(m.method) && m.params.processId === id);
}

const SIGNUM = os.constants.signals;

test('seq: output seqs strictly increase from 1, then exited = last+1, closed = exited+1; read nextSeq follows', async () => {
  const id = fresh('seq');
  await start(startParams(id, ['sh', '-c', 'printf a; sleep 0.05; printf b >&2; sleep 0.05; printf c; sleep 0.1; exit 3']));
  await ws.waitClosedNotification(id);
  const ev = events(id);
  const outputs = ev.filter((m) => m.method === 'process/output');
  const exited = ev.filter((m) => m.method === 'process/exited');
  const closed = ev.filter((m) => m.method === 'process/closed');
  assert.equal(exited.length, 1);
  assert.equal(closed.length, 1);
  assert.ok(outputs.length >= 3);
  assert.deepEqual(ev.map((m) => m.params.seq), ev.map((_, i) => i + 1), 'wire order = seq order, contiguous from 1');
  assert.equal(exited[0].params.seq, outputs[outputs.length - 1].params.seq + 1);
  assert.equal(closed[0].params.seq, exited[0].params.seq + 1);
  assert.equal(ev[ev.length - 1].method, 'process/closed');
  assert.equal(exited[0].params.exitCode, 3);
  assert.equal(exited[0].params.sandboxDenied, false);
  assert.deepEqual(outputs.map((m) => m.params.stream), ['stdout', 'stderr', 'stdout']);
  assert.equal(ws.output(id), 'abc');

  const read = await ws.result('process/read', { processId: id });
  assert.equal(read.nextSeq, closed[0].params.seq + 1);
  assert.equal(read.exited, true);
  assert.equal(read.closed, true);
  assert.equal(read.exitCode, 3);
  assert.equal(read.failure, null);
  assert.equal(read.truncated, false);
  assert.deepEqual(read.chunks.map((c: any) => c.seq), outputs.map((m) => m.params.seq));
});

test('process/read: afterSeq is exclusive, maxBytes cuts but returns at least one chunk, nextSeq', async () => {
  const id = fresh('read');
  // Lock-step through stdin, so each line is its own chunk however loaded the machine is.
  await start(startParams(id, ['sh', '-c', 'while read -r l; do echo "$l"; done'], { pipeStdin: true }));
  for (const word of ['one', 'two', 'three']) {
    await ws.result('process/write', { processId: id, chunk: Buffer.from(`${word}\n`).toString('base64') });
    await ws.waitOutput(id, `${word}\n`);
  }
  await ws.result('process/closeStdin', { processId: id });
  await ws.waitClosedNotification(id);
  const all = await ws.result('process/read', { processId: id, afterSeq: 0 });
  assert.deepEqual(all.chunks.map((c: any) => unb64(c.chunk)), ['one\n', 'two\n', 'three\n']);
  assert.deepEqual(all.chunks.map((c: any) => c.seq), [1, 2, 3]);
  assert.equal(all.nextSeq, 6, 'three outputs + exited + closed');
  const nulls = await ws.result('process/read', { processId: id, afterSeq: null, maxBytes: null, waitMs: null });
  assert.deepEqual(nulls.chunks, all.chunks);

  const after1 = await ws.result('process/read', { processId: id, afterSeq: 1 });
  assert.deepEqual(after1.chunks.map((c: any) => c.seq), [2, 3]);
  const one = await ws.result('process/read', { processId: id, afterSeq: 0, maxBytes: 1 });
  assert.deepEqual(one.chunks.map((c: any) => c.seq), [1], 'at least one chunk even above maxBytes');
  assert.equal(one.nextSeq, 2, 'cut short: last returned seq + 1');
  const zero = await ws.result('process/read', { processId: id, afterSeq: 1, maxBytes: 0 });
  assert.deepEqual(zero.chunks.map((c: any) => c.seq), [2]);
  const eight = await ws.result('process/read', { processId: id, maxBytes: 8 });
  assert.deepEqual(eight.chunks.map((c: any) => c.seq), [1, 2]);
  assert.equal(eight.nextSeq, 3);
  const end = await ws.result('process/read', { processId: id, afterSeq: 3 });
  assert.deepEqual(end.chunks, []);
  assert.equal(end.nextSeq, 6);
  const closedWait = await ws.result('process/read', { processId: id, afterSeq: 5, waitMs: 60_000 });
  assert.deepEqual(closedWait.chunks, [], 'a closed process answers a long poll at once');

  for (const [bad, re] of [[{ afterSeq: -1 }, /afterSeq/], [{ afterSeq: '1' }, /afterSeq/], [{ maxBytes: 1.5 }, /maxBytes/], [{ waitMs: -5 }, /waitMs/]] as const) {
    const r = await ws.call('process/read', { processId: id, ...bad });
    assert.equal(r.error?.code, -32602, JSON.stringify(r));
    assert.match(r.error.message, re);
  }
  const missing = await ws.call('process/read', {});
  assert.equal(missing.error?.code, -32602);
  assert.equal(missing.error.message, 'missing field `processId`');
  const unknown = await ws.call('process/read', { processId: 'nope' });
  assert.equal(unknown.error?.code, -32600);
  assert.equal(unknown.error.message, 'unknown process id nope');
});

test('process/read waitMs long-polls until output arrives, or the process exits', async () => {
  const id = fresh('poll');
  const pid = await start(startParams(id, ['sh', '-c', 'sleep 0.3; echo late; sleep 0.3']));
  const r = await ws.result('process/read', { processId: id, afterSeq: 0, waitMs: 60_000 });
  assert.deepEqual(r.chunks.map((c: any) => unb64(c.chunk)), ['late\n']);
  assert.equal(r.exited, false);
  const r2 = await ws.result('process/read', { processId: id, afterSeq: r.chunks[0].seq, waitMs: 60_000 });
  assert.deepEqual(r2.chunks, []);
  assert.equal(r2.exited, true, 'woken by the exit');
  await ws.waitClosedNotification(id);
  await assertGone(pid);
});

test('a long-poll read (waitMs 3000) does not block a concurrent process/start on the same connection', async () => {
  const conn = await RawWs.open(server.url, { token: server.token });
  await conn.handshake('poller');
  const idle = fresh('idle');
  const idlePid = await start(startParams(idle, ['sleep', '300']), conn);
  const order: Array<string | number> = [];
  conn.onMessage = (m) => {
    if (m.id === 'read' || m.id === 'start') order.push(m.id);
  };
  const readDone = conn.waitFor((m) => m.id === 'read', 'read response');
  const startDone = conn.waitFor((m) => m.id === 'start', 'start response');
  const second = fresh('second');
  conn.send({ id: 'read', method: 'process/read', params: { processId: idle, afterSeq: 0, waitMs: 3000 } });
  conn.send({ id: 'start', method: 'process/start', params: startParams(second, ['echo', 'hi']) });
  const started = await startDone;
  assert.ok(started.result, JSON.stringify(started));
  guard.trackGroup(started.result.pid);
  await readDone;
  assert.deepEqual(order, ['start', 'read'], 'the start response arrives before the long-poll read response');
  await conn.close();
  await assertGone(idlePid);
});

test('pipeStdin: writes reach stdin, closeStdin gives EOF', async () => {
  const id = fresh('cat');
  const pid = await start(startParams(id, ['sh', '-c', 'cat; echo EOF-seen'], { pipeStdin: true }));
  assert.deepEqual(await ws.result('process/write', { processId: id, chunk: b64('hello\n') }), { accepted: true, status: 'accepted' });
  await ws.waitOutput(id, 'hello\n');
  assert.deepEqual(await ws.result('process/write', { processId: id, chunk: b64(Buffer.from([0, 1, 2, 255])), writeId: 'w1' }), { accepted: true, status: 'accepted' });
  assert.deepEqual(await ws.result('process/closeStdin', { processId: id }), { closed: true });
  await ws.waitClosedNotification(id);
  const out = Buffer.concat(ws.notifications('process/output', id).map((m) => Buffer.from(m.params.chunk, 'base64')));
  assert.deepEqual(out, Buffer.concat([Buffer.from('hello\n'), Buffer.from([0, 1, 2, 255]), Buffer.from('EOF-seen\n')]));
  assert.equal(ws.notifications('process/exited', id)[0].params.exitCode, 0);
  assert.deepEqual(await ws.result('process/closeStdin', { processId: id }), { closed: false });
  await assertGone(pid);
});

test('write statuses: with writeId a status (unknownProcess, stdinClosed), without writeId an error', async () => {
  assert.deepEqual(await ws.result('process/write', { processId: 'ghost', chunk: b64('x'), writeId: '1' }), { accepted: false, status: 'unknownProcess' });
  const unknown = await ws.call('process/write', { processId: 'ghost', chunk: b64('x') });
  assert.equal(unknown.error?.code, -32600);
  assert.match(unknown.error.message, /unknown process id ghost/);

  // A pipe process without pipeStdin never accepts input.
  const noStdin = fresh('nostdin');
  const pid = await start(startParams(noStdin, ['sleep', '300']));
  assert.deepEqual(await ws.result('process/write', { processId: noStdin, chunk: b64('x'), writeId: '1' }), { accepted: false, status: 'stdinClosed' });
  const err = await ws.call('process/write', { processId: noStdin, chunk: b64('x') });
  assert.equal(err.error?.code, -32600);
  assert.match(err.error.message, /does not accept input/);

  // pipeStdin after closeStdin, and after exit.
  const closedIn = fresh('closedin');
  await start(startParams(closedIn, ['sh', '-c', 'cat >/dev/null; sleep 0.2'], { pipeStdin: true }));
  await ws.result('process/closeStdin', { processId: closedIn });
  assert.equal((await ws.result('process/write', { processId: closedIn, chunk: b64('x'), writeId: '1' })).status, 'stdinClosed');
  assert.equal((await ws.call('process/write', { processId: closedIn, chunk: b64('x') })).error?.code, -32600);
  await ws.waitClosedNotification(closedIn);
  assert.equal((await ws.result('process/write', { processId: closedIn, chunk: b64('x'), writeId: '2' })).status, 'stdinClosed');
  const afterExit = await ws.call('process/write', { processId: closedIn, chunk: b64('x') });
  assert.match(afterExit.error.message, /exited/);

  // Bad params.
  const bad = await ws.call('process/write', { processId: noStdin, chunk: 'not base64!' });
  assert.equal(bad.error?.code, -32602);
  assert.match(bad.error.message, /chunk/);
  assert.equal((await ws.call('process/write', { processId: noStdin })).error?.message, 'missing field `chunk`');

  assert.deepEqual(await ws.result('process/terminate', { processId: noStdin }), { running: true });
  await assertGone(pid);
});

test('writeId de-duplication: the same writeId twice writes once', async () => {
  const id = fresh('dedup');
  const pid = await start(startParams(id, ['cat'], { pipeStdin: true }));
  for (const [chunk, writeId] of [['a\n', 'w-1'], ['a\n', 'w-1'], ['b\n', 'w-2'], ['a\n', 'w-1'], ['c\n', 'w-3']]) {
    assert.deepEqual(await ws.result('process/write', { processId: id, chunk: b64(chunk), writeId }), { accepted: true, status: 'accepted' });
  }
  await ws.result('process/closeStdin', { processId: id });
  await ws.waitClosedNotification(id);
  assert.equal(ws.output(id), 'a\nb\nc\n');
  await assertGone(pid);
});

for (const [signal, sig] of [['interrupt', 'SIGINT'], ['terminate', 'SIGTERM'], ['kill', 'SIGKILL'], ['hangup', 'SIGHUP']] as const) {
  test(`process/signal ${signal} reaches the whole process group (exit ${128 + SIGNUM[sig]})`, async () => {
    const id = fresh(`sig-${signal}`);
    // bash waits on a foreground grandchild: a pid-only signal would leave `sleep` running.
    const pid = await start(startParams(id, ['bash', '-c', 'sleep 300; echo not-reached']));
    let grandchild = 0;
    await waitUntil(() => (grandchild = childrenOf(pid)[0] ?? 0) !== 0, 'the grandchild sleep');
    guard.track(grandchild);
    assert.deepEqual(await ws.result('process/signal', { processId: id, signal }), { delivered: true });
    await ws.waitClosedNotification(id);
    const exited = ws.notifications('process/exited', id)[0].params;
    assert.equal(exited.exitCode, 128 + SIGNUM[sig]);
    assert.equal(ws.output(id), '');
    await assertGone(grandchild);
    await assertGone(pid);
  });
}

test('process/signal: unknown process → delivered false; unknown signal → -32602', async () => {
  assert.deepEqual(await ws.result('process/signal', { processId: 'ghost', signal: 'interrupt' }), { delivered: false });
  const bad = await ws.call('process/signal', { processId: 'ghost', signal: 'SIGUSR1' });
  assert.equal(bad.error?.code, -32602);
  assert.match(bad.error.message, /unknown variant `SIGUSR1`/);
});

test('process/signal interrupt to a PTY process group', async () => {
  const id = fresh('sig-pty');
  const pid = await start(startParams(id, ['bash', '-c', 'echo ready; sleep 300; echo not-reached'], { tty: true }));
  await ws.waitOutput(id, 'ready');
  let grandchild = 0;
  await waitUntil(() => (grandchild = childrenOf(pid)[0] ?? 0) !== 0, 'the grandchild sleep');
  guard.track(grandchild);
  assert.deepEqual(await ws.result('process/signal', { processId: id, signal: 'interrupt' }), { delivered: true });
  await ws.waitClosedNotification(id);
  assert.equal(ws.output(id).includes('not-reached'), false);
  await assertGone(grandchild);
  await assertGone(pid);
});

test('process/resize changes `stty size` in a PTY', async () => {
  const id = fresh('resize');
  const pid = await start(startParams(id, ['sh', '-c', 'stty size; read x; stty size; read y'], { tty: true, cols: 80, rows: 24 }));
  await ws.waitOutput(id, '24 80');
  assert.deepEqual(await ws.result('process/resize', { processId: id, cols: 100, rows: 40 }), {});
  await ws.result('process/write', { processId: id, chunk: b64('\n') });
  await ws.waitOutput(id, '40 100');
  const zero = await ws.call('process/resize', { processId: id, cols: 0, rows: 10 });
  assert.equal(zero.error?.code, -32602);
  assert.equal((await ws.call('process/resize', { processId: id, cols: 10 })).error?.message, 'missing field `rows`');
  await ws.result('process/write', { processId: id, chunk: b64('\n') });
  await ws.waitClosedNotification(id);
  await assertGone(pid);

  const pipe = fresh('resize-pipe');
  const pipePid = await start(startParams(pipe, ['sleep', '300']));
  const notPty = await ws.call('process/resize', { processId: pipe, cols: 100, rows: 40 });
  assert.ok(notPty.error, 'resize of a pipe process is an error');
  assert.match(notPty.error.message, /PTY/);
  const unknown = await ws.call('process/resize', { processId: 'ghost', cols: 100, rows: 40 });
  assert.equal(unknown.error?.code, -32600);
  await ws.result('process/terminate', { processId: pipe });
  await assertGone(pipePid);
});

test("terminate = SIGTERM then SIGKILL after the grace, for a `trap '' TERM` process (exit 137)", async () => {
  const id = fresh('trap');
  const pid = await start(startParams(id, ['bash', '-c', "trap '' TERM; echo ready; while :; do sleep 0.1; done"]));
  await ws.waitOutput(id, 'ready');
  assert.deepEqual(await ws.result('process/terminate', { processId: id }), { running: true });
  await ws.waitClosedNotification(id);
  const exited = ws.notifications('process/exited', id)[0].params;
  assert.equal(exited.exitCode, 137);
  assert.equal(exited.signal, 'SIGKILL');
  await assertGone(pid);
  assert.deepEqual(await ws.result('process/terminate', { processId: id }), { running: false });
  assert.deepEqual(await ws.result('process/terminate', { processId: 'ghost' }), { running: false });
});

for (const tty of [false, true]) {
  test(`a background grandchild in the process group dies on terminate (tty=${tty})`, async () => {
    const id = fresh('grandchild');
    const pid = await start(startParams(id, ['bash', '-c', 'sleep 300 & echo gc=$!; wait'], { tty }));
    await waitUntil(() => /gc=\d+\s/.test(ws.output(id)), 'grandchild pid');
    const gc = Number(/gc=(\d+)/.exec(ws.output(id))![1]);
    guard.track(gc);
    assert.ok(isAlive(gc));
    assert.deepEqual(groupMembers(pid).sort(), [pid, gc].sort());
    assert.deepEqual(await ws.result('process/terminate', { processId: id }), { running: true });
    await ws.waitClosedNotification(id);
    await assertGone(gc);
    await assertGone(pid);
  });
}

test('a grandchild holding stdout after the parent exits: late output is delivered, then closed', async () => {
  const id = fresh('late');
  const pid = await start(startParams(id, ['bash', '-c', '(sleep 0.5; echo late) & echo early']));
  await ws.waitClosedNotification(id);
  const ev = events(id);
  const kinds = ev.map((m) => (m.method === 'process/output' ? unb64(m.params.chunk).trim() : m.method));
  assert.deepEqual(kinds, ['early', 'process/exited', 'late', 'process/closed']);
  assert.deepEqual(ev.map((m) => m.params.seq), [1, 2, 3, 4]);
  assert.equal(ev[1].params.exitCode, 0);
  const read = await ws.result('process/read', { processId: id });
  assert.deepEqual(read.chunks.map((c: any) => unb64(c.chunk)), ['early\n', 'late\n']);
  await assertGone(pid);
});

test('a grandchild holding stdout forever: closed still comes (bounded wait), terminate then kills it', async () => {
  const id = fresh('holder');
  const pid = await start(startParams(id, ['bash', '-c', 'sleep 300 & echo gc=$!']));
  await ws.waitClosedNotification(id);
  const gc = Number(/gc=(\d+)/.exec(ws.output(id))![1]);
  guard.track(gc);
  assert.ok(isAlive(gc), 'the grandchild outlives the closed stream');
  assert.equal(ws.notifications('process/exited', id)[0].params.exitCode, 0);
  await ws.result('process/terminate', { processId: id });
  await assertGone(gc);
  await assertGone(pid);
});

test('exit codes: normal, 128+signal for a signalled pipe process, PTY exit code', async () => {
  const cases: Array<[string[], boolean, number]> = [
    [['sh', '-c', 'exit 0'], false, 0],
    [['sh', '-c', 'exit 42'], false, 42],
    [['sh', '-c', 'kill -TERM $$'], false, 128 + SIGNUM.SIGTERM],
    [['sh', '-c', 'kill -KILL $$'], false, 128 + SIGNUM.SIGKILL],
    [['sh', '-c', 'kill -INT $$'], false, 128 + SIGNUM.SIGINT],
    [['sh', '-c', 'exit 7'], true, 7],
  ];
  for (const [argv, tty, code] of cases) {
    const id = fresh('exit');
    await start(startParams(id, argv, { tty }));
    await ws.waitClosedNotification(id);
    assert.equal(ws.notifications('process/exited', id)[0].params.exitCode, code, `${argv.join(' ')} tty=${tty}`);
    assert.equal((await ws.result('process/read', { processId: id })).exitCode, code);
  }
});

test('process/list shows this session\'s processes', async () => {
  const id = fresh('listed');
  const pid = await start(startParams(id, ['sleep', '300']));
  const list = await ws.result('process/list', {});
  const me = list.processes.find((p: any) => p.processId === id);
  assert.equal(me.pid, pid);
  assert.equal(me.state, 'running');
  await ws.result('process/terminate', { processId: id });
  await assertGone(pid);
});
