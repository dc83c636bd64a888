import { Base64Error, decodeBase64 } from './base64';
import { invalidParams, type RpcError } from './errors';

/**
 * Reads request params field by field and turns every mistake into a -32602 error that
 * names the field, in upstream's wording (`missing field \`argv\``). No I/O, no side effects.
 */
export class Params {
  private constructor(private readonly obj: Record<string, unknown>) {}

  /** `params` must be a JSON object; `what` names the expected struct in the error. */
  static of(params: unknown, what: string): Params {
    if (params === undefined || params === null) {
      throw invalidParams(`invalid type: null, expected struct ${what}`);
    }
    if (typeof params !== 'object' || Array.isArray(params)) {
      throw invalidParams(`invalid type: ${typeName(params)}, expected struct ${what}`);
    }
    return new Params(params as Record<string, unknown>);
  }

  /** Like `of`, but absent params mean an empty object (methods whose params are all optional). */
  static optional(params: unknown, what: string): Params {
    return params === undefined || params === null ? new Params({}) : Params.of(params, what);
  }

  has(name: string): boolean {
    return Object.prototype.hasOwnProperty.call(this.obj, name);
  }

  raw(name: string): unknown {
    return this.obj[name];
  }

  string(name: string): string {
    const v = this.required(name);
    if (typeof v !== 'string') throw wrongType(name, v, 'a string');
    return v;
  }

  optString(name: string): string | undefined {
    const v = this.obj[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') throw wrongType(name, v, 'a string');
    return v;
  }

  bool(name: string): boolean {
    const v = this.required(name);
    if (typeof v !== 'boolean') throw wrongType(name, v, 'a boolean');
    return v;
  }

  optBool(name: string): boolean | undefined {
    const v = this.obj[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'boolean') throw wrongType(name, v, 'a boolean');
    return v;
  }

  /** A non-negative integer no larger than `max`. */
  uint(name: string, max = Number.MAX_SAFE_INTEGER): number {
    return checkUint(name, this.required(name), max);
  }

  optUint(name: string, max = Number.MAX_SAFE_INTEGER): number | undefined {
    const v = this.obj[name];
    if (v === undefined || v === null) return undefined;
    return checkUint(name, v, max);
  }

  stringArray(name: string): string[] {
    const v = this.required(name);
    return checkStringArray(name, v);
  }

  optStringArray(name: string): string[] | undefined {
    const v = this.obj[name];
    if (v === undefined || v === null) return undefined;
    return checkStringArray(name, v);
  }

  stringMap(name: string): Record<string, string> {
    return checkStringMap(name, this.required(name));
  }

  optStringMap(name: string): Record<string, string> | undefined {
    const v = this.obj[name];
    if (v === undefined || v === null) return undefined;
    return checkStringMap(name, v);
  }

  optObject(name: string): Record<string, unknown> | undefined {
    const v = this.obj[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'object' || Array.isArray(v)) throw wrongType(name, v, 'an object');
    return v as Record<string, unknown>;
  }

  /** Standard, padded base64 (upstream rejects anything else); returns the decoded bytes. */
  base64(name: string): Buffer {
    const v = this.string(name);
    try {
      return decodeBase64(v);
    } catch (err) {
      if (err instanceof Base64Error) throw invalidParams(`\`${name}\` is not valid base64`);
      throw err;
    }
  }

  /** One of a fixed set of strings. */
  oneOf<T extends string>(name: string, allowed: readonly T[]): T {
    const v = this.string(name);
    if (!(allowed as readonly string[]).includes(v)) {
      throw invalidParams(`unknown variant \`${clip(v)}\` for \`${name}\`, expected one of ${allowed.map((a) => `\`${a}\``).join(', ')}`);
    }
    return v as T;
  }

  private required(name: string): unknown {
    const v = this.obj[name];
    if (v === undefined) throw invalidParams(`missing field \`${name}\``);
    if (v === null) throw invalidParams(`invalid type: null for \`${name}\``);
    return v;
  }
}

/** Longest client-supplied text echoed in an error message. */
export const MAX_ECHO_CHARS = 80;

/**
 * A client value as an error message may echo it: at most MAX_ECHO_CHARS characters, then
 * `…` and the original length. Rejected values can be megabytes (the corpus sends 2 MiB
 * strings); echoing them whole would multiply the cost of every hostile request.
 */
export function clip(s: string, max = MAX_ECHO_CHARS): string {
  return s.length <= max ? s : `${clipHead(s, max)}… (${s.length} chars)`;
}

/** The first `max` characters of `s`, without splitting a surrogate pair (a lone half would not survive UTF-8). */
function clipHead(s: string, max: number): string {
  return s.slice(0, /[\uD800-\uDBFF]/.test(s[max - 1]) ? max - 1 : max);
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'sequence';
  if (typeof v === 'number') return Number.isInteger(v) ? `integer \`${v}\`` : `floating point \`${v}\``;
  if (typeof v === 'string') {
    // The length goes outside the quotes: the quoted part is the client's own text.
    return v.length <= MAX_ECHO_CHARS ? `string ${JSON.stringify(v)}` : `string ${JSON.stringify(`${clipHead(v, MAX_ECHO_CHARS)}…`)} (${v.length} chars)`;
  }
  if (typeof v === 'object') return 'map';
  return typeof v;
}

function wrongType(name: string, v: unknown, expected: string): RpcError {
  return invalidParams(`invalid type for \`${name}\`: ${typeName(v)}, expected ${expected}`);
}

function checkUint(name: string, v: unknown, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw wrongType(name, v, 'a non-negative integer');
  if (v < 0) throw invalidParams(`\`${name}\` must not be negative`);
  if (v > max) throw invalidParams(`\`${name}\` must be at most ${max}`);
  return v;
}

function checkStringArray(name: string, v: unknown): string[] {
  if (!Array.isArray(v)) throw wrongType(name, v, 'a sequence of strings');
  v.forEach((item, i) => {
    if (typeof item !== 'string') throw wrongType(`${name}[${i}]`, item, 'a string');
  });
  return v as string[];
}

function checkStringMap(name: string, v: unknown): Record<string, string> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw wrongType(name, v, 'a map of strings');
  const out: Record<string, string> = Object.create(null);
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
    if (typeof val !== 'string') throw wrongType(`${name}.${clip(k)}`, val, 'a string');
    out[k] = val;
  }
  return out;
}
