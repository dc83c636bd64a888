/**
 * A small TOML statement scanner: splits a document into table headers (`[a.b]`, `[[a]]`)
 * and key/value statements with their dotted keys and their original text, skipping values
 * whatever their shape (multi-line strings, nested arrays and inline tables). It reads what
 * config projection needs, not values: no TOML dependency. Text it cannot read gives -32603
 * naming the file and line.
 */
import { ErrorCode, RpcError } from '../../protocol/errors';

export type Statement =
  | { kind: 'table'; path: string[]; array: boolean; text: string }
  | { kind: 'kv'; table: string[]; key: string[]; value: string; text: string };

class TomlScanError extends Error {}

export function scanToml(text: string, file = '<toml>'): Statement[] {
  try {
    return new Scanner(text).statements();
  } catch (err) {
    if (err instanceof TomlScanError) {
      throw new RpcError(ErrorCode.InternalError, `failed to load executor-local config: ${file}: ${err.message}`);
    }
    throw err;
  }
}

class Scanner {
  private i = 0;
  private table: string[] = [];

  constructor(private readonly s: string) {}

  statements(): Statement[] {
    const out: Statement[] = [];
    for (;;) {
      this.skipBlankAndComments();
      if (this.i >= this.s.length) return out;
      out.push(this.s[this.i] === '[' ? this.header() : this.keyValue());
    }
  }

  private header(): Statement {
    const start = this.i;
    const array = this.s.startsWith('[[', this.i);
    this.i += array ? 2 : 1;
    const p = this.key(array ? ']]' : ']');
    if (!this.s.startsWith(array ? ']]' : ']', this.i)) this.fail('expected `]` after table name');
    this.i += array ? 2 : 1;
    this.endOfLine();
    this.table = p;
    return { kind: 'table', path: p, array, text: this.s.slice(start, this.i).trimEnd() };
  }

  private keyValue(): Statement {
    const start = this.i;
    const key = this.key('=');
    if (this.s[this.i] !== '=') this.fail('expected `=` after a key');
    this.i += 1;
    const valueStart = this.i;
    this.value();
    const value = this.s.slice(valueStart, this.i).trim();
    if (value === '') this.fail('missing value');
    this.endOfLine();
    return { kind: 'kv', table: this.table, key, value, text: this.s.slice(start, this.i).trimEnd() };
  }

  /** A dotted key of bare, "basic" and 'literal' parts, up to `stop`. */
  private key(stop: string): string[] {
    const parts: string[] = [];
    for (;;) {
      this.skipSpaces();
      const c = this.s[this.i];
      if (c === '"') parts.push(this.basicString());
      else if (c === "'") parts.push(this.literalString());
      else {
        const m = /^[A-Za-z0-9_-]+/.exec(this.s.slice(this.i));
        if (!m) this.fail('invalid key');
        parts.push(m![0]);
        this.i += m![0].length;
      }
      this.skipSpaces();
      if (this.s[this.i] === '.') {
        this.i += 1;
        continue;
      }
      if (!this.s.startsWith(stop, this.i)) this.fail('invalid key');
      return parts;
    }
  }

  /** Skips one value, whatever its shape: strings, arrays and inline tables may nest and span lines. */
  private value(): void {
    let depth = 0;
    for (;;) {
      if (this.i >= this.s.length) {
        if (depth > 0) this.fail('unterminated array or inline table');
        return;
      }
      const c = this.s[this.i]!;
      if (c === '"' || c === "'") {
        if (this.s.startsWith(c.repeat(3), this.i)) this.multilineString(c);
        else if (c === '"') this.basicString();
        else this.literalString();
      } else if (c === '[' || c === '{') {
        depth += 1;
        this.i += 1;
      } else if (c === ']' || c === '}') {
        depth -= 1;
        this.i += 1;
        if (depth < 0) this.fail('unbalanced brackets');
      } else if (c === '#') {
        while (this.i < this.s.length && this.s[this.i] !== '\n') this.i += 1;
      } else if (c === '\n' && depth === 0) {
        return;
      } else {
        this.i += 1;
      }
    }
  }

  private basicString(): string {
    const start = this.i;
    this.i += 1;
    while (this.i < this.s.length && this.s[this.i] !== '"') {
      if (this.s[this.i] === '\n') this.fail('newline in a string');
      this.i += this.s[this.i] === '\\' ? 2 : 1;
    }
    if (this.i >= this.s.length) this.fail('unterminated string');
    this.i += 1;
    const raw = this.s.slice(start, this.i);
    try {
      return JSON.parse(raw.replace(/\\U([0-9A-Fa-f]{8})/g, (_, h: string) => String.fromCodePoint(parseInt(h, 16)))) as string;
    } catch {
      return raw.slice(1, -1);
    }
  }

  private literalString(): string {
    const end = this.s.indexOf("'", this.i + 1);
    const nl = this.s.indexOf('\n', this.i + 1);
    if (end < 0 || (nl >= 0 && nl < end)) this.fail('unterminated string');
    const v = this.s.slice(this.i + 1, end);
    this.i = end + 1;
    return v;
  }

  private multilineString(q: string): void {
    const delim = q.repeat(3);
    let j = this.i + 3;
    for (;;) {
      const end = this.s.indexOf(delim, j);
      if (end < 0) this.fail('unterminated multi-line string');
      if (q === '"' && isEscaped(this.s, end)) {
        j = end + 1;
        continue;
      }
      // Up to two extra quotes right before the closing delimiter belong to the string.
      let close = end + 3;
      while (close < this.s.length && this.s[close] === q && close - end < 5) close += 1;
      this.i = close;
      return;
    }
  }

  private skipSpaces(): void {
    while (this.s[this.i] === ' ' || this.s[this.i] === '\t') this.i += 1;
  }

  private skipBlankAndComments(): void {
    for (;;) {
      const c = this.s[this.i];
      if (c === ' ' || c === '\t' || c === '\r' || c === '\n') this.i += 1;
      else if (c === '#') while (this.i < this.s.length && this.s[this.i] !== '\n') this.i += 1;
      else return;
    }
  }

  private endOfLine(): void {
    this.skipSpaces();
    if (this.s[this.i] === '#') while (this.i < this.s.length && this.s[this.i] !== '\n') this.i += 1;
    if (this.s[this.i] === '\r') this.i += 1;
    if (this.i < this.s.length && this.s[this.i] !== '\n') this.fail('unexpected text after a statement');
  }

  private fail(message: string): never {
    const line = this.s.slice(0, this.i).split('\n').length;
    throw new TomlScanError(`unsupported or invalid TOML at line ${line}: ${message}`);
  }
}

function isEscaped(s: string, at: number): boolean {
  let n = 0;
  for (let k = at - 1; k >= 0 && s[k] === '\\'; k--) n += 1;
  return n % 2 === 1;
}
