import { stripAnsi } from '../text/ansi';
import type { OutputLog } from './outputLog';

/**
 * What an agent gets to read of a process's output: at most `maxChars` characters of text
 * (UTF-8 decoded; a PTY's output with its ANSI sequences removed, as a person would read it).
 * Output is cut between lines where it can (a very long line on a UTF-8 boundary), so every
 * cursor handed out sits on a character boundary, and every cut is announced in the text itself by a
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
const NL = 0x0a;

function decodeOutput(buf: Buffer, tty: boolean): string {
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
  const buf = s.data;
  // Cheap exit: a UTF-8 byte never decodes to more than one UTF-16 unit.
  if (buf.length <= maxChars) return { output: decodeOutput(buf, tty), truncated: false, nextCursor: s.to, evictedBytes: s.evicted };
  const whole = buf.length <= maxChars * 4 ? decodeOutput(buf, tty) : undefined;
  if (whole !== undefined && whole.length <= maxChars) return { output: whole, truncated: false, nextCursor: s.to, evictedBytes: s.evicted };
  const budget = Math.max(0, maxChars - MARKER_ROOM);
  const headBudget = Math.floor(budget * 0.4);
  const head = fitForward(buf, 0, buf.length, headBudget, tty);
  const tail = fitBackward(buf, head.end, buf.length, budget - headBudget, tty);
  const omitted = tail.start - head.end;
  const lines = countLines(buf, head.end, tail.start);
  const marker =
    `${head.text.endsWith('\n') || head.text === '' ? '' : '\n'}[… ${omitted} bytes (${lines} line${lines === 1 ? '' : 's'}) left out here; ` +
    `get_output with cursor=${base + head.end} pages through them …]\n`;
  return { output: head.text + marker + tail.text, truncated: true, nextCursor: s.to, evictedBytes: s.evicted };
}

/** A contiguous page from `from`: when there is more, it ends with a marker giving the next cursor. */
export function pageFrom(log: OutputLog, from: number, maxChars: number, tty: boolean): Page {
  // A window large enough for maxChars characters (3 bytes at most per UTF-16 unit), plus
  // slack for the escape sequences a PTY's output loses when stripped.
  const s = log.slice(from, from + maxChars * 3 + 64 * 1024);
  const buf = s.data;
  const atEnd = s.to >= log.end;
  if (atEnd && buf.length <= maxChars) return { output: decodeOutput(buf, tty), truncated: false, nextCursor: s.to, evictedBytes: s.evicted };
  const budget = atEnd ? maxChars : Math.max(0, maxChars - MARKER_ROOM);
  const page = fitForward(buf, 0, buf.length, budget, tty, !atEnd);
  let out = page.text;
  const next = s.from + page.end;
  const more = log.end - next;
  if (more > 0 && budget === maxChars) {
    // It all looked like it would fit but did not: redo with room for the marker.
    return pageFromWithMarker(log, s, maxChars, tty);
  }
  // Always on a line of its own after a newline of ours, so the page is exactly what precedes "\n[…".
  if (more > 0) out += `\n[… ${more} more bytes; get_output with cursor=${next} continues …]\n`;
  return { output: out, truncated: more > 0, nextCursor: next, evictedBytes: s.evicted };
}

function pageFromWithMarker(log: OutputLog, s: ReturnType<OutputLog['slice']>, maxChars: number, tty: boolean): Page {
  const page = fitForward(s.data, 0, s.data.length, Math.max(0, maxChars - MARKER_ROOM), tty, s.to < log.end);
  const next = s.from + page.end;
  const more = log.end - next;
  const marker = more > 0 ? `\n[… ${more} more bytes; get_output with cursor=${next} continues …]\n` : '';
  return { output: page.text + marker, truncated: more > 0, nextCursor: next, evictedBytes: s.evicted };
}

/** The last `maxChars` characters of what is retained (what stop_process shows). */
export function tailOf(log: OutputLog, maxChars: number, tty: boolean, readPos: number): Page {
  const s = log.slice(log.start);
  const buf = s.data;
  const evictedBytes = Math.max(0, log.start - readPos);
  if (buf.length <= maxChars) return { output: decodeOutput(buf, tty), truncated: false, nextCursor: s.to, evictedBytes };
  const tail = fitBackward(buf, 0, buf.length, Math.max(0, maxChars - MARKER_ROOM), tty);
  if (tail.start === 0) return { output: tail.text, truncated: false, nextCursor: s.to, evictedBytes };
  const marker = `[… ${tail.start} earlier bytes left out; get_output with cursor=${s.from} pages through them …]\n`;
  return { output: marker + tail.text, truncated: true, nextCursor: s.to, evictedBytes };
}

/**
 * The longest run of bytes from `start` (before `limit`) whose text fits in `budget`
 * characters, cut after a newline when there is one in the second half of a step, else on a
 * UTF-8 boundary. Grows in steps of the remaining budget in bytes: a UTF-8 byte never yields
 * more than one UTF-16 unit, so a step can never overshoot, and each segment is decoded once.
 * `partialEnd`: bytes at `limit` may continue past it (a window), so never take the last line whole.
 */
function fitForward(buf: Buffer, start: number, limit: number, budget: number, tty: boolean, partialEnd = false): { end: number; text: string } {
  let end = start;
  let text = '';
  for (let step = 0; step < 16 && end < limit; step++) {
    const room = budget - text.length;
    if (room <= 0 || (step > 0 && room < 64)) break;
    let cut = Math.min(limit, end + room);
    if (cut < limit || partialEnd) cut = cutBefore(buf, end, cut);
    if (cut <= end) break;
    text += decodeOutput(buf.subarray(end, cut), tty);
    end = cut;
  }
  return { end, text };
}

/** The same from the end backwards: the shortest start ≥ `min` whose text up to `end` fits. */
function fitBackward(buf: Buffer, min: number, end: number, budget: number, tty: boolean): { start: number; text: string } {
  let start = end;
  let text = '';
  for (let step = 0; step < 16 && start > min; step++) {
    const room = budget - text.length;
    if (room <= 0 || (step > 0 && room < 64)) break;
    let cut = Math.max(min, start - room);
    if (cut > min) cut = cutAfter(buf, cut, start);
    if (cut >= start) break;
    text = decodeOutput(buf.subarray(cut, start), tty) + text;
    start = cut;
  }
  return { start, text };
}

/** A cut at or before `cut` (and after `from`): just after a newline in the second half, else on a UTF-8 boundary. */
function cutBefore(buf: Buffer, from: number, cut: number): number {
  const nl = buf.lastIndexOf(NL, cut - 1);
  if (nl >= from && nl + 1 > from + (cut - from) / 2) return nl + 1;
  let j = cut;
  for (let k = 0; k < 3 && j > from + 1 && (buf[j] & 0xc0) === 0x80; k++) j--;
  return j;
}

/** A cut at or after `cut` (and before `to`): just after a newline in the first half, else on a UTF-8 boundary. */
function cutAfter(buf: Buffer, cut: number, to: number): number {
  const nl = buf.indexOf(NL, cut);
  if (nl !== -1 && nl + 1 < to && nl + 1 < cut + (to - cut) / 2) return nl + 1;
  let j = cut;
  for (let k = 0; k < 3 && j < to - 1 && (buf[j] & 0xc0) === 0x80; k++) j++;
  return j;
}

function countLines(buf: Buffer, from: number, to: number): number {
  let n = 0;
  for (let i = buf.indexOf(NL, from); i !== -1 && i < to; i = buf.indexOf(NL, i + 1)) n++;
  return n + (to > from && buf[to - 1] !== NL ? 1 : 0);
}
