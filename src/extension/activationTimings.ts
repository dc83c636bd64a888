import { performance } from 'node:perf_hooks';

/**
 * The extension measures its own activation, because the figure that matters to an agent is not
 * VS Code's "activation" (activate() returns at once) but how long until it can find and reach
 * the server: activate() entry → server listening → discovery file written. Monotonic clock
 * (performance.now of the extension host), sub-millisecond. Reported once in the log channel and
 * through the test API (bench/extension.mjs collects it). No vscode import.
 *
 * Imported first by extension.ts, so MODULE_EVALUATED_AT is taken as the bundle starts
 * evaluating: `moduleToActivateMs` is the rest of the bundle's evaluation plus VS Code's own
 * work before it calls activate() (not the file read and compile, which VS Code reports as
 * "Load Code").
 */
const MODULE_EVALUATED_AT = performance.now();

export type ActivationPhase = 'listening' | 'discoveryWritten';

export interface ActivationTimings {
  /** performance.now() at activate() entry. */
  readonly activateEntry: number;
  /** From the bundle's module evaluation starting to activate() entry. */
  readonly moduleToActivateMs: number;
  /** activate() entry → activate() returned (its synchronous part). */
  activateReturnedMs?: number;
  /** activate() entry → the server accepts connections (child mode: its ready line arrived). */
  listeningMs?: number;
  /** activate() entry → the discovery file is on disk (an agent can find the server). */
  discoveryWrittenMs?: number;
  mode?: 'inProcess' | 'child';
  outcome: 'pending' | 'running' | 'failed';
}

export class ActivationTimer {
  private readonly t: ActivationTimings;
  private done = false;

  constructor(
    private readonly report: (line: string) => void,
    entry = performance.now(),
  ) {
    this.t = { activateEntry: entry, moduleToActivateMs: entry - MODULE_EVALUATED_AT, outcome: 'pending' };
  }

  /** A copy: callers cannot alter what was measured. */
  get timings(): ActivationTimings {
    return { ...this.t };
  }

  activateReturned(): void {
    this.t.activateReturnedMs ??= this.since();
  }

  /** Only the first start after activate() counts; later restarts are not activation. */
  mark(phase: ActivationPhase, mode: 'inProcess' | 'child'): void {
    if (this.done) return;
    this.t.mode = mode;
    if (phase === 'listening') this.t.listeningMs = this.since();
    else this.t.discoveryWrittenMs = this.since();
  }

  finish(outcome: 'running' | 'failed'): void {
    if (this.done) return;
    this.done = true;
    this.t.outcome = outcome;
    const ms = (v: number | undefined) => (v === undefined ? '–' : `${v.toFixed(1)} ms`);
    this.report(
      outcome === 'running'
        ? `activation: server listening ${ms(this.t.listeningMs)}, discovery file written ${ms(this.t.discoveryWrittenMs)} after activate() ` +
            `(${this.t.mode}; activate() returned after ${ms(this.t.activateReturnedMs)}; bundle evaluation began ${ms(this.t.moduleToActivateMs)} before activate())`
        : `activation: the server failed to start (${ms(this.since())} after activate())`,
    );
  }

  private since(): number {
    return performance.now() - this.t.activateEntry;
  }
}
