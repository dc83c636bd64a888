import { spawn } from 'node:child_process';

/**
 * Every managed child leads its own process group (pipes: setsid via `detached`; PTYs:
 * node-pty's setsid), so one kill reaches the children it forked. On Windows there are no
 * groups: the platform's tree kill (taskkill /T) is the equivalent.
 */
export function killGroup(pid: number, signal: NodeJS.Signals): boolean {
  if (process.platform === 'win32') {
    if (signal === 'SIGINT') return trySignal(pid, signal);
    const tk = spawn('taskkill', ['/T', '/F', '/PID', String(pid)], { stdio: 'ignore', windowsHide: true });
    tk.on('error', () => undefined);
    return true;
  }
  return trySignal(-pid, signal) || trySignal(pid, signal);
}

/** True while any process of the group is alive (zombies excepted only once reaped). */
export function groupAlive(pid: number): boolean {
  if (process.platform === 'win32') return trySignal(pid, 0);
  return trySignal(-pid, 0);
}

function trySignal(target: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(target, signal);
    return true;
  } catch {
    return false;
  }
}
