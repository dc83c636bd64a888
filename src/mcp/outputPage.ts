import { stripAnsi } from '../text/ansi';
import type { OutputLog } from './outputLog';

/**
 * What an agent gets to read of a process's output: at most `maxChars` characters of text
 * (UTF-8 decoded; a PTY's output with its ANSI sequences removed, as a person would read it).
 * Output is cut only between lines (a very long line between 256-byte pieces), so every cursor
 * handed out sits on a character boundary, and every cut is announced in the text itself by a
 * marker saying how much was left out and which `cursor` reads it.
 */
export interface Page {
  output: string;
  /** Something was left out (the marker says what and how to read it). */
  truncated: boolean;
  /** Where reading continues: the end of what this page covers. */
  nextCursor: number;
  /** Bytes asked for that had already been evicted from the retained window. */
  evictedBytes: number;
}

/** Room kept for the marker so a page never exceeds the caller's limit. */
const MARKER_ROOM = 200;
/** Longest piece a long line is cut into (≤ 256 characters once decoded). */
const PIECE = 256;
const NL = 0x0a;

export function decodeOutput(buf: Buffer, tty: boolean): string {
  const text = buf.toString('utf8');
  return tty ? stripAnsi(text) : text;
}

/**
 * Everything from `from` to the end; when too long, its head and its tail with the middle
 * left out (errors and summaries tend to be at the end, so the tail gets the larger share).
 * The cursor after it is the end: the agent has seen the latest output.
 */
export function headAndTail(log: OutputLog, from: number, maxChars: number, tty: boolean): Page {
  const s = log.slice(from);
  const base = s.from;
  const whole = decodeOutput(s.data, tty);
  if (whole.length <= maxChars) return { output: whole, truncated: false, nextCursor: s.to, evictedBytes: s.evicted };
  const budget = Math.max(0, maxChars - MARKER_ROOM);
  const headBudget = Math.floor(budget * 0.4);
  const tailBudget = budget - headBudget;
  const buf = s.data;
  let head = '';
  let headEnd = 0;
  for (const [a, b] of forwardPieces(buf, 0)) {
    const t = decodeOutput(buf.subarray(a, b), tty);
    if (head.length + t.length > headBudget) break;
    head += t;
    headEnd = b;
  }
  const tailParts: string[] = [];
  let tailLen = 0;
  let tailStart = buf.length;
  for (const [a, b] of backwardPieces(buf, buf.length)) {
    if (a < headEnd) break;
    const t = decodeOutput(buf.subarray(a, b), tty);
    if (tailLen + t.length > tailBudget) break;
    tailParts.push(t);
    tailLen += t.length;
    tailStart = a;
  }
  const omitted = tailStart - headEnd;
  const lines = countLines(buf, headEnd, tailStart);
  const marker =
    `${head.endsWith('\n') || head === '' ? '' : '\n'}[… ${omitted} bytes (${lines} line${lines === 1 ? '' : 's'}) left out here; ` +
    `get_output with cursor=${base + headEnd} pages through them …]\n`;
  return { output: head + marker + tailParts.reverse().join(''), truncated: true, nextCursor: s.to, evictedBytes: s.evicted };
}

/** A contiguous page from `from`: when there is more, it ends with a marker giving the next cursor. */
export function pageFrom(log: OutputLog, from: number, maxChars: number, tty: boolean): Page {
  // A window large enough for maxChars characters (3 bytes at most per UTF-16 unit), plus
  // slack for the escape sequences a PTY's output loses when stripped.
  const s = log.slice(from, from + maxChars * 3 + 64 * 1024);
  const base = s.from;
  const buf = s.data;
  const atEnd = s.to >= log.end;
  if (atEnd) {
    const whole = decodeOutput(buf, tty);
    if (whole.length <= maxChars) return { output: whole, truncated: false, nextCursor: s.to, evictedBytes: s.evicted };
  }
  const budget = Math.max(0, maxChars - MARKER_ROOM);
  let out = '';
  let pos = 0;
  for (const [a, b] of forwardPieces(buf, 0)) {
    // The window may end inside a line: leave its last, possibly cut, piece to the next page.
    if (!atEnd && b === buf.length && pos > 0) break;
    const t = decodeOutput(buf.subarray(a, b), tty);
    if (out.length + t.length > budget && pos > 0) break;
    out += t;
    pos = b;
  }
  const next = base + pos;
  const more = log.end - next;
  if (more > 0) out += `${out.endsWith('\n') || out === '' ? '' : '\n'}[… ${more} more bytes; get_output with cursor=${next} continues …]\n`;
  return { output: out, truncated: more > 0, nextCursor: next, evictedBytes: s.evicted };
}

/** The last `maxChars` characters of what is retained (what stop_process shows). */
export function tailOf(log: OutputLog, maxChars: number, tty: boolean, readPos: number): Page {
  const s = log.slice(log.start);
  const buf = s.data;
  const evictedBytes = Math.max(0, log.start - readPos);
  const whole = decodeOutput(buf, tty);
  if (whole.length <= maxChars) return { output: whole, truncated: false, nextCursor: s.to, evictedBytes };
  const budget = Math.max(0, maxChars - MARKER_ROOM);
  const parts: string[] = [];
  let len = 0;
  let start = buf.length;
  for (const [a, b] of backwardPieces(buf, buf.length)) {
    const t = decodeOutput(buf.subarray(a, b), tty);
    if (len + t.length > budget && parts.length > 0) break;
    parts.push(t);
    len += t.length;
    start = a;
  }
  const marker = `[… ${start} earlier bytes left out; get_output with cursor=${s.from} pages through them …]\n`;
  return { output: marker + parts.reverse().join(''), truncated: true, nextCursor: s.to, evictedBytes };
}

/** [start, end) byte ranges from `at`: whole lines, long lines cut into ≤ PIECE-byte parts on UTF-8 boundaries. */
function* forwardPieces(buf: Buffer, at: number): Generator<[number, number]> {
  let pos = at;
  while (pos < buf.length) {
    const nl = buf.indexOf(NL, pos);
    const lineEnd = nl === -1 ? buf.length : nl + 1;
    let end = lineEnd;
    if (end - pos > PIECE) end = alignBack(buf, pos + PIECE, pos);
    yield [pos, end];
    pos = end;
  }
}

/** The same pieces, from `end` backwards. */
function* backwardPieces(buf: Buffer, end: number): Generator<[number, number]> {
  let e = end;
  while (e > 0) {
    const prevNl = e >= 2 ? buf.lastIndexOf(NL, e - 2) : -1;
    let start = prevNl + 1;
    if (e - start > PIECE) start = alignForward(buf, e - PIECE, e);
    yield [start, e];
    e = start;
  }
}

/** Move a cut back off UTF-8 continuation bytes (never below `min + 1`, so a piece is never empty). */
function alignBack(buf: Buffer, i: number, min: number): number {
  let j = i;
  while (j > min + 1 && i - j < 4 && (buf[j] & 0xc0) === 0x80) j--;
  return (buf[j] & 0xc0) === 0x80 ? i : j;
}

function alignForward(buf: Buffer, i: number, max: number): number {
  let j = i;
  while (j < max - 1 && j - i < 4 && (buf[j] & 0xc0) === 0x80) j++;
  return (buf[j] & 0xc0) === 0x80 ? i : j;
}

function countLines(buf: Buffer, from: number, to: number): number {
  let n = 0;
  for (let i = buf.indexOf(NL, from); i !== -1 && i < to; i = buf.indexOf(NL, i + 1)) n++;
  return n + (to > from && buf[to - 1] !== NL ? 1 : 0);
}
