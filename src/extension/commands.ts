import * as vscode from 'vscode';
import type { SignalName } from '../protocol/types';
import { agentGroupName, copyableCommand, displayCommand } from './processLabels';
import type { Notifier } from './notify';
import type { OutputChannels } from './outputChannels';
import { isFinished, type ProcessEntry, type ProcessModel } from './processModel';
import { openProcessTerminal } from './processTerminal';
import { processDescription, type Node } from './processTree';
import type { ServerController } from './serverController';

export const VIEW_ID = 'execServer.processes';

interface Deps {
  controller: ServerController;
  model: ProcessModel;
  outputs: OutputChannels;
  log: vscode.LogOutputChannel;
  notify: Notifier;
}

/** A command's target: a tree node, a process key, or (from the palette) picked by the user. */
type Target = Node | string | { key: string } | undefined;

export function registerCommands(d: Deps): vscode.Disposable[] {
  const { controller, model, outputs, log, notify } = d;

  const resolve = async (t: Target, filter: (p: ProcessEntry) => boolean, placeHolder: string): Promise<ProcessEntry | undefined> => {
    const key = typeof t === 'string' ? t : t && 'key' in t ? t.key : undefined;
    if (key) {
      const p = model.getProcess(key);
      if (!p) void notify.warn('That process is no longer listed.');
      return p;
    }
    if (t && typeof t === 'object' && 'kind' in t && t.kind === 'group') return undefined;
    const candidates = model.listProcesses().filter(filter).sort((a, b) => b.snap.startedAtMs - a.snap.startedAtMs);
    if (candidates.length === 0) {
      void notify.info('No matching process.');
      return undefined;
    }
    const pick = await vscode.window.showQuickPick(
      candidates.map((p) => ({ label: displayCommand(p.snap), description: processDescription(p), detail: agentGroupName(p.snap.clientName), p })),
      { placeHolder, matchOnDescription: true },
    );
    return pick?.p;
  };
  const running = (p: ProcessEntry) => !isFinished(p) && model.isLive(p);

  const stop = async (t: Target, how: 'terminate' | SignalName) => {
    const p = await resolve(t, running, `Process to ${how}`);
    if (!p) return false;
    const control = model.controlOf(p);
    if (!control) {
      void notify.warn('The server that ran this process has stopped.');
      return false;
    }
    if (isFinished(p)) return false;
    model.markStopping(p.snap.key, how);
    try {
      const ok = how === 'terminate' ? await control.terminate(p.snap.key) : await control.signal(p.snap.key, how);
      log.info(`${how} ${p.snap.key} (pid ${p.snap.pid}): ${ok ? 'sent' : 'nothing left to signal'}`);
      return ok;
    } catch (err) {
      log.error(`${how} ${p.snap.key} failed: ${(err as Error).message}`);
      void notify.error(`Could not ${how} the process: ${(err as Error).message}`);
      return false;
    }
  };

  const needServer = () => {
    if (controller.state === 'running' && controller.url) return true;
    void notify.warn(`Exec Server is ${controller.state}.`, 'Restart Server').then((pick) => {
      if (pick) void controller.restart();
    });
    return false;
  };

  const reg = (id: string, f: (...args: never[]) => unknown) => vscode.commands.registerCommand(id, f as (...args: unknown[]) => unknown);
  return [
    reg('execServer.start', () => controller.start()),
    reg('execServer.restart', () => controller.restart()),
    reg('execServer.stop', () => controller.stop()),
    reg('execServer.showLog', () => log.show()),
    reg('execServer.showView', () => vscode.commands.executeCommand(`${VIEW_ID}.focus`)),

    reg('execServer.terminateProcess', (t: Target) => stop(t, 'terminate')),
    reg('execServer.killProcess', (t: Target) => stop(t, 'kill')),
    reg('execServer.interruptProcess', (t: Target) => stop(t, 'interrupt')),

    reg('execServer.showOutput', async (t: Target) => {
      const p = await resolve(t, () => true, 'Show the output of');
      if (p) await outputs.show(p.snap.key);
    }),
    reg('execServer.openInTerminal', async (t: Target) => {
      const p = await resolve(t, running, 'Open in a terminal');
      if (!p) return;
      if (p.local?.reveal) return p.local.reveal(p.snap.key);
      try {
        openProcessTerminal(model, p.snap.key, log);
      } catch (err) {
        void notify.warn(`Cannot open a terminal: ${(err as Error).message}`);
      }
    }),
    reg('execServer.copyCommand', async (t: Target) => {
      const p = await resolve(t, () => true, 'Copy the command of');
      if (p) await vscode.env.clipboard.writeText(copyableCommand(p.snap));
    }),
    reg('execServer.copyPid', async (t: Target) => {
      const p = await resolve(t, () => true, 'Copy the pid of');
      if (p) await vscode.env.clipboard.writeText(String(p.snap.pid));
    }),

    reg('execServer.terminateAll', async (opts?: { confirm?: boolean }) => {
      // The server's processes: commands in the user's terminals are not ended in bulk.
      const admin = model.admin;
      const serverRunning = (p: ProcessEntry) => running(p) && !p.local;
      const n = model.listProcesses().filter(serverRunning).length;
      if (!admin || n === 0) {
        void notify.info('No running process.');
        return 0;
      }
      if (opts?.confirm !== false) {
        const ok = await notify.confirm(`Terminate ${n} running process${n === 1 ? '' : 'es'}?`, 'Terminate All');
        if (ok !== 'Terminate All') return 0;
      }
      for (const p of model.listProcesses().filter(serverRunning)) model.markStopping(p.snap.key, 'terminate');
      const done = await admin.terminateAll();
      log.info(`terminate all: ${done} process(es) signalled`);
      return done;
    }),
    reg('execServer.clearFinished', () => {
      const n = model.clearFinished();
      outputs.prune();
      return n;
    }),

    reg('execServer.copyUrl', async () => {
      if (!needServer()) return;
      await vscode.env.clipboard.writeText(controller.urlWithToken!);
      void notify.info('Exec Server URL (with its token) copied to the clipboard.');
    }),
    reg('execServer.copyCodexConfig', async () => {
      if (!needServer()) return;
      await vscode.env.clipboard.writeText(codexEnvironmentsToml(controller.url!, controller.token!));
      void notify.info('Snippet for $CODEX_HOME/environments.toml copied. The token changes when the server restarts.');
    }),
    reg('execServer.showDiscoveryFile', async () => {
      if (!needServer()) return;
      if (!controller.discoveryFile) {
        void notify.warn('No discovery file was written (see the log).');
        return;
      }
      await vscode.window.showTextDocument(vscode.Uri.file(controller.discoveryFile), { preview: true });
    }),
  ];
}

function codexEnvironmentsToml(url: string, token: string): string {
  return [
    '# $CODEX_HOME/environments.toml (default ~/.codex/environments.toml): run codex commands through',
    '# the exec server of this VS Code window. The token changes whenever the server restarts.',
    'default = "vscode"',
    'include_local = false',
    '',
    '[[environments]]',
    'id = "vscode"',
    `url = "${url}"`,
    `auth_bearer_token = "${token}"`,
    '',
  ].join('\n');
}
