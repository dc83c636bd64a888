import type { OutputStream } from '../protocol/types';

export interface RetainedChunk {
  seq: number;
  stream: OutputStream;
  data: Buffer;
}

export interface ReadSlice {
  chunks: RetainedChunk[];
  /** Output after `afterSeq` was evicted before it could be read. */
  truncated: boolean;
}

/**
 * Bounded per-process output history, ordered by seq. When the byte cap is passed the
 * oldest chunks are evicted (the newest chunk is always kept); readers see the eviction
 * as `truncated` and as a gap in seq numbers.
 */
export class OutputBuffer {
  private chunks: RetainedChunk[] = [];
  private head = 0;
  private bytes = 0;
  /** Highest seq ever evicted; 0 when nothing was. */
  private evictedThrough = 0;

  constructor(private readonly capBytes: number) {}

  get retainedBytes(): number {
    return this.bytes;
  }

  push(chunk: RetainedChunk): void {
    this.chunks.push(chunk);
    this.bytes += chunk.data.length;
    while (this.bytes > this.capBytes && this.chunks.length - this.head > 1) {
      const old = this.chunks[this.head++];
      this.bytes -= old.data.length;
      this.evictedThrough = old.seq;
    }
    // Compact the array now and then instead of shifting on every eviction.
    if (this.head > 1024 && this.head * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
  }

  /** Chunks with seq > afterSeq, at most maxBytes in total but always at least one. */
  read(afterSeq: number, maxBytes: number): ReadSlice {
    const first = this.indexAfter(afterSeq);
    const out: RetainedChunk[] = [];
    let total = 0;
    for (let i = first; i < this.chunks.length; i++) {
      const c = this.chunks[i];
      if (out.length > 0 && total + c.data.length > maxBytes) break;
      out.push(c);
      total += c.data.length;
    }
    return { chunks: out, truncated: afterSeq < this.evictedThrough };
  }

  hasAfter(afterSeq: number): boolean {
    return this.indexAfter(afterSeq) < this.chunks.length;
  }

  /** Every retained chunk, oldest first (for observers replaying history). */
  all(): RetainedChunk[] {
    return this.chunks.slice(this.head);
  }

  private indexAfter(afterSeq: number): number {
    let lo = this.head;
    let hi = this.chunks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.chunks[mid].seq <= afterSeq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
