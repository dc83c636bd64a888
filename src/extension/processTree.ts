import * as vscode from 'vscode';
import { debounce } from './debounce';
import { commandLine, formatBytes, formatClock, formatDuration } from './format';
import { agentGroupName, displayCommand, metaString, processNote } from './processLabels';
import { isFinished, statusOf, type ProcessEntry, type ProcessModel, type ProcessStatus, type SessionEntry } from './processModel';

/**
 * Tree nodes are small stable handles; everything shown is read from the model on demand.
 * The top level groups processes by agent (friendlyAgentName of the client's name: every session
 * of "Claude Code" under one node), the processes below.
 */
export interface GroupNode {
  readonly kind: 'group';
  /** `agent:<friendly name>`. */
  readonly id: string;
}
export interface ProcessNode {
  readonly kind: 'process';
  readonly key: string;
  readonly sessionId: string;
  readonly groupId: string;
}
export type Node = GroupNode | ProcessNode;

/** One agent's sessions and processes, as the tree shows them. */
export interface Group {
  id: string;
  label: string;
  sessions: SessionEntry[];
  processes: ProcessEntry[];
}

function groupIdOf(clientName: string): string {
  return `agent:${agentGroupName(clientName)}`;
}
/** Commands run in VS Code's terminals (terminalExecutions.ts), whoever typed them. */
const TERMINALS_GROUP_ID = 'terminals';
const TERMINALS_GROUP_LABEL = 'Terminals';

function groupIdOfProcess(model: ProcessModel, p: ProcessEntry): string {
  if (p.local) return TERMINALS_GROUP_ID;
  return groupIdOf(model.getSession(p.snap.sessionId)?.snap.clientName ?? p.snap.clientName);
}

/** Groups in display order: live ones first, newest first; the terminals last (when it has rows). */
function buildGroups(model: ProcessModel): Group[] {
  const groups = new Map<string, Group>();
  const get = (clientName: string) => {
    const id = groupIdOf(clientName);
    let g = groups.get(id);
    if (!g) groups.set(id, (g = { id, label: agentGroupName(clientName), sessions: [], processes: [] }));
    return g;
  };
  for (const s of model.listSessions()) get(s.snap.clientName).sessions.push(s);
  const terminals: Group = { id: TERMINALS_GROUP_ID, label: TERMINALS_GROUP_LABEL, sessions: [], processes: [] };
  for (const p of model.listProcesses()) {
    if (p.local) {
      terminals.processes.push(p);
      continue;
    }
    const s = model.getSession(p.snap.sessionId);
    get(s?.snap.clientName ?? p.snap.clientName).processes.push(p);
  }
  const live = (g: Group) => g.sessions.some((s) => !s.ended) || g.processes.some((p) => !isFinished(p));
  const newest = (g: Group) => Math.max(0, ...g.sessions.map((s) => s.firstSeen));
  const sorted = [...groups.values()].sort((a, b) => Number(live(b)) - Number(live(a)) || newest(b) - newest(a) || a.label.localeCompare(b.label));
  if (terminals.processes.length) sorted.push(terminals);
  return sorted;
}

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
  private readonly groupNodes = new Map<string, GroupNode>();
  private readonly processNodes = new Map<string, ProcessNode>();
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
  readonly scheduleRefresh = debounce(() => {
    this.refreshCount++;
    this.emitter.fire();
    this.updateTicker();
  }, REFRESH_DEBOUNCE_MS);

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

  groupNode(id: string): GroupNode {
    let n = this.groupNodes.get(id);
    if (!n) this.groupNodes.set(id, (n = { kind: 'group', id }));
    return n;
  }

  processNode(p: ProcessEntry): ProcessNode {
    let n = this.processNodes.get(p.snap.key);
    if (!n) {
      n = { kind: 'process', key: p.snap.key, sessionId: p.snap.sessionId, groupId: groupIdOfProcess(this.model, p) };
      this.processNodes.set(p.snap.key, n);
    }
    return n;
  }

  private group(id: string): Group | undefined {
    return buildGroups(this.model).find((g) => g.id === id);
  }

  getChildren(element?: Node): Node[] {
    if (!element) {
      const groups = buildGroups(this.model);
      this.gc(groups);
      return groups.map((g) => this.groupNode(g.id));
    }
    if (element.kind === 'group') {
      return (this.group(element.id)?.processes ?? [])
        .sort((a, b) => b.snap.startedAtMs - a.snap.startedAtMs)
        .map((p) => this.processNode(p));
    }
    return [];
  }

  getParent(element: Node): Node | undefined {
    return element.kind === 'process' ? this.groupNode(element.groupId) : undefined;
  }

  getTreeItem(element: Node): vscode.TreeItem {
    if (element.kind === 'group') {
      const g = this.group(element.id);
      return g ? groupItem(g) : new vscode.TreeItem('(gone)');
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
      const g = this.group(element.id);
      if (g) item.tooltip = groupTooltip(g);
    }
    return item;
  }

  /** Forget node handles of things no longer in the model. */
  private gc(groups: Group[]): void {
    for (const key of this.processNodes.keys()) if (!this.model.getProcess(key)) this.processNodes.delete(key);
    const ids = new Set(groups.map((g) => g.id));
    for (const id of this.groupNodes.keys()) if (!ids.has(id)) this.groupNodes.delete(id);
  }

  dispose(): void {
    this.scheduleRefresh.dispose();
    clearTimeout(this.ticker);
    this.subs.forEach((s) => s.dispose());
    this.emitter.dispose();
  }
}

