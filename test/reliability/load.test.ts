/**
 * Load: 100 WebSocket connections × 10 processes each, all streaming numbered lines at once.
 * Every byte of every process arrives, in order (checked by content against what the
 * program prints), `seq` only grows, every process reaches `closed`, no pid survives, the
 * server's file descriptors return to their baseline and its RSS stays bounded.
 * Sizes come from the environment for the soak script (LOAD_CONNS, LOAD_PROCS, LOAD_LINES).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { startWsCli } from '../helpers/cli';
import { ProcessGuard, isAlive, rssBytes, waitUntil } from '../helpers/procs';
import { RawWs, startParams, type Json } from '../helpers/rawWs';

const guard = new ProcessGuard();
const CONNS = Number(process.env.LOAD_CONNS ?? 100);
const PROCS = Number(process.env.LOAD_PROCS ?? 10);
const LINES = Number(process.env.LOAD_LINES ?? 4000);
const MiB = 1024 * 1024;

const fdCount = (pid: number) => fs.readdirSync(`/proc/${pid}/fd`).length;

/** What process `tag` prints: LINES numbered lines (awk, so the test knows every byte). */
function program(tag: string): string[] {
  return ['awk', `BEGIN { for (i = 1; i <= ${LINES}; i++) printf "%s line %06d abcdefghijklmnopqrstuvwxyz0123456789\\n", "${tag}", i }`];
}
function expected(tag: string): string {
  let s = '';
  for (let i = 1; i <= LINES; i++) s += `${tag} line ${String(i).padStart(6, '0')} abcdefghijklmnopqrstuvwxyz0123456789\n`;
  return s;
}

interface Stream {
  chunks: Buffer[];
  lastSeq: number;
  closed: boolean;
  pid?: number;
}

test(`load: ${CONNS} connections × ${PROCS} processes streaming concurrently: nothing lost, nothing reordered, nothing leaked`, async (t) => {
  const server = await startWsCli(guard);
  const fd0 = fdCount(server.pid);
  const rss0 = rssBytes(server.pid);
  let rssMax = rss0;
  const sampler = setInterval(() => {
    try {
      rssMax = Math.max(rssMax, rssBytes(server.pid));
    } catch {
      /* exited: the test fails below */
    }
  }, 100);
  sampler.unref(); // a failing run must not be kept alive by it (clearInterval is skipped then)

  const conns: RawWs[] = [];
  const streams = new Map<string, Stream>();
  let outOfOrder = '';
  for (let c = 0; c < CONNS; c++) {
    const raw = await RawWs.open(server.url, { token: server.token, keep: false });
    raw.onMessage = (m: Json) => {
      if (m.method === 'process/output' || m.method === 'process/exited' || m.method === 'process/closed') {
        const s = streams.get(`${c}/${m.params.processId}`);
        if (!s) return;
        if (m.params.seq <= s.lastSeq) outOfOrder ||= `${c}/${m.params.processId}: seq ${m.params.seq} after ${s.lastSeq}`;
        s.lastSeq = m.params.seq;
        if (m.method === 'process/output') s.chunks.push(Buffer.from(m.params.chunk, 'base64'));
        if (m.method === 'process/closed') s.closed = true;
      }
    };
    await raw.handshake(`load-${c}`);
    conns.push(raw);
  }
  // Start everything at once.
  const starts: Promise<void>[] = [];
  for (let c = 0; c < CONNS; c++) {
    for (let p = 0; p < PROCS; p++) {
      const id = `p${p}`;
      const s: Stream = { chunks: [], lastSeq: 0, closed: false };
      streams.set(`${c}/${id}`, s);
      starts.push(
        conns[c]!.result('process/start', startParams(id, program(`c${c}p${p}`))).then((r) => {
          s.pid = r.pid;
          guard.trackGroup(r.pid);
        }),
      );
    }
  }
  await Promise.all(starts);
  await waitUntil(() => [...streams.values()].every((s) => s.closed), 'every process to be closed', 120_000);
  clearInterval(sampler);

  let bytes = 0;
  let lost = 0;
  for (const [key, s] of streams) {
    const [c, id] = key.split('/');
    const got = Buffer.concat(s.chunks).toString();
    const want = expected(`c${c}${id}`);
    bytes += got.length;
    if (got !== want) {
      lost += Math.abs(want.length - got.length) || 1;
      assert.fail(`${key}: output differs (got ${got.length} bytes, want ${want.length}); first difference at ${[...want].findIndex((ch, i) => got[i] !== ch)}`);
    }
  }
  assert.equal(outOfOrder, '', outOfOrder);
  for (const raw of conns) await raw.close();
  const pids = [...streams.values()].map((s) => s.pid!);
  await waitUntil(() => pids.every((p) => !isAlive(p)), 'every managed pid to be gone');
  await waitUntil(() => fdCount(server.pid) <= fd0 + 2, `the server's fds to return to ${fd0} (now ${fdCount(server.pid)})`, 20_000);
  const rss1 = rssBytes(server.pid);
  const figures = {
    connections: CONNS,
    processes: CONNS * PROCS,
    linesPerProcess: LINES,
    bytesChecked: bytes,
    bytesLost: lost,
    orphans: pids.filter(isAlive).length,
    serverFds: { before: fd0, after: fdCount(server.pid) },
    rssMiB: { before: +(rss0 / MiB).toFixed(1), peak: +(rssMax / MiB).toFixed(1), after: +(rss1 / MiB).toFixed(1) },
  };
  t.diagnostic(`FIGURES ${JSON.stringify(figures)}`);
  assert.equal(lost, 0);
  assert.ok(rssMax < rss0 + 512 * MiB, `server RSS peaked at ${rssMax}`);
  assert.ok(isAlive(server.pid));
  const exit = await server.stop();
  assert.equal(exit.code, 143);
});
