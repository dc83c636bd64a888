import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Writable } from 'node:stream';
import { ExecClient, inheritEnv, type ExitedEvent, type OutputEvent } from '../client/client';
import { resolveServer, ServerNotFoundError } from '../discovery/resolveServer';

/**
 * `exec-server run [--tty] [--cwd DIR] [--name NAME] [--url URL] [--token-file PATH] -- CMD [ARGS…]`:
 * runs one command in the exec server found for this folder (resolveServer), as if it ran here.
 * Scripts, Makefiles and agents without MCP use it so their processes show in the sidebar.
 */
const RUN_USAGE = `Usage: exec-server run [options] -- CMD [ARGS…]

Runs CMD in the exec server found for the working directory (the VS Code window whose folder
holds it), passing its output through, and exits with its exit code (128+N when killed by
signal N). The process shows in the Exec Server sidebar under NAME.

Options:
  --tty                 Run in a terminal (PTY): raw keyboard input, window resizes followed.
  --cwd DIR             Where to run it (default: the current directory); also picks the server.
  --name NAME           The name the sidebar groups it under (default: exec-server-run).
  --url URL             The server's ws:// URL instead of discovery (token from --token-file,
                        $EXEC_SERVER_TOKEN or the discovery file of that URL).
  --token-file PATH     The token for --url.
  -h, --help            Show this help.

Without --tty, stdin is forwarded when it is a pipe or a file and ends at its end; otherwise
the command's stdin is at end of file at once. Ctrl-C (SIGINT) interrupts the command's whole
process group, SIGTERM terminates it (SIGKILL after the server's grace).
The environment is this one, without EXEC_SERVER_TOKEN.
Exit status: the command's; 2 bad usage; 69 no server found or the connection failed (nothing
was run, or the connection was lost and the command was stopped); 126/127 it could not start.
`;

const EXIT_USAGE = 2;
/** EX_UNAVAILABLE (sysexits.h): no server, or it went away. */
const EXIT_NO_SERVER = 69;

export interface RunOptions {
  tty: boolean;
  cwd?: string;
  name?: string;
  url?: string;
  tokenFile?: string;
  help: boolean;
  argv: string[];
}

/** Pure: flags up to `--` (or the first non-option), then the command. */
export function parseRunArgs(args: string[]): RunOptions {
  const o: RunOptions = { tty: false, help: false, argv: [] };
  let i = 0;
  for (; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--') {
      i++;
      break;
    }
    if (!arg.startsWith('-')) break;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const inline = eq > 0 ? arg.slice(eq + 1) : undefined;
    const value = () => {
      const v = inline ?? args[++i];
      if (v === undefined || v === '') throw new Error(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--tty': o.tty = true; break;
      case '--cwd': o.cwd = value(); break;
      case '--name': o.name = value(); break;
      case '--url': o.url = value(); break;
      case '--token-file': o.tokenFile = value(); break;
      case '-h': case '--help': o.help = true; break;
      default: throw new Error(`unknown option ${JSON.stringify(arg)} (see exec-server run --help)`);
    }
  }
  o.argv = args.slice(i);
  if (!o.help && o.argv.length === 0) throw new Error('no command given: exec-server run [options] -- CMD [ARGS…]');
  if (o.tokenFile && !o.url) throw new Error('--token-file goes with --url');
  return o;
}

/** The child's environment: ours (it is the user's command), never the server's token. */
function childEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out = env === process.env ? inheritEnv() : Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
  delete out.EXEC_SERVER_TOKEN;
  return out;
}

/** The exit status a shell would report: the code, or 128+N for signal N. */
export function exitStatus(e: Pick<ExitedEvent, 'exitCode' | 'signal'>): number {
  if (e.signal) {
    const n = (os.constants.signals as Record<string, number>)[e.signal];
    if (n && e.exitCode < 128) return 128 + n;
  }
  return e.exitCode;
}

/** stdin worth forwarding: a pipe, a file or a socket (a terminal needs --tty; /dev/null is nothing). */
function stdinIsPiped(): boolean {
  try {
    const st = fs.fstatSync(0);
    return st.isFIFO() || st.isFile() || st.isSocket();
  } catch {
    return false;
  }
}

function terminalSize(): { cols: number; rows: number } {
  for (const s of [process.stdout, process.stderr] as Array<NodeJS.WriteStream>) {
    if (s.isTTY && s.columns && s.rows) return { cols: s.columns, rows: s.rows };
  }
  return { cols: 80, rows: 24 };
}

