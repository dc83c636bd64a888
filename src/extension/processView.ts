import * as vscode from 'vscode';
import { VIEW_ID } from './commands';
import { debounce } from './debounce';
import type { ProcessModel } from './processModel';
import { ProcessTreeProvider } from './processTree';
import type { ServerController } from './serverController';

const VIEW_UPDATE_MS = 200;

/**
 * The processes view: the tree, and around it the badge (running count), the description (the
 * port or the server's state), the message and the `execServer.state` context key the welcome
 * content and menus read. Kept current with the server's state at once, with the model debounced.
 */
export function registerProcessView(context: vscode.ExtensionContext, controller: ServerController, model: ProcessModel) {
  const tree = new ProcessTreeProvider(model);
  const view = vscode.window.createTreeView(VIEW_ID, { treeDataProvider: tree, showCollapseAll: true, canSelectMany: false });
  const update = () => {
    const state = controller.state;
    void vscode.commands.executeCommand('setContext', 'execServer.state', state);
    const running = model.runningCount();
    view.badge = running > 0 ? { value: running, tooltip: `${running} running` } : undefined;
    view.description = state === 'running' ? `:${controller.port}` : state;
    // An empty tree shows the welcome content of package.json (viewsWelcome: what the state means,
    // with buttons); VS Code hides it whenever a message is set, so a message only goes above rows.
    view.message = state === 'failed' && model.listSessions().length > 0 ? `Server failed: ${controller.error ?? 'unknown error'}` : undefined;
  };
  const scheduleUpdate = debounce(update, VIEW_UPDATE_MS);
  context.subscriptions.push(
    tree,
    view,
    view.onDidChangeVisibility((e) => tree.setVisible(e.visible)),
    controller.onDidChangeState(update),
    model.onDidChange(scheduleUpdate),
    scheduleUpdate,
  );
  tree.setVisible(view.visible);
  update();
  return { tree, view };
}
