/**
 * Whether a process with this pid exists, asked with signal 0 (nothing is delivered). EPERM means
 * it exists but belongs to someone else: alive. Not a pid (0, negative, NaN: `kill` would address
 * a process group or throw) is never alive. The same call on every platform (Node maps it to
 * OpenProcess on Windows), so it lives beside the platform rather than in it.
 */
export function pidAlive(pid: number, kill: (pid: number, signal: 0) => void = (p, s) => void process.kill(p, s)): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
