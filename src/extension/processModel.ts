import type { SignalName } from '../protocol/types';
import type { AdminApi, ObservedChunk, ProcessSnapshot, SessionSnapshot } from '../protocol/admin';

/**
 * What the output channels and the stop commands need of whoever runs a process: the server's
 * admin API for server processes, or a local source (terminalExecutions.ts: commands run in VS
 * Code terminals, seen through shell integration).
 */
export type ProcessControl = Pick<AdminApi, 'retainedOutput' | 'signal' | 'terminate' | 'write' | 'resize'> & {
  /** Local sources that have their own place to show a process (a VS Code terminal). */
  reveal?(key: string): void;
};

/**
 * The extension's copy of what the server runs, fed by the privileged admin API (in-process or
 * over the child's stdio). The tree, the status bar, output channels and terminals read it.
 * Finished processes stay here after the server forgets them, until cleared (bounded, newest kept).
 * No vscode import: listeners are plain callbacks, so it is usable anywhere.
 */
export interface SessionEntry {
  snap: SessionSnapshot;
  /** Gone from the server (ended, or the server stopped). */
  ended: boolean;
  firstSeen: number;
}

export interface ProcessEntry {
  snap: ProcessSnapshot;
  /** Bytes of output seen (the snapshot's count only moves on lifecycle events). */
  outputBytes: number;
  /** Set by this extension's own stop commands until the exit arrives. */
  pendingStop: SignalName | null;
  /** The server stopped before this process reported its exit. */
  lost: boolean;
  /** Which server instance (restart count) it belongs to. */
  generation: number;
  /** Set for processes that are not the server's (VS Code terminal commands): who controls them. */
  local?: ProcessControl;
}

export type ProcessStatus = 'running' | 'stopping' | 'succeeded' | 'failed' | 'killed' | 'lost';

export function statusOf(p: ProcessEntry): ProcessStatus {
  if (p.lost) return 'lost';
  if (p.snap.state === 'running') return p.pendingStop && p.pendingStop !== 'interrupt' ? 'stopping' : 'running';
  if (p.snap.stopRequest && p.snap.stopRequest !== 'interrupt') return 'killed';
  if (p.pendingStop && p.pendingStop !== 'interrupt') return 'killed';
  return p.snap.exitCode === 0 && !p.snap.signal ? 'succeeded' : 'failed';
}

export const isFinished = (p: ProcessEntry) => p.lost || p.snap.state !== 'running';

type OutputListener = (chunk: ObservedChunk) => void;
type EndListener = () => void;

/** What followOutput() tells its follower, in this order. */
export interface OutputFollower {
  /** The retained output lost its start (the server kept only its newest part). */
  truncated?(): void;
  /** The retained output could not be read (live output still follows). */
  unavailable?(err: Error): void;
  /** Each chunk once, in increasing seq: the retained output, then live output. */
  chunk(chunk: ObservedChunk): void;
  /** The replay is over: what follows is live. */
  replayed?(): void;
  /**
   * The process ended (closed, lost with its server, or no longer controllable) and every chunk
   * that could still be read was delivered. Called once, last; `p` is the entry at that moment.
   */
  ended?(p: ProcessEntry | undefined): void;
}

export interface OutputFollowing {
  /** Resolves once the replay has been delivered (`replayed` was called). */
  readonly replayed: Promise<void>;
  /** Stop following: nothing more is delivered. */
  dispose(): void;
}

export class ProcessModel {
  private readonly sessions = new Map<string, SessionEntry>();
  private readonly processes = new Map<string, ProcessEntry>();
  private readonly changeListeners = new Set<() => void>();
  private readonly outputListeners = new Map<string, Set<OutputListener>>();
  private readonly endListeners = new Map<string, Set<EndListener>>();
  private subscription: { dispose(): void } | undefined;
  private current: AdminApi | undefined;
  private generation = 0;

  constructor(private maxFinished: number) {}

  get admin(): AdminApi | undefined {
    return this.current;
  }

  /** Start following a (new) server. Events are taken before the snapshot, so none is lost. */
  async attach(admin: AdminApi): Promise<void> {
    this.detach();
    const gen = ++this.generation;
    this.current = admin;
    const early: Array<() => void> = [];
    let ready = false;
    const run = (f: () => void) => (ready ? f() : early.push(f));
    this.subscription = admin.subscribe({
      sessionChanged: (s) => run(() => this.onSession(s)),
      sessionRemoved: (id) => run(() => this.onSessionRemoved(id)),
      processChanged: (p) => run(() => this.onProcess(p, gen)),
      processRemoved: () => undefined, // the server forgot it; we keep it until cleared
      output: (key, chunk) => this.onOutput(key, chunk), // no ordering issue: listeners fetch retained output themselves
    });
    const snap = await admin.snapshot();
    if (gen !== this.generation) return;
    for (const s of snap.sessions) this.onSession(s, false);
    for (const p of snap.processes) this.onProcess(p, gen, false);
    ready = true;
    for (const f of early) f();
    this.prune();
    this.changed();
  }

