import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Poll until `f` returns a truthy value. Bounded (a hang guard with a message naming what never
 * happened, below mocha's 60 s default timeout), not a timed assertion.
 */
export async function waitFor<T>(what: string, f: () => T | undefined | null | false | Promise<T | undefined | null | false>, intervalMs = 50, boundMs = 50_000): Promise<T> {
  const end = Date.now() + boundMs;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`gave up after ${boundMs} ms waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
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

/** Like recordPid, for many at once (one read and one write of the state file). */
export function recordPids(pids: number[]): void {
  const file = process.env.EXEC_SERVER_TEST_STATE;
  if (!file || pids.length === 0) return;
  let state: { pids: number[] } = { pids: [] };
  try {
    state = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    // first write
  }
  state.pids.push(...pids);
  fs.writeFileSync(file, JSON.stringify(state));
}

export interface AgentReport {
  exitCode: number;
  signal: string | null;
  bytes: number;
}

/** A running agent.js (see agent.ts): a separate process that runs one command through the server. */
export interface AgentProcess {
  /** The agent's own pid. */
  readonly pid: number;
  /** pid of the process it started. */
  readonly started: Promise<number>;
  /** Output bytes the agent has received so far (updated on each progress line). */
  readonly bytes: () => number;
  /** The process ended and all its output arrived. Rejects if the agent fails. */
  readonly closed: Promise<AgentReport>;
  /** Close its stdin (it exits), then SIGKILL it by pid if it is still there. */
  stop(): Promise<void>;
}

export function startAgent(url: string, token: string, argv: string[], processId: string, opts: { reportEveryBytes?: number; clientName?: string } = {}): AgentProcess {
  // VS Code desktop runs extensions on Electron: ELECTRON_RUN_AS_NODE makes it plain Node.
  const child = spawn(process.execPath, [path.join(__dirname, 'agent.js'), url, JSON.stringify(argv), processId, String(opts.reportEveryBytes ?? 4 * 1024 * 1024)], {
    env: { ...process.env, ELECTRON_RUN_AS_NODE: '1', EXEC_AGENT_TOKEN: token, EXEC_AGENT_CLIENT_NAME: opts.clientName ?? 'agent-process' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let bytes = 0;
  let stderr = '';
  let buf = '';
  let onStarted!: (pid: number) => void;
  let onClosed!: (r: AgentReport) => void;
  let fail!: (e: Error) => void;
  const started = new Promise<number>((res, rej) => {
    onStarted = res;
    fail = rej;
  });
  const closed = new Promise<AgentReport>((res, rej) => {
    onClosed = res;
    const prev = fail;
    fail = (e) => {
      prev(e);
      rej(e);
    };
  });
  started.catch(() => undefined);
  closed.catch(() => undefined);
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-4096)));
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
    const lines = buf.split('\n');
    buf = lines.pop() ?? '';
    for (const line of lines) {
      const m = JSON.parse(line) as { event: string; pid?: number; bytes?: number; exitCode?: number; signal?: string | null };
      if (m.event === 'started') onStarted(m.pid!);
      else if (m.event === 'progress') bytes = m.bytes!;
      else if (m.event === 'closed') {
        bytes = m.bytes!;
        onClosed({ exitCode: m.exitCode!, signal: m.signal ?? null, bytes });
      }
    }
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  void exited.then(() => fail(new Error(`agent exited before reporting (stderr: ${stderr.trim() || 'none'})`)));
  return {
    pid: child.pid!,
    started,
    bytes: () => bytes,
    closed,
    stop: async () => {
      child.stdin!.end();
      const t = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(t);
    },
  };
}
