import * as path from 'node:path';
import * as vscode from 'vscode';
import { PROTOCOL_VERSION } from '../protocol/methods';
import { addNodePtyFallback, nodePtyStatus } from '../server/process/nodePtyLoader';
import { cleanStaleDiscoveryFiles, discoveryDir, removeDiscoveryFileSync, writeDiscoveryFile } from '../discovery/discoveryFiles';
import type { AdoptResult } from '../protocol/admin';
import { ControlError } from '../transport/controlSocket';
import { adoptChildHost } from './host/adoptChildHost';
import { startChildHost, type ChildServerHost } from './host/childHost';
import { startInProcessHost } from './host/inProcessHost';
import { listSlots, loadSlot, newSlot, saveSlotPort, type Slot, type SlotStores } from './host/serverSlots';
import type { HostOptions, ServerHost } from './host/serverHost';
import type { ActivationTimer } from './activationTimings';
import type { Notifier } from './notify';
import type { ProcessModel } from './processModel';
import { readSettings, serverConfig, type Settings } from './settings';
import type { TerminalEnv } from './terminalEnv';

export type ServerState = 'stopped' | 'starting' | 'running' | 'stopping' | 'failed';

/**
 * Starts, stops and restarts the exec server (in this extension host or as a child process),
 * keeps the discovery file and the terminals' environment in step with it, and reports
 * failures in a notification and the log. The token is never logged.
 */
