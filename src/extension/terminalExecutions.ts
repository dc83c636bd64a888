import * as vscode from 'vscode';
import type { SignalName, WriteStatus } from '../protocol/types';
import type { ObservedChunk, ProcessSnapshot } from '../protocol/admin';
import type { ProcessControl, ProcessModel } from './processModel';

/**
 * Commands run in VS Code's integrated terminals, seen through shell integration
 * (window.onDidStartTerminalShellExecution / onDidEndTerminalShellExecution, VS Code ≥ 1.93):
 * Copilot's agent runs its commands with `run_in_terminal` in such terminals, not through MCP,
 * so this is how what it runs shows in the tree (group "Terminals"), with the user's own
 * terminal commands. Each execution gets a row: command line, cwd, live output (execution.read()
 * into the same output channels as server processes), exit code. Stop = Ctrl-C, then the
 * terminal is closed if the command has not ended after the grace period; Kill closes it at once.
 *
 * Bounded: a running command keeps at most retainedBytes of output (oldest dropped), a finished
 * one its last FINISHED_KEEP_BYTES; finished rows obey maxFinishedProcesses (the model prunes
 * them, and records the model no longer lists are dropped here).
 * Nothing fires for a terminal whose shell integration did not activate.
 */
const TERMINALS_SESSION_ID = 'vscode-terminals';
const FINISHED_KEEP_BYTES = 64 * 1024;

interface Record {
  key: string;
  execution: vscode.TerminalShellExecution;
  terminal: vscode.Terminal;
  snap: ProcessSnapshot;
  chunks: ObservedChunk[];
  bytes: number;
  seq: number;
  /** The read() loop ended: all output is in. */
  drained: Promise<void>;
  /** The end event came (exit code known, or the terminal closed). */
  ended: boolean;
  /** The command ended while a stop was pending: shown as killed. */
  stopRequest: SignalName | null;
}

type ShellWindow = typeof vscode.window & {
  onDidStartTerminalShellExecution?: vscode.Event<vscode.TerminalShellExecutionStartEvent>;
  onDidEndTerminalShellExecution?: vscode.Event<vscode.TerminalShellExecutionEndEvent>;
};

export class TerminalExecutions implements vscode.Disposable, ProcessControl {
  private readonly records = new Map<string, Record>();
  private readonly byExecution = new Map<vscode.TerminalShellExecution, Record>();
  private readonly pids = new Map<vscode.Terminal, number>();
  private readonly subs: vscode.Disposable[] = [];
  private next = 0;
  /** Whether this VS Code has the shell-execution events (1.93+). */
  readonly supported: boolean;

  constructor(
    private readonly model: ProcessModel,
    private readonly log: vscode.LogOutputChannel,
    private readonly opts: { retainedBytes: () => number; graceMs: () => number },
  ) {
    const w = vscode.window as ShellWindow;
    this.supported = typeof w.onDidStartTerminalShellExecution === 'function' && typeof w.onDidEndTerminalShellExecution === 'function';
    if (!this.supported) {
      log.info('this VS Code has no terminal shell-execution events (1.93+): terminal commands are not listed');
      return;
    }
    this.subs.push(
      w.onDidStartTerminalShellExecution!((e) => this.onStart(e)),
      w.onDidEndTerminalShellExecution!((e) => this.onEnd(e.execution, e.exitCode, e.shellIntegration.cwd)),
      vscode.window.onDidCloseTerminal((t) => this.onTerminalClosed(t)),
      { dispose: this.model.onDidChange(() => this.gc()).dispose },
    );
  }

  private onStart(e: vscode.TerminalShellExecutionStartEvent): void {
    const { execution, terminal } = e;
    // read() must be called now: it only yields what is written after its first call.
    let stream: AsyncIterable<string>;
    try {
      stream = execution.read();
    } catch (err) {
      this.log.warn(`terminal command output unavailable: ${(err as Error).message}`);
      stream = (async function* () {})();
    }
    const id = ++this.next;
    const key = `${TERMINALS_SESSION_ID}/${id}`;
    const command = execution.commandLine.value;
    const r: Record = {
      key,
      execution,
      terminal,
      chunks: [],
      bytes: 0,
      seq: 0,
      drained: Promise.resolve(),
      ended: false,
      stopRequest: null,
      snap: {
        key,
        sessionId: TERMINALS_SESSION_ID,
        processId: String(id),
        clientName: 'Terminals',
        pid: this.pids.get(terminal) ?? 0,
        argv: [command],
        cwd: (execution.cwd ?? e.shellIntegration.cwd)?.fsPath ?? '',
        tty: true,
        pipeStdin: false,
        state: 'running',
        exitCode: null,
        signal: null,
        stopRequest: null,
        startedAtMs: Date.now(),
        exitedAtMs: null,
        outputBytes: 0,
        metadata: { source: 'terminal', command, terminal: terminal.name },
      },
    };
    this.records.set(key, r);
    this.byExecution.set(execution, r);
    r.drained = this.drain(r, stream);
    this.publish(r);
    if (!this.pids.has(terminal)) {
      // The shell's pid (the command's own pid is not exposed): for Copy PID and the tooltip.
      void Promise.resolve(terminal.processId).then(
        (pid) => {
          if (pid === undefined) return;
          this.pids.set(terminal, pid);
          for (const x of this.records.values()) {
            if (x.terminal === terminal && x.snap.pid === 0) {
              x.snap = { ...x.snap, pid };
              this.publish(x);
            }
          }
        },
        () => undefined,
      );
    }
  }

