#!/usr/bin/env node
// The exec server benchmark suite: `npm run bench` (a few minutes) or `npm run bench -- --quick`
// (about a minute). Each workload runs against this server (dist/cli.js), against Node doing the
// same work directly (the baseline, in this process) and, when the binary is available, against
// `codex exec-server` 0.169 — all in the same run, so the ratios are comparable even on a noisy
// machine. Prints a table (figures, ratios, targets, pass/miss, wall and server CPU time) and
// writes the full results as JSON to .bench-results/. Loopback only; bounded counts and times;
// every server it starts is stopped by PID.
//
// Options:
//   --quick                 smaller workloads, one repetition (~1 minute)
//   --with-codex[=PATH]     compare with codex (installs it via scripts/install-codex.sh if needed)
//   --no-codex              skip codex even if its cache is present (default: use the cache if present)
//   --only=a,b              run only some workloads: pipe,pty,rtt,spawn,many,stall
//   --cpu-prof              run our server under `node --cpu-prof` (profiles in .bench-results/profiles/)
//   --reps=N                repetitions of the throughput and spawn workloads (best is reported)
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, freemem, totalmem } from 'node:os';
import { join } from 'node:path';
import { findCodex, ROOT, startServer } from './lib/servers.mjs';
import * as W from './lib/workloads.mjs';

// ---------- options ----------

const args = process.argv.slice(2);
const flag = (name) => args.find((a) => a === `--${name}` || a.startsWith(`--${name}=`));
const flagValue = (name) => flag(name)?.split('=').slice(1).join('=');
for (const a of args) {
  if (!/^--(quick|with-codex|no-codex|only|cpu-prof|reps)(=.*)?$/.test(a)) {
    console.error(`bench: unknown option ${a}\n(see the header of bench/run.mjs)`);
    process.exit(2);
  }
}
const quick = !!flag('quick');
const only = flagValue('only')?.split(',');
const wants = (w) => !only || only.includes(w);
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const resultsDir = join(ROOT, '.bench-results');
const cpuProf = flag('cpu-prof') ? join(resultsDir, 'profiles', stamp) : undefined;

const MiB = 1024 * 1024;
/** What `head -c N /dev/zero | base64` prints through a PTY: 76-column lines, each ending in \r\n. */
const ptyBytes = (n) => {
  const b64 = 4 * Math.ceil(n / 3);
  return b64 + 2 * Math.ceil(b64 / 76);
};
const CFG = quick
  ? {
      reps: 1,
      pipe: { size: '128M', sizeBytes: 128 * MiB },
      pty: { inputBytes: '24M', expectedBytes: ptyBytes(24 * MiB) },
      rtt: { iterations: 400, warmup: 20, budgetMs: 2500 },
      spawnSeq: { count: 100, concurrency: 1, budgetMs: 2500 },
      spawnPar: { count: 200, concurrency: 16, budgetMs: 2500 },
      many: { connections: 50, processes: 4, lines: 200 },
      stall: { processes: 20, size: '20M', sizeBytes: 20 * MiB, stallMs: 2000 },
    }
  : {
      reps: 3,
      pipe: { size: '256M', sizeBytes: 256 * MiB },
      pty: { inputBytes: '48M', expectedBytes: ptyBytes(48 * MiB) },
      rtt: { iterations: 2000, warmup: 50, budgetMs: 6000 },
      spawnSeq: { count: 300, concurrency: 1, budgetMs: 6000 },
      spawnPar: { count: 600, concurrency: 16, budgetMs: 6000 },
      many: { connections: 50, processes: 4, lines: 200 },
      stall: { processes: 20, size: '50M', sizeBytes: 50 * MiB, stallMs: 3000 },
    };
if (flagValue('reps')) CFG.reps = Math.max(1, Math.min(10, Number(flagValue('reps')) || 1));
const TIMEOUT_MS = 60_000;

