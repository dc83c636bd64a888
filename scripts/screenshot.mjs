#!/usr/bin/env node
// Regenerates media/screenshot.png, the README's picture of the extension, in the real VS Code
// 1.139 workbench (code-server 4.139.1 + Debian chromium, the harness of test/vscode/runner).
// The scene is real, not mocked: a throwaway workspace with an npm project; two MCP clients
// (`claude-code`, `gemini-cli-mcp-client`) talk to the bundled bridge `dist/cli.js mcp`, which runs
// their commands in the extension's server (a dev server that keeps running, a passing test run, a
// failing lint); `dist/cli.js run` runs a watch loop from "a terminal" (the Command line group);
// a command typed into an integrated terminal shows in the Terminals group. Then the Exec Server
// view is opened and the output channel of the dev server is shown in the panel.
//
//   npm run build && scripts/setup-vscode-test-env.sh 1.139 && node scripts/screenshot.mjs \
//     [--vscode 1.139] [--out media/screenshot.png] [--vsix exec-server-vscode.vsix]
//
// The extension is installed from a .vsix (--vsix, else a linux-x64 package made from dist/ into a
// temp dir), so the title bar does not say "Extension Development Host". ~40 s warm. Not part of
// any test run. (Disabling the built-in TS extension through `--vscode-option disable-extension=…`
// was tried to avoid its "Analyzing" status item: in two runs every run_command then returned only
// at the end of its yield and the terminal command never showed as ended, cause not found; so the
// file is opened first instead, and the item has gone by the time of the picture.)
//
// Everything runs on 127.0.0.1, in temp dirs (workspace, discovery dir, user data); everything
// started here is stopped by pid (the harness sweeps what the extension started).
import { parseArgs } from 'node:util';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { codeServerCli, startCodeServer, launchBrowser, workbenchUrl } from '../test/vscode/runner/codeServer.mjs';
import { makeStamp, waitFor } from '../test/vscode/ui/uiKit.mjs';

const repo = fileURLToPath(new URL('../', import.meta.url));
const { values: opt } = parseArgs({ options: { vscode: { type: 'string', default: '1.139' }, out: { type: 'string' }, vsix: { type: 'string' } } });
const out = resolve(opt.out ?? join(repo, 'media/screenshot.png'));
const cli = join(repo, 'dist/cli.js');
if (!existsSync(cli)) throw new Error('dist/cli.js is missing: run `npm run build` first');
const stamp = makeStamp('shot');
const log = (m) => console.log(`${stamp()} ${m}`);

// A small but plausible project for the agents to work on.
const runtimeDir = mkdtempSync(join(tmpdir(), 'exec-shot-rt-'));
chmodSync(runtimeDir, 0o700);
const discovery = join(runtimeDir, 'discovery');
const workspace = mkdtempSync(join(tmpdir(), 'exec-shot-ws-'));
const ws = (p, text) => { mkdirSync(dirname(join(workspace, p)), { recursive: true }); writeFileSync(join(workspace, p), text); };
ws('package.json', JSON.stringify({
  name: 'todo-api', version: '1.0.0', private: true, type: 'module',
  scripts: { test: 'node --test', lint: 'node scripts/lint.mjs', 'build:watch': 'node scripts/watch.mjs' },
}, null, 2) + '\n');
ws('src/todos.js', [
  'export const todos = [];', '',
  'export function add(title) {', '  const todo = { id: todos.length + 1, title, done: false };', '  todos.push(todo);', '  return todo;', '}', '',
  'export function remove(id) {', '  const i = todos.findIndex((t) => t.id === id);', '  todos.splice(i, 1);', '}', '',
  'export const pending = () => todos.filter((t) => !t.done);', '',
].join('\n'));
ws('test/todos.test.js', "import { test } from 'node:test';\nimport assert from 'node:assert';\nimport { add, todos } from '../src/todos.js';\n\n" +
  ['adds a todo', 'numbers todos', 'starts undone', 'keeps the title'].map((n, i) => `test('${n}', () => { add('t${i}'); assert.ok(todos.length > ${i}); });\n`).join(''));
ws('scripts/lint.mjs', "console.log('checking src/ …');\nconsole.error('src/todos.js:11:3  error  splice() with an index that may be -1 when the id is unknown  no-unsafe-splice');\nconsole.error('\\n✖ 1 problem (1 error, 0 warnings)');\nprocess.exit(1);\n");
ws('scripts/watch.mjs', "let n = 0;\nconst tick = () => console.log(`[watch] rebuilt dist/ in ${40 + (n++ % 7) * 3} ms (${n} builds)`);\ntick();\nsetInterval(tick, 2000);\n");
ws('README.md', '# todo-api\n\nA tiny todo API. `npm test`, `npm run lint`, `python3 -m http.server` to browse the docs.\n');

