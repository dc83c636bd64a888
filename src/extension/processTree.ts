import * as vscode from 'vscode';
import { commandLabel, commandLine, formatBytes, formatClock, formatDuration } from './format';
import { isFinished, statusOf, type ProcessEntry, type ProcessModel, type ProcessStatus, type SessionEntry } from './processModel';

/** Tree nodes are small stable handles; everything shown is read from the model on demand. */
export interface SessionNode {
  readonly kind: 'session';
  readonly id: string;
}
export interface ProcessNode {
  readonly kind: 'process';
  readonly key: string;
  readonly sessionId: string;
}
export type Node = SessionNode | ProcessNode;

export const REFRESH_DEBOUNCE_MS = 150;
/** Runtimes of running processes in the descriptions are refreshed this often (only while visible). */
const TICK_MS = 1000;
/**
 * ...and at most this many rows per second: with 500 running processes a row's runtime moves
 * every 5 s, so the work per second stays that of 100 rows however many processes run.
 */
const MAX_ROWS_PER_SECOND = 100;

const ICONS: Record<ProcessStatus, vscode.ThemeIcon> = {
  running: new vscode.ThemeIcon('loading~spin'),
  stopping: new vscode.ThemeIcon('loading~spin', new vscode.ThemeColor('list.warningForeground')),
  succeeded: new vscode.ThemeIcon('pass', new vscode.ThemeColor('testing.iconPassed')),
  failed: new vscode.ThemeIcon('error', new vscode.ThemeColor('testing.iconFailed')),
  killed: new vscode.ThemeIcon('circle-slash', new vscode.ThemeColor('list.warningForeground')),
  lost: new vscode.ThemeIcon('question'),
};

export class ProcessTreeProvider implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<Node | undefined | void>();
  readonly onDidChangeTreeData = this.emitter.event;
  private readonly sessionNodes = new Map<string, SessionNode>();
  private readonly processNodes = new Map<string, ProcessNode>();
  private timer: NodeJS.Timeout | undefined;
  private ticker: NodeJS.Timeout | undefined;
  private visible = false;
  private readonly subs: Array<{ dispose(): void }> = [];
  /** Counts fired whole-tree refreshes (diagnostics for tests: debouncing keeps this low). */
  refreshCount = 0;
  /** Counts single-row refreshes fired by the runtime ticker. */
  rowRefreshCount = 0;

  constructor(private readonly model: ProcessModel) {
    this.subs.push(model.onDidChange(() => this.scheduleRefresh()));
  }

  setVisible(visible: boolean): void {
    this.visible = visible;
    this.updateTicker();
    if (visible) this.scheduleRefresh();
  }

  /** Coalesce bursts of changes (hundreds of processes starting, exits in a flood) into one refresh. */
  scheduleRefresh(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.refreshCount++;
      this.emitter.fire();
      this.updateTicker();
    }, REFRESH_DEBOUNCE_MS);
  }

  private updateTicker(): void {
    const want = this.visible && this.model.runningCount() > 0;
    if (want && !this.ticker) {
      this.ticker = setTimeout(() => this.tick(), TICK_MS);
    } else if (!want && this.ticker) {
      clearTimeout(this.ticker);
      this.ticker = undefined;
    }
  }

  private tick(): void {
    this.ticker = undefined;
    // Only the running rows change with time: refresh just those.
    let rows = 0;
    for (const p of this.model.listProcesses()) {
      if (isFinished(p)) continue;
      this.emitter.fire(this.processNode(p));
      rows++;
    }
    this.rowRefreshCount += rows;
    if (this.visible && rows > 0) this.ticker = setTimeout(() => this.tick(), TICK_MS * Math.max(1, Math.ceil(rows / MAX_ROWS_PER_SECOND)));
  }

  sessionNode(id: string): SessionNode {
    let n = this.sessionNodes.get(id);
    if (!n) this.sessionNodes.set(id, (n = { kind: 'session', id }));
    return n;
  }

  processNode(p: ProcessEntry): ProcessNode {
    let n = this.processNodes.get(p.snap.key);
    if (!n) this.processNodes.set(p.snap.key, (n = { kind: 'process', key: p.snap.key, sessionId: p.snap.sessionId }));
    return n;
  }

  getChildren(element?: Node): Node[] {
    if (!element) {
      this.gc();
      return sortSessions(this.model.listSessions()).map((s) => this.sessionNode(s.snap.id));
    }
    if (element.kind === 'session') {
      return this.model
        .processesOf(element.id)
        .sort((a, b) => b.snap.startedAtMs - a.snap.startedAtMs)
        .map((p) => this.processNode(p));
    }
    return [];
  }

  getParent(element: Node): Node | undefined {
    return element.kind === 'process' ? this.sessionNode(element.sessionId) : undefined;
  }

  getTreeItem(element: Node): vscode.TreeItem {
    if (element.kind === 'session') {
      const s = this.model.getSession(element.id);
      return s ? sessionItem(s, this.model.processesOf(element.id)) : new vscode.TreeItem('(gone)');
    }
    const p = this.model.getProcess(element.key);
    return p ? processItem(p) : new vscode.TreeItem('(cleared)');
  }

  /** Tooltips are built on hover, so output byte counts are current without refreshing rows. */
  resolveTreeItem(item: vscode.TreeItem, element: Node): vscode.TreeItem {
    if (element.kind === 'process') {
      const p = this.model.getProcess(element.key);
      if (p) item.tooltip = processTooltip(p);
    } else {
      const s = this.model.getSession(element.id);
      if (s) item.tooltip = sessionTooltip(s, this.model.processesOf(element.id));
    }
    return item;
  }

  /** Forget node handles of things no longer in the model. */
  private gc(): void {
    for (const key of this.processNodes.keys()) if (!this.model.getProcess(key)) this.processNodes.delete(key);
    for (const id of this.sessionNodes.keys()) if (!this.model.getSession(id)) this.sessionNodes.delete(id);
  }

  dispose(): void {
    clearTimeout(this.timer);
    clearTimeout(this.ticker);
    this.subs.forEach((s) => s.dispose());
    this.emitter.dispose();
  }
}

