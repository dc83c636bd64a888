import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import {
  CHANNEL_BURST_CHARS,
  CHANNEL_KEEP_CHARS,
  CHANNEL_MAX_CHARS,
  CHANNEL_RATE_CHARS_PER_S,
  FLOOD_FLUSH_MS,
  FLUSH_MS,
  OutputThrottle,
  REPLAY_HEAD_CHARS,
  REPLAY_MAX_CHARS,
  type ThrottleClock,
  type ThrottleSink,
} from '../../src/extension/outputThrottle';

/** Time that moves only when the test says so; timers run in due order as it does. */
class FakeClock implements ThrottleClock {
  private t = 0;
  private nextId = 1;
  private readonly timers = new Map<number, { at: number; run: () => void }>();

  now(): number {
    return this.t;
  }
  setTimeout(run: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.set(id, { at: this.t + ms, run });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }
  get pending(): number {
    return this.timers.size;
  }
  /** Move time forward by `ms`, running every timer that falls due on the way (bounded). */
  advance(ms: number): void {
    const end = this.t + ms;
    for (let i = 0; i < 1_000_000; i++) {
      let due: [number, { at: number; run: () => void }] | undefined;
      for (const e of this.timers) if (e[1].at <= end && (!due || e[1].at < due[1].at)) due = e;
      if (!due) break;
      this.timers.delete(due[0]);
      this.t = due[1].at;
      due[1].run();
    }
    this.t = end;
  }
}

/** A channel that records each write and when it came, and keeps what it would show. */
class Recorder implements ThrottleSink {
  readonly ops: Array<{ kind: 'append' | 'replace'; text: string; at: number }> = [];
  shown = '';
  constructor(private readonly clock: FakeClock) {}
  append(text: string): void {
    this.ops.push({ kind: 'append', text, at: this.clock.now() });
    this.shown += text;
  }
  replace(text: string): void {
    this.ops.push({ kind: 'replace', text, at: this.clock.now() });
    this.shown = text;
  }
}

function setup() {
  const clock = new FakeClock();
  const sink = new Recorder(clock);
  const t = new OutputThrottle(sink, clock);
  return { clock, sink, t };
}

const bytes = (s: string) => Buffer.from(s, 'utf8');

