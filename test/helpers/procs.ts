/**
 * Process bookkeeping for the server tests, read straight from /proc (Linux): is a pid alive
 * (zombies count as gone), who is in a process group, who descends from whom. Every test
 * file creates one `ProcessGuard`; its after() hook stops what the file started (by pid) and
 * fails the file if any tracked process or group member is still alive.
 */
import { after } from 'node:test';
import * as fs from 'node:fs';

export interface ProcStat {
  pid: number;
  state: string;
  ppid: number;
  pgrp: number;
}

export function procStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may contain spaces and parentheses: split after the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { pid, state: rest[0], ppid: Number(rest[1]), pgrp: Number(rest[2]) };
}

/** Alive = present in /proc and not a zombie (a zombie has exited; only its parent's wait is missing). */
export function isAlive(pid: number): boolean {
  const s = procStat(pid);
  return s !== undefined && s.state !== 'Z' && s.state !== 'X';
}

export function allStats(): ProcStat[] {
  const out: ProcStat[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = procStat(Number(name));
    if (s) out.push(s);
  }
  return out;
}

/** Live (non-zombie) members of process group `pgid`. */
export function groupMembers(pgid: number): number[] {
  return allStats()
    .filter((s) => s.pgrp === pgid && s.state !== 'Z' && s.state !== 'X')
    .map((s) => s.pid);
}

export function childrenOf(pid: number): number[] {
  return allStats()
    .filter((s) => s.ppid === pid && s.state !== 'Z' && s.state !== 'X')
    .map((s) => s.pid);
}

export function descendantsOf(pid: number): number[] {
  const stats = allStats().filter((s) => s.state !== 'Z' && s.state !== 'X');
  const out: number[] = [];
  const queue = [pid];
  while (queue.length) {
    const p = queue.shift()!;
    for (const s of stats) {
      if (s.ppid === p) {
        out.push(s.pid);
        queue.push(s.pid);
      }
    }
  }
  return out;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Poll `cond` until it holds; a bounded wait for liveness, never a timing assertion. */
export async function waitUntil(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

export async function waitGone(pid: number, timeoutMs = 10_000): Promise<void> {
  await waitUntil(() => !isAlive(pid), `pid ${pid} to be gone`, timeoutMs);
}

export async function waitGroupGone(pgid: number, timeoutMs = 10_000): Promise<void> {
  await waitUntil(() => groupMembers(pgid).length === 0, `process group ${pgid} to be empty`, timeoutMs);
}

/** Asserts (after a bounded grace for asynchronous kills) that the pid and its whole group are gone. */
export async function assertGone(pid: number, timeoutMs = 10_000): Promise<void> {
  await waitGone(pid, timeoutMs);
  await waitGroupGone(pid, timeoutMs);
}

function kill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    /* already gone */
  }
}

/**
 * What a test file started: pids (servers, managed processes, grandchildren) and process
 * groups (each managed process leads its own). Cleanups run first (reverse order), then the
 * check; survivors are SIGKILLed by pid so a failing file still leaves nothing behind.
 */
export class ProcessGuard {
  private readonly pids = new Set<number>();
  private readonly groups = new Set<number>();
  private readonly cleanups: Array<() => unknown> = [];

  constructor() {
    after(async () => {
      for (const c of this.cleanups.reverse()) {
        try {
          await c();
        } catch {
          /* keep cleaning */
        }
      }
      await this.check();
    });
  }

  /** A pid started by this file (a server, a managed process, a grandchild). */
  track(pid: number): number {
    this.pids.add(pid);
    return pid;
  }

  /** A managed process: its pid and the process group it leads. */
  trackGroup(pid: number): number {
    this.pids.add(pid);
    this.groups.add(pid);
    return pid;
  }

  onCleanup(fn: () => unknown): void {
    this.cleanups.push(fn);
  }

  survivors(): number[] {
    const alive = new Set<number>();
    for (const pid of this.pids) if (isAlive(pid)) alive.add(pid);
    if (this.groups.size) {
      for (const s of allStats()) {
        if (this.groups.has(s.pgrp) && s.state !== 'Z' && s.state !== 'X') alive.add(s.pid);
      }
    }
    // Anything still descending from this test process was started by this file too.
    for (const pid of descendantsOf(process.pid)) alive.add(pid);
    return [...alive];
  }

  async check(): Promise<void> {
    // Kills are asynchronous (SIGTERM, then SIGKILL after a grace): allow a bounded wait.
    const deadline = Date.now() + 5_000;
    let left = this.survivors();
    while (left.length && Date.now() < deadline) {
      await sleep(50);
      left = this.survivors();
    }
    if (left.length) {
      const described = left.map((pid) => {
        let cmd = '';
        try {
          cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
        } catch {
          /* gone meanwhile */
        }
        return `${pid} (${cmd})`;
      });
      for (const pid of left) kill(pid, 'SIGKILL');
      throw new Error(`processes started by this test file are still alive: ${described.join(', ')}`);
    }
  }
}

/** VmRSS of a process in bytes (from /proc/<pid>/status). */
export function rssBytes(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]) * 1024;
}