// A git history, so `git log` has something to show.
const git = (...a) => execFileSync('git', a, { cwd: workspace, stdio: 'ignore', env: { ...process.env, GIT_AUTHOR_NAME: 'Dev', GIT_AUTHOR_EMAIL: 'dev@example.invalid', GIT_COMMITTER_NAME: 'Dev', GIT_COMMITTER_EMAIL: 'dev@example.invalid' } });
git('init', '-q', '-b', 'main'); git('add', '-A'); git('commit', '-q', '-m', 'todo-api: add, remove, pending');
const env = { ...process.env, EXEC_SERVER_DISCOVERY_DIR: discovery, XDG_RUNTIME_DIR: runtimeDir };
const started = []; // child processes started here, stopped by pid at the end
const mcpClients = [];
let server, browser, ok = false;
try {
  // The extension installed from a .vsix (as users get it), not as an "Extension Development Host":
  // --vsix, else a linux-x64 package made here from the current build (a few seconds).
  let vsix = opt.vsix && resolve(opt.vsix);
  if (!vsix) {
    const pkgDir = join(runtimeDir, 'pkg');
    execFileSync(process.execPath, [join(repo, 'scripts/package-platforms.mjs'), '--out', pkgDir, '--target', 'linux-x64'], { cwd: repo, stdio: 'ignore' });
    vsix = join(pkgDir, 'exec-server-vscode-linux-x64.vsix');
  }
  const extensionsDir = join(runtimeDir, 'extensions');
  const inst = codeServerCli(['--config', join(runtimeDir, 'config.yaml'), '--user-data-dir', join(runtimeDir, 'ud'),
    '--extensions-dir', extensionsDir, '--install-extension', vsix], { version: opt.vscode });
  if (inst.status !== 0) throw new Error(`installing ${vsix} failed: ${inst.stdout}${inst.stderr}`);
  server = await startCodeServer({
    workspaceFolder: workspace, version: opt.vscode, extensionsDir,
    env: { EXEC_SERVER_DISCOVERY_DIR: discovery, XDG_RUNTIME_DIR: runtimeDir },
    userSettings: {
      'workbench.secondarySideBar.defaultVisibility': 'hidden', // no Chat view on first start
      'workbench.startupEditor': 'none',
      'workbench.tips.enabled': false,
      'terminal.integrated.defaultProfile.linux': 'bash',
      'terminal.integrated.shellIntegration.enabled': true,
      'window.commandCenter': true,
    },
  });
  browser = await launchBrowser({ viewport: { width: 1400, height: 900 } });
  const { page } = browser;
  page.on('dialog', (d) => d.accept().catch(() => {}));
  await page.goto(workbenchUrl(server, { folder: workspace }), { waitUntil: 'domcontentloaded', timeout: 60_000 });
  log(`VS Code ${server.install.vscode} (code-server ${server.install.codeServer}) loading`);
  await waitFor('discovery file', () => existsSync(discovery) && readdirSync(discovery).some((n) => /^server-\d+-\d+\.json$/.test(n)), 90_000);
  log('the extension\'s server is up');

  // Open a source file in the editor so the window looks like a working session (first, so that
  // the JS language service has finished "Analyzing …" by the time of the picture).
  await page.keyboard.press('Control+P');
  await page.locator('.quick-input-widget input').fill('todos.js');
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'todos.js' }).first().click({ timeout: 15_000 });
  await page.locator('.part.editor .monaco-editor', { hasText: 'export const todos' }).first().waitFor({ timeout: 15_000 });

  // Two agents through the MCP bridge; the bridge finds the server by the workspace folder.
  const agent = async (name, version) => {
    const transport = new StdioClientTransport({ command: process.execPath, args: [cli, 'mcp'], cwd: workspace, env, stderr: 'ignore' });
    const c = new Client({ name, version });
    await c.connect(transport);
    mcpClients.push(c);
    return async (command, extra = {}) => {
      const r = await c.callTool({ name: 'run_command', arguments: { command, cwd: workspace, ...extra } });
      log(`${name}: ${command} → ${r.isError ? 'error' : 'ok'}`);
      return r;
    };
  };
  const claude = await agent('claude-code', '2.1.332');
  const gemini = await agent('gemini-cli-mcp-client', '0.61.0');
  await claude('python3 -u -m http.server 0 --bind 127.0.0.1', { yield_ms: 2000, description: 'serve the docs' });
  await gemini('npm test', { yield_ms: 30_000 });
  await gemini('npm run lint', { yield_ms: 30_000 });
  await claude('grep -rn splice src', { yield_ms: 10_000 });
  await gemini('git log --oneline -5', { yield_ms: 10_000 });
  await claude('node --test test/todos.test.js', { yield_ms: 30_000 });
  // A watcher the agent gave 3 s: its timeout stops it (the row says killed).
  await claude('npm run build:watch', { yield_ms: 10_000, timeout_ms: 3000 });

  // A script outside VS Code runs its watcher through `exec-server run` (the Command line group).
  const run = spawn(process.execPath, [cli, 'run', '--', 'npm', 'run', 'build:watch'], { cwd: workspace, env, stdio: ['ignore', 'ignore', 'ignore'] });
  started.push(run);

  // The Exec Server view.
  await page.locator('.part.activitybar').getByRole('tab', { name: 'Exec Server' }).first().click({ timeout: 60_000 });
  const sidebar = page.locator('.part.sidebar');
  const row = (text) => sidebar.locator('.monaco-list-row', { hasText: text }).first();
  for (const t of ['Claude Code', 'Gemini CLI', 'http.server', 'npm run lint', 'Command line', 'build:watch']) await row(t).waitFor({ timeout: 60_000 });
  log('the view lists the agents\' processes');

  // A command typed into an integrated terminal (the Terminals group; needs shell integration).
  await page.keyboard.press('Control+Shift+`');
  const term = page.locator('.terminal-wrapper .xterm').first();
  await term.waitFor({ timeout: 30_000 });
  await page.waitForTimeout(2500); // let bash start and shell integration hook in before typing
  await term.click();
  await page.keyboard.type('npm test\n', { delay: 15 });
  await sidebar.locator('.monaco-list-row', { hasText: 'terminal bash' }).filter({ hasText: 'exit 0' }).first().waitFor({ timeout: 120_000 });
  log('the Terminals group shows the terminal command');

  // Widen the side bar so the descriptions (state, pid, runtime) are readable.
  const box = await sidebar.boundingBox();
  if (box) {
    await page.mouse.move(box.x + box.width + 1, box.y + 300);
    await page.mouse.down();
    await page.mouse.move(box.x + 575, box.y + 300, { steps: 6 });
    await page.mouse.up();
  }

  // Show the dev server's output (inline action) in the panel.
  const dev = row('http.server');
  await dev.hover();
  await dev.getByRole('button', { name: 'Show Output' }).click({ timeout: 15_000 });
  await page.locator('.part.panel .monaco-editor', { hasText: 'Serving HTTP on 127.0.0.1' }).first().waitFor({ timeout: 30_000 });
  // A request to the dev server, so its output has a log line too (loopback).
  const port = await waitFor('the dev server\'s port', async () => {
    const text = await page.locator('.part.panel .monaco-editor').first().innerText();
    return text.match(/127\.0\.0\.1\s+port\s+(\d+)/)?.[1];
  }, 30_000);
  for (const path of ['/', '/README.md', '/src/todos.js']) await fetch(`http://127.0.0.1:${port}${path}`).then((r) => r.text()).catch(() => {});
  await page.locator('.part.panel .monaco-editor', { hasText: 'GET /README.md' }).first().waitFor({ timeout: 30_000 }).catch(() => {});


  // The JS language service's "Analyzing …" status item comes and goes; wait it out (bounded).
  const analyzing = page.locator('.part.statusbar').getByText('Analyzing');
  await analyzing.first().waitFor({ timeout: 3_000 }).catch(() => {});
  await waitFor('no "Analyzing" status item', async () => !(await analyzing.count()), 90_000).catch(() => log('(the "Analyzing" status item stayed)'));
  // Dismiss anything transient (hovers, notifications center), select the dev server row, settle.
  await page.mouse.move(1300, 120);
  if (await page.locator('.notifications-center.visible').count()) await page.keyboard.press('Escape');
  await page.waitForTimeout(1500);
  mkdirSync(dirname(out), { recursive: true });
  await page.screenshot({ path: out });
  let size = statSync(out).size;
  if (size > 250_000) {
    // Fewer colours keep it a PNG under 250 KB (ImageMagick), should the screenshot be large.
    execFileSync('convert', [out, '-colors', '256', `PNG8:${out}`]);
    size = statSync(out).size;
  }
  log(`wrote ${out} (${size} bytes)`);
  ok = true;
} catch (e) {
  console.error(`${stamp()} FAILED: ${e?.stack ?? e}`);
  if (browser && !browser.page.isClosed()) await browser.page.screenshot({ path: join(tmpdir(), 'exec-shot-failure.png') }).catch(() => {});
  console.error(`failure screenshot: ${join(tmpdir(), 'exec-shot-failure.png')}`);
} finally {
  for (const c of mcpClients) await c.close().catch(() => {}); // closes the bridge (its stdio child)
  for (const p of started) if (p.exitCode === null && p.signalCode === null) p.kill('SIGINT');
  await browser?.page.close({ runBeforeUnload: true }).catch(() => {});
  await browser?.close();
  await server?.stop();
  rmSync(runtimeDir, { recursive: true, force: true });
  rmSync(workspace, { recursive: true, force: true });
}
process.exit(ok ? 0 : 1);
