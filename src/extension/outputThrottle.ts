import { performance } from 'node:perf_hooks';
import { StringDecoder } from 'node:string_decoder';
import { AnsiStripper } from '../text/ansi';

/**
 * What an output channel may cost, whatever the process prints: batching, a rate limit, a size
 * cap. No vscode import: the adapter (outputChannels.ts) hands it a sink (the channel's append and
 * replace), and tests hand it a fake clock.
 */

/**
 * Live output is written at most every FLUSH_MS, or every FLOOD_FLUSH_MS while it comes faster
 * than the channel may take it.
 */
export const FLUSH_MS = 100;
export const FLOOD_FLUSH_MS = 500;
/**
 * Between two flushes at most HEAD + TAIL characters of live output are kept: the start of a
 * burst and its newest part; the middle is replaced by a note. Memory per channel stays bounded
 * whatever the rate.
 */
const HEAD_CHARS = 16 * 1024;
const TAIL_CHARS = 48 * 1024;
/**
 * What reaches VS Code is bounded too: every append (and every replace(), which VS Code
 * implements as an append plus an offset) lands in an output file on disk, which the workbench
 * reads back and renders. A token bucket of RATE characters per second, bursts up to BURST:
 * a flood shows its newest output twice a second instead of megabytes per second nobody can
 * read. Measured (bench/extension.mjs, 100 MiB flood with the channel open): with 256 K bursts the
 * workbench's command round trip reached p99 150–400 ms, with 64 K about 100 ms.
 */
export const CHANNEL_RATE_CHARS_PER_S = 64 * 1024;
export const CHANNEL_BURST_CHARS = 64 * 1024;
/** Smallest write worth a flush while the bucket refills (so the end line always gets through). */
const MIN_WRITE_CHARS = 4 * 1024;
/**
 * Opening a channel replays the retained output (the server bounds it: retainedOutputBytes) in
 * one write, whole up to this size; beyond it, its start and its newest part.
 */
export const REPLAY_MAX_CHARS = 512 * 1024;
export const REPLAY_HEAD_CHARS = 16 * 1024;
/**
 * A channel holds at most this much text: beyond it, the channel is replaced by its newest
 * CHANNEL_KEEP_CHARS (after a note), so an open channel's size is bounded however long the
 * process runs.
 */
export const CHANNEL_MAX_CHARS = 1024 * 1024;
export const CHANNEL_KEEP_CHARS = 256 * 1024;

/** What a channel sent to VS Code (tests and the benchmark read it; nothing here is timed). */
export interface ChannelStats {
  /** Characters the channel holds now (== contents().length). */
  chars: number;
  appends: number;
  replaces: number;
  /** Characters sent to VS Code over the channel's life, replaces included. */
  charsSent: number;
  /** Characters of output never shown (too fast), over the channel's life. */
  charsSkipped: number;
  /** clock.now() of the first and the last write. */
  firstWriteAt: number | undefined;
  lastWriteAt: number | undefined;
}

/** Where the text goes: a VS Code output channel, or a test's recorder. */
export interface ThrottleSink {
  append(text: string): void;
  /** The whole content becomes `text`. */
  replace(text: string): void;
}

