/**
 * The hostile-input corpus: a deterministic (seeded) generator of malformed JSON-RPC messages,
 * each paired with what the server must do with it. The expectations come from the protocol
 * rules (src/protocol/jsonrpc.ts, validate.ts, connectionHandler.ts), not from running it:
 *
 *   invalid JSON / junk bytes          → error -32700, id null
 *   batch (array) / non-object JSON    → error -32600, id null
 *   bad `id` type (object, null, ∞)    → error -32600, id null
 *   `method` not a string, params not object/array → error -32600 (echoing a valid id)
 *   unknown method                     → error -32601
 *   known method before `initialize`   → error -32600
 *   wrong type / missing / out-of-range field        → error -32602 naming the field
 *   fs/writeFile with invalid base64   → error -32600 (upstream's wording)
 *   a response sent by the client, any notification but `initialized`, `initialized` before
 *   `initialize`                       → the connection is closed with 1002
 *   a frame above --max-frame-bytes    → WebSocket close 1009 (stdio: error -32600, id null)
 *   a text frame that is not UTF-8     → WebSocket close 1007 (ws library)
 *
 * Generated values never name a real path (paths are relative, the wrong type, or under a
 * directory that does not exist) and never start a process: every case fails validation.
 */
export type Expect =
  | { kind: 'error'; code: number; id: string | number | null }
  /** No answer at all (a repeated `initialized`). */
  | { kind: 'none' }
  | { kind: 'close'; code: number };

export interface Case {
  /** Text frame (string) or binary frame (Buffer). */
  frame: string | Buffer;
  /** Send as a WebSocket text frame even though it is a Buffer (for invalid UTF-8). */
  rawText?: boolean;
  expect: Expect;
  /** 'pre': on a connection before the handshake; 'post': after it. */
  phase: 'pre' | 'post';
  label: string;
}

/** mulberry32: small, fast, deterministic. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const PARSE = -32700;
export const INVALID_REQUEST = -32600;
export const NOT_FOUND = -32601;
export const INVALID_PARAMS = -32602;

type Kind =
  | 'str' // required string
  | 'optStr'
  | 'bool'
  | 'optBool'
  | 'uint' // required non-negative integer
  | 'optUint'
  | 'u16' // required 1..65535
  | 'optU16'
  | 'strArr'
  | 'argv' // non-empty string array
  | 'strMap'
  | 'path' // absolute path or file:// URI
  | 'pathArr'
  | 'b64' // padded standard base64 (-32602 when invalid)
  | 'fsB64' // fs/writeFile's base64 (-32600 when invalid)
  | 'signal'
  | 'policy'
  | 'optObj';

interface MethodSpec {
  method: string;
  /** Field → kind, in a valid base object; the base itself must never be executed. */
  fields: Record<string, Kind>;
  base: Record<string, unknown>;
}

/** A directory that does not exist: even a valid-looking path never touches anything real. */
export const NOWHERE = '/nonexistent-exec-server-corpus-dir';
/** The long-lived process the corpus connection starts (read/resize/closeStdin need one). */
export const LIVE = 'live';

