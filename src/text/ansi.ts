/**
 * Turns terminal output into plain text for an output channel: ANSI escape sequences
 * (CSI, OSC, two-byte escapes) and other control characters removed, CR/LF normalised.
 * Streaming: a sequence split across chunks is held back until its end arrives.
 */
// CSI ... final byte | OSC ... BEL or ST | charset selection | any other two-byte escape (ECMA-48's
// Fe, and the Fp/Fs ones terminals use too: ESC 7 / ESC 8 save and restore the cursor, ESC = / ESC >
// keypad modes, ESC c reset) | 8-bit CSI.
const SEQUENCE = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()*+][0-~]|\x1b[0-~]|\x9b[0-?]*[ -/]*[@-~]/g;
// Controls other than \t and \n (a lone \r is handled before this runs).
const CONTROLS = /[\x00-\x08\x0b-\x1f\x7f]/g;
// An escape sequence cut off at the end of a chunk (8-bit CSI included).
const PARTIAL_TAIL = /(?:\x1b(?:\[[0-?]*[ -/]*|\][^\x07\x1b]*|[()*+])?|\x1b\][^\x07]*\x1b|\x9b[0-?]*[ -/]*)$/;
const MAX_HELD = 4096;

export function stripAnsi(text: string): string {
  return plainText(text.replace(SEQUENCE, ''));
}

/** CR/LF normalised and controls removed, in text whose escape sequences are gone. */
function plainText(text: string): string {
  return text.replace(/\r+\n/g, '\n').replace(/\r/g, '\n').replace(CONTROLS, '');
}

export class AnsiStripper {
  private held = '';

  push(text: string): string {
    let s = this.held + text;
    this.held = '';
    const m = PARTIAL_TAIL.exec(s);
    if (m && m[0].length <= MAX_HELD) {
      this.held = m[0];
      s = s.slice(0, m.index);
    }
    // Sequences go first (as in stripAnsi), so CRs on both sides of one count as one run.
    s = s.replace(SEQUENCE, '');
    // Keep trailing CRs: they may start a CRLF, or a CR…CRLF run (a PTY turns "\r\n" into "\r\r\n").
    const crs = /\r+$/.exec(s);
    if (crs) {
      this.held = crs[0] + this.held;
      s = s.slice(0, crs.index);
    }
    return plainText(s);
  }

  flush(): string {
    const s = this.held;
    this.held = '';
    return stripAnsi(s);
  }
}