/** Time and timers, injectable so tests run the throttle on a fake clock. */
export interface ThrottleClock {
  /** Milliseconds, monotonic. */
  now(): number;
  setTimeout(run: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realClock: ThrottleClock = {
  now: () => performance.now(),
  setTimeout: (run, ms) => setTimeout(run, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout | undefined),
};

/**
 * Live output waits for the next flush as raw Buffers (and notes as strings), decoded only at the
 * flush: during a flood most of it is skipped, and decoding and stripping it first would cost the
 * extension host about 0.3–0.4 s of CPU per 100 MiB (measured) for text nobody sees.
 */
type Item = Buffer | string;

/**
 * One channel's text, in two phases. The replay (from construction to endReplay()): what the
 * server retained, bounded by REPLAY_MAX_CHARS, written at once. Then live output: queued (head
 * and tail of a burst, bounded), flushed at most every FLUSH_MS within the token bucket, the
 * channel replaced by its newest part when it would pass CHANNEL_MAX_CHARS. ANSI is stripped.
 */
export class OutputThrottle {
  private decoder = new StringDecoder('utf8');
  private stripper = new AnsiStripper();
  private head: Item[] = [];
  private headUnits = 0;
  private tail: Item[] = [];
  private tailUnits = 0;
  /** Bytes or characters dropped from the middle since the last flush. */
  private skippedChars = 0;
  /** Bytes were dropped after the head since the last decoding: the tail starts mid-stream. */
  private gap = false;
  private timer: unknown;
  private budget = CHANNEL_BURST_CHARS;
  private budgetAt: number;
  /** The last flush had to drop or defer output: flush less often until a flush keeps up. */
  private flooding = false;
  /** Until endReplay(): the text collected for the replay write (bounded, see replayAppend). */
  private replay: { head: string; tail: string; skipped: number } | undefined = { head: '', tail: '', skipped: 0 };
  private disposed = false;
  /** A mirror of what the channel holds (≤ CHANNEL_MAX_CHARS plus a note): the cap needs it. */
  content = '';
  readonly stats: ChannelStats = { chars: 0, appends: 0, replaces: 0, charsSent: 0, charsSkipped: 0, firstWriteAt: undefined, lastWriteAt: undefined };

  constructor(
    private readonly sink: ThrottleSink,
    private readonly clock: ThrottleClock = realClock,
    /** A write the sink refused (a channel VS Code already disposed): reported, not thrown. */
    private readonly onWriteError: (err: Error) => void = () => undefined,
  ) {
    this.budgetAt = clock.now();
  }

  /** Text of our own (a header, a note): in the replay while it lasts, else queued like output. */
  note(text: string): void {
    if (!text) return;
    if (this.replay) {
      this.replayAppend(this.replay, text);
      return;
    }
    this.push(text);
  }

  /** Process output. The replay is bounded by what the server retained: decoded at once. Live output: later. */
  output(data: Buffer): void {
    if (this.replay) this.replayAppend(this.replay, this.decode(data));
    else this.push(data);
  }

  /** The replay is written at once (what was retained is bounded); live output follows. */
  endReplay(): void {
    const r = this.replay;
    this.replay = undefined;
    if (!r) return;
    const note = r.skipped ? `\n[… ${r.skipped} characters skipped …]\n` : '';
    const text = r.head + note + r.tail;
    this.stats.charsSkipped += r.skipped;
    // Not charged to the bucket: it is a one-off per open, and live lines must not wait behind it.
    if (text) this.write(text, this.clock.now(), false);
  }

  /**
   * The output is over: whatever the decoder still holds, then `endLine` on a line of its own.
   * Both are queued like live output (the next flush writes them; MIN_WRITE_CHARS lets them
   * through a flood).
   */
  finish(endLine: string): void {
    this.materialize(); // the decoder's end must come after every byte it was given
    this.note(this.stripper.push(this.decoder.end()) + this.stripper.flush());
    const last = this.tail.length ? this.tail[this.tail.length - 1] : this.head.length ? this.head[this.head.length - 1] : this.content;
    const lastChar = String(last).slice(-1);
    this.note(`${lastChar === '\n' || lastChar === '' ? '' : '\n'}${endLine}`);
  }

  /** What a dispose drops: the queued output is not written (the channel goes away with it). */
  dispose(): void {
    this.disposed = true;
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private decode(data: Buffer): string {
    return this.stripper.push(this.decoder.write(data));
  }

  /** Decode what waits for the flush, in order; the tail after a gap with a fresh decoder. */
  private materialize(): void {
    const text = (items: Item[]) => items.map((x) => (typeof x === 'string' ? x : this.decode(x))).join('');
    const head = text(this.head);
    if (this.gap) {
      // Whatever the old decoder held belonged to the bytes that were skipped.
      this.decoder = new StringDecoder('utf8');
      this.stripper = new AnsiStripper();
      this.gap = false;
    }
    const tail = text(this.tail);
    this.head = head ? [head] : [];
    this.headUnits = head.length;
    this.tail = tail ? [tail] : [];
    this.tailUnits = tail.length;
  }

  /** Queue live output for the next flush: the head of a burst and its newest part, bounded. */
  private push(item: Item): void {
    if (item.length === 0 || this.disposed) return;
    if (this.tail.length === 0 && this.headUnits < HEAD_CHARS) {
      const room = HEAD_CHARS - this.headUnits;
      const first = item.slice(0, room);
      this.head.push(first);
      this.headUnits += first.length;
      item = item.slice(room);
    }
    if (item.length) {
      this.tail.push(item);
      this.tailUnits += item.length;
      while (this.tailUnits > TAIL_CHARS && this.tail.length > 1) {
        const dropped = this.tail.shift()!;
        this.tailUnits -= dropped.length;
        this.skippedChars += dropped.length;
        this.gap = true;
      }
      if (this.tailUnits > TAIL_CHARS) {
        const cut = this.tailUnits - TAIL_CHARS;
        this.tail[0] = this.tail[0].slice(cut);
        this.tailUnits -= cut;
        this.skippedChars += cut;
        this.gap = true;
      }
    }
    this.timer ??= this.clock.setTimeout(() => this.flush(), this.flooding ? FLOOD_FLUSH_MS : FLUSH_MS);
  }

  private replayAppend(r: { head: string; tail: string; skipped: number }, text: string): void {
    if (r.head.length < REPLAY_HEAD_CHARS && r.tail.length === 0) {
      const room = REPLAY_HEAD_CHARS - r.head.length;
      r.head += text.slice(0, room);
      text = text.slice(room);
    }
    r.tail += text;
    const over = r.head.length + r.tail.length - REPLAY_MAX_CHARS;
    if (over > 0) {
      r.tail = r.tail.slice(over);
      r.skipped += over;
    }
  }

  private flush(): void {
    this.timer = undefined;
    const now = this.clock.now();
    this.budget = Math.min(CHANNEL_BURST_CHARS, this.budget + ((now - this.budgetAt) * CHANNEL_RATE_CHARS_PER_S) / 1000);
    this.budgetAt = now;
    const pending = this.headUnits + this.tailUnits;
    if (pending === 0) return;
    if (this.budget < Math.min(pending, MIN_WRITE_CHARS)) {
      // Out of budget: keep collecting (bounded by HEAD + TAIL) and try again later.
      this.flooding = true;
      this.timer = this.clock.setTimeout(() => this.flush(), FLOOD_FLUSH_MS);
      return;
    }
    this.materialize();
    let head = this.head.join('');
    let tail = this.tail.join('');
    let skipped = this.skippedChars;
    const room = Math.max(MIN_WRITE_CHARS, Math.floor(this.budget) - 100); // 100: the note
    if (head.length + tail.length > room) {
      // Keep the newest part and the start of the burst (up to a quarter).
      const keepTail = Math.min(tail.length, room - Math.min(head.length, Math.floor(room / 4)));
      const keepHead = Math.min(head.length, room - keepTail);
      skipped += head.length - keepHead + tail.length - keepTail;
      head = head.slice(0, keepHead);
      tail = tail.slice(tail.length - keepTail);
    }
    const note = skipped ? `\n[… ${skipped} characters skipped (output too fast) …]\n` : '';
    const text = head + note + tail;
    this.head = [];
    this.headUnits = 0;
    this.tail = [];
    this.tailUnits = 0;
    this.skippedChars = 0;
    this.stats.charsSkipped += skipped;
    this.flooding = skipped > 0;
    this.write(text, now);
  }

  private write(text: string, now: number, charge = true): void {
    let sent = text;
    try {
      if (this.content.length + text.length > CHANNEL_MAX_CHARS) {
        // The cap: the channel restarts from its newest part. VS Code appends the new value to
        // the channel's file and shows only that, so this costs CHANNEL_KEEP_CHARS, not the cap.
        const all = this.content + text;
        const dropped = all.length - CHANNEL_KEEP_CHARS;
        sent = `[… ${dropped} earlier characters removed from this channel (it keeps about ${CHANNEL_KEEP_CHARS / 1024} K characters) …]\n${all.slice(dropped)}`;
        this.sink.replace(sent);
        this.content = sent;
        this.stats.replaces++;
      } else {
        this.sink.append(text);
        this.content += text;
        this.stats.appends++;
      }
    } catch (err) {
      this.onWriteError(err as Error);
    }
    if (charge) this.budget -= sent.length;
    this.stats.charsSent += sent.length;
    this.stats.firstWriteAt ??= now;
    this.stats.lastWriteAt = now;
  }
}
