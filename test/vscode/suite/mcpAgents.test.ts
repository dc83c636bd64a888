import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import * as vscode from 'vscode';
import { ExecClient } from '../../../src/client/client';
import type { DiscoveryInfo } from '../../../src/discovery/discoveryFiles';
import type { ExecServerApi, TreeSnapshotGroup } from '../../../src/extension/extension';
import { alive, recordPid, waitFor } from './helpers';

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

  it('an MCP agent started outside VS Code in the workspace folder (clientInfo claude-code) finds the window by discovery: its command shows under "Claude Code"', async () => {
    // Launched like a real agent launches the bridge: the launcher (VS Code's Node, no node on
    // PATH), cwd = the workspace folder, no EXEC_SERVER_* variable (the SDK's stdio transport
    // passes only HOME, PATH, SHELL, TERM, USER… plus what is given: the discovery dir here).
    const launcher = (await api.launcher)!.path;
    const folder = vscode.workspace.workspaceFolders![0].uri.fsPath;
    const transport = new StdioClientTransport({
      command: launcher,
      args: ['mcp'],
      cwd: folder,
      env: { XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '', HOME: fs.mkdtempSync(path.join(os.tmpdir(), 'exec-agent-home-')) },
      stderr: 'pipe',
    });
    const client = new Client({ name: 'claude-code', version: '2.1.332' });
    await client.connect(transport);
    const bridgePid = transport.pid!;
    recordPid(bridgePid);
    try {
      const marker = `from-the-bridge-${process.pid}`;
      const r = (await client.callTool({ name: 'run_command', arguments: { command: `echo ${marker} in $PWD`, description: 'Print the folder', yield_ms: 30_000 } })) as CallToolResult;
      assert.notEqual(r.isError, true, JSON.stringify(r.content));
      const out = r.structuredContent as { pid: number; status: string; exit_code: number; output: string };
      recordPid(out.pid);
      assert.equal(out.status, 'exited');
      assert.equal(out.exit_code, 0);
      assert.equal(out.output.trim(), `${marker} in ${folder}`);
      const row = await waitFor('the command under "Claude Code"', () => group('Claude Code')?.children.find((c) => c.label === `echo ${marker} in $PWD`));
      assert.match(row.description, new RegExp(`^exit 0 · pid ${out.pid} · .* · Print the folder$`));
      // A running one: the bridge going away (the agent quits) ends it, visibly.
      const long = (await client.callTool({ name: 'run_command', arguments: { command: 'sleep 305', yield_ms: 0 } })) as CallToolResult;
      const lp = (long.structuredContent as { pid: number }).pid;
      recordPid(lp);
      await waitFor('running under "Claude Code"', () => group('Claude Code')?.children.find((c) => c.description.startsWith(`running · pid ${lp} `)));
      await client.close();
      await waitFor('the bridge exited', () => !alive(bridgePid));
      await waitFor('its process ended', () => !alive(lp));
      await waitFor('shown as ended', () => group('Claude Code')?.children.find((c) => c.description.includes(`pid ${lp} `) && c.contextValue === 'process.finished'));
    } finally {
      await client.close().catch(() => undefined);
    }
    assert.ok(path.isAbsolute(launcher));
  });

  it('Clear Finished removes the finished rows; groups of closed sessions go with them', async () => {
    clients.splice(0).forEach((c) => c.close());
    await waitFor('sessions ended', () => group('Gemini CLI')?.description.startsWith('ended'));
    await vscode.commands.executeCommand('execServer.clearFinished');
    await waitFor('groups gone', () => !group('Gemini CLI') && !group('Claude Code') && !group('codex'));
  });
});
