#!/usr/bin/env node
// UI test (Playwright + Debian chromium against the real VS Code workbench of code-server, 1.100.3
// or 1.139.1):
// an agent (a WebSocket client run from here, found through the discovery file) starts processes;
// the Exec Server sidebar shows them; clicking the inline "Terminate" action of the long `sleep`
// ends it (checked in /proc); a screenshot of the view goes to test-results/. Then a server
// setting changes (the machine settings file) to a port that is taken: the extension offers a
// restart (clicked in the notification center), the restart fails with an error notification
// naming the port (and never the token); the Clear Finished view action empties the view, which
// shows its "failed" welcome content, and its Restart Server button, once the port is free,
// brings the server up on that port. Closing the
// tab deactivates the extension: no discovery file and no process may be left.
//
//   node test/vscode/ui/sidebar.ui.mjs [--vscode 1.100|1.139] [--results-dir test-results]
// (--vscode defaults to $EXEC_SERVER_VSCODE, then 1.100.)
// Prints one line `N passed, N failed`; exit code 0 only when all checks passed.
import { parseArgs } from 'node:util';
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCodeServer, launchBrowser, workbenchUrl } from '../runner/codeServer.mjs';
import { groupMembers, makeChecks, makeStamp, waitFor } from './uiKit.mjs';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const require = createRequire(join(repo, 'package.json'));
const { ExecClient } = require(join(repo, 'out/src/client/client.js'));
const { values: opt } = parseArgs({ options: { 'results-dir': { type: 'string' }, vscode: { type: 'string' } } });
const resultsDir = resolve(opt['results-dir'] ?? join(repo, 'test-results'));
mkdirSync(resultsDir, { recursive: true });

const stamp = makeStamp('ui');
const { check, fail, finish } = makeChecks(stamp);

