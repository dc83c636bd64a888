import * as path from 'node:path';
import { discoveryDir } from '../discovery/discoveryFiles';
import { resolveServer, trustedServers, type ResolvedServer } from '../discovery/resolveServer';

/**
 * `exec-server servers [--json] [--cwd DIR]`: the servers this user's discovery files advertise
 * (live ones only), and which one `exec-server run` / the MCP bridge would use from DIR.
 * The token is never shown: it stays in the 0600 discovery file.
 */
const SERVERS_USAGE = `Usage: exec-server servers [--json] [--cwd DIR]

Lists the exec servers advertised on this machine for this user (one per VS Code window with
the extension): URL, process id, application, start time and workspace folders. "*" marks the
one "exec-server run" (and the MCP bridge) would use from DIR (default: the current directory).
Tokens are never printed.

Options:
  --json         One JSON document: {"directory", "selected", "servers": [...]}.
  --cwd DIR      Mark the server chosen for DIR instead of the current directory.
  -h, --help     Show this help.
`;

export interface ServerRow {
  url: string;
  port: number;
  pid: number;
  appName: string;
  workspaceFolders: string[];
  startedAt: string;
  protocolVersion: string;
  hostMode?: string;
  file: string;
  selected: boolean;
}

export interface ServersListing {
  directory: string;
  /** What `run` would use: a listed server's URL, or one named by the environment. */
  selected: { url: string; source: ResolvedServer['source'] } | null;
  /** Why nothing is selected (the message `run` would print). */
  problem?: string;
  servers: ServerRow[];
}

async function listServers(cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<ServersListing> {
  const dir = discoveryDir(env);
  const all = await trustedServers(dir);
  let selected: ServersListing['selected'] = null;
  let problem: string | undefined;
  try {
    const r = await resolveServer({ cwd, env, dir });
    // A URL may carry ?token=…: never shown.
    selected = { url: r.url.replace(/\?.*$/, ''), source: r.source };
  } catch (err) {
    problem = (err as Error).message;
  }
  const servers = all.map(
    (s): ServerRow => ({
      // Picked field by field: the discovery file also holds the token.
      url: s.url,
      port: s.port,
      pid: s.pid,
      appName: s.appName,
      workspaceFolders: s.workspaceFolders,
      startedAt: s.startedAt,
      protocolVersion: s.protocolVersion,
      ...(s.hostMode ? { hostMode: s.hostMode } : {}),
      file: s.file,
      selected: selected !== null && sameUrl(selected.url, s.url),
    }),
  );
  return { directory: dir, selected, ...(problem ? { problem } : {}), servers };
}

function sameUrl(a: string, b: string): boolean {
  const norm = (u: string) => u.replace(/\?.*$/, '').replace(/\/+$/, '');
  return norm(a) === norm(b);
}

function formatServers(l: ServersListing): string {
  const lines: string[] = [];
  if (l.servers.length === 0) lines.push(`No exec server is advertised in ${l.directory}.`);
  for (const s of l.servers) {
    lines.push(`${s.selected ? '*' : ' '} ${s.url}  ${s.appName || '(unknown app)'}  pid ${s.pid}  started ${s.startedAt}${s.hostMode ? `  (${s.hostMode})` : ''}`);
    lines.push(`    folders: ${s.workspaceFolders.length ? s.workspaceFolders.join(', ') : '(none)'}`);
  }
  if (l.selected && !l.servers.some((s) => s.selected)) {
    lines.push(`* run would use ${l.selected.url.replace(/\?.*$/, '')} (from ${l.selected.source === 'env' ? 'EXEC_SERVER_URL and EXEC_SERVER_TOKEN' : l.selected.source})`);
  }
  if (!l.selected && l.problem) lines.push('', `exec-server run from here: ${l.problem.replace(/ Nothing was run\.$/, '')}`);
  return `${lines.join('\n')}\n`;
}

export async function serversMain(args: string[]): Promise<number> {
  let json = false;
  let cwd = process.cwd();
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--json') json = true;
    else if (a === '-h' || a === '--help') {
      process.stdout.write(SERVERS_USAGE);
      return 0;
    } else if (a === '--cwd' || a.startsWith('--cwd=')) {
      const v = a.startsWith('--cwd=') ? a.slice(6) : args[++i];
      if (!v) {
        process.stderr.write('exec-server servers: --cwd needs a value\n');
        return 2;
      }
      cwd = path.resolve(v);
    } else {
      process.stderr.write(`exec-server servers: unknown option ${JSON.stringify(a)} (see exec-server servers --help)\n`);
      return 2;
    }
  }
  const listing = await listServers(cwd);
  process.stdout.write(json ? `${JSON.stringify(listing, null, 2)}\n` : formatServers(listing));
  return 0;
}
