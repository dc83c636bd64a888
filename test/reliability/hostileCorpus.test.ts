/**
 * Hostile input over WebSocket and stdio: a seeded corpus of ≥10 000 malformed messages
 * (corpus.ts). Each gets the right JSON-RPC error, or — for the documented cases — the
 * connection is closed with the documented code and the driver reconnects. Meanwhile a
 * healthy client keeps running `echo` and checking the output; the server never exits; its
 * RSS after a second identical pass stays within a bound of the first (no per-message leak).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startWsCli, spawnStdioCli } from '../helpers/cli';
import { ProcessGuard, isAlive, rssBytes, sleep, waitUntil } from '../helpers/procs';
import { RawWs, startParams } from '../helpers/rawWs';
import { generateCloseCases, generateCorpus, LIVE, type Case } from './corpus';
import { CaseRunner, frameHead, newTally, type Tally } from './driver';
import { liveStart, StdioConn, WsConn } from './conns';

const guard = new ProcessGuard();
const MAX_FRAME = 8 * 1024 * 1024;
const SEED = 0x5eed_0006;
const MiB = 1024 * 1024;

/** A healthy client running `echo` in a loop and checking every output; stop() reports how many ran. */
function healthyLoop(raw: RawWs) {
  let stop = false;
  let runs = 0;
  let failure: Error | undefined;
  const done = (async () => {
    for (let i = 0; !stop; i++) {
      const id = `healthy-${i}`;
      const r = await raw.call('process/start', startParams(id, ['echo', `healthy output ${i}`]));
      if (r.error) throw new Error(`healthy start failed: ${JSON.stringify(r.error)}`);
      guard.trackGroup(r.result.pid);
      await raw.waitClosedNotification(id, 30_000);
      const out = raw.output(id);
      if (out !== `healthy output ${i}\n`) throw new Error(`healthy client got ${JSON.stringify(out)}`);
      runs++;
      // Keep the client's own memory flat: forget this process's messages.
      raw.messages.splice(0, raw.messages.length);
      raw.texts.splice(0, raw.texts.length);
      // Pace it: finished records are kept (exitedRetentionMs, 80 s) and would dominate RSS.
      await sleep(25);
    }
  })().catch((e: Error) => {
    failure = e;
  });
  return {
    get runs() {
      return runs;
    },
    get failure() {
      return failure;
    },
    async progressed(what: string) {
      const from = runs;
      await waitUntil(() => runs > from || failure !== undefined, `the healthy client to make progress (${what})`, 60_000);
      if (failure) throw failure;
    },
    async stop() {
      stop = true;
      await done;
      if (failure) throw failure;
      return runs;
    },
  };
}

async function runCloseCase(url: string, token: string | null, c: Case, tally: Tally): Promise<void> {
  const conn = await WsConn.open(url, token);
  if (c.phase === 'post') await conn.handshake();
  conn.sendCase(c);
  let timer: NodeJS.Timeout | undefined;
  const closed = await Promise.race([
    conn.closed,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`case ${c.label} (${frameHead(c)}): the connection was not closed (${conn.inbox.length} answers)`)), 20_000);
    }),
  ]).finally(() => clearTimeout(timer));
  if (c.expect.kind !== 'close') throw new Error('not a close case');
  assert.equal(closed.code, c.expect.code, `case ${c.label} (${frameHead(c)}): closed with ${closed.code} ${closed.reason}`);
  tally.sent++;
  tally.closes[String(closed.code)] = (tally.closes[String(closed.code)] ?? 0) + 1;
}

test('hostile corpus over WebSocket: every message answered or closed as documented; healthy client unaffected; RSS bounded', async (t) => {
  const server = await startWsCli(guard, { args: ['--max-frame-bytes', String(MAX_FRAME)] });
  const healthyConn = await RawWs.open(server.url, { token: server.token });
  await healthyConn.handshake('healthy');
  const healthy = healthyLoop(healthyConn);
  await healthy.progressed('warm-up');

  const corpus = generateCorpus(SEED, 10_500);
  const pre = corpus.filter((c) => c.phase === 'pre');
  const post = corpus.filter((c) => c.phase === 'post');
  const closeCases = generateCloseCases(SEED, { maxFrameBytes: MAX_FRAME });
  const tally = newTally();

  const pass = async (n: number) => {
    // Before the handshake.
    const c0 = await WsConn.open(server.url, server.token);
    const r0 = new CaseRunner(c0, tally);
    for (const c of pre) await r0.run(c);
    await c0.close();
    // After it, with a live process for the methods that need one.
    const c1 = await WsConn.open(server.url, server.token);
    await c1.handshake();
    const live = await c1.call('live', 'process/start', liveStart(LIVE));
    assert.ok(live.result, JSON.stringify(live));
    guard.trackGroup(live.result.pid);
    const r1 = new CaseRunner(c1, tally);
    let i = 0;
    for (const c of post) {
      await r1.run(c);
      if (++i % 2500 === 0) await healthy.progressed(`pass ${n}, ${i} post-handshake cases`);
    }
    assert.ok(c1.isOpen, 'the corpus connection is still open');
    await c1.close();
    // The live process ends with its (non-resumable) session.
    await waitUntil(() => !isAlive(live.result.pid), 'the live process to end with its connection');
    // Documented closes, each on its own connection.
    for (const c of closeCases) await runCloseCase(server.url, server.token, c, tally);
    await healthy.progressed(`pass ${n} done`);
    assert.ok(isAlive(server.pid), 'the server is still running');
  };

  const rss0 = rssBytes(server.pid);
  await pass(1);
  await sleep(500);
  const rss1 = rssBytes(server.pid);
  await pass(2);
  await sleep(500);
  const rss2 = rssBytes(server.pid);
  const healthyRuns = await healthy.stop();
  await healthyConn.close();

  const figures = {
    transport: 'websocket',
    messagesTried: tally.sent,
    corpusSize: corpus.length + closeCases.length,
    answeredWithError: tally.answered,
    byCode: tally.byCode,
    closes: tally.closes,
    healthyEchoRuns: healthyRuns,
    rssMiB: { baseline: +(rss0 / MiB).toFixed(1), afterPass1: +(rss1 / MiB).toFixed(1), afterPass2: +(rss2 / MiB).toFixed(1) },
  };
  t.diagnostic(`FIGURES ${JSON.stringify(figures)}`);
  assert.ok(tally.sent >= 20_000, `sent ${tally.sent}`);
  // No per-message leak: a second identical pass must not keep growing the heap.
  assert.ok(rss2 <= rss1 + 48 * MiB, `RSS grew from ${rss1} to ${rss2} over the second pass`);
  assert.ok(rss2 <= rss0 + 160 * MiB, `RSS ${rss2} too far above the baseline ${rss0}`);
  assert.ok(isAlive(server.pid));
  const exit = await server.stop();
  assert.equal(exit.code, 143, `server exit ${JSON.stringify(exit)}; stderr: ${server.stderr().slice(-2000)}`);
});