const runtimeDir = mkdtempSync(join(tmpdir(), 'exec-ui-rt-'));
chmodSync(runtimeDir, 0o700);
const discovery = join(runtimeDir, 'exec-server-vscode');
const workspace = mkdtempSync(join(tmpdir(), 'exec-ui-ws-'));
writeFileSync(join(workspace, 'README.md'), '# demo workspace\n');
const agentPids = [];
let server, browser, client;
try {
  server = await startCodeServer({
    workspaceFolder: workspace, env: { XDG_RUNTIME_DIR: runtimeDir }, version: opt.vscode,
    // VS Code ≥ 1.10x opens the Chat view in the secondary side bar on first start; the screenshots
    // are of the Exec Server view, so keep it closed (an unknown setting to older versions).
    userSettings: { 'workbench.secondarySideBar.defaultVisibility': 'hidden' },
  });
  browser = await launchBrowser({ viewport: { width: 1280, height: 800 } });
  const { page } = browser;
  page.on('dialog', (d) => d.accept().catch(() => {}));
  await page.goto(workbenchUrl(server, { folder: workspace, extensionDevelopmentPath: repo }), { waitUntil: 'domcontentloaded', timeout: 60_000 });
  console.log(`${stamp()} VS Code ${server.install.vscode} workbench loading (code-server ${server.install.codeServer}, pid ${server.pid})`);

  /** @type {import('./uiKit.mjs').DiscoveryInfo} */
  const info = await check('the extension advertises its server in a 0600 discovery file', async () => {
    const name = await waitFor('discovery file', () => existsSync(discovery) && readdirSync(discovery).find((n) => /^server-\d+-\d+\.json$/.test(n)));
    const mode = statSync(join(discovery, name)).mode & 0o777;
    if (mode !== 0o600) throw new Error(`mode ${mode.toString(8)}`);
    const found = JSON.parse(readFileSync(join(discovery, name), 'utf8'));
    if (!found.url || !found.token) throw new Error(`bad discovery file ${JSON.stringify(Object.keys(found))}`);
    return found;
  });

  // The "agent": a plain WebSocket client that found the server through the discovery file.
  client = await ExecClient.connectWebSocket(info.url, { token: info.token, clientName: 'demo-agent', resumeSessionId: null });
  const ok = await client.run(['bash', '-lc', 'echo "all 12 tests passed"'], { processId: 'unit-tests' });
  const bad = await client.run(['bash', '-lc', 'ls /nonexistent'], { processId: 'ls-missing' });
  const build = await client.start({ processId: 'watch', argv: ['bash', '-lc', 'echo watching src/; sleep 900'], tty: true,
    metadata: { threadId: 'thr_demo', toolCallId: 'call_42' } });
  const target = await client.start({ processId: 'sleeper', argv: ['sleep', '600'] });
  agentPids.push(ok.pid, bad.pid, build.pid, target.pid);
  console.log(`${stamp()} agent started sleep 600 as pid ${target.pid}`);

  await check('the sidebar lists the agent\'s processes', async () => {
    await page.locator('.part.activitybar').getByRole('tab', { name: 'Exec Server' }).first().click({ timeout: 60_000 });
    const sidebar = page.locator('.part.sidebar');
    await sidebar.locator('.monaco-list-row', { hasText: 'demo-agent' }).first().waitFor({ timeout: 30_000 });
    await sidebar.locator('.monaco-list-row', { hasText: 'sleep 600' }).first().waitFor({ timeout: 30_000 });
    await sidebar.locator('.monaco-list-row', { hasText: 'echo watching src/; sleep 900' }).first().waitFor({ timeout: 30_000 });
    await sidebar.locator('.monaco-list-row', { hasText: 'exit 2' }).first().waitFor({ timeout: 30_000 });
  });

  await check('the status bar shows the port and the running count', async () => {
    await page.locator('.statusbar-item', { hasText: `Exec :${info.port} · 2` }).first().waitFor({ timeout: 30_000 });
  });

  // Widen the sidebar (drag its sash) so the descriptions are readable in the screenshot.
  const box = await page.locator('.part.sidebar').boundingBox();
  if (box) {
    await page.mouse.move(box.x + box.width + 1, box.y + 300);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width + 200, box.y + 300, { steps: 5 });
    await page.mouse.up();
  }
  await page.waitForTimeout(300); // let the tree finish painting (icons) before the picture
  await page.locator('.part.sidebar').screenshot({ path: join(resultsDir, 'exec-server-sidebar-before.png') });

  await check('clicking the inline Terminate action ends the process (and its group)', async () => {
    const row = page.locator('.part.sidebar .monaco-list-row', { hasText: 'sleep 600' }).first();
    await row.hover();
    await row.getByRole('button', { name: 'Terminate' }).click({ timeout: 15_000 });
    await waitFor(`pid ${target.pid} gone`, () => groupMembers(target.pid).length === 0, 30_000);
    await page.locator('.part.sidebar .monaco-list-row', { hasText: 'sleep 600' }).filter({ hasText: 'killed' }).first().waitFor({ timeout: 30_000 });
  });

  await page.locator('.statusbar-item', { hasText: `Exec :${info.port} · 1` }).first().waitFor({ timeout: 30_000 }).catch(() => {});
  // A process's tooltip (argv, cwd, pid, output, PTY/pipes, codex metadata).
  const watchRow = page.locator('.part.sidebar .monaco-list-row', { hasText: 'echo watching src/' }).first();
  // The hover does not always open on the first pointer move (1.139 more often): up to 3 tries,
  // moving away in between.
  let tooltip = false;
  for (let i = 0; i < 3 && !tooltip; i++) {
    const rb = await watchRow.boundingBox();
    if (!rb) break;
    await page.mouse.move(900, 700);
    await page.mouse.move(rb.x + 60, rb.y + rb.height / 2, { steps: 4 });
    await page.mouse.move(rb.x + 64, rb.y + rb.height / 2, { steps: 2 });
    tooltip = await page.getByText('thr_demo').first().waitFor({ timeout: 5_000 }).then(() => true, () => false);
  }
  if (tooltip) await page.screenshot({ path: join(resultsDir, 'exec-server-tooltip.png'), clip: { x: 0, y: 0, width: 900, height: 420 } });
  else console.log(`${stamp()} (tooltip screenshot skipped: the hover did not open)`);
  await page.mouse.move(900, 700);
  await page.waitForTimeout(500);
  await page.locator('.part.sidebar').screenshot({ path: join(resultsDir, 'exec-server-sidebar.png') });
  await page.screenshot({ path: join(resultsDir, 'exec-server-window.png') });
  console.log(`${stamp()} screenshots in ${resultsDir}`);

  client.close();
  client = undefined;

  // Notifications are not shown as toasts under the smoke-test driver: read the notification center.
  const showNotifications = async () => {
    if (await page.locator('.notifications-center.visible').count()) return;
    await page.keyboard.press('F1');
    await page.locator('.quick-input-widget input').fill('>Notifications: Show Notifications');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Show Notifications' }).first().click({ timeout: 15_000 });
    await page.locator('.notifications-center.visible').waitFor({ timeout: 15_000 });
  };
  // A notification, in the center or (once the center has closed) as a toast.
  const notification = (text) => page.locator('.notification-list-item', { hasText: text }).first();
  // Waits for a notification, reopening the center whenever it is closed: VS Code 1.139 closes it
  // when one of its notification buttons is clicked, and toasts stay hidden under the driver.
  const waitForNotification = async (text) => {
    const n = notification(text);
    await waitFor(`notification "${text}"`, async () => {
      if (await n.isVisible()) return true;
      if (!(await page.locator('.notifications-center.visible').count())) await showNotifications().catch(() => {});
      return false;
    }, 30_000);
    return n;
  };
  const blocker = createServer();
  await new Promise((r) => blocker.listen(0, '127.0.0.1', () => r(undefined)));
  const busyPort = /** @type {import('node:net').AddressInfo} */ (blocker.address()).port;
  try {
    await check('changing a server setting offers a restart; clicked, it fails on a taken port with an error notification', async () => {
      // execServer.port is machine-scoped: in a remote window (code-server) it lives in Machine settings.
      const machineSettings = join(server.userDataDir, 'Machine', 'settings.json');
      mkdirSync(dirname(machineSettings), { recursive: true });
      writeFileSync(machineSettings, JSON.stringify({ 'execServer.port': busyPort }));
      const prompt = await waitForNotification('Exec Server settings changed');
      await prompt.getByRole('button', { name: 'Restart Server' }).click({ timeout: 15_000 });
      const failure = await waitForNotification('Exec Server failed to start');
      const text = await failure.innerText();
      if (!text.includes(`port ${busyPort} on 127.0.0.1 is already in use`)) throw new Error(`notification: ${text}`);
      if (text.includes(info.token)) throw new Error('the notification shows the token');
      await page.locator('[aria-label="Exec Server failed"]').first().waitFor({ timeout: 15_000 }); // the status bar item
      await page.screenshot({ path: join(resultsDir, 'exec-server-failed.png') });
    });
    await check('Clear Finished (a view title action) empties the view, which then shows its "failed" welcome content; its Restart Server button starts the server once the port is free', async () => {
      const sidebar = page.locator('.part.sidebar');
      await sidebar.getByRole('button', { name: 'Clear Finished Processes' }).first().click({ timeout: 15_000 });
      await sidebar.getByText('The exec server failed to start').first().waitFor({ timeout: 30_000 });
      if (await sidebar.locator('.monaco-list-row', { hasText: 'demo-agent' }).count()) throw new Error('finished processes still listed');
      await new Promise((r) => blocker.close(r));
      await sidebar.getByRole('button', { name: 'Restart Server' }).first().click({ timeout: 15_000 });
      await page.locator('.statusbar-item', { hasText: `Exec :${busyPort} · ` }).first().waitFor({ timeout: 30_000 });
      await waitFor('a discovery file for the new port', () => readdirSync(discovery).some((n) => n.endsWith(`-${busyPort}.json`)), 30_000);
      // Running with nothing listed: the "running" welcome content, with its buttons.
      await sidebar.getByText('The exec server is running. No agent has started a process yet.').first().waitFor({ timeout: 30_000 });
      await sidebar.getByRole('button', { name: 'Copy Connection URL' }).first().waitFor({ timeout: 15_000 });
      await page.locator('.part.sidebar').screenshot({ path: join(resultsDir, 'exec-server-sidebar-welcome.png') });
    });
  } finally {
    blocker.close();
  }

  // Closing the tab with unload handlers deactivates the extension (see the runner README).
  await page.close({ runBeforeUnload: true }).catch(() => {});
  await check('after the window closes: no discovery file and no process of the agent is left', async () => {
    await waitFor('discovery file removed', () => readdirSync(discovery).filter((n) => n.endsWith('.json')).length === 0, 30_000);
    await waitFor('agent processes gone', () => agentPids.every((pid) => groupMembers(pid).length === 0), 30_000);
  });
} catch (e) {
  if (!e?.counted) fail(); // an error outside a check (setup) is a failure too
  console.error(`${stamp()} FAILED: ${e?.message ?? e}`);
  if (browser && !browser.page.isClosed()) {
    await browser.page.screenshot({ path: join(resultsDir, 'exec-server-ui-failure.png') }).catch(() => {});
  }
} finally {
  client?.close();
  await browser?.close();
  await server?.stop();
  rmSync(runtimeDir, { recursive: true, force: true });
  rmSync(workspace, { recursive: true, force: true });
}
console.log(`${stamp()} done`);
finish();
