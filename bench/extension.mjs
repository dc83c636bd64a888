#!/usr/bin/env node
// The extension benchmark: `npm run bench:extension` (builds first; about 3 minutes).
// Launches the real VS Code (code-server 4.100.3, the harness in test/vscode/runner) several times
// in each host mode (inProcess, child), alternately with the extension and with a baseline fixture
// extension (bench/vscode/fixture), and measures, all in this one run:
//   - activation: activate() → server listening → discovery file written (the extension's own
//     figures, test API) and VS Code's own "Activation" figure (load code + call activate, read
//     from its Running Extensions editor), against the fixture, which activates the same way
//     (onStartupFinished) and only listens on a loopback port (in the extension host, or in a
//     child process of VS Code's runtime in child mode) and writes a 0600 file. Each is launched
//     in its own VS Code: two extensions activating in one extension host delay each other;
//   - the bundle: dist/extension.js and the minified production build (node-pty excluded);
//   - load, once per mode: 500 processes (start → listed in the tree, listing cost, tree
//     refreshes vs model events, Terminate All) against spawning them directly, and a process
//     printing 100 MiB (3 times with its output channel closed, 3 times open), against the same
//     sampling while idle.
// The in-host half is bench/vscode/probe.ts. Prints a table (figure, baseline, ratio, target,
// pass/MISS) and writes JSON to .bench-results/extension-<time>.json. Loopback only; every wait
// bounded; everything started is stopped by PID (the harness's stop()).
//
//   node bench/extension.mjs [--reps=N] [--quick] [--no-load]
//     --reps=N    launches per host mode and subject (1..10, default 3; medians reported)
//     --quick     one launch per mode and subject
//     --no-load   activation and bundle only
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { codeServerEntry, launchBrowser, startCodeServer, workbenchUrl } from '../test/vscode/runner/codeServer.mjs';

