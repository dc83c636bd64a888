/**
 * The extension's copy of what the server runs (src/extension/processModel.ts), fed by a fake
 * observer: attach/snapshot ordering, detach (lost processes), statuses, output and end
 * watchers, the finished-process bound, local (terminal) processes.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { ProcessModel, isFinished, statusOf, type ProcessControl, type ProcessEntry } from '../../src/extension/processModel';
import type { AdminApi, AdminListener, ObservedChunk, ProcessSnapshot, SessionSnapshot } from '../../src/protocol/admin';
import { processSnapshot } from './snapshots';

const session = (id: string, o: Partial<SessionSnapshot> = {}): SessionSnapshot => ({ id, clientName: `client-${id}`, connected: true, resumable: false, sinceMs: 1, ...o });

const proc = processSnapshot;
const exited = (s: ProcessSnapshot, exitCode: number, at: number, o: Partial<ProcessSnapshot> = {}): ProcessSnapshot => ({ ...s, state: 'exited', exitCode, exitedAtMs: at, ...o });
const closed = (s: ProcessSnapshot, o: Partial<ProcessSnapshot> = {}): ProcessSnapshot => ({ ...s, state: 'closed', exitCode: s.exitCode ?? 0, exitedAtMs: s.exitedAtMs ?? 200, ...o });
const chunk = (seq: number, text: string): ObservedChunk => ({ seq, stream: 'stdout', data: Buffer.from(text) });

/** An observer whose snapshot resolves when the test says so, and whose events the test sends. */
class FakeObserver implements AdminApi {
  listener: AdminListener | undefined;
  disposed = false;
  private release!: () => void;
  private readonly gate: Promise<void>;
  constructor(
    private readonly state: { sessions: SessionSnapshot[]; processes: ProcessSnapshot[] } = { sessions: [], processes: [] },
    immediate = true,
  ) {
    this.gate = immediate ? Promise.resolve() : new Promise((r) => (this.release = r));
  }
  resolveSnapshot() {
    this.release();
  }
  async snapshot() {
    await this.gate;
    return this.state;
  }
  subscribe(l: AdminListener) {
    this.listener = l;
    return { dispose: () => void (this.disposed = true) };
  }
  retainedOutput = async () => ({ chunks: [], truncated: false });
  signal = async () => true;
  terminate = async () => true;
  terminateAll = async () => 0;
  write = async () => 'accepted' as const;
  resize = async () => undefined;
}

const localControl = (): ProcessControl => ({
  retainedOutput: async () => ({ chunks: [], truncated: false }),
  signal: async () => true,
  terminate: async () => true,
  write: async () => 'accepted',
  resize: async () => undefined,
});

async function attached(state?: { sessions: SessionSnapshot[]; processes: ProcessSnapshot[] }, maxFinished = 100) {
  const model = new ProcessModel(maxFinished);
  const obs = new FakeObserver(state);
  await model.attach(obs);
  let changes = 0;
  model.onDidChange(() => changes++);
  return { model, obs, changes: () => changes };
}

const entry = (snap: ProcessSnapshot, o: Partial<ProcessEntry> = {}): ProcessEntry => ({ snap, outputBytes: 0, pendingStop: null, lost: false, generation: 1, ...o });

describe('statusOf', () => {
  const running = proc('s', 'p');
  const cases: Array<[string, ProcessEntry, string]> = [
    ['running', entry(running), 'running'],
    ['running, terminate pending', entry(running, { pendingStop: 'terminate' }), 'stopping'],
    ['running, kill pending', entry(running, { pendingStop: 'kill' }), 'stopping'],
    ['running, interrupt sent (it may well go on)', entry(running, { pendingStop: 'interrupt' }), 'running'],
    ['exit 0', entry(exited(running, 0, 5)), 'succeeded'],
    ['exit 0 but by a signal', entry(exited(running, 0, 5, { signal: 'SIGTERM' })), 'failed'],
    ['exit 2', entry(exited(running, 2, 5)), 'failed'],
    ['no exit code', entry({ ...running, state: 'closed' }), 'failed'],
    ['stopped by a terminate request', entry(exited(running, 143, 5, { stopRequest: 'terminate' })), 'killed'],
    ['stopped after our own kill', entry(exited(running, 137, 5), { pendingStop: 'kill' }), 'killed'],
    ['ended after an interrupt', entry(exited(running, 130, 5, { stopRequest: 'interrupt' })), 'failed'],
    ['the server went away while it ran', entry(running, { lost: true }), 'lost'],
  ];
  for (const [what, e, status] of cases) {
    it(`${what} → ${status}`, () => assert.equal(statusOf(e), status));
  }

  it('isFinished: lost or no longer running', () => {
    assert.equal(isFinished(entry(running)), false);
    assert.equal(isFinished(entry(running, { lost: true })), true);
    assert.equal(isFinished(entry(exited(running, 0, 1))), true);
  });
});

