import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ExecServerApi, TreeSnapshotGroup, TreeSnapshotItem } from '../../../src/extension/extension';
import { recordPid, waitFor } from './helpers';

const EXTENSION_ID = 'exec-server-dev.exec-server-vscode';

/**
 * Commands run in VS Code terminals (what Copilot's agent does with run_in_terminal) show in the
 * "Terminals" group, seen through shell integration: command line, exit code, output, stop.
 */
describe('terminal commands in the "Terminals" group (inside VS Code, shell integration)', function () {
  this.timeout(120_000);
  let api: ExecServerApi;
  let term: vscode.Terminal;
  const terminalsGroup = (): TreeSnapshotGroup | undefined => api.getTreeSnapshot().find((g) => g.contextValue === 'group.terminals');
  const row = (label: string, pred: (c: TreeSnapshotItem) => boolean = () => true) => terminalsGroup()?.children.find((c) => c.label === label && pred(c));

  /**
   * A bash terminal with shell integration active (VS Code injects its script into bash). Its
   * HOME is a fresh directory: the machine's ~/.bashrc is not what this tests (and a pyenv one
   * can make every bash wait a minute for a lock some killed shell left behind).
   */
  async function bashTerminal(name: string): Promise<vscode.Terminal> {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'exec-si-home-'));
    const t = vscode.window.createTerminal({ name, shellPath: '/bin/bash', shellArgs: [], env: { HOME: home } });
    const pid = await t.processId;
    if (pid) recordPid(pid);
    await waitFor(`shell integration in terminal "${name}"`, () => t.shellIntegration);
    return t;
  }

  before(async () => {
    api = await vscode.extensions.getExtension<ExecServerApi>(EXTENSION_ID)!.activate();
    await api.ready;
    assert.equal(api.terminalsObserved, true, 'VS Code 1.93+ has the shell-execution events');
    term = await bashTerminal('exec-si-probe');
  });
  after(() => term?.dispose());

  it('a command run with shell integration is listed with its command line, cwd and exit code, and its output reaches the output channel', async () => {
    const marker = `term-out-${process.pid}`;
    // VS Code streams a command's output to read() from the moment the renderer parses the
    // command's start; a command that prints in the same instant can lose its first output there
    // (seen with the first command of a new terminal). A short pause keeps this test about us.
    const cmd = `sleep 0.5; echo ${marker}; (exit 3)`;
    term.shellIntegration!.executeCommand(cmd);
    const item = await waitFor('the command listed as finished', () => row(cmd, (c) => c.contextValue === 'process.finished'));
    assert.match(item.description, /^exit 3 · terminal exec-si-probe · /);
    assert.equal(item.icon, 'error');
    const g = terminalsGroup()!;
    assert.equal(g.label, 'Terminals');
    assert.equal(g.icon, 'terminal');
    assert.equal(api.getTreeSnapshot().at(-1)?.contextValue, 'group.terminals', 'the terminals group comes last');

    await vscode.commands.executeCommand('execServer.showOutput', item.key);
    const text = await waitFor('the output channel has the output and the end', () => {
      const t = api.outputChannelText(item.key!);
      return t?.includes('[process ended: exit code 3]') ? t : null;
    });
    assert.ok(text.startsWith(`$ ${cmd}\n# cwd `), text);
    const cwd = /^# cwd (.*) · pid /m.exec(text)?.[1];
    assert.ok(cwd && cwd.startsWith('/'), `cwd known: ${text}`);
    assert.ok(text.includes(`${marker}\n`), JSON.stringify(text));
    assert.ok(!text.includes('\x1b'), 'escape sequences stripped');

    const ok = 'true';
    term.shellIntegration!.executeCommand(ok);
    const okItem = await waitFor('exit 0 listed', () => row(ok, (c) => c.icon === 'pass'));
    assert.match(okItem.description, /^exit 0 · terminal exec-si-probe · /);
  });

  it('live output while it runs; Open in Terminal shows its terminal; Terminate sends Ctrl-C: it ends and shows as killed', async () => {
    const cmd = `sleep 0.5; echo live-tick; sleep 301`;
    term.shellIntegration!.executeCommand(cmd);
    const item = await waitFor('running row', () => row(cmd, (c) => c.contextValue === 'process.running.terminal'));
    assert.match(item.description, /^running · terminal exec-si-probe · /);
    await vscode.commands.executeCommand('execServer.showOutput', item.key);
    await waitFor('live output in the channel while it runs', () => api.outputChannelText(item.key!)?.includes('live-tick\n'));
    assert.ok(!api.outputChannelText(item.key!)!.includes('[process ended'), 'still running');
    const other = vscode.window.createTerminal({ name: 'exec-si-other', shellPath: '/bin/sh' });
    other.show();
    await waitFor('the other terminal is active', () => vscode.window.activeTerminal === other);
    await vscode.commands.executeCommand('execServer.openInTerminal', item.key);
    await waitFor('Open in Terminal shows the command\'s terminal', () => vscode.window.activeTerminal === term);
    other.dispose();
    await vscode.commands.executeCommand('execServer.terminateProcess', item.key);
    await waitFor('the channel shows the end', () => api.outputChannelText(item.key!)?.includes('[process ended: exit code 130]'));
    const done = await waitFor('killed row', () => row(cmd, (c) => c.contextValue === 'process.finished'));
    assert.match(done.description, /^killed · terminal exec-si-probe · /);
    assert.equal(done.icon, 'circle-slash');
    assert.ok(vscode.window.terminals.includes(term), 'Ctrl-C was enough: the terminal stays open');
  });

  it('a command that ignores Ctrl-C: its terminal is closed after the grace period', async () => {
    const t2 = await bashTerminal('exec-si-stubborn');
    const cmd = `trap '' INT; sleep 302`;
    t2.shellIntegration!.executeCommand(cmd);
    const item = await waitFor('running row', () => row(cmd, (c) => c.contextValue === 'process.running.terminal'));
    await vscode.commands.executeCommand('execServer.terminateProcess', item.key);
    await waitFor('the terminal was closed', () => !vscode.window.terminals.includes(t2));
    const done = await waitFor('killed row', () => row(cmd, (c) => c.contextValue === 'process.finished'));
    assert.match(done.description, /^killed · terminal exec-si-stubborn · /);
  });

  it('finished terminal commands obey maxFinishedProcesses (newest kept) and Clear Finished removes them', async () => {
    const cfg = vscode.workspace.getConfiguration('execServer');
    await cfg.update('maxFinishedProcesses', 3, vscode.ConfigurationTarget.Global);
    try {
      for (let i = 0; i < 6; i++) {
        const cmd = `echo bounded-${i}`;
        term.shellIntegration!.executeCommand(cmd);
        await waitFor(`${cmd} finished`, () => row(cmd, (c) => c.icon === 'pass'));
      }
      // The bound drops a finished command once its output has ended (the read stream drained,
      // `closed`, at most ~2 s after the exit): until then its late output still has a row to go to.
      await waitFor('at most 3 finished rows', () => api.getTreeSnapshot().flatMap((g) => g.children).filter((c) => c.contextValue === 'process.finished').length <= 3);
      assert.ok(row('echo bounded-5'), 'the newest is kept');
      assert.ok(!row('echo bounded-0'), 'the oldest is gone');
    } finally {
      await cfg.update('maxFinishedProcesses', undefined, vscode.ConfigurationTarget.Global);
    }
    await vscode.commands.executeCommand('execServer.clearFinished');
    await waitFor('the group is gone with its rows', () => !terminalsGroup());
  });
});
