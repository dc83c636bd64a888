/**
 * The process registry on its own (no connection, no transport), with real processes: the
 * reservation of an id while its spawn is under way, retention and removal of closed records,
 * the closed-output budget, watchdog registration and removal (seen by a recording watchdog
 * script that gets the real `+PGID`/`-PGID` lines), ended sessions kept while they have
 * records, and shutdown.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RpcError } from '../../src/protocol/errors';
import type { ClientChannel } from '../../src/server/connection/clientChannel';
import { resolveConfig, type ServerConfig } from '../../src/server/config';
import type { GroupWatchdogOptions } from '../../src/server/process/groupWatchdog';
import { ManagedProcess } from '../../src/server/process/managedProcess';
import { groupAlive } from '../../src/server/process/processGroup';
import { keyOf, parseProcessKey, processKey } from '../../src/server/registry/processKey';
import { ProcessRegistry, type Reservation } from '../../src/server/registry/processRegistry';
import { ServerEvents, type ServerEventMap } from '../../src/server/registry/serverEvents';
import type { Session } from '../../src/server/registry/session';
import { isAlive, ProcessGuard, waitGone, waitGroupGone, waitUntil } from '../helpers/procs';

const guard = new ProcessGuard();
const EVENT_TIMEOUT_MS = 15_000;

/** Spawn `sh -c script` for a reservation (its events go where the registry says). */
async function spawnFor(r: Reservation, session: Session, processId: string, script: string, config = resolveConfig({ terminateGraceMs: 300 })): Promise<ManagedProcess> {
  const argv = ['/bin/sh', '-c', script];
  const p = await ManagedProcess.start({
    sessionId: session.id,
    processId,
    spec: { file: argv[0], argv, arg0: null, cwd: os.tmpdir(), env: { PATH: process.env.PATH! }, tty: false, pipeStdin: false, cols: 80, rows: 24 },
    config,
    events: r.events,
  });
  guard.trackGroup(p.pid);
  return p;
}

/** A registry of its own, shut down when the file ends (whatever the test left running). */
function setup(config: Partial<ServerConfig> = {}, watchdog: boolean | GroupWatchdogOptions = false) {
  const cfg = resolveConfig({ terminateGraceMs: 300, ...config });
  const events = new ServerEvents();
  const registry = new ProcessRegistry(cfg, events, watchdog);
  guard.onCleanup(() => registry.shutdown());

  /** What process/start does: reserve, spawn with the reservation's sink, add, release. */
  const start = async (session: Session, processId: string, script: string): Promise<ManagedProcess> => {
    const r = registry.reserve(session, processId);
    try {
      const p = await spawnFor(r, session, processId, script, cfg);
      r.add(p);
      return p;
    } finally {
      r.release();
    }
  };

  /** The next `name` event matching `pred` (subscribe BEFORE causing it); bounded. */
  const next = <K extends keyof ServerEventMap>(name: K, pred: (...a: ServerEventMap[K]) => boolean = () => true) =>
    new Promise<ServerEventMap[K]>((resolve, reject) => {
      const timer = setTimeout(() => {
        sub.dispose();
        reject(new Error(`no ${name} event within ${EVENT_TIMEOUT_MS} ms`));
      }, EVENT_TIMEOUT_MS);
      const sub = events.on(name, (...a: ServerEventMap[K]) => {
        if (!pred(...a)) return;
        clearTimeout(timer);
        sub.dispose();
        resolve(a);
      });
    });
  const closed = (processId: string) => next('processClosed', (p) => p.processId === processId);
  const removed = (processId: string) => next('processRemoved', (p) => p.processId === processId);
  return { events, registry, start, next, closed, removed };
}

/** A client connection that records what it is sent. */
function recordingChannel(): ClientChannel & { sent: Array<{ method: string; params: any }> } {
  const sent: Array<{ method: string; params: any }> = [];
  return { sent, congested: false, notify: (method, params) => void sent.push({ method, params }), onceDrained: (cb) => cb(), close: () => undefined };
}

