import { commandArgv, isSandboxed } from './sandbox';
import type { SignalName, WriteStatus, OutputStream } from '../protocol/types';
import type { ExecServer } from './execServer';
import type { ManagedProcess } from './managedProcess';
import type { Session } from './session';

/**
 * The privileged view of a server: every session's processes, their events and output, and
 * control over any of them. Only in-process code (the extension in inProcess mode) or the
 * CLI's admin stdio channel (child mode) gets one — never a WebSocket client.
 * Plain data only, so the same interface can be served over a pipe.
 */
export interface SessionSnapshot {
  id: string;
  clientName: string;
  connected: boolean;
  resumable: boolean;
  /** When it connected, or when it was detached (ms since epoch). */
  sinceMs: number;
}

export interface ProcessSnapshot {
  key: string;
  sessionId: string;
  processId: string;
  clientName: string;
  pid: number;
  argv: string[];
  /** Runs under codex's sandbox (process/start carried a `sandbox`). */
  sandboxed?: boolean;
  cwd: string;
  tty: boolean;
  pipeStdin: boolean;
  state: 'running' | 'exited' | 'closed';
  exitCode: number | null;
  signal: string | null;
  /** What was last requested (terminate/kill/...), to tell "killed" from "failed". */
  stopRequest: SignalName | null;
  startedAtMs: number;
  exitedAtMs: number | null;
  outputBytes: number;
  metadata: Record<string, unknown> | null;
}

export interface ObservedChunk {
  seq: number;
  stream: OutputStream;
  data: Buffer;
}

export interface ObserverListener {
  sessionChanged?(s: SessionSnapshot): void;
  sessionRemoved?(id: string): void;
  processChanged?(p: ProcessSnapshot): void;
  processRemoved?(key: string): void;
  output?(key: string, chunk: ObservedChunk): void;
}

export interface ServerObserver {
  snapshot(): Promise<{ sessions: SessionSnapshot[]; processes: ProcessSnapshot[] }>;
  retainedOutput(key: string): Promise<{ chunks: ObservedChunk[]; truncated: boolean }>;
  signal(key: string, signal: SignalName): Promise<boolean>;
  terminate(key: string): Promise<boolean>;
  terminateAll(): Promise<number>;
  write(key: string, data: Buffer): Promise<WriteStatus>;
  resize(key: string, cols: number, rows: number): Promise<void>;
  subscribe(listener: ObserverListener): { dispose(): void };
}

export const processKey = (sessionId: string, processId: string) => `${sessionId}/${processId}`;

export function snapshotSession(s: Session): SessionSnapshot {
  return {
    id: s.id,
    clientName: s.clientName,
    connected: s.channel !== null,
    resumable: s.resumable,
    sinceMs: s.detachedAt ?? s.createdAt,
  };
}

export function snapshotProcess(p: ManagedProcess, clientName: string): ProcessSnapshot {
  return {
    key: processKey(p.sessionId, p.processId),
    sessionId: p.sessionId,
    processId: p.processId,
    clientName,
    pid: p.pid,
    argv: commandArgv(p),
    sandboxed: isSandboxed(p),
    cwd: p.spec.cwd,
    tty: p.spec.tty,
    pipeStdin: p.spec.pipeStdin,
    state: p.state,
    exitCode: p.exitCode,
    signal: p.exitSignal,
    stopRequest: p.stopRequest,
    startedAtMs: p.startedAt,
    exitedAtMs: p.exitedAt,
    outputBytes: p.outputBytes,
    metadata: p.metadata ?? null,
  };
}

/** The observer of a server running in this process. */
export function observeInProcess(server: ExecServer): ServerObserver {
  const clientNames = new Map<string, string>();
  const nameOf = (sessionId: string) => clientNames.get(sessionId) ?? server.findSession(sessionId)?.clientName ?? '';
  const find = (key: string) => {
    const slash = key.indexOf('/');
    const p = slash < 0 ? undefined : server.findProcess(key.slice(0, slash), key.slice(slash + 1));
    if (!p) throw new Error(`unknown process ${key}`);
    return p;
  };
  server.events.on('sessionChanged', (s) => clientNames.set(s.id, s.clientName));
  return {
    snapshot: async () => ({
      sessions: server.listSessions().map(snapshotSession),
      processes: server.listProcesses().map((p) => snapshotProcess(p, nameOf(p.sessionId))),
    }),
    retainedOutput: async (key) => {
      const p = find(key);
      const chunks = p.output.all();
      return { chunks: chunks.map((c) => ({ ...c })), truncated: chunks.length > 0 && chunks[0].seq > 1 };
    },
    signal: async (key, signal) => find(key).signal(signal),
    terminate: async (key) => find(key).terminate(),
    terminateAll: async () => {
      let n = 0;
      for (const p of server.listProcesses()) if (p.terminate()) n++;
      return n;
    },
    write: async (key, data) => find(key).write(data, undefined),
    resize: async (key, cols, rows) => find(key).resize(cols, rows),
    subscribe: (l) => {
      const subs = [
        server.events.on('sessionChanged', (s) => l.sessionChanged?.(snapshotSession(s))),
        server.events.on('sessionRemoved', (s) => l.sessionRemoved?.(s.id)),
        ...(['processStarted', 'processExited', 'processClosed'] as const).map((e) =>
          server.events.on(e, (p: ManagedProcess) => l.processChanged?.(snapshotProcess(p, nameOf(p.sessionId)))),
        ),
        server.events.on('processRemoved', (p) => l.processRemoved?.(processKey(p.sessionId, p.processId))),
        server.events.on('processOutput', (p, c) => l.output?.(processKey(p.sessionId, p.processId), c)),
      ];
      return { dispose: () => subs.forEach((s) => s.dispose()) };
    },
  };
}
