import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ServerController } from './serverController';

/**
 * VS Code's own agent (Copilot agent mode) with no set-up: an MCP server definition provider
 * (VS Code ≥ 1.101) whose stdio server is this extension's bridge, `dist/cli.js mcp`, run with
 * VS Code's own Node. It connects to this window's server: the URL is in the definition, the
 * token is added only in resolveMcpServerDefinition, just before VS Code starts it, because VS
 * Code caches provided definitions on disk (workspace storage) and the token must never be there.
 *
 * engines.vscode stays ^1.100.0 (forks such as Cursor lag behind), so the API is feature-detected
 * and the few types it needs are declared here. In Cursor, which has no provider API, the same
 * server is registered with `vscode.cursor.mcp.registerServer` (without the token: the bridge
 * reads it from the discovery file of the URL it is given).
 */
export const MCP_PROVIDER_ID = 'execServer.mcp'; // = contributes.mcpServerDefinitionProviders[0].id
export const MCP_SERVER_LABEL = 'Exec Server';
/** The name Cursor shows (and tool prefixes use): short, [a-z0-9_-]. */
const CURSOR_SERVER_NAME = 'exec-server';

/** The part of vscode.McpStdioServerDefinition (1.101) used here. */
export interface McpStdioDefinition {
  readonly label: string;
  command: string;
  args: string[];
  env: Record<string, string | number | null>;
  version?: string;
  cwd?: vscode.Uri;
}
export interface McpProvider {
  readonly onDidChangeMcpServerDefinitions?: vscode.Event<void>;
  provideMcpServerDefinitions(token: vscode.CancellationToken): vscode.ProviderResult<McpStdioDefinition[]>;
  resolveMcpServerDefinition?(server: McpStdioDefinition, token: vscode.CancellationToken): vscode.ProviderResult<McpStdioDefinition>;
}
type StdioDefinitionCtor = new (label: string, command: string, args?: string[], env?: Record<string, string | number | null>, version?: string) => McpStdioDefinition;
export interface McpApi {
  /** vscode.version: 1.100 has the provider API as a proposal that throws for this extension. */
  version?: string;
  lm?: { registerMcpServerDefinitionProvider?: (id: string, provider: McpProvider) => vscode.Disposable };
  McpStdioServerDefinition?: StdioDefinitionCtor;
  cursor?: { mcp?: { registerServer?: (c: CursorServerConfig) => void; unregisterServer?: (name: string) => void } };
}
interface CursorServerConfig {
  name: string;
  server: { command: string; args: string[]; env: Record<string, string> };
}

/** What the tests (and the log) see of the provider. */
export interface McpRegistration {
  /** Registered with VS Code's provider API (false before 1.101). */
  readonly viaProviderApi: boolean;
  /** Registered with Cursor's API. */
  readonly viaCursorApi: boolean;
  /** How many times VS Code asked for the definitions. */
  readonly provideCount: number;
  readonly resolveCount: number;
  /** What provideMcpServerDefinitions returns now (what VS Code caches). */
  provide(): McpStdioDefinition[];
  /** What resolveMcpServerDefinition makes of a definition (what VS Code starts). */
  resolve(def: McpStdioDefinition): McpStdioDefinition | undefined;
}

function atLeast(version: string, major: number, minor: number): boolean {
  const [a, b] = version.split('.').map((x) => parseInt(x, 10));
  return a > major || (a === major && b >= minor);
}

export class McpServerProvider implements vscode.Disposable, McpRegistration {
  private readonly changed = new vscode.EventEmitter<void>();
  private readonly subs: vscode.Disposable[] = [];
  private lastUrl: string | undefined;
  private cursorRegistered = false;
  viaProviderApi = false;
  viaCursorApi = false;
  provideCount = 0;
  resolveCount = 0;

