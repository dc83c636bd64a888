import { hostPlatform } from '../platform/hostPlatform';
import type { Json } from './jsonMerge';
import { tomlString, tomlStringArray } from './tomlTable';

/**
 * How each agent is set up to run its commands through the exec server: the MCP bridge
 * (`<launcher> mcp`, server name `exec`) AND, where the agent has a built-in shell tool that
 * would otherwise run commands outside the server, a setting that takes that tool away
 * (deny/exclude: stricter, never looser than the user's own policy). Pure data, shared by
 * `exec-server connect` and the extension's "Connect an Agent…" command. No token is ever
 * part of a set-up: the bridge finds the server by discovery at each call.
 * Every setting name here was checked against the CLI's own help or docs (see the README).
 */
export type AgentId = 'claude-code' | 'gemini-cli' | 'codex' | 'copilot-cli' | 'opencode' | 'cursor' | 'vscode';

export const AGENTS: Array<{ id: AgentId; label: string }> = [
  { id: 'claude-code', label: 'Claude Code' },
  { id: 'gemini-cli', label: 'Gemini CLI' },
  { id: 'codex', label: 'codex' },
  { id: 'copilot-cli', label: 'Copilot CLI' },
  { id: 'opencode', label: 'opencode' },
  { id: 'cursor', label: 'Cursor' },
  { id: 'vscode', label: "VS Code's mcp.json" },
];

export interface SetupStep {
  title: string;
  kind: 'command' | 'json' | 'toml';
  /** The file to merge `text` into, `~`-relative as shown to users (json/toml steps). */
  file?: string;
  text: string;
}

export interface AgentSetup {
  agent: AgentId;
  label: string;
  steps: SetupStep[];
  notes: string[];
}

/** Copilot CLI has no persistent setting for it: the flags, in the = form so they take one value each. */
const COPILOT_ALIAS = "alias copilot='copilot --excluded-tools=bash --deny-tool=shell'";

/** Variables codex must pass to the bridge for discovery (names only, never values). */
const CODEX_ENV_VARS = ['XDG_RUNTIME_DIR', 'EXEC_SERVER_DISCOVERY_DIR'];

/** The MCP server's name in every agent's config: short and [a-z0-9_] (it prefixes tool names). */
export const MCP_NAME = 'exec';

/** Where a step's fragment goes, for writeAgentSetup: how to find the file and merge into it. */
export interface FileEdit {
  /** Which user-scope file (resolved by paths.ts against HOME and the agent's variables). */
  target: ConfigTarget;
  kind: 'json' | 'toml';
  /** json: the object merged key-wise; toml: the table's text. */
  json?: Json;
  /** json: lists that gain our entries instead of being replaced (deny/exclude lists). */
  appendAt?: string[][];
  /** toml: the table's keys, e.g. ['mcp_servers', 'exec']. */
  tomlTable?: string[];
  toml?: string;
}

export type ConfigTarget =
  | 'claude.json'
  | 'claude-settings'
  | 'gemini-settings'
  | 'codex-config'
  | 'copilot-mcp'
  | 'opencode-config'
  | 'cursor-mcp'
  | 'vscode-mcp';

/** How files are shown to users (paths.ts resolves the real ones). */
const DISPLAY_FILE: Record<ConfigTarget, string> = {
  'claude.json': '~/.claude.json',
  'claude-settings': '~/.claude/settings.json',
  'gemini-settings': '~/.gemini/settings.json',
  'codex-config': '~/.codex/config.toml',
  'copilot-mcp': '~/.copilot/mcp-config.json',
  'opencode-config': '~/.config/opencode/opencode.json',
  'cursor-mcp': '~/.cursor/mcp.json',
  'vscode-mcp':
    hostPlatform().id === 'darwin'
      ? '~/Library/Application Support/Code/User/mcp.json'
      : hostPlatform().id === 'win32'
        ? '%APPDATA%\\Code\\User\\mcp.json'
        : '~/.config/Code/User/mcp.json',
};

/** A POSIX shell word: bare when safe, else single-quoted. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

const commandLine = (argv: string[]) => argv.map(shellQuote).join(' ');
const json = (v: Json) => JSON.stringify(v, null, 2);

interface Plan {
  setup: AgentSetup;
  /** One per json/toml step, in step order. */
  edits: FileEdit[];
}

