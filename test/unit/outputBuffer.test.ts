/**
 * The per-process output ring (src/server/process/outputBuffer.ts): seq order, eviction under the byte
 * cap, `truncated`, read paging, release(), and the ring's wrap-around, checked against a plain
 * array model with generated push sequences (fast-check, seeded).
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { OutputBuffer, type RetainedChunk } from '../../src/server/process/outputBuffer';
import type { OutputStream } from '../../src/protocol/types';

const chunk = (seq: number, text: string, stream: OutputStream = 'stdout'): RetainedChunk => ({ seq, stream, data: Buffer.from(text) });
const view = (cs: RetainedChunk[]) => cs.map((c) => [c.seq, c.stream, c.data.toString()]);

function filled(cap: number, ...texts: string[]): OutputBuffer {
  const b = new OutputBuffer(cap);
  texts.forEach((t, i) => b.push(chunk(i + 1, t)));
  return b;
}

describe('OutputBuffer: an empty buffer', () => {
  it('reads nothing, has nothing after any seq and is not truncated', () => {
    const b = new OutputBuffer(100);
    assert.deepEqual(b.read(0, 1000), { chunks: [], truncated: false });
    assert.equal(b.hasAfter(0), false);
    assert.deepEqual(b.all(), []);
    assert.equal(b.retainedBytes, 0);
  });
});

describe('OutputBuffer: reading', () => {
  it('returns the chunks after afterSeq in seq order, with their streams', () => {
    const b = new OutputBuffer(100);
    b.push(chunk(1, 'a', 'stdout'));
    b.push(chunk(2, 'bb', 'stderr'));
    b.push(chunk(3, 'ccc', 'pty'));
    assert.deepEqual(view(b.read(0, 100).chunks), [[1, 'stdout', 'a'], [2, 'stderr', 'bb'], [3, 'pty', 'ccc']]);
    assert.deepEqual(view(b.read(1, 100).chunks), [[2, 'stderr', 'bb'], [3, 'pty', 'ccc']]);
    assert.deepEqual(b.read(3, 100).chunks, []);
    assert.deepEqual(b.read(99, 100).chunks, []);
    assert.equal(b.retainedBytes, 6);
  });

  it('finds the next chunk when afterSeq falls in a gap between seqs', () => {
    const b = new OutputBuffer(100);
    for (const s of [2, 5, 9]) b.push(chunk(s, `s${s}`));
    assert.deepEqual(view(b.read(3, 100).chunks).map((c) => c[0]), [5, 9]);
    assert.deepEqual(view(b.read(5, 100).chunks).map((c) => c[0]), [9]);
    assert.equal(b.hasAfter(8), true);
    assert.equal(b.hasAfter(9), false);
    assert.equal(b.read(-1, 100).chunks.length, 3);
  });

  it('stops before maxBytes would be passed, but always returns at least one chunk', () => {
    const b = filled(100, 'aaaa', 'bbbb', 'cccc');
    assert.deepEqual(view(b.read(0, 8).chunks).map((c) => c[2]), ['aaaa', 'bbbb']);
    assert.deepEqual(view(b.read(0, 7).chunks).map((c) => c[2]), ['aaaa']);
    assert.deepEqual(view(b.read(0, 1).chunks).map((c) => c[2]), ['aaaa'], 'a chunk larger than maxBytes still comes alone');
    assert.deepEqual(view(b.read(0, 0).chunks).map((c) => c[2]), ['aaaa']);
    // Paging by the last seq read walks the whole history once.
    const pages: string[][] = [];
    for (let after = 0, i = 0; i < 10 && b.hasAfter(after); i++) {
      const page = b.read(after, 5).chunks;
      pages.push(page.map((c) => c.data.toString()));
      after = page[page.length - 1].seq;
    }
    assert.deepEqual(pages, [['aaaa'], ['bbbb'], ['cccc']]);
  });

  it('hands out copies: neither the pushed buffer nor a read result aliases the ring', () => {
    const b = new OutputBuffer(100);
    const src = Buffer.from('hello');
    b.push({ seq: 1, stream: 'stdout', data: src });
    src.fill(0x58); // 'X'
    const first = b.read(0, 100).chunks[0].data;
    assert.equal(first.toString(), 'hello');
    first.fill(0x59);
    assert.equal(b.all()[0].data.toString(), 'hello');
  });

  it('keeps an empty chunk as a seq of its own', () => {
    const b = new OutputBuffer(10);
    b.push(chunk(1, ''));
    b.push(chunk(2, 'x'));
    assert.deepEqual(view(b.read(0, 10).chunks), [[1, 'stdout', ''], [2, 'stdout', 'x']]);
    assert.equal(b.retainedBytes, 1);
  });
});

describe('OutputBuffer: eviction', () => {
  it('drops the oldest chunks past the cap; a read from before them is truncated', () => {
    const b = filled(10, 'aaaa', 'bbbb', 'cccc');
    assert.equal(b.retainedBytes, 8);
    assert.deepEqual(view(b.all()).map((c) => c[2]), ['bbbb', 'cccc']);
    assert.deepEqual(b.read(0, 100).truncated, true);
    assert.deepEqual(view(b.read(0, 100).chunks).map((c) => c[0]), [2, 3], 'the rest still comes, after the gap');
    assert.equal(b.read(1, 100).truncated, false, 'a reader that had seq 1 lost nothing');
    assert.equal(b.hasAfter(0), true);
  });

  it('fills exactly to the cap without evicting', () => {
    const b = filled(8, 'aaaa', 'bbbb');
    assert.equal(b.retainedBytes, 8);
    assert.equal(b.read(0, 100).truncated, false);
    assert.equal(b.all().length, 2);
  });

  it('keeps a chunk larger than the cap on its own, evicting everything before it', () => {
    const b = filled(4, 'ab', 'cd', '0123456789');
    assert.deepEqual(view(b.all()), [[3, 'stdout', '0123456789']]);
    assert.equal(b.retainedBytes, 10);
    assert.equal(b.read(2, 100).truncated, false);
    assert.equal(b.read(1, 100).truncated, true);
    // The next small chunk evicts the oversized one.
    b.push(chunk(4, 'z'));
    assert.deepEqual(view(b.all()), [[4, 'stdout', 'z']]);
    assert.equal(b.read(3, 100).truncated, false);
    assert.equal(b.read(2, 100).truncated, true);
  });

  it('stays correct over many more evictions than chunks retained (slot compaction)', () => {
    const b = new OutputBuffer(30);
    for (let seq = 1; seq <= 5000; seq++) b.push(chunk(seq, String(seq % 10).repeat(3)));
    assert.deepEqual(view(b.all()).map((c) => c[0]), [4991, 4992, 4993, 4994, 4995, 4996, 4997, 4998, 4999, 5000]);
    assert.deepEqual(view(b.all()).map((c) => c[2]), ['111', '222', '333', '444', '555', '666', '777', '888', '999', '000']);
    assert.deepEqual(view(b.read(4998, 100).chunks).map((c) => c[0]), [4999, 5000]);
    assert.equal(b.read(4990, 100).truncated, false);
    assert.equal(b.read(4989, 100).truncated, true);
  });
});

describe('OutputBuffer: release()', () => {
  it('drops everything (readers see truncated) and later pushes start a fresh window', () => {
    const b = filled(100, 'aa', 'bb');
    b.release();
    assert.equal(b.retainedBytes, 0);
    assert.deepEqual(b.read(0, 100), { chunks: [], truncated: true });
    assert.equal(b.read(2, 100).truncated, false, 'a reader that had everything lost nothing');
    assert.equal(b.hasAfter(0), false);
    b.push(chunk(3, 'cc'));
    assert.deepEqual(view(b.read(0, 100).chunks), [[3, 'stdout', 'cc']]);
    assert.equal(b.read(0, 100).truncated, true);
    assert.equal(b.read(2, 100).truncated, false);
  });

  it('on an empty buffer changes nothing', () => {
    const b = new OutputBuffer(10);
    b.release();
    assert.deepEqual(b.read(0, 10), { chunks: [], truncated: false });
  });
});

/** The same contract as a plain array: what the ring must be equivalent to. */
class ModelBuffer {
  chunks: RetainedChunk[] = [];
  evictedThrough = 0;
  constructor(private readonly cap: number) {}
  get bytes() {
    return this.chunks.reduce((n, c) => n + c.data.length, 0);
  }
  push(c: RetainedChunk) {
    while (this.chunks.length > 0 && this.bytes + c.data.length > this.cap) this.evictedThrough = this.chunks.shift()!.seq;
    this.chunks.push({ ...c, data: Buffer.from(c.data) });
  }
  read(afterSeq: number, maxBytes: number) {
    const out: RetainedChunk[] = [];
    let total = 0;
    for (const c of this.chunks.filter((x) => x.seq > afterSeq)) {
      if (out.length > 0 && total + c.data.length > maxBytes) break;
      out.push(c);
      total += c.data.length;
    }
    return { chunks: out, truncated: afterSeq < this.evictedThrough };
  }
}

