/**
 * Half-open connections: a peer that vanishes without a close frame (it stops reading and
 * answering, its socket stays open) must not hold its session and processes forever. The
 * server pings every --heartbeat-ms and cuts a connection that sent nothing since the
 * previous ping; the normal disconnect path then runs. Live clients that answer pings (the
 * `ws` library does it by itself) are never cut, however long they stay idle.
 */
import { before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { parseArgs } from '../../src/cli/args';
import { startWsCli, type CliServer } from '../helpers/cli';
import { assertGone, isAlive, ProcessGuard, sleep, waitUntil } from '../helpers/procs';
import { RawWs, startParams } from '../helpers/rawWs';
import { Opcode, RawTcpWs } from './rawTcpWs';

const guard = new ProcessGuard();
/** Short enough to keep the file quick, long enough that a loaded 2-core box still answers in time. */
const HEARTBEAT_MS = 400;
let server: CliServer;

before(async () => {
  server = await startWsCli(guard, { args: ['--heartbeat-ms', String(HEARTBEAT_MS)] });
});

/** A raw peer that completed the handshake and started a long sleep; resolves with its pid. */
async function peerWithSleep(extraInit: Record<string, unknown> = {}) {
  const peer = await RawTcpWs.connect(server.port, server.token!);
  guard.onCleanup(() => peer.destroy());
  const init = await peer.call('initialize', { clientName: 'vanishing', ...extraInit });
  assert.ok(init.result, JSON.stringify(init));
  peer.sendText(JSON.stringify({ method: 'initialized' }));
  const started = await peer.call('process/start', startParams('sleeper', ['sleep', '300']));
  assert.ok(started.result, JSON.stringify(started));
  return { peer, sessionId: init.result.sessionId as string, pid: guard.trackGroup(started.result.pid) };
}

test('a seed client that vanishes (no close, no pongs) is dropped and its process group killed; a live client keeps working', async () => {
  const healthy = await RawWs.open(server.url, { token: server.token });
  await healthy.handshake('healthy');
  const { peer, pid } = await peerWithSleep();
  assert.ok(isAlive(pid));

  peer.goSilent();
  const silentAt = Date.now();
  await assertGone(pid, 20_000);
  console.log(`# FIGURES ${JSON.stringify({ halfOpen: { heartbeatMs: HEARTBEAT_MS, silentToGroupGoneMs: Date.now() - silentAt } })}`);

  // The server really hung up on us: pings went unanswered, then the socket was cut (no close
  // frame: terminate, not a close handshake nobody would answer).
  peer.wakeUp();
  await waitUntil(() => peer.ended, 'the server to cut the silent connection');
  const afterSilence = peer.frames.filter((f) => f.afterSilence);
  assert.ok(afterSilence.some((f) => f.opcode === Opcode.ping), 'pings were sent to the silent peer');
  assert.equal(afterSilence.some((f) => f.opcode === Opcode.close), false);

  // The other client, idle all along (it answers pings by itself), is untouched.
  assert.equal(healthy.isOpen, true);
  await healthy.result('process/start', startParams('e', ['echo', 'still here']));
  await healthy.waitClosedNotification('e');
  assert.equal(healthy.output('e'), 'still here\n');
  await healthy.close();
});

test('a resumable client that vanishes is detached, not ended: its process keeps running and the session resumes', async () => {
  const { peer, sessionId, pid } = await peerWithSleep({ resumeSessionId: null });
  peer.goSilent();

  // While the dead connection still holds the session, a resume is refused with -32010;
  // once the heartbeat has cut it, the resume succeeds.
  let resumed: RawWs | undefined;
  await waitUntil(
    async () => {
      const c = await RawWs.open(server.url, { token: server.token });
      const r = await c.call('initialize', { clientName: 'vanishing', resumeSessionId: sessionId });
      if (r.result) {
        resumed = c;
        return true;
      }
      assert.equal(r.error.code, -32010, JSON.stringify(r));
      await c.close();
      return false;
    },
    'the silent connection to be dropped so the session can resume',
    20_000,
  );
  resumed!.notify('initialized');
  assert.ok(isAlive(pid), 'a detached resumable session keeps its processes');
  const list = await resumed!.result('process/list', {});
  assert.deepEqual(list.processes.map((p: { processId: string; state: string }) => [p.processId, p.state]), [['sleeper', 'running']]);
  assert.deepEqual(await resumed!.result('process/terminate', { processId: 'sleeper' }), { running: true });
  await assertGone(pid);
  await resumed!.close();
  peer.destroy();
});

test('a live client idle for many heartbeat periods is never dropped, nor is its running process', async () => {
  const idle = await RawWs.open(server.url, { token: server.token });
  await idle.handshake('idle');
  const started = await idle.result('process/start', startParams('s', ['sleep', '300']));
  const pid = guard.trackGroup(started.pid);
  let closedEarly = false;
  void idle.closed.then(() => (closedEarly = true));
  await sleep(HEARTBEAT_MS * 8);
  assert.equal(closedEarly, false);
  assert.ok(isAlive(pid));
  assert.equal((await idle.result('process/list', {})).processes[0].state, 'running');
  await idle.result('process/terminate', { processId: 's' });
  await assertGone(pid);
  await idle.close();
});

test('--heartbeat-ms parses as a non-negative integer (0 turns the heartbeat off)', () => {
  assert.equal(parseArgs(['--listen', 'ws://127.0.0.1:0', '--heartbeat-ms', '250']).heartbeatMs, 250);
  assert.equal(parseArgs(['--heartbeat-ms=0']).heartbeatMs, 0);
  assert.equal(parseArgs([]).heartbeatMs, undefined);
  assert.throws(() => parseArgs(['--heartbeat-ms', '-5']), /--heartbeat-ms takes a non-negative integer/);
  assert.throws(() => parseArgs(['--heartbeat-ms', '1s']), /non-negative integer/);
});
