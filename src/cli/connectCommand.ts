import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AGENTS, agentSetup, isAgentId, type AgentSetup } from '../agents/agents';
import { writeAgentSetup } from '../agents/writeSetup';

/**
 * `exec-server connect <agent> [--print | --write]`: the same set-up the extension's
 * "Connect an Agent…" command offers, for terminals and scripts.
 */
const CONNECT_USAGE = `Usage: exec-server connect <agent> [--print | --write]

Sets an agent up to run its commands through the exec server: the MCP server "exec"
(running "<launcher> mcp") plus, where the agent has its own shell tool, the setting that
takes that tool away (so its commands cannot bypass the server). No token is written.

Agents: ${AGENTS.map((a) => a.id).join(', ')}

Options:
  (none)      Show the steps: files, fragments to merge, commands, notes.
  --print     Print only the fragments to merge (JSON/TOML) and command lines, one per step,
              separated by a blank line: nothing else.
  --write     Merge the set-up into the agent's user-scope files under $HOME (keeping what is
              there; deny/exclude lists only gain entries) and list the files changed.
  -h, --help  Show this help.

The launcher is $EXEC_SERVER_LAUNCHER (a path, or a JSON array of argv) when set (the VS Code
extension's stable launcher sets it), else this Node and this script.
`;

/** `$EXEC_SERVER_LAUNCHER` (path or JSON argv), else [node, this script]. */
function launcherArgv(env: NodeJS.ProcessEnv = process.env, script = process.argv[1]): string[] {
  const v = env.EXEC_SERVER_LAUNCHER?.trim();
  if (v) {
    if (v.startsWith('[')) {
      const a = JSON.parse(v) as unknown;
      if (!Array.isArray(a) || a.length === 0 || !a.every((x) => typeof x === 'string' && x)) throw new Error('EXEC_SERVER_LAUNCHER must be a path or a JSON array of strings');
      return a as string[];
    }
    return [v];
  }
  let cli = path.resolve(script);
  try {
    cli = fs.realpathSync(cli);
  } catch {
    // keep it as given
  }
  return [process.execPath, cli];
}

function formatSetup(s: AgentSetup): string {
  const out: string[] = [`${s.label}: run its commands through the exec server`, ''];
  s.steps.forEach((step, i) => {
    out.push(`${i + 1}. ${step.title}${step.file ? `\n   merge into ${step.file}:` : ':'}`);
    out.push(...step.text.replace(/\n$/, '').split('\n').map((l) => `     ${l}`), '');
  });
  out.push('Notes:', ...s.notes.map((n) => `  - ${n}`));
  return `${out.join('\n')}\n`;
}

function printFragments(s: AgentSetup): string {
  return `${s.steps.map((step) => step.text.replace(/\n$/, '')).join('\n\n')}\n`;
}

export async function connectMain(args: string[]): Promise<number> {
  let mode: 'show' | 'print' | 'write' = 'show';
  let agent: string | undefined;
  for (const a of args) {
    if (a === '-h' || a === '--help') {
      process.stdout.write(CONNECT_USAGE);
      return 0;
    }
    if (a === '--print' || a === '--write') {
      const m = a === '--print' ? 'print' : 'write';
      if (mode !== 'show' && mode !== m) return usage('--print and --write exclude each other');
      mode = m;
    } else if (a.startsWith('-')) return usage(`unknown option ${JSON.stringify(a)}`);
    else if (agent) return usage(`one agent at a time (got ${agent} and ${a})`);
    else agent = a;
  }
  if (!agent) return usage('which agent?');
  if (!isAgentId(agent)) return usage(`unknown agent ${JSON.stringify(agent)}`);
  let launcher: string[];
  try {
    launcher = launcherArgv();
  } catch (err) {
    process.stderr.write(`exec-server connect: ${(err as Error).message}\n`);
    return 2;
  }
  const setup = agentSetup(agent, launcher);
  if (mode === 'print') {
    process.stdout.write(printFragments(setup));
    return 0;
  }
  if (mode === 'show') {
    process.stdout.write(formatSetup(setup));
    return 0;
  }
  const home = process.env.HOME || os.homedir();
  let written: string[];
  try {
    written = await writeAgentSetup(agent, launcher, home, process.env);
  } catch (err) {
    process.stderr.write(`exec-server connect: ${(err as Error).message}\n`);
    return 1;
  }
  const out: string[] = [];
  if (written.length === 0) out.push(`${setup.label}: already set up, nothing changed.`);
  for (const f of written) out.push(`updated ${f}`);
  const commands = setup.steps.filter((s) => s.kind === 'command' && !s.text.startsWith(`${commandName(agent)} mcp add`));
  if (commands.length) {
    out.push('', 'Still to do by hand:');
    for (const c of commands) out.push(`  ${c.title}:`, `    ${c.text}`);
  }
  out.push('', 'Notes:', ...setup.notes.map((n) => `  - ${n}`));
  process.stdout.write(`${out.join('\n')}\n`);
  return 0;
}

/** The agent's own CLI: its `… mcp add` step is what --write does by editing the file. */
function commandName(agent: string): string {
  return agent === 'claude-code' ? 'claude' : agent;
}

function usage(msg: string): number {
  process.stderr.write(`exec-server connect: ${msg}\n${CONNECT_USAGE}`);
  return 2;
}
