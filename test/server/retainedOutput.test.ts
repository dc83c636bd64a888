/**
 * Retained output is bounded per process (server setting): the oldest chunks are evicted and
 * readers see it (`truncated: true`, a seq gap), while live notifications still carry every
 * byte. Uses an ExecServer built in-process with a small retainedOutputBytes.
 */
import { after, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { ExecClient, type OutputEvent } from '../../src/client/client';
import { ExecServer } from '../../src/server/execServer';
import { assertGone, ProcessGuard } from '../helpers/procs';

const guard = new ProcessGuard();
const server = new ExecServer({ retainedOutputBytes: 1000 });
guard.onCleanup(() => server.shutdown());
after(() => server.shutdown());

test('eviction beyond retainedOutputBytes is visible: truncated, seq gap; live output complete', async () => {
  const client = await ExecClient.connectInProcess(server);
  const live: OutputEvent[] = [];
  client.on('output', (e) => e.processId === 'many' && live.push(e));
  // 30 writes of 100 bytes, spaced so they arrive as separate chunks.
  const script = 'for i in $(seq 1 30); do printf "%099d\\n" $i; sleep 0.01; done';
  const s = await client.start({ processId: 'many', argv: ['bash', '-c', script], env: { PATH: process.env.PATH! } });
  guard.trackGroup(s.pid);
  await client.wait('many', 30_000);
  assert.equal(Buffer.concat(live.map((e) => e.data)).length, 3000, 'notifications carry every byte');
  assert.deepEqual(live.map((e) => e.seq), live.map((_, i) => i + 1));

  const r = await client.read('many', { afterSeq: 0 });
  assert.equal(r.truncated, true);
  assert.ok(r.chunks.length > 0);
  assert.ok(r.chunks[0].seq > 1, 'a gap: the first retained seq is past 1');
  const bytes = r.chunks.reduce((n, c) => n + Buffer.from(c.chunk, 'base64').length, 0);
  assert.ok(bytes <= 1000 || r.chunks.length === 1, `retained ${bytes} bytes`);
  r.chunks.forEach((c, i) => i > 0 && assert.equal(c.seq, r.chunks[i - 1].seq + 1));
  // The retained tail is the end of the output.
  const lastLive = live[live.length - 1];
  assert.equal(r.chunks[r.chunks.length - 1].seq, lastLive.seq);
  assert.equal(Buffer.from(r.chunks[r.chunks.length - 1].chunk, 'base64').toString(), lastLive.data.toString());
  // Reading from inside the retained window is not truncated.
  const inside = await client.read('many', { afterSeq: r.chunks[0].seq });
  assert.equal(inside.truncated, false);
  // Reading from before it is.
  assert.equal((await client.read('many', { afterSeq: r.chunks[0].seq - 2 })).truncated, true);
  assert.equal(r.nextSeq, lastLive.seq + 3, 'exited and closed follow the last output');
  await assertGone(s.pid);
  client.close();
});

test('a single chunk larger than the cap is kept (the newest chunk always is)', async () => {
  const client = await ExecClient.connectInProcess(server);
  const s = await client.start({ processId: 'big', argv: ['sh', '-c', 'head -c 5000 /dev/zero | tr "\\0" x'], env: { PATH: process.env.PATH! } });
  guard.trackGroup(s.pid);
  await client.wait('big', 30_000);
  const r = await client.read('big', { afterSeq: 0 });
  assert.ok(r.chunks.length >= 1);
  const last = Buffer.from(r.chunks[r.chunks.length - 1].chunk, 'base64');
  assert.ok(last.length > 0 && last.every((b) => b === 0x78));
  client.close();
});

test('closed processes share one output budget: the first to close give theirs up first', async () => {
  const small = new ExecServer({ retainedOutputBytes: 10_000, closedOutputBudgetBytes: 2_500 });
  guard.onCleanup(() => small.shutdown());
  const client = await ExecClient.connectInProcess(small);
  const live = new Map<string, number>();
  client.on('output', (e) => live.set(e.processId, (live.get(e.processId) ?? 0) + e.data.length));
  for (let i = 0; i < 5; i++) {
    const id = `p${i}`;
    const s = await client.start({ processId: id, argv: ['sh', '-c', 'head -c 1000 /dev/zero | tr "\\0" y'], env: { PATH: process.env.PATH! } });
    guard.trackGroup(s.pid);
    await client.wait(id, 30_000);
  }
  const retained: number[] = [];
  for (let i = 0; i < 5; i++) {
    assert.equal(live.get(`p${i}`), 1000, 'live notifications carried every byte');
    const r = await client.read(`p${i}`, { afterSeq: 0 });
    retained.push(r.chunks.reduce((n, c) => n + Buffer.from(c.chunk, 'base64').length, 0));
    assert.equal(r.truncated, retained[i] < 1000, `p${i}: truncated is reported exactly when output was given up`);
    assert.equal(r.exitCode, 0, 'the record itself (exit status) is kept');
  }
  assert.deepEqual(retained, [0, 0, 0, 1000, 1000], 'the three oldest gave up their output, the newest two kept all of it');
  assert.equal(small.closedOutput.retainedBytes, 2000);
  client.close();
  await small.shutdown();
});
