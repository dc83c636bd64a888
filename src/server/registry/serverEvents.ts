import type { ManagedProcess } from '../process/managedProcess';
import type { RetainedChunk } from '../process/outputBuffer';
import type { Session } from './session';

/**
 * Everything that happens in the server, for privileged in-process observers (the VS Code
 * extension, the CLI's admin channel). Listeners must be cheap: output events are hot.
 * Best effort: a listener that throws is skipped. The server's own invariants (watchdog,
 * closed-output budget, retention) are kept by the process registry before it emits, never
 * by listening here. Emitted by processRegistry.ts; session.ts does not know this bus.
 */
export interface ServerEventMap {
  sessionChanged: [session: Session];
  sessionRemoved: [session: Session];
  processStarted: [p: ManagedProcess];
  processOutput: [p: ManagedProcess, chunk: RetainedChunk];
  processExited: [p: ManagedProcess];
  processClosed: [p: ManagedProcess];
  processRemoved: [p: ManagedProcess];
}

type Listener<K extends keyof ServerEventMap> = (...args: ServerEventMap[K]) => void;

export class ServerEvents {
  private readonly listeners = new Map<keyof ServerEventMap, Set<unknown>>();

  on<K extends keyof ServerEventMap>(event: K, listener: Listener<K>): { dispose(): void } {
    let set = this.listeners.get(event) as Set<Listener<K>> | undefined;
    if (!set) this.listeners.set(event, (set = new Set<Listener<K>>()));
    set.add(listener);
    return { dispose: () => set.delete(listener) };
  }

  emit<K extends keyof ServerEventMap>(event: K, ...args: ServerEventMap[K]): void {
    const set = this.listeners.get(event) as Set<Listener<K>> | undefined;
    if (!set) return;
    for (const l of set) {
      try {
        l(...args);
      } catch {
        // An observer's bug must not break the process or the client's stream.
      }
    }
  }
}
