import type { AdminApi, ProcessSnapshot, SessionSnapshot } from '../protocol/admin';
import { invalidRequest } from '../protocol/errors';
import { commandArgv, isSandboxed } from './sandbox';
import type { ExecServer } from './execServer';
import type { ManagedProcess } from './managedProcess';
import type { Session } from './session';

/** A process's name on the admin channel (ProcessSnapshot.key). */
const processKey = (sessionId: string, processId: string) => `${sessionId}/${processId}`;

function snapshotSession(s: Session): SessionSnapshot {
  return {
    id: s.id,
    clientName: s.clientName,
    connected: s.channel !== null,
    resumable: s.resumable,
    sinceMs: s.detachedAt ?? s.createdAt,
  };
}

function snapshotProcess(p: ManagedProcess, clientName: string): ProcessSnapshot {
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

/**
 * The admin API (src/protocol/admin.ts) of a server running in this process: what the
 * extension's inProcess mode uses directly, and what the CLI serves on its admin channel.
 */
export function adminInProcess(server: ExecServer): AdminApi {
  const clientNames = new Map<string, string>();
  const nameOf = (sessionId: string) => clientNames.get(sessionId) ?? server.findSession(sessionId)?.clientName ?? '';
  const find = (key: string) => {
    const slash = key.indexOf('/');
    const p = slash < 0 ? undefined : server.findProcess(key.slice(0, slash), key.slice(slash + 1));
    if (!p) throw invalidRequest(`unknown process ${key}`);
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