let codexBin = null;
try {
  codexBin = findCodex({ withCodex: flag('with-codex') ? flagValue('with-codex') ?? true : false, noCodex: !!flag('no-codex') });
} catch (err) {
  console.error(`bench: codex unavailable (${err.message.split('\n')[0]}); continuing without it`);
}
// `floor` is the cheapest Node + ws exec server (bench/lib/floorServer.mjs): what a server in
// this runtime cannot go below, measured with the same client. Only for the raw workloads.
/** @type {('ours' | 'baseline' | 'floor' | 'codex')[]} */
const targets = ['ours', 'baseline', 'floor', ...(codexBin ? /** @type {const} */ (['codex']) : [])];
const FLOOR_WORKLOADS = new Set(['pipe', 'pty', 'rtt:pty', 'rtt:pipe']);

// ---------- running ----------

const log = (s) => process.stderr.write(`${s}\n`);
/** Per section, per target: each rep's result (or its error). @type {Record<string, Record<string, object[]>>} */
const results = {};

/** Runs `reps` rounds of [baseline, ours, codex], each server started once for the section. */
async function section(name, reps, run) {
  if (!wants(name.split(':')[0])) return;
  log(`— ${name}`);
  /** @type {Record<string, object[]>} */
  const out = (results[name] = { ours: [], baseline: [], floor: [], codex: [] });
  const kinds = targets.filter((k) => k !== 'floor' || FLOOR_WORKLOADS.has(name));
  const servers = {};
  try {
    for (const kind of kinds) {
      if (kind === 'baseline') continue;
      servers[kind] = await startServer(kind, { codexBin, cpuProf });
    }
    for (let rep = 0; rep < reps; rep++) {
      for (const kind of kinds) {
        try {
          const r = await run(kind, servers[kind]);
          if (r === null) continue; // no baseline for this workload
          out[kind].push(r);
          log(`  ${kind.padEnd(8)} ${summary(r)}`);
        } catch (err) {
          out[kind].push({ error: err.message });
          log(`  ${kind.padEnd(8)} ERROR ${err.message}`);
        }
      }
    }
  } finally {
    await Promise.all(Object.values(servers).map((s) => s.stop()));
  }
}

function summary(r) {
  return Object.entries(r)
    .filter(([, v]) => typeof v === 'number')
    .map(([k, v]) => `${k}=${Number.isInteger(v) ? v : v.toFixed(1)}`)
    .join(' ');
}

const mbps = (r) => r.bytes / 1e6 / (r.wallMs / 1000);

await section('pipe', CFG.reps, async (kind, s) => {
  const r = kind === 'baseline' ? await W.pipeThroughputDirect(CFG.pipe, TIMEOUT_MS) : await W.pipeThroughputServer(s, CFG.pipe, TIMEOUT_MS);
  return { ...r, mbps: mbps(r), lost: CFG.pipe.sizeBytes - r.bytes };
});
await section('pty', CFG.reps, async (kind, s) => {
  const r = kind === 'baseline' ? await W.ptyThroughputDirect(CFG.pty, TIMEOUT_MS) : await W.ptyThroughputServer(s, CFG.pty, TIMEOUT_MS);
  return { ...r, mbps: mbps(r), lost: CFG.pty.expectedBytes - r.bytes };
});
await section('rtt:pty', 1, async (kind, s) =>
  kind === 'baseline' ? W.rttDirectPty(CFG.rtt, 5000) : W.rttServer(s, { ...CFG.rtt, tty: true }, 5000),
);
await section('rtt:pipe', 1, async (kind, s) =>
  kind === 'baseline' ? W.rttDirectPipe(CFG.rtt, 5000) : W.rttServer(s, { ...CFG.rtt, tty: false }, 5000),
);
await section('spawn:seq', CFG.reps, async (kind, s) =>
  kind === 'baseline' ? W.spawnRateDirect(CFG.spawnSeq, 10_000) : W.spawnRateServer(s, CFG.spawnSeq, 10_000),
);
await section('spawn:par', CFG.reps, async (kind, s) =>
  kind === 'baseline' ? W.spawnRateDirect(CFG.spawnPar, 10_000) : W.spawnRateServer(s, CFG.spawnPar, 10_000),
);
await section('many', 1, async (kind, s) => (kind === 'baseline' ? null : W.manyConnectionsServer(s, CFG.many, TIMEOUT_MS)));
await section('stall', 1, async (kind, s) => (kind === 'baseline' ? null : W.stalledClientServer(s, CFG.stall, TIMEOUT_MS)));

