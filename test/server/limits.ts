/**
 * Real resource limits for spawn-failure tests: `prlimit --pid` (util-linux) on a running
 * server, a server run as the unprivileged user `nobody` (RLIMIT_NPROC does not apply to
 * root), and /proc counters. Nothing is simulated: the kernel refuses the fork or the fd.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { CLI, startWsCli } from '../helpers/cli';
import type { ProcessGuard } from '../helpers/procs';

export function have(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/**
 * Sets a soft and hard limit of a running process. `asNobody`: prlimit runs as nobody too,
 * since changing another user's limits needs CAP_SYS_RESOURCE, which containers often drop
 * (lowering one's own limits needs nothing).
 */
export function setLimit(pid: number, resource: 'nofile' | 'nproc', value: number, asNobody = false): void {
  const argv = ['prlimit', '--pid', String(pid), `--${resource}=${value}:${value}`];
  const [cmd, ...args] = asNobody ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--', ...argv] : argv;
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`prlimit failed: ${r.stderr}`);
}

export function openFds(pid: number): number {
  return fs.readdirSync(`/proc/${pid}/fd`).length;
}

/** Processes and threads of a uid: what RLIMIT_NPROC counts. */
export function tasksOfUid(uid: number): number {
  let n = 0;
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let status: string;
    try {
      status = fs.readFileSync(`/proc/${name}/status`, 'utf8');
    } catch {
      continue;
    }
    if (Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]) !== uid) continue;
    n += Number(/^Threads:\s+(\d+)/m.exec(status)?.[1] ?? 1);
  }
  return n;
}

export const NOBODY_UID = 65534;

/** Why the server cannot be run as `nobody` here, or undefined when it can. */
export function cannotRunAsNobody(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root: cannot switch the server to the user nobody';
  if (!have('setpriv')) return 'setpriv (util-linux) is not installed';
  if (!have('prlimit')) return 'prlimit (util-linux) is not installed';
  const probe = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--', process.execPath, '-e', `require('fs').accessSync(${JSON.stringify(CLI)})`]);
  if (probe.status !== 0) return `nobody cannot run node here: ${probe.stderr}`;
  return undefined;
}

/** The CLI as user nobody (token via $EXEC_SERVER_TOKEN: a root-only token file is unreadable to it). */
export async function startServerAsNobody(guard: ProcessGuard): Promise<{ pid: number; url: string; token: string }> {
  // setpriv execs node: the same pid, which startWsCli tracks and stops.
  const s = await startWsCli(guard, { wrap: ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--'], tokenInEnv: true, cwd: '/' });
  return { pid: s.pid, url: s.url, token: s.token! };
}
