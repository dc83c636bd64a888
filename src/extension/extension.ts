// First: it notes when the bundle starts evaluating (see activationTimings.ts).
import { ActivationTimer, type ActivationTimings } from './activationTimings';
import * as vscode from 'vscode';
import { registerCommands, VIEW_ID } from './commands';
import { OutputChannels } from './outputChannels';
import { ProcessModel } from './processModel';
import { ProcessTreeProvider, type Node } from './processTree';
import { ServerController } from './serverController';
import { readSettings, SECTION, SERVER_SETTINGS } from './settings';
import { StatusBar } from './statusBar';
import { TerminalEnv } from './terminalEnv';
import { Notifier } from './notify';
import { ensureLauncher, type LauncherInfo } from './launcher';
import { McpServerProvider, type McpRegistration } from './mcpProvider';
import { TerminalExecutions } from './terminalExecutions';
import { registerConnectAgent } from './connectAgent';
import type { ChannelStats } from './outputChannels';

/**
 * Entry point: activate() only wires the parts together (one file per concern) and starts the
 * server; deactivate() stops it (every managed process terminated, discovery file removed).
 */
let controller: ServerController | undefined;

/** What activate() returns: a small API, used by the extension's own tests. */
export interface ExecServerApi {
  readonly state: string;
  readonly url: string | undefined;
  readonly port: number | undefined;
  readonly mode: 'inProcess' | 'child' | undefined;
  readonly discoveryFile: string | undefined;
  readonly statusBarText: string;
  /** The tree as the user sees it: what getChildren/getTreeItem produce (agent groups, their processes). */
  getTreeSnapshot(): TreeSnapshotGroup[];
  /** The tree node of a process (to pass to tree commands), by pid. */
  findProcessNode(pid: number): Node | undefined;
  outputChannelText(key: string): string | undefined;
  outputChannelStats(key: string): ChannelStats | undefined;
  /** activate() entry → server listening → discovery file written (see activationTimings.ts). */
  readonly activation: ActivationTimings;
  /** How often things changed vs how often the tree was told to refresh (debouncing). */
  readonly counters: { modelChanges: number; treeRefreshes: number; treeRowRefreshes: number };
  /** Where VS Code keeps this extension's log files (context.logUri); the log channel's file is in it. */
  readonly logDirectory: string;
  ready: Promise<void>;
  /** The stable launcher in global storage (undefined if it could not be written; see the log). */
  launcher: Promise<LauncherInfo | undefined>;
  /** The MCP server definition provider for VS Code's agent (and Cursor's registration). */
  readonly mcp: McpRegistration;
  /** Whether terminal commands are observed (shell-execution events, VS Code 1.93+). */
  readonly terminalsObserved: boolean;
}
export interface TreeSnapshotItem {
  key?: string;
  label: string;
  description: string;
  icon: string;
  contextValue: string;
}
export interface TreeSnapshotGroup extends TreeSnapshotItem {
  children: TreeSnapshotItem[];
}
/** The old name, from when the top level was one node per session. */
export type TreeSnapshotSession = TreeSnapshotGroup;

