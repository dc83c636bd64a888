#!/usr/bin/env node
// `npm run test:vscode [-- --vscode 1.100|1.139|all]`: build, prepare the real VS Codes
// (code-server 4.100.3 = VS Code 1.100.3 on Node 20, code-server 4.139.1 = VS Code 1.139.1 on
// Node 24; + chromium), then for each VS Code:
//  1. the in-host mocha suite (test/vscode/suite) through test/vscode/runner/runExtensionTests.mjs,
//     once per host mode,
//  2. a post-check once that window is closed (deactivate ran): no discovery file, no process the
//     suite caused to exist is still alive,
//  3. the Playwright UI test (test/vscode/ui/sidebar.ui.mjs),
//  4. the packaged .vsix installed into a fresh code-server (test/vscode/ui/vsix.smoke.mjs),
//  5. the window-reload test (test/vscode/ui/reload.ui.mjs, issue 14).
// --vscode defaults to $EXEC_SERVER_VSCODE, then all. One summary line per VS Code, then the last
// line: `N passed, N failed` over all of them. Exit 0 only when nothing failed.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { VSCODE_VERSIONS } from './runner/codeServer.mjs';

const { values: opt } = parseArgs({ options: { vscode: { type: 'string' } } });
const which = opt.vscode ?? (process.env.EXEC_SERVER_VSCODE || 'all');
const versions = which === 'all' ? Object.keys(VSCODE_VERSIONS) : [which];
for (const v of versions) {
  if (!Object.hasOwn(VSCODE_VERSIONS, v)) { console.error(`--vscode: expected ${Object.keys(VSCODE_VERSIONS).join(', ')} or all, not '${which}'`); process.exit(2); }
}
const repo = fileURLToPath(new URL('../../', import.meta.url));
const t0 = Date.now();
const secs = (t) => `${((Date.now() - t) / 1000).toFixed(1)}s`;
const timings = [];
// Totals over everything; `tally` is the current VS Code's share (its summary line).
let passed = 0, failed = 0, skipped = 0;
let tally = { passed: 0, failed: 0, skipped: 0 };
const pass = () => { passed++; tally.passed++; };
const fail = () => { failed++; tally.failed++; };

function step(name, cmd, args, opts = {}) {
  const t = Date.now();
  console.log(`\n=== ${name}: ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: repo, stdio: opts.capture ? ['ignore', 'pipe', 'inherit'] : 'inherit', encoding: 'utf8', env: { ...process.env, ...opts.env } });
  timings.push(`${name} ${secs(t)}`);
  if (opts.capture) process.stdout.write(r.stdout ?? '');
  if (r.status !== 0 && !opts.allowFail) {
    console.log(`${name} failed (exit ${r.status})`);
    console.log(`${passed} passed, ${failed + 1} failed`);
    process.exit(1);
  }
  return r;
}

/** Run a test layer, echo its output, and add its `N passed, N failed[, N skipped]` line to the totals. */
function layer(name, args, env = {}) {
  const t = Date.now();
  console.log(`\n=== ${name}`);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: repo, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
    let out = '';
    child.stdout.on('data', (d) => { out += d; process.stdout.write(d); });
    child.on('close', (code) => {
      timings.push(`${name} ${secs(t)}`);
      const m = [...out.matchAll(/^(\d+) passed, (\d+) failed(?:, (\d+) skipped)?$/gm)].pop();
      if (m) {
        for (const [k, i] of [['passed', 1], ['failed', 2], ['skipped', 3]]) tally[k] += Number(m[i] ?? 0);
        passed += Number(m[1]); failed += Number(m[2]); skipped += Number(m[3] ?? 0);
      }
      if (!m || (code !== 0 && Number(m[2]) === 0)) fail(); // crashed or never reported
      resolve(code);
    });
  });
}

const alive = (pid) => {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return s.slice(s.lastIndexOf(')') + 2).split(' ')[0] !== 'Z';
  } catch { return false; }
};

// The .vsix first (production bundle), then the development bundle the suite loads.
step('package', 'npm', ['run', '--silent', 'package']);
step('build', 'npm', ['run', '--silent', 'build']);
step('compile-tests', 'npx', ['tsc', '-p', 'tsconfig.test.json']);

// User settings for the in-host suite's fresh user-data dir (User/settings.json). None needed so
// far: in 1.139 MCP servers and vscode.lm.invokeTool work with the defaults, no Copilot or
// sign-in (test/vscode/runner/README.md).
const SUITE_USER_SETTINGS = {};

const summaries = [];
for (const version of versions) {
  const { vscode, codeServer } = VSCODE_VERSIONS[version];
  const label = `VS Code ${vscode} (code-server ${codeServer})`;
  const tv = Date.now();
  tally = { passed: 0, failed: 0, skipped: 0 };
  console.log(`\n##### ${label}`);
  // Every layer below picks this VS Code through the harness's EXEC_SERVER_VSCODE.
  const env = { EXEC_SERVER_VSCODE: version };
  const resultsDir = join(repo, 'test-results', `vscode-${version}`);
  const setup = step(`setup ${version}`, 'bash', ['scripts/setup-vscode-test-env.sh', version], { capture: true, allowFail: true });
  if (setup.status !== 0) {
    fail();
    console.log(`✖ setting up ${label} failed (exit ${setup.status}); its tests did not run`);
  } else {
    await runVersion(version, env, resultsDir);
  }
  const line = `${label}: ${tally.passed} passed, ${tally.failed} failed${tally.skipped ? `, ${tally.skipped} skipped` : ''} (${secs(tv)})`;
  summaries.push(line);
  console.log(`\n##### ${line}`);
}

console.log(`\ntimings: ${timings.join(', ')}, total ${secs(t0)}`);
for (const line of summaries) console.log(line);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed === 0 ? 0 : 1);

