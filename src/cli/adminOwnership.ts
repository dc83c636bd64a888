import type { Readable, Writable } from 'node:stream';
import { removeDiscoveryFileSync, writeDiscoveryFile } from '../discovery/discoveryFiles';
import { AdminAdvertise, type AdminApi, type AdminReady, type AdoptResult, type AdvertiseParams, type AdvertiseResult } from '../protocol/admin';
import { Params } from '../protocol/validate';
import { handle, methodTable } from '../server/connection/methodTable';
import { serveAdmin } from '../transport/adminChannel';
import { ControlError } from '../transport/controlSocket';

/**
 * Who owns the admin channel of a child-mode server (`--admin-stdio`): first the extension
 * host that started it (over stdio), later one that adopted it over the control socket after a
 * window reload.
 *
 * While an owner is connected, nobody else can adopt (another window on the same folder gets
 * `owned`). When the owner's channel ends (its extension host reloaded, closed, crashed or was
 * killed: the kernel closes the pipe or socket either way), the server keeps running for
 * `graceMs` with every session, process, retained output and WebSocket connection, waiting
 * for an adopter; nobody within the grace → `onExpire` (the server terminates every process,
 * removes its discovery file and exits). A grace of 0 ends it at once (the behaviour
 * without a control socket).
 *
 * In this mode the server owns its discovery file (`admin/advertise`, written with the
 * server's own pid): it must outlive the extension host that asked for it, stay valid while
 * the server lives and go when it ends.
 */
export interface AdminOwnershipOptions {
  admin: AdminApi;
  ready: AdminReady;
  token: string | null;
  graceMs: number;
  /** admin/shutdown from the owner. */
  onShutdown(): void;
  /** Nobody adopted the server within the grace. */
  onExpire(): void;
  log(message: string): void;
}

export class AdminOwnership {
  private owned = false;
  private orphanedAt = Date.now();
  private graceTimer: NodeJS.Timeout | undefined;
  private discoveryFile: string | undefined;
  /** An adopter re-advertises: the file keeps the server's first start time. */
  private startedAt: string | undefined;
  private processCount = { running: 0, all: 0 };

  constructor(private readonly o: AdminOwnershipOptions) {
    // Counts for the adoption answer, kept current without a snapshot round trip.
    const states = new Map<string, boolean>();
    o.admin.subscribe({
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
    const channel = serveAdmin(this.o.admin, input, output, {
      ready: this.o.ready,
      onShutdown: () => this.o.onShutdown(),
      extraMethods: methodTable(handle(AdminAdvertise, (params) => this.advertise(advertiseParams(params)))),
    });
    void channel.closed.then(() => this.orphaned());
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

  private async advertise(p: AdvertiseParams): Promise<AdvertiseResult> {
    const file = await writeDiscoveryFile(
      {
        url: this.o.ready.url,
        port: this.o.ready.port,
        token: this.o.token ?? '',
        pid: process.pid,
        workspaceFolders: p.workspaceFolders,
        appName: p.appName,
        protocolVersion: p.protocolVersion,
        startedAt: (this.startedAt ??= p.startedAt),
        hostMode: 'child',
      },
      p.dir || undefined,
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

/** admin/advertise's params, checked field by field (a -32602 names the field). */
function advertiseParams(params: unknown): AdvertiseParams {
  const p = Params.of(params, 'AdvertiseParams');
  return {
    workspaceFolders: p.stringArray('workspaceFolders'),
    appName: p.optString('appName') ?? '',
    protocolVersion: p.optString('protocolVersion') ?? '',
    startedAt: p.optString('startedAt') ?? new Date().toISOString(),
    dir: p.optString('dir'),
  };
}
