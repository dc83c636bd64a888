import * as fs from 'node:fs';

/**
 * Children must get stdin/stdout/stderr and nothing else. Every descriptor Node opens is
 * close-on-exec, but two kinds are not: descriptors this process inherited without it (in
 * VS Code, the extension host's) and node-pty's PTY masters (so each running PTY would leak
 * into every later child). libuv and node-pty close nothing between fork and exec, and Node
 * cannot set FD_CLOEXEC, so when such descriptors exist the child starts through a bash that
 * closes exactly them, restores what bash itself changes in the environment, and execs the
 * program with its argv[0]: one extra exec, paid only while there is something to close.
 */

const O_CLOEXEC = 0o2000000;
const RESCAN_MS = 5_000;

class InheritableFds {
  private scanned: number[] = [];
  private scannedAt = -Infinity;
  private readonly ptyMasters = new Set<number>();

  /** fds > 2 a child would inherit: a throttled scan of /proc/self/fdinfo plus the live PTY masters. */
  list(): number[] {
    const now = Date.now();
    if (now - this.scannedAt > RESCAN_MS) {
      this.scannedAt = now;
      this.scanned = scan();
    }
    if (this.ptyMasters.size === 0) return this.scanned;
    return [...new Set([...this.scanned, ...this.ptyMasters])].sort((a, b) => a - b);
  }

  addPtyMaster(fd: number): void {
    this.ptyMasters.add(fd);
  }

  removePtyMaster(fd: number): void {
    this.ptyMasters.delete(fd);
  }
}

function scan(): number[] {
  const out: number[] = [];
  let names: string[];
  try {
    names = fs.readdirSync('/proc/self/fd');
  } catch {
    return out; // no /proc: nothing we can know
  }
  for (const name of names) {
    const fd = Number(name);
    if (!(fd > 2)) continue;
    try {
      const flags = /^flags:\s+([0-7]+)/m.exec(fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'latin1'))?.[1];
      if (flags !== undefined && (parseInt(flags, 8) & O_CLOEXEC) === 0) out.push(fd);
    } catch {
      // closed meanwhile (the readdir's own descriptor among them)
    }
  }
  return out;
}

export const inheritableFds = new InheritableFds();

export interface Launch {
  file: string;
  args: string[];
  env: Record<string, string>;
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * How to start `file` with `argv` (argv[0] replaced by `arg0` when given) so the child gets
 * no descriptor in `closeFds` and exactly `env`. Returns null when a direct spawn does that.
 * `needArg0`: the spawner cannot set argv[0] itself (node-pty), so bash's `exec -a` must.
 */
export function launcher(file: string, argv0: string, args: string[], env: Record<string, string>, closeFds: number[], needArg0: boolean): Launch | null {
  if (closeFds.length === 0 && !needArg0) return null;
  const steps: string[] = [];
  if (closeFds.length > 0) steps.push(`exec ${closeFds.map((fd) => `${fd}>&-`).join(' ')}`);
  const shellEnv = { ...env };
  // bash reads $BASH_ENV (and, as sh, $ENV) at start: hide them from it, give them back.
  for (const k of ['BASH_ENV', 'ENV']) {
    if (k in shellEnv) {
      delete shellEnv[k];
      steps.push(`export ${k}=${quote(env[k])}`);
    }
  }
  // bash sets PWD: put it back as the client gave it, or take it away. Its `exec` exports
  // SHLVL minus one: a numeric SHLVL is handed in plus one; a missing one is made an array
  // (which bash never exports), so it stays missing.
  steps.push('PWD' in env ? `export PWD=${quote(env.PWD)}` : 'unset PWD');
  const shlvl = env.SHLVL;
  steps.push(shlvl === undefined ? 'unset SHLVL; declare -a SHLVL' : /^\d{1,9}$/.test(shlvl) ? `export SHLVL=${Number(shlvl) + 1}` : `export SHLVL=${quote(shlvl)}`);
  steps.push('exec -a "$0" "$@"');
  return { file: '/bin/bash', args: ['-c', steps.join('; '), argv0, file, ...args], env: shellEnv };
}