describe('ProcessModel: attach', () => {
  it('takes the snapshot: sessions, processes, and the observer', async () => {
    const p = proc('s1', 'a', { outputBytes: 12 });
    const { model, obs } = await attached({ sessions: [session('s1')], processes: [p] });
    assert.equal(model.admin, obs);
    assert.deepEqual(model.listSessions().map((s) => [s.snap.id, s.ended]), [['s1', false]]);
    assert.deepEqual(model.listProcesses().map((e) => e.snap.key), ['s1/a']);
    assert.equal(model.getProcess('s1/a')!.outputBytes, 12);
    assert.deepEqual(model.processesOf('s1').map((e) => e.snap.key), ['s1/a']);
    assert.equal(model.getSession('s1')!.snap.clientName, 'client-s1');
    assert.equal(model.runningCount(), 1);
    assert.equal(model.controlOf(model.getProcess('s1/a')!), obs);
  });

  it('applies events that arrive while the snapshot is on its way after it, in order', async () => {
    const model = new ProcessModel(100);
    const p = proc('s1', 'a');
    const obs = new FakeObserver({ sessions: [session('s1')], processes: [p] }, false);
    let changes = 0;
    model.onDidChange(() => changes++);
    const done = model.attach(obs);
    obs.listener!.processChanged!(exited(p, 0, 300));
    obs.listener!.processChanged!(closed(exited(p, 0, 300)));
    obs.listener!.sessionChanged!(session('s2'));
    assert.equal(model.listProcesses().length, 0, 'nothing before the snapshot');
    assert.equal(changes, 0);
    obs.resolveSnapshot();
    await done;
    assert.equal(model.getProcess('s1/a')!.snap.state, 'closed', 'the later events win over the snapshot');
    assert.deepEqual(model.listSessions().map((s) => s.snap.id).sort(), ['s1', 's2']);
    assert.ok(changes >= 1);
  });

  it('a newer attach wins over an older one whose snapshot comes late; the old subscription is disposed', async () => {
    const model = new ProcessModel(100);
    const slow = new FakeObserver({ sessions: [session('old')], processes: [proc('old', 'x')] }, false);
    const first = model.attach(slow);
    const fast = new FakeObserver({ sessions: [session('new')], processes: [proc('new', 'y')] });
    await model.attach(fast);
    assert.equal(slow.disposed, true);
    slow.resolveSnapshot();
    await first;
    assert.equal(model.admin, fast);
    assert.deepEqual(model.listProcesses().map((e) => e.snap.key), ['new/y']);
  });

  it('shows a process of a session it never saw under an ended stub session', async () => {
    const { model } = await attached({ sessions: [], processes: [proc('gone', 'p', { clientName: 'codex', startedAtMs: 42 })] });
    const s = model.getSession('gone')!;
    assert.equal(s.ended, true);
    assert.deepEqual(s.snap, { id: 'gone', clientName: 'codex', connected: false, resumable: false, sinceMs: 42 });
  });
});

describe('ProcessModel: sessions', () => {
  it('a removed session is kept, disconnected, while it has processes; one without is dropped', async () => {
    const { model, obs, changes } = await attached({ sessions: [session('a'), session('b')], processes: [proc('a', 'p')] });
    obs.listener!.sessionRemoved!('a');
    obs.listener!.sessionRemoved!('b');
    obs.listener!.sessionRemoved!('unknown');
    assert.equal(model.getSession('a')!.ended, true);
    assert.equal(model.getSession('a')!.snap.connected, false);
    assert.equal(model.getSession('b'), undefined);
    assert.equal(changes(), 2, 'an unknown session changes nothing');
    // A session that comes back (resumed) is live again.
    obs.listener!.sessionChanged!(session('a'));
    assert.equal(model.getSession('a')!.ended, false);
  });

  it('clearing its finished processes drops an ended session', async () => {
    const p = proc('a', 'p');
    const { model, obs } = await attached({ sessions: [session('a')], processes: [p] });
    obs.listener!.sessionRemoved!('a');
    obs.listener!.processChanged!(closed(exited(p, 0, 5)));
    assert.equal(model.clearFinished(), 1);
    assert.equal(model.getSession('a'), undefined);
    assert.deepEqual(model.listProcesses(), []);
  });
});