const isInvalidRequest = (re: RegExp) => (e: unknown) => e instanceof RpcError && e.code === -32600 && re.test(e.message);

test('ProcessKey: one constructor, one parser; the first `/` separates session from process', () => {
  const k = processKey('3f0c-uuid', 'dir/with/slashes');
  assert.equal(k, '3f0c-uuid/dir/with/slashes');
  assert.deepEqual(parseProcessKey(k), { key: k, sessionId: '3f0c-uuid', processId: 'dir/with/slashes' });
  assert.equal(keyOf({ sessionId: '3f0c-uuid', processId: 'dir/with/slashes' }), k);
  assert.equal(parseProcessKey('no-slash'), undefined);
  assert.equal(parseProcessKey('/starts-with-slash'), undefined);
});

test('a reservation holds the id while the spawn is under way: a second start is refused, another session may use the id', async () => {
  const { registry, start, closed } = setup();
  const s = registry.openSession('test', false);
  const other = registry.openSession('other', false);
  s.attach(recordingChannel());
  other.attach(recordingChannel());
  const key = processKey(s.id, 'a');

  const r = registry.reserve(s, 'a');
  assert.equal(r.key, key);
  assert.equal(registry.isStarting(key), true);
  assert.throws(() => registry.reserve(s, 'a'), isInvalidRequest(/process a already exists/));
  assert.equal(registry.find(key), undefined, 'no record until the spawn is done');
  assert.deepEqual(registry.processesOf(s), []);
  // Keyed by (session, process): the same id in another session is another process.
  registry.reserve(other, 'a').release();

  // The spawn goes through the reservation.
  const p = await spawnFor(r, s, 'a', 'exec sleep 1000');
  r.add(p);
  r.release(); // what `finally` does: the record keeps the id
  assert.equal(registry.isStarting(key), false);
  assert.equal(registry.find(key), p);
  assert.equal(registry.sessionOf(key), s);
  assert.deepEqual(registry.processesOf(s), [p]);
  assert.deepEqual(registry.processesOf(other), []);
  assert.throws(() => registry.reserve(s, 'a'), isInvalidRequest(/already exists/), 'a running process keeps its id');
  assert.throws(() => r.add(p), /not open/, 'a reservation adds once');

  // A start that fails releases the id.
  const failed = registry.reserve(s, 'b');
  failed.release();
  assert.equal(registry.isStarting(processKey(s.id, 'b')), false);
  const again = await start(s, 'b', 'exit 0');
  assert.deepEqual(registry.processesOf(s), [p, again], 'in the order the ids were claimed');

  const done = closed('a');
  assert.equal(p.terminate(), true);
  await done;
  assert.equal(registry.find(key), p, 'a closed record is still there (retention)');
});

test('a closed record is kept for exitedRetentionMs, then removed and its id is free again', async () => {
  const { registry, start, closed, removed } = setup({ exitedRetentionMs: 300 });
  const s = registry.openSession('test', true);
  const ch = recordingChannel();
  s.attach(ch);
  const wasClosed = closed('p');
  const wasRemoved = removed('p');
  const p = await start(s, 'p', 'echo hi');
  await wasClosed;
  assert.equal(registry.find(keyOf(p)), p, 'readable after close');
  assert.throws(() => registry.reserve(s, 'p'), isInvalidRequest(/already exists/), 'the id stays reserved while the record is kept');
  // (output and exit may arrive in either order: two pipes and a wait status)
  assert.deepEqual(ch.sent.map((m) => m.method).sort(), ['process/closed', 'process/exited', 'process/output'], 'the attached client got the notifications');
  assert.equal(ch.sent[ch.sent.length - 1].method, 'process/closed');
  await wasRemoved;
  assert.equal(registry.find(keyOf(p)), undefined);
  assert.deepEqual(registry.processesOf(s), []);
  assert.equal(registry.sessionOf(keyOf(p)), undefined);
  const r = registry.reserve(s, 'p');
  r.release();
});

