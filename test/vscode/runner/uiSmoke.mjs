#!/usr/bin/env node
// UI smoke pattern: real VS Code workbench (code-server) in headless chromium, driven by
// playwright-core. Opens a folder (optionally with a development extension loaded), clicks an
// activity-bar item, optionally waits for a text, and saves a screenshot.
//
//   node test/vscode/runner/uiSmoke.mjs --workspace <absDir> --activity <label> [--vscode 1.100|1.139]
//        [--extension <absDir>] [--expect-text <text>] [--name <png basename>] [--results-dir <dir>]
//
// Exit 0 when the click (and expected text) worked, 1 otherwise; a screenshot is saved either way.
import { parseArgs } from 'node:util';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startCodeServer, launchBrowser, workbenchUrl } from './codeServer.mjs';

const { values: opt } = parseArgs({
  options: {
    workspace: { type: 'string' }, extension: { type: 'string' }, activity: { type: 'string' },
    'expect-text': { type: 'string' }, name: { type: 'string', default: 'ui-smoke' },
    'results-dir': { type: 'string' }, vscode: { type: 'string' },
  },
});
if (!opt.workspace || !opt.activity) { console.error('--workspace and --activity are required'); process.exit(2); }
const resultsDir = resolve(opt['results-dir'] ?? 'test-results');
mkdirSync(resultsDir, { recursive: true });
const shot = join(resultsDir, `${opt.name}.png`);
const t0 = Date.now();
const stamp = () => `[ui +${((Date.now() - t0) / 1000).toFixed(1)}s]`;

let server, browser, code = 1;
try {
  server = await startCodeServer({ workspaceFolder: opt.workspace, version: opt.vscode });
  browser = await launchBrowser();
  const { page } = browser;
  page.on('dialog', (d) => d.accept().catch(() => {}));
  // With only extensionDevelopmentPath in the payload the workbench opens an
  // "[Extension Development Host]" window with that extension loaded, and no test run.
  await page.goto(workbenchUrl(server, { folder: opt.workspace, extensionDevelopmentPath: opt.extension }),
    { waitUntil: 'domcontentloaded', timeout: 60_000 });
  // Activity-bar entries are role=tab elements (.action-item) whose accessible name starts with the
  // view title. Click the whole item: in newer workbenches a badge overlays the icon.
  const item = page.locator('.part.activitybar').getByRole('tab', { name: opt.activity });
  await item.first().click({ timeout: 30_000 });
  console.log(`${stamp()} clicked activity "${opt.activity}"`);
  if (opt['expect-text']) {
    await page.locator('.part.sidebar').getByText(opt['expect-text']).first().waitFor({ timeout: 20_000 });
    console.log(`${stamp()} sidebar shows "${opt['expect-text']}"`);
  }
  await page.waitForTimeout(500); // let the tree finish painting before the picture
  code = 0;
} catch (e) {
  console.error(`${stamp()} FAILED:`, e?.message ?? e);
} finally {
  if (browser) {
    await browser.page.screenshot({ path: shot, timeout: 10_000 })
      .then(() => console.log(`${stamp()} screenshot ${shot}`), (e) => console.error('screenshot failed:', e.message));
    if (browser.blocked.length) console.log(`${stamp()} blocked non-loopback requests:`, browser.blocked);
    await browser.page.close({ runBeforeUnload: true }).catch(() => {}); // lets deactivate() run
    await browser.close();
  }
  await server?.stop();
}
process.exit(code);