function sortSessions(list: SessionEntry[]): SessionEntry[] {
  // Stable: newest first, live sessions above ended ones.
  return list.sort((a, b) => Number(a.ended) - Number(b.ended) || b.firstSeen - a.firstSeen);
}

export function sessionItem(s: SessionEntry, procs: ProcessEntry[]): vscode.TreeItem {
  const item = new vscode.TreeItem(s.snap.clientName || '(unnamed client)', vscode.TreeItemCollapsibleState.Expanded);
  item.id = `session:${s.snap.id}`;
  const running = procs.filter((p) => !isFinished(p)).length;
  const state = s.ended ? 'ended' : s.snap.connected ? 'connected' : 'detached';
  const since = !s.ended && !s.snap.connected ? ` ${formatDuration(Date.now() - s.snap.sinceMs)}` : '';
  item.description = `${state}${since} · ${running} running${procs.length > running ? ` · ${procs.length - running} done` : ''}`;
  item.iconPath = new vscode.ThemeIcon(s.ended ? 'circle-outline' : s.snap.connected ? 'plug' : 'debug-disconnect');
  item.contextValue = `session.${state}`;
  return item;
}

function sessionTooltip(s: SessionEntry, procs: ProcessEntry[]): vscode.MarkdownString {
  const md = new vscode.MarkdownString();
  md.appendMarkdown(`**${escapeMd(s.snap.clientName || '(unnamed client)')}**\n\n`);
  md.appendMarkdown(`- session: \`${s.snap.id}\`\n`);
  md.appendMarkdown(`- ${s.ended ? 'ended' : s.snap.connected ? `connected since ${formatClock(s.snap.sinceMs)}` : `detached since ${formatClock(s.snap.sinceMs)}${s.snap.resumable ? ' (can resume)' : ''}`}\n`);
  md.appendMarkdown(`- processes: ${procs.length}\n`);
  return md;
}

export function processDescription(p: ProcessEntry, now = Date.now()): string {
  const st = statusOf(p);
  const pid = `pid ${p.snap.pid}`;
  const runtime = formatDuration((p.snap.exitedAtMs ?? now) - p.snap.startedAtMs);
  switch (st) {
    case 'running':
      return `running · ${pid} · ${runtime}`;
    case 'stopping':
      return `stopping · ${pid} · ${runtime}`;
    case 'succeeded':
      return `exit 0 · ${pid} · ${runtime}`;
    case 'failed':
      return `${p.snap.signal ? p.snap.signal : `exit ${p.snap.exitCode}`} · ${pid} · ${runtime}`;
    case 'killed':
      return `killed${p.snap.signal ? ` (${p.snap.signal})` : ''} · ${pid} · ${runtime}`;
    case 'lost':
      return `unknown (server stopped) · ${pid}`;
  }
}

export function processItem(p: ProcessEntry): vscode.TreeItem {
  const item = new vscode.TreeItem(commandLabel(p.snap.argv), vscode.TreeItemCollapsibleState.None);
  item.id = `process:${p.snap.key}`;
  const st = statusOf(p);
  item.description = processDescription(p);
  item.iconPath = ICONS[st];
  const running = st === 'running' || st === 'stopping';
  item.contextValue = running ? `process.running.${p.snap.tty ? 'tty' : 'pipe'}` : 'process.finished';
  item.accessibilityInformation = { label: `${commandLabel(p.snap.argv)}, ${item.description}` };
  item.command = { command: 'execServer.showOutput', title: 'Show Output', arguments: [{ kind: 'process', key: p.snap.key, sessionId: p.snap.sessionId }] };
  return item;
}

export function processTooltip(p: ProcessEntry): vscode.MarkdownString {
  const s = p.snap;
  const md = new vscode.MarkdownString(undefined, true);
  md.appendCodeblock(commandLine(s.argv), 'shellscript');
  const rows: Array<[string, string]> = [
    ['state', processDescription(p)],
    ['pid', `${s.pid} (process group ${s.pid})`],
    ['cwd', s.cwd],
    ['started', formatClock(s.startedAtMs)],
  ];
  if (s.exitedAtMs) rows.push(['exited', formatClock(s.exitedAtMs)]);
  rows.push(['output', formatBytes(p.outputBytes)]);
  rows.push(['io', s.tty ? 'PTY' : `pipes${s.pipeStdin ? ' (stdin open)' : ''}`]);
  rows.push(['client', `${s.clientName || '(unnamed)'} · process ${s.processId}`]);
  const meta = s.metadata ?? {};
  for (const k of ['threadId', 'toolCallId', 'turnId', 'callId']) {
    if (typeof meta[k] === 'string' || typeof meta[k] === 'number') rows.push([k, String(meta[k])]);
  }
  for (const [k, v] of rows) md.appendMarkdown(`**${k}:** ${escapeMd(v)}  \n`);
  md.appendMarkdown('\n**argv:**');
  md.appendCodeblock(JSON.stringify(s.argv), 'json');
  return md;
}

function escapeMd(s: string): string {
  return s.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');
}
