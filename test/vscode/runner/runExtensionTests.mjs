#!/usr/bin/env node
// Runs a compiled extension test suite INSIDE the real node extension host of VS Code 1.100.3 or
// 1.139.1 (code-server + headless chromium), the offline stand-in for @vscode/test-electron.
//
//   node test/vscode/runner/runExtensionTests.mjs --extension <absDir> --tests <abs suite index.js>
//        --workspace <absDir> [--vscode 1.100|1.139] [--settings '<JSON object>']
//        [--timeout-ms 300000] [--results-dir <dir>] [--env KEY=VALUE ...]
//
// --vscode defaults to $EXEC_SERVER_VSCODE, then 1.100. --settings: user settings written to the
// fresh user-data dir's User/settings.json before code-server starts.
// The suite module exports run() (as for @vscode/test-electron). Convention: run() logs one line
// `RESULT <passed> <failed> [<skipped>]` with console.log; this runner echoes it as
// `N passed, N failed` (`, N skipped` when the suite reported skipped tests).
// Exit code = the suite's (0 when run() resolves, 1 when it rejects); 1 on timeout or setup error.
import { parseArgs, format } from 'node:util';
import { mkdirSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { startCodeServer, launchBrowser, workbenchUrl, descendants, cmdline } from './codeServer.mjs';

const { values: opt } = parseArgs({
  options: {
    extension: { type: 'string' }, tests: { type: 'string' }, workspace: { type: 'string' },
    'timeout-ms': { type: 'string', default: '300000' }, 'results-dir': { type: 'string' },
    env: { type: 'string', multiple: true, default: [] }, // KEY=VALUE for code-server + extension host
    vscode: { type: 'string' }, settings: { type: 'string' },
  },
});
for (const k of ['extension', 'tests', 'workspace']) {
  if (!opt[k] || !isAbsolute(opt[k])) { console.error(`--${k} <absolute path> is required`); process.exit(2); }
}
const timeoutMs = Number(opt['timeout-ms']);
const resultsDir = resolve(opt['results-dir'] ?? 'test-results');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const t0 = Date.now();
const stamp = () => `[runner +${((Date.now() - t0) / 1000).toFixed(1)}s]`;

/** @type {Awaited<ReturnType<typeof startCodeServer>> | undefined} */
let server;
/** @type {Awaited<ReturnType<typeof launchBrowser>> | undefined} */
let browser;
/** @type {{ code: number, logs: unknown } | null} */
let result = null;
/** @type {{ passed: number | null, failed: number | null, skipped: number | null }} */
const counts = { passed: null, failed: null, skipped: null };

async function main() {
  const env = Object.fromEntries(opt.env.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  const userSettings = opt.settings ? JSON.parse(opt.settings) : undefined;
  server = await startCodeServer({ workspaceFolder: opt.workspace, env, version: opt.vscode, userSettings });
  console.log(`${stamp()} VS Code ${server.install.vscode} (code-server ${server.install.codeServer}) pid ${server.pid} on ${server.url}`);
  browser = await launchBrowser();
  const { page } = browser;
  page.on('dialog', (d) => d.accept().catch(() => {})); // a beforeunload prompt must not block close

  let exitResolve;
  const exited = new Promise((r) => { exitResolve = r; });
  // The workbench calls these globals (smoke-test driver): log lines of the extension host /
  // renderer, and the suite's exit code plus the workbench's log files.
  await page.exposeFunction('codeAutomationLog', (type, args) => {
    // args are console arguments, often printf-style (mocha's spec reporter: '%s (%dms)', ...).
    const text = Array.isArray(args) ? format(...args) : String(args);
    const m = /^RESULT (\d+) (\d+)(?: (\d+))?\s*$/m.exec(text);
    if (m) { counts.passed = Number(m[1]); counts.failed = Number(m[2]); counts.skipped = m[3] === undefined ? null : Number(m[3]); }
    for (const line of text.split('\n')) console.log(type === 'error' ? `[host:error] ${line}` : line);
  });
  await page.exposeFunction('codeAutomationExit', (code, logs) => { exitResolve({ code, logs }); });

  const url = workbenchUrl(server, {
    folder: opt.workspace, extensionDevelopmentPath: opt.extension, extensionTestsPath: opt.tests,
  });
  await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 60_000 });
  console.log(`${stamp()} workbench loaded, waiting for the suite`);

  let timer;
  const timeout = new Promise((r) => { timer = setTimeout(() => r(null), timeoutMs); });
  result = await Promise.race([exited, timeout]);
  clearTimeout(timer);
  if (!result) {
    mkdirSync(resultsDir, { recursive: true });
    const shot = join(resultsDir, `extension-tests-timeout-${Date.now()}.png`);
    await page.screenshot({ path: shot, timeout: 10_000 }).catch((e) => console.error('screenshot failed:', e.message));
    console.error(`${stamp()} TIMEOUT after ${timeoutMs} ms (screenshot: ${shot})`);
    return 1;
  }
  if (result.code !== 0 && Array.isArray(result.logs)) {
    // Keep the workbench's log files (exthost.log etc.) for a failing run.
    const dir = join(resultsDir, `extension-tests-logs-${Date.now()}`);
    for (const { relativePath, contents } of result.logs) {
      const p = join(dir, relativePath.replace(/\.\.+/g, '_'));
      mkdirSync(join(p, '..'), { recursive: true });
      writeFileSync(p, contents);
    }
    console.error(`${stamp()} workbench logs saved to ${dir}`);
  }

  // Close the tab WITH unload handlers: this is what makes the extension host call deactivate().
  const serverPid = server.pid;
  const hosts = () => descendants(serverPid).filter((p) => cmdline(p.pid).includes('--type=extensionHost'));
  const before = hosts();
  await page.close({ runBeforeUnload: true }).catch(() => {});
  // Wait (bounded) for the extension host to exit on its own (~3 s after deactivate()).
  const tClose = Date.now();
  for (let i = 0; i < 60 && before.length && hosts().length; i++) await sleep(100);
  // (Usually VS Code has already deactivated and stopped the host before codeAutomationExit.)
  console.log(`${stamp()} tab closed; extension host ${before.length === 0 ? 'had already exited'
    : hosts().length ? 'still running' : `exited after ${Date.now() - tClose} ms`}`);
  return result.code;
}

let code = 1;
try {
  code = await main();
} catch (e) {
  console.error(`${stamp()} runner error:`, e instanceof Error ? e.stack : e);
  code = 1;
} finally {
  // What the workbench tried to reach outside loopback (aborted): origins only, once each.
  if (browser?.blocked.length) console.log(`${stamp()} blocked ${browser.blocked.length} non-loopback request(s) to: ${[...new Set(browser.blocked.map((u) => new URL(u).origin))].join(' ')}`);
  await browser?.close();
  await server?.stop();
}
if (counts.passed !== null) {
  console.log(`${counts.passed} passed, ${counts.failed} failed${counts.skipped ? `, ${counts.skipped} skipped` : ''}`);
  if (Number(counts.failed) > 0 && code === 0) code = 1; // a suite that reports failures never passes
}
console.log(`${stamp()} exit ${code}`);
process.exit(code);
