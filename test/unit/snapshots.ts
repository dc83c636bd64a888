import type { ProcessSnapshot } from '../../src/protocol/admin';

/** A running process as the admin API reports it, for model tests; `over` changes any field. */
export function processSnapshot(sessionId: string, processId: string, over: Partial<ProcessSnapshot> = {}): ProcessSnapshot {
  return {
    key: `${sessionId}/${processId}`,
    sessionId,
    processId,
    clientName: `client-${sessionId}`,
    pid: 1000,
    argv: ['sleep', '1'],
    cwd: '/',
    tty: false,
    pipeStdin: false,
    state: 'running',
    exitCode: null,
    signal: null,
    stopRequest: null,
    startedAtMs: 100,
    exitedAtMs: null,
    outputBytes: 0,
    metadata: null,
    ...over,
  };
}