test('hostile corpus over stdio: answered line by line; oversized lines rejected; documented closes end the stream', async (t) => {
  const MAX_LINE = 4 * 1024 * 1024;
  const { proc, stop } = spawnStdioCli(guard, ['--max-frame-bytes', String(MAX_LINE)]);
  const conn = new StdioConn(proc);
  const tally = newTally();
  const corpus = generateCorpus(SEED + 1, 4_000, { forStdio: true }).filter((c) => typeof c.frame === 'string');
  const runner = new CaseRunner(conn, tally);
  for (const c of corpus.filter((x) => x.phase === 'pre')) await runner.run(c);
  await conn.handshake();
  const live = await conn.call('live', 'process/start', liveStart(LIVE));
  assert.ok(live.result, JSON.stringify(live));
  guard.trackGroup(live.result.pid);
  runner.skipToEnd();
  const rss0 = rssBytes(proc.pid!);
  for (const c of corpus.filter((x) => x.phase === 'post')) await runner.run(c);
  // Lines that are not UTF-8, and lines above the limit (error, id null; the stream goes on).
  const extra: Case[] = [
    { frame: Buffer.from([0xff, 0xfe, 0x7b, 0x7d]), expect: { kind: 'error', code: -32700, id: null }, phase: 'post', label: 'non-utf8 line' },
    { frame: Buffer.from([0x7b, 0x22, 0x69, 0x64, 0x22, 0x3a, 0xc3]), expect: { kind: 'error', code: -32700, id: null }, phase: 'post', label: 'cut utf-8 line' },
    { frame: 'q'.repeat(MAX_LINE + 1), expect: { kind: 'error', code: -32600, id: null }, phase: 'post', label: 'oversized line +1' },
    { frame: `{"id":1,"method":"x","params":"${'p'.repeat(MAX_LINE * 2)}"}`, expect: { kind: 'error', code: -32600, id: null }, phase: 'post', label: 'oversized line x2' },
  ];
  for (const c of extra) await runner.run(c);
  const rss1 = rssBytes(proc.pid!);
  const list = await conn.call('after', 'process/list', {});
  assert.equal(list.result.processes.length, 1, 'only the live process exists: no corpus message started one');
  assert.ok(isAlive(proc.pid!));
  await stop();
  await waitUntil(() => !isAlive(live.result.pid), 'the live process to end with the stdio server');

  // Documented closes: the server ends the stream (and, as a stdio server, exits 0).
  const closeCases = generateCloseCases(SEED, { maxFrameBytes: MAX_LINE, forStdio: true }).filter((_, i) => i % 4 === 0);
  for (const c of closeCases) {
    const s = spawnStdioCli(guard, []);
    const sc = new StdioConn(s.proc);
    if (c.phase === 'post') await sc.handshake();
    sc.sendCase(c);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      sc.ended,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`stdio case ${c.label}: the stream was not ended`)), 20_000);
      }),
    ]).finally(() => clearTimeout(timer));
    const code = await new Promise<number | null>((resolve) => (s.proc.exitCode !== null ? resolve(s.proc.exitCode) : s.proc.once('exit', (cd) => resolve(cd))));
    assert.equal(code, 0, `case ${c.label}`);
    tally.sent++;
    tally.closes['stream-end'] = (tally.closes['stream-end'] ?? 0) + 1;
  }
  t.diagnostic(
    `FIGURES ${JSON.stringify({ transport: 'stdio', messagesTried: tally.sent, byCode: tally.byCode, closes: tally.closes, rssMiB: { afterHandshake: +(rss0 / MiB).toFixed(1), afterCorpus: +(rss1 / MiB).toFixed(1) } })}`,
  );
  assert.ok(tally.sent >= 4_000);
  assert.ok(rss1 <= rss0 + 160 * MiB, `stdio server RSS ${rss1} vs ${rss0}`);
});