export function agentPlan(agent: AgentId, launcher: string[]): Plan {
  if (launcher.length === 0) throw new Error('launcher must name a program');
  const command = launcher[0];
  const args = [...launcher.slice(1), 'mcp'];
  const bridge = [...launcher, 'mcp'];
  const label = AGENTS.find((a) => a.id === agent)?.label;
  if (!label) throw new Error(`unknown agent ${JSON.stringify(agent)}; one of ${AGENTS.map((a) => a.id).join(', ')}`);
  const steps: SetupStep[] = [];
  const edits: FileEdit[] = [];
  const notes: string[] = [];
  const jsonStep = (title: string, target: ConfigTarget, fragment: Json, appendAt?: string[][]) => {
    steps.push({ title, kind: 'json', file: DISPLAY_FILE[target], text: json(fragment) });
    edits.push({ target, kind: 'json', json: fragment, appendAt });
  };

  switch (agent) {
    case 'claude-code': {
      steps.push({
        title: 'Add the exec MCP server at user scope (written to ~/.claude.json)',
        kind: 'command',
        text: commandLine(['claude', 'mcp', 'add', '--scope', 'user', MCP_NAME, '--', ...bridge]),
      });
      edits.push({ target: 'claude.json', kind: 'json', json: { mcpServers: { [MCP_NAME]: { type: 'stdio', command, args } } } });
      jsonStep('Deny the built-in Bash tool, so shell commands go through mcp__exec__run_command', 'claude-settings', { permissions: { deny: ['Bash'] } }, [['permissions', 'deny']]);
      notes.push(
        'Claude Code then runs commands with mcp__exec__run_command (and get_output, send_input, list_processes, stop_process); each appears in the Exec Server sidebar under "Claude Code".',
        'Why deny Bash rather than a PreToolUse hook that rewrites each Bash command to "exec-server run": Claude matches its permission rules against the rewritten command, so such a hook must answer permissionDecision "allow", which would silently bypass your own Bash(...) deny and ask rules. A deny rule only ever removes rights; your allow/ask/deny rules for other tools are untouched.',
        'MCP tool calls still ask for approval as your settings say; "Always allow" (or permissions.allow ["mcp__exec"]) is your choice, not part of this set-up.',
        'Writing ~/.claude.json directly (exec-server connect claude-code --write) is best done with Claude Code closed: it rewrites that file itself; the claude mcp add command has no such race.',
        'A deny rule at user scope wins over any allow in project or local settings, so a repository cannot bring Bash back.',
        'To undo: remove "Bash" from permissions.deny in ~/.claude/settings.json and run "claude mcp remove --scope user exec".',
      );
      break;
    }
    case 'gemini-cli':
      jsonStep(
        'Add the exec MCP server and exclude the built-in run_shell_command tool',
        'gemini-settings',
        { mcpServers: { [MCP_NAME]: { command, args } }, tools: { exclude: ['run_shell_command'] } },
        [['tools', 'exclude']],
      );
      notes.push(
        'Gemini CLI then sees mcp_exec_run_command (and the other exec tools) instead of run_shell_command; its commands appear in the sidebar under "Gemini CLI".',
        'tools.exclude is the setting Gemini CLI 0.61 reads (the old top-level excludeTools is ignored). Your existing exclusions are kept.',
        'The server is not marked "trust": each call asks as usual. In headless runs (gemini -p) untrusted MCP tools are not offered unless you pass --approval-mode yolo or set "trust": true yourself.',
        `Equivalent command for the server alone: ${commandLine(['gemini', 'mcp', 'add', '-s', 'user', MCP_NAME, ...bridge])}`,
      );
      break;
    case 'codex': {
      // codex passes MCP servers only a short list of variables (HOME, PATH, …; not
      // XDG_RUNTIME_DIR, where the extension's discovery files live): name the ones discovery needs.
      const toml = `[mcp_servers.${MCP_NAME}]\ncommand = ${tomlString(command)}\nargs = ${tomlStringArray(args)}\nenv_vars = ${tomlStringArray(CODEX_ENV_VARS)}\n`;
      steps.push({ title: 'Add the exec MCP server', kind: 'toml', file: DISPLAY_FILE['codex-config'], text: toml });
      edits.push({ target: 'codex-config', kind: 'toml', tomlTable: ['mcp_servers', MCP_NAME], toml });
      notes.push(
        "codex's own shell commands run in the exec server natively, no MCP needed: in a VS Code terminal with the setting execServer.codexTerminalIntegration on, the extension sets CODEX_EXEC_SERVER_URL and every command codex runs appears in the sidebar under codex (run codex with --sandbox danger-full-access: this server does not sandbox, and refuses sandboxed commands rather than running them unsandboxed).",
        'Elsewhere, export CODEX_EXEC_SERVER_URL="ws://127.0.0.1:PORT/?token=TOKEN" yourself (exec-server servers shows the URL; the token is in the discovery file), or use the MCP tools added here (namespace mcp__exec) and start codex with --disable shell_tool --disable unified_exec, which removes its own exec_command tool (not in config.toml: that would also switch off the native route above).',
        'The file is $CODEX_HOME/config.toml when CODEX_HOME is set. Only the [mcp_servers.exec] table is added or replaced. env_vars names the variables codex passes through (it strips the rest): XDG_RUNTIME_DIR is where the discovery files are.',
        `Equivalent command: ${commandLine(['codex', 'mcp', 'add', MCP_NAME, '--', ...bridge])}`,
      );
      break;
    }
    case 'copilot-cli':
      jsonStep('Add the exec MCP server', 'copilot-mcp', { mcpServers: { [MCP_NAME]: { type: 'local', command, args, tools: ['*'] } } });
      steps.push({
        title: 'Start Copilot CLI without its shell tool (add to ~/.bashrc or ~/.zshrc)',
        kind: 'command',
        text: COPILOT_ALIAS,
      });
      notes.push(
        'Copilot CLI then runs commands with the exec tools (exec-run_command, …); they appear in the sidebar under "Copilot CLI".',
        'Copilot CLI 1.0 has no user setting that removes its shell tool, hence the flags: --excluded-tools=bash hides the bash tool from the model, and --deny-tool=shell refuses any shell command that would still be attempted (denial rules take precedence over allow rules, even --allow-all-tools). Use the = form: "--deny-tool shell" would swallow the words that follow (copilot mcp list). Add the flags to scripts that run copilot -p too.',
        'The file is $COPILOT_HOME/mcp-config.json when COPILOT_HOME is set.',
        `Equivalent command for the server: ${commandLine(['copilot', 'mcp', 'add', MCP_NAME, '--', ...bridge])}`,
      );
      break;
    case 'opencode':
      jsonStep('Add the exec MCP server and deny the built-in bash tool', 'opencode-config', {
        mcp: { [MCP_NAME]: { type: 'local', command: bridge, enabled: true } },
        permission: { bash: 'deny' },
      });
      notes.push(
        'opencode then runs commands with exec_run_command (and the other exec tools); they appear in the sidebar under "opencode".',
        'permission.bash "deny" replaces any per-pattern bash rules you had (they would let some commands bypass the server); every other permission is kept. The file is $XDG_CONFIG_HOME/opencode/opencode.json when XDG_CONFIG_HOME is set.',
      );
      break;
    case 'cursor':
      jsonStep('Add the exec MCP server', 'cursor-mcp', { mcpServers: { [MCP_NAME]: { command, args } } });
      notes.push(
        "With the Exec Server extension running in Cursor, the extension registers this server itself; this file is for Cursor without the extension and for cursor-agent.",
        "Cursor's agent runs its own terminal commands in the editor's integrated terminal; the extension shows those in the sidebar's terminals group (shell integration). Cursor has no setting checked here that removes its terminal tool, so this set-up does not change it.",
      );
      break;
    case 'vscode':
      jsonStep('Add the exec MCP server to your user mcp.json', 'vscode-mcp', { servers: { [MCP_NAME]: { type: 'stdio', command, args } } });
      notes.push(
        "With the Exec Server extension installed, VS Code's agent needs no set-up: the extension provides this server itself (adding it here too would list it twice).",
        "This entry is for a VS Code (or a profile) without the extension. Copilot's agent also runs commands in VS Code terminals (run_in_terminal); the extension shows those in the sidebar's terminals group.",
        `Equivalent command: ${commandLine(['code', '--add-mcp', JSON.stringify({ name: MCP_NAME, command, args })])}`,
      );
      break;
  }
  notes.push('No token is written anywhere: the bridge finds the server of the VS Code window whose folder holds the agent\'s working directory, at each call.');
  return { setup: { agent, label, steps, notes }, edits };
}

export function agentSetup(agent: AgentId, launcher: string[]): AgentSetup {
  return agentPlan(agent, launcher).setup;
}

export function isAgentId(s: string): s is AgentId {
  return AGENTS.some((a) => a.id === s);
}
