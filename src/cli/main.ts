import { randomBytes } from 'node:crypto';
import { fstatSync, readFileSync } from 'node:fs';
import { Socket } from 'node:net';
import type { Writable } from 'node:stream';
import { ExecServer } from '../server/execServer';
import { adminInProcess } from '../server/admin/adminApi';
import { describeSandboxStatus, sandboxFor } from '../server/sandbox';
import { listenControlSocket, type ControlServer } from '../transport/controlSocket';
import { serveStdio } from '../transport/stdio';
import { isLoopbackHost } from '../transport/auth';
import { listenWebSocket } from '../transport/websocket';
import { parseArgs, USAGE, type CliOptions } from './args';
import { AdminOwnership } from './adminOwnership';
import { SUBCOMMANDS } from './subcommands';

declare const EXEC_SERVER_VERSION: string | undefined;
const VERSION = typeof EXEC_SERVER_VERSION === 'string' ? EXEC_SERVER_VERSION : '0.0.0-dev';

function readToken(o: CliOptions): { token: string | null; generated: boolean } {
  if (o.auth === 'none') return { token: null, generated: false };
  if (o.tokenFile) {
    const token = readFileSync(o.tokenFile, 'utf8').replace(/\r?\n$/, '');
    if (!token) throw new Error(`token file ${o.tokenFile} is empty`);
    return { token, generated: false };
  }
  const fromEnv = process.env.EXEC_SERVER_TOKEN;
  // Not for our children: a client's `envPolicy: {inherit: "all"}` copies this process's env.
  delete process.env.EXEC_SERVER_TOKEN;
  if (fromEnv) return { token: fromEnv, generated: false };
  return { token: randomBytes(32).toString('base64url'), generated: true };
}

async function main(): Promise<void> {
  const sub = SUBCOMMANDS[process.argv[2] ?? ''];
  if (sub) {
    process.exitCode = await sub(process.argv.slice(3));
    return;
  }
  let o: CliOptions;
  try {
    o = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`exec-server: ${(err as Error).message}\n`);
    process.exit(2);
  }
  if (o.help) return void process.stdout.write(USAGE);
  if (o.version) return void process.stdout.write(`${VERSION}\n`);

  const server = new ExecServer(
    {
      retainedOutputBytes: o.retainedOutputBytes,
      closedOutputBudgetBytes: o.closedOutputBudgetBytes,
      sessionTtlMs: o.sessionTtlMs,
      terminateGraceMs: o.terminateGraceMs,
      executorVersion: VERSION,
      codexPath: o.codexPath,
    },
    { watchdog: o.watchdog && { onError: (m) => process.stderr.write(`exec-server: ${m}\n`) } },
  );
  let stopTransport: () => Promise<void> = async () => undefined;
  let owner: AdminOwnership | undefined;
  let control: ControlServer | undefined;
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    control?.close();
    owner?.withdraw();
    await stopTransport().catch(() => undefined);
    await server.shutdown();
    if (o.listen.kind === 'stdio') await flushed(process.stdout, STDOUT_FLUSH_MS);
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(130));
  process.on('SIGTERM', () => void stop(143));
  process.on('SIGHUP', () => void stop(129));

  if (o.listen.kind === 'stdio') {
    logSandboxStatus(server);
    await serveStdio(server, process.stdin, process.stdout, { maxLineBytes: o.maxFrameBytes });
    await stop(0);
    return;
  }
  const { token, generated } = readToken(o);
  const listener = await listenWebSocket(server, {
    host: o.listen.host,
    port: o.listen.port,
    token,
    maxFrameBytes: o.maxFrameBytes,
    heartbeatMs: o.heartbeatMs,
  });
  stopTransport = () => listener.close();
  if (generated) process.stderr.write(`exec-server: generated token ${token}\n`);
  if (token === null) process.stderr.write('exec-server: authentication disabled (--auth none)\n');
  if (!isLoopbackHost(o.listen.host)) {
    // Allowed (with a token) because the address was asked for explicitly; say what it means.
    process.stderr.write(
      `exec-server: warning: listening on non-loopback address ${o.listen.host}: anyone who can reach this port ` +
        'and holds the token can run commands as this user, and there is no TLS\n',
    );
  }
  process.stderr.write(`exec-server: listening on ${listener.url}\n`);
  logSandboxStatus(server);
  if (o.adminStdio) {
    // Once the owner is gone nobody reads our stderr: a write must not kill us (EPIPE).
    process.stderr.on('error', () => undefined);
    const controlSecret = process.env.EXEC_SERVER_CONTROL_SECRET;
    delete process.env.EXEC_SERVER_CONTROL_SECRET; // not for our children
    const ready = { url: listener.url, port: listener.port, pid: process.pid };
    const channel = new AdminOwnership({
      admin: adminInProcess(server),
      ready,
      token,
      graceMs: o.controlSocket ? (o.reloadGraceMs ?? 0) : 0,
      onShutdown: () => void stop(0),
      // The owner (the extension host) stopped us or died, and nobody adopted us in time.
      onExpire: () => void stop(0),
      log: (m) => process.stderr.write(`exec-server: ${m}\n`),
    });
    owner = channel;
    process.on('exit', () => channel.withdraw());
    if (o.controlSocket) {
      if (!controlSecret) throw new Error('--control-socket needs $EXEC_SERVER_CONTROL_SECRET');
      control = await listenControlSocket({
        path: o.controlSocket,
        secret: controlSecret,
        adopt: (pid) => channel.adopt(pid),
        onAdopted: (socket) => channel.serve(socket, socket),
      });
    }
    channel.serve(process.stdin, adminOutput());
  }
}

/** Finds and probes codex once at start (sandboxed requests would wait for it) and says what it found. */
function logSandboxStatus(server: ExecServer): void {
  void sandboxFor(server.config)
    .check()
    .then((s) => process.stderr.write(`exec-server: ${describeSandboxStatus(s)}\n`));
}

/** How long an exiting stdio server waits for its client to read what is still queued. */
const STDOUT_FLUSH_MS = 10_000;

/**
 * Resolves once everything written to `out` so far has reached the kernel (or it failed, or
 * `maxMs` passed: a client that never reads must not keep us alive). On POSIX a piped
 * process.stdout is asynchronous, and process.exit() drops what is still queued: a client
 * that ended its input right after a large response (a multi-MiB fs/readFile) got a cut line.
 */
function flushed(out: Writable, maxMs: number): Promise<void> {
  if (out.writableLength === 0 || out.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, maxMs);
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    out.once('error', done);
    // Writes complete in order: the callback of an empty write runs after all earlier ones.
    out.write('', done);
  });
}

/**
 * fd 1 for the admin channel: our own socket, so the channel sees its backlog (and drops
 * output, see adminChannel.ts) instead of depending on how Node set up process.stdout (which
 * is asynchronous for pipes on POSIX, but synchronous for TTYs and files, and for pipes on
 * Windows).
 */
function adminOutput(): Writable {
  try {
    if (fstatSync(1).isFIFO() || fstatSync(1).isSocket()) {
      const s = new Socket({ fd: 1, readable: false, writable: true });
      s.on('error', () => undefined); // EPIPE: the parent is gone; stdin's end stops us
      return s;
    }
  } catch {
    // fall back to process.stdout (a file or a terminal)
  }
  return process.stdout;
}

main().catch((err: Error) => {
  process.stderr.write(`exec-server: ${err.message}\n`);
  process.exit(1);
});