export const METHODS: MethodSpec[] = [
  {
    method: 'process/start',
    fields: { processId: 'str', argv: 'argv', cwd: 'path', env: 'strMap', tty: 'bool', pipeStdin: 'optBool', arg0: 'optStr', cols: 'optU16', rows: 'optU16', envPolicy: 'policy', metadata: 'optObj' },
    base: { processId: 'never-started', argv: ['true'], cwd: '/tmp', env: { PATH: '/usr/bin:/bin' }, tty: false, pipeStdin: false, arg0: null, cols: 80, rows: 24, metadata: {} },
  },
  { method: 'process/read', fields: { processId: 'str', afterSeq: 'optUint', maxBytes: 'optUint', waitMs: 'optUint' }, base: { processId: LIVE, afterSeq: 0, maxBytes: 10, waitMs: 0 } },
  { method: 'process/write', fields: { processId: 'str', chunk: 'b64', writeId: 'optStr' }, base: { processId: LIVE, chunk: 'aGk=', writeId: 'w' } },
  { method: 'process/signal', fields: { processId: 'str', signal: 'signal' }, base: { processId: 'nope', signal: 'interrupt' } },
  { method: 'process/resize', fields: { processId: 'str', cols: 'u16', rows: 'u16' }, base: { processId: LIVE, cols: 80, rows: 24 } },
  { method: 'process/closeStdin', fields: { processId: 'str' }, base: { processId: LIVE } },
  { method: 'process/terminate', fields: { processId: 'str' }, base: { processId: 'nope' } },
  { method: 'fs/readFile', fields: { path: 'path' }, base: { path: `${NOWHERE}/f` } },
  { method: 'fs/writeFile', fields: { path: 'path', dataBase64: 'fsB64' }, base: { path: `${NOWHERE}/f`, dataBase64: 'aGk=' } },
  { method: 'fs/getMetadata', fields: { path: 'path' }, base: { path: `${NOWHERE}/f` } },
  { method: 'fs/readDirectory', fields: { path: 'path' }, base: { path: NOWHERE } },
  { method: 'fs/createDirectory', fields: { path: 'path', recursive: 'optBool' }, base: { path: `${NOWHERE}/d`, recursive: false } },
  { method: 'fs/remove', fields: { path: 'path', recursive: 'optBool', force: 'optBool' }, base: { path: `${NOWHERE}/d`, recursive: false, force: false } },
  { method: 'fs/copy', fields: { sourcePath: 'path', destinationPath: 'path', recursive: 'bool' }, base: { sourcePath: `${NOWHERE}/a`, destinationPath: `${NOWHERE}/b`, recursive: false } },
  { method: 'fs/canonicalize', fields: { path: 'path' }, base: { path: NOWHERE } },
  { method: 'fs/open', fields: { path: 'path', handleId: 'str' }, base: { path: `${NOWHERE}/f`, handleId: 'h' } },
  { method: 'fs/readBlock', fields: { handleId: 'str', offset: 'uint', len: 'uint' }, base: { handleId: 'h', offset: 0, len: 1 } },
  { method: 'fs/close', fields: { handleId: 'str' }, base: { handleId: 'h' } },
  { method: 'fs/watchMissing', fields: { missing: 'pathArr', present: 'optStr' }, base: { watchId: 'w', missing: [`${NOWHERE}/x`], present: null } },
  { method: 'environmentConfig/read', fields: { cwd: 'path' }, base: { cwd: NOWHERE, configPaths: [['a']], requirementsPaths: [] } },
];

/** `initialize` is special: only before the handshake, one field. */
export const INITIALIZE: MethodSpec = { method: 'initialize', fields: { clientName: 'str', resumeSessionId: 'optStr' }, base: { clientName: 'c' } };

const REQUIRED: ReadonlySet<Kind> = new Set(['str', 'bool', 'uint', 'u16', 'strArr', 'argv', 'strMap', 'path', 'pathArr', 'b64', 'fsB64', 'signal']);

const deepArray = (n: number) => '['.repeat(n) + ']'.repeat(n);
const deepObject = (n: number) => '{"a":'.repeat(n) + '1' + '}'.repeat(n);

