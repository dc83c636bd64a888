import type { OutputStream } from '../../protocol/types';

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

/** Where a retained chunk's bytes sit in the ring. */
interface Slot {
  seq: number;
  stream: OutputStream;
  start: number;
  length: number;
}

/**
 * Bounded per-process output history, ordered by seq. When the byte cap is passed the
 * oldest chunks are evicted (the newest chunk is always kept); readers see the eviction
 * as `truncated` and as a gap in seq numbers.
 *
 * The bytes are copied into one ring buffer per process (grown on demand up to the cap)
 * instead of keeping the chunks' own Buffers: a retained read buffer outlives a few young
 * GCs, gets promoted, and would then be freed only by a full GC, so streaming processes
 * used to pile up to ~64 MB of dead buffers before V8's external-memory trigger fired.
 * Readers get copies (reads are rare; output streams far more often than it is read).
 */
export class OutputBuffer {
  private ring: Buffer = Buffer.alloc(0);
  /** Next write position in the ring. */
  private tail = 0;
  /** Slots before `head` are evicted (nulled); live bytes are contiguous in the ring, modulo its size. */
  private slots: (Slot | null)[] = [];
  private head = 0;
  private bytes = 0;
  /** Highest seq ever evicted; 0 when nothing was. */
  private evictedThrough = 0;

  constructor(private readonly capBytes: number) {}

  get retainedBytes(): number {
    return this.bytes;
  }

  push(chunk: RetainedChunk): void {
    const len = chunk.data.length;
    while (this.head < this.slots.length && this.bytes + len > this.capBytes) {
      const old = this.slots[this.head]!;
      this.slots[this.head++] = null;
      this.bytes -= old.length;
      this.evictedThrough = old.seq;
    }
    if (this.head === this.slots.length) this.tail = 0;
    if (this.bytes + len > this.ring.length) this.grow(this.bytes + len);
    const size = this.ring.length;
    const first = Math.min(len, size - this.tail);
    chunk.data.copy(this.ring, this.tail, 0, first);
    if (first < len) chunk.data.copy(this.ring, 0, first, len);
    this.slots.push({ seq: chunk.seq, stream: chunk.stream, start: this.tail, length: len });
    this.tail = size === 0 ? 0 : (this.tail + len) % size;
    this.bytes += len;
    // Compact the slot array now and then instead of shifting on every eviction.
    if (this.head > 1024 && this.head * 2 > this.slots.length) {
      this.slots = this.slots.slice(this.head);
      this.head = 0;
    }
  }

  /** Drop everything retained (readers see `truncated`); later pushes start a fresh window. */
  release(): void {
    for (let i = this.head; i < this.slots.length; i++) this.evictedThrough = this.slots[i]!.seq;
    this.slots = [];
    this.head = 0;
    this.bytes = 0;
    this.tail = 0;
    this.ring = Buffer.alloc(0);
  }

  /** Chunks with seq > afterSeq, at most maxBytes in total but always at least one. */
  read(afterSeq: number, maxBytes: number): ReadSlice {
    const out: RetainedChunk[] = [];
    let total = 0;
    for (let i = this.indexAfter(afterSeq); i < this.slots.length; i++) {
      const slot = this.slots[i]!;
      if (out.length > 0 && total + slot.length > maxBytes) break;
      out.push(this.chunkAt(slot));
      total += slot.length;
    }
    return { chunks: out, truncated: afterSeq < this.evictedThrough };
  }

  hasAfter(afterSeq: number): boolean {
    return this.indexAfter(afterSeq) < this.slots.length;
  }

  /** Every retained chunk, oldest first (for observers replaying history). */
  all(): RetainedChunk[] {
    const out: RetainedChunk[] = [];
    for (let i = this.head; i < this.slots.length; i++) out.push(this.chunkAt(this.slots[i]!));
    return out;
  }

  private chunkAt(slot: Slot): RetainedChunk {
    const data = Buffer.allocUnsafe(slot.length);
    const first = Math.min(slot.length, this.ring.length - slot.start);
    this.ring.copy(data, 0, slot.start, slot.start + first);
    if (first < slot.length) this.ring.copy(data, first, 0, slot.length - first);
    return { seq: slot.seq, stream: slot.stream, data };
  }

  /** A larger ring (doubling, up to the cap unless one chunk alone is larger), live bytes moved to its start. */
  private grow(needed: number): void {
    const size = Math.max(needed, Math.min(this.capBytes, Math.max(4096, 2 * this.ring.length)));
    const next = Buffer.allocUnsafe(size);
    let at = 0;
    for (let i = this.head; i < this.slots.length; i++) {
      const slot = this.slots[i]!;
      const first = Math.min(slot.length, this.ring.length - slot.start);
      this.ring.copy(next, at, slot.start, slot.start + first);
      if (first < slot.length) this.ring.copy(next, at + first, 0, slot.length - first);
      slot.start = at;
      at += slot.length;
    }
    this.ring = next;
    this.tail = at;
  }

  private indexAfter(afterSeq: number): number {
    let lo = this.head;
    let hi = this.slots.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.slots[mid]!.seq <= afterSeq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
