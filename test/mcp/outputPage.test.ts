/**
 * Output paging and truncation (pure): cursors are byte offsets on character boundaries,
 * every cut is announced, paging gives back every byte, PTY output loses its ANSI sequences,
 * eviction is counted.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { OutputLog } from '../../src/mcp/outputLog';
import { headAndTail, pageFrom, tailOf } from '../../src/mcp/outputPage';

const CONT = /\n\[… \d+ more bytes; get_output with cursor=\d+ continues …\]\n$/;

function logOf(text: string | Buffer, chunk = 997, cap?: number): OutputLog {
  const buf = Buffer.isBuffer(text) ? text : Buffer.from(text);
  const log = new OutputLog(cap);
  for (let i = 0; i < buf.length; i += chunk) log.append(buf.subarray(i, i + chunk));
  return log;
}

function pageAll(log: OutputLog, maxChars: number, tty = false): string {
  let out = '';
  let cursor = 0;
  for (let i = 0; i < 100_000; i++) {
    const p = pageFrom(log, cursor, maxChars, tty);
    assert.ok(p.output.length <= maxChars, `page of ${p.output.length} > ${maxChars}`);
    out += p.truncated ? p.output.replace(CONT, '') : p.output;
    assert.ok(p.nextCursor > cursor || !p.truncated, 'paging makes progress');
    cursor = p.nextCursor;
    if (!p.truncated) return out;
  }
  throw new Error('no end');
}

test('short output comes back whole, cursor at its end', () => {
  const log = logOf('hello\nworld\n');
  const p = headAndTail(log, 0, 1000, false);
  assert.deepEqual(p, { output: 'hello\nworld\n', truncated: false, nextCursor: 12, evictedBytes: 0 });
  assert.equal(headAndTail(log, 6, 1000, false).output, 'world\n');
});

test('paging returns every byte: short lines, multibyte text, lines far longer than a page', () => {
  const lines = Array.from({ length: 3000 }, (_, i) => `${i} ${'é€𝄞'.repeat(i % 7)} x`).join('\n') + '\n';
  assert.equal(pageAll(logOf(lines), 1000), lines);
  const long = 'ab€'.repeat(40_000) + '\nend\n' + '𝄞'.repeat(5000);
  assert.equal(pageAll(logOf(long, 4096), 1000), long);
  assert.equal(pageAll(logOf(long, 1), 5000), long);
});

test('head and tail: within the limit, the marker tells how much was cut and where it starts', () => {
  const text = Array.from({ length: 5000 }, (_, i) => `row ${i}`).join('\n') + '\n';
  const log = logOf(text);
  const p = headAndTail(log, 0, 2000, false);
  assert.equal(p.truncated, true);
  assert.ok(p.output.length <= 2000);
  assert.ok(p.output.startsWith('row 0\nrow 1\n'));
  assert.ok(p.output.endsWith('row 4999\n'));
  assert.equal(p.nextCursor, Buffer.byteLength(text));
  const m = /\[… (\d+) bytes \((\d+) lines\) left out here; get_output with cursor=(\d+) pages through them …\]\n/.exec(p.output)!;
  assert.ok(m);
  const head = p.output.slice(0, m.index);
  const tail = p.output.slice(m.index + m[0].length);
  assert.equal(Number(m[3]), Buffer.byteLength(head));
  assert.equal(Number(m[1]), Buffer.byteLength(text) - Buffer.byteLength(head) - Buffer.byteLength(tail));
  assert.equal(head + text.slice(head.length, text.length - tail.length) + tail, text);
  assert.equal(Number(m[2]), text.slice(head.length, text.length - tail.length).split('\n').length - 1);
});

test('tty output: ANSI sequences and carriage returns are removed, cursors still count raw bytes', () => {
  const raw = '\x1b[1;32mok\x1b[0m\r\nprogress 10%\rprogress 100%\r\n\x1b]0;title\x07done\r\n';
  const log = logOf(raw, 5);
  const p = headAndTail(log, 0, 1000, true);
  assert.equal(p.output, 'ok\nprogress 10%\nprogress 100%\ndone\n');
  assert.equal(p.nextCursor, Buffer.byteLength(raw));
  const many = ('\x1b[31m' + 'x'.repeat(50) + '\x1b[0m\r\n').repeat(2000);
  assert.equal(pageAll(logOf(many), 1000, true), ('x'.repeat(50) + '\n').repeat(2000));
});

test('evicted output is counted, from an old cursor and from 0', () => {
  const log = logOf('a'.repeat(10_000) + 'b'.repeat(10_000), 1000, 4096);
  assert.ok(log.start >= 20_000 - 4096 && log.start < 20_000 - 4096 + 1000, String(log.start));
  const p = headAndTail(log, 0, 100_000, false);
  assert.equal(p.evictedBytes, log.start);
  assert.equal(p.output, 'b'.repeat(20_000 - log.start));
  const q = pageFrom(log, 5_000, 100_000, false);
  assert.equal(q.evictedBytes, log.start - 5_000);
  const t = tailOf(log, 1000, false, 0);
  assert.equal(t.evictedBytes, log.start);
  assert.ok(t.output.endsWith('b'.repeat(500)));
  assert.ok(t.output.length <= 1000);
});

test('a cursor past the end reads nothing and stays at the end', () => {
  const log = logOf('abc');
  assert.deepEqual(pageFrom(log, 99, 1000, false), { output: '', truncated: false, nextCursor: 3, evictedBytes: 0 });
});
