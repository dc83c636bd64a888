import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { ExecClient } from '../../../src/client/client';
import type { ExecServerApi, TreeSnapshotItem } from '../../../src/extension/extension';
import { discoveryDir, type DiscoveryInfo } from '../../../src/discovery/discoveryFiles';
import { CHANNEL_MAX_CHARS } from '../../../src/extension/outputThrottle';
import { alive, groupMembers, recordPid, waitFor } from './helpers';

const EXTENSION_ID = 'exec-server-dev.exec-server-vscode';

describe(`Exec Server extension (inside VS Code, ${process.env.EXEC_SERVER_EXPECT_MODE ?? 'inProcess'} host)`, () => {
  let api: ExecServerApi;
  let info: DiscoveryInfo;
  let client: ExecClient;
  const clientName = `suite-agent-${process.pid}`;

  const findItem = (pid: number): TreeSnapshotItem | undefined => {
    for (const s of api.getTreeSnapshot()) for (const c of s.children) if (c.description.includes(`pid ${pid}`)) return c;
    return undefined;
  };

  after(() => client?.close());

  it('activates on startup and starts the server', async () => {
    const ext = vscode.extensions.getExtension<ExecServerApi>(EXTENSION_ID);
    assert.ok(ext, 'extension is installed');
    api = await ext.activate();
    await api.ready;
    assert.equal(api.state, 'running');
    assert.ok(api.port && api.port > 0);
    assert.match(api.url ?? '', /^ws:\/\/127\.0\.0\.1:\d+$/);
    // The runner runs this suite once per host mode (workspace setting execServer.hostMode).
    assert.equal(api.mode, process.env.EXEC_SERVER_EXPECT_MODE ?? 'inProcess');
    await waitFor('status bar shows the port', () => api.statusBarText === `$(server-process) Exec :${api.port} · 0`);
  });

  it('writes a 0600 discovery file in a 0700 per-user directory', async () => {
    const file = api.discoveryFile;
    assert.ok(file, 'discovery file path');
    assert.equal(path.dirname(file), discoveryDir());
    if (process.env.XDG_RUNTIME_DIR) assert.equal(path.dirname(file), path.join(process.env.XDG_RUNTIME_DIR, 'exec-server-vscode'));
    // Child mode: the file names the server process, which outlives a reload (issue 14).
    const owner = api.mode === 'child' ? Number(/^server-(\d+)-/.exec(path.basename(file))?.[1]) : process.pid;
    if (api.mode === 'child') assert.match(fs.readFileSync(`/proc/${owner}/cmdline`, 'utf8'), /cli\.js/);
    assert.equal(path.basename(file), `server-${owner}-${api.port}.json`);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.equal(fs.statSync(path.dirname(file)).mode & 0o777, 0o700);
    info = JSON.parse(fs.readFileSync(file, 'utf8'));
    assert.equal(info.url, api.url);
    assert.equal(info.port, api.port);
    assert.equal(info.pid, owner);
    assert.equal(info.protocolVersion, 'exec-server.v0');
    assert.ok(info.token.length >= 32);
    assert.ok(Array.isArray(info.workspaceFolders));
    assert.deepEqual(info.workspaceFolders, (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath));
    assert.equal(typeof info.appName, 'string');
    assert.ok(!Number.isNaN(Date.parse(info.startedAt)));
  });

  it('a WebSocket client using the discovery file can run a process', async () => {
    client = await ExecClient.connectWebSocket(info.url, { token: info.token, clientName, resumeSessionId: null });
    const r = await client.run(['sh', '-c', 'echo hello from $0'], { processId: 'hello' });
    assert.equal(r.exitCode, 0);
    assert.equal(r.stdout.toString(), 'hello from sh\n');
    await assert.rejects(ExecClient.connectWebSocket(info.url, { token: 'wrong', clientName }), 'a wrong token is refused');
  });

  it("shows the client's process in the tree, then terminates it and its group from the tree command", async () => {
    // A shell with a background grandchild: both are in the process group the server created.
    const started = await client.start({
      processId: 'sleeper',
      argv: ['sh', '-c', 'sleep 300 & sleep 301; wait'],
      metadata: { threadId: 'thread-1', toolCallId: 'call-1' },
    });
    recordPid(started.pid);
    const item = await waitFor('process in the tree', () => findItem(started.pid));
    for (const m of await waitFor('group has the grandchild', () => (groupMembers(started.pid).length >= 3 ? groupMembers(started.pid) : null))) recordPid(m);
    assert.equal(item.label, 'sleep 300 & sleep 301; wait');
    assert.match(item.description, new RegExp(`^running · pid ${started.pid} · `));
    assert.equal(item.icon, 'loading~spin');
    assert.equal(item.contextValue, 'process.running.pipe');
    const session = api.getTreeSnapshot().find((s) => s.label === clientName);
    assert.ok(session, 'session node labelled with the client name');
    assert.match(session.description, /^connected · 1 running/);
    assert.equal(session.icon, 'plug');
    await waitFor('status bar counts it', () => api.statusBarText.endsWith(' · 1'));

    const node = api.findProcessNode(started.pid);
    assert.ok(node);
    await vscode.commands.executeCommand('execServer.terminateProcess', node);
    await waitFor('the whole group is gone', () => groupMembers(started.pid).length === 0);
    assert.equal(alive(started.pid), false);
    const after = await waitFor('tree shows it killed', () => {
      const i = findItem(started.pid);
      return i && i.icon === 'circle-slash' ? i : null;
    });
    assert.match(after.description, /^killed \(SIGTERM\) · pid /);
    assert.equal(after.contextValue, 'process.finished');
    await waitFor('status bar count back to 0', () => api.statusBarText.endsWith(' · 0'));
  });

  it('shows exit status icons and streams output, ANSI stripped, into a per-process output channel', async () => {
    const ok = await client.run(['sh', '-c', "printf '\\033[31mred\\033[0m text\\n'; sleep 0.2; echo later"], { processId: 'colors' });
    assert.equal(ok.exitCode, 0);
    const bad = await client.run(['sh', '-c', 'exit 3'], { processId: 'fails' });
    assert.equal(bad.exitCode, 3);
    const snap = api.getTreeSnapshot().find((s) => s.label === clientName)!;
    const okItem = await waitFor('exit 0 row', () => api.getTreeSnapshot().find((s) => s.label === clientName)?.children.find((c) => c.key?.endsWith('/colors') && c.icon === 'pass'));
    assert.match(okItem.description, /^exit 0 · pid \d+ · /);
    const badItem = await waitFor('exit 3 row', () => api.getTreeSnapshot().find((s) => s.label === clientName)?.children.find((c) => c.key?.endsWith('/fails') && c.icon === 'error'));
    assert.match(badItem.description, /^exit 3 · /);
    assert.ok(snap);

    await vscode.commands.executeCommand('execServer.showOutput', okItem.key);
    const text = await waitFor('output channel filled', () => {
      const t = api.outputChannelText(okItem.key!);
      return t && t.includes('[process ended: exit code 0]') ? t : null;
    });
    assert.ok(text.includes('red text\nlater\n'), text);
    assert.ok(!text.includes('\x1b'), 'no escape sequences');

    // Live output: the channel is opened while the process runs, then it prints more.
    await client.start({ processId: 'live', argv: ['sh', '-c', 'echo first; read line; echo "got $line"'], pipeStdin: true });
    const liveKey = await waitFor('live row', () => api.getTreeSnapshot().find((s) => s.label === clientName)?.children.find((c) => c.key?.endsWith('/live'))?.key);
    await waitFor('first line retained', async () => {
      const r = await client.read('live', { afterSeq: 0 });
      return r.chunks.length > 0;
    });
    await vscode.commands.executeCommand('execServer.showOutput', liveKey);
    await waitFor('retained part', () => api.outputChannelText(liveKey)?.includes('first\n'));
    await client.write('live', 'second\n');
    await waitFor('live part', () => api.outputChannelText(liveKey)?.includes('got second\n'));
  });

  it('attaches a terminal to a running PTY process: replay, live output, keystrokes go to the process', async () => {
    let seen = '';
    const onOut = (e: { processId: string; data: Buffer }) => {
      if (e.processId === 'pty') seen += e.data.toString();
    };
    client.on('output', onOut);
    const p = await client.start({ processId: 'pty', argv: ['sh', '-c', 'echo ready; read x; echo "got:$x"'], tty: true });
    recordPid(p.pid);
    await waitFor('the PTY process printed', () => seen.includes('ready'));
    const key = await waitFor('pty row', () => api.getTreeSnapshot().find((s) => s.label === clientName)?.children.find((c) => c.key?.endsWith('/pty')));
    assert.equal(key.contextValue, 'process.running.tty');
    const before = vscode.window.terminals.length;
    await vscode.commands.executeCommand('execServer.openInTerminal', key.key);
    const term = await waitFor('terminal opened', () => vscode.window.terminals.length > before && vscode.window.terminals.find((t) => t.name.startsWith('Exec: ')));
    term.sendText('typed-in-terminal', true);
    await waitFor('the process received the keystrokes', () => seen.includes('got:typed-in-terminal'));
    client.off('output', onOut);
    await waitFor('tree shows it finished', () => api.getTreeSnapshot().find((s) => s.label === clientName)?.children.find((c) => c.key?.endsWith('/pty') && c.icon === 'pass'));
    term.dispose();
  });

  it('stays bounded under load: 200 processes, an output flood, finished rows capped (newest kept)', async () => {
    const cfg = vscode.workspace.getConfiguration('execServer');
    await cfg.update('maxFinishedProcesses', 50, vscode.ConfigurationTarget.Global);
    try {
      // 8 MB of output while its output channel is open: appends are batched and bounded.
      const flood = await client.start({ processId: 'flood', argv: ['sh', '-c', 'head -c 8000000 /dev/zero | tr "\\0" x; echo; echo flood-done'] });
      recordPid(flood.pid);
      await vscode.commands.executeCommand('execServer.showOutput', `${client.sessionId}/flood`);
      const runs: Array<Promise<unknown>> = [];
      for (let i = 0; i < 200; i++) runs.push(client.run(['sh', '-c', `exit $((${i} % 2))`], { processId: `burst-${i}` }));
      await Promise.all(runs);
      await client.wait('flood');
      const rows = await waitFor('burst finished and pruned', () => {
        const all = api.getTreeSnapshot().flatMap((s) => s.children);
        const burst = all.filter((c) => c.key?.includes('/burst-'));
        // The model has caught up with the burst once its last process shows (in child mode its
        // events queue behind the flood's output on the admin pipe).
        const caughtUp = burst.some((c) => c.key?.endsWith('/burst-199'));
        return caughtUp && all.filter((c) => c.contextValue === 'process.finished').length <= 50 && all.every((c) => c.contextValue === 'process.finished' || !c.key?.includes('/burst-')) ? burst : null;
      });
      // The newest are kept: some of the last ones started are listed, most of the first ones are not.
      const idx = rows.map((c) => Number(c.key!.split('/burst-')[1]));
      assert.ok(idx.some((i) => i >= 190), `kept: ${idx.join(',')}`);
      assert.ok(idx.filter((i) => i < 100).length < idx.filter((i) => i >= 100).length, `kept: ${idx.join(',')}`);
      const text = await waitFor('flood channel ended', () => {
        const t = api.outputChannelText(`${client.sessionId}/flood`);
        return t?.includes('[process ended') ? t : null;
      });
      assert.ok(text.length <= CHANNEL_MAX_CHARS, `channel text bounded (${text.length})`);
      // Deterministic: a finished process with more retained output than a replay may carry.
      await client.run(['sh', '-c', 'head -c 3000000 /dev/zero | tr "\\0" y; echo; echo flood2-done'], { processId: 'flood2' });
      await vscode.commands.executeCommand('execServer.showOutput', `${client.sessionId}/flood2`);
      const text2 = await waitFor('flood2 channel ended', () => {
        const t = api.outputChannelText(`${client.sessionId}/flood2`);
        return t?.includes('[process ended') ? t : null;
      });
      assert.match(text2, /earlier output was discarded/);
      assert.match(text2, /characters skipped/);
      assert.ok(text2.includes('flood2-done\n'));
      assert.ok(text2.length <= CHANNEL_MAX_CHARS);
      assert.ok(text.includes('flood-done'));
    } finally {
      await cfg.update('maxFinishedProcesses', undefined, vscode.ConfigurationTarget.Global);
    }
  });

  it('gives integrated terminals EXEC_SERVER_URL and EXEC_SERVER_TOKEN', async () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'exec-env-')), 'env.txt');
    const term = vscode.window.createTerminal({
      name: 'env probe',
      shellPath: '/bin/sh',
      shellArgs: ['-c', `printf '%s\\n%s\\n' "$EXEC_SERVER_URL" "$EXEC_SERVER_TOKEN" > ${out}.tmp && mv ${out}.tmp ${out}`],
    });
    const text = await waitFor('the terminal wrote its environment', () => (fs.existsSync(out) ? fs.readFileSync(out, 'utf8') : null));
    term.dispose();
    assert.equal(text, `${info.url}\n${info.token}\n`);
  });

  it('restart: cleans stale discovery files, advertises the new server, removes the old file', async () => {
    const dead = spawnSync('true').pid!;
    const stale = path.join(discoveryDir(), `server-${dead}-1.json`);
    fs.writeFileSync(stale, '{}', { mode: 0o600 });
    await client.run(['true'], { processId: 'before-restart' });
    await waitFor('listed', () => api.getTreeSnapshot().some((s) => s.children.some((c) => c.key?.endsWith('/before-restart') && c.icon === 'pass')));
    const oldFile = api.discoveryFile!;
    await vscode.commands.executeCommand('execServer.restart');
    assert.equal(api.state, 'running');
    assert.equal(fs.existsSync(stale), false, 'stale file removed');
    const newFile = api.discoveryFile!;
    if (newFile !== oldFile) assert.equal(fs.existsSync(oldFile), false, 'old file removed');
    const fresh = JSON.parse(fs.readFileSync(newFile, 'utf8')) as DiscoveryInfo;
    // A stable address (issue 14): a restart keeps the URL and the token.
    assert.equal(fresh.token, info.token, 'the same token after a restart');
    assert.equal(fresh.url, info.url, 'the same URL after a restart');
    // The old connection was closed by the restart; a new one works with the new file.
    client.close();
    client = await ExecClient.connectWebSocket(fresh.url, { token: fresh.token, clientName });
    // Leave one process running: deactivation must terminate it (checked after the window closes).
    const left = await client.start({ processId: 'left-running', argv: ['sh', '-c', 'sleep 303 & sleep 304; wait'] });
    recordPid(left.pid);
    await waitFor('grandchild started', () => groupMembers(left.pid).length >= 3);
    for (const m of groupMembers(left.pid)) recordPid(m);
    // Finished processes from before the restart are still listed until cleared.
    assert.ok(api.getTreeSnapshot().some((s) => s.children.some((c) => c.key?.endsWith('/before-restart'))));
    const cleared = await vscode.commands.executeCommand<number>('execServer.clearFinished');
    assert.ok(cleared >= 1);
    assert.ok(!api.getTreeSnapshot().some((s) => s.children.some((c) => c.key?.endsWith('/before-restart'))));
    await waitFor('running one still listed', () => findItem(left.pid));
  });
});
