#!/usr/bin/env node
// Soak: one exec server (dist/cli.js) under continuous load for --minutes N (default 10):
// every round opens --conns connections × --procs processes streaming numbered lines (each
// byte checked in order), sends 2 000 hostile corpus messages (test/reliability/corpus.ts),
// closes everything, checks no pid survives, and samples the server's RSS and fds.
// Fails (exit 1) on any lost/reordered byte, wrong answer, orphan, or unbounded growth.
// Usage: npm run soak -- --minutes 30 [--conns 50] [--procs 10] [--lines 2000]
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const require = createRequire(import.meta.url);
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const MINUTES = arg('minutes', 10);
const CONNS = arg('conns', 50);
const PROCS = arg('procs', 10);
const LINES = arg('lines', 2000);

// The corpus and connection helpers are TypeScript test modules: compile them.
const tsc = spawnSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.test.json')], { stdio: 'inherit' });
if (tsc.status !== 0) process.exit(1);
const { generateCorpus, LIVE } = require(path.join(root, 'out/test/reliability/corpus.js'));
const { CaseRunner, newTally } = require(path.join(root, 'out/test/reliability/driver.js'));
const { WsConn, liveStart } = require(path.join(root, 'out/test/reliability/conns.js'));

// Every live process's status has a VmRSS line (kernel threads aside).
const rss = (pid) => Number(/** @type {RegExpExecArray} */ (/^VmRSS:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8')))[1]) * 1024;
const fds = (pid) => fs.readdirSync(`/proc/${pid}/fd`).length;
const alive = (pid) => {
  try {
    return !/^[ZX]$/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1][0]);
  } catch {
    return false;
  }
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const MiB = 1024 * 1024;

const token = randomBytes(16).toString('hex');
const tokenFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'soak-')), 'token');
fs.writeFileSync(tokenFile, token, { mode: 0o600 });
const server = spawn(process.execPath, [path.join(root, 'dist/cli.js'), '--listen', 'ws://127.0.0.1:0', '--token-file', tokenFile], { stdio: ['ignore', 'ignore', 'pipe'] });
let err = '';
const url = await new Promise((resolve, reject) => {
  server.stderr.on('data', (d) => {
    err += d;
    const m = /listening on (ws:\/\/\S+)/.exec(err);
    if (m) resolve(m[1]);
  });
  server.once('exit', () => reject(new Error(`server exited: ${err}`)));
});
let failed = '';
const stopServer = async () => {
  // It printed its address above, so it was spawned and has a pid.
  if (server.exitCode === null) process.kill(/** @type {number} */ (server.pid), 'SIGTERM');
  await /** @type {Promise<void>} */ (new Promise((r) => (server.exitCode !== null ? r() : server.once('exit', () => r()))));
};
process.on('SIGINT', () => void stopServer().then(() => process.exit(130)));

const line = (tag, i) => `${tag} ${String(i).padStart(7, '0')} soak-payload-0123456789\n`;
async function streamRound(round) {
  const conns = [];
  const pids = [];
  let bytes = 0;
  for (let c = 0; c < CONNS; c++) {
    const conn = await WsConn.open(url, token);
    await conn.handshake();
    conns.push(conn);
  }
  await Promise.all(
    conns.flatMap((conn, c) =>
      Array.from({ length: PROCS }, async (_, p) => {
        const tag = `r${round}c${c}p${p}`;
        const r = await conn.call(`s-${p}`, 'process/start', {
          processId: tag, argv: ['awk', `BEGIN { for (i = 1; i <= ${LINES}; i++) printf "%s %07d soak-payload-0123456789\\n", "${tag}", i }`],
          cwd: '/tmp', env: { PATH: process.env.PATH }, tty: false, arg0: null,
        });
        if (!r.result) throw new Error(`start failed: ${JSON.stringify(r)}`);
        pids.push(r.result.pid);
      }),
    ),
  );
  const deadline = Date.now() + 300_000;
  for (const [c, conn] of conns.entries()) {
    for (let p = 0; p < PROCS; p++) {
      const tag = `r${round}c${c}p${p}`;
      while (!conn.inbox.some((m) => m.method === 'process/closed' && m.params.processId === tag)) {
        if (Date.now() > deadline) throw new Error(`${tag} never closed`);
        await conn.wake();
      }
      const got = Buffer.concat(conn.inbox.filter((m) => m.method === 'process/output' && m.params.processId === tag).map((m) => Buffer.from(m.params.chunk, 'base64'))).toString();
      let want = '';
      for (let i = 1; i <= LINES; i++) want += line(tag, i);
      if (got !== want) throw new Error(`${tag}: output differs (${got.length} vs ${want.length} bytes)`);
      bytes += got.length;
    }
  }
  for (const conn of conns) await conn.close();
  for (let i = 0; i < 200 && pids.some(alive); i++) await sleep(50);
  const orphans = pids.filter(alive);
  if (orphans.length) throw new Error(`orphans after round ${round}: ${orphans.join(' ')}`);
  return bytes;
}

