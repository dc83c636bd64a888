import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readSync } from 'node:fs';
import type { Socket } from 'node:net';
import * as path from 'node:path';
import { hostPlatform } from '../../platform/hostPlatform';
import { groupAlive, killGroup } from './processGroup';

/**
 * Orphan-proofing: no managed process may outlive the server that owns it, however the
 * server dies (SIGKILL of the CLI, a crash of the VS Code extension host, SIGTERM to
 * code-server's whole process group, which skips `deactivate()`).
 *
 * Every managed child leads its own process group (setsid), so it does not die with its
 * parent. Linux has a parent-death signal (prctl(PR_SET_PDEATHSIG)), but Node cannot call
 * prctl without a native addon, it would have to be set in each child between fork and exec
 * (node-pty and libuv do the fork), and it only reaches the direct child, not the
 * grandchildren of its group; macOS has no equivalent at all. So the portable answer is a
 * watchdog: a tiny separate Node process (dist/watchdog.js), started detached (its own
 * session, so a signal to the server's group does not take it down too), connected to the
 * server by a pipe on its stdin. The server writes one short line per new group
 * (`+PGID\n`) and one when a group is fully gone (`-PGID\n`). The kernel closes the pipe when
 * the server dies, for whatever reason: the watchdog then sends SIGTERM to every registered
 * group still alive, SIGKILL after a grace period, and exits. As a second trigger it also
 * notices its parent changing (reparenting to init/a subreaper), once a second.
 *
 * The watchdog forgets groups that no longer exist (checked once a second), so a recycled
 * PGID is only at risk inside that window. It is started lazily, with the first process, so
 * a server that never runs anything never pays for it; it does not keep the server's event
 * loop alive, and it is restarted (with the registered groups replayed) if it dies.
 */

/** Where the bundled watchdog entry lives next to dist/cli.js and dist/extension.js (or out/ for tests). */
export function defaultWatchdogScript(): string | undefined {
  const candidates = [
    path.join(__dirname, 'watchdog.js'), // bundles: dist/cli.js, dist/extension.js → dist/watchdog.js
    path.join(__dirname, '..', '..', 'cli', 'watchdog.js'), // tsc output: out/src/server/process → out/src/cli/watchdog.js
  ];
  return candidates.find((c) => existsSync(c));
}

export interface GroupWatchdogOptions {
  /** Path of the watchdog entry script (default: found next to this bundle, see above). */
  script?: string;
  /** Runtime for the script (default process.execPath, run as Node when it is Electron). */
  execPath?: string;
  /** SIGTERM→SIGKILL grace the watchdog gives the groups when it fires. */
  graceMs?: number;
  /** Told when the watchdog cannot be started or keeps dying (the server goes on without it). */
  onError?(message: string): void;
}

const MAX_RESTARTS = 5;

/** The server side: registers process groups with the watchdog process. */
export class GroupWatchdog {
  private child: ChildProcess | null = null;
  private readonly groups = new Set<number>();
  private restarts = 0;
  private disposed = false;
  /** Set when the watchdog cannot run here (script missing, keeps dying): stop trying. */
  private unavailable = false;
  /** Why the watchdog is not running, when it is not. */
  error: string | null = null;

  constructor(private readonly o: GroupWatchdogOptions = {}) {}

  /** The watchdog process's pid (for tests and diagnostics), once started. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** A new process group (hot path: one short write to the pipe). */
  add(pgid: number): void {
    if (!(pgid > 0)) return;
    this.groups.add(pgid);
    this.disposed = false;
    if (this.child) this.send(`+${pgid}\n`);
    else if (!this.unavailable) this.start();
  }

  /** The group is fully gone: nothing left to kill. */
  remove(pgid: number): void {
    if (!this.groups.delete(pgid)) return;
    if (this.child) this.send(`-${pgid}\n`);
  }

  /**
   * Close the pipe: the watchdog kills whatever registered group is still alive and exits
   * (the last sweep of an orderly shutdown). A later add() starts a new one.
   */
  dispose(): void {
    this.disposed = true;
    this.groups.clear();
    const c = this.child;
    this.child = null;
    c?.stdin?.end();
  }

  private send(line: string): void {
    const stdin = this.child?.stdin;
    if (stdin && stdin.writable) stdin.write(line);
  }

