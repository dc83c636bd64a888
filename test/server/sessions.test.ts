/**
 * Sessions: upstream clients (resumeSessionId key present) survive a disconnect for the TTL
 * and resume; expiry kills their processes; -32010 for an attached session; unknown ids.
 */
import { before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { startWsCli, type CliServer } from '../helpers/cli';
import { assertGone, isAlive, ProcessGuard, sleep } from '../helpers/procs';
import { b64, RawWs, startParams, unb64 } from '../helpers/rawWs';

const guard = new ProcessGuard();
let server: CliServer;
let shortTtl: CliServer;

before(async () => {
  [server, shortTtl] = await Promise.all([startWsCli(guard), startWsCli(guard, { args: ['--session-ttl-ms', '500'] })]);
});

/** The stdout text of a read (bash sources ~/.bashrc when stdin is a socket: its noise goes to stderr). */
const stdout = (r: any) => r.chunks.filter((c: any) => c.stream === 'stdout').map((c: any) => unb64(c.chunk)).join('');
const open = (s = server) => RawWs.open(s.url, { token: s.token });

test('resume: an upstream client disconnects, its process keeps running, a new connection resumes with the same session, reads and controls it', async () => {
  const a = await open();
  const init = await a.handshake('upstream', { resumeSessionId: null });
  const sessionId = init.sessionId;
  const started = await a.result(
    'process/start',
    startParams('p1', ['bash', '-c', 'echo before; read go; echo during-$go; while read line; do echo "got:$line"; done'], { pipeStdin: true }),
  );
  const pid = guard.trackGroup(started.pid);
  await a.waitOutput('p1', 'before');
  const lastSeenSeq = Math.max(...a.notifications('process/output', 'p1').map((m) => m.params.seq));
  await a.terminate(); // abrupt TCP drop, no close handshake
  await sleep(300);
  assert.ok(isAlive(pid), 'the process keeps running while the session is detached');

  // B resumes: same session id; output produced while detached is readable.
  const b = await open();
  const resumed = await b.result('initialize', { clientName: 'upstream', resumeSessionId: sessionId });
  assert.equal(resumed.sessionId, sessionId);
  b.notify('initialized');
  // Write while attached to B: the process produces "during-x" and B reads it (and sees it live).
  assert.equal((await b.result('process/write', { processId: 'p1', chunk: b64('x\n'), writeId: '1' })).status, 'accepted');
  await b.waitOutput('p1', 'during-x');
  const r = await b.result('process/read', { processId: 'p1', afterSeq: 0 });
  assert.equal(stdout(r), 'before\nduring-x\n');
  const afterSeen = await b.result('process/read', { processId: 'p1', afterSeq: lastSeenSeq });
  assert.equal(stdout(afterSeen), 'during-x\n');
  assert.ok(afterSeen.chunks[0].seq > lastSeenSeq, 'seqs continue across the resume');
  assert.equal(r.exited, false);
  // The old processId stays reserved.
  assert.equal((await b.call('process/start', startParams('p1', ['true']))).error?.code, -32600);
  assert.deepEqual(await b.result('process/terminate', { processId: 'p1' }), { running: true });
  await b.waitClosedNotification('p1');
  await assertGone(pid);
  await b.close();
});

test('output produced while detached is read after the resume (nothing delivered live is lost)', async () => {
  const a = await open();
  const { sessionId } = await a.handshake('upstream', { resumeSessionId: null });
  const started = await a.result('process/start', startParams('ticker', ['bash', '-c', 'read; for i in 1 2 3; do echo tick$i; done; sleep 300'], { pipeStdin: true }));
  const pid = guard.trackGroup(started.pid);
  // Tell it to print, then leave at once: the ticks are produced while nobody is attached.
  await a.result('process/write', { processId: 'ticker', chunk: b64('\n'), writeId: '1' });
  await a.close();
  const b = await open();
  await b.handshake('upstream', { resumeSessionId: sessionId });
  let text = '';
  for (let after = 0, i = 0; i < 50 && !text.includes('tick3'); i++) {
    const r = await b.result('process/read', { processId: 'ticker', afterSeq: after, waitMs: 2000 });
    text += stdout(r);
    if (r.chunks.length) after = r.chunks[r.chunks.length - 1].seq;
  }
  assert.equal(text, 'tick1\ntick2\ntick3\n');
  await b.result('process/terminate', { processId: 'ticker' });
  await assertGone(pid);
  await b.close();
});

test('expiry: a detached session is ended after the TTL and its processes are killed', async () => {
  const a = await open(shortTtl);
  const { sessionId } = await a.handshake('upstream', { resumeSessionId: null });
  const p1 = guard.trackGroup((await a.result('process/start', startParams('s1', ['sleep', '300']))).pid);
  const p2 = guard.trackGroup((await a.result('process/start', startParams('s2', ['bash', '-c', "trap '' TERM; sleep 300"], { tty: true }))).pid);
  await a.close();
  await assertGone(p1);
  await assertGone(p2);
  const b = await open(shortTtl);
  const r = await b.call('initialize', { clientName: 'late', resumeSessionId: sessionId });
  assert.equal(r.error?.code, -32600);
  assert.match(r.error.message, /unknown session id/);
  await b.close();
});

test('-32010 when resuming a session attached elsewhere; that connection stays open and may initialize again', async () => {
  const a = await open();
  const { sessionId } = await a.handshake('upstream', { resumeSessionId: null });
  const b = await open();
  const r = await b.call('initialize', { clientName: 'thief', resumeSessionId: sessionId });
  assert.equal(r.error?.code, -32010);
  assert.equal(r.error.message, `session ${sessionId} is already attached to another connection`);
  assert.ok(b.isOpen);
  const again = await b.result('initialize', { clientName: 'fresh', resumeSessionId: null });
  assert.notEqual(again.sessionId, sessionId);
  await b.close();
  await a.close();
});

test('unknown session id → -32600; the client may retry initialize', async () => {
  const c = await open();
  const r = await c.call('initialize', { clientName: 'x', resumeSessionId: '00000000-0000-0000-0000-000000000000' });
  assert.equal(r.error?.code, -32600);
  assert.equal(r.error.message, 'unknown session id 00000000-0000-0000-0000-000000000000');
  const bad = await c.call('initialize', { clientName: 'x', resumeSessionId: 42 });
  assert.equal(bad.error?.code, -32602);
  const ok = await c.call('initialize', { clientName: 'x' });
  assert.equal(ok.result.protocolVersion, 'exec-server.v0');
  await c.close();
});

test('a seed client (no resumeSessionId key) cannot be resumed: its session ends with the connection', async () => {
  const a = await open();
  const { sessionId } = await a.handshake('seed');
  const pid = guard.trackGroup((await a.result('process/start', startParams('s', ['sleep', '300']))).pid);
  await a.close();
  await assertGone(pid);
  const b = await open();
  assert.equal((await b.call('initialize', { clientName: 'x', resumeSessionId: sessionId })).error?.code, -32600);
  await b.close();
});
