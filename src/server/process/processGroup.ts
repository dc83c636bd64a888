import { hostPlatform } from '../../platform/hostPlatform';

/**
 * Every managed child leads its own process group (pipes: setsid via `detached`; PTYs:
 * node-pty's setsid), so one kill reaches the children it forked. Windows has no groups: the
 * platform's tree kill stands in (src/platform/hostPlatform.ts says how each platform does it).
 */
export function killGroup(pid: number, signal: NodeJS.Signals): boolean {
  return hostPlatform().killTree(pid, signal);
}

/** True while any process of the group is alive (zombies excepted only once reaped). */
export function groupAlive(pid: number): boolean {
  return hostPlatform().treeAlive(pid);
}