/** JSON texts (not values: some are unrepresentable in JS, e.g. 1e400) of the wrong type for `kind`. */
function wrongValues(kind: Kind, r: () => number): string[] {
  const s = (v: unknown) => JSON.stringify(v);
  const nonString = ['0', '-7', '3.25', '1e400', 'true', 'false', '{}', '[]', '[1]', '{"a":"b"}', '9007199254740993', '-0.0001'];
  const nullIfRequired = REQUIRED.has(kind) ? ['null'] : [];
  switch (kind) {
    case 'str':
    case 'optStr':
      return [...nonString, ...nullIfRequired];
    case 'bool':
    case 'optBool':
      return ['0', '1', '"true"', '"false"', '[]', '{}', '[true]', '-1', '"yes"', ...nullIfRequired];
    case 'uint':
    case 'optUint':
      return ['-1', '-9007199254740991', '1.5', '0.1', '1e400', '-1e400', '9007199254740992', '1e300', '"5"', 'true', '[]', '{}', '[5]', ...nullIfRequired];
    case 'u16':
    case 'optU16':
      return ['-1', '65536', '4294967296', '1e300', '2.5', '"80"', 'true', '[]', '{}', ...(kind === 'u16' ? ['0', 'null'] : [])];
    case 'strArr':
    case 'argv':
    case 'pathArr':
      return ['"ls"', '0', 'true', '{}', '[1]', '[null]', '[[]]', '["a",2]', '[{}]', '[true]', ...(kind === 'argv' ? ['[]'] : []), ...(kind === 'pathArr' ? ['["relative"]', '["http://x/y"]', '[""]'] : []), ...nullIfRequired];
    case 'strMap':
      return ['[]', '"A=b"', '0', 'true', '{"A":1}', '{"A":null}', '{"A":{}}', '{"A":[]}', '{"A":"b","B":false}', 'null'];
    case 'path':
      return [...nonString, '""', '"relative/path"', '"."', '"http://example.com/x"', '"ftp:/x"', s('relative'.repeat(1 + Math.floor(r() * 500))), 'null'];
    case 'b64':
      return ['"abc"', '"a==="', '"!!!!"', '"YQ"', '"YQ="', '"Y Q=="', '"aGk=\\n"', '"====="', '"aGk=aGk="', '"\u00e9\u00e9\u00e9\u00e9"', '"-_-_"', ...nonString, 'null'];
    case 'fsB64':
      return [...nonString, 'null'];
    case 'signal':
      return ['"KILL"', '"SIGTERM"', '""', '"Interrupt"', '"terminate "', '9', '15', 'true', '{}', '[]', 'null', s('s'.repeat(1 + Math.floor(r() * 3000)))];
    case 'policy':
      return ['"all"', '0', 'true', '[]', '{}', '{"inherit":"some"}', '{"inherit":"all"}', '{"inherit":5,"ignoreDefaultExcludes":false,"exclude":[],"set":{},"includeOnly":[]}', '{"inherit":"all","ignoreDefaultExcludes":"no","exclude":[],"set":{},"includeOnly":[]}', '{"inherit":"all","ignoreDefaultExcludes":false,"exclude":[1],"set":{},"includeOnly":[]}', '{"inherit":"all","ignoreDefaultExcludes":false,"exclude":[],"set":{"A":1},"includeOnly":[]}', '{"inherit":"all","ignoreDefaultExcludes":false,"exclude":[],"set":{},"includeOnly":"x"}'];
    case 'optObj':
      return ['"x"', '0', 'true', '[]', '[{}]', '1e400'];
  }
}

/** fs/writeFile's base64 check answers -32600 (upstream); only a string can reach it. */
const FS_INVALID_B64 = ['"abc"', '"a==="', '"!!!!"', '"YQ"', '"Y Q=="', '"aGk=aGk="', '"\u00e9\u00e9\u00e9\u00e9"'];

/** Params object text with one field replaced by raw JSON text (or removed when `text` is undefined). */
function withField(base: Record<string, unknown>, field: string, text: string | undefined): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(base)) {
    if (k === field) continue;
    parts.push(`${JSON.stringify(k)}:${JSON.stringify(v)}`);
  }
  if (text !== undefined) parts.push(`${JSON.stringify(field)}:${text}`);
  return `{${parts.join(',')}}`;
}

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)]!;
}

function junk(r: () => number, n: number, printable: boolean): string {
  let out = '';
  for (let i = 0; i < n; i++) {
    out += printable ? String.fromCharCode(32 + Math.floor(r() * 95)) : String.fromCharCode(1 + Math.floor(r() * 0xd7fe));
  }
  return out;
}

/**
 * Generates the corpus. `post` cases assume a handshaken connection holding the process
 * LIVE (a `sleep` without stdin); `pre` cases a connection that has not sent `initialize`.
 * Close cases each need a fresh connection (the driver reconnects).
 */
