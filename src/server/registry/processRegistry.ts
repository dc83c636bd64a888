import { randomUUID } from 'node:crypto';
import { invalidRequest } from '../../protocol/errors';
import { clip } from '../../protocol/validate';
import { ClosedOutputBudget } from './closedOutputBudget';
import type { ServerConfig } from '../config';
import { GroupWatchdog, type GroupWatchdogOptions } from '../process/groupWatchdog';
import type { ManagedProcess, ProcessEvents } from '../process/managedProcess';
import type { RetainedChunk } from '../process/outputBuffer';
import { groupAlive } from '../process/processGroup';
import { keyOf, processKey, type ProcessKey } from './processKey';
import type { ServerEvents } from './serverEvents';
import { Session, type SessionHooks } from './session';

/** A processId claimed for a process/start while its spawn is under way. */
export interface Reservation {
  readonly key: ProcessKey;
  /** Where the new process sends its output, exit and close (give it to ManagedProcess.start). */
  readonly events: ProcessEvents;
  /** The spawn worked: register the process (terminated at once if its session ended meanwhile). */
  add(p: ManagedProcess): void;
  /** Always call it when the start is over (finally): frees the claim unless add() took it. */
  release(): void;
}

/** Per session: the processes it claimed (records and starts under way), in claim order. */
interface SessionEntry {
  readonly session: Session;
  readonly claims: Set<ProcessKey>;
  /** Each of the session's processes reports here (see `sinkFor`). */
  readonly sink: ProcessEvents;
}

/**
 * Every process the server runs, keyed by (session, process), and everything that happens to
 * one between its process/start and the moment its record is forgotten:
 * - the reservation of its id while it spawns (a second start with that id is refused, a
 *   write answers `starting`),
 * - registration with the orphan-proofing watchdog (groupWatchdog.ts) when it starts and
 *   removal once its group is gone,
 * - on close, its share of the server-wide closed-output budget (closedOutputBudget.ts) and
 *   the retention timer (config.exitedRetentionMs) after which the record goes,
 * - the sessions (views for one client each, session.ts) and the ones that ended but still
 *   have records to show: they are kept until their last record goes.
 * These invariants are kept by direct calls; the `ServerEvents` bus is told afterwards, for
 * external observers only (their listeners may fail without breaking anything here).
 */
export class ProcessRegistry {
  /** Kills our process groups if this server dies without shutting down; null when disabled. */
  readonly watchdog: GroupWatchdog | null;
  /** Server-wide bound on the output closed processes keep readable. */
  readonly closedOutput: ClosedOutputBudget;
  private readonly records = new Map<ProcessKey, ManagedProcess>();
  private readonly starting = new Set<ProcessKey>();
  /** Live sessions and ended ones still holding claims, by session id. */
  private readonly entries = new Map<string, SessionEntry>();
  private readonly retentionTimers = new Set<NodeJS.Timeout>();
  private readonly sessionHooks: SessionHooks = {
    changed: (s) => this.events.emit('sessionChanged', s),
    ended: (s) => this.sessionEnded(s),
  };

  constructor(
    private readonly config: ServerConfig,
    private readonly events: ServerEvents,
    watchdog: boolean | GroupWatchdogOptions = true,
  ) {
    this.watchdog = watchdog === false ? null : new GroupWatchdog({ graceMs: config.terminateGraceMs, ...(watchdog === true ? {} : watchdog) });
    this.closedOutput = new ClosedOutputBudget(config.closedOutputBudgetBytes);
  }

  // --- sessions ---

  /** A new session for a client (resumable: it survives its connection for the TTL). */
  openSession(clientName: string, resumable: boolean): Session {
    const s = new Session(randomUUID(), clientName, resumable, this.config.sessionTtlMs, this.sessionHooks);
    this.entries.set(s.id, { session: s, claims: new Set(), sink: this.sinkFor(s) });
    return s;
  }

  /** A session a client may resume: live (attached or detached), not ended. */
  findSession(id: string): Session | undefined {
    const s = this.entries.get(id)?.session;
    return s && !s.ended ? s : undefined;
  }

  listSessions(): Session[] {
    return [...this.entries.values()].map((e) => e.session).filter((s) => !s.ended);
  }

  /** Sessions that ended but still have process records winding down (or a start under way). */
  listEndedSessions(): Session[] {
    return [...this.entries.values()].map((e) => e.session).filter((s) => s.ended);
  }

  /** The session a process belongs to, ended or not, as long as its record exists. */
  sessionOf(key: ProcessKey): Session | undefined {
    const p = this.records.get(key);
    return p ? this.entries.get(p.sessionId)?.session : undefined;
  }

  // --- processes ---

  find(key: ProcessKey): ManagedProcess | undefined {
    return this.records.get(key);
  }

  /** A process/start for `key` has reserved the id and not finished yet. */
  isStarting(key: ProcessKey): boolean {
    return this.starting.has(key);
  }

