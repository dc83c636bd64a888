import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { BridgeSession, type BridgeOptions } from './bridgeSession';
import { registerTools } from './tools';

declare const EXEC_SERVER_VERSION: string | undefined;
const VERSION = typeof EXEC_SERVER_VERSION === 'string' ? EXEC_SERVER_VERSION : '0.0.0-dev';

/** Shown by clients that pass server instructions to their model. */
const INSTRUCTIONS =
  "These tools run shell commands on the user's machine through the Exec Server, which shows each one live in VS Code's " +
  'Exec Server sidebar, where the user can watch and stop it. Prefer run_command to a built-in shell tool. A command that ' +
  'is still running when run_command returns keeps running: follow it with get_output, stop it with stop_process.';

/** One MCP server (one MCP session) bridged to the exec server. Transport-agnostic: stdio in the CLI, in memory in tests. */
export function createBridge(o: BridgeOptions = {}): { mcp: McpServer; session: BridgeSession } {
  const mcp = new McpServer({ name: 'exec-server', title: 'Exec Server', version: VERSION }, { capabilities: { tools: {} }, instructions: INSTRUCTIONS });
  const session = new BridgeSession(mcp, o);
  registerTools(mcp, session);
  return { mcp, session };
}