/** The group's state: connected if one of its sessions is, else detached, else ended. */
function groupState(g: Group): 'connected' | 'detached' | 'ended' {
  if (g.sessions.some((s) => !s.ended && s.snap.connected)) return 'connected';
  if (g.sessions.some((s) => !s.ended)) return 'detached';
  return 'ended';
}

function groupItem(g: Group): vscode.TreeItem {
  const item = new vscode.TreeItem(g.label || '(unnamed client)', vscode.TreeItemCollapsibleState.Expanded);
  item.id = g.id;
  const running = g.processes.filter((p) => !isFinished(p)).length;
  const done = g.processes.length - running;
  if (g.id === TERMINALS_GROUP_ID) {
    item.description = `${running} running${done ? ` · ${done} done` : ''}`;
    item.iconPath = new vscode.ThemeIcon('terminal');
    item.contextValue = 'group.terminals';
    return item;
  }
  const state = groupState(g);
  const liveSessions = g.sessions.filter((s) => !s.ended);
  const detachedSince = state === 'detached' ? ` ${formatDuration(Date.now() - Math.max(...liveSessions.map((s) => s.snap.sinceMs)))}` : '';
  const sessions = liveSessions.length > 1 ? ` · ${liveSessions.length} sessions` : '';
  item.description = `${state}${detachedSince}${sessions} · ${running} running${done ? ` · ${done} done` : ''}`;
  item.iconPath = new vscode.ThemeIcon(state === 'ended' ? 'circle-outline' : state === 'connected' ? 'plug' : 'debug-disconnect');
  item.contextValue = `group.${state}`;
  return item;
}

function groupTooltip(g: Group): vscode.MarkdownString {
  const md = new vscode.MarkdownString();
  md.appendMarkdown(`**${escapeMd(g.label || '(unnamed client)')}**\n\n`);
  if (g.id === TERMINALS_GROUP_ID) {
    md.appendMarkdown('Commands run in VS Code terminals with shell integration: yours, and those of VS Code\'s agent (`run_in_terminal`).\n');
    return md;
  }
  const names = [...new Set(g.sessions.map((s) => s.snap.clientName))];
  if (names.length && (names.length > 1 || names[0] !== g.label)) md.appendMarkdown(`- client: ${names.map((n) => `\`${escapeMd(n)}\``).join(', ')}\n`);
  for (const s of g.sessions) {
    const state = s.ended ? 'ended' : s.snap.connected ? `connected since ${formatClock(s.snap.sinceMs)}` : `detached since ${formatClock(s.snap.sinceMs)}${s.snap.resumable ? ' (can resume)' : ''}`;
    md.appendMarkdown(`- session \`${s.snap.id}\`: ${state}\n`);
  }
  md.appendMarkdown(`- processes: ${g.processes.length}\n`);
  return md;
}

