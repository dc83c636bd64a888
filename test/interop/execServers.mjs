// Adapter that starts "the exec server under test" and hides how its CLI differs:
//
//  * EXEC_SERVER_CMD set (a JSON argv array, e.g.
//    '["node","/work/main/dist/cli.js"]'): our server. `--listen ws://127.0.0.1:0` is appended unless the
//    argv already has --listen; the token is passed as `--token-file PATH`; the server must print a
//    line containing `listening on ws://IP:PORT` on stderr; it accepts the token as
//    `Authorization: Bearer T` or as `?token=T`.
//  * unset: the reference, `codex exec-server --listen ws://127.0.0.1:0` from the pinned codex binary
//    (+ `--ws-auth capability-token --ws-token-file PATH` when a token is given). It prints its URL as
//    the first line of stdout and accepts the token only as `Authorization: Bearer T`.
//
// Every server is started in its own process group and stopped by PID (SIGTERM, then SIGKILL).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** @returns {{ kind: 'reference', supportsQueryToken: false } | { kind: 'custom', argv: string[], supportsQueryToken: true }} */
export function serverUnderTest() {
  const raw = process.env.EXEC_SERVER_CMD;
  if (!raw) return { kind: 'reference', supportsQueryToken: false };
  const argv = JSON.parse(raw);
  if (!Array.isArray(argv) || argv.length === 0 || !argv.every((a) => typeof a === 'string')) {
    throw new Error(`EXEC_SERVER_CMD must be a non-empty JSON array of strings, got ${raw}`);
  }
  return { kind: 'custom', argv, supportsQueryToken: true };
}

/**
 * @param {{codexBin?: string, token?: string|null, cwd?: string, startTimeoutMs?: number}} o
 *   token: null/undefined = start without auth (reference only; our server always gets a token).
 */
export async function startExecServer({ codexBin, token = null, cwd, startTimeoutMs = 20_000 } = {}) {
  const sut = serverUnderTest();
  const dir = mkdtempSync(join(tmpdir(), 'exec-server-it-'));
  const tokenFile = join(dir, 'token');
  let argv;
  if (sut.kind === 'reference') {
    if (!codexBin) throw new Error('startExecServer: codexBin is required for the reference server');
    argv = [codexBin, 'exec-server', '--listen', 'ws://127.0.0.1:0'];
    if (token != null) {
      writeFileSync(tokenFile, token + '\n', { mode: 0o600 });
      argv.push('--ws-auth', 'capability-token', '--ws-token-file', tokenFile);
    }
  } else {
    if (token == null) throw new Error('startExecServer: our server is always started with a token');
    writeFileSync(tokenFile, token + '\n', { mode: 0o600 });
    argv = [...sut.argv];
    if (!argv.includes('--listen') && !argv.some((a) => a.startsWith('--listen='))) argv.push('--listen', 'ws://127.0.0.1:0');
    argv.push('--token-file', tokenFile);
  }
  // HOME of its own: codex runs commands with `bash -lc`, and this machine's login profile
  // (pyenv's rehash lock, left behind by any shell stopped while it runs) is not under test.
  /** @type {NodeJS.ProcessEnv} */
  const env = { ...process.env, CODEX_HOME: mkdtempSync(join(dir, 'codex-home-')), HOME: mkdtempSync(join(dir, 'home-')) };
  delete env.CODEX_EXEC_SERVER_URL;
  const child = spawn(argv[0], argv.slice(1), {
    cwd: cwd ?? process.cwd(), // relative paths in EXEC_SERVER_CMD resolve against the caller's cwd
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let stdout = '';
  let stderr = '';
  let exited = null;
  const exitPromise = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      resolve(exited);
    });
  });
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');

  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`exec server did not announce its URL within ${startTimeoutMs} ms`)), startTimeoutMs);
    const check = () => {
      const m =
        sut.kind === 'reference'
          ? /^(ws:\/\/[^\s]+)/m.exec(stdout)
          : /listening on (ws:\/\/[^\s]+)/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolve(m[1].replace(/\/$/, ''));
      }
    };
    child.stdout.on('data', (d) => {
      stdout += d;
      check();
    });
    child.stderr.on('data', (d) => {
      stderr += d;
      check();
    });
    child.once('error', (e) => fail(e));
    exitPromise.then((x) => fail(new Error(`exec server exited early (${JSON.stringify(x)}): ${stderr}${stdout}`)));
    function fail(e) {
      clearTimeout(timer);
      reject(e);
    }
  }).catch(async (e) => {
    await stop();
    throw e;
  });

  async function stop() {
    if (exited == null) {
      try {
        process.kill(Number(child.pid), 'SIGTERM'); // NaN if the spawn failed: throws, caught
      } catch {}
      const t = setTimeout(() => {
        try {
          process.kill(-Number(child.pid), 'SIGKILL');
        } catch {}
      }, 3000);
      await exitPromise;
      clearTimeout(t);
    }
    // Anything left in the server's own process group (e.g. children it did not reap).
    try {
      process.kill(-Number(child.pid), 'SIGKILL');
    } catch {}
    rmSync(dir, { recursive: true, force: true });
  }

  return {
    kind: sut.kind,
    supportsQueryToken: sut.supportsQueryToken && token != null,
    url,
    pid: child.pid,
    tokenFile: token != null ? tokenFile : null,
    argv,
    stdout: () => stdout,
    stderr: () => stderr,
    exited: () => exited,
    stop,
  };
}

/** Parent pid of `pid` from /proc (null if gone). */
export function parentPid(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // pid (comm) state ppid ... ; comm may contain spaces/parens, so split after the last ')'.
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return null;
  }
}

/** True when pid === ancestor or pid is (still) a descendant of ancestor. */
export function isSameOrDescendant(pid, ancestor) {
  for (let p = pid, hops = 0; p && p > 1 && hops < 64; p = parentPid(p), hops++) {
    if (p === ancestor) return true;
  }
  return false;
}
