import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { ExecClient } from '../../../src/client/client';
import { discoveryDir, type DiscoveryInfo } from '../../../src/discovery/discoveryFiles';
import type { ExecServerApi } from '../../../src/extension/extension';
import { alive, groupMembers, procStat, recordPid, waitFor } from './helpers';

const EXTENSION_ID = 'exec-server-dev.exec-server-vscode';
const MODE = process.env.EXEC_SERVER_EXPECT_MODE ?? 'inProcess';

/** Every file under `root` (bounded walk) that contains one of `needles`: [file, needle]. */
function findIn(roots: string[], needles: string[]): Array<[string, string]> {
  const hits: Array<[string, string]> = [];
  const stack = roots.map((r) => ({ dir: r, depth: 0 }));
  let files = 0;
  while (stack.length > 0 && files < 5_000) {
    const { dir, depth } = stack.pop()!;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.isDirectory() && depth < 10) stack.push({ dir: p, depth: depth + 1 });
      if (!e.isFile()) continue;
      files++;
      let text: string;
      try {
        text = fs.readFileSync(p, 'latin1'); // byte-for-byte: a token is ASCII
      } catch {
        continue;
      }
      for (const n of needles) if (text.includes(n)) hits.push([p, n]);
    }
  }
  return hits;
}

/** The child-mode server process (our CLI, a child of this extension host), if any. */
function childServerPid(): number | undefined {
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid && fs.readFileSync(`/proc/${name}/cmdline`, 'utf8').includes('--admin-stdio')) return Number(name);
    } catch {
      // gone
    }
  }
  return undefined;
}

/**
 * The token must never appear in anything the extension writes for people to read: its log
 * channel, its per-process output channels, the messages it shows (the Notifier logs each one),
 * nor anything the extension host or VS Code server logs while the extension runs. The test
 * drives the paths that log and show messages (activation, processes started, terminated and
 * failing, a server restart, a server that cannot start, in child mode a server that dies),
 * then reads every log file VS Code wrote for this window and looks for every token the
 * server had. Controls: the token is a real one (it authenticates), the scan finds it where it
 * is written (the discovery file), and canaries sent through the same channels are found.
 */
