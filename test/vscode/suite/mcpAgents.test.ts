import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { ExecClient } from '../../../src/client/client';
import type { DiscoveryInfo } from '../../../src/discovery/discoveryFiles';
import type { ExecServerApi, TreeSnapshotGroup } from '../../../src/extension/extension';
import { recordPid, waitFor } from './helpers';

const EXTENSION_ID = 'exec-server-dev.exec-server-vscode';

/**
 * Agents by name: the tree groups processes under the agent's friendly name (friendlyAgentName
 * of the client's name) and shows the shell line an MCP bridge passed in its metadata rather
 * than the `bash -lc …` wrapper.
 */
describe('agents by name in the tree (inside VS Code)', () => {
  let api: ExecServerApi;
  let info: DiscoveryInfo;
  const clients: ExecClient[] = [];
  const group = (label: string): TreeSnapshotGroup | undefined => api.getTreeSnapshot().find((g) => g.label === label);

  before(async () => {
    api = await vscode.extensions.getExtension<ExecServerApi>(EXTENSION_ID)!.activate();
    await api.ready;
    info = JSON.parse(fs.readFileSync(api.discoveryFile!, 'utf8')) as DiscoveryInfo;
  });
  after(() => clients.forEach((c) => c.close()));

  it('two sessions of `claude-code` show under one "Claude Code" group, with the shell line and description from the metadata', async () => {
    const connect = async (name: string) => {
      const c = await ExecClient.connectWebSocket(info.url, { token: info.token, clientName: name });
      clients.push(c);
      return c;
    };
    const a = await connect('claude-code');
    const b = await connect('claude-code');
    const shellLine = 'echo from-claude && sleep 60';
    const pa = await a.start({
      processId: 'bridge-1',
      argv: ['bash', '-lc', `cd /tmp; ${shellLine}`],
      metadata: { source: 'mcp', command: shellLine, description: 'Wait a minute' },
    });
    recordPid(pa.pid);
    const rb = await b.run(['sh', '-c', 'exit 4'], { processId: 'bridge-2' });
    assert.equal(rb.exitCode, 4);

    const g = await waitFor('a "Claude Code" group with both processes', () => {
      const x = group('Claude Code');
      return x && x.children.length === 2 ? x : null;
    });
    assert.equal(api.getTreeSnapshot().filter((x) => x.label === 'Claude Code').length, 1, 'one group for both sessions');
    assert.ok(!api.getTreeSnapshot().some((x) => x.label === 'claude-code'), 'not under the raw client name');
    assert.match(g.description, /^connected · 2 sessions · 1 running · 1 done$/);
    assert.equal(g.icon, 'plug');
    assert.equal(g.contextValue, 'group.connected');
    const row = g.children.find((c) => c.key === `${a.sessionId}/bridge-1`)!;
    assert.equal(row.label, shellLine, 'the shell line the agent asked for, not the bash -lc wrapper');
    assert.match(row.description, new RegExp(`^running · pid ${pa.pid} · .* · Wait a minute$`));
    const done = g.children.find((c) => c.key === `${b.sessionId}/bridge-2`)!;
    assert.equal(done.label, 'exit 4');
    assert.match(done.description, /^exit 4 · /);

    // Copy Command copies the shell line (what the user would run again), not the wrapper.
    await vscode.commands.executeCommand('execServer.copyCommand', row.key);
    assert.equal(await vscode.env.clipboard.readText(), shellLine);

    await vscode.commands.executeCommand('execServer.terminateProcess', row.key);
    await waitFor('terminated', () => group('Claude Code')?.children.find((c) => c.key === row.key && c.contextValue === 'process.finished'));
  });

  it('known clients get their friendly names; others keep theirs', async () => {
    const names: Array<[string, string]> = [
      ['gemini-cli-mcp-client', 'Gemini CLI'],
      ['codex-mcp-client', 'codex'],
      ['Visual Studio Code', 'Copilot'],
      [`some-other-agent-${process.pid}`, `some-other-agent-${process.pid}`],
    ];
    for (const [clientName] of names) {
      const c = await ExecClient.connectWebSocket(info.url, { token: info.token, clientName });
      clients.push(c);
      await c.run(['sh', '-c', `echo ${JSON.stringify(clientName)}`], { processId: 'named', metadata: { source: 'cli', name: 'probe run' } });
    }
    for (const [, label] of names) {
      const g = await waitFor(`group ${label}`, () => group(label));
      const row = g.children.find((c) => c.key?.endsWith('/named'));
      assert.ok(row, `the process is under ${label}`);
      assert.match(row.description, /^exit 0 · pid \d+ · .* · probe run$/, 'the CLI --name is shown');
    }
  });

  it('Clear Finished removes the finished rows; groups of closed sessions go with them', async () => {
    clients.splice(0).forEach((c) => c.close());
    await waitFor('sessions ended', () => group('Gemini CLI')?.description.startsWith('ended'));
    await vscode.commands.executeCommand('execServer.clearFinished');
    await waitFor('groups gone', () => !group('Gemini CLI') && !group('Claude Code') && !group('codex'));
  });
});