describe('ProcessModel: output and end watchers', () => {
  it('a watcher gets the output of its process only, until disposed; outputBytes counts every chunk', async () => {
    const { model, obs } = await attached({ sessions: [session('s')], processes: [proc('s', 'a'), proc('s', 'b')] });
    const got: string[] = [];
    const w = model.watchOutput('s/a', (c) => got.push(c.data.toString()));
    obs.listener!.output!('s/a', chunk(1, 'one'));
    obs.listener!.output!('s/b', chunk(1, 'other'));
    obs.listener!.output!('s/a', chunk(2, 'two'));
    w.dispose();
    obs.listener!.output!('s/a', chunk(3, 'three'));
    assert.deepEqual(got, ['one', 'two']);
    assert.equal(model.getProcess('s/a')!.outputBytes, 'one'.length + 'two'.length + 'three'.length);
    w.dispose(); // twice is harmless
  });

  it('the end is `closed`, not `exited` (output may follow the exit), and fires once', async () => {
    const p = proc('s', 'a');
    const { model, obs } = await attached({ sessions: [session('s')], processes: [p] });
    const events: string[] = [];
    model.watchOutput('s/a', (c) => events.push(`out:${c.data}`), () => events.push('end'));
    obs.listener!.processChanged!(exited(p, 0, 5));
    obs.listener!.output!('s/a', chunk(1, 'late'));
    obs.listener!.processChanged!(closed(exited(p, 0, 5)));
    obs.listener!.processChanged!(closed(exited(p, 0, 5)));
    assert.deepEqual(events, ['out:late', 'end']);
  });

  it('several watchers of one process each get everything; disposing one leaves the others', async () => {
    const { model, obs } = await attached({ sessions: [session('s')], processes: [proc('s', 'a')] });
    const a: number[] = [];
    const b: number[] = [];
    const wa = model.watchOutput('s/a', (c) => a.push(c.seq));
    model.watchOutput('s/a', (c) => b.push(c.seq));
    obs.listener!.output!('s/a', chunk(1, 'x'));
    wa.dispose();
    obs.listener!.output!('s/a', chunk(2, 'y'));
    assert.deepEqual([a, b], [[1], [1, 2]]);
  });
});

describe('ProcessModel: detach (the server went away)', () => {
  it('marks running processes lost and ends their watchers; sessions end, disconnected', async () => {
    const run = proc('s', 'run');
    const done = closed(exited(proc('s', 'done'), 0, 5));
    const ex = exited(proc('s', 'ex'), 1, 6);
    const { model, obs, changes } = await attached({ sessions: [session('s')], processes: [run, done, ex] });
    const ended: string[] = [];
    for (const k of ['s/run', 's/done', 's/ex']) model.watchOutput(k, () => {}, () => ended.push(k));
    model.detach();
    assert.equal(obs.disposed, true);
    assert.equal(model.admin, undefined);
    assert.equal(statusOf(model.getProcess('s/run')!), 'lost');
    assert.equal(model.getProcess('s/ex')!.lost, false, 'an exited process keeps its exit');
    assert.deepEqual(ended.sort(), ['s/ex', 's/run'], 'closed ones had ended already');
    assert.equal(model.getSession('s')!.ended, true);
    assert.equal(model.getSession('s')!.snap.connected, false);
    assert.equal(model.runningCount(), 0);
    assert.equal(model.controlOf(model.getProcess('s/run')!), undefined);
    assert.equal(changes(), 1);
    model.detach(); // nothing attached: no-op
    assert.equal(changes(), 1);
  });

  it("after a re-attach, the old server's processes cannot be controlled through the new one", async () => {
    const { model } = await attached({ sessions: [session('s')], processes: [exited(proc('s', 'old'), 0, 5)] });
    const next = new FakeObserver({ sessions: [session('t')], processes: [proc('t', 'new')] });
    await model.attach(next);
    assert.equal(model.isLive(model.getProcess('s/old')!), false);
    assert.equal(model.controlOf(model.getProcess('s/old')!), undefined);
    assert.equal(model.controlOf(model.getProcess('t/new')!), next);
  });
});

