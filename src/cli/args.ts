/** Command-line parsing for `exec-server`; pure, so it is testable without starting anything. */
export interface CliOptions {
  listen: { kind: 'stdio' } | { kind: 'ws'; host: string; port: number };
  tokenFile?: string;
  auth: 'token' | 'none';
  retainedOutputBytes?: number;
  closedOutputBudgetBytes?: number;
  sessionTtlMs?: number;
  terminateGraceMs?: number;
  maxFrameBytes?: number;
  /** WebSocket ping period; 0 disables the heartbeat (see transport/websocket.ts). */
  heartbeatMs?: number;
  /** Serve the privileged admin protocol on stdin/stdout (requires --listen ws://). */
  adminStdio: boolean;
  /** With --admin-stdio: the private control socket where a new owner can adopt this server. */
  controlSocket?: string;
  /** With --control-socket: how long to wait for an adopter once the owner is gone (default 0). */
  reloadGraceMs?: number;
  /** Orphan-proofing watchdog (default on). */
  watchdog: boolean;
  /** The codex whose sandbox enforces sandboxed requests (default: `codex` on PATH). */
  codexPath?: string;
  help: boolean;
  version: boolean;
}

export const USAGE = `Usage: exec-server [options]            run the server
       exec-server run [options] -- CMD [ARGS…]
       exec-server servers [--json] [--cwd DIR]
       exec-server connect <agent> [--print | --write]
       exec-server mcp [options]

A JSON-RPC exec server (protocol exec-server.v0 and the codex 0.169 process API) that
starts, streams, writes to and terminates processes (PTY or pipes) for coding agents.

Subcommands (clients of a running server, found by discovery; each has --help):
  run          Run a command in the server found for this folder (the VS Code window whose
               folder holds it): output, stdin, signals and exit code pass through; it shows
               in the Exec Server sidebar.
  servers      List the servers advertised for this user and the one "run" would use.
  connect      Set an agent (claude-code, gemini-cli, codex, copilot-cli, opencode, cursor,
               vscode) up to run its commands through the server: MCP server + shell tool off.
  mcp          A stdio MCP server (the bridge agents are configured with).

Options:
  --listen URL                 stdio:// (default) or ws://IP:PORT (port 0 = any free port).
                               With ws://, prints "listening on ws://IP:PORT" on stderr once
                               it accepts connections.
  --token-file PATH            WebSocket clients must present this token (trailing newline
                               trimmed): "Authorization: Bearer <token>" or "?token=<token>".
                               Default: $EXEC_SERVER_TOKEN; without either a random token is
                               generated and printed on stderr.
  --auth token|none            "none" disables the token; allowed only on a loopback address.
  --retained-output-bytes N    Output kept per process for process/read (default 1048576).
  --closed-output-budget-bytes N  Output kept by closed processes, server-wide; the first
                               to close give theirs up first (default 67108864).
  --session-ttl-ms N           How long a disconnected resumable session keeps its processes
                               (default 80000).
  --terminate-grace-ms N       SIGTERM→SIGKILL grace for process/terminate (default 1000).
  --max-frame-bytes N          Largest accepted message (default 67108864).
  --heartbeat-ms N             With ws://: ping every connection this often and drop one that
                               sent nothing since the previous ping (a vanished peer);
                               0 disables (default 30000).
  --admin-stdio                With ws:// only: also serve the privileged admin protocol
                               (list/watch/terminate every process; not the exec protocol) on
                               stdin/stdout, one JSON-RPC message per line. The first stdout
                               line is {"method":"admin/ready","params":{url,port,pid}}. The
                               server shuts down when stdin closes (its parent went away).
  --control-socket PATH        With --admin-stdio: also listen on this UNIX socket (its
                               directory must be private, 0700), where a new owner that
                               knows the secret ($EXEC_SERVER_CONTROL_SECRET) adopts the
                               server and gets the admin protocol (a VS Code window reload).
  --reload-grace-ms N          With --control-socket: once the owner's channel ends, keep
                               running (processes, sessions, connections) for N ms waiting
                               for an adopter, then stop as usual (default 0 = stop at once).
  --no-watchdog                Do not start the watchdog process that kills every managed
                               process group if this server dies without shutting down.
  --codex-path PATH            The codex (native binary or npm's codex launcher) whose sandbox
                               enforces requests that carry a \`sandbox\` (codex -s
                               workspace-write / read-only). Default: \`codex\` on PATH.
  -h, --help                   Show this help.
  --version                    Print the version.

Security: binds 127.0.0.1 by default, refuses any request with an Origin header (403) or a
Host header that does not name the listener (403), and compares tokens in constant time.
Processes run with this server's user rights unless the request carries a \`sandbox\`: then
(Linux) they run under codex's own sandbox, or are refused when it cannot be enforced.
Signals: SIGINT/SIGTERM stop the server after terminating every managed process. With
stdio:// or --admin-stdio, the end of stdin (the parent died) does the same.
`;

export function parseArgs(argv: string[]): CliOptions {
  const o: CliOptions = { listen: { kind: 'stdio' }, auth: 'token', adminStdio: false, watchdog: true, help: false, version: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    const int = () => {
      const v = value();
      if (!/^\d+$/.test(v)) throw new Error(`${flag} takes a non-negative integer, got ${JSON.stringify(v)}`);
      return Number(v);
    };
    switch (flag) {
      case '--listen': o.listen = parseListen(value()); break;
      case '--token-file': o.tokenFile = value(); break;
      case '--auth': {
        const v = value();
        if (v !== 'token' && v !== 'none') throw new Error(`--auth takes "token" or "none", got ${JSON.stringify(v)}`);
        o.auth = v;
        break;
      }
      case '--retained-output-bytes': o.retainedOutputBytes = int(); break;
      case '--closed-output-budget-bytes': o.closedOutputBudgetBytes = int(); break;
      case '--session-ttl-ms': o.sessionTtlMs = int(); break;
      case '--terminate-grace-ms': o.terminateGraceMs = int(); break;
      case '--max-frame-bytes': o.maxFrameBytes = int(); break;
      case '--heartbeat-ms': o.heartbeatMs = int(); break;
      case '--admin-stdio': o.adminStdio = true; break;
      case '--control-socket': o.controlSocket = value(); break;
      case '--reload-grace-ms': o.reloadGraceMs = int(); break;
      case '--no-watchdog': o.watchdog = false; break;
      case '--codex-path': o.codexPath = value(); break;
      case '-h': case '--help': o.help = true; break;
      case '--version': o.version = true; break;
      default: throw new Error(`unknown option ${JSON.stringify(arg)} (see --help)`);
    }
  }
  if (o.adminStdio && o.listen.kind !== 'ws') throw new Error('--admin-stdio needs --listen ws://IP:PORT (stdio carries the exec protocol otherwise)');
  if (o.controlSocket !== undefined && !o.adminStdio) throw new Error('--control-socket needs --admin-stdio');
  if (o.reloadGraceMs !== undefined && o.controlSocket === undefined) throw new Error('--reload-grace-ms needs --control-socket');
  return o;
}

function parseListen(v: string): CliOptions['listen'] {
  if (v === 'stdio' || v === 'stdio://') return { kind: 'stdio' };
  const m = /^ws:\/\/(\[[^\]]+\]|[^:/]+):(\d+)\/?$/.exec(v);
  if (!m) throw new Error(`--listen takes stdio:// or ws://IP:PORT, got ${JSON.stringify(v)}`);
  const port = Number(m[2]);
  if (port > 65535) throw new Error(`port out of range: ${port}`);
  return { kind: 'ws', host: m[1].replace(/^\[|\]$/g, ''), port };
}
