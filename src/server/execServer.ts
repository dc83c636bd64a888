import { randomUUID } from 'node:crypto';
import type { ClientChannel } from './clientChannel';
import { resolveConfig, type ServerConfig } from './config';
import { ConnectionHandler } from './connectionHandler';
import type { ManagedProcess } from './managedProcess';
import { ServerEvents } from './serverEvents';
import { Session } from './session';
import { releaseSandbox } from './sandbox';
import { groupAlive } from './processGroup';
import { GroupWatchdog, type GroupWatchdogOptions } from './groupWatchdog';
import { ClosedOutputBudget } from './closedOutputBudget';

export interface ExecServerOptions {
  /**
   * Orphan-proofing (see groupWatchdog.ts): a watchdog process kills every managed process
   * group if this server dies without shutting down. On by default; `false` turns it off.
   */
  watchdog?: boolean | GroupWatchdogOptions;
}

/**
 * The exec server without any transport: sessions, their processes, and the privileged
 * observer API (list everything, watch events, terminate anything) that only in-process
 * code (the extension) or the CLI's stdio admin channel can reach.
 */
export class ExecServer {
  readonly config: ServerConfig;
  readonly events = new ServerEvents();
  private readonly sessions = new Map<string, Session>();
  /** Sessions that ended but still have processes winding down (for shutdown and listing). */
  private readonly endedSessions = new Set<Session>();
  private shuttingDown = false;
  /** Kills our process groups if this process dies without shutting down; null when disabled. */
  readonly watchdog: GroupWatchdog | null;
  /** Server-wide bound on the output closed processes keep readable. */
  readonly closedOutput: ClosedOutputBudget;

  constructor(config: Partial<ServerConfig> = {}, options: ExecServerOptions = {}) {
    this.config = resolveConfig(config);
    this.watchdog = this.startWatchdog(options.watchdog ?? true);
    this.closedOutput = new ClosedOutputBudget(this.config.closedOutputBudgetBytes);
    this.events.on('processClosed', (p) => this.closedOutput.closed(p));
    this.events.on('processRemoved', (p) => this.closedOutput.removed(p));
    // An ended session is kept only while it still has process records to show.
    this.events.on('processRemoved', () => {
      for (const s of this.endedSessions) if (s.processes.size === 0) this.endedSessions.delete(s);
    });
  }

  /** Orphan-proofing: every new process group is registered with the watchdog (groupWatchdog.ts). */
  private startWatchdog(o: boolean | GroupWatchdogOptions): GroupWatchdog | null {
    if (o === false) return null;
    const w = new GroupWatchdog({ graceMs: this.config.terminateGraceMs, ...(o === true ? {} : o) });
    this.events.on('processStarted', (p) => w.add(p.pid));
    const forgetIfGone = (p: ManagedProcess) => {
      if (!groupAlive(p.pid)) w.remove(p.pid);
    };
    this.events.on('processClosed', forgetIfGone);
    this.events.on('processRemoved', forgetIfGone);
    return w;
  }

  /** A new connection from any transport. */
  connect(channel: ClientChannel): ConnectionHandler {
    return new ConnectionHandler(this, channel);
  }

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  createSession(clientName: string, resumable: boolean): Session {
    const s = new Session(randomUUID(), clientName, resumable, this.config, this.events, (ended) => {
      this.sessions.delete(ended.id);
      if (ended.processes.size > 0) this.endedSessions.add(ended);
    });
    this.sessions.set(s.id, s);
    return s;
  }

  findSession(id: string): Session | undefined {
    return this.sessions.get(id);
  }

  listSessions(): Session[] {
    return [...this.sessions.values()];
  }

  /** Every process the server knows, live sessions and ended ones still winding down. */
  listProcesses(): ManagedProcess[] {
    const out: ManagedProcess[] = [];
    for (const s of [...this.sessions.values(), ...this.endedSessions]) out.push(...s.processes.values());
    return out;
  }

  findProcess(sessionId: string, processId: string): ManagedProcess | undefined {
    const s = this.sessions.get(sessionId) ?? [...this.endedSessions].find((e) => e.id === sessionId);
    return s?.processes.get(processId);
  }

  /**
   * Stop everything: end every session (SIGTERM to each process group, SIGKILL after the
   * grace) and resolve once no group is left alive or the deadline passes.
   */
  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    for (const s of [...this.sessions.values()]) s.end();
    const all = this.listProcesses();
    for (const p of all) p.terminate();
    const deadline = Date.now() + this.config.terminateGraceMs + 2_000;
    while (Date.now() < deadline && all.some((p) => groupAlive(p.pid))) {
      await new Promise((r) => setTimeout(r, 20));
    }
    this.endedSessions.clear();
    // Last sweep: the watchdog kills whatever group outlived the grace, then exits.
    this.watchdog?.dispose();
    releaseSandbox(this.config); // the private helper directory
  }
}