async function runVersion(version, env, resultsDir) {
  // 1+2. The in-host suite, once per host mode, each followed by its post-check.
  for (const mode of ['inProcess', 'child']) {
    // Its own per-user runtime dir, so discovery files are isolated.
    const runtimeDir = mkdtempSync(join(tmpdir(), 'exec-suite-rt-'));
    chmodSync(runtimeDir, 0o700);
    const workspace = mkdtempSync(join(tmpdir(), 'exec-suite-ws-'));
    writeFileSync(join(workspace, 'README.md'), '# test workspace\n');
    mkdirSync(join(workspace, '.vscode'));
    // A 1 s reload grace: the post-check then sees the child-mode server end its processes by
    // itself soon after the window closes (the default grace is the reload test's subject).
    writeFileSync(join(workspace, '.vscode', 'settings.json'), JSON.stringify({ 'execServer.hostMode': mode, 'execServer.reloadGraceSeconds': 1 }));
    const stateFile = join(runtimeDir, 'suite-state.json');
    // A HOME of its own: the login shells this suite has VS Code start (the MCP bridge runs agents'
    // commands with `bash -lc`) read no profile of this machine. Here the profile runs `pyenv
    // init`, whose rehash takes a lock in ~/.pyenv/shims; a login shell stopped by a test while it
    // holds the lock leaves it behind, and every later `bash -l` waits 60 s. (Only this layer:
    // code-server 4.100 keeps SecretStorage across a page reload only with the real HOME, and
    // the reload test needs that; its agents run `sh -c`, no login shell.)
    const home = join(runtimeDir, 'home');
    mkdirSync(home);
    await layer(`extension-host suite (${version}, ${mode})`, [
      'test/vscode/runner/runExtensionTests.mjs',
      '--extension', repo.replace(/\/$/, ''),
      '--tests', join(repo, 'out/test/vscode/suite/index.js'),
      '--workspace', workspace,
      '--results-dir', resultsDir,
      '--settings', JSON.stringify(SUITE_USER_SETTINGS),
      '--env', `XDG_RUNTIME_DIR=${runtimeDir}`,
      '--env', `HOME=${home}`,
      '--env', `EXEC_SERVER_TEST_STATE=${stateFile}`,
      '--env', `EXEC_SERVER_EXPECT_MODE=${mode}`,
      '--env', `EXEC_SERVER_EXPECT_VSCODE=${VSCODE_VERSIONS[version].vscode}`,
    ], env);

    // Post-check: the runner closed the window (deactivate) and stopped code-server.
    console.log(`\n=== post-check after deactivation (${version}, ${mode})`);
    const discovery = join(runtimeDir, 'exec-server-vscode');
    const leftFiles = existsSync(discovery) ? readdirSync(discovery) : [];
    if (leftFiles.length === 0) { pass(); console.log('✔ no discovery file left'); }
    else { fail(); console.log(`✖ discovery files left: ${leftFiles.join(', ')}`); }
    const pids = existsSync(stateFile) ? [...new Set(JSON.parse(readFileSync(stateFile, 'utf8')).pids)] : [];
    const survivors = pids.filter(alive);
    if (pids.length > 0 && survivors.length === 0) { pass(); console.log(`✔ none of the ${pids.length} processes the suite started survived`); }
    else {
      fail();
      console.log(pids.length ? `✖ still alive: ${survivors.join(', ')}` : '✖ the suite recorded no pids');
      for (const pid of survivors) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } } // leave nothing behind
    }
    rmSync(runtimeDir, { recursive: true, force: true });
    rmSync(workspace, { recursive: true, force: true });
  }

  // 3. UI test.
  await layer(`UI test (${version})`, ['test/vscode/ui/sidebar.ui.mjs', '--results-dir', resultsDir], env);

  // 4. The packaged .vsix, installed into a fresh code-server.
  await layer(`vsix smoke test (${version})`, ['test/vscode/ui/vsix.smoke.mjs', '--results-dir', resultsDir], env);

  // 5. A window reload keeps agents connected and processes running; a close ends them (issue 14).
  await layer(`reload test (${version})`, ['test/vscode/ui/reload.ui.mjs', '--results-dir', resultsDir], env);
}