export function processDescription(p: ProcessEntry, now = Date.now()): string {
  const st = statusOf(p);
  // A terminal command's own pid is not known (only its shell's): name the terminal instead.
  const pid = p.local ? `terminal ${metaString(p.snap.metadata, 'terminal', 40) ?? '?'}` : `pid ${p.snap.pid}`;
  const runtime = formatDuration((p.snap.exitedAtMs ?? now) - p.snap.startedAtMs);
  switch (st) {
    case 'running':
      return `running · ${pid} · ${runtime}`;
    case 'stopping':
      return `stopping · ${pid} · ${runtime}`;
    case 'succeeded':
      return `exit 0 · ${pid} · ${runtime}`;
    case 'failed':
      return `${p.snap.signal ? p.snap.signal : p.snap.exitCode === null ? 'ended (exit code unknown)' : `exit ${p.snap.exitCode}`} · ${pid} · ${runtime}`;
    case 'killed':
      return `killed${p.snap.signal ? ` (${p.snap.signal})` : ''} · ${pid} · ${runtime}`;
    case 'lost':
      return `unknown (server stopped) · ${pid}`;
  }
}

function processItem(p: ProcessEntry): vscode.TreeItem {
  const label = displayCommand(p.snap);
  const item = new vscode.TreeItem(label, vscode.TreeItemCollapsibleState.None);
  item.id = `process:${p.snap.key}`;
  const st = statusOf(p);
  const note = processNote(p.snap);
  item.description = `${processDescription(p)}${note ? ` · ${note}` : ''}`;
  item.iconPath = ICONS[st];
  const running = st === 'running' || st === 'stopping';
  item.contextValue = running ? `process.running.${p.local ? 'terminal' : p.snap.tty ? 'tty' : 'pipe'}` : 'process.finished';
  item.accessibilityInformation = { label: `${label}, ${item.description}` };
  item.command = { command: 'execServer.showOutput', title: 'Show Output', arguments: [{ kind: 'process', key: p.snap.key, sessionId: p.snap.sessionId }] };
  return item;
}

function processTooltip(p: ProcessEntry): vscode.MarkdownString {
  const s = p.snap;
  const md = new vscode.MarkdownString(undefined, true);
  md.appendCodeblock(metaString(s.metadata, 'command', 10_000) ?? commandLine(s.argv), 'shellscript');
  const rows: Array<[string, string]> = [
    ['state', processDescription(p)],
    p.local ? ['pid', s.pid ? `${s.pid} (the terminal's shell)` : 'unknown'] : ['pid', `${s.pid} (process group ${s.pid})`],
    ['cwd', s.cwd],
    ['started', formatClock(s.startedAtMs)],
  ];
  if (s.exitedAtMs) rows.push(['exited', formatClock(s.exitedAtMs)]);
  rows.push(['output', formatBytes(p.outputBytes)]);
  rows.push(['io', p.local ? 'VS Code terminal' : s.tty ? 'PTY' : `pipes${s.pipeStdin ? ' (stdin open)' : ''}`]);
  if (!p.local) rows.push(['agent', `${agentGroupName(s.clientName)}${agentGroupName(s.clientName) !== s.clientName ? ` (${s.clientName})` : ''} · process ${s.processId}`]);
  const meta = s.metadata ?? {};
  for (const k of ['source', 'description', 'name', 'terminal', 'threadId', 'toolCallId', 'turnId', 'callId']) {
    const v = typeof meta[k] === 'number' ? String(meta[k]) : metaString(meta, k);
    if (v) rows.push([k, v]);
  }
  for (const [k, v] of rows) md.appendMarkdown(`**${k}:** ${escapeMd(v)}  \n`);
  md.appendMarkdown('\n**argv:**');
  md.appendCodeblock(JSON.stringify(s.argv), 'json');
  return md;
}

function escapeMd(s: string): string {
  return s.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');
}