export function activate(context: vscode.ExtensionContext): ExecServerApi {
  const activation = new ActivationTimer((line) => log.info(line));
  const log = vscode.window.createOutputChannel('Exec Server', { log: true });
  const notify = new Notifier(log);
  const settings = readSettings();
  const model = new ProcessModel(settings.maxFinishedProcesses);
  const terminalEnv = new TerminalEnv(context.environmentVariableCollection);
  controller = new ServerController(context, log, model, terminalEnv, notify, activation);
  const ctl = controller;
  const tree = new ProcessTreeProvider(model);
  const view = vscode.window.createTreeView(VIEW_ID, { treeDataProvider: tree, showCollapseAll: true, canSelectMany: false });
  const outputs = new OutputChannels(model, log);
  const statusBar = new StatusBar(ctl, model);
  const mcp = new McpServerProvider(ctl, context.extensionPath, log);
  const terminals = new TerminalExecutions(model, log, {
    retainedBytes: () => readSettings().retainedOutputBytes,
    graceMs: () => readSettings().terminateGraceMs,
  });

  const updateView = () => {
    const state = ctl.state;
    void vscode.commands.executeCommand('setContext', 'execServer.state', state);
    const running = model.runningCount();
    view.badge = running > 0 ? { value: running, tooltip: `${running} running` } : undefined;
    view.description = state === 'running' ? `:${ctl.port}` : state;
    // An empty tree shows the welcome content of package.json (viewsWelcome: what the state means,
    // with buttons); VS Code hides it whenever a message is set, so a message only goes above rows.
    view.message = state === 'failed' && model.listSessions().length > 0 ? `Server failed: ${ctl.error ?? 'unknown error'}` : undefined;
  };
  let viewTimer: NodeJS.Timeout | undefined;
  const scheduleViewUpdate = () => {
    viewTimer ??= setTimeout(() => {
      viewTimer = undefined;
      updateView();
    }, 200);
  };

  context.subscriptions.push(
    log,
    tree,
    view,
    outputs,
    statusBar,
    mcp,
    terminals,
    view.onDidChangeVisibility((e) => tree.setVisible(e.visible)),
    ctl.onDidChangeState(updateView),
    model.onDidChange(scheduleViewUpdate),
    { dispose: () => clearTimeout(viewTimer) },
    ...registerCommands({ controller: ctl, model, outputs, log, notify }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (!e.affectsConfiguration(SECTION)) return;
      const s = readSettings();
      model.setMaxFinished(s.maxFinishedProcesses);
      outputs.prune();
      if (e.affectsConfiguration(`${SECTION}.codexTerminalIntegration`) && ctl.state === 'running') {
        terminalEnv.apply(ctl.url!, ctl.port!, ctl.token!, s.codexTerminalIntegration);
      }
      if (SERVER_SETTINGS.some((k) => e.affectsConfiguration(`${SECTION}.${k}`))) {
        void notify
          .info('Exec Server settings changed. Restart the server to apply them? Running processes will be terminated.', 'Restart Server')
          .then((pick) => {
            if (pick) void ctl.restart();
          });
      }
    }),
    vscode.workspace.onDidChangeWorkspaceFolders(() => void ctl.refreshDiscovery()),
  );
  tree.setVisible(view.visible);
  updateView();
  log.info(`Exec Server extension activated (VS Code ${vscode.version}, ${vscode.env.appName}, remote: ${vscode.env.remoteName ?? 'none'})`);
  const ready = ctl.start();
  const launcher = writeLauncher(context, log);
  context.subscriptions.push(registerConnectAgent({ notify, log, launcher }));
  let modelChanges = 0;
  context.subscriptions.push(model.onDidChange(() => modelChanges++));

  const toSnapshotItem = (node: Node): TreeSnapshotItem => {
    const item = tree.getTreeItem(node);
    return {
      key: node.kind === 'process' ? node.key : undefined,
      label: typeof item.label === 'string' ? item.label : (item.label?.label ?? ''),
      description: typeof item.description === 'string' ? item.description : '',
      icon: item.iconPath instanceof vscode.ThemeIcon ? item.iconPath.id : '',
      contextValue: item.contextValue ?? '',
    };
  };
  const api: ExecServerApi = {
    get state() {
      return ctl.state;
    },
    get url() {
      return ctl.url;
    },
    get port() {
      return ctl.port;
    },
    get mode() {
      return ctl.mode;
    },
    get discoveryFile() {
      return ctl.discoveryFile;
    },
    get statusBarText() {
      return statusBar.text;
    },
    getTreeSnapshot: () => tree.getChildren().map((s) => ({ ...toSnapshotItem(s), children: tree.getChildren(s).map(toSnapshotItem) })),
    findProcessNode: (pid) => {
      const p = model.listProcesses().find((e) => e.snap.pid === pid);
      return p ? tree.processNode(p) : undefined;
    },
    outputChannelText: (key) => outputs.contents(key),
    outputChannelStats: (key) => outputs.stats(key),
    get activation() {
      return activation.timings;
    },
    get counters() {
      return { modelChanges, treeRefreshes: tree.refreshCount, treeRowRefreshes: tree.rowRefreshCount };
    },
    logDirectory: context.logUri.fsPath,
    ready,
    launcher,
    mcp,
    terminalsObserved: terminals.supported,
  };
  activation.activateReturned();
  return api;
}

/** The launcher agents outside VS Code are pointed at (launcher.ts); failures are logged, not fatal. */
async function writeLauncher(context: vscode.ExtensionContext, log: vscode.LogOutputChannel): Promise<LauncherInfo | undefined> {
  if (context.globalStorageUri.scheme !== 'file') {
    log.warn(`no launcher: global storage is not a local folder (${context.globalStorageUri.scheme})`);
    return undefined;
  }
  try {
    const l = await ensureLauncher(context.globalStorageUri.fsPath, process.execPath, context.extensionPath);
    log.info(`launcher ${l.path} ${l.written ? 'written' : 'up to date'}`);
    return l;
  } catch (err) {
    log.error(`could not write the launcher: ${(err as Error).message}`);
    return undefined;
  }
}

export async function deactivate(): Promise<void> {
  const c = controller;
  controller = undefined;
  // Stop the server: every managed process is terminated, the discovery file removed.
  await c?.dispose();
}
