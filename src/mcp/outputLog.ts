/**
 * The bridge's copy of one process's output (stdout and stderr interleaved as they arrived,
 * or the PTY stream), addressed by byte offset from the process's first byte. Offsets are the
 * `cursor`s agents page with: they stay valid while output is evicted, and a read from an
 * evicted offset reports how many bytes were lost instead of failing.
 *
 * The server already pushes every chunk to the connection that started the process, so the
 * bridge keeps this mirror instead of asking `process/read` again at each call: reads are
 * local, long-polls need no server round trip, and the output of a process whose connection
 * was lost stays readable. Bounded: past `capBytes` the oldest chunks go (the newest is kept).
 */
export class OutputLog {
  private chunks: Buffer[] = [];
  private starts: number[] = [];
  private head = 0;
  private retained = 0;
  private total = 0;

  constructor(private readonly capBytes = 1024 * 1024) {}

  /** Offset one past the last byte received. */
  get end(): number {
    return this.total;
  }

  /** Offset of the oldest byte still held (everything before it was evicted). */
  get start(): number {
    return this.total - this.retained;
  }

  get retainedBytes(): number {
    return this.retained;
  }

  append(data: Buffer): void {
    if (data.length === 0) return;
    this.chunks.push(data);
    this.starts.push(this.total);
    this.total += data.length;
    this.retained += data.length;
    while (this.retained > this.capBytes && this.chunks.length - this.head > 1) {
      this.retained -= this.chunks[this.head].length;
      this.chunks[this.head] = EMPTY;
      this.head++;
    }
    // Compact now and then rather than shifting arrays at every eviction.
    if (this.head > 1024 && this.head * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.starts = this.starts.slice(this.head);
      this.head = 0;
    }
  }

  /**
   * Bytes in [from, to), clamped to what is held. `evicted` = how many bytes of the request
   * were lost before they could be read (0 when `from` is still held).
   */
  slice(from: number, to = this.total): { data: Buffer; from: number; to: number; evicted: number } {
    const lo = Math.max(0, Math.min(from, this.total));
    const hi = Math.max(lo, Math.min(to, this.total));
    const first = Math.max(lo, this.start);
    const evicted = first - lo;
    if (first >= hi) return { data: EMPTY, from: first, to: Math.max(first, hi), evicted };
    const parts: Buffer[] = [];
    for (let i = this.indexOf(first); i < this.chunks.length; i++) {
      const cStart = this.starts[i];
      const c = this.chunks[i];
      if (cStart >= hi) break;
      parts.push(c.subarray(Math.max(0, first - cStart), Math.min(c.length, hi - cStart)));
    }
    return { data: parts.length === 1 ? parts[0] : Buffer.concat(parts), from: first, to: hi, evicted };
  }

  /** Index of the held chunk containing `offset` (binary search over chunk starts). */
  private indexOf(offset: number): number {
    let lo = this.head;
    let hi = this.chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}

const EMPTY = Buffer.alloc(0);