  private async drain(r: Record, stream: AsyncIterable<string>): Promise<void> {
    try {
      for await (const text of stream) {
        if (!this.records.has(r.key)) break; // cleared from the tree while running
        const data = Buffer.from(text, 'utf8');
        const chunk: ObservedChunk = { seq: ++r.seq, stream: 'pty', data };
        r.chunks.push(chunk);
        r.bytes += data.length;
        this.trim(r, this.opts.retainedBytes());
        r.snap.outputBytes += data.length;
        this.model.localOutput(r.key, chunk);
      }
    } catch (err) {
      this.log.debug(`terminal command output ended: ${(err as Error).message}`);
    }
  }

  /** Drop the oldest chunks beyond `max` bytes (keeping at least the newest chunk). */
  private trim(r: Record, max: number): void {
    while (r.bytes > max && r.chunks.length > 1) r.bytes -= r.chunks.shift()!.data.length;
  }

  private onEnd(execution: vscode.TerminalShellExecution, exitCode: number | undefined, cwd?: vscode.Uri): void {
    const r = this.byExecution.get(execution);
    if (!r || r.ended) return;
    r.ended = true;
    const command = execution.commandLine.value || String(r.snap.metadata?.command ?? '');
    r.snap = {
      ...r.snap,
      state: 'exited',
      exitCode: exitCode ?? null,
      exitedAtMs: Date.now(),
      stopRequest: r.stopRequest,
      argv: [command],
      // The first command of a new terminal may start before its cwd is known.
      cwd: r.snap.cwd || (execution.cwd ?? cwd)?.fsPath || '',
      metadata: { ...r.snap.metadata, command },
    };
    this.publish(r);
    // `closed` once every byte of output is in (the read() stream ends with the execution),
    // bounded in case the stream never ends.
    const settle = new Promise<void>((res) => setTimeout(res, 2_000));
    void Promise.race([r.drained, settle]).then(() => this.close(r));
  }

  private close(r: Record): void {
    this.byExecution.delete(r.execution);
    this.trim(r, FINISHED_KEEP_BYTES);
    r.snap = { ...r.snap, state: 'closed' };
    if (this.records.has(r.key)) this.publish(r);
  }

  private onTerminalClosed(t: vscode.Terminal): void {
    this.pids.delete(t);
    for (const r of [...this.byExecution.values()]) {
      if (r.terminal !== t || r.ended) continue;
      // The terminal went away with the command running: its exit code is unknown.
      r.stopRequest ??= 'kill';
      this.onEnd(r.execution, undefined);
    }
  }

  private publish(r: Record): void {
    this.model.upsertLocal({ ...r.snap }, this);
  }

  /** Forget records the model no longer lists (pruned or cleared) once they have ended. */
  private gc(): void {
    for (const [key, r] of this.records) {
      if (r.snap.state === 'closed' && !this.model.getProcess(key)) this.records.delete(key);
    }
  }

  private get(key: string): Record {
    const r = this.records.get(key);
    if (!r) throw new Error(`unknown terminal command ${key}`);
    return r;
  }

  // ProcessControl: what the output channels and the stop commands use.

  async retainedOutput(key: string): Promise<{ chunks: ObservedChunk[]; truncated: boolean }> {
    const r = this.get(key);
    return { chunks: [...r.chunks], truncated: r.chunks.length > 0 && r.chunks[0].seq > 1 };
  }

  async signal(key: string, signal: SignalName): Promise<boolean> {
    if (signal === 'interrupt') return this.interrupt(this.get(key));
    return signal === 'kill' ? this.closeTerminal(this.get(key), 'kill') : this.terminate(key);
  }

  /** Ctrl-C; if the command has not ended after the grace period, the terminal is closed. */
  async terminate(key: string): Promise<boolean> {
    const r = this.get(key);
    if (r.ended) return false;
    r.stopRequest = 'terminate';
    this.interrupt(r);
    const grace = this.opts.graceMs();
    const t0 = Date.now();
    // Bounded wait for the end event (polled: the event handler is what sets `ended`).
    while (!r.ended && Date.now() - t0 < grace) await new Promise((res) => setTimeout(res, 50));
    if (!r.ended) this.closeTerminal(r, 'terminate');
    return true;
  }

  private interrupt(r: Record): boolean {
    if (r.ended) return false;
    r.terminal.sendText('\x03', false);
    return true;
  }

  private closeTerminal(r: Record, why: SignalName): boolean {
    if (r.ended) return false;
    r.stopRequest = why;
    this.log.info(`closing terminal "${r.terminal.name}": its command did not end (${why})`);
    r.terminal.dispose();
    return true;
  }

  async write(key: string, data: Buffer): Promise<WriteStatus> {
    const r = this.get(key);
    if (r.ended) return 'stdinClosed';
    r.terminal.sendText(data.toString('utf8'), false);
    return 'accepted';
  }

  /** "Open in Terminal": the terminal it runs in. */
  reveal(key: string): void {
    this.get(key).terminal.show(false);
  }

  async resize(): Promise<void> {
    // The terminal's size is VS Code's.
  }

  dispose(): void {
    this.subs.forEach((s) => s.dispose());
    this.records.clear();
    this.byExecution.clear();
  }
}
