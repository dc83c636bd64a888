import * as vscode from 'vscode';
import { debounce } from './debounce';
import { agentGroupName } from './processLabels';
import type { ProcessModel } from './processModel';
import type { ServerController } from './serverController';

const DEBOUNCE_MS = 200;

/** `$(server-process) Exec :PORT · N` (N running); a warning item when the server is down. */
export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('execServer.status', vscode.StatusBarAlignment.Left, 10);
  private readonly subs: Array<{ dispose(): void }> = [];
  private readonly schedule = debounce(() => this.update(), DEBOUNCE_MS);

  constructor(
    private readonly controller: ServerController,
    private readonly model: ProcessModel,
  ) {
    this.item.name = 'Exec Server';
    this.item.command = 'execServer.showView';
    this.subs.push(controller.onDidChangeState(() => this.update()), model.onDidChange(() => this.schedule()));
    this.update();
    this.item.show();
  }

  get text(): string {
    return this.item.text;
  }
  get tooltipText(): string {
    const t = this.item.tooltip;
    return typeof t === 'string' ? t : (t?.value ?? '');
  }

  update(): void {
    const c = this.controller;
    const warning = new vscode.ThemeColor('statusBarItem.warningBackground');
    switch (c.state) {
      case 'running': {
        const running = this.model.runningCount();
        this.item.text = `$(server-process) Exec :${c.port} · ${running}`;
        const clients = this.model.listSessions().filter((s) => !s.ended);
        const md = new vscode.MarkdownString(undefined, true);
        md.appendMarkdown(`**Exec Server** (${c.mode === 'child' ? 'child process' : 'in the extension host'})\n\n`);
        md.appendMarkdown(`\`${c.url}\` · ${running} running\n\n`);
        if (c.adoption) md.appendMarkdown(`Kept across a window reload: ${c.adoption.running} process(es) carried over\n\n`);
        md.appendMarkdown(clients.length ? `Clients:\n${clients.map((s) => `- ${agentGroupName(s.snap.clientName)} — ${s.snap.connected ? 'connected' : 'detached'}`).join('\n')}\n` : 'No client connected\n');
        md.appendMarkdown('\n_Click to show the processes_');
        this.item.tooltip = md;
        this.item.backgroundColor = undefined;
        break;
      }
      case 'starting':
      case 'stopping':
        this.item.text = `$(loading~spin) Exec`;
        this.item.tooltip = `Exec Server is ${c.state}…`;
        this.item.backgroundColor = undefined;
        break;
      case 'failed':
        this.item.text = `$(warning) Exec`;
        this.item.tooltip = `Exec Server failed: ${c.error ?? 'unknown error'}\nClick to show the processes view`;
        this.item.backgroundColor = warning;
        break;
      case 'stopped':
        this.item.text = `$(debug-stop) Exec`;
        this.item.tooltip = 'Exec Server is stopped (run "Exec Server: Restart Server" to start it)';
        this.item.backgroundColor = warning;
        break;
    }
    this.item.accessibilityInformation = { label: `Exec Server ${c.state === 'running' ? `on port ${c.port}, ${this.model.runningCount()} running` : c.state}` };
  }

  dispose(): void {
    this.schedule.dispose();
    this.subs.forEach((s) => s.dispose());
    this.item.dispose();
  }
}
