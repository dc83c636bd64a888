/**
 * Runs corpus cases against one connection (WebSocket or stdio) and checks each answer.
 * After every case it sends a sentinel request (`process/list` with a reserved id); the case
 * is complete once the sentinel's answer and the expected answer have arrived. Any other
 * message in between is a failure. Waits are bounded (liveness), never timing assertions.
 */
import type { Case, Expect } from './corpus';

export type Json = any;

export interface Conn {
  sendCase(c: Case): void;
  sendText(text: string): void;
  /** Every JSON message received, in order (the driver consumes it from `cursor`). */
  readonly inbox: Json[];
  readonly isOpen: boolean;
  /** Resolves when something arrives or the connection closes. */
  wake(): Promise<void>;
}

export interface Tally {
  sent: number;
  answered: number;
  byCode: Record<string, number>;
  closes: Record<string, number>;
}

export const newTally = (): Tally => ({ sent: 0, answered: 0, byCode: {}, closes: {} });

const isResponse = (m: Json) => m && typeof m === 'object' && ('result' in m || 'error' in m);

export class CaseRunner {
  private cursor = 0;
  private seq = 0;
  constructor(
    private readonly conn: Conn,
    private readonly tally: Tally,
  ) {
    this.cursor = conn.inbox.length;
  }

  /** Skips what arrived so far (answers to requests the test made itself). */
  skipToEnd(): void {
    this.cursor = this.conn.inbox.length;
  }

  /** Runs one non-closing case; throws with the case label and what arrived on a mismatch. */
  async run(c: Case): Promise<void> {
    const sentinel = `~sentinel-${++this.seq}`;
    this.conn.sendCase(c);
    this.conn.sendText(JSON.stringify({ id: sentinel, method: 'process/list' }));
    this.tally.sent++;
    const want = c.expect.kind === 'error' ? 1 : 0;
    const got: Json[] = [];
    let sentinelSeen = false;
    const deadline = Date.now() + 30_000;
    while (!sentinelSeen || got.length < want) {
      while (this.cursor < this.conn.inbox.length) {
        const m = this.conn.inbox[this.cursor++];
        if (!isResponse(m)) continue; // notifications (none expected here) are not answers
        if (m.id === sentinel) sentinelSeen = true;
        else got.push(m);
      }
      if (sentinelSeen && got.length >= want) break;
      if (!this.conn.isOpen) throw new Error(`connection closed during case ${c.label}`);
      if (Date.now() > deadline) throw new Error(`no answer to case ${c.label}: got ${JSON.stringify(got).slice(0, 300)}`);
      await this.conn.wake();
    }
    check(c, c.expect, got);
    if (got[0]?.error) {
      const k = String(got[0].error.code);
      this.tally.byCode[k] = (this.tally.byCode[k] ?? 0) + 1;
      this.tally.answered++;
    }
  }
}

function check(c: Case, e: Expect, got: Json[]): void {
  const show = () => `case ${c.label} (${frameHead(c)}): got ${JSON.stringify(got).slice(0, 400)}`;
  if (e.kind === 'none') {
    if (got.length !== 0) throw new Error(`expected no answer; ${show()}`);
    return;
  }
  if (e.kind !== 'error') throw new Error(`not a keep-open case: ${c.label}`);
  if (got.length !== 1) throw new Error(`expected exactly one answer; ${show()}`);
  const m = got[0];
  if (!m.error || m.error.code !== e.code || typeof m.error.message !== 'string' || 'result' in m) {
    throw new Error(`expected error ${e.code}; ${show()}`);
  }
  if (!Object.is(m.id, e.id) && !(typeof e.id === 'number' && m.id === e.id)) throw new Error(`expected id ${JSON.stringify(e.id)}; ${show()}`);
  if ('jsonrpc' in m) throw new Error(`answer carries "jsonrpc"; ${show()}`);
}

export function frameHead(c: Case): string {
  return typeof c.frame === 'string' ? c.frame.slice(0, 80) : `<${c.frame.length} bytes>`;
}

/** Bounded wait for the first of: a new message, or `ms`. */
export function waker(): { wake(): Promise<void>; poke(): void } {
  let waiters: Array<() => void> = [];
  return {
    wake: () =>
      new Promise<void>((resolve) => {
        const t = setTimeout(done, 200);
        function done() {
          clearTimeout(t);
          resolve();
        }
        waiters.push(done);
      }),
    poke: () => {
      const w = waiters;
      waiters = [];
      for (const f of w) f();
    },
  };
}
