/**
 * Terminal output to plain text (src/text/ansi.ts): which sequences and controls go, how CR/LF
 * come out, and that the streaming stripper gives the same text however the output is cut.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { AnsiStripper, stripAnsi } from '../../src/text/ansi';

describe('stripAnsi', () => {
  it('removes CSI sequences: colours, cursor moves, private modes', () => {
    assert.equal(stripAnsi('\x1b[31mred\x1b[0m plain \x1b[1;38;5;208mbold\x1b[m'), 'red plain bold');
    assert.equal(stripAnsi('\x1b[2J\x1b[Hhome\x1b[?25l\x1b[?2004h\x1b[3A\x1b[K'), 'home');
    assert.equal(stripAnsi('a\x1b[>0;1;2c b'), 'a b');
  });

  it('removes OSC sequences ended by BEL or by ST, keeping the text they wrap', () => {
    assert.equal(stripAnsi('\x1b]0;window title\x07prompt$ '), 'prompt$ ');
    assert.equal(stripAnsi('\x1b]8;;https://example.invalid/\x1b\\link\x1b]8;;\x1b\\'), 'link');
    assert.equal(stripAnsi('\x1b]633;C\x07out'), 'out');
  });

  it('removes charset selections, two-byte escapes and 8-bit CSI', () => {
    assert.equal(stripAnsi('\x1b(Bx\x1b)0y'), 'xy');
    // ESC 7 / ESC 8 (save / restore cursor: progress bars), ESC = / ESC > (keypad), ESC c (reset), ESC M.
    assert.equal(stripAnsi('\x1b7saved\x1b8\x1bM'), 'saved');
    assert.equal(stripAnsi('\x1b=a\x1b>b\x1bcc'), 'abc');
    assert.equal(stripAnsi('\x9b31mred\x9b0m'), 'red');
  });

  it('turns CRLF, runs of CR before LF, and lone CRs into LF', () => {
    assert.equal(stripAnsi('a\r\nb\r\r\nc'), 'a\nb\nc');
    assert.equal(stripAnsi('progress 10%\rprogress 20%\r'), 'progress 10%\nprogress 20%\n');
  });

  it('removes other control characters but keeps tab, newline and non-ASCII text', () => {
    assert.equal(stripAnsi('a\x07b\x08c\x00d\x7fe\x0bf\x0cg'), 'abcdefg');
    assert.equal(stripAnsi('col1\tcol2\nété 😀 中文'), 'col1\tcol2\nété 😀 中文');
  });

  it('removes a lone ESC that starts no sequence', () => {
    assert.equal(stripAnsi('a\x1b b'), 'a b');
    assert.equal(stripAnsi('a\x1b\nb'), 'a\nb');
    assert.equal(stripAnsi('end\x1b'), 'end');
  });
});

/** Output of a stripper fed `parts`, then flushed. */
function streamed(parts: string[]): string {
  const s = new AnsiStripper();
  return parts.map((p) => s.push(p)).join('') + s.flush();
}

describe('AnsiStripper', () => {
  it('holds back a sequence cut at the end of a chunk until its end arrives', () => {
    const s = new AnsiStripper();
    assert.equal(s.push('before\x1b[3'), 'before');
    assert.equal(s.push('1mred\x1b]0;ti'), 'red');
    assert.equal(s.push('tle\x1b'), '');
    assert.equal(s.push('\\after'), 'after');
    assert.equal(s.flush(), '');
  });

  it('holds back a trailing CR: a CRLF cut in two is one newline', () => {
    const s = new AnsiStripper();
    assert.equal(s.push('line\r'), 'line');
    assert.equal(s.push('\nnext'), '\nnext');
    assert.equal(s.push('\r'), '');
    assert.equal(s.push('over'), '\nover', 'a CR not followed by LF is still a line break');
    assert.equal(s.push('end\r'), 'end');
    assert.equal(s.flush(), '\n', 'flush() gives out what was held');
    assert.equal(s.flush(), '');
  });

  it('does not hold back an unterminated OSC forever: past 4096 chars its text is passed on', () => {
    const s = new AnsiStripper();
    const out = s.push(`\x1b]0;${'t'.repeat(5000)}`);
    assert.equal(out, `0;${'t'.repeat(5000)}`);
    assert.equal(s.push('next'), 'next');
  });

  it('gives the same text as stripAnsi of the whole output, for every way of cutting it', () => {
    const tokens = ['a', 'é', '😀', ' ', '\t', '\n', '\r', '\r\n', '\x07', '\x1b[31m', '\x1b[0m', '\x1b[?25h', '\x1b]0;t\x07', '\x1b]8;;u\x1b\\', '\x1b(B', '\x1b7', '\x9b1m'];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...tokens), { maxLength: 30 }), fc.array(fc.nat(), { maxLength: 6 }), (toks, cutSeeds) => {
        const whole = toks.join('');
        const cuts = [...new Set(cutSeeds.map((c) => c % (whole.length + 1)))].sort((x, y) => x - y);
        const parts: string[] = [];
        let at = 0;
        for (const c of cuts) {
          parts.push(whole.slice(at, c));
          at = c;
        }
        parts.push(whole.slice(at));
        assert.equal(streamed(parts), stripAnsi(whole), JSON.stringify(parts));
      }),
      { seed: 5, numRuns: 500 },
    );
  });
});