  private start(): void {
    const script = this.o.script ?? defaultWatchdogScript();
    if (!script || !existsSync(script)) {
      this.unavailable = true;
      this.fail(`watchdog script not found${script ? ` at ${script}` : ''}: managed processes are not orphan-proof`);
      return;
    }
    for (const g of this.groups) if (!groupAlive(g)) this.groups.delete(g);
    if (this.groups.size === 0) return;
    let child: ChildProcess;
    try {
      child = spawn(this.o.execPath ?? process.execPath, [script, String(process.pid), String(this.o.graceMs ?? 1000)], {
        // Its own session: a signal to our process group (Ctrl-C, code-server's group kill)
        // must not take the watchdog down with us.
        detached: hostPlatform().childLeadsGroup,
        stdio: ['pipe', 'ignore', 'ignore'],
        // Electron (VS Code's extension host) runs the script as plain Node with this; a
        // minimal environment keeps NODE_OPTIONS (--inspect, --require) out of it.
        env: {
          ELECTRON_RUN_AS_NODE: '1',
          ...hostPlatform().watchdogEnv(),
        },
        windowsHide: true,
      });
    } catch (err) {
      this.fail(`cannot start the watchdog: ${(err as Error).message}`);
      return;
    }
    this.child = child;
    this.error = null;
    child.on('error', (err) => {
      if (child.pid === undefined && this.child === child) {
        // It never started (the runtime cannot be executed): do not try on every process.
        this.child = null;
        this.unavailable = true;
      }
      this.fail(`watchdog: ${err.message}`);
    });
    child.stdin!.on('error', () => undefined); // EPIPE if it died: handled by 'exit'
    // Neither the process nor its pipe keeps our event loop alive.
    child.unref();
    (child.stdin as unknown as Socket).unref?.();
    child.once('exit', () => {
      if (this.child !== child) return;
      this.child = null;
      if (this.disposed || this.groups.size === 0) return;
      if (++this.restarts > MAX_RESTARTS) {
        this.unavailable = true;
        this.fail('the watchdog keeps dying: managed processes are not orphan-proof');
        return;
      }
      this.start();
    });
    // Replay every group we still know (the first start or a restart).
    child.stdin!.write([...this.groups].map((g) => `+${g}\n`).join(''));
  }

  private fail(message: string): void {
    if (this.error === message) return;
    this.error = message;
    this.o.onError?.(message);
  }
}

/**
 * The watchdog process itself (dist/watchdog.js): argv = [serverPid, graceMs]; stdin carries
 * `+PGID` / `-PGID` lines. Exits after killing every registered group once the server is gone.
 */
export function runWatchdogProcess(argv: string[] = process.argv.slice(2)): void {
  const serverPid = Number(argv[0]);
  const graceMs = Math.max(0, Number(argv[1] ?? 1000) || 0);
  const groups = new Set<number>();
  let fired = false;
  let pending = '';

  // Signals aimed at a terminal's foreground group or a hung-up session are not for us.
  for (const s of ['SIGINT', 'SIGHUP', 'SIGPIPE'] as const) process.on(s, () => undefined);

  const parse = (d: Buffer) => {
    const text = pending + d.toString('latin1');
    const lines = text.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      const n = Number(line.slice(1));
      if (!Number.isInteger(n) || n <= 0) continue;
      if (line[0] === '+') groups.add(n);
      else if (line[0] === '-') groups.delete(n);
    }
  };

  /**
   * What the server wrote before it died may still sit in the pipe (when the parent-change
   * check fires first, e.g. the server died while we were starting): read it all now.
   * stdin is non-blocking (libuv), so this stops at EAGAIN if someone else holds the pipe.
   */
  const drainStdin = () => {
    const buf = Buffer.alloc(64 * 1024);
    for (let i = 0; i < 1024; i++) {
      let n: number;
      try {
        n = readSync(0, buf, 0, buf.length, null);
      } catch {
        return; // EAGAIN (nothing more now), EOF races, EBADF
      }
      if (n <= 0) return;
      parse(buf.subarray(0, n));
    }
  };

  const fire = async () => {
    if (fired) return;
    fired = true;
    clearInterval(poll);
    process.stdin.pause();
    drainStdin();
    let alive = [...groups].filter(groupAlive);
    for (const g of alive) killGroup(g, graceMs > 0 ? 'SIGTERM' : 'SIGKILL');
    const deadline = Date.now() + graceMs;
    while (alive.length > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 25));
      alive = alive.filter(groupAlive);
    }
    for (const g of alive) killGroup(g, 'SIGKILL');
    // Give the kernel a moment to deliver, then go (bounded: a zombie never becomes "gone").
    const end = Date.now() + 2_000;
    while (alive.length > 0 && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 25));
      alive = alive.filter(groupAlive);
      for (const g of alive) killGroup(g, 'SIGKILL');
    }
    process.exit(0);
  };

  const poll = setInterval(() => {
    if (process.ppid !== serverPid) return void fire();
    for (const g of groups) if (!groupAlive(g)) groups.delete(g);
  }, 1_000);

  process.stdin.on('data', parse);
  process.stdin.once('end', () => void fire());
  process.stdin.once('close', () => void fire());
  process.stdin.on('error', () => void fire());
  // The server died before we even started: read what it sent, then act.
  if (process.ppid !== serverPid) setImmediate(() => void fire());
}
