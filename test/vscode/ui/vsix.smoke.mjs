#!/usr/bin/env node
// Packaging smoke test: install the .vsix (npm run package) into a fresh code-server
// extensions dir, open a window WITHOUT a development extension, and check that the installed
// extension activates on startup, advertises itself, runs a PTY process (node-pty shipped in the
// vsix, or VS Code's own as fallback) and a pipe process, shows them in the sidebar, and cleans up
// when the window closes.
//
//   node test/vscode/ui/vsix.smoke.mjs [--vscode 1.100|1.139] [--vsix exec-server-vscode.vsix] [--results-dir test-results]
// (--vscode defaults to $EXEC_SERVER_VSCODE, then 1.100.)
// Prints `N passed, N failed`.
import { parseArgs } from 'node:util';
import { createRequire } from 'node:module';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { codeServerCli, startCodeServer, launchBrowser, workbenchUrl } from '../runner/codeServer.mjs';
import { alive, makeChecks, makeStamp, waitFor } from './uiKit.mjs';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const require = createRequire(join(repo, 'package.json'));
const { ExecClient } = require(join(repo, 'out/src/client/client.js'));
const { values: opt } = parseArgs({ options: { vsix: { type: 'string' }, 'results-dir': { type: 'string' }, vscode: { type: 'string' } } });
const vsix = resolve(opt.vsix ?? join(repo, 'exec-server-vscode.vsix'));
const resultsDir = resolve(opt['results-dir'] ?? join(repo, 'test-results'));
mkdirSync(resultsDir, { recursive: true });
const stamp = makeStamp('vsix');
const { check, fail, finish } = makeChecks(stamp);

const tmp = mkdtempSync(join(tmpdir(), 'exec-vsix-'));
const runtimeDir = join(tmp, 'run'); mkdirSync(runtimeDir, { mode: 0o700 }); chmodSync(runtimeDir, 0o700);
const extensionsDir = join(tmp, 'extensions');
const workspace = join(tmp, 'ws'); mkdirSync(workspace); writeFileSync(join(workspace, 'a.txt'), 'x\n');
const discovery = join(runtimeDir, 'exec-server-vscode');
let server, browser, client;
const pids = [];
try {
  await check('the .vsix installs into code-server', async () => {
    if (!existsSync(vsix)) throw new Error(`${vsix} not found (npm run package)`);
    const r = codeServerCli(['--config', join(tmp, 'config.yaml'), '--user-data-dir', join(tmp, 'ud'),
      '--extensions-dir', extensionsDir, '--install-extension', vsix], { version: opt.vscode });
    if (r.status !== 0) throw new Error(`install failed: ${r.stdout}${r.stderr}`);
    const dir = readdirSync(extensionsDir).find((n) => n.startsWith('exec-server-dev.exec-server-vscode-'));
    if (!dir || !existsSync(join(extensionsDir, dir, 'node_modules/node-pty/build/Release/pty.node'))) throw new Error('node-pty missing from the installed extension');
  });
  server = await startCodeServer({ workspaceFolder: workspace, extensionsDir, env: { XDG_RUNTIME_DIR: runtimeDir }, version: opt.vscode });
  console.log(`${stamp()} VS Code ${server.install.vscode} (code-server ${server.install.codeServer})`);
  browser = await launchBrowser();
  await browser.page.goto(workbenchUrl(server, { folder: workspace }), { waitUntil: 'domcontentloaded', timeout: 60_000 });
  /** @type {import('./uiKit.mjs').DiscoveryInfo} */
  const info = await check('the installed extension activates on startup and writes its discovery file', async () => {
    const name = await waitFor('discovery file', () => existsSync(discovery) && readdirSync(discovery).find((n) => n.endsWith('.json')));
    return JSON.parse(readFileSync(join(discovery, name), 'utf8'));
  });
  client = await ExecClient.connectWebSocket(info.url, { token: info.token, clientName: 'vsix-agent' });
  await check('a PTY process and a pipe process run through it', async () => {
    const pty = await client.run(['sh', '-c', 'test -t 1 && echo pty-ok'], { tty: true });
    pids.push(pty.pid);
    if (!pty.output.toString().includes('pty-ok')) throw new Error(`PTY output: ${JSON.stringify(pty.output.toString())}`);
    const pipe = await client.run(['echo', 'pipe-ok']);
    if (pipe.stdout.toString() !== 'pipe-ok\n') throw new Error('pipe output');
  });
  const sleeper = await client.start({ argv: ['sleep', '500'] });
  pids.push(sleeper.pid);
  await check('the sidebar shows the process', async () => {
    await browser.page.locator('.part.activitybar').getByRole('tab', { name: 'Exec Server' }).first().click({ timeout: 60_000 });
    await browser.page.locator('.part.sidebar .monaco-list-row', { hasText: 'sleep 500' }).first().waitFor({ timeout: 30_000 });
  });
  client.close();
  client = undefined;
  await browser.page.close({ runBeforeUnload: true });
  await check('closing the window removes the discovery file and ends the process', async () => {
    await waitFor('discovery removed', () => readdirSync(discovery).length === 0, 30_000);
    await waitFor('sleep ended', () => !alive(sleeper.pid), 30_000);
  });
} catch (e) {
  if (!e?.counted) fail(`FAILED: ${e?.stack ?? e}`);
  if (browser && !browser.page.isClosed()) await browser.page.screenshot({ path: join(resultsDir, 'vsix-smoke-failure.png') }).catch(() => {});
} finally {
  client?.close();
  await browser?.close();
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
}
finish();