export class ServerController implements vscode.Disposable {
  private host: ServerHost | undefined;
  private _state: ServerState = 'stopped';
  private _error: string | undefined;
  private _discoveryFile: string | undefined;
  private _startedAt: Date | undefined;
  private _adoption: AdoptResult | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly stateEmitter = new vscode.EventEmitter<void>();
  readonly onDidChangeState = this.stateEmitter.event;
  // In child mode the server owns its discovery file (it outlives this extension host).
  private readonly exitHook = () => {
    if (this.host?.mode !== 'child') this.removeDiscoverySync();
  };

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly log: vscode.LogOutputChannel,
    private readonly model: ProcessModel,
    private readonly terminalEnv: TerminalEnv,
    private readonly notify: Notifier,
    /** Measures the first start (activation); later starts are not reported. */
    private readonly activation?: ActivationTimer,
  ) {
    registerNodePtyFallbacks(log);
    // Last resort if deactivate() never completes: the extension host exiting removes the file.
    process.on('exit', this.exitHook);
  }

  get state(): ServerState {
    return this._state;
  }
  get error(): string | undefined {
    return this._error;
  }
  get url(): string | undefined {
    return this.host?.url;
  }
  get port(): number | undefined {
    return this.host?.port;
  }
  get token(): string | undefined {
    return this.host?.token;
  }
  get mode(): 'inProcess' | 'child' | undefined {
    return this.host?.mode;
  }
  get discoveryFile(): string | undefined {
    return this._discoveryFile;
  }
  get startedAt(): Date | undefined {
    return this._startedAt;
  }
  /** Set when the running server was adopted after a reload (what carried over). */
  get adoption(): AdoptResult | undefined {
    return this._adoption;
  }
  /** ws://host:port/?token=… — for clients configured with a bare URL (codex). */
  get urlWithToken(): string | undefined {
    return this.host ? `${this.host.url}/?token=${encodeURIComponent(this.host.token)}` : undefined;
  }

  start(): Promise<void> {
    return this.enqueue(() => this.doStart());
  }
  stop(): Promise<void> {
    return this.enqueue(() => this.doStop());
  }
  restart(): Promise<void> {
    return this.enqueue(async () => {
      await this.doStop();
      await this.doStart();
    });
  }

  /** Rewrite the discovery file (e.g. when workspace folders change). */
  refreshDiscovery(): Promise<void> {
    return this.enqueue(async () => {
      if (this.host && this._state === 'running') await this.writeDiscovery(this.host);
    });
  }

  private enqueue(f: () => Promise<void>): Promise<void> {
    const next = this.queue.then(f, f);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private setState(s: ServerState, error?: string): void {
    this._state = s;
    this._error = error;
    this.stateEmitter.fire();
  }

  private async doStart(): Promise<void> {
    if (this.host) return;
    const settings = readSettings();
    this.setState('starting');
    const stores: SlotStores = { state: this.context.workspaceState, secrets: this.context.secrets };
    let host: ServerHost | undefined;
    let slot: (Slot & { persisted: Promise<void> }) | undefined;
    try {
      // 1. A server this window left running across a reload (child mode): adopt it. Slots
      //    whose server answers `owned` belong to another live window on this folder.
      const taken = new Set<string>();
      for (const entry of listSlots(stores)) {
        const s = await loadSlot(stores, entry);
        if (settings.hostMode !== 'child') {
          if (await this.slotBusy(s)) taken.add(s.id);
          continue;
        }
        try {
          host = await adoptChildHost({ socketPath: s.socketPath, secret: s.controlSecret, token: s.token, log: (m) => this.log.info(`[server] ${m}`) });
          slot = s;
          break;
        } catch (err) {
          const reason = err instanceof ControlError ? err.reason : 'protocol';
          if (reason !== 'absent') taken.add(s.id);
          if (reason === 'auth' || reason === 'protocol') this.log.warn(`slot ${s.id}: a server answers on its control socket but cannot be adopted (${(err as Error).message})`);
        }
      }
      // 2. Otherwise start one on this window's stable address (a free slot, or a new one).
      if (!host) {
        const free = listSlots(stores).find((e) => !taken.has(e.id));
        slot = free ? await loadSlot(stores, free) : await newSlot(stores);
        try {
          host = await this.startOnSlot(settings, slot);
        } catch (err) {
          // Two windows on this folder starting at the same moment picked the same free slot:
          // the other one's server got its control socket first. Take a slot of our own.
          if (!/already listens on/.test((err as Error).message)) throw err;
          this.log.info(`slot ${slot.id} was just taken by another window on this folder: using a new one`);
          slot = await newSlot(stores);
          host = await this.startOnSlot(settings, slot);
        }
      }
    } catch (err) {
      const msg = describeStartError(err, settings);
      this.log.error(`the exec server failed to start: ${msg}`);
      this.setState('failed', msg);
      this.activation?.finish('failed');
      void this.notify.error(`Exec Server failed to start: ${msg}`, 'Show Log', 'Open Settings', 'Retry').then((pick) => {
        if (pick === 'Show Log') this.log.show();
        else if (pick === 'Open Settings') void vscode.commands.executeCommand('workbench.action.openSettings', 'execServer');
        else if (pick === 'Retry') void this.start();
      });
      return;
    }
    this.host = host;
    const adopted = (host as Partial<ChildServerHost>).adopted;
    this._adoption = adopted;
    this.activation?.mark('listening', host.mode);
    // Off the path to listening: the slot's fresh secrets and its port get stored.
    const persisted = slot && Promise.resolve(slot.persisted).then(() => (host.port !== slot!.port ? saveSlotPort(stores, slot!.id, host.port) : undefined));
    persisted?.then(undefined, (err: Error) => this.log.warn(`could not store this window's server address (the next start may get a new one): ${err.message}`));
    this._startedAt = new Date(); // an adopted server keeps its first startedAt in the discovery file
    host.onDidExit((reason) => void this.enqueue(() => this.onHostExit(host, reason)));
    try {
      await this.model.attach(host.admin);
    } catch (err) {
      this.log.error(`could not read the server's processes: ${(err as Error).message}`);
    }
    try {
      await this.writeDiscovery(host);
      this.activation?.mark('discoveryWritten', host.mode);
    } catch (err) {
      this.log.error(`could not write the discovery file in ${discoveryDir()}: ${(err as Error).message}`);
      void this.notify.warn(`Exec Server is running, but its discovery file could not be written: ${(err as Error).message}`);
    }
    this.terminalEnv.apply(host.url, host.port, host.token, settings.codexTerminalIntegration);
    const pty = nodePtyStatus();
    if (!pty.ok) this.log.warn(`${pty.error} — PTY processes will fail, pipe processes work`);
    if (adopted) {
      const msg = `adopted the exec server left running by the previous extension host (pid ${adopted.pid}) after a reload: ${adopted.running} running process(es) carried over (${adopted.processes} known), it waited ${adopted.orphanedMs} ms`;
      this.log.info(msg);
      vscode.window.setStatusBarMessage(`$(debug-restart) Exec Server: kept across the reload, ${adopted.running} process(es) carried over`, 15_000);
    }
    this.log.info(`exec server listening on ${host.url} (${host.mode}${adopted ? ', adopted' : ''}); discovery file ${this._discoveryFile ?? '(none)'}`);
    this.setState('running');
    this.activation?.finish('running');
  }

  /** Start a server on the slot's port (or the configured one); a port taken by someone else → a new one. */
  private async startOnSlot(settings: Settings, slot: Slot): Promise<ServerHost> {
    const opts = (port: number): HostOptions => ({
      host: settings.host,
      port,
      token: slot.token,
      config: serverConfig(settings, String(this.context.extension.packageJSON.version ?? '0.0.0')),
      extensionPath: this.context.extensionPath,
      log: (m) => this.log.info(`[server] ${m}`),
    });
    const start = (port: number) => {
      this.log.info(`starting the exec server (${settings.hostMode}) on ${settings.host}:${port || '(any free port)'}`);
      return settings.hostMode === 'child'
        ? startChildHost(opts(port), { control: { path: slot.socketPath, secret: slot.controlSecret, reloadGraceMs: settings.reloadGraceSeconds * 1000 } })
        : startInProcessHost(opts(port), { control: { path: slot.socketPath, secret: slot.controlSecret } });
    };
    // An explicit execServer.port wins (and a clash is the user's to fix); else this window's last port.
    if (settings.port !== 0 || slot.port === 0) return start(settings.port);
    try {
      return await start(slot.port);
    } catch (err) {
      if (!/\bEADDRINUSE\b/.test(`${(err as NodeJS.ErrnoException).code ?? ''} ${(err as Error).message}`)) throw err;
      this.log.warn(`port ${slot.port} (this window's last port) is taken by another program: using a new port; the discovery file and the terminals' environment follow`);
      return start(0);
    }
  }

  /** Someone answers on the slot's control socket (a live window, or a server in its grace). */
  private async slotBusy(s: Slot): Promise<boolean> {
    try {
      await adoptChildHost({ socketPath: s.socketPath, secret: s.controlSecret, token: s.token, log: () => undefined }).then((h) => h.detach());
      return true; // an orphaned child server: leave it to its grace (another mode was chosen)
    } catch (err) {
      return !(err instanceof ControlError && err.reason === 'absent');
    }
  }

  private async writeDiscovery(host: ServerHost): Promise<void> {
    const removed = await cleanStaleDiscoveryFiles();
    if (removed.length) this.log.info(`removed ${removed.length} stale discovery file(s): ${removed.join(', ')}`);
    const folders = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath);
    if (isChild(host)) {
      // The server writes it with its own pid and removes it when it ends (it outlives us).
      this._discoveryFile = await host.advertise({
        workspaceFolders: folders,
        appName: vscode.env.appName,
        protocolVersion: PROTOCOL_VERSION,
        startedAt: (this._startedAt ?? new Date()).toISOString(),
        hostMode: 'child',
        dir: discoveryDir(),
      });
      return;
    }
    this._discoveryFile = await writeDiscoveryFile({
      url: host.url,
      port: host.port,
      token: host.token,
      pid: process.pid,
      workspaceFolders: (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath),
      appName: vscode.env.appName,
      protocolVersion: PROTOCOL_VERSION,
      startedAt: (this._startedAt ?? new Date()).toISOString(),
      hostMode: host.mode,
    });
  }

  private async doStop(): Promise<void> {
    const host = this.host;
    if (!host) {
      if (this._state === 'failed') this.setState('stopped');
      return;
    }
    this.setState('stopping');
    this.log.info('stopping the exec server (terminating every managed process)');
    this.terminalEnv.clear();
    this.removeDiscoverySync();
    try {
      await host.stop();
    } catch (err) {
      this.log.error(`error while stopping the server: ${(err as Error).message}`);
    }
    this.host = undefined;
    this.model.detach();
    this.log.info('exec server stopped');
    this.setState('stopped');
  }

  private async onHostExit(host: ServerHost, reason: string): Promise<void> {
    if (this.host !== host) return; // a deliberate stop
    this.host = undefined;
    this.terminalEnv.clear();
    this.removeDiscoverySync();
    this.model.detach();
    this.log.error(`the exec server stopped unexpectedly: ${reason}`);
    this.setState('failed', `stopped unexpectedly: ${reason}`);
    void this.notify.error(`Exec Server stopped unexpectedly: ${reason}`, 'Restart', 'Show Log').then((pick) => {
      if (pick === 'Restart') void this.start();
      else if (pick === 'Show Log') this.log.show();
    });
  }

  private removeDiscoverySync(): void {
    if (this._discoveryFile) removeDiscoveryFileSync(this._discoveryFile);
    this._discoveryFile = undefined;
  }

  /**
   * deactivate(): a reload and a close look the same from here. A child-mode server with a
   * reload grace is let go, not stopped: it keeps every process for the grace and the next
   * extension host of this window adopts it; if none does, it stops itself (processes ended,
   * discovery file removed). Anything else is stopped now.
   */
  async dispose(): Promise<void> {
    const host = this.host;
    if (host && isChild(host) && readSettings().reloadGraceSeconds > 0 && this._state === 'running') {
      await this.enqueue(async () => {
        if (this.host !== host) return;
        this.log.info(`extension host going away: the exec server (pid ${host.pid}) keeps running for ${readSettings().reloadGraceSeconds} s for this window to adopt it after a reload`);
        this.host = undefined;
        this._discoveryFile = undefined; // the server's now
        this.model.detach();
        host.detach();
        this.setState('stopped');
      });
    }
    await this.stop();
    process.off('exit', this.exitHook);
    this.stateEmitter.dispose();
  }
}