export async function runMain(args: string[]): Promise<number> {
  let o: RunOptions;
  try {
    o = parseRunArgs(args);
  } catch (err) {
    process.stderr.write(`exec-server run: ${(err as Error).message}\n`);
    return EXIT_USAGE;
  }
  if (o.help) {
    process.stdout.write(RUN_USAGE);
    return 0;
  }
  const cwd = path.resolve(o.cwd ?? process.cwd());
  let client: ExecClient;
  try {
    const server = await resolveServer({ url: o.url, tokenFile: o.tokenFile, cwd });
    client = await ExecClient.connectWebSocket(server.url, { token: server.token ?? undefined, clientName: o.name ?? 'exec-server-run' });
  } catch (err) {
    const msg = err instanceof ServerNotFoundError ? err.message : `cannot reach the exec server: ${(err as Error).message}. Nothing was run.`;
    process.stderr.write(`exec-server run: ${msg}\n`);
    return EXIT_NO_SERVER;
  }
  return new RunSession(client, o, cwd).run();
}

/** One command's life: start, pump I/O both ways, forward signals, report the exit. */
class RunSession {
  private readonly processId = `run-${process.pid}-${Date.now().toString(36)}`;
  private readonly cleanups: Array<() => void> = [];
  private pausedBy = new Set<Writable>();

  constructor(
    private readonly client: ExecClient,
    private readonly o: RunOptions,
    private readonly cwd: string,
  ) {}

  async run(): Promise<number> {
    try {
      return await this.runInner();
    } finally {
      for (const f of this.cleanups.reverse()) f();
      this.client.close();
    }
  }

  private async runInner(): Promise<number> {
    const { client, processId } = this;
    const piped = stdinIsPiped();
    const forwardStdin = this.o.tty || piped;
    // Listen before starting: output can arrive before process/start answers.
    const ended = new Promise<ExitedEvent | Error>((resolve) => {
      client.on('exited', (e: ExitedEvent) => {
        if (e.processId === processId) this.exit = e;
      });
      client.on('closed', (e: { processId: string }) => {
        if (e.processId !== processId) return;
        if (this.exit) return resolve(this.exit);
        // The exit notification never came (should not happen on a live connection): ask.
        void client.read(processId, { afterSeq: Number.MAX_SAFE_INTEGER }).then(
          (r) => resolve({ processId, seq: r.nextSeq, exitCode: r.exitCode ?? 1, signal: null }),
          (err: Error) => resolve(err),
        );
      });
      client.once('disconnect', (reason: string) => resolve(new Error(reason)));
    });
    client.on('output', (e: OutputEvent) => {
      if (e.processId === processId) this.emit(e);
    });
    const signals = this.forwardSignals();
    this.watchSinks();

    try {
      const size = terminalSize();
      await client.start({
        processId,
        argv: this.o.argv,
        cwd: this.cwd,
        env: childEnv(),
        tty: this.o.tty,
        pipeStdin: !this.o.tty && piped,
        cols: this.o.tty ? size.cols : undefined,
        rows: this.o.tty ? size.rows : undefined,
        metadata: { source: 'cli', name: this.o.name ?? 'exec-server-run' },
      });
    } catch (err) {
      const msg = (err as Error).message;
      if (!client.isConnected) {
        process.stderr.write(`exec-server run: lost the connection to the exec server before the command started (${msg}). Nothing was run.\n`);
        return EXIT_NO_SERVER;
      }
      process.stderr.write(`exec-server run: ${msg}\n`);
      // As a shell reports it: 127 when there is no such program, 126 when it cannot be run.
      return /os error 2\b|ENOENT|not found/i.test(msg) ? 127 : 126;
    }
    signals.started();
    if (this.o.tty) this.enterTerminal();
    if (forwardStdin) this.pumpStdin();

    const end = await ended;
    await Promise.all([drained(process.stdout), drained(process.stderr)]);
    if (end instanceof Error) {
      process.stderr.write(`exec-server run: lost the connection to the exec server (${end.message}); the command was stopped by the server\n`);
      return EXIT_NO_SERVER;
    }
    if (this.readerGone && end.signal) return 128 + os.constants.signals.SIGPIPE;
    return exitStatus(end);
  }