export function generateCorpus(seed: number, target: number, opts: { forStdio?: boolean } = {}): Case[] {
  const r = rng(seed);
  const out: Case[] = [];
  let n = 1;
  const nextId = () => (r() < 0.3 ? `id-${n++}` : n++);
  const req = (method: string, paramsText: string | undefined, id: string | number) =>
    `{"id":${JSON.stringify(id)},"method":${JSON.stringify(method)}${paramsText === undefined ? '' : `,"params":${paramsText}`}}`;
  const err = (code: number, id: string | number | null): Expect => ({ kind: 'error', code, id });

  // 1. Wrong types, missing fields, out-of-range numbers for every field of every method.
  const fieldCases = (spec: MethodSpec, phase: 'pre' | 'post') => {
    for (const [field, kind] of Object.entries(spec.fields)) {
      const values = kind === 'fsB64' ? [...wrongValues(kind, r), ...FS_INVALID_B64] : wrongValues(kind, r);
      for (const text of values) {
        const id = nextId();
        const code = kind === 'fsB64' && FS_INVALID_B64.includes(text) ? INVALID_REQUEST : INVALID_PARAMS;
        out.push({ frame: req(spec.method, withField(spec.base, field, text), id), expect: err(code, id), phase, label: `${spec.method}.${field}=${text.slice(0, 30)}` });
      }
      if (REQUIRED.has(kind)) {
        const id = nextId();
        out.push({ frame: req(spec.method, withField(spec.base, field, undefined), id), expect: err(INVALID_PARAMS, id), phase, label: `${spec.method} missing ${field}` });
      }
    }
    // Whole params of the wrong type.
    for (const p of ['[]', '[1,2]', 'null', undefined]) {
      const id = nextId();
      out.push({ frame: req(spec.method, p, id), expect: err(INVALID_PARAMS, id), phase, label: `${spec.method} params=${p}` });
    }
    for (const p of ['1', '"x"', 'true', '-1e400']) {
      const id = nextId();
      out.push({ frame: req(spec.method, p, id), expect: err(INVALID_REQUEST, id), phase, label: `${spec.method} params=${p} (not object)` });
    }
  };
  for (const spec of METHODS) fieldCases(spec, 'post');
  fieldCases(INITIALIZE, 'pre');

  // 2. Fill up to `target` with randomized families.
  const families: Array<() => void> = [
    // Field-wrong-type again, with random values of random shape (fuzzed).
    () => {
      const spec = pick(r, METHODS);
      const [field, kind] = pick(r, Object.entries(spec.fields));
      const text = pick(r, wrongValues(kind, r));
      const id = nextId();
      out.push({ frame: req(spec.method, withField(spec.base, field, text), id), expect: err(INVALID_PARAMS, id), phase: 'post', label: `fuzz ${spec.method}.${field}` });
    },
    // Invalid JSON: random printable junk (starts with a character no JSON value starts with).
    () => {
      const text = pick(r, ['}', ':', ',', 'x', '#', "'", '<']) + junk(r, Math.floor(r() * 200), true);
      out.push({ frame: text, expect: err(PARSE, null), phase: r() < 0.1 ? 'pre' : 'post', label: 'junk text' });
    },
    // Invalid JSON: random unicode junk.
    () => {
      const text = '\u00ff' + junk(r, Math.floor(r() * 100), false);
      out.push({ frame: text, expect: err(PARSE, null), phase: 'post', label: 'unicode junk' });
    },
    // Truncated frames: a valid request cut short.
    () => {
      const spec = pick(r, METHODS);
      const full = req(spec.method, JSON.stringify(spec.base), nextId());
      const cut = full.slice(0, 1 + Math.floor(r() * (full.length - 2)));
      out.push({ frame: cut, expect: err(PARSE, null), phase: r() < 0.1 ? 'pre' : 'post', label: 'truncated' });
    },
    // Binary junk frames (WebSocket only).
    () => {
      if (opts.forStdio) return;
      const len = 1 + Math.floor(r() * 512);
      const b = Buffer.alloc(len);
      for (let i = 0; i < len; i++) b[i] = Math.floor(r() * 256);
      b[0] = 0xff; // never valid UTF-8 JSON start
      out.push({ frame: b, expect: err(PARSE, null), phase: 'post', label: 'binary junk' });
    },
    // Valid JSON that is not a request object.
    () => {
      const text = pick(r, ['[]', '[{"id":1,"method":"process/list"}]', '1', '"str"', 'true', 'null', '-0', '1e400', '[[[]]]', '{"jsonrpc":"2.0"}', '{}']);
      out.push({ frame: text, expect: err(INVALID_REQUEST, null), phase: r() < 0.2 ? 'pre' : 'post', label: `non-request ${text}` });
    },
    // Bad ids.
    () => {
      const idText = pick(r, ['null', '{}', '[]', 'true', '1e400', '-1e400', '[1]', '{"a":1}']);
      out.push({ frame: `{"id":${idText},"method":"process/list"}`, expect: err(INVALID_REQUEST, null), phase: 'post', label: `bad id ${idText}` });
    },
    // Odd-but-valid ids: negative, float, enormous, empty string, long string → echoed.
    () => {
      const id = pick(r, [-1, -9007199254740991, 1.5, 1e308, 2 ** 60, 0, '', 'x'.repeat(1 + Math.floor(r() * 1000)), '\u0000', '🚀']);
      out.push({ frame: req('no/such/method', '{}', id), expect: err(NOT_FOUND, id), phase: 'post', label: `odd id ${String(id).slice(0, 20)}` });
    },
    // method not a string.
    () => {
      const id = nextId();
      const m = pick(r, ['1', 'null', '{}', '[]', 'true']);
      out.push({ frame: `{"id":${JSON.stringify(id)},"method":${m}}`, expect: err(INVALID_REQUEST, id), phase: 'post', label: `method=${m}` });
    },
    // Unknown methods (including notification names sent as requests, and `initialized`).
    () => {
      const id = nextId();
      const m = pick(r, ['process/output', 'process/exited', 'process/closed', 'initialized', 'process/START', 'process/', '', 'fs', 'rpc.discover', '$/cancelRequest', '$/setTrace', 'x'.repeat(1 + Math.floor(r() * 5000)), junk(r, 20, true)]);
      out.push({ frame: req(m, '{}', id), expect: err(NOT_FOUND, id), phase: r() < 0.2 ? 'pre' : 'post', label: `unknown method ${m.slice(0, 20)}` });
    },
    // Known methods before initialize.
    () => {
      const id = nextId();
      const spec = pick(r, METHODS);
      out.push({ frame: req(spec.method, JSON.stringify(spec.base), id), expect: err(INVALID_REQUEST, id), phase: 'pre', label: `${spec.method} before initialize` });
    },
    // Second initialize after the handshake.
    () => {
      const id = nextId();
      out.push({ frame: req('initialize', '{"clientName":"again"}', id), expect: err(INVALID_REQUEST, id), phase: 'post', label: 'initialize twice' });
    },
    // Repeated `initialized` (harmless, no answer).
    () => {
      out.push({ frame: '{"method":"initialized"}', expect: { kind: 'none' }, phase: 'post', label: 'initialized again' });
    },
    // Deeply nested JSON (100k levels) in various places.
    () => {
      const depth = pick(r, [1000, 10_000, 100_000]);
      const id = nextId();
      const which = Math.floor(r() * 5);
      if (which === 0) out.push({ frame: deepArray(depth), expect: err(INVALID_REQUEST, null), phase: 'post', label: `deep array ${depth}` });
      else if (which === 1) out.push({ frame: deepObject(depth), expect: err(INVALID_REQUEST, null), phase: 'post', label: `deep object ${depth}` });
      else if (which === 2) out.push({ frame: req('process/start', withField(METHODS[0].base, 'argv', deepArray(depth)), id), expect: err(INVALID_PARAMS, id), phase: 'post', label: `deep argv ${depth}` });
      else if (which === 3) out.push({ frame: req('fs/readFile', deepObject(depth), id), expect: err(INVALID_PARAMS, id), phase: 'post', label: `deep params ${depth}` });
      else out.push({ frame: `{"id":${deepArray(depth)},"method":"process/list"}`, expect: err(INVALID_REQUEST, null), phase: 'post', label: `deep id ${depth}` });
    },
    // Huge strings (up to 2 MiB) in fields where they are wrong.
    () => {
      if (r() > 0.05) return; // rare: keep the corpus fast
      const size = pick(r, [64 * 1024, 512 * 1024, 2 * 1024 * 1024]);
      const id = nextId();
      const big = JSON.stringify('z'.repeat(size));
      const which = Math.floor(r() * 3);
      if (which === 0) out.push({ frame: req('process/signal', withField(METHODS[3].base, 'signal', big), id), expect: err(INVALID_PARAMS, id), phase: 'post', label: `huge signal ${size}` });
      else if (which === 1) out.push({ frame: req('fs/readFile', withField({}, 'path', big), id), expect: err(INVALID_PARAMS, id), phase: 'post', label: `huge path ${size}` });
      else out.push({ frame: req('process/write', withField(METHODS[2].base, 'chunk', JSON.stringify('!'.repeat(size))), id), expect: err(INVALID_PARAMS, id), phase: 'post', label: `huge bad base64 ${size}` });
    },
    // Unpaired surrogates, NUL and escapes inside otherwise valid strings (ids echo back).
    () => {
      const id = nextId();
      out.push({ frame: req('process/terminate', `{"processId":${pick(r, ['1', 'true', '[]'])},"extra":"\\udfff\\u0000"}`, id), expect: err(INVALID_PARAMS, id), phase: 'post', label: 'surrogates' });
    },
  ];
  while (out.length < target) pick(r, families)();
  return out;
}