function isChild(h: ServerHost): h is ChildServerHost {
  return h.mode === 'child' && typeof (h as ChildServerHost).detach === 'function';
}

function describeStartError(err: unknown, s: Settings): string {
  const e = err as NodeJS.ErrnoException;
  // In child mode the error is the CLI's exit and stderr: find the listen error's code in it, so
  // both modes tell the user the same thing.
  const code = e?.code ?? /\b(EADDRINUSE|EADDRNOTAVAIL|EACCES)\b/.exec(e?.message ?? '')?.[1];
  if (code === 'EADDRINUSE') return `port ${s.port} on ${s.host} is already in use (setting execServer.port; 0 picks a free port)`;
  if (code === 'EADDRNOTAVAIL') return `cannot listen on ${s.host} (setting execServer.host)`;
  if (code === 'EACCES') return `not allowed to listen on ${s.host}:${s.port}`;
  return e?.message ?? String(err);
}

/** node-pty: our own build first (nodePtyLoader), then the copy VS Code itself ships. */
function registerNodePtyFallbacks(log: vscode.LogOutputChannel): void {
  const root = vscode.env.appRoot;
  if (!root) return;
  for (const dir of ['node_modules', 'node_modules.asar', 'node_modules.asar.unpacked']) {
    addNodePtyFallback(path.join(root, dir, 'node-pty'));
  }
  log.debug(`node-pty fallbacks registered under ${root}`);
}