describe('OutputBuffer: equivalent to an array model (generated pushes, wrap-around)', () => {
  it('all(), read() and retainedBytes agree with the model after every step', () => {
    const op = fc.oneof(
      { weight: 8, arbitrary: fc.record({ kind: fc.constant('push' as const), len: fc.nat({ max: 40 }), stream: fc.constantFrom<OutputStream>('stdout', 'stderr', 'pty') }) },
      { weight: 1, arbitrary: fc.constant({ kind: 'release' as const }) },
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 64 }), fc.array(op, { maxLength: 120 }), fc.nat({ max: 200 }), (cap, ops, maxBytes) => {
        const ring = new OutputBuffer(cap);
        const model = new ModelBuffer(cap);
        let seq = 0;
        for (const o of ops) {
          if (o.kind === 'release') {
            ring.release();
            if (model.chunks.length) model.evictedThrough = model.chunks[model.chunks.length - 1].seq;
            model.chunks = [];
          } else {
            seq++;
            // Distinct bytes per chunk, so a misplaced byte after a wrap shows.
            const data = Buffer.alloc(o.len);
            for (let i = 0; i < data.length; i++) data[i] = (seq * 31 + i) % 256;
            ring.push({ seq, stream: o.stream, data });
            model.push({ seq, stream: o.stream, data });
          }
          assert.equal(ring.retainedBytes, model.bytes);
          assert.deepEqual(ring.all(), model.chunks);
        }
        for (let after = -1; after <= seq; after++) {
          assert.deepEqual(ring.read(after, maxBytes), model.read(after, maxBytes), `read(${after}, ${maxBytes})`);
          assert.equal(ring.hasAfter(after), model.chunks.some((c) => c.seq > after));
        }
      }),
      { seed: 11, numRuns: 300 },
    );
  });
});
