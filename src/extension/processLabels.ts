import { friendlyAgentName } from '../protocol/agentNames';
import { commandLabel, commandLine } from './format';
import type { ProcessSnapshot } from '../protocol/admin';

/**
 * What the tree, the output channels and the pickers call a process and its agent. No vscode
 * import. Metadata comes from clients: it is untrusted text, so every value shown is a string,
 * whitespace-collapsed and clipped.
 *
 * Known metadata (process/start `metadata`):
 * - MCP bridge (`exec-server mcp`): `{source: 'mcp', command, description}` — `command` is the
 *   shell line the agent asked for (argv is the `bash -lc …` wrapper around it).
 * - CLI (`exec-server run --name NAME`): `{source: 'cli', name}`.
 * - VS Code terminals (this extension, terminalExecutions.ts): `{source: 'terminal', command, terminal}`.
 */
export const MAX_META_CHARS = 200;

export function metaString(meta: Record<string, unknown> | null | undefined, key: string, max = MAX_META_CHARS): string | undefined {
  const v = meta?.[key];
  if (typeof v !== 'string') return undefined;
  const s = v.replace(/\s+/g, ' ').trim();
  if (!s) return undefined;
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/** The command as a person would read it: the agent's shell line when the bridge passed it. */
export function displayCommand(snap: Pick<ProcessSnapshot, 'argv' | 'metadata'>, max = 120): string {
  return metaString(snap.metadata, 'command', max) ?? commandLabel(snap.argv, max);
}

/** What "Copy Command" copies: the shell line (runnable in a shell) or the quoted argv. */
export function copyableCommand(snap: Pick<ProcessSnapshot, 'argv' | 'metadata'>): string {
  const c = snap.metadata?.command;
  return typeof c === 'string' && c.trim() ? c : commandLine(snap.argv);
}

/** A short human note next to the status: the agent's description, or the CLI's --name. */
export function processNote(snap: Pick<ProcessSnapshot, 'metadata'>, max = 60): string | undefined {
  return metaString(snap.metadata, 'description', max) ?? metaString(snap.metadata, 'name', max);
}

/** Name of the group (agent) a session's processes are shown under. */
export function agentGroupName(clientName: string): string {
  return friendlyAgentName(clientName);
}