  /** Every process record: live sessions' and ended ones' still winding down. */
  list(): ManagedProcess[] {
    return [...this.records.values()];
  }

  /** One session's process records, in the order their ids were claimed. */
  processesOf(session: Session): ManagedProcess[] {
    const out: ManagedProcess[] = [];
    for (const k of this.entries.get(session.id)?.claims ?? []) {
      const p = this.records.get(k);
      if (p) out.push(p);
    }
    return out;
  }

  /**
   * Claim `processId` in `session` for a start; refused (-32600) while a process with that id
   * exists (running, or its closed record is still retained) or is being started.
   */
  reserve(session: Session, processId: string): Reservation {
    const key = processKey(session.id, processId);
    if (this.records.has(key) || this.starting.has(key)) throw invalidRequest(`process ${clip(processId)} already exists`);
    const entry = this.entries.get(session.id);
    // Only a connection still open while the server shuts down gets here: spawn nothing new.
    if (!entry || session.ended) throw invalidRequest(`session ${clip(session.id)} has ended`);
    this.starting.add(key);
    entry.claims.add(key);
    let added = false;
    return {
      key,
      events: entry.sink,
      add: (p) => {
        if (added || !this.starting.has(key)) throw new Error(`reservation of ${key} is not open`);
        added = true;
        this.starting.delete(key);
        if (entry.session.ended) p.terminate(); // the client left while we were spawning
        this.records.set(key, p);
        this.watchdog?.add(p.pid);
        this.events.emit('processStarted', p);
      },
      release: () => {
        if (added || !this.starting.delete(key)) return;
        entry.claims.delete(key);
        this.forgetIfDone(entry);
      },
    };
  }

  /**
   * Stop everything: end every session (SIGTERM to each process group, SIGKILL after the
   * grace) and resolve once no group is left alive or the deadline passes; then forget all.
   */
  async shutdown(): Promise<void> {
    for (const s of this.listSessions()) s.end();
    const all = this.list();
    for (const p of all) p.terminate();
    const deadline = Date.now() + this.config.terminateGraceMs + 2_000;
    while (Date.now() < deadline && all.some((p) => groupAlive(p.pid))) {
      await new Promise((r) => setTimeout(r, 20));
    }
    for (const t of this.retentionTimers) clearTimeout(t);
    this.retentionTimers.clear();
    for (const e of this.entries.values()) if (e.session.ended) this.entries.delete(e.session.id);
    this.records.clear();
    // Last sweep: the watchdog kills whatever group outlived the grace, then exits.
    this.watchdog?.dispose();
  }

  // --- lifecycle ---

  /** The events of one session's processes: its client first, then the registry, then observers. */
  private sinkFor(session: Session): ProcessEvents {
    return {
      output: (p: ManagedProcess, chunk: RetainedChunk) => {
        session.output(p, chunk);
        this.events.emit('processOutput', p, chunk);
      },
      exited: (p: ManagedProcess, seq: number) => {
        session.exited(p, seq);
        this.events.emit('processExited', p);
      },
      closed: (p: ManagedProcess, seq: number) => {
        session.closed(p, seq);
        this.closedOutput.closed(p);
        this.forgetGroupIfGone(p);
        this.events.emit('processClosed', p);
        this.retain(p);
      },
    };
  }

  /** Keep a closed record readable for a while (and its id reserved), then let it go. */
  private retain(p: ManagedProcess): void {
    const t = setTimeout(() => {
      this.retentionTimers.delete(t);
      this.remove(p);
    }, this.config.exitedRetentionMs);
    t.unref();
    this.retentionTimers.add(t);
  }

  private remove(p: ManagedProcess): void {
    const key = keyOf(p);
    if (this.records.get(key) !== p) return;
    this.records.delete(key);
    this.closedOutput.removed(p);
    this.forgetGroupIfGone(p);
    const entry = this.entries.get(p.sessionId);
    if (entry) {
      entry.claims.delete(key);
      this.forgetIfDone(entry);
    }
    this.events.emit('processRemoved', p);
  }

  /** The watchdog keeps a group until it is gone (grandchildren may outlive the leader). */
  private forgetGroupIfGone(p: ManagedProcess): void {
    if (this.watchdog && !groupAlive(p.pid)) this.watchdog.remove(p.pid);
  }

  private sessionEnded(s: Session): void {
    const entry = this.entries.get(s.id);
    if (entry) {
      for (const k of entry.claims) this.records.get(k)?.terminate();
      this.forgetIfDone(entry);
    }
    this.events.emit('sessionRemoved', s);
  }

  /** An ended session is kept only while it still has claims (records to show, starts under way). */
  private forgetIfDone(entry: SessionEntry): void {
    if (entry.session.ended && entry.claims.size === 0) this.entries.delete(entry.session.id);
  }
}
