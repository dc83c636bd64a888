import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { DiscoveryInfo } from '../../../src/discovery/discoveryFiles';
import type { ExecServerApi } from '../../../src/extension/extension';
import { MCP_PROVIDER_ID, MCP_SERVER_LABEL, McpServerProvider, type McpProvider, type McpStdioDefinition } from '../../../src/extension/mcpProvider';
import type { ServerController } from '../../../src/extension/serverController';
import { recordPid, waitFor } from './helpers';
import { requireVscode, vscodeAtLeast } from './vscodeVersion';

const EXTENSION_ID = 'exec-server-dev.exec-server-vscode';
const HAS_PROVIDER_API = vscodeAtLeast('1.101');
const NEEDS = 'MCP server definition providers';

/** A definition as VS Code's class builds it (positional arguments). */
class FakeStdioDefinition implements McpStdioDefinition {
  constructor(
    readonly label: string,
    public command: string,
    public args: string[] = [],
    public env: Record<string, string | number | null> = {},
    public version?: string,
  ) {}
}

/** Just the ServerController surface the provider reads. */
function fakeController(): { ctl: ServerController; set(url: string | undefined, token?: string): void } {
  const emitter = new vscode.EventEmitter<void>();
  const s = { state: 'running', url: 'ws://127.0.0.1:1111' as string | undefined, token: 'secret-token-one' as string | undefined };
  const ctl = { get state() { return s.state; }, get url() { return s.url; }, get token() { return s.token; }, onDidChangeState: emitter.event } as unknown as ServerController;
  return {
    ctl,
    set: (url, token) => {
      s.state = url ? 'running' : 'stopped';
      s.url = url;
      s.token = token;
      emitter.fire();
    },
  };
}