// ---------- table ----------

/** The best repetition (by `key`, higher or lower is better), ignoring failed ones. */
function best(list, key, higher = true) {
  const ok = (list ?? []).filter((r) => r && !r.error && Number.isFinite(r[key]));
  if (ok.length === 0) return undefined;
  return ok.reduce((a, b) => ((higher ? b[key] > a[key] : b[key] < a[key]) ? b : a));
}
const fmt = (v, digits = 0) => (v === undefined || v === null || Number.isNaN(v) ? '–' : v.toFixed(digits));
const ratio = (a, b) => (a !== undefined && b !== undefined && b !== 0 ? a / b : undefined);
const cost = (r) => (r && !r.error ? `${fmt(r.wallMs / 1000, 2)} s / ${fmt(r.cpuMs / 1000, 2)} s` : '–');
const verdict = (checks) => {
  const known = checks.filter((c) => c !== undefined);
  if (known.length === 0) return '–';
  return known.every(Boolean) ? 'pass' : 'MISS';
};

const rows = [];
function row(name, metric, pick, { unit = '', digits = 0, baselineName = 'Node', target, check, vsBaseline = true }) {
  const o = pick(results[name]?.ours);
  const b = vsBaseline ? pick(results[name]?.baseline) : undefined;
  const c = codexBin ? pick(results[name]?.codex) : undefined;
  const f = pick(results[name]?.floor);
  const fv = f?.[metric];
  const ov = o?.[metric];
  const bv = b?.[metric];
  const cv = c?.[metric];
  rows.push({
    workload: name,
    metric: `${metric}${unit ? ` (${unit})` : ''}`,
    ours: ov,
    baseline: bv,
    baselineName,
    oursVsBaseline: ratio(ov, bv),
    floor: fv,
    oursVsFloor: ratio(ov, fv),
    codex: cv,
    oursVsCodex: ratio(ov, cv),
    target,
    result: results[name] ? verdict(check(ov, bv, cv)) : 'not run',
    oursCost: cost(o),
    codexCost: cost(c),
    digits,
  });
}
const ge = (a, b, k) => (a === undefined || b === undefined ? (a === undefined ? false : undefined) : a >= k * b);
const le = (a, k) => (a === undefined ? false : a <= k);

row('pipe', 'mbps', (l) => best(l, 'mbps'), {
  unit: 'MB/s',
  baselineName: 'child_process',
  target: '≥0.35× Node, ≥1.5× codex',
  check: (o, b, c) => [ge(o, b, 0.35), ge(o, c, 1.5)],
});
row('pipe', 'lost', (l) => best(l, 'mbps'), { unit: 'bytes', target: '0', check: (o) => [o === 0], vsBaseline: false });
row('pty', 'mbps', (l) => best(l, 'mbps'), { unit: 'MB/s', baselineName: 'node-pty', target: '≥0.9× node-pty', check: (o, b) => [ge(o, b, 0.9)] });
// Worst repetition: node-pty drops a PTY's unread tail 200 ms after the child is reaped.
row('pty', 'lost', (l) => best(l, 'lost', true), { unit: 'bytes, worst rep', baselineName: 'node-pty', target: 'info', check: () => [] });
for (const kind of ['pty', 'pipe']) {
  const name = `rtt:${kind}`;
  const base = kind === 'pty' ? 'node-pty' : 'pipe';
  row(name, 'p50', (l) => best(l, 'p50', false), { unit: 'µs', baselineName: base, target: '≤300 µs', check: (o) => [le(o, 300)] });
  row(name, 'p90', (l) => best(l, 'p90', false), { unit: 'µs', baselineName: base, target: '', check: () => [] });
  row(name, 'p99', (l) => best(l, 'p99', false), { unit: 'µs', baselineName: base, target: '≤2000 µs', check: (o) => [le(o, 2000)] });
}
row('spawn:seq', 'perSec', (l) => best(l, 'perSec'), { unit: '/s', baselineName: 'spawn', target: '≥0.6× Node', check: (o, b) => [ge(o, b, 0.6)] });
row('spawn:par', 'perSec', (l) => best(l, 'perSec'), { unit: '/s', baselineName: 'spawn', target: '≥0.8× Node', check: (o, b) => [ge(o, b, 0.8)] });
row('many', 'wallMs', (l) => best(l, 'wallMs', false), { unit: 'ms', target: 'faster than codex', check: (o, _b, c) => [c === undefined ? undefined : o <= c], vsBaseline: false });
row('many', 'lost', (l) => best(l, 'wallMs', false), { unit: 'lines', target: '0', check: (o) => [o === 0], vsBaseline: false });
row('stall', 'rssGrowthMB', (l) => l?.map((r) => (r && !r.error ? { ...r, rssGrowthMB: r.rssGrowthBytes / MiB } : r))[0], {
  unit: 'MB',
  target: '≤64 MB',
  check: (o) => [le(o, 64)],
  vsBaseline: false,
});
row('stall', 'lost', (l) => l?.[0], { unit: 'bytes', target: '0', check: (o) => [o === 0], vsBaseline: false });

