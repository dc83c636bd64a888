import type { AdminApi, ProcessSnapshot, SessionSnapshot } from '../../protocol/admin';
import { invalidRequest } from '../../protocol/errors';
import { clip } from '../../protocol/validate';
import { commandArgv, isSandboxed } from '../sandbox';
import type { ExecServer } from '../execServer';
import type { ManagedProcess } from '../process/managedProcess';
import { keyOf, parseProcessKey } from '../registry/processKey';
import type { Session } from '../registry/session';

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
    key: keyOf(p),
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
  // The registry keeps a record's session even after that session ended (its processes wind down).
  const nameOf = (p: ManagedProcess) => server.registry.sessionOf(keyOf(p))?.clientName ?? '';
  const find = (text: string) => {
    const parsed = parseProcessKey(text);
    const p = parsed && server.findByKey(parsed.key);
    if (!p) throw invalidRequest(`unknown process ${clip(text)}`);
    return p;
  };
  return {
    snapshot: async () => ({
      sessions: server.listSessions().map(snapshotSession),
      processes: server.listProcesses().map((p) => snapshotProcess(p, nameOf(p))),
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
          server.events.on(e, (p: ManagedProcess) => l.processChanged?.(snapshotProcess(p, nameOf(p)))),
        ),
        server.events.on('processRemoved', (p) => l.processRemoved?.(keyOf(p))),
        server.events.on('processOutput', (p, c) => l.output?.(keyOf(p), c)),
      ];
      return { dispose: () => subs.forEach((s) => s.dispose()) };
    },
  };
}
