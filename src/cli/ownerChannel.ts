import type { Readable, Writable } from 'node:stream';
import { removeDiscoveryFileSync, writeDiscoveryFile, type DiscoveryInfo } from '../discovery/discoveryFiles';
import type { ServerObserver } from '../server/observer';
import { serveAdminStdio, type AdminReady } from '../transport/adminStdio';
import { ControlError, type AdoptResult } from '../transport/controlSocket';

/**
 * The owner of a child-mode server (`--admin-stdio`): first the extension host that started it
 * (over stdio), later one that adopted it over the control socket after a window reload.
 *
 * While an owner is connected, nobody else can adopt (another window on the same folder gets
 * `owned`). When the owner's channel ends (its extension host reloaded, closed, crashed or was
 * killed: the kernel closes the pipe or socket either way), the server keeps running for
 * `graceMs` with every session, process, retained output and WebSocket connection, waiting
 * for an adopter; nobody within the grace → `onExpire` (the server terminates every process,
 * removes its discovery file and exits). A grace of 0 ends it at once (the behaviour
 * without a control socket).
 *
 * In this mode the server owns its discovery file (`control/advertise`, written with the
 * server's own pid): it must outlive the extension host that asked for it, stay valid while
 * the server lives and go when it ends.
 */
export const ControlMethod = {
  advertise: 'control/advertise',
} as const;

export type AdvertiseParams = Pick<DiscoveryInfo, 'workspaceFolders' | 'appName' | 'protocolVersion' | 'startedAt' | 'hostMode'> & { dir?: string };

export interface OwnerChannelOptions {
  observer: ServerObserver;
  ready: AdminReady;
  token: string | null;
  graceMs: number;
  /** admin/shutdown from the owner. */
  onShutdown(): void;
  /** Nobody adopted the server within the grace. */
  onExpire(): void;
  log(message: string): void;
}

export class OwnerChannel {
  private owned = false;
  private orphanedAt = Date.now();
  private graceTimer: NodeJS.Timeout | undefined;
  private discoveryFile: string | undefined;
  /** An adopter re-advertises: the file keeps the server's first start time. */
  private startedAt: string | undefined;
  private processCount = { running: 0, all: 0 };

  constructor(private readonly o: OwnerChannelOptions) {
    // Counts for the adoption answer, kept current without a snapshot round trip.
    const states = new Map<string, boolean>();
    o.observer.subscribe({
      processChanged: (p) => {
        states.set(p.key, p.state === 'running');
        this.recount(states);
      },
      processRemoved: (key) => {
        states.delete(key);
        this.recount(states);
      },
    });
  }

  get isOwned(): boolean {
    return this.owned;
  }

  /** Serve the admin protocol to a (new) owner; its end starts the grace. */
  serve(input: Readable, output: Writable): void {
    this.owned = true;
    clearTimeout(this.graceTimer);
    this.graceTimer = undefined;
    const admin = serveAdminStdio(this.o.observer, input, output, {
      ready: this.o.ready,
      onShutdown: () => this.o.onShutdown(),
      extraMethods: { [ControlMethod.advertise]: (p) => this.advertise(p as unknown as AdvertiseParams) },
    });
    void admin.closed.then(() => this.orphaned());
  }

  /** The control socket's adoption decision (after its secret was checked). */
  adopt(pid: number | null): AdoptResult {
    if (this.owned) throw new ControlError('owned', 'this exec server still has a live owner (another window)');
    const orphanedMs = Date.now() - this.orphanedAt;
    this.o.log(`adopted by pid ${pid ?? '?'} after ${orphanedMs} ms without an owner`);
    // serve() follows right away; mark it owned now so a second adopter racing us is refused.
    this.owned = true;
    clearTimeout(this.graceTimer);
    this.graceTimer = undefined;
    return { url: this.o.ready.url, port: this.o.ready.port, pid: this.o.ready.pid, running: this.processCount.running, processes: this.processCount.all, orphanedMs };
  }

  /** Remove the discovery file (the server is ending). Synchronous: also used at exit. */
  withdraw(): void {
    if (this.discoveryFile) removeDiscoveryFileSync(this.discoveryFile);
    this.discoveryFile = undefined;
  }

  private orphaned(): void {
    if (!this.owned) return;
    this.owned = false;
    this.orphanedAt = Date.now();
    if (this.o.graceMs <= 0) return this.o.onExpire();
    this.o.log(`owner gone: waiting ${this.o.graceMs} ms for a window to adopt this server`);
    this.graceTimer = setTimeout(() => {
      this.graceTimer = undefined;
      if (this.owned) return;
      this.o.log('nobody adopted this server within the grace: stopping');
      this.o.onExpire();
    }, this.o.graceMs);
  }

  private async advertise(p: AdvertiseParams): Promise<{ file: string }> {
    if (!Array.isArray(p.workspaceFolders) || !p.workspaceFolders.every((f) => typeof f === 'string')) throw new Error('workspaceFolders must be an array of strings');
    const file = await writeDiscoveryFile(
      {
        url: this.o.ready.url,
        port: this.o.ready.port,
        token: this.o.token ?? '',
        pid: process.pid,
        workspaceFolders: p.workspaceFolders,
        appName: String(p.appName ?? ''),
        protocolVersion: String(p.protocolVersion ?? ''),
        startedAt: (this.startedAt ??= String(p.startedAt ?? new Date().toISOString())),
        hostMode: 'child',
      },
      typeof p.dir === 'string' && p.dir ? p.dir : undefined,
    );
    if (this.discoveryFile && this.discoveryFile !== file) removeDiscoveryFileSync(this.discoveryFile);
    this.discoveryFile = file;
    return { file };
  }

  private recount(states: Map<string, boolean>): void {
    let running = 0;
    for (const r of states.values()) if (r) running++;
    this.processCount = { running, all: states.size };
  }
}
