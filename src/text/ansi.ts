/**
 * Turns terminal output into plain text for an output channel: ANSI escape sequences
 * (CSI, OSC, two-byte escapes) and other control characters removed, CR/LF normalised.
 * Streaming: a sequence split across chunks is held back until its end arrives.
 */
// CSI ... final byte | OSC ... BEL or ST | charset selection | any other two-byte escape.
const SEQUENCE = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()*+][0-~]|\x1b[@-_]|\x9b[0-?]*[ -/]*[@-~]/g;
// Controls other than \t and \n (a lone \r is handled before this runs).
const CONTROLS = /[\x00-\x08\x0b-\x1f\x7f]/g;
// An escape sequence cut off at the end of a chunk.
const PARTIAL_TAIL = /(?:\x1b(?:\[[0-?]*[ -/]*|\][^\x07\x1b]*|[()*+])?|\x1b\][^\x07]*\x1b)$/;
const MAX_HELD = 4096;

export function stripAnsi(text: string): string {
  return text
    .replace(SEQUENCE, '')
    .replace(/\r+\n/g, '\n')
    .replace(/\r/g, '\n')
    .replace(CONTROLS, '');
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
    // Keep a trailing \r: it may be the first half of \r\n.
    if (s.endsWith('\r')) {
      this.held = '\r' + this.held;
      s = s.slice(0, -1);
    }
    return stripAnsi(s);
  }

  flush(): string {
    const s = this.held;
    this.held = '';
    return stripAnsi(s);
  }
}