const present = rows.filter((r) => r.result !== 'not run');
const header = ['workload', 'metric', 'ours', 'baseline', 'ours/base', 'floor', 'ours/floor', 'codex', 'ours/codex', 'target', 'result', 'ours wall / CPU', 'codex wall / CPU'];
const lines = [
  `| ${header.join(' | ')} |`,
  `|${header.map(() => '---').join('|')}|`,
  ...present.map((r) =>
    `| ${[
      r.workload,
      r.metric,
      fmt(r.ours, r.digits),
      r.baseline === undefined ? '–' : `${fmt(r.baseline, r.digits)} (${r.baselineName})`,
      r.oursVsBaseline === undefined ? '–' : `${fmt(r.oursVsBaseline, 2)}×`,
      fmt(r.floor, r.digits),
      r.oursVsFloor === undefined ? '–' : `${fmt(r.oursVsFloor, 2)}×`,
      codexBin ? fmt(r.codex, r.digits) : 'n/a',
      r.oursVsCodex === undefined ? '–' : `${fmt(r.oursVsCodex, 2)}×`,
      r.target || '–',
      r.result,
      r.oursCost,
      codexBin ? r.codexCost : 'n/a',
    ].join(' | ')} |`,
  ),
];
const cpuModel = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpus()[0]?.model ?? '?';
const machine = {
  nproc: cpus().length,
  cpuModel,
  memTotalGiB: +(totalmem() / 2 ** 30).toFixed(1),
  memFreeGiB: +(freemem() / 2 ** 30).toFixed(1),
  node: process.version,
  codex: codexBin ? execFileSync(codexBin, ['--version'], { encoding: 'utf8' }).trim() : null,
  loadavg: readFileSync('/proc/loadavg', 'utf8').trim(),
};
console.log(`\nexec-server benchmarks (${quick ? 'quick' : 'full'}, best of ${CFG.reps} for throughput and spawn) — ${machine.nproc} cores, ${machine.cpuModel}, node ${machine.node}${machine.codex ? `, ${machine.codex}` : ', codex not run'}`);
console.log('wall / CPU: wall time of the measured section and the server process\'s CPU time (utime+stime from /proc; for baselines this process\'s own CPU)\n');
console.log(lines.join('\n'));
const misses = present.filter((r) => r.result === 'MISS');
console.log(`\n${misses.length === 0 ? 'all targets met' : `targets missed: ${misses.map((r) => `${r.workload} ${r.metric}`).join(', ')}`}`);

mkdirSync(resultsDir, { recursive: true });
const file = join(resultsDir, `bench-${stamp}${quick ? '-quick' : ''}.json`);
writeFileSync(file, `${JSON.stringify({ date: new Date().toISOString(), quick, config: CFG, machine, codexBin, cpuProf, results, rows, table: lines.join('\n') }, null, 2)}\n`);
console.log(`results: ${file}${cpuProf ? `\nprofiles: ${cpuProf}` : ''}`);