  constructor(
    private readonly controller: ServerController,
    private readonly extensionPath: string,
    private readonly log: vscode.LogOutputChannel,
    private readonly api: McpApi = vscode as unknown as McpApi,
  ) {
    this.lastUrl = this.currentUrl();
    const register = api.lm?.registerMcpServerDefinitionProvider;
    if (atLeast(api.version ?? vscode.version, 1, 101) && typeof register === 'function' && typeof api.McpStdioServerDefinition === 'function') {
      try {
        this.subs.push(
          register.call(api.lm, MCP_PROVIDER_ID, {
            onDidChangeMcpServerDefinitions: this.changed.event,
            provideMcpServerDefinitions: () => {
              this.provideCount++;
              return this.provide();
            },
            resolveMcpServerDefinition: (def) => {
              this.resolveCount++;
              return this.resolve(def);
            },
          }),
        );
        this.viaProviderApi = true;
        log.info(`MCP server definition provider registered (${MCP_PROVIDER_ID}): VS Code's agent can run commands through this server`);
      } catch (err) {
        log.warn(`could not register the MCP server definition provider: ${(err as Error).message}`);
      }
    } else {
      log.info(`VS Code ${vscode.version} has no MCP server definition provider API (1.101+): not registered`);
    }
    this.viaCursorApi = typeof api.cursor?.mcp?.registerServer === 'function';
    this.syncCursor();
    // A restart changes the URL (and the token): tell VS Code, and re-register in Cursor.
    this.subs.push(
      controller.onDidChangeState(() => {
        const url = this.currentUrl();
        if (url === this.lastUrl) return;
        this.lastUrl = url;
        this.changed.fire();
        this.syncCursor();
      }),
    );
  }

  private currentUrl(): string | undefined {
    return this.controller.state === 'running' ? this.controller.url : undefined;
  }

  private bridgeArgs(): string[] {
    return [path.join(this.extensionPath, 'dist', 'cli.js'), 'mcp'];
  }

  /**
   * The cached definition: no token. EXEC_SERVER_TOKEN is removed (null) so a token the extension
   * host inherited (VS Code started from a terminal of another window) cannot leak in, and so is
   * EXEC_SERVER_URL while the server is down (the bridge then uses discovery).
   */
  provide(): McpStdioDefinition[] {
    const Ctor = this.api.McpStdioServerDefinition;
    if (!Ctor) return [];
    const url = this.currentUrl();
    const env: Record<string, string | null> = { ELECTRON_RUN_AS_NODE: '1', EXEC_SERVER_URL: url ?? null, EXEC_SERVER_TOKEN: null };
    return [new Ctor(MCP_SERVER_LABEL, process.execPath, this.bridgeArgs(), env, url ?? 'stopped')];
  }

  /** Just before VS Code starts the bridge: the current URL and the token. */
  resolve(def: McpStdioDefinition): McpStdioDefinition | undefined {
    if (def.label !== MCP_SERVER_LABEL) return def;
    const url = this.currentUrl();
    const token = this.controller.token;
    if (url && token) def.env = { ...def.env, EXEC_SERVER_URL: url, EXEC_SERVER_TOKEN: token };
    else this.log.warn(`starting the MCP bridge while the server is ${this.controller.state}: its tools will say so until the server runs`);
    this.log.info(`VS Code starts the MCP bridge for its agent (server ${url ?? 'not running'})`);
    return def;
  }

  private syncCursor(): void {
    const mcp = this.api.cursor?.mcp;
    if (!mcp?.registerServer) return;
    try {
      if (this.cursorRegistered) mcp.unregisterServer?.(CURSOR_SERVER_NAME);
      const url = this.currentUrl();
      const env: Record<string, string> = { ELECTRON_RUN_AS_NODE: '1' };
      if (url) env.EXEC_SERVER_URL = url;
      mcp.registerServer({ name: CURSOR_SERVER_NAME, server: { command: process.execPath, args: this.bridgeArgs(), env } });
      this.cursorRegistered = true;
      this.log.info(`MCP server registered with Cursor (${CURSOR_SERVER_NAME})`);
    } catch (err) {
      this.log.warn(`could not register the MCP server with Cursor: ${(err as Error).message}`);
    }
  }

  dispose(): void {
    this.subs.forEach((s) => s.dispose());
    if (this.cursorRegistered) {
      try {
        this.api.cursor?.mcp?.unregisterServer?.(CURSOR_SERVER_NAME);
      } catch {
        // the host is going away
      }
    }
    this.changed.dispose();
  }
}
