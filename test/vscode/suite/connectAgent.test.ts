import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import * as vscode from 'vscode';
import { AGENTS } from '../../../src/agents';
import type { DiscoveryInfo } from '../../../src/discovery/discoveryFiles';
import type { ConnectResult } from '../../../src/extension/connectAgent';
import type { ExecServerApi } from '../../../src/extension/extension';
import { alive, recordPid, waitFor } from './helpers';

const EXTENSION_ID = 'exec-server-dev.exec-server-vscode';

/** "Exec Server: Connect an Agent…": the set-ups of src/agents, pointed at the launcher. */
describe('Connect an Agent… (inside VS Code)', function () {
  this.timeout(90_000);
  let api: ExecServerApi;
  let launcher: string;
  let token: string;
  const homes: string[] = [];
  const tempHome = () => {
    const h = fs.mkdtempSync(path.join(os.tmpdir(), 'exec-connect-home-'));
    homes.push(h);
    return h;
  };
  const connect = (agent: string, action: string, opts: object = {}) => vscode.commands.executeCommand<ConnectResult | undefined>('execServer.connectAgent', agent, action, opts);

  before(async () => {
    api = await vscode.extensions.getExtension<ExecServerApi>(EXTENSION_ID)!.activate();
    await api.ready;
    launcher = (await api.launcher)!.path;
    token = (JSON.parse(fs.readFileSync(api.discoveryFile!, 'utf8')) as DiscoveryInfo).token;
  });
  after(async () => {
    homes.forEach((h) => fs.rmSync(h, { recursive: true, force: true }));
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('is contributed (palette, view title) and offers the seven agents', () => {
    const pkg = vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON as { contributes: { commands: Array<{ command: string; title: string }>; menus: Record<string, Array<{ command: string }>> } };
    assert.equal(pkg.contributes.commands.find((c) => c.command === 'execServer.connectAgent')?.title, 'Connect an Agent…');
    assert.ok(pkg.contributes.menus['view/title'].some((m) => m.command === 'execServer.connectAgent'));
    assert.deepEqual(AGENTS.map((a) => a.id), ['claude-code', 'gemini-cli', 'codex', 'copilot-cli', 'opencode', 'cursor', 'vscode']);
  });

  it('shows each agent\'s exact set-up beside, pointing at the launcher, with no token', async () => {
    for (const { id, label } of AGENTS) {
      const r = (await connect(id, 'show'))!;
      assert.equal(r.agent, id);
      assert.ok(r.text!.startsWith(`# Connect ${label} to the Exec Server`), r.text);
      for (const step of r.setup.steps) assert.ok(r.text!.includes(step.text.replace(/\n$/, '')), `${id}: step "${step.title}" shown`);
      assert.ok(r.text!.includes(launcher), `${id}: the launcher`);
      assert.ok(!r.text!.includes(token), `${id}: no token`);
      const shown = vscode.window.visibleTextEditors.find((e) => e.document.getText() === r.text);
      assert.ok(shown, `${id}: the set-up is open in an editor`);
      assert.equal(shown.document.languageId, 'markdown');
      assert.equal(shown.document.isDirty, false, 'read-only: closing it asks nothing');
    }
    const claude = (await connect('claude-code', 'show'))!;
    assert.ok(claude.text!.includes(`claude mcp add --scope user exec -- ${launcher} mcp`), claude.text);
    assert.ok(claude.text!.includes('"deny": [\n      "Bash"\n    ]'), 'the deny-Bash step');
  });

  it('Copy puts one step on the clipboard', async () => {
    const r = (await connect('claude-code', 'copy', { step: 0 }))!;
    assert.equal(await vscode.env.clipboard.readText(), r.setup.steps[0].text);
    assert.equal(r.text, `claude mcp add --scope user exec -- ${launcher} mcp`);
  });

  it('Write to Config merges into the agent\'s user files (keeping what is there); the written command runs the bridge, whose commands show under "Gemini CLI"', async () => {
    const home = tempHome();
    const settings = path.join(home, '.gemini', 'settings.json');
    fs.mkdirSync(path.dirname(settings), { recursive: true });
    fs.writeFileSync(settings, JSON.stringify({ theme: 'Dracula', tools: { exclude: ['web_fetch'] } }, null, 2));
    const r = (await connect('gemini-cli', 'write', { home }))!;
    assert.deepEqual(r.written, [settings]);
    const cfg = JSON.parse(fs.readFileSync(settings, 'utf8')) as { theme: string; tools: { exclude: string[] }; mcpServers: { exec: { command: string; args: string[] } } };
    assert.equal(cfg.theme, 'Dracula');
    assert.deepEqual(cfg.tools.exclude, ['web_fetch', 'run_shell_command']);
    assert.deepEqual(cfg.mcpServers.exec, { command: launcher, args: ['mcp'] });
    assert.ok(!fs.readFileSync(settings, 'utf8').includes(token));
    const again = (await connect('gemini-cli', 'write', { home }))!;
    assert.deepEqual(again.written, [], 'idempotent');

    // Start what the config says, the way Gemini CLI does (its own name, the folder as cwd).
    const folder = vscode.workspace.workspaceFolders![0].uri.fsPath;
    const transport = new StdioClientTransport({ command: cfg.mcpServers.exec.command, args: cfg.mcpServers.exec.args, cwd: folder, env: { XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '' } });
    const client = new Client({ name: 'gemini-cli-mcp-client', version: '0.61.0' });
    await client.connect(transport);
    recordPid(transport.pid!);
    try {
      const res = (await client.callTool({ name: 'run_command', arguments: { command: 'echo connected' } })) as CallToolResult;
      const out = res.structuredContent as { pid: number; exit_code: number; output: string };
      recordPid(out.pid);
      assert.equal(out.exit_code, 0);
      assert.equal(out.output.trim(), 'connected');
      await waitFor('under "Gemini CLI"', () => api.getTreeSnapshot().find((g) => g.label === 'Gemini CLI')?.children.find((c) => c.label === 'echo connected'));
    } finally {
      await client.close();
    }
    await waitFor('the bridge exited', () => !alive(transport.pid!));
    await vscode.commands.executeCommand('execServer.clearFinished');
  });

  it('Write reports the steps it cannot do (Copilot CLI\'s alias), and leaves a file it cannot merge untouched', async () => {
    const home = tempHome();
    const copilot = (await connect('copilot-cli', 'write', { home }))!;
    assert.deepEqual(copilot.written, [path.join(home, '.copilot', 'mcp-config.json')]);
    assert.deepEqual(copilot.manual!.map((m) => m.text), ["alias copilot='copilot --excluded-tools=bash --deny-tool=shell'"]);
    const claudeWrite = (await connect('claude-code', 'write', { home }))!;
    assert.deepEqual(claudeWrite.manual, [], '`claude mcp add` is done as the ~/.claude.json edit');
    assert.deepEqual([...claudeWrite.written!].sort(), [path.join(home, '.claude.json'), path.join(home, '.claude', 'settings.json')].sort());

    const cursorFile = path.join(home, '.cursor', 'mcp.json');
    fs.mkdirSync(path.dirname(cursorFile), { recursive: true });
    const jsonc = '{\n  // my servers\n  "mcpServers": {}\n}\n';
    fs.writeFileSync(cursorFile, jsonc);
    const bad = (await connect('cursor', 'write', { home }))!;
    assert.ok(bad.error, 'an error is reported');
    assert.equal(fs.readFileSync(cursorFile, 'utf8'), jsonc, 'untouched');
  });
});