  /** The server is gone: whatever still ran is marked lost (its exit was never reported). */
  detach(): void {
    if (!this.current) return;
    this.subscription?.dispose();
    this.subscription = undefined;
    this.current = undefined;
    for (const s of this.sessions.values()) {
      s.ended = true;
      s.snap = { ...s.snap, connected: false };
    }
    for (const [key, p] of this.processes) {
      if (p.local) continue; // not the server's: unaffected by it
      if (p.snap.state === 'running') p.lost = true;
      if (p.snap.state !== 'closed') this.fireEnd(key);
    }
    this.dropEmptyEndedSessions();
    this.prune();
    this.changed();
  }

  onDidChange(listener: () => void): { dispose(): void } {
    this.changeListeners.add(listener);
    return { dispose: () => this.changeListeners.delete(listener) };
  }

  /**
   * Live output of one process, and its end (closed, or lost with the server). Subscribe first,
   * then fetch the retained output and skip seqs already seen.
   */
  watchOutput(key: string, listener: OutputListener, ended?: EndListener): { dispose(): void } {
    const add = <T>(m: Map<string, Set<T>>, v: T) => {
      let set = m.get(key);
      if (!set) m.set(key, (set = new Set()));
      set.add(v);
      return () => {
        set!.delete(v);
        if (set!.size === 0) m.delete(key);
      };
    };
    const undo = [add(this.outputListeners, listener)];
    if (ended) undo.push(add(this.endListeners, ended));
    return { dispose: () => undo.forEach((u) => u()) };
  }

  /**
   * Replay a process's retained output, then follow it live, then catch up once it ended: the
   * one way the output channels and the attached terminals read a process's output.
   *
   * Ordering: live output is subscribed to before the retained output is fetched, and buffered
   * until it is in; every chunk passes one seq filter, so the boundary between the two neither
   * repeats a chunk (a live chunk also retained) nor misses one (a chunk that arrived while the
   * fetch was in flight). The end waits for the replay. Live events can trail the `closed`
   * event or be dropped by a slow admin channel (child mode), so at the end the retained
   * output is read once more and what is newer than the last seq is delivered before `ended`.
   */
  followOutput(key: string, f: OutputFollower): OutputFollowing {
    let lastSeq = 0;
    let replaying = true;
    let ending = false;
    let stopped = false;
    let buffered: ObservedChunk[] = [];
    let live: { dispose(): void } | undefined;
    const deliver = (chunks: ObservedChunk[]) => {
      for (const c of chunks) {
        if (stopped || c.seq <= lastSeq) continue;
        lastSeq = c.seq;
        f.chunk(c);
      }
    };
    const bySeq = (chunks: ObservedChunk[]) => [...chunks].sort((a, b) => a.seq - b.seq);
    // The entry as last seen: the bound on finished processes may drop it while the replay runs.
    let seen = this.processes.get(key);
    const end = () => {
      seen = this.processes.get(key) ?? seen;
      if (stopped || ending || replaying || !this.outputEnded(key)) return;
      ending = true;
      live?.dispose();
      const p = seen;
      const control = p && this.controlOf(p);
      const catchUp = control ? control.retainedOutput(key).then((r) => deliver(bySeq(r.chunks)), () => undefined) : Promise.resolve();
      void catchUp.then(() => {
        if (!stopped) f.ended?.(p);
      });
    };
    const control = seen && this.controlOf(seen);
    let fetched: Promise<void> = Promise.resolve();
    if (control) {
      live = this.watchOutput(key, (c) => (replaying ? buffered.push(c) : deliver([c])), end);
      fetched = control.retainedOutput(key).then(
        (r) => {
          if (stopped) return;
          if (r.truncated) f.truncated?.();
          deliver(bySeq(r.chunks));
        },
        (err: Error) => {
          if (!stopped) f.unavailable?.(err);
        },
      );
    }
    const replayed = fetched.then(() => {
      replaying = false;
      const early = buffered;
      buffered = [];
      deliver(early);
      if (!stopped) f.replayed?.();
      end();
    });
    return {
      replayed,
      dispose: () => {
        stopped = true;
        live?.dispose();
      },
    };
  }

  /** Nothing more will stream for this process: closed, lost, gone, or its server is not ours any more. */
  private outputEnded(key: string): boolean {
    const p = this.processes.get(key);
    return !p || p.snap.state === 'closed' || p.lost || !this.isLive(p);
  }

  listSessions(): SessionEntry[] {
    return [...this.sessions.values()];
  }

  listProcesses(): ProcessEntry[] {
    return [...this.processes.values()];
  }

  processesOf(sessionId: string): ProcessEntry[] {
    return [...this.processes.values()].filter((p) => p.snap.sessionId === sessionId);
  }

  getProcess(key: string): ProcessEntry | undefined {
    return this.processes.get(key);
  }

  getSession(id: string): SessionEntry | undefined {
    return this.sessions.get(id);
  }

  /** Belongs to the server currently attached, or to a local source (so it can still be controlled). */
  isLive(p: ProcessEntry): boolean {
    if (p.local) return !p.lost;
    return this.current !== undefined && p.generation === this.generation && !p.lost;
  }

