#!/usr/bin/env node
// `npm run test:vscode`: build, prepare the real VS Code (code-server 4.100.3 + chromium), then
//  1. the in-host mocha suite (test/vscode/suite) through test/vscode/runner/runExtensionTests.mjs,
//  2. a post-check once that window is closed (deactivate ran): no discovery file, no process the
//     suite caused to exist is still alive,
//  3. the Playwright UI test (test/vscode/ui/sidebar.ui.mjs),
//  4. the packaged .vsix installed into a fresh code-server (test/vscode/ui/vsix.smoke.mjs),
//  and the window-reload test (test/vscode/ui/reload.ui.mjs).
// Last line: `N passed, N failed` over all of them. Exit 0 only when nothing failed.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const t0 = Date.now();
const secs = (t) => `${((Date.now() - t) / 1000).toFixed(1)}s`;
const timings = [];
let passed = 0, failed = 0;

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

/** Run a test layer, echo its output, and add its `N passed, N failed` line to the totals. */
function layer(name, args) {
  const t = Date.now();
  console.log(`\n=== ${name}`);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: repo, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; process.stdout.write(d); });
    child.on('close', (code) => {
      timings.push(`${name} ${secs(t)}`);
      const m = [...out.matchAll(/^(\d+) passed, (\d+) failed$/gm)].pop();
      if (m) { passed += Number(m[1]); failed += Number(m[2]); }
      if (!m || (code !== 0 && Number(m[2]) === 0)) failed++; // crashed or never reported
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
step('setup', 'bash', ['scripts/setup-vscode-test-env.sh'], { capture: true });

// 1+2. The in-host suite, once per host mode, each followed by its post-check.
for (const mode of ['inProcess', 'child']) {
  // Its own per-user runtime dir, so discovery files are isolated.
  const runtimeDir = mkdtempSync(join(tmpdir(), 'exec-suite-rt-'));
  chmodSync(runtimeDir, 0o700);
  const workspace = mkdtempSync(join(tmpdir(), 'exec-suite-ws-'));
  writeFileSync(join(workspace, 'README.md'), '# test workspace\n');
  mkdirSync(join(workspace, '.vscode'));
  writeFileSync(join(workspace, '.vscode', 'settings.json'), JSON.stringify({ 'execServer.hostMode': mode }));
  const stateFile = join(runtimeDir, 'suite-state.json');
  await layer(`extension-host suite (${mode})`, [
    'test/vscode/runner/runExtensionTests.mjs',
    '--extension', repo.replace(/\/$/, ''),
    '--tests', join(repo, 'out/test/vscode/suite/index.js'),
    '--workspace', workspace,
    '--env', `XDG_RUNTIME_DIR=${runtimeDir}`,
    '--env', `EXEC_SERVER_TEST_STATE=${stateFile}`,
    '--env', `EXEC_SERVER_EXPECT_MODE=${mode}`,
  ]);

  // Post-check: the runner closed the window (deactivate) and stopped code-server.
  console.log(`\n=== post-check after deactivation (${mode})`);
  const discovery = join(runtimeDir, 'exec-server-vscode');
  const leftFiles = existsSync(discovery) ? readdirSync(discovery) : [];
  if (leftFiles.length === 0) { passed++; console.log('✔ no discovery file left'); }
  else { failed++; console.log(`✖ discovery files left: ${leftFiles.join(', ')}`); }
  const pids = existsSync(stateFile) ? [...new Set(JSON.parse(readFileSync(stateFile, 'utf8')).pids)] : [];
  const survivors = pids.filter(alive);
  if (pids.length > 0 && survivors.length === 0) { passed++; console.log(`✔ none of the ${pids.length} processes the suite started survived`); }
  else {
    failed++;
    console.log(pids.length ? `✖ still alive: ${survivors.join(', ')}` : '✖ the suite recorded no pids');
    for (const pid of survivors) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } } // leave nothing behind
  }
  rmSync(runtimeDir, { recursive: true, force: true });
  rmSync(workspace, { recursive: true, force: true });
}

// 3. UI test.
await layer('UI test', ['test/vscode/ui/sidebar.ui.mjs']);

// 3b. Issue 14: a window reload keeps agents connected and processes running; a close ends them.
await layer('reload test', ['test/vscode/ui/reload.ui.mjs']);

// 4. The packaged .vsix, installed into a fresh code-server.
await layer('vsix smoke test', ['test/vscode/ui/vsix.smoke.mjs']);

console.log(`\ntimings: ${timings.join(', ')}, total ${secs(t0)}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