describe(`the token never appears in logs or messages (inside VS Code, ${MODE} host)`, function () {
  this.timeout(180_000);
  let api: ExecServerApi;
  const tokens = new Set<string>();
  const readInfo = () => JSON.parse(fs.readFileSync(api.discoveryFile!, 'utf8')) as DiscoveryInfo;

  before(async () => {
    api = await vscode.extensions.getExtension<ExecServerApi>(EXTENSION_ID)!.activate();
    await api.ready;
  });

  it('shows every message through the Notifier, which logs it (so the log files hold all of them)', () => {
    // A static guard: a direct window.show*Message call would bypass the log checked below.
    const dir = path.join(vscode.extensions.getExtension(EXTENSION_ID)!.extensionPath, 'src', 'extension');
    const offenders = fs
      .readdirSync(dir, { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts') && path.basename(f) !== 'notify.ts')
      .filter((f) => /window\s*\.\s*show(Error|Warning|Information)Message/.test(fs.readFileSync(path.join(dir, f), 'utf8')));
    assert.deepEqual(offenders, []);
  });

  it('after processes, failures and restarts, no log file VS Code wrote holds the token', async () => {
    let info = readInfo();
    tokens.add(info.token);
    // Control 1: a real token — non-trivial, and the server accepts it (and refuses another).
    assert.match(info.token, /^[A-Za-z0-9_-]{43}$/);
    const client = await ExecClient.connectWebSocket(info.url, { token: info.token, clientName: 'security-probe' });
    await assert.rejects(ExecClient.connectWebSocket(info.url, { token: `${info.token}x`, clientName: 'security-probe' }));
    // Control 2: the scan finds the token where it is meant to be written.
    assert.ok(findIn([discoveryDir()], [info.token]).length > 0, 'the scan finds the token in the discovery file');

    // Canaries, shaped like tokens, sent through what the extension writes: an output channel
    // (the process prints one) and the log channel (its key is logged when it is terminated).
    const canaryOut = randomBytes(32).toString('base64url');
    const canaryLog = randomBytes(32).toString('base64url');
    const p = await client.start({ processId: `sec-${canaryLog}`, argv: ['sh', '-c', `echo ${canaryOut}; exec sleep 120`] });
    recordPid(p.pid);
    const key = `${client.sessionId}/sec-${canaryLog}`;
    await waitFor('listed', () => api.findProcessNode(p.pid));
    await vscode.commands.executeCommand('execServer.showOutput', key);
    await waitFor('printed', () => api.outputChannelText(key)?.includes(canaryOut));
    await vscode.commands.executeCommand('execServer.terminateProcess', api.findProcessNode(p.pid));
    await waitFor('terminated', () => groupMembers(p.pid).length === 0);
    // A process that cannot start, and a command on a process that is no longer listed.
    await assert.rejects(client.start({ processId: 'sec-missing', argv: ['/nonexistent/exec-server-test-binary'] }));
    await vscode.commands.executeCommand('execServer.terminateProcess', `${client.sessionId}/never-existed`);
    // Copying the URL puts the token on the clipboard (by design), never in a message.
    await Promise.resolve(vscode.commands.executeCommand('execServer.copyUrl')).catch(() => undefined);
    client.close();

    // A restart (it keeps the token, issue 14).
    await vscode.commands.executeCommand('execServer.restart');
    assert.equal(api.state, 'running');
    info = readInfo();
    tokens.add(info.token);

    // A server that cannot start: its port is taken.
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const busy = (blocker.address() as net.AddressInfo).port;
    const cfg = vscode.workspace.getConfiguration('execServer');
    try {
      await cfg.update('port', busy, vscode.ConfigurationTarget.Global);
      await vscode.commands.executeCommand('execServer.restart');
      assert.equal(api.state, 'failed', `listening on a taken port ${busy} must fail`);
    } finally {
      await cfg.update('port', undefined, vscode.ConfigurationTarget.Global);
      await new Promise((r) => blocker.close(r));
    }
    await vscode.commands.executeCommand('execServer.restart');
    assert.equal(api.state, 'running');
    info = readInfo();
    tokens.add(info.token);

    if (MODE === 'child') {
      // A server that dies: the extension reports it (with the end of its stderr) and restarts.
      const pid = await waitFor('the child server', () => childServerPid());
      process.kill(pid, 'SIGKILL');
      await waitFor('the extension noticed', () => api.state === 'failed');
      await waitFor('the child is gone', () => !alive(pid) || procStat(pid)?.state === 'Z');
      await vscode.commands.executeCommand('execServer.restart');
      assert.equal(api.state, 'running');
      tokens.add(readInfo().token);
    }
    // A restart keeps the token (issue 14's stable address): one token, through every restart.
    assert.ok(tokens.size >= 1, `tokens seen: ${tokens.size}`);

    // Every log VS Code wrote for this user-data dir: the extension's log channel and output
    // channels, the extension host's and the server's own logs, all sessions and windows.
    const logsRoot = path.resolve(api.logDirectory, '..', '..', '..');
    assert.equal(path.basename(logsRoot), 'logs', `log root ${logsRoot}`);
    // VS Code writes the files asynchronously: wait until the canaries (logged last) are there.
    let seen = '';
    await waitFor('the canaries reached the log files', () => {
      const hits = findIn([logsRoot], [canaryOut, canaryLog]);
      const inLogChannel = hits.some(([f, n]) => n === canaryLog && path.basename(f) === 'Exec Server.log');
      const inOutputChannel = hits.some(([f, n]) => n === canaryOut && path.basename(path.dirname(f)).startsWith('output_logging_'));
      seen = `in the log channel: ${inLogChannel}, in the output channel's file: ${inOutputChannel}, files with a canary: ${hits.map(([f]) => path.relative(logsRoot, f)).join(', ') || 'none'}`;
      return inLogChannel && inOutputChannel;
    }).catch((e: Error) => {
      throw new Error(`${e.message} (${seen})`);
    });
    // Messages shown to the user are in the scanned files too (the failure above was one).
    const shown = `[notification] Exec Server failed to start: port ${busy} on 127.0.0.1 is already in use`;
    await waitFor('the failure notification is in the log', () => findIn([logsRoot], [shown]).length > 0);

    const needles = [...tokens].flatMap((t) => [t, encodeURIComponent(t)]);
    assert.deepEqual(findIn([logsRoot], needles), [], 'no log file contains a token');
  });
});
