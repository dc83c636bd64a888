/**
 * Newline framing for stdio (src/transport/lineFraming.ts): lines split anywhere across chunks,
 * CRLF, blank lines, and the per-line byte limit.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { LineSplitter } from '../../src/transport/lineFraming';

function splitter(max = 1024) {
  const lines: string[] = [];
  let oversized = 0;
  const s = new LineSplitter(max, (l) => lines.push(l), () => oversized++);
  return { s, lines, oversized: () => oversized, push: (...parts: (string | Buffer)[]) => parts.forEach((p) => s.push(Buffer.isBuffer(p) ? p : Buffer.from(p))) };
}

describe('LineSplitter: lines', () => {
  it('emits every complete line of one chunk, in order, without the newline', () => {
    const t = splitter();
    t.push('{"a":1}\n{"b":2}\n');
    assert.deepEqual(t.lines, ['{"a":1}', '{"b":2}']);
  });

  it('holds a partial line until its newline arrives, however it is split', () => {
    const text = '{"id":1,"method":"m"}\n{"id":2}\nlast';
    for (let cut = 0; cut <= text.length; cut++) {
      const t = splitter();
      t.push(text.slice(0, cut), text.slice(cut));
      assert.deepEqual(t.lines, ['{"id":1,"method":"m"}', '{"id":2}'], `cut at ${cut}`);
    }
    const bytes = splitter();
    for (const ch of text + '\n') bytes.push(ch);
    assert.deepEqual(bytes.lines, ['{"id":1,"method":"m"}', '{"id":2}', 'last']);
  });

  it('decodes a multi-byte UTF-8 character split between chunks', () => {
    const line = Buffer.from('{"s":"é€😀"}\n');
    for (let cut = 1; cut < line.length; cut++) {
      const t = splitter();
      t.push(line.subarray(0, cut), line.subarray(cut));
      assert.deepEqual(t.lines, ['{"s":"é€😀"}'], `cut at byte ${cut}`);
    }
  });

  it('strips one CR before the LF (CRLF), keeps CRs elsewhere', () => {
    const t = splitter();
    t.push('a\r\n', 'b\r', '\n', 'c\r\r\n', 'd\re\n');
    assert.deepEqual(t.lines, ['a', 'b', 'c\r', 'd\re']);
  });

  it('skips empty and whitespace-only lines', () => {
    const t = splitter();
    t.push('\n\n  \n\t\r\n\r\nx\n \n');
    assert.deepEqual(t.lines, ['x']);
  });

  it('an empty chunk changes nothing', () => {
    const t = splitter();
    t.push('ab', '', 'c\n', '');
    assert.deepEqual(t.lines, ['abc']);
  });
});

describe('LineSplitter: the line limit', () => {
  it('keeps a line of exactly the limit; drops a longer one and reports it once', () => {
    const t = splitter(8);
    t.push('12345678\n');
    assert.deepEqual(t.lines, ['12345678']);
    assert.equal(t.oversized(), 0);
    t.push('123456789\n');
    assert.deepEqual(t.lines, ['12345678']);
    assert.equal(t.oversized(), 1);
  });

  it('counts a line across chunks, reports it once however many chunks follow, and recovers at the newline', () => {
    const t = splitter(8);
    t.push('12345', '6789', 'abcdefgh', 'ijkl', '\nok\n');
    assert.deepEqual(t.lines, ['ok']);
    assert.equal(t.oversized(), 1);
    t.push('x'.repeat(20), '\n', 'y'.repeat(9), '\nfine\n');
    assert.deepEqual(t.lines, ['ok', 'fine']);
    assert.equal(t.oversized(), 3, 'each oversized line is reported');
  });

  it('reports an oversized line before its newline has arrived', () => {
    const t = splitter(4);
    t.push('abcde');
    assert.equal(t.oversized(), 1);
    assert.deepEqual(t.lines, []);
  });

  it('counts the CR of a CRLF line toward the limit (the limit is on the bytes before the LF)', () => {
    const t = splitter(4);
    t.push('abcd\r\n');
    assert.deepEqual(t.lines, []);
    assert.equal(t.oversized(), 1);
  });
});
