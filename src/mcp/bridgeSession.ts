import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { RootsListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { headAndTail, pageFrom, tailOf, type Page } from './outputPage';
import type { ToolProgress } from './progress';
import { ServerLink, type Connected } from './serverLink';
import { checkEnv, commandEnv, shellArgv } from './shellLine';
import { LIMITS } from './toolSchemas';
import { TrackedProcess } from './trackedProcess';
import { defaultCwd, resolveCwd } from './workspaceCwd';

export interface BridgeOptions {
  url?: string;
  tokenFile?: string;
  /** The agent's environment (the bridge's own by default): discovery and the commands' base env. */
  env?: NodeJS.ProcessEnv;
  /** The agent's working directory (the bridge's by default). */
  cwd?: string;
  log?: (message: string) => void;
  /** Every tool call returns within this (clients give up at 60 s). */
  callBudgetMs?: number;
  /** Output mirrored per process. */
  outputCapBytes?: number;
  /** false: `bash -c` instead of `bash -lc` (`--no-login`, for slow or PATH-resetting profiles). */
  loginShell?: boolean;
}

export type ProcessResult = {
  process_id: string;
  pid: number;
  status: TrackedProcess['status'];
  exit_code: number | null;
  signal: string | null;
  output: string;
  truncated: boolean;
  next_cursor: number;
  elapsed_ms: number;
  evicted_bytes: number;
  note?: string;
};

/** A tool failure the agent can act on; nothing was started or changed. */
class ToolError extends Error {}

const FINISHED_KEPT = 100;
const ROOTS_TIMEOUT_MS = 2_000;
/** After new output arrives during a wait, how long to gather what follows it. */
const COALESCE_MS = 100;
const STOP_WAIT_MS = 10_000;
const INTERRUPT_WAIT_MS = 2_000;
const SHUTDOWN_WAIT_MS = 2_000;

/**
 * One MCP session's state: its connection to the exec server and the processes its agent
 * started, with what each tool does. Tools only ever act on this session's processes.
 */
export class BridgeSession {
  readonly processes = new Map<string, TrackedProcess>();
  readonly link: ServerLink;
  private readonly env: NodeJS.ProcessEnv;
  private readonly cwd: string;
  private readonly budgetMs: number;
  private nextId = 0;
  private rootsCache: Promise<string[]> | undefined;

  constructor(
    private readonly mcp: McpServer,
    private readonly o: BridgeOptions = {},
  ) {
    this.env = o.env ?? process.env;
    this.cwd = path.resolve(o.cwd ?? process.cwd());
    this.budgetMs = o.callBudgetMs ?? 29_000;
    const log = o.log ?? (() => undefined);
    this.link = new ServerLink({
      url: o.url,
      tokenFile: o.tokenFile,
      env: this.env,
      cwd: this.cwd,
      roots: () => this.roots(),
      clientName: () => this.clientName(),
      log,
      events: {
        output: (n, e) => this.owned(n, e.processId)?.output(e.data),
        exited: (n, e) => this.owned(n, e.processId)?.exited(e.exitCode, e.signal),
        closed: (n, e) => this.owned(n, e.processId)?.closedNow(),
        lost: (n, reason) => {
          for (const p of this.processes.values()) if (p.link === n) p.lost(reason);
        },
      },
    });
    mcp.server.setNotificationHandler(RootsListChangedNotificationSchema, async () => {
      this.rootsCache = undefined;
    });
  }

  clientName(): string {
    return this.mcp.server.getClientVersion()?.name || 'mcp-client';
  }

  /** The MCP client's roots as paths, when it offers them (VS Code sends the workspace folders). */
  roots(): Promise<string[]> {
    if (!this.mcp.server.getClientCapabilities()?.roots) return Promise.resolve([]);
    this.rootsCache ??= this.mcp.server
      .listRoots(undefined, { timeout: ROOTS_TIMEOUT_MS })
      .then((r) => r.roots.filter((x) => x.uri.startsWith('file:')).map((x) => fileURLToPath(x.uri)))
      .catch(() => {
        this.rootsCache = undefined;
        return [];
      });
    return this.rootsCache;
  }

  async runCommand(
    a: {
      command: string;
      cwd?: string;
      yield_ms?: number;
      timeout_ms?: number;
      tty?: boolean;
      stdin?: string;
      keep_stdin_open?: boolean;
      env?: Record<string, string>;
      max_output_chars?: number;
      description?: string;
    },
    signal?: AbortSignal,
    progress?: ToolProgress,
  ): Promise<{ result: ProcessResult; failed: boolean }> {
    const deadline = Date.now() + this.budgetMs;
    if (a.command.trim() === '') throw new ToolError('command is empty: nothing was run');
    const envProblem = checkEnv(a.env);
    if (envProblem) throw new ToolError(`${envProblem}: nothing was run`);
    const tty = a.tty === true;
    const keepOpen = a.keep_stdin_open === true;
    let conn: Connected | undefined;
    let p: TrackedProcess | undefined;
    // Twice at most: a connection found dead only when used (the server just went away) is
    // replaced by a freshly resolved one; the process had not started, so nothing runs twice.
    for (let attempt = 0; attempt < 2 && !p; attempt++) {
      conn = await this.link.get();
      const base = defaultCwd(this.cwd, await this.roots(), conn.server.info?.workspaceFolders);
      const cwd = resolveCwd(a.cwd, base);
      const st = statOf(cwd);
      if (!st) throw new ToolError(`cwd ${cwd} does not exist: nothing was run`);
      if (!st.isDirectory()) throw new ToolError(`cwd ${cwd} is not a directory: nothing was run`);
      const id = this.newId();
      const candidate = new TrackedProcess({
        id,
        command: a.command,
        cwd,
        tty,
        stdinOpen: tty || keepOpen || a.stdin !== undefined,
        description: a.description,
        link: conn.n,
        outputCapBytes: this.o.outputCapBytes,
      });
      this.add(candidate);
      try {
        const r = await conn.client.start({
          processId: id,
          argv: shellArgv(a.command, { env: this.env, login: this.o.loginShell !== false }),
          cwd,
          env: commandEnv(this.env, a.env),
          tty,
          pipeStdin: !tty && (keepOpen || a.stdin !== undefined),
          cols: tty ? 120 : undefined,
          rows: tty ? 40 : undefined,
          metadata: {
            source: 'mcp',
            tool: 'run_command',
            command: a.command,
            ...(a.description ? { description: a.description } : {}),
            mcpClient: this.clientName(),
            ...(a.timeout_ms ? { timeoutMs: Math.round(a.timeout_ms) } : {}),
          },
        });
        candidate.pid = r.pid;
        p = candidate;
      } catch (err) {
        if (!conn.client.isConnected && attempt === 0) {
          this.processes.delete(id);
          continue;
        }
        candidate.failedToStart((err as Error).message);
        return { result: this.result(candidate, { output: candidate.failure ?? '', truncated: false, nextCursor: 0, evictedBytes: 0 }), failed: true };
      }
    }
    if (!p || !conn) throw new ToolError('the exec server connection was lost twice while starting the command: nothing was run');
    if (a.stdin !== undefined) await this.feedStdin(conn, p, a.stdin, !tty && !keepOpen);
    if (a.timeout_ms !== undefined) {
      const ms = Math.round(a.timeout_ms);
      p.timeoutTimer = setTimeout(() => {
        if (!p.running) return;
        p.note = `stopped: timeout_ms (${ms} ms) reached`;
        void this.signalProcess(p, 'SIGTERM', 'timeout').catch(() => undefined);
      }, ms);
      p.timeoutTimer.unref();
    }
    const yieldMs = clamp(a.yield_ms, LIMITS.yieldMs.default, 0, LIMITS.yieldMs.max);
    await this.wait(p, () => p.closed, Math.min(yieldMs, deadline - Date.now()), signal, progress);
    const page = headAndTail(p.log, 0, maxChars(a.max_output_chars), tty);
    p.readPos = page.nextCursor;
    return { result: this.result(p, page), failed: false };
  }

  async getOutput(a: { process_id: string; cursor?: number; wait_ms?: number; max_output_chars?: number }, signal?: AbortSignal, progress?: ToolProgress): Promise<ProcessResult> {
    const deadline = Date.now() + this.budgetMs;
    const p = this.mustFind(a.process_id);
    const from = a.cursor !== undefined ? Math.min(a.cursor, p.log.end) : p.readPos;
    const wait = Math.min(clamp(a.wait_ms, LIMITS.waitMs.default, 0, LIMITS.waitMs.max), deadline - Date.now());
    const until = Date.now() + wait;
    if (p.log.end <= from && !p.closed) {
      await this.wait(p, () => p.log.end > from || p.closed, wait, signal, progress);
      // Output comes in bursts: take what follows the first bytes too, not one chunk per call.
      if (!p.closed && !signal?.aborted) await this.wait(p, () => p.closed, Math.min(COALESCE_MS, until - Date.now()), signal, progress);
    }
    const chars = maxChars(a.max_output_chars);
    const page = a.cursor !== undefined ? pageFrom(p.log, from, chars, p.tty) : headAndTail(p.log, from, chars, p.tty);
    p.readPos = page.nextCursor;
    return this.result(p, page);
  }

  async sendInput(a: { process_id: string; text: string; wait_ms?: number }, signal?: AbortSignal, progress?: ToolProgress): Promise<ProcessResult> {
    const deadline = Date.now() + this.budgetMs;
    const p = this.mustFind(a.process_id);
    if (!p.running) throw new ToolError(`process ${p.id} has already ended (${describeEnd(p)}): nothing was written`);
    if (!p.stdinOpen) {
      throw new ToolError(
        `process ${p.id} was started without tty or keep_stdin_open, so its stdin is closed: nothing was written. ` +
          'Run the command again with keep_stdin_open: true (or tty: true) to send it input.',
      );
    }
    const conn = this.connectionOf(p);
    try {
      await conn.client.write(p.id, a.text);
    } catch (err) {
      throw new ToolError(`could not write to process ${p.id}: ${(err as Error).message}`);
    }
    const wait = Math.min(clamp(a.wait_ms, LIMITS.sendWaitMs.default, 0, LIMITS.sendWaitMs.max), deadline - Date.now());
    await this.wait(p, () => p.closed, wait, signal, progress);
    const page = headAndTail(p.log, p.readPos, LIMITS.maxOutputChars.default, p.tty);
    p.readPos = page.nextCursor;
    return this.result(p, page);
  }

  listProcesses(a: { include_finished?: boolean }) {
    const list = [...this.processes.values()].filter((p) => a.include_finished === true || p.running);
    return {
      processes: list.map((p) => ({
        process_id: p.id,
        pid: p.pid,
        command: p.command,
        cwd: p.cwd,
        status: p.status,
        exit_code: p.exitCode,
        started_at: new Date(p.startedAt).toISOString(),
        runtime_ms: Math.round(p.elapsedMs),
        tty: p.tty,
        ...(p.description ? { description: p.description } : {}),
      })),
    };
  }

  async stopProcess(a: { process_id: string; signal?: 'SIGTERM' | 'SIGINT' | 'SIGKILL' }, signal?: AbortSignal, progress?: ToolProgress): Promise<ProcessResult> {
    const deadline = Date.now() + this.budgetMs;
    const p = this.mustFind(a.process_id);
    const sig = a.signal ?? 'SIGTERM';
    if (p.running) {
      await this.signalProcess(p, sig, 'stop_process');
      const wait = sig === 'SIGINT' ? INTERRUPT_WAIT_MS : STOP_WAIT_MS;
      await this.wait(p, () => p.closed, Math.min(wait, deadline - Date.now()), signal, progress);
      if (p.running && sig !== 'SIGINT') p.note = `${sig} sent, but the process had not ended yet when this call returned; check with get_output`;
    }
    const page = tailOf(p.log, LIMITS.stopTailChars, p.tty, p.readPos);
    p.readPos = page.nextCursor;
    return this.result(p, page);
  }

  /**
   * The agent is gone (end of stdin, SIGINT, SIGTERM): stop what it left running — they show as
   * ended in the tree — then close the connection (the server ends the session, so anything
   * the requests below did not reach is terminated too).
   */
  async shutdown(): Promise<void> {
    const conn = this.link.connected;
    if (conn) {
      const running = [...this.processes.values()].filter((p) => p.running && p.link === conn.n);
      const stops = running.map((p) => this.signalProcess(p, 'SIGTERM', 'shutdown').catch(() => undefined));
      await Promise.race([Promise.allSettled(stops), sleep(SHUTDOWN_WAIT_MS)]);
    }
    for (const p of this.processes.values()) clearTimeout(p.timeoutTimer);
    this.link.close();
  }

  private async feedStdin(conn: Connected, p: TrackedProcess, text: string, thenClose: boolean): Promise<void> {
    try {
      if (text.length > 0) await conn.client.write(p.id, text);
    } catch (err) {
      // Typically: the process ended (or closed its stdin) before reading it.
      p.note = `stdin was not fully written: ${(err as Error).message}`;
    }
    if (!thenClose) return;
    p.stdinOpen = false;
    await conn.client.closeStdin(p.id).catch(() => undefined);
  }

  private async signalProcess(p: TrackedProcess, sig: 'SIGTERM' | 'SIGINT' | 'SIGKILL', why: 'stop_process' | 'timeout' | 'shutdown'): Promise<void> {
    const conn = this.connectionOf(p);
    if (sig !== 'SIGINT') p.stopRequested ??= why;
    // SIGTERM: the server's terminate (SIGTERM to the group, SIGKILL after its grace period).
    if (sig === 'SIGTERM') await conn.client.terminate(p.id);
    else await conn.client.signal(p.id, sig === 'SIGINT' ? 'interrupt' : 'kill');
  }

  private connectionOf(p: TrackedProcess): Connected {
    const conn = this.link.connected;
    if (!conn || conn.n !== p.link) throw new ToolError(`process ${p.id} is gone: the connection to the exec server that ran it was lost`);
    return conn;
  }

  private result(p: TrackedProcess, page: Page): ProcessResult {
    return {
      process_id: p.id,
      pid: p.pid,
      status: p.status,
      exit_code: p.exitCode,
      signal: p.signal,
      output: page.output,
      truncated: page.truncated,
      next_cursor: page.nextCursor,
      elapsed_ms: Math.round(p.elapsedMs),
      evicted_bytes: page.evictedBytes,
      ...(p.note ? { note: p.note } : {}),
    };
  }

  private owned(link: number, processId: string): TrackedProcess | undefined {
    const p = this.processes.get(processId);
    return p && p.link === link ? p : undefined;
  }

  /** Wait on `p` (see TrackedProcess.waitFor), reporting progress meanwhile when the caller asked for it. */
  private wait(p: TrackedProcess, until: () => boolean, ms: number, signal: AbortSignal | undefined, progress: ToolProgress | undefined): Promise<void> {
    const waiting = p.waitFor(until, ms, signal);
    return progress ? progress.during(p, waiting) : waiting;
  }

  private mustFind(id: string): TrackedProcess {
    const p = this.processes.get(id);
    if (!p) {
      const known = [...this.processes.keys()].slice(-10);
      throw new ToolError(`no process ${JSON.stringify(id)} in this session${known.length ? ` (known: ${known.join(', ')})` : ''}; list_processes shows yours`);
    }
    return p;
  }

  private newId(): string {
    return `p${++this.nextId}`;
  }

  /** Keep every running process and the newest finished ones. */
  private add(p: TrackedProcess): void {
    this.processes.set(p.id, p);
    const finished = [...this.processes.values()].filter((x) => !x.running);
    for (const old of finished.slice(0, Math.max(0, finished.length - FINISHED_KEPT))) this.processes.delete(old.id);
  }
}

function describeEnd(p: TrackedProcess): string {
  if (p.failure) return 'it failed to start';
  if (p.signal) return `killed by ${p.signal}`;
  return p.exitCode === null ? 'its connection was lost' : `exit code ${p.exitCode}`;
}

function clamp(v: number | undefined, dflt: number, lo: number, hi: number): number {
  if (v === undefined || !Number.isFinite(v)) return dflt;
  return Math.min(hi, Math.max(lo, Math.round(v)));
}

function maxChars(v: number | undefined): number {
  return clamp(v, LIMITS.maxOutputChars.default, LIMITS.maxOutputChars.min, LIMITS.maxOutputChars.max);
}

function statOf(p: string): fs.Stats | undefined {
  try {
    return fs.statSync(p);
  } catch {
    return undefined;
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());
