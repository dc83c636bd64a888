import type { ClientChannel } from './connection/clientChannel';
import { resolveConfig, type ServerConfig } from './config';
import { ConnectionHandler } from './connection/connectionHandler';
import type { ClosedOutputBudget } from './registry/closedOutputBudget';
import type { GroupWatchdog, GroupWatchdogOptions } from './process/groupWatchdog';
import type { ManagedProcess } from './process/managedProcess';
import { processKey, type ProcessKey } from './registry/processKey';
import { ProcessRegistry } from './registry/processRegistry';
import { releaseSandbox } from './sandbox';
import { ServerEvents } from './registry/serverEvents';
import type { Session } from './registry/session';

export interface ExecServerOptions {
  /**
   * Orphan-proofing (see groupWatchdog.ts): a watchdog process kills every managed process
   * group if this server dies without shutting down. On by default; `false` turns it off.
   */
  watchdog?: boolean | GroupWatchdogOptions;
}

/**
 * The exec server without any transport: its config, the process registry (sessions and
 * their processes, processRegistry.ts), connections (connect) and shutdown. The lookups and
 * `events` serve the privileged admin API (adminApi.ts), which only in-process code (the
 * extension) or the CLI's admin channel can reach.
 */
export class ExecServer {
  readonly config: ServerConfig;
  /** What happens in the server, for external observers (best effort, see serverEvents.ts). */
  readonly events = new ServerEvents();
  readonly registry: ProcessRegistry;
  private shuttingDown = false;

  constructor(config: Partial<ServerConfig> = {}, options: ExecServerOptions = {}) {
    this.config = resolveConfig(config);
    this.registry = new ProcessRegistry(this.config, this.events, options.watchdog ?? true);
  }

  /** A new connection from any transport. */
  connect(channel: ClientChannel): ConnectionHandler {
    return new ConnectionHandler(this, channel);
  }

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /** Kills our process groups if this process dies without shutting down; null when disabled. */
  get watchdog(): GroupWatchdog | null {
    return this.registry.watchdog;
  }

  /** Server-wide bound on the output closed processes keep readable. */
  get closedOutput(): ClosedOutputBudget {
    return this.registry.closedOutput;
  }

  createSession(clientName: string, resumable: boolean): Session {
    return this.registry.openSession(clientName, resumable);
  }

  findSession(id: string): Session | undefined {
    return this.registry.findSession(id);
  }

  listSessions(): Session[] {
    return this.registry.listSessions();
  }

  /** Every process the server knows, live sessions' and ended ones' still winding down. */
  listProcesses(): ManagedProcess[] {
    return this.registry.list();
  }

  findProcess(sessionId: string, processId: string): ManagedProcess | undefined {
    return this.registry.find(processKey(sessionId, processId));
  }

  /** The typed lookup: `parseProcessKey(text)?.key` for a key that came over the admin wire. */
  findByKey(key: ProcessKey): ManagedProcess | undefined {
    return this.registry.find(key);
  }

  /**
   * Stop everything: end every session (SIGTERM to each process group, SIGKILL after the
   * grace), wait until no group is left alive or the deadline passes, remove the sandbox
   * helper directory.
   */
  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    await this.registry.shutdown();
    releaseSandbox(this.config);
  }
}
