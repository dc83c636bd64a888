import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { BridgeSession } from './bridgeSession';
import { toolProgress, type ProgressNotification, type ToolProgress } from './progress';
import {
  GET_OUTPUT_DESCRIPTION,
  getOutputInput,
  LIST_PROCESSES_DESCRIPTION,
  listProcessesInput,
  listProcessesOutput,
  processResultShape,
  RUN_COMMAND_DESCRIPTION,
  runCommandInput,
  SEND_INPUT_DESCRIPTION,
  sendInputInput,
  STOP_PROCESS_DESCRIPTION,
  stopProcessInput,
} from './toolSchemas';

/**
 * The bridge's tools. Results are `structuredContent` plus the same object serialised as text
 * (what the MCP spec asks for clients that read only text). A thrown error becomes a tool error
 * (`isError`) whose text is the message: the SDK does that, and it also turns arguments that do
 * not match a schema into a tool error naming the field, before anything runs.
 */
export function registerTools(mcp: McpServer, session: BridgeSession): void {
  mcp.registerTool(
    'run_command',
    {
      title: 'Run a shell command',
      description: RUN_COMMAND_DESCRIPTION,
      inputSchema: runCommandInput,
      outputSchema: processResultShape,
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
    },
    async (args, extra) => {
      const { result, failed } = await session.runCommand(args, extra.signal, progressOf(extra));
      return structured(result, failed);
    },
  );

  mcp.registerTool(
    'get_output',
    {
      title: 'Read a process’s output',
      description: GET_OUTPUT_DESCRIPTION,
      inputSchema: getOutputInput,
      outputSchema: processResultShape,
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async (args, extra) => structured(await session.getOutput(args, extra.signal, progressOf(extra))),
  );

  mcp.registerTool(
    'send_input',
    {
      title: 'Send input to a process',
      description: SEND_INPUT_DESCRIPTION,
      inputSchema: sendInputInput,
      outputSchema: processResultShape,
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
    },
    async (args, extra) => structured(await session.sendInput(args, extra.signal, progressOf(extra))),
  );

  mcp.registerTool(
    'list_processes',
    {
      title: 'List your processes',
      description: LIST_PROCESSES_DESCRIPTION,
      inputSchema: listProcessesInput,
      outputSchema: listProcessesOutput,
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async (args) => structured(session.listProcesses(args)),
  );

  mcp.registerTool(
    'stop_process',
    {
      title: 'Stop a process',
      description: STOP_PROCESS_DESCRIPTION,
      inputSchema: stopProcessInput,
      outputSchema: processResultShape,
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    },
    async (args, extra) => structured(await session.stopProcess(args, extra.signal, progressOf(extra))),
  );
}

/** Progress notifications for this call, when its request carried a progressToken (progress.ts). */
function progressOf(extra: { _meta?: { progressToken?: string | number }; sendNotification(n: ProgressNotification): Promise<void> }): ToolProgress | undefined {
  return toolProgress(extra._meta?.progressToken, (n) => extra.sendNotification(n));
}

function structured(value: object, isError = false): CallToolResult {
  return {
    content: [{ type: 'text', text: JSON.stringify(value) }],
    structuredContent: value as Record<string, unknown>,
    ...(isError ? { isError: true } : {}),
  };
}
