import { redact } from './serverLink';

const MCP_USAGE = `Usage: exec-server mcp [--url ws://127.0.0.1:PORT] [--token-file PATH] [--no-login]

A stdio MCP server whose tools (run_command, get_output, send_input, list_processes,
stop_process) run commands in the exec server, so they show in VS Code's Exec Server sidebar.
Commands run with the user's shell as a login shell (bash -lc / zsh -lc; sh -c without bash);
--no-login runs bash -c instead (faster when the login profile is slow; keeps the agent's PATH).

How it finds the server (at the first tool call, and again after a lost connection):
  --url URL [--token-file PATH]   this server (token from the file, $EXEC_SERVER_TOKEN, or
                                  the discovery file advertising that URL)
  $EXEC_SERVER_URL [+ $EXEC_SERVER_TOKEN]
  otherwise the discovery files of running VS Code windows (in $EXEC_SERVER_DISCOVERY_DIR,
  $XDG_RUNTIME_DIR/exec-server-vscode or ~/.exec-server-vscode) whose workspace folder holds
  the working directory or one of the MCP client's roots.
Exits on end of stdin, SIGINT or SIGTERM, stopping the processes its agent left running.
`;

interface McpArgs {
  url?: string;
  tokenFile?: string;
  login: boolean;
  help: boolean;
}

export function parseMcpArgs(argv: string[]): McpArgs {
  const o: McpArgs = { login: true, help: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const eq = a.indexOf('=');
    const [flag, inline] = a.startsWith('--') && eq > 0 ? [a.slice(0, eq), a.slice(eq + 1)] : [a, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === '') throw new Error(`${flag} needs a value`);
      return v;
    };
    if (flag === '--url') o.url = value();
    else if (flag === '--token-file') o.tokenFile = value();
    else if (flag === '--no-login') o.login = false;
    else if (flag === '--help' || flag === '-h') o.help = true;
    else throw new Error(`unknown option ${flag} (see exec-server mcp --help)`);
  }
  if (o.tokenFile && !o.url) throw new Error('--token-file needs --url');
  if (o.url && !/^wss?:\/\//.test(o.url)) throw new Error(`--url must be a ws:// URL, not ${redact(o.url)}`);
  return o;
}

/** `exec-server mcp`: serve MCP on stdin/stdout until the client goes away. */
export async function mcpMain(argv: string[]): Promise<number> {
  let args: McpArgs;
  try {
    args = parseMcpArgs(argv);
  } catch (err) {
    process.stderr.write(`exec-server mcp: ${(err as Error).message}\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(MCP_USAGE);
    return 0;
  }
  // stderr is the MCP client's log; stdout carries the protocol only.
  const log = (m: string) => process.stderr.write(`exec-server mcp: ${m}\n`);
  // Loaded only here: the MCP SDK and zod are most of dist/cli.js, and the server itself (every
  // `exec-server` start, the extension's child host) must not pay for initialising them.
  const [{ createBridge }, { StdioServerTransport }] = await Promise.all([import('./createBridge'), import('@modelcontextprotocol/sdk/server/stdio.js')]);
  const { mcp, session } = createBridge({ url: args.url, tokenFile: args.tokenFile, loginShell: args.login, log });
  const transport = new StdioServerTransport();

  let resolveExit!: (code: number) => void;
  const exited = new Promise<number>((r) => (resolveExit = r));
  let stopping = false;
  const stop = (why: string, code: number) => {
    if (stopping) return;
    stopping = true;
    if (why !== 'end of stdin') log(`${why}: stopping`);
    // Bounded: the agent is leaving and will not wait long; the server finishes the stops itself.
    const hardStop = setTimeout(() => resolveExit(code), 3_000);
    hardStop.unref();
    void session
      .shutdown()
      .catch(() => undefined)
      .then(() => mcp.close().catch(() => undefined))
      .finally(() => {
        clearTimeout(hardStop);
        resolveExit(code);
      });
  };
  process.once('SIGINT', () => stop('SIGINT', 0));
  process.once('SIGTERM', () => stop('SIGTERM', 0));
  process.once('SIGHUP', () => stop('SIGHUP', 0));
  process.stdin.once('end', () => stop('end of stdin', 0));
  process.stdin.once('close', () => stop('end of stdin', 0));
  process.stdout.on('error', () => stop('stdout closed', 0));
  transport.onclose = () => stop('transport closed', 0);

  await mcp.connect(transport);
  const code = await exited;
  // Leave now: open handles (a pending request, the stdin reader) must not keep an agent waiting.
  process.exit(code);
  return code;
}