describe('ProcessModel: stopping, clearing and the finished bound', () => {
  it('markStopping marks a running process only', async () => {
    const { model, obs, changes } = await attached({ sessions: [session('s')], processes: [proc('s', 'a'), exited(proc('s', 'b'), 0, 5)] });
    model.markStopping('s/a', 'terminate');
    model.markStopping('s/b', 'kill');
    model.markStopping('s/none', 'kill');
    assert.equal(statusOf(model.getProcess('s/a')!), 'stopping');
    assert.equal(model.getProcess('s/b')!.pendingStop, null);
    assert.equal(changes(), 1);
    obs.listener!.processChanged!(exited(proc('s', 'a'), 143, 9));
    assert.equal(statusOf(model.getProcess('s/a')!), 'killed', 'our own stop explains the exit');
  });

  it('keeps at most maxFinished finished processes, the most recently ended; running ones always', async () => {
    const { model, obs } = await attached({ sessions: [session('s')], processes: [proc('s', 'live')] }, 2);
    obs.listener!.processChanged!(closed(exited(proc('s', 'e30'), 0, 30)));
    obs.listener!.processChanged!(closed(exited(proc('s', 'e10'), 0, 10)));
    obs.listener!.processChanged!(closed(exited(proc('s', 'e20'), 0, 20)));
    assert.deepEqual(model.listProcesses().map((e) => e.snap.processId).sort(), ['e20', 'e30', 'live']);
    model.setMaxFinished(0);
    assert.deepEqual(model.listProcesses().map((e) => e.snap.processId), ['live']);
    assert.equal(model.clearFinished(), 0);
    assert.deepEqual(model.listProcesses().map((e) => e.snap.processId), ['live']);
  });

  it('an exited process whose output is still open is not dropped before its close: its follower is told it ended', async () => {
    const { model, obs } = await attached({ sessions: [session('s')], processes: [proc('s', 'flood')] }, 1);
    const events: string[] = [];
    model.followOutput(proc('s', 'flood').key, { chunk: () => undefined, ended: (p) => events.push(`ended:${p?.snap.state}`) });
    obs.listener!.processChanged!(exited(proc('s', 'flood'), 0, 10));
    obs.listener!.processChanged!(closed(exited(proc('s', 'newer'), 0, 20)));
    obs.listener!.processChanged!(closed(exited(proc('s', 'newest'), 0, 30)));
    // Over the bound, but the flood still streams: the closed ones go first.
    assert.deepEqual(model.listProcesses().map((e) => e.snap.processId).sort(), ['flood', 'newest']);
    obs.listener!.processChanged!(closed(exited(proc('s', 'flood'), 0, 10)));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(events, ['ended:closed']);
    assert.deepEqual(model.listProcesses().map((e) => e.snap.processId), ['newest']);
  });

  it('clearFinished removes finished and lost processes and says how many', async () => {
    const { model } = await attached({ sessions: [session('s')], processes: [proc('s', 'a'), exited(proc('s', 'b'), 0, 5), closed(exited(proc('s', 'c'), 1, 6))] });
    assert.equal(model.clearFinished(), 2);
    model.detach();
    assert.equal(model.clearFinished(), 1, 'the lost one');
    assert.deepEqual(model.listProcesses(), []);
  });
});

describe('ProcessModel: local processes (VS Code terminal commands)', () => {
  it('are controlled by their own source, unaffected by the server, and end like server processes', async () => {
    const { model } = await attached({ sessions: [session('s')], processes: [] });
    const control = localControl();
    const snap = proc('terminal', 't1', { clientName: 'VS Code terminal' });
    model.upsertLocal(snap, control);
    const e = model.getProcess(snap.key)!;
    assert.equal(e.local, control);
    assert.equal(model.controlOf(e), control);
    const events: string[] = [];
    model.watchOutput(snap.key, (c) => events.push(`out:${c.data}`), () => events.push('end'));
    model.localOutput(snap.key, chunk(1, 'hi'));
    model.localOutput('s/unknown', chunk(1, 'ignored'));
    model.detach();
    assert.equal(e.lost, false);
    assert.equal(model.controlOf(e), control, 'still controllable without a server');
    model.upsertLocal({ ...snap, outputBytes: 1 }, control);
    assert.equal(e.outputBytes, 2, 'never goes back below what was seen');
    model.upsertLocal(closed(exited(snap, 0, 7)), control);
    model.upsertLocal(closed(exited(snap, 0, 7)), control);
    assert.deepEqual(events, ['out:hi', 'end']);
    assert.equal(statusOf(model.getProcess(snap.key)!), 'succeeded');
  });

  it('count against maxFinished like the rest', async () => {
    const { model } = await attached(undefined, 1);
    model.upsertLocal(closed(exited(proc('t', 'a'), 0, 1)), localControl());
    model.upsertLocal(closed(exited(proc('t', 'b'), 0, 2)), localControl());
    assert.deepEqual(model.listProcesses().map((e) => e.snap.processId), ['b']);
  });
});