  private exit: ExitedEvent | undefined;
  /** Our stdout or stderr reader went away (EPIPE) and we terminated the command for it. */
  private readerGone = false;

  /** Output to our own streams; a full sink pauses the connection (the server then pauses the process). */
  private emit(e: OutputEvent): void {
    const sink = e.stream === 'stderr' ? process.stderr : process.stdout;
    if (sink.destroyed) return;
    if (sink.write(e.data) || this.pausedBy.has(sink)) return;
    // Messages already received still arrive while paused; they queue in the sink (bounded
    // by what was in flight), one drain listener per sink.
    if (this.pausedBy.size === 0) this.client.pauseIncoming();
    this.pausedBy.add(sink);
    sink.once('drain', () => {
      this.pausedBy.delete(sink);
      if (this.pausedBy.size === 0) this.client.resumeIncoming();
    });
  }

  /**
   * Our reader went away (\`exec-server run -- cmd | head -1\`): a command run directly would die
   * of SIGPIPE at its next write, so this one is terminated, and output goes nowhere. Its
   * status is then a SIGPIPE death's (141), as a shell's PIPESTATUS would show for the command
   * itself: the SIGTERM is our doing, not the command's.
   */
  private watchSinks(): void {
    for (const sink of [process.stdout, process.stderr]) {
      const onError = (err: NodeJS.ErrnoException) => {
        sink.destroy();
        if (this.pausedBy.delete(sink) && this.pausedBy.size === 0) this.client.resumeIncoming();
        if (err.code !== 'EPIPE') return;
        this.readerGone = true;
        void this.client.terminate(this.processId).catch(() => undefined);
      };
      sink.on('error', onError);
      this.cleanups.push(() => sink.off('error', onError));
    }
  }

  /** Our stdin to the process, one write in flight at a time (the connection's own backpressure). */
  private pumpStdin(): void {
    const stdin = process.stdin;
    const onData = (chunk: Buffer) => {
      stdin.pause();
      this.client.write(this.processId, chunk).then(
        () => stdin.resume(),
        () => stdin.destroy(), // the process is gone or its stdin closed: stop reading ours
      );
    };
    const onEnd = () => void this.client.closeStdin(this.processId).catch(() => undefined);
    stdin.on('data', onData);
    stdin.once('end', onEnd);
    stdin.on('error', () => undefined);
    this.cleanups.push(() => {
      stdin.off('data', onData);
      stdin.off('end', onEnd);
      // Let the event loop end even if our stdin (a pipe nobody closes) is still open.
      stdin.destroy();
    });
  }

  /** --tty: our terminal in raw mode (keys, Ctrl-C included, go to the PTY), sizes followed. */
  private enterTerminal(): void {
    const stdin = process.stdin;
    if (stdin.isTTY) {
      stdin.setRawMode(true);
      this.cleanups.push(() => stdin.setRawMode(false));
    }
    const onResize = () => {
      const { cols, rows } = terminalSize();
      void this.client.resize(this.processId, cols, rows).catch(() => undefined);
    };
    process.on('SIGWINCH', onResize);
    this.cleanups.push(() => process.off('SIGWINCH', onResize));
  }

  /**
   * Signals sent to `run` go to the process group in the server: SIGINT interrupts, SIGTERM
   * terminates (the server escalates to SIGKILL), SIGHUP hangs up. Until the process has
   * started they are remembered and delivered right after.
   */
  private forwardSignals(): { started(): void } {
    let started = false;
    const pending: Array<() => void> = [];
    const on = (sig: NodeJS.Signals, act: () => Promise<unknown>) => {
      const handler = () => {
        const f = () => void act().catch(() => undefined);
        if (started) f();
        else pending.push(f);
      };
      process.on(sig, handler);
      this.cleanups.push(() => process.off(sig, handler));
    };
    on('SIGINT', () => this.client.signal(this.processId, 'interrupt'));
    on('SIGTERM', () => this.client.terminate(this.processId));
    on('SIGHUP', () => this.client.signal(this.processId, 'hangup'));
    return {
      started: () => {
        started = true;
        for (const f of pending.splice(0)) f();
      },
    };
  }
}

/** Resolves once what was written to `s` has been handed to the OS (bounded: a reader may be gone). */
function drained(s: NodeJS.WriteStream): Promise<void> {
  if (s.writableLength === 0 || s.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 10_000);
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    s.once('error', done);
    s.write('', done);
  });
}