test('closed-output budget: the registry charges each close and refunds each removal', async () => {
  {
    const { registry, start, closed } = setup({ retainedOutputBytes: 10_000, closedOutputBudgetBytes: 1_500 });
    const s = registry.openSession('budget', true);
    s.attach(recordingChannel());
    const first = closed('p1');
    const p1 = await start(s, 'p1', 'head -c 1000 /dev/zero');
    await first;
    assert.equal(registry.closedOutput.retainedBytes, 1000);
    const second = closed('p2');
    const p2 = await start(s, 'p2', 'head -c 1000 /dev/zero');
    await second;
    assert.equal(registry.closedOutput.retainedBytes, 1000, 'over the budget: the first to close gave its output up');
    assert.equal(p1.output.retainedBytes, 0);
    assert.equal(p2.output.retainedBytes, 1000);
    assert.equal(registry.find(keyOf(p1)), p1, 'the record itself stays');
  }
  {
    const { registry, start, events, removed } = setup({ exitedRetentionMs: 300 });
    const s = registry.openSession('budget', true);
    s.attach(recordingChannel());
    // Observers are told after the registry acted: the charge is visible in the event.
    let chargedAtClose = -1;
    events.on('processClosed', () => (chargedAtClose = registry.closedOutput.retainedBytes));
    const gone = removed('p');
    const p = await start(s, 'p', 'head -c 1000 /dev/zero');
    await gone;
    assert.equal(chargedAtClose, 1000);
    assert.equal(registry.closedOutput.retainedBytes, 0, 'the removal refunded it');
    assert.equal(p.output.retainedBytes, 0, 'and released the output');
  }
});

test('watchdog: each started group is registered, and unregistered once gone (at close, or at removal when a grandchild outlived it)', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'registry-wd-'));
  guard.onCleanup(() => fs.rmSync(dir, { recursive: true, force: true }));
  const log = path.join(dir, 'lines');
  const script = path.join(dir, 'recorder.js');
  // Records what the server sends its watchdog; exits when the pipe closes (dispose).
  fs.writeFileSync(script, `const fs = require('fs'); fs.writeFileSync(${JSON.stringify(log)}, ''); process.stdin.on('data', (d) => fs.appendFileSync(${JSON.stringify(log)}, d));`);
  const { registry, start, closed, removed } = setup({ exitedRetentionMs: 2_000 }, { script });
  const lines = () => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8').split('\n').filter(Boolean) : []);
  const s = registry.openSession('wd', true);
  s.attach(recordingChannel());

  assert.equal(registry.watchdog?.pid, undefined, 'started with the first process');
  const sleeper = await start(s, 'sleeper', 'exec sleep 1000');
  const wdPid = registry.watchdog?.pid;
  assert.ok(wdPid);
  guard.track(wdPid);
  await waitUntil(() => lines().includes(`+${sleeper.pid}`), 'the first group registered');

  const quickClosed = closed('quick');
  const quick = await start(s, 'quick', 'exit 0');
  await quickClosed;
  await waitUntil(() => lines().includes(`-${quick.pid}`), 'a group gone at close is unregistered at close');

  // The leader exits at once; its grandchild (same group, pipes not held) lives on.
  const lingeringClosed = closed('lingering');
  const lingeringRemoved = removed('lingering');
  const lingering = await start(s, 'lingering', 'sleep 1000 >/dev/null 2>&1 &');
  await lingeringClosed;
  assert.equal(groupAlive(lingering.pid), true, 'the grandchild keeps the group alive after close');
  const marker = await start(s, 'marker', 'exec sleep 1000');
  process.kill(-lingering.pid, 'SIGKILL');
  await waitGroupGone(lingering.pid);
  await lingeringRemoved;
  await waitUntil(() => lines().includes(`-${lingering.pid}`), 'unregistered at removal');
  assert.deepEqual(lines(), [`+${sleeper.pid}`, `+${quick.pid}`, `-${quick.pid}`, `+${lingering.pid}`, `+${marker.pid}`, `-${lingering.pid}`]);

  await registry.shutdown();
  await waitGone(wdPid); // disposed: its pipe closed
  assert.equal(isAlive(sleeper.pid) || isAlive(marker.pid), false);
});