/** Cases after which the server must close the connection (each needs a fresh one). */
export function generateCloseCases(seed: number, opts: { maxFrameBytes: number; forStdio?: boolean }): Case[] {
  const r = rng(seed);
  const out: Case[] = [];
  const close1002 = (frame: string, phase: 'pre' | 'post', label: string) => out.push({ frame, expect: { kind: 'close', code: 1002 }, phase, label });
  // Responses from the client.
  for (const t of ['{"id":1,"result":{}}', '{"id":"a","error":{"code":1,"message":"x"}}', '{"id":2,"result":null}', '{"id":3,"error":null}', '{"id":0,"result":[1,2,3]}']) {
    close1002(t, 'post', `client response ${t}`);
    close1002(t, 'pre', `client response (pre) ${t}`);
  }
  // Notifications where requests belong, unknown notifications.
  for (const spec of [...METHODS, { method: 'process/list', base: {} }, { method: 'environment/info', base: {} }]) {
    close1002(`{"method":${JSON.stringify(spec.method)},"params":${JSON.stringify(spec.base)}}`, 'post', `notification ${spec.method}`);
  }
  for (const m of ['initialize', 'process/output', 'exit', '', '$/cancelRequest', '$/progress', '$/setTrace', '$/logTrace', 'x'.repeat(300)]) {
    close1002(`{"method":${JSON.stringify(m)},"params":{"id":1,"token":1,"value":{},"message":"m"}}`, pick(r, ['pre', 'post'] as const), `notification ${m.slice(0, 20)}`);
  }
  close1002('{"method":"initialized"}', 'pre', 'initialized before initialize');
  if (!opts.forStdio) {
    // Oversized frames: WebSocket close 1009.
    for (const extra of [1, 1024, 1024 * 1024]) {
      out.push({ frame: '"' + 'o'.repeat(opts.maxFrameBytes + extra) + '"', expect: { kind: 'close', code: 1009 }, phase: 'post', label: `oversized +${extra}` });
    }
    // Text frames that are not UTF-8: ws closes with 1007.
    for (const bytes of [[0xff], [0x7b, 0xc3, 0x28, 0x7d], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80]]) {
      out.push({ frame: Buffer.from(bytes), rawText: true, expect: { kind: 'close', code: 1007 }, phase: 'post', label: `invalid utf-8 ${bytes}` });
    }
  }
  return out;
}
