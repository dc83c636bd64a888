/**
 * Starts the built CLI (dist/cli.js, from `npm run build`) as a real server process:
 * `--listen ws://127.0.0.1:0 --token-file F`, and parses `listening on ws://…` from stderr.
 * Every server is tracked by the file's ProcessGuard and stopped by pid.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ProcessGuard } from './procs';

export const ROOT = path.resolve(__dirname, '..', '..', '..');
export const CLI = path.join(ROOT, 'dist', 'cli.js');

export interface CliServer {
  proc: ChildProcess;
  pid: number;
  url: string;
  port: number;
  token: string | null;
  stderr(): string;
  /** Resolves with the exit once the server process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM (by pid), SIGKILL if it does not exit within a bounded wait. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface CliOptions {
  /** Extra flags, e.g. ['--session-ttl-ms', '500']. */
  args?: string[];
  /** 'none' passes `--auth none` instead of a token file. */
  auth?: 'token' | 'none';
  listen?: string;
  env?: NodeJS.ProcessEnv;
  /** Extra descriptors for the server beyond 0–2 (e.g. 'pipe' entries: inherited without close-on-exec). */
  extraStdio?: Array<'pipe' | 'ignore'>;
  /** A command that runs the server (an argv prefix, e.g. `setpriv …` or `prlimit …`). */
  wrap?: string[];
  /** Pass the token as $EXEC_SERVER_TOKEN instead of a token file (a server run as another user cannot read ours). */
  tokenInEnv?: boolean;
  cwd?: string;
}

export function writeTokenFile(token: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exec-token-'));
  const file = path.join(dir, 'token');
  fs.writeFileSync(file, token + '\n', { mode: 0o600 });
  return file;
}

function watchExit(proc: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) resolve({ code: proc.exitCode, signal: proc.signalCode });
    else proc.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

/** SIGTERM, then SIGKILL after 8 s if it is still there; resolves with how it ended. */
export async function stopProc(proc: ChildProcess, exited: CliServer['exited']) {
  if (proc.exitCode === null && proc.signalCode === null && proc.pid) {
    try {
      process.kill(proc.pid, 'SIGTERM');
    } catch {
      /* gone */
    }
    const timer = setTimeout(() => {
      try {
        process.kill(proc.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
    }, 8_000);
    const r = await exited;
    clearTimeout(timer);
    return r;
  }
  return exited;
}

export async function startWsCli(guard: ProcessGuard, o: CliOptions = {}): Promise<CliServer> {
  const token = o.auth === 'none' ? null : randomBytes(16).toString('hex');
  const args = [CLI, '--listen', o.listen ?? 'ws://127.0.0.1:0'];
  const env = { ...(o.env ?? process.env) };
  delete env.EXEC_SERVER_TOKEN;
  if (token === null) args.push('--auth', 'none');
  else if (o.tokenInEnv) env.EXEC_SERVER_TOKEN = token;
  else args.push('--token-file', writeTokenFile(token));
  args.push(...(o.args ?? []));
  const argv = [...(o.wrap ?? []), process.execPath, ...args];
  const proc = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe', ...(o.extraStdio ?? [])], env, cwd: o.cwd });
  guard.track(proc.pid!);
  const exited = watchExit(proc);
  const server: Partial<CliServer> = { proc, pid: proc.pid!, token, exited };
  let err = '';
  server.stderr = () => err;
  server.stop = () => stopProc(proc, exited);
  guard.onCleanup(() => server.stop!());
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`CLI did not print its URL in time; stderr: ${err}`)), 15_000);
    proc.stderr!.setEncoding('utf8');
    proc.stderr!.on('data', (d: string) => {
      err += d;
      const m = /listening on (ws:\/\/\S+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    void exited.then((e) => {
      clearTimeout(timer);
      reject(new Error(`CLI exited (${e.code ?? e.signal}) before listening; stderr: ${err}`));
    });
  });
  server.url = url;
  server.port = Number(new URL(url).port);
  return server as CliServer;
}

/** Runs the CLI to completion (for --help, refused flags); bounded. */
export async function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
  const code = await new Promise<number | null>((resolve) => proc.once('close', (c) => resolve(c)));
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** The stdio server (`node dist/cli.js`, default `--listen stdio://`), tracked and stopped by pid. */
export function spawnStdioCli(guard: ProcessGuard, args: string[] = []): { proc: ChildProcess; stop(): Promise<unknown> } {
  const proc = spawn(process.execPath, [CLI, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  guard.track(proc.pid!);
  const exited = watchExit(proc);
  const stop = async () => {
    // Ending its input is how a stdio client leaves; the server then exits by itself.
    proc.stdin?.end();
    const t = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 5_000).unref());
    if ((await Promise.race([exited, t])) !== 'timeout') return exited;
    return stopProc(proc, exited);
  };
  guard.onCleanup(stop);
  return { proc, stop };
}