test('an ended session is kept while it has process records (or a start under way) and forgotten with the last one', async () => {
  const { registry, start, events, closed, removed } = setup({ exitedRetentionMs: 300 });
  const removedSessions: string[] = [];
  events.on('sessionRemoved', (s) => removedSessions.push(s.id));

  const empty = registry.openSession('empty', false);
  empty.attach(recordingChannel());
  empty.detach(); // a seed session ends with its connection
  assert.equal(empty.ended, true);
  assert.deepEqual(removedSessions, [empty.id]);
  assert.deepEqual(registry.listEndedSessions(), [], 'nothing to wind down: forgotten at once');

  const s = registry.openSession('busy', false);
  s.attach(recordingChannel());
  const p = await start(s, 'long', 'exec sleep 1000');
  const wasClosed = closed('long');
  const wasRemoved = removed('long');
  s.detach();
  assert.deepEqual(removedSessions, [empty.id, s.id]);
  assert.equal(registry.findSession(s.id), undefined, 'an ended session cannot be resumed');
  assert.deepEqual(registry.listSessions(), []);
  assert.deepEqual(registry.listEndedSessions(), [s], 'kept while its process winds down');
  assert.equal(registry.sessionOf(keyOf(p)), s);
  assert.throws(() => registry.reserve(s, 'new'), isInvalidRequest(/has ended/), 'no new process in an ended session');
  await wasClosed;
  assert.equal(p.stopRequest, 'terminate', 'ending the session terminated its process');
  assert.deepEqual(registry.list(), [p]);
  await wasRemoved;
  assert.deepEqual(registry.listEndedSessions(), [], 'forgotten with its last record');
  assert.deepEqual(registry.list(), []);

  // The client leaves while its process is spawning: the process is terminated as it is added.
  const leaving = registry.openSession('leaving', false);
  leaving.attach(recordingChannel());
  const r = registry.reserve(leaving, 'late');
  leaving.detach();
  assert.deepEqual(registry.listEndedSessions(), [leaving], 'the start under way keeps it');
  const lateClosed = closed('late');
  const lateRemoved = removed('late');
  const late = await spawnFor(r, leaving, 'late', 'exec sleep 1000');
  r.add(late);
  r.release();
  assert.equal(late.stopRequest, 'terminate');
  await lateClosed;
  await lateRemoved;
  assert.deepEqual(registry.listEndedSessions(), []);
});

test('shutdown ends every session, waits for every group (SIGKILL after the grace), forgets everything and stops the watchdog', async () => {
  const { registry, start, events } = setup({ terminateGraceMs: 300 }, true);
  const removedSessions: string[] = [];
  events.on('sessionRemoved', (s) => removedSessions.push(s.id));
  const attached = registry.openSession('attached', true);
  attached.attach(recordingChannel());
  const detached = registry.openSession('detached', true);
  detached.attach(recordingChannel());
  const a = await start(attached, 'a', 'exec sleep 1000');
  // Ignores SIGTERM: only the SIGKILL after the grace ends it.
  const stubborn = await start(detached, 'stubborn', "trap '' TERM; echo ready; while :; do sleep 1; done");
  await waitUntil(() => stubborn.output.all().some((c) => c.data.toString().includes('ready')), 'the trap is set');
  detached.detach();
  assert.equal(detached.ended, false, 'resumable: detached, not ended');
  const wdPid = registry.watchdog?.pid;
  assert.ok(wdPid);
  guard.track(wdPid);

  await registry.shutdown();
  assert.equal(groupAlive(a.pid), false);
  assert.equal(groupAlive(stubborn.pid), false, 'killed after the grace');
  assert.deepEqual(removedSessions.sort(), [attached.id, detached.id].sort());
  assert.deepEqual(registry.listSessions(), []);
  assert.deepEqual(registry.listEndedSessions(), []);
  assert.deepEqual(registry.list(), []);
  await waitGone(wdPid);
});
