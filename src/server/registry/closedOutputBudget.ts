import type { ManagedProcess } from '../process/managedProcess';

/**
 * Bounds the output kept by closed processes across the whole server. A closed process's
 * record stays readable for a while (so a client can still fetch its tail), but many short,
 * noisy commands would otherwise hold up to retainedOutputBytes each for that whole time:
 * past the budget, the processes that closed first give up their output first.
 */
export class ClosedOutputBudget {
  /** Closed processes still holding output, in the order they closed. */
  private readonly holders = new Set<ManagedProcess>();
  private bytes = 0;

  constructor(private readonly budgetBytes: number) {}

  get retainedBytes(): number {
    return this.bytes;
  }

  closed(p: ManagedProcess): void {
    if (this.holders.has(p) || p.output.retainedBytes === 0) return;
    this.holders.add(p);
    this.bytes += p.output.retainedBytes;
    for (const oldest of this.holders) {
      if (this.bytes <= this.budgetBytes) break;
      this.release(oldest);
    }
  }

  /** The record is gone: its output with it. */
  removed(p: ManagedProcess): void {
    if (this.holders.has(p)) this.release(p);
  }

  private release(p: ManagedProcess): void {
    this.holders.delete(p);
    this.bytes -= p.output.retainedBytes;
    p.output.release();
  }
}