const repo = fileURLToPath(new URL('../', import.meta.url)).replace(/\/$/, '');
const args = process.argv.slice(2);
for (const a of args) {
  if (!/^--(reps=\d+|quick|no-load)$/.test(a)) {
    console.error(`bench:extension: unknown option ${a} (see the header of bench/extension.mjs)`);
    process.exit(2);
  }
}
const reps = args.includes('--quick') ? 1 : Math.max(1, Math.min(10, Number(args.find((a) => a.startsWith('--reps='))?.slice(7) ?? 3)));
const withLoad = !args.includes('--no-load');
const MODES = ['inProcess', 'child'];
const RUN_BOUND_MS = 600_000;
const log = (s) => process.stderr.write(`${s}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const probe = join(repo, 'out/bench/vscode/probe.js');
for (const f of [join(repo, 'dist/extension.js'), join(repo, 'dist/cli.js'), probe]) {
  if (!existsSync(f)) {
    console.error(`bench:extension: ${f} is missing (npm run build && npm run compile-tests)`);
    process.exit(2);
  }
}

// ---------- once: the real VS Code ----------

const setup = spawnSync('bash', [join(repo, 'scripts/setup-vscode-test-env.sh')], { stdio: ['ignore', 'ignore', 'inherit'] });
if (setup.status !== 0) process.exit(1);
codeServerEntry(); // throws a clear error if the setup did not leave code-server in place
const fixtureDir = join(repo, 'bench/vscode/fixture');

// ---------- bundle sizes ----------

async function bundleSizes() {
  // The production build as `npm run package` makes it (esbuild.config.mjs --production), built in
  // memory so dist/ is left alone. Same options as esbuild.config.mjs.
  const { build } = await import('esbuild');
  const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'));
  const r = await build({
    entryPoints: [join(repo, 'src/extension/extension.ts')], bundle: true, platform: 'node', target: 'node20', format: 'cjs',
    minify: true, external: ['node-pty', 'vscode'], define: { EXEC_SERVER_VERSION: JSON.stringify(pkg.version) }, write: false, logLevel: 'error',
    outfile: join(repo, '.bench-results/extension.min.js'), // not written (write: false)
  });
  const min = r.outputFiles?.find((f) => f.path.endsWith('extension.min.js'));
  if (!min) throw new Error('esbuild gave no extension.min.js');
  return {
    devBytes: statSync(join(repo, 'dist/extension.js')).size,
    productionBytes: min.contents.length,
    cliBytes: statSync(join(repo, 'dist/cli.js')).size,
    fixtureBytes: statSync(join(repo, 'bench/vscode/fixture/extension.js')).size,
  };
}

// ---------- one VS Code launch ----------

/** VS Code's "Activation: N ms" (load code + call activate) of the subject, from the page. */
async function scrapeRunningExtensions(page, subject) {
  const names = subject === 'ours' ? /^(exec-server-dev\.exec-server-vscode|Exec Server for VS Code)$/ : /^(exec-server-dev\.exec-bench-fixture|Exec Server benchmark fixture)$/;
  const end = Date.now() + 30_000;
  for (;;) {
    // This function runs in the page, where `document` exists (this program has no DOM types).
    const rows = await page.evaluate(() => [.../** @type {any} */ (globalThis).document.querySelectorAll('.monaco-list-row')]
      .map((r) => ({ name: r.querySelector('.name')?.textContent ?? '', text: r.querySelector('.activation-time')?.textContent ?? '' })));
    const row = rows.find((r) => names.test(r.name) && /Activation: \d+ms/.test(r.text));
    // find() above tested the same pattern: exec() matches.
    if (row) return { activationMs: Number(/** @type {RegExpExecArray} */ (/Activation: (\d+)ms/.exec(row.text))[1]), startup: /Startup/.test(row.text) };
    if (Date.now() > end) return { error: `row not found: ${JSON.stringify(rows).slice(0, 500)}` };
    await sleep(200);
  }
}

/** One VS Code, with the subject (`ours` or `fixture`) as its development extension. */
async function runOnce(mode, subject, load) {
  const rt = mkdtempSync(join(tmpdir(), 'exec-bench-rt-'));
  chmodSync(rt, 0o700);
  const ws = join(rt, 'ws');
  mkdirSync(join(ws, '.vscode'), { recursive: true });
  writeFileSync(join(ws, '.vscode', 'settings.json'), JSON.stringify({ 'execServer.hostMode': mode }));
  const outFile = join(rt, 'probe.json');
  const goFile = join(rt, 'go');
  const hostLog = [];
  let server, browser, scraped;
  try {
    server = await startCodeServer({
      workspaceFolder: ws,
      env: { XDG_RUNTIME_DIR: rt, EXEC_BENCH_SUBJECT: subject, EXEC_BENCH_OUT: outFile, EXEC_BENCH_GO: goFile, EXEC_BENCH_LOAD: load ? '1' : '0', EXEC_BENCH_FIXTURE_DIR: rt },
    });
    // Tall: the Running Extensions list renders every row without scrolling.
    browser = await launchBrowser({ viewport: { width: 1400, height: 2000 } });
    const { page } = browser;
    page.on('dialog', (d) => d.accept().catch(() => {}));
    let exit;
    const exited = new Promise((r) => { exit = r; });
    await page.exposeFunction('codeAutomationLog', (type, a) => {
      const text = Array.isArray(a) ? a.map(String).join(' ') : String(a);
      hostLog.push(`${type}: ${text}`.slice(0, 2000));
      if (text.includes('EXEC_BENCH_SCRAPE')) {
        void scrapeRunningExtensions(page, subject).then((s) => { scraped = s; writeFileSync(goFile, ''); });
      }
    });
    await page.exposeFunction('codeAutomationExit', (code) => exit(code));
    const extensionDevelopmentPath = subject === 'ours' ? repo : fixtureDir;
    await page.goto(workbenchUrl(server, { folder: ws, extensionDevelopmentPath, extensionTestsPath: probe }), { waitUntil: 'domcontentloaded', timeout: 60_000 });
    let timer;
    const code = await Promise.race([exited, new Promise((r) => { timer = setTimeout(() => r('timeout'), RUN_BOUND_MS); })]);
    clearTimeout(timer);
    await page.close({ runBeforeUnload: true }).catch(() => {});
    if (code !== 0 || !existsSync(outFile)) throw new Error(`probe ended with ${code}; host log tail:\n${hostLog.slice(-30).join('\n')}`);
    const r = JSON.parse(readFileSync(outFile, 'utf8'));
    if (r.errors.length) throw new Error(`probe errors:\n${r.errors.join('\n')}`);
    return { ...r, vscode: scraped };
  } finally {
    await browser?.close();
    await server?.stop();
    rmSync(rt, { recursive: true, force: true });
  }
}

// ---------- run ----------

const t0 = Date.now();
const results = { machine: { cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version }, reps, runs: {}, bundle: await bundleSizes() };
for (const mode of MODES) {
  results.runs[mode] = { ours: [], fixture: [] };
  for (let rep = 0; rep < reps; rep++) {
    // Alternate, so that a machine getting busier or quieter affects both alike.
    for (const subject of ['fixture', 'ours']) {
      const load = withLoad && subject === 'ours' && rep === reps - 1; // load once per mode, last
      log(`— ${mode}, ${subject}, launch ${rep + 1}/${reps}${load ? ' (+ load)' : ''}`);
      try {
        const r = await runOnce(mode, subject, load);
        results.runs[mode][subject].push(r);
        const a = r.activation;
        log(`  listening ${a.listeningMs.toFixed(1)} ms, discovery file ${a.discoveryWrittenMs.toFixed(1)} ms after activate(); VS Code "Activation" ${r.vscode?.activationMs} ms`);
      } catch (err) {
        results.runs[mode][subject].push({ error: err.message });
        log(`  ERROR ${err.message}`);
      }
    }
  }
}

// ---------- table ----------

const median = (xs) => {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  return v.length ? (v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2) : undefined;
};
const fmt = (v, d = 1) => (v === undefined || Number.isNaN(v) ? '–' : v.toFixed(d));
const rows = [];
/** verdict: 'pass' / 'MISS' from a predicate on the figure, or '–' for information only. */
const row = (what, unit, ours, base, baseName, target, ok, d = 1) => rows.push({
  what, unit, ours, base, baseName, ratio: ours !== undefined && base ? ours / base : undefined, target: target ?? '–',
  result: ok === undefined ? '–' : ours === undefined ? 'MISS (no data)' : ok(ours) ? 'pass' : 'MISS', d,
});

const b = results.bundle;
const KiB = 1024;
row('bundle: dist/extension.js (dev build, source map not counted)', 'KiB', b.devBytes / KiB, undefined, '', '≤ 1024 KiB', (v) => v <= 1024);
row('bundle: extension.js, production (minified, what the .vsix ships)', 'KiB', b.productionBytes / KiB, undefined, '', '≤ 1024 KiB', (v) => v <= 1024);
row('bundle: dist/cli.js (child mode runs it too)', 'KiB', b.cliBytes / KiB, undefined, '', '–');

for (const mode of MODES) {
  const ok = (subject) => results.runs[mode][subject].filter((r) => !r.error);
  const m = (subject, f) => median(ok(subject).map((r) => { try { return f(r); } catch { return undefined; } }));
  const o = (f) => m('ours', f);
  const x = (f) => m('fixture', f);
  const tag = `${mode}, median of ${ok('ours').length} vs ${ok('fixture').length}`;
  const a = (k) => (r) => r.activation[k];
  const listen = mode === 'child' ? 'fixture: node child listens' : 'fixture: listen()';
  row(`[${tag}] activate() → server listening`, 'ms', o(a('listeningMs')), x(a('listeningMs')), listen, '–');
  row(`[${tag}] activate() → discovery file written`, 'ms', o(a('discoveryWrittenMs')), x(a('discoveryWrittenMs')), `${listen} + 0600 file`, '≤ 150 ms', (v) => v <= 150);
  row(`[${tag}] VS Code "Activation" (load code + call activate)`, 'ms', o((r) => r.vscode.activationMs), x((r) => r.vscode.activationMs), 'fixture', '–');
  // From VS Code starting to load the code to the discovery file: VS Code's figure covers loading
  // and activate() up to its return; what follows activate()'s return is ours.
  const full = (r) => r.vscode.activationMs + r.activation.discoveryWrittenMs - r.activation.activateReturnedMs;
  row(`[${tag}] load code → discovery file written`, 'ms', o(full), x(full), 'fixture', '≤ 150 ms', (v) => v <= 150);
  row(`[${tag}] bundle evaluation began → activate() called`, 'ms', o(a('moduleToActivateMs')), x(a('moduleToActivateMs')), 'fixture', '–');

  const loadRun = ok('ours').find((r) => r.processes);
  if (loadRun) {
    const p = loadRun.processes;
    const fl = loadRun.flood;
    const tagL = `${mode}, one run`;
    row(`[${tagL}] ${p.n} processes: start → all listed in the tree`, 'ms', p.ours.listedMs, p.direct.spawnMs, `spawn ${p.n} directly`, '–');
    row(`[${tagL}] ${p.n} processes: getChildren + getTreeItem for every row`, 'ms', p.ours.snapshotMs, p.ours.plainItemsMs, `${p.n} plain TreeItems`, '–', undefined, 2);
    row(`[${tagL}] tree refreshes fired, vs model change events`, 'count', p.counters.treeRefreshes, p.counters.modelChanges, 'model events', 'debounced: ratio ≤ 0.1', (v) => v <= 0.1 * p.counters.modelChanges, 0);
    row(`[${tagL}] Terminate All ${p.n} → all reaped`, 'ms', p.ours.terminatedMs, p.direct.killMs, `SIGTERM ${p.n} directly`, '–');
    const MiB = fl.bytes / 1024 / 1024;
    const idle = fl.idle;
    for (const [name, v] of [['channel closed', fl.channelClosed], ['channel open', fl.channelOpen]]) {
      const d = v.during;
      const t = `[${tagL}] ${MiB} MiB flood ×${fl.reps}, ${name}:`;
      const n = (x, y) => `idle, same run; n = ${x.n} vs ${y.n}`;
      row(`${t} command round trip to the workbench, p50`, 'ms', d.workbenchCommand.p50, idle.workbenchCommand.p50, n(d.workbenchCommand, idle.workbenchCommand), '–', undefined, 2);
      row(`${t} command round trip to the workbench, p99`, 'ms', d.workbenchCommand.p99, idle.workbenchCommand.p99, n(d.workbenchCommand, idle.workbenchCommand), '≤ 100 ms', (x) => x <= 100, 2);
      row(`${t} extension-host command, p99`, 'ms', d.localCommand.p99, idle.localCommand.p99, n(d.localCommand, idle.localCommand), '≤ 100 ms', (x) => x <= 100, 2);
      row(`${t} extension-host event-loop delay (10 ms timer lateness), p99`, 'ms', d.eventLoopDelay.p99, idle.eventLoopDelay.p99, n(d.eventLoopDelay, idle.eventLoopDelay), '≤ 100 ms', (x) => x <= 100, 2);
      row(`${t} extension-host event-loop delay, max`, 'ms', d.eventLoopDelay.max, idle.eventLoopDelay.max, n(d.eventLoopDelay, idle.eventLoopDelay), '–', undefined, 2);
      row(`${t} extension-host CPU`, '%', d.hostCpuPercent, idle.hostCpuPercent, 'idle, same run', '–', undefined, 0);
      const floods = v.runs.map((r) => r.floodMs / 1000);
      const lost = v.runs.reduce((a, r) => a + (fl.bytes - r.bytes), 0);
      row(`${t} printed → the agent has it all (median)`, 's', median(floods), undefined, '', `0 lost (lost ${lost})`, () => lost === 0, 2);
      const ch = v.runs.map((r) => r.channel).filter(Boolean);
      if (ch.length) {
        row(`${t} characters sent to its output channel (median)`, 'K chars', median(ch.map((c) => c.charsSent / 1000)), undefined, '',
          `bounded (${ch.map((c) => `${c.appends} appends + ${c.replaces} replaces`).join(', ')}; largest channel ${Math.max(...ch.map((c) => c.chars))} chars)`, undefined, 0);
      }
    }
  }
}

const header = `exec-server extension benchmark — ${results.machine.cpus} cores, ${results.machine.cpu}, node ${results.machine.node}, code-server 4.100.3 (VS Code 1.100.3), ${reps} launch(es) per mode`;
console.log(`\n${header}\n`);
console.log('| figure | unit | ours | baseline | ours/base | target | result |');
console.log('|---|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(`| ${r.what} | ${r.unit} | ${fmt(r.ours, r.d)} | ${r.base === undefined ? '–' : `${fmt(r.base, r.d)} (${r.baseName})`} | ${r.ratio === undefined ? '–' : `${r.ratio.toFixed(2)}×`} | ${r.target} | ${r.result} |`);
}
const failedRuns = MODES.flatMap((m) => ['ours', 'fixture'].flatMap((k) => results.runs[m][k].filter((r) => r.error).map((r) => `${m}/${k}: ${r.error.split('\n').slice(0, 3).join(' | ')}`)));
if (failedRuns.length) console.log(`\nfailed launches: ${failedRuns.length}\n${failedRuns.join('\n')}`);
results.table = rows;
const dir = join(repo, '.bench-results');
mkdirSync(dir, { recursive: true });
const file = join(dir, `extension-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(file, JSON.stringify(results, null, 1));
console.log(`\n${((Date.now() - t0) / 1000).toFixed(0)} s; results in ${file}`);
process.exit(failedRuns.length ? 1 : 0);