async function corpusRound(round) {
  const conn = await WsConn.open(url, token);
  await conn.handshake();
  const live = await conn.call('live', 'process/start', liveStart(LIVE));
  const runner = new CaseRunner(conn, newTally());
  const cases = generateCorpus(1000 + round, 2000).filter((c) => c.phase === 'post');
  for (const c of cases) await runner.run(c);
  await conn.close();
  for (let i = 0; i < 200 && alive(live.result.pid); i++) await sleep(50);
  if (alive(live.result.pid)) throw new Error('the live process survived its connection');
  return cases.length;
}

const t0 = Date.now();
const rss0 = rss(server.pid);
const fd0 = fds(server.pid);
// Finished processes stay readable for 80 s (exitedRetentionMs): RSS climbs for that long,
// then must plateau. Growth is judged on the samples after the first 1.5 minutes.
const samples = [];
const totals = { rounds: 0, processes: 0, bytes: 0, messages: 0 };
console.log(`soak: ${MINUTES} min against ${url}; ${CONNS}×${PROCS} processes × ${LINES} lines per round`);
console.log('round  minutes  processes  MiB-streamed  corpus-msgs  rss-MiB  fds');
try {
  while (Date.now() - t0 < MINUTES * 60_000) {
    const round = ++totals.rounds;
    totals.bytes += await streamRound(round);
    totals.processes += CONNS * PROCS;
    totals.messages += await corpusRound(round);
    if (server.exitCode !== null) throw new Error(`server exited: ${err}`);
    samples.push({ min: (Date.now() - t0) / 60_000, rss: rss(server.pid) });
    console.log(
      [round, ((Date.now() - t0) / 60_000).toFixed(1), totals.processes, (totals.bytes / MiB).toFixed(0), totals.messages, (rss(server.pid) / MiB).toFixed(0), fds(server.pid)].map(String).map((s) => s.padStart(6)).join('  '),
    );
  }
  const fdEnd = fds(server.pid);
  const rssEnd = rss(server.pid);
  if (fdEnd > fd0 + 4) throw new Error(`fd leak: ${fd0} → ${fdEnd}`);
  const steady = samples.filter((x) => x.min >= 1.5);
  if (steady.length >= 4) {
    const half = Math.floor(steady.length / 2);
    const first = Math.max(...steady.slice(0, half).map((x) => x.rss));
    const second = Math.max(...steady.slice(half).map((x) => x.rss));
    console.log(`steady-state RSS: first half max ${(first / MiB).toFixed(0)} MiB, second half max ${(second / MiB).toFixed(0)} MiB`);
    if (second > first * 1.25 + 32 * MiB) throw new Error(`RSS keeps growing after the retention window: ${first} → ${second}`);
  }
  console.log(`soak OK: ${JSON.stringify({ ...totals, bytesLost: 0, orphans: 0, rssMiB: { start: +(rss0 / MiB).toFixed(1), end: +(rssEnd / MiB).toFixed(1) }, fds: { start: fd0, end: fdEnd } })}`);
} catch (e) {
  failed = e.stack ?? String(e);
  console.error(`soak FAILED: ${failed}`);
}
await stopServer();
process.exit(failed ? 1 : 0);
