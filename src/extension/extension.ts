// First: it notes when the bundle starts evaluating (see activationTimings.ts).
import { ActivationTimer } from './activationTimings';
import * as vscode from 'vscode';
import { registerCommands } from './commands';
import { OutputChannels } from './outputChannels';
import { ProcessModel } from './processModel';
import { registerProcessView } from './processView';
import { ServerController } from './serverController';
import { readSettings, SECTION, SERVER_SETTINGS } from './settings';
import { StatusBar } from './statusBar';
import { TerminalEnv } from './terminalEnv';
import { Notifier } from './notify';
import { ensureLauncher, type LauncherInfo } from './launcher';
import { McpServerProvider } from './mcpProvider';
import { TerminalExecutions } from './terminalExecutions';
import { registerConnectAgent } from './connectAgent';
import { createTestApi, type ExecServerApi } from './testApi';

/**
 * Entry point: activate() only wires the parts together (one file per concern) and starts the
 * server; deactivate() stops it (every managed process terminated, discovery file removed).
 */
let controller: ServerController | undefined;

export type { ExecServerApi, TreeSnapshotGroup, TreeSnapshotItem } from './testApi';

export function activate(context: vscode.ExtensionContext): ExecServerApi {
  const activation = new ActivationTimer((line) => log.info(line));
  const log = vscode.window.createOutputChannel('Exec Server', { log: true });
  context.subscriptions.push(log);
  const notify = new Notifier(log);
  const model = new ProcessModel(readSettings().maxFinishedProcesses);
  const terminalEnv = new TerminalEnv(context.environmentVariableCollection);
  const ctl = (controller = new ServerController(context, log, model, terminalEnv, notify, activation));
  const { tree } = registerProcessView(context, ctl, model);
  const outputs = new OutputChannels(model, log);
  const statusBar = new StatusBar(ctl, model);
  const mcp = new McpServerProvider(ctl, context.extensionPath, log);
  const terminals = new TerminalExecutions(model, log, {
    retainedBytes: () => readSettings().retainedOutputBytes,
    graceMs: () => readSettings().terminateGraceMs,
  });
  context.subscriptions.push(
    outputs,
    statusBar,
    mcp,
    terminals,
    ...registerCommands({ controller: ctl, model, outputs, log, notify }),
    onSettingsChanged(ctl, model, outputs, terminalEnv, notify),
    vscode.workspace.onDidChangeWorkspaceFolders(() => void ctl.refreshDiscovery()),
  );
  log.info(`Exec Server extension activated (VS Code ${vscode.version}, ${vscode.env.appName}, remote: ${vscode.env.remoteName ?? 'none'})`);
  const ready = ctl.start();
  const launcher = writeLauncher(context, log);
  context.subscriptions.push(registerConnectAgent({ notify, log, launcher }));
  const api = createTestApi({ context, controller: ctl, model, tree, statusBar, outputs, activation, ready, launcher, mcp, terminals });
  activation.activateReturned();
  return api;
}

/** Settings apply at once where they can; the server's own settings need a restart, which is offered. */
function onSettingsChanged(ctl: ServerController, model: ProcessModel, outputs: OutputChannels, terminalEnv: TerminalEnv, notify: Notifier): vscode.Disposable {
  return vscode.workspace.onDidChangeConfiguration((e) => {
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
  });
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
