import * as fs from 'node:fs';

/** Poll until `f` returns a truthy value; mocha's timeout bounds the wait (no timed assertion). */
export async function waitFor<T>(what: string, f: () => T | undefined | null | false | Promise<T | undefined | null | false>, intervalMs = 50): Promise<T> {
  for (;;) {
    const v = await f();
    if (v) return v;
    await new Promise((r) => setTimeout(r, intervalMs));
    (waitFor as { last?: string }).last = what;
  }
}

interface Stat { state: string; pgid: number }
export function procStat(pid: number): Stat | null {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { state: f[0], pgid: Number(f[2]) };
  } catch {
    return null;
  }
}

export function alive(pid: number): boolean {
  const s = procStat(pid);
  return s !== null && s.state !== 'Z';
}

/** Live (non-zombie) members of a process group. */
export function groupMembers(pgid: number): number[] {
  const out: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = procStat(Number(name));
    if (s && s.pgid === pgid && s.state !== 'Z') out.push(Number(name));
  }
  return out;
}

/** Remember every pid the suite caused to exist, for the post-check after deactivation. */
export function recordPid(pid: number): void {
  const file = process.env.EXEC_SERVER_TEST_STATE;
  if (!file) return;
  let state: { pids: number[] } = { pids: [] };
  try {
    state = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    // first write
  }
  state.pids.push(pid);
  fs.writeFileSync(file, JSON.stringify(state));
}
