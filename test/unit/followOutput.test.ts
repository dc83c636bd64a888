import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { ProcessModel, type OutputFollower, type ProcessEntry } from '../../src/extension/processModel';
import { processSnapshot } from './snapshots';

/**
 * ProcessModel.followOutput against a scripted observer: the test decides when the retained
 * output arrives and which live events come before, during and after it. The observer is typed
 * from attach()'s parameter, so this test does not depend on where the observer type lives.
 */
type Observer = Parameters<ProcessModel['attach']>[0];
type Listener = Parameters<Observer['subscribe']>[0];
type Snap = ProcessEntry['snap'];
type Chunk = Parameters<OutputFollower['chunk']>[0];
type Retained = { chunks: Chunk[]; truncated: boolean };

const KEY = 's1/p1';

function snap(over: Partial<Snap> = {}): Snap {
  return processSnapshot('s1', 'p1', { clientName: 'test', pid: 4242, argv: ['cmd'], startedAtMs: 1, metadata: {}, ...over });
}

const chunk = (seq: number): Chunk => ({ seq, stream: 'stdout', data: Buffer.from(`<${seq}>`) });

/** An observer whose retainedOutput() answers only when the test resolves it. */
function scripted() {
  let listener: Listener | undefined;
  const fetches: Array<{ resolve(r: Retained): void; reject(e: Error): void }> = [];
  const observer = {
    subscribe(l: Listener) {
      listener = l;
      return { dispose: () => (listener = undefined) };
    },
    snapshot: async () => ({ sessions: [{ id: 's1', clientName: 'test', connected: true, resumable: false, sinceMs: 1 }], processes: [snap()] }),
    retainedOutput: (_key: string) => new Promise<Retained>((resolve, reject) => fetches.push({ resolve, reject })),
    signal: async () => true,
    terminate: async () => true,
    write: async () => 'accepted',
    resize: async () => undefined,
  } as unknown as Observer;
  return {
    observer,
    fetches,
    live: (seq: number) => listener!.output!(KEY, chunk(seq)),
    changed: (over: Partial<Snap>) => listener!.processChanged!(snap(over)),
  };
}

/** A follower that writes down what it is told, in order. */
function recorder() {
  const log: string[] = [];
  const seqs: number[] = [];
  const ended: Array<ProcessEntry | undefined> = [];
  const f: OutputFollower = {
    truncated: () => log.push('truncated'),
    unavailable: (err) => log.push(`unavailable: ${err.message}`),
    chunk: (c) => {
      seqs.push(c.seq);
      log.push(`chunk ${c.seq}`);
    },
    replayed: () => log.push('replayed'),
    ended: (p) => {
      ended.push(p);
      log.push('ended');
    },
  };
  return { f, log, seqs, ended };
}

const settle = () => new Promise<void>((r) => setImmediate(r));
const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

async function attached() {
  const s = scripted();
  const model = new ProcessModel(100);
  await model.attach(s.observer);
  return { ...s, model };
}