describe('OutputThrottle', () => {
  it('writes the replay in one append at endReplay, ANSI stripped, and nothing before', () => {
    const { sink, t } = setup();
    t.note('$ cmd\n');
    t.output(bytes('\x1b[31mred\x1b[0m\n'));
    t.output(bytes('second\n'));
    assert.equal(sink.ops.length, 0);
    t.endReplay();
    assert.deepEqual(
      sink.ops.map((o) => [o.kind, o.text]),
      [['append', '$ cmd\nred\nsecond\n']],
    );
    assert.equal(t.content, sink.shown);
  });

  it('bounds the replay: its start and newest part, with a note of what was skipped', () => {
    const { sink, t } = setup();
    const big = 'a'.repeat(REPLAY_HEAD_CHARS) + 'm'.repeat(REPLAY_MAX_CHARS) + 'z'.repeat(1000);
    t.output(bytes(big));
    t.endReplay();
    assert.equal(sink.ops.length, 1);
    const text = sink.ops[0].text;
    assert.ok(text.startsWith('a'.repeat(REPLAY_HEAD_CHARS) + '\n[… '));
    assert.ok(text.endsWith('z'.repeat(1000)));
    const skipped = big.length - REPLAY_MAX_CHARS;
    assert.match(text, new RegExp(`\\[… ${skipped} characters skipped …\\]`));
    assert.equal(t.stats.charsSkipped, skipped);
  });

  it('a large replay is not charged to the bucket: the first live line follows within FLUSH_MS', () => {
    const { clock, sink, t } = setup();
    t.output(bytes('r'.repeat(REPLAY_MAX_CHARS)));
    t.endReplay();
    t.output(bytes('live\n'));
    clock.advance(FLUSH_MS);
    assert.equal(sink.ops.length, 2);
    assert.equal(sink.ops[1].text, 'live\n');
    assert.equal(sink.ops[1].at, FLUSH_MS);
  });

  it('coalesces live output into one append per FLUSH_MS', () => {
    const { clock, sink, t } = setup();
    t.endReplay();
    for (let i = 0; i < 50; i++) {
      t.output(bytes(`line ${i}\n`));
      clock.advance(1);
    }
    assert.equal(sink.ops.length, 0, 'nothing before the first flush is due');
    clock.advance(FLUSH_MS);
    assert.equal(sink.ops.length, 1);
    assert.equal(sink.ops[0].at, FLUSH_MS, 'the flush is due FLUSH_MS after the first write of the burst');
    assert.equal(sink.shown, Array.from({ length: 50 }, (_, i) => `line ${i}\n`).join(''));
    assert.equal(clock.pending, 0, 'no timer once the queue is empty');
  });

  it('decodes live UTF-8 split across chunks and strips ANSI split across chunks', () => {
    const { clock, sink, t } = setup();
    t.endReplay();
    const e = bytes('é\n');
    t.output(e.subarray(0, 1));
    t.output(Buffer.concat([e.subarray(1), bytes('\x1b[3')]));
    t.output(bytes('2mgreen\x1b[0m\n'));
    clock.advance(FLUSH_MS);
    assert.equal(sink.shown, 'é\ngreen\n');
  });

  it('rate-limits a flood: bounded characters sent, flushes slowed to FLOOD_FLUSH_MS, the newest output shown', () => {
    const { clock, sink, t } = setup();
    t.endReplay();
    // A long quiet spell first: the bucket holds at most a burst, however long it refilled.
    clock.advance(60_000);
    const start = clock.now();
    const seconds = 20;
    let written = 0;
    let last = '';
    // 640 K characters a second: ten times what the channel may take.
    for (let ms = 0; ms < seconds * 1000; ms += 10) {
      last = `${String(ms).padStart(8, '0')}\n`;
      const block = 'x'.repeat(6400 - last.length) + last;
      t.output(bytes(block));
      written += block.length;
      clock.advance(10);
    }
    clock.advance(10_000); // let the last queued output through
    const largest = Math.max(...sink.ops.map((o) => o.text.length));
    const span = (clock.now() - start) / 1000;
    assert.ok(t.stats.charsSent <= CHANNEL_BURST_CHARS + CHANNEL_RATE_CHARS_PER_S * span + largest, `sent ${t.stats.charsSent} in ${span} s`);
    assert.ok(t.stats.charsSkipped > written / 2, 'most of a flood is skipped');
    assert.match(sink.shown, /characters skipped \(output too fast\)/);
    assert.ok(sink.shown.endsWith(last), 'the newest output is shown last');
    for (let i = 1; i < sink.ops.length; i++) assert.ok(sink.ops[i].at - sink.ops[i - 1].at >= FLUSH_MS, 'at most one write per FLUSH_MS');
    // While the flood lasts, writes come no more often than FLOOD_FLUSH_MS.
    const during = sink.ops.filter((o) => o.at > start + 1000 && o.at < start + seconds * 1000);
    assert.ok(during.length > 0);
    for (let i = 1; i < during.length; i++) assert.ok(during[i].at - during[i - 1].at >= FLOOD_FLUSH_MS);
    assert.equal(t.content, sink.shown);
    assert.ok(t.content.length <= CHANNEL_MAX_CHARS);
  });

  it('caps the channel: past CHANNEL_MAX_CHARS it is replaced by its newest part, unbroken', () => {
    const clock = new FakeClock();
    let written = '';
    const atFirstReplace: { written: string; skipped: number; text: string }[] = [];
    const sink = new (class extends Recorder {
      override replace(text: string): void {
        if (atFirstReplace.length === 0) atFirstReplace.push({ written, skipped: t.stats.charsSkipped, text });
        super.replace(text);
      }
    })(clock);
    const t = new OutputThrottle(sink, clock);
    t.endReplay();
    // 60 K characters a second, under the rate: every line gets through, in order, until the cap.
    let n = 0;
    let lastLine = '';
    for (let ms = 0; ms < 25_000; ms += 100) {
      let block = '';
      while (block.length < 6000) block += lastLine = `${String(n++).padStart(9, '0')}\n`;
      written += block;
      t.output(bytes(block));
      clock.advance(100);
    }
    clock.advance(10_000);
    assert.equal(atFirstReplace.length, 1, 'the cap was reached');
    const first = atFirstReplace[0];
    assert.equal(first.skipped, 0, 'under the rate nothing was skipped before the cap');
    assert.match(first.text, /^\[… \d+ earlier characters removed from this channel \(it keeps about 256 K characters\) …\]\n/);
    const body = first.text.slice(first.text.indexOf('\n') + 1);
    assert.equal(body.length, CHANNEL_KEEP_CHARS);
    assert.ok(first.written.endsWith(body), 'the replacement is exactly the newest output, unbroken');
    assert.equal(t.stats.replaces, sink.ops.filter((o) => o.kind === 'replace').length);
    // The channel never held more than the cap (plus its note), and the mirror matches it.
    let held = 0;
    for (const o of sink.ops) {
      held = o.kind === 'replace' ? o.text.length : held + o.text.length;
      assert.ok(held <= CHANNEL_MAX_CHARS + 200, `channel holds ${held}`);
    }
    assert.equal(t.content, sink.shown);
    assert.ok(sink.shown.endsWith(lastLine));
  });

  it('finish: the decoder end and the end line on a line of its own, at the next flush even in a flood', () => {
    const { clock, sink, t } = setup();
    t.endReplay();
    for (let i = 0; i < 100; i++) {
      t.output(bytes('y'.repeat(64 * 1024)));
      clock.advance(10);
    }
    t.output(bytes('no newline'));
    t.finish('[process ended: exit code 0]\n');
    clock.advance(30_000);
    assert.ok(sink.shown.endsWith('no newline\n[process ended: exit code 0]\n'), JSON.stringify(sink.shown.slice(-60)));
    assert.equal(clock.pending, 0);
  });

  it('finish: no extra newline after a complete line; a partial UTF-8 character ends as U+FFFD', () => {
    const { clock, sink, t } = setup();
    t.endReplay();
    t.output(bytes('done\n'));
    clock.advance(FLUSH_MS);
    t.finish('[end]\n');
    clock.advance(FLUSH_MS);
    assert.equal(sink.shown, 'done\n[end]\n');

    const b = setup();
    b.t.endReplay();
    b.t.output(bytes('é').subarray(0, 1));
    b.t.finish('[end]\n');
    b.clock.advance(FLUSH_MS);
    assert.equal(b.sink.shown, '\uFFFD\n[end]\n');
  });

  it('dispose drops what is queued: no write and no timer after it, later output ignored', () => {
    const { clock, sink, t } = setup();
    t.endReplay();
    t.output(bytes('queued\n'));
    assert.equal(clock.pending, 1);
    t.dispose();
    assert.equal(clock.pending, 0);
    t.output(bytes('late\n'));
    t.note('late note\n');
    clock.advance(10_000);
    assert.equal(sink.ops.length, 0);
    assert.equal(clock.pending, 0);
  });

  it('a write the channel refuses is reported, not thrown, and the throttle goes on', () => {
    const clock = new FakeClock();
    const errors: string[] = [];
    let refuse = true;
    const shown: string[] = [];
    const sink: ThrottleSink = {
      append: (s) => {
        if (refuse) throw new Error('Channel has been closed');
        shown.push(s);
      },
      replace: () => assert.fail('no replace expected'),
    };
    const t = new OutputThrottle(sink, clock, (err) => errors.push(err.message));
    t.endReplay();
    t.output(bytes('one\n'));
    clock.advance(FLUSH_MS);
    assert.deepEqual(errors, ['Channel has been closed']);
    refuse = false;
    t.output(bytes('two\n'));
    clock.advance(FLUSH_MS);
    assert.deepEqual(shown, ['two\n']);
  });

  it('many processes: each channel is bounded on its own, and a quiet one is not held back by floods', () => {
    const clock = new FakeClock();
    const channels = Array.from({ length: 40 }, () => {
      const sink = new Recorder(clock);
      return { sink, t: new OutputThrottle(sink, clock) };
    });
    const quiet = channels.pop()!;
    for (const c of [...channels, quiet]) c.t.endReplay();
    const seconds = 10;
    for (let ms = 0; ms < seconds * 1000; ms += 50) {
      for (const c of channels) c.t.output(bytes('f'.repeat(32 * 1024)));
      if (ms % 1000 === 0) quiet.t.output(bytes(`tick ${ms}\n`));
      clock.advance(50);
    }
    clock.advance(10_000);
    for (const c of channels) {
      const largest = Math.max(...c.sink.ops.map((o) => o.text.length));
      assert.ok(c.t.stats.charsSent <= CHANNEL_BURST_CHARS + CHANNEL_RATE_CHARS_PER_S * (clock.now() / 1000) + largest);
      assert.ok(c.t.content.length <= CHANNEL_MAX_CHARS);
      assert.equal(c.t.content, c.sink.shown);
    }
    // The quiet channel: every tick shown, each within FLUSH_MS of being written, nothing skipped.
    assert.equal(quiet.t.stats.charsSkipped, 0);
    assert.equal(quiet.sink.ops.length, seconds);
    quiet.sink.ops.forEach((o, i) => {
      assert.equal(o.text, `tick ${i * 1000}\n`);
      assert.equal(o.at, i * 1000 + FLUSH_MS);
    });
    assert.equal(clock.pending, 0, 'every channel went idle');
  });
});
