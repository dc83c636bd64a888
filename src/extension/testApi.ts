import * as vscode from 'vscode';
import type { ActivationTimer, ActivationTimings } from './activationTimings';
import type { LauncherInfo } from './launcher';
import type { McpRegistration } from './mcpProvider';
import type { OutputChannels } from './outputChannels';
import type { ChannelStats } from './outputThrottle';
import type { ProcessModel } from './processModel';
import type { Node, ProcessTreeProvider } from './processTree';
import type { ServerController } from './serverController';
import type { StatusBar } from './statusBar';
import type { TerminalExecutions } from './terminalExecutions';

/** What activate() returns: a small API, used by the extension's own tests (test/vscode) and bench/vscode. */
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

/** The parts activate() built, which the API reads. */
export interface ApiParts {
  context: vscode.ExtensionContext;
  controller: ServerController;
  model: ProcessModel;
  tree: ProcessTreeProvider;
  statusBar: StatusBar;
  outputs: OutputChannels;
  activation: ActivationTimer;
  ready: Promise<void>;
  launcher: Promise<LauncherInfo | undefined>;
  mcp: McpRegistration;
  terminals: TerminalExecutions;
}

export function createTestApi(d: ApiParts): ExecServerApi {
  const { controller: ctl, model, tree } = d;
  let modelChanges = 0;
  d.context.subscriptions.push(model.onDidChange(() => modelChanges++));

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
  return {
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
      return d.statusBar.text;
    },
    getTreeSnapshot: () => tree.getChildren().map((s) => ({ ...toSnapshotItem(s), children: tree.getChildren(s).map(toSnapshotItem) })),
    findProcessNode: (pid) => {
      const p = model.listProcesses().find((e) => e.snap.pid === pid);
      return p ? tree.processNode(p) : undefined;
    },
    outputChannelText: (key) => d.outputs.contents(key),
    outputChannelStats: (key) => d.outputs.stats(key),
    get activation() {
      return d.activation.timings;
    },
    get counters() {
      return { modelChanges, treeRefreshes: tree.refreshCount, treeRowRefreshes: tree.rowRefreshCount };
    },
    logDirectory: d.context.logUri.fsPath,
    ready: d.ready,
    launcher: d.launcher,
    mcp: d.mcp,
    terminalsObserved: d.terminals.supported,
  };
}