describe('ProcessModel.followOutput', () => {
  it('at the replay/live boundary: no chunk twice, none missing, in seq order', async () => {
    const { model, fetches, live } = await attached();
    const r = recorder();
    const following = model.followOutput(KEY, r.f);
    assert.equal(fetches.length, 1, 'the retained output is fetched once, after subscribing');
    // While the fetch is in flight: 3 and 4 (also in the retained output) and 5 (not yet in it).
    live(3);
    live(4);
    live(5);
    assert.deepEqual(r.seqs, [], 'nothing is delivered before the replay');
    fetches[0].resolve({ chunks: [1, 2, 3, 4].map(chunk), truncated: false });
    await following.replayed;
    live(5); // a repeat (a repair overlapping live output) is dropped
    live(6);
    assert.deepEqual(r.seqs, range(1, 6));
    assert.deepEqual(r.log.slice(0, 6), ['chunk 1', 'chunk 2', 'chunk 3', 'chunk 4', 'chunk 5', 'replayed']);
    following.dispose();
  });

  it('a truncated replay says so first, and is delivered in seq order whatever order it came in', async () => {
    const { model, fetches } = await attached();
    const r = recorder();
    const following = model.followOutput(KEY, r.f);
    fetches[0].resolve({ chunks: [chunk(9), chunk(7), chunk(8)], truncated: true });
    await following.replayed;
    assert.deepEqual(r.log, ['truncated', 'chunk 7', 'chunk 8', 'chunk 9', 'replayed']);
    following.dispose();
  });

  it('a failed fetch is reported; live output that came meanwhile still follows', async () => {
    const { model, fetches, live } = await attached();
    const r = recorder();
    const following = model.followOutput(KEY, r.f);
    live(11);
    fetches[0].reject(new Error('gone'));
    await following.replayed;
    live(12);
    assert.deepEqual(r.log, ['unavailable: gone', 'chunk 11', 'replayed', 'chunk 12']);
    following.dispose();
  });

  it('an end during the replay waits for it; the end catches up on output the live stream missed', async () => {
    const { model, fetches, live, changed } = await attached();
    const r = recorder();
    const following = model.followOutput(KEY, r.f);
    live(2);
    changed({ state: 'closed', exitCode: 0, exitedAtMs: 2 });
    assert.deepEqual(r.log, [], 'the end does not overtake the replay');
    assert.equal(fetches.length, 1, 'nor does its catch-up start before the replay is in');
    fetches[0].resolve({ chunks: [chunk(1), chunk(2)], truncated: false });
    await following.replayed;
    assert.equal(fetches.length, 2, 'the end reads the retained output once more');
    // 3 never came live (dropped by a congested observer channel, or trailing `closed`).
    fetches[1].resolve({ chunks: [1, 2, 3].map(chunk), truncated: false });
    await settle();
    assert.deepEqual(r.log, ['chunk 1', 'chunk 2', 'replayed', 'chunk 3', 'ended']);
    assert.equal(r.ended[0]?.snap.exitCode, 0);
    live(4);
    changed({ state: 'closed', exitCode: 0, exitedAtMs: 2 });
    await settle();
    assert.deepEqual(r.log.slice(-2), ['chunk 3', 'ended'], 'nothing after the end, and it is told once');
  });

  it('an end while live: chunks, then the catch-up, then ended', async () => {
    const { model, fetches, live, changed } = await attached();
    const r = recorder();
    const following = model.followOutput(KEY, r.f);
    fetches[0].resolve({ chunks: [], truncated: false });
    await following.replayed;
    live(1);
    changed({ state: 'exited', exitCode: 3, exitedAtMs: 2 });
    live(2); // output may follow the exit (a grandchild holding the pipe): the end is `closed`
    assert.equal(fetches.length, 1);
    changed({ state: 'closed', exitCode: 3, exitedAtMs: 2 });
    fetches[1].resolve({ chunks: [1, 2].map(chunk), truncated: false });
    await settle();
    assert.deepEqual(r.log, ['replayed', 'chunk 1', 'chunk 2', 'ended']);
    assert.equal(r.ended[0]?.snap.exitCode, 3);
  });

  it('the server going away ends it at once, without a catch-up (nobody to ask)', async () => {
    const { model, fetches, live } = await attached();
    const r = recorder();
    const following = model.followOutput(KEY, r.f);
    fetches[0].resolve({ chunks: [chunk(1)], truncated: false });
    await following.replayed;
    live(2);
    model.detach();
    await settle();
    assert.equal(fetches.length, 1);
    assert.deepEqual(r.log, ['chunk 1', 'replayed', 'chunk 2', 'ended']);
    assert.equal(r.ended[0]?.lost, true);
  });

  it('a process nobody can read any more: replayed and ended, nothing fetched', async () => {
    const { model, fetches } = await attached();
    model.detach();
    const r = recorder();
    const following = model.followOutput(KEY, r.f);
    await following.replayed;
    await settle();
    assert.equal(fetches.length, 0);
    assert.deepEqual(r.log, ['replayed', 'ended']);
    const unknown = recorder();
    await model.followOutput('nobody/0', unknown.f).replayed;
    await settle();
    assert.deepEqual(unknown.log, ['replayed', 'ended']);
    assert.equal(unknown.ended[0], undefined);
  });

  it('dispose stops everything: no chunk, no replayed, no end after it', async () => {
    const { model, fetches, live, changed } = await attached();
    const r = recorder();
    const following = model.followOutput(KEY, r.f);
    live(1);
    following.dispose();
    fetches[0].resolve({ chunks: [chunk(1)], truncated: true });
    await following.replayed;
    live(2);
    changed({ state: 'closed', exitCode: 0, exitedAtMs: 2 });
    await settle();
    assert.deepEqual(r.log, []);
    assert.equal(fetches.length, 1);
  });

  it('two followers of one process each get the whole stream once', async () => {
    const { model, fetches, live } = await attached();
    const a = recorder();
    const b = recorder();
    const fa = model.followOutput(KEY, a.f);
    live(1);
    const fb = model.followOutput(KEY, b.f);
    live(2);
    fetches[1].resolve({ chunks: [1, 2].map(chunk), truncated: false });
    fetches[0].resolve({ chunks: [chunk(1)], truncated: false });
    await Promise.all([fa.replayed, fb.replayed]);
    live(3);
    assert.deepEqual(a.seqs, [1, 2, 3]);
    assert.deepEqual(b.seqs, [1, 2, 3]);
    fa.dispose();
    fb.dispose();
  });
});