describe(`VS Code's agent with no set-up: the MCP server definition provider (VS Code ${vscode.version})`, function () {
  this.timeout(120_000);
  let api: ExecServerApi;
  const log = vscode.window.createOutputChannel('exec-server-mcp-test', { log: true });
  after(() => log.dispose());

  before(async () => {
    api = await vscode.extensions.getExtension<ExecServerApi>(EXTENSION_ID)!.activate();
    await api.ready;
  });

  it('contributes mcpServerDefinitionProviders with a non-empty id and label matching the registration', () => {
    const pkg = vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON as { contributes: { mcpServerDefinitionProviders: Array<{ id: string; label: string }> } };
    assert.deepEqual(pkg.contributes.mcpServerDefinitionProviders, [{ id: MCP_PROVIDER_ID, label: MCP_SERVER_LABEL }]);
  });

  it('definitions: the bridge with VS Code\'s Node; the token only in the resolved one; a new version and a change event when the URL changes; Cursor registered without the token', () => {
    const fake = fakeController();
    let provider: McpProvider | undefined;
    const cursorCalls: Array<['register', unknown] | ['unregister', string]> = [];
    const mcp = new McpServerProvider(fake.ctl, '/ext', log, {
      version: '1.101.0',
      lm: { registerMcpServerDefinitionProvider: (id, p) => { assert.equal(id, MCP_PROVIDER_ID); provider = p; return { dispose: () => undefined }; } },
      McpStdioServerDefinition: FakeStdioDefinition,
      cursor: { mcp: { registerServer: (c) => cursorCalls.push(['register', c]), unregisterServer: (n) => cursorCalls.push(['unregister', n]) } },
    });
    try {
      assert.ok(provider && mcp.viaProviderApi && mcp.viaCursorApi);
      let changes = 0;
      provider.onDidChangeMcpServerDefinitions!(() => changes++);
      const provided = provider.provideMcpServerDefinitions(new vscode.CancellationTokenSource().token) as McpStdioDefinition[];
      assert.equal(provided.length, 1);
      const def = provided[0];
      assert.equal(def.label, MCP_SERVER_LABEL);
      assert.equal(def.command, process.execPath);
      assert.deepEqual(def.args, [path.join('/ext', 'dist', 'cli.js'), 'mcp']);
      assert.deepEqual(def.env, { ELECTRON_RUN_AS_NODE: '1', EXEC_SERVER_URL: 'ws://127.0.0.1:1111', EXEC_SERVER_TOKEN: null });
      assert.ok(!JSON.stringify(provided).includes('secret-token-one'), 'no token in what VS Code caches');
      const v1 = def.version;

      const resolved = provider.resolveMcpServerDefinition!(def, new vscode.CancellationTokenSource().token) as McpStdioDefinition;
      assert.equal(resolved.env.EXEC_SERVER_TOKEN, 'secret-token-one');
      assert.equal(resolved.env.EXEC_SERVER_URL, 'ws://127.0.0.1:1111');

      // A restart: a new URL and token.
      fake.set('ws://127.0.0.1:2222', 'secret-token-two');
      assert.equal(changes, 1);
      const [def2] = provider.provideMcpServerDefinitions(new vscode.CancellationTokenSource().token) as McpStdioDefinition[];
      assert.notEqual(def2.version, v1);
      assert.equal(def2.env.EXEC_SERVER_URL, 'ws://127.0.0.1:2222');
      // A definition VS Code cached before the restart resolves to the current server.
      const stale = new FakeStdioDefinition(MCP_SERVER_LABEL, process.execPath, def.args, { ...def.env }, v1);
      const r2 = provider.resolveMcpServerDefinition!(stale, new vscode.CancellationTokenSource().token) as McpStdioDefinition;
      assert.equal(r2.env.EXEC_SERVER_URL, 'ws://127.0.0.1:2222');
      assert.equal(r2.env.EXEC_SERVER_TOKEN, 'secret-token-two');

      // Stopped: no URL, no token.
      fake.set(undefined);
      assert.equal(changes, 2);
      const [def3] = provider.provideMcpServerDefinitions(new vscode.CancellationTokenSource().token) as McpStdioDefinition[];
      assert.equal(def3.env.EXEC_SERVER_URL, null);
      assert.equal(def3.env.EXEC_SERVER_TOKEN, null);

      // Cursor: registered at start and again at each URL change, never with a token.
      assert.deepEqual(cursorCalls.map((c) => c[0]), ['register', 'unregister', 'register', 'unregister', 'register']);
      const registered = cursorCalls.filter((c) => c[0] === 'register').map((c) => c[1] as { name: string; server: { command: string; args: string[]; env: Record<string, string> } });
      assert.equal(registered[0].name, 'exec-server');
      assert.deepEqual(registered[0].server, { command: process.execPath, args: def.args, env: { ELECTRON_RUN_AS_NODE: '1', EXEC_SERVER_URL: 'ws://127.0.0.1:1111' } });
      assert.deepEqual(registered[2].server.env, { ELECTRON_RUN_AS_NODE: '1' });
      assert.ok(!JSON.stringify(cursorCalls).includes('secret-token'));
    } finally {
      mcp.dispose();
    }
    assert.deepEqual(cursorCalls[cursorCalls.length - 1], ['unregister', 'exec-server']);
  });

  it('feature detection: without the API, or before 1.101 (a proposal there), nothing is registered and nothing fails', () => {
    const none = new McpServerProvider(fakeController().ctl, '/ext', log, { version: '1.139.0', lm: {} });
    assert.equal(none.viaProviderApi, false);
    assert.equal(none.viaCursorApi, false);
    assert.deepEqual(none.provide(), []);
    none.dispose();
    let called = false;
    const old = new McpServerProvider(fakeController().ctl, '/ext', log, {
      version: '1.100.3',
      lm: { registerMcpServerDefinitionProvider: () => { called = true; throw new Error('proposed API'); } },
      McpStdioServerDefinition: FakeStdioDefinition,
    });
    assert.equal(old.viaProviderApi, false);
    assert.equal(called, false);
    old.dispose();
  });

  it(`the extension registers its provider exactly when VS Code has the API (1.101+); what it provides holds no token`, () => {
    assert.equal(api.mcp.viaProviderApi, HAS_PROVIDER_API);
    if (!HAS_PROVIDER_API) {
      // 1.100 has the function, as a proposed API that throws for an extension without the
      // proposal: the provider is not registered there.
      assert.equal(typeof (vscode.lm as { registerMcpServerDefinitionProvider?: unknown }).registerMcpServerDefinitionProvider, 'function');
      return;
    }
    const info = JSON.parse(fs.readFileSync(api.discoveryFile!, 'utf8')) as DiscoveryInfo;
    const defs = api.mcp.provide();
    assert.equal(defs.length, 1);
    assert.ok(defs[0] instanceof (vscode as unknown as { McpStdioServerDefinition: new () => object }).McpStdioServerDefinition);
    assert.equal(defs[0].env.EXEC_SERVER_URL, api.url);
    const text = JSON.stringify(defs);
    assert.ok(!text.includes(info.token) && !text.includes(encodeURIComponent(info.token)), 'no token in the provided definition');
  });

  // Not applicable to VS Code 1.100 (no provider API): the only reason these are skipped.
  describe('in the real VS Code 1.101+: VS Code lists and starts the server, and a tool call runs under "Copilot"', function () {
    it('VS Code asked for the definitions, started the bridge (resolve: the token added there) and lists its tools', async function () {
      requireVscode(this, '1.101', NEEDS);
      await waitFor('VS Code asked the provider', () => api.mcp.provideCount > 0);
      // VS Code adds the provided servers to its list on a 500 ms scheduler after the provider
      // answers: start them until ours is among them (resolve is called just before a start).
      await waitFor(
        'VS Code resolved the definition (started the server)',
        async () => {
          await vscode.commands.executeCommand('workbench.mcp.startServer', '*', { waitForLiveTools: true });
          return api.mcp.resolveCount > 0;
        },
        500,
      );
      const tool = await waitFor('the run_command tool is listed', () => vscode.lm.tools.find((t) => /run_command$/.test(t.name)));
      assert.ok(tool.name.length > 'run_command'.length, tool.name);
    });

    it('vscode.lm.invokeTool(run_command) runs a process that appears in the tree under "Copilot"', async function () {
      requireVscode(this, '1.101', NEEDS);
      const tool = vscode.lm.tools.find((t) => /run_command$/.test(t.name))!;
      const marker = `hi-from-copilot-${process.pid}`;
      const result = await vscode.lm.invokeTool(tool.name, { input: { command: `echo ${marker}`, description: 'Say hi', yield_ms: 30_000 }, toolInvocationToken: undefined });
      const text = result.content.map((c) => (c instanceof vscode.LanguageModelTextPart ? c.value : '')).join('');
      assert.ok(text.includes(marker), text);
      const g = await waitFor('a "Copilot" group with the process', () => {
        const x = api.getTreeSnapshot().find((s) => s.label === 'Copilot');
        return x?.children.some((c) => c.label === `echo ${marker}`) ? x : null;
      });
      const row = g.children.find((c) => c.label === `echo ${marker}`)!;
      assert.match(row.description, /^exit 0 · pid \d+ · .* · Say hi$/);
      const pid = Number(/pid (\d+)/.exec(row.description)![1]);
      recordPid(pid);
    });

    it('after a server restart (same URL and token: a stable address, issue 14) VS Code is told, and tool calls keep working', async function () {
      requireVscode(this, '1.101', NEEDS);
      const provideBefore = api.mcp.provideCount;
      const oldUrl = api.url;
      await vscode.commands.executeCommand('execServer.restart');
      assert.equal(api.state, 'running');
      assert.equal(api.url, oldUrl, 'a restart keeps the URL (issue 14)');
      await waitFor('VS Code asked for the changed definitions', () => api.mcp.provideCount > provideBefore);
      const tool = vscode.lm.tools.find((t) => /run_command$/.test(t.name))!;
      const marker = `after-restart-${process.pid}`;
      // The first call after the change may race VS Code's stop of the outdated bridge: retry
      // (bounded) until a call runs on the new server.
      const text = await waitFor('a tool call through the restarted bridge', async () => {
        try {
          const r = await vscode.lm.invokeTool(tool.name, { input: { command: `echo ${marker}`, yield_ms: 30_000 }, toolInvocationToken: undefined });
          const t = r.content.map((c) => (c instanceof vscode.LanguageModelTextPart ? c.value : '')).join('');
          return t.includes(`${marker}\n`) || t.includes(`"${marker}`) ? t : null;
        } catch {
          return null;
        }
      }, 500);
      // Whether VS Code restarted the bridge (resolving it again) or the running bridge reconnected
      // by itself depends on timing; with a stable address both reach the same URL and token.
      assert.ok(text.includes(marker));
      await waitFor('under "Copilot" again', () => api.getTreeSnapshot().find((s) => s.label === 'Copilot')?.children.find((c) => c.label === `echo ${marker}`));
    });

  });
});
