import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { DiscoveryInfo } from '../../../src/discovery/discoveryFiles';
import type { ExecServerApi } from '../../../src/extension/extension';
import { ensureLauncher, launcherScript } from '../../../src/extension/launcher';

const EXTENSION_ID = 'exec-server-dev.exec-server-vscode';

/** The stable launcher agents outside VS Code are configured with (src/extension/launcher.ts). */
describe('the launcher in global storage (inside VS Code)', () => {
  let api: ExecServerApi;
  before(async () => {
    api = await vscode.extensions.getExtension<ExecServerApi>(EXTENSION_ID)!.activate();
    await api.ready;
  });

  it('is <globalStorage>/bin/exec-server, mode 0700, holds no token, and runs the CLI (--version) with VS Code\'s Node', async () => {
    const l = await api.launcher;
    assert.ok(l, 'the launcher was written');
    const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
    assert.equal(path.basename(l.path), 'exec-server');
    assert.equal(path.basename(path.dirname(l.path)), 'bin');
    assert.deepEqual(l.argv, [l.path]);
    assert.equal(fs.statSync(l.path).mode & 0o777, 0o700);
    const text = fs.readFileSync(l.path, 'utf8');
    assert.equal(text, launcherScript(process.execPath, ext.extensionPath));
    assert.ok(text.includes(process.execPath) && text.includes(path.join(ext.extensionPath, 'dist', 'cli.js')));
    const info = JSON.parse(fs.readFileSync(api.discoveryFile!, 'utf8')) as DiscoveryInfo;
    assert.ok(!text.includes(info.token) && !text.includes(encodeURIComponent(info.token)), 'no token in the launcher');
    assert.ok(!/TOKEN/.test(text), 'no token variable either');

    // Run it as an agent would: a minimal environment, no node on PATH.
    const r = spawnSync(l.path, ['--version'], { env: { PATH: '/usr/bin:/bin', HOME: os.homedir() }, encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), String(ext.packageJSON.version));
  });

  it('is rewritten only when its content changes, and its mode is repaired', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exec-launcher-'));
    try {
      const first = await ensureLauncher(dir, '/opt/code/code', '/ext/v1', 'linux');
      assert.equal(first.written, true);
      const mtime = fs.statSync(first.path).mtimeMs;
      const again = await ensureLauncher(dir, '/opt/code/code', '/ext/v1', 'linux');
      assert.equal(again.written, false);
      assert.equal(fs.statSync(first.path).mtimeMs, mtime);
      fs.chmodSync(first.path, 0o755);
      await ensureLauncher(dir, '/opt/code/code', '/ext/v1', 'linux');
      assert.equal(fs.statSync(first.path).mode & 0o777, 0o700);
      const updated = await ensureLauncher(dir, '/opt/code/code', "/ext/it's v2", 'linux');
      assert.equal(updated.written, true);
      // The quote in the path survives the shell's quoting.
      assert.ok(fs.readFileSync(updated.path, 'utf8').includes(`'/ext/it'\\''s v2/dist/cli.js'`));
      const win = launcherScript('C:\\Code\\Code.exe', 'C:\\ext', 'win32');
      assert.match(win, /^@echo off\r\n/);
      assert.ok(win.includes('setlocal\r\nset ELECTRON_RUN_AS_NODE=1\r\n'));
      assert.ok(win.includes('"C:\\Code\\Code.exe" "C:\\ext\\dist\\cli.js" %*'));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
