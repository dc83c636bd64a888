/**
 * Running the built `exec-server` client subcommands (dist/cli.js run|servers|connect) as real
 * processes for the tests, with an environment that cannot reach a server by accident (no
 * EXEC_SERVER_URL/TOKEN inherited, a private discovery directory). Bounded: SIGKILL after 60 s.
 */
import { after } from 'node:test';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CLI, type CliServer } from '../helpers/cli';
import type { ProcessGuard } from '../helpers/procs';

export interface Ran {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const made: string[] = [];
after(() => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

/** A fresh directory under the system temp dir, removed when the test file ends. */
export function tempDir(prefix: string): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(d);
  return d;
}

/** The caller's env without anything that names a server, plus `extra`. */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of ['EXEC_SERVER_URL', 'EXEC_SERVER_TOKEN', 'EXEC_SERVER_LAUNCHER', 'CODEX_HOME', 'COPILOT_HOME', 'XDG_CONFIG_HOME']) delete env[k];
  return { ...env, ...extra };
}

export interface SpawnedCli {
  proc: ChildProcess;
  done: Promise<Ran>;
}

/** `node dist/cli.js ARGS` with stdin 'ignore' (/dev/null) unless `stdin` is 'pipe'. */
export function spawnCli(guard: ProcessGuard, args: string[], o: { env?: NodeJS.ProcessEnv; stdin?: 'pipe' | 'ignore'; cwd?: string } = {}): SpawnedCli {
  return spawnCollected(guard, process.execPath, [CLI, ...args], o);
}

/** Any command, its output collected, SIGKILLed after 60 s at the latest. */
export function spawnCollected(guard: ProcessGuard, command: string, args: string[], o: { env?: NodeJS.ProcessEnv; stdin?: 'pipe' | 'ignore'; cwd?: string } = {}): SpawnedCli {
  const proc = spawn(command, args, { stdio: [o.stdin ?? 'ignore', 'pipe', 'pipe'], env: o.env ?? cleanEnv(), cwd: o.cwd });
  guard.track(proc.pid!);
  let stdout = '';
  let stderr = '';
  proc.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => proc.kill('SIGKILL'), 60_000);
  const done = new Promise<Ran>((resolve) =>
    proc.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    }),
  );
  return { proc, done };
}

export function runCliTo(guard: ProcessGuard, args: string[], o: { env?: NodeJS.ProcessEnv; stdinText?: string; cwd?: string } = {}): Promise<Ran> {
  const s = spawnCli(guard, args, { env: o.env, cwd: o.cwd, stdin: o.stdinText !== undefined ? 'pipe' : 'ignore' });
  if (o.stdinText !== undefined) s.proc.stdin!.end(o.stdinText);
  return s.done;
}

/** The flags that point `run` at a test server without discovery. */
export function serverFlags(server: CliServer, tokenFile: string): string[] {
  return ['--url', server.url, '--token-file', tokenFile];
}

export function tokenFileFor(server: CliServer): string {
  const dir = tempDir('exec-run-token-');
  const file = path.join(dir, 'token');
  fs.writeFileSync(file, `${server.token}\n`, { mode: 0o600 });
  return file;
}

/** A discovery file advertising `server` for `folders`, as the extension writes it (0600, in a 0700 dir). */
export function advertise(dir: string, server: CliServer, folders: string[], appName = 'Test Window'): string {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, `server-${server.pid}-${server.port}.json`);
  const info = {
    url: server.url,
    port: server.port,
    token: server.token,
    pid: server.pid,
    workspaceFolders: folders,
    appName,
    protocolVersion: 'exec-server.v0',
    startedAt: new Date().toISOString(),
  };
  fs.writeFileSync(file, JSON.stringify(info), { mode: 0o600 });
  return file;
}

export interface PtyRun {
  /** Everything the terminal showed so far. */
  output(): string;
  write(data: string): void;
  resize(cols: number, rows: number): void;
  /** Resolves with the exit code of `run`. */
  exited: Promise<number>;
  /** Kill it if it is still running (call in `finally`). */
  dispose(): void;
}

/** `node dist/cli.js ARGS` in a real 80x24 terminal (node-pty), as a user would type it. */
export async function runInPty(guard: ProcessGuard, args: string[]): Promise<PtyRun> {
  const pty = await import('node-pty');
  const term = pty.spawn(process.execPath, [CLI, ...args], { cols: 80, rows: 24, env: cleanEnv() as Record<string, string> });
  guard.track(term.pid);
  let out = '';
  term.onData((d) => (out += d));
  return {
    output: () => out,
    write: (d) => term.write(d),
    resize: (c, r) => term.resize(c, r),
    exited: new Promise<number>((resolve) => term.onExit((e) => resolve(e.exitCode))),
    dispose: () => {
      try {
        term.kill();
      } catch {
        /* gone */
      }
    },
  };
}