  /** Who can read this process's retained output and stop it, if anyone still can. */
  controlOf(p: ProcessEntry): ProcessControl | undefined {
    if (!this.isLive(p)) return undefined;
    return p.local ?? this.current;
  }

  /**
   * A process from a local source (not the server): added or updated. Its end (`closed`) is
   * reported to output watchers like a server process's; finished ones count against
   * maxFinished like any other.
   */
  upsertLocal(snap: ProcessSnapshot, control: ProcessControl): void {
    const e = this.processes.get(snap.key);
    if (e) {
      const wasClosed = e.snap.state === 'closed';
      e.snap = snap;
      e.outputBytes = Math.max(e.outputBytes, snap.outputBytes);
      if (!wasClosed && snap.state === 'closed') this.fireEnd(snap.key);
    } else {
      this.processes.set(snap.key, { snap, outputBytes: snap.outputBytes, pendingStop: null, lost: false, generation: -1, local: control });
    }
    if (snap.state !== 'running') this.prune();
    this.changed();
  }

  /** Output of a local process (watchers get it like server output). */
  localOutput(key: string, chunk: ObservedChunk): void {
    if (this.processes.get(key)?.local) this.onOutput(key, chunk);
  }

  runningCount(): number {
    let n = 0;
    for (const p of this.processes.values()) if (!isFinished(p)) n++;
    return n;
  }

  markStopping(key: string, signal: SignalName): void {
    const p = this.processes.get(key);
    if (!p || isFinished(p)) return;
    p.pendingStop = signal;
    this.changed();
  }

  clearFinished(): number {
    let n = 0;
    for (const [key, p] of this.processes) {
      if (isFinished(p)) {
        this.processes.delete(key);
        n++;
      }
    }
    this.dropEmptyEndedSessions();
    this.changed();
    return n;
  }

  setMaxFinished(n: number): void {
    this.maxFinished = n;
    this.prune();
    this.changed();
  }

  private onSession(s: SessionSnapshot, notify = true): void {
    const e = this.sessions.get(s.id);
    if (e) {
      e.snap = s;
      e.ended = false;
    } else this.sessions.set(s.id, { snap: s, ended: false, firstSeen: Date.now() });
    if (notify) this.changed();
  }

  private onSessionRemoved(id: string): void {
    const e = this.sessions.get(id);
    if (!e) return;
    e.ended = true;
    e.snap = { ...e.snap, connected: false, sinceMs: Date.now() };
    this.dropEmptyEndedSessions();
    this.changed();
  }

  private onProcess(snap: ProcessSnapshot, gen: number, notify = true): void {
    const e = this.processes.get(snap.key);
    if (!this.sessions.has(snap.sessionId)) {
      // A process of a session we never saw (ended before the snapshot): show it under a stub.
      this.sessions.set(snap.sessionId, {
        snap: { id: snap.sessionId, clientName: snap.clientName, connected: false, resumable: false, sinceMs: snap.startedAtMs },
        ended: true,
        firstSeen: Date.now(),
      });
    }
    if (e) {
      const wasClosed = e.snap.state === 'closed';
      e.snap = snap;
      e.outputBytes = Math.max(e.outputBytes, snap.outputBytes);
      e.generation = gen;
      // Output may follow the exit (grandchildren holding pipes): the end is `closed`.
      if (!wasClosed && snap.state === 'closed') this.fireEnd(snap.key);
    } else {
      this.processes.set(snap.key, { snap, outputBytes: snap.outputBytes, pendingStop: null, lost: false, generation: gen });
    }
    if (snap.state !== 'running') this.prune();
    if (notify) this.changed();
  }

  private onOutput(key: string, chunk: ObservedChunk): void {
    const p = this.processes.get(key);
    if (p) p.outputBytes += chunk.data.length;
    const set = this.outputListeners.get(key);
    if (set) for (const l of [...set]) l(chunk);
  }

  private fireEnd(key: string): void {
    const set = this.endListeners.get(key);
    if (set) for (const l of [...set]) l();
  }

  /**
   * Keep at most maxFinished finished processes, dropping the oldest. Only those whose output has
   * ended: an exited process whose pipes are still open (a grandchild holds them) may still
   * stream, and a follower (its output channel) waits for its `closed`; a record dropped before
   * that would come back with the late event, and its follower would never be told it ended.
   */
  private prune(): void {
    const finished = [...this.processes.values()].filter((p) => isFinished(p) && this.outputEnded(p.snap.key));
    if (finished.length <= this.maxFinished) return;
    finished.sort((a, b) => (a.snap.exitedAtMs ?? a.snap.startedAtMs) - (b.snap.exitedAtMs ?? b.snap.startedAtMs));
    for (const p of finished.slice(0, finished.length - this.maxFinished)) this.processes.delete(p.snap.key);
    this.dropEmptyEndedSessions();
  }

  private dropEmptyEndedSessions(): void {
    const used = new Set([...this.processes.values()].map((p) => p.snap.sessionId));
    for (const [id, s] of this.sessions) if (s.ended && !used.has(id)) this.sessions.delete(id);
  }

  private changed(): void {
    for (const l of [...this.changeListeners]) l();
  }
}
