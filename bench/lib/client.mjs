// A deliberately cheap exec-server client over raw `ws`: it speaks just enough of the protocol
// (initialize/initialized, process/start, process/write, notifications) for the benchmarks and
// decodes only what it counts. `process/output` frames are never JSON-parsed or converted to a
// string: the processId and the base64 chunk are located with Buffer.indexOf and the decoded
// length is computed from the base64 length. Works against this server and `codex exec-server`
// 0.169 alike (file:// cwd, writeId on every write, no "jsonrpc" needed).
import { pathToFileURL } from 'node:url';
import WebSocket from 'ws';

const OUTPUT_PREFIX = Buffer.from('{"method":"process/output"');
const PROCESS_ID_KEY = Buffer.from('"processId":"');
const CHUNK_KEY = Buffer.from('"chunk":"');
const QUOTE = 0x22;
const NEWLINE = 0x0a;

/** Decoded byte length of the base64 text data[s..e). */
function base64Length(data, s, e) {
  const n = e - s;
  if (n === 0) return 0;
  let pad = 0;
  if (data[e - 1] === 0x3d) pad = data[e - 2] === 0x3d ? 2 : 1;
  return ((n * 3) >> 2) - pad;
}

/** One process as the client sees it: counts, and promises for its lifecycle. */
export class Proc {
  constructor(id, countLines) {
    this.id = id;
    this.countLines = countLines;
    this.bytes = 0;
    this.chunks = 0;
    this.lines = 0;
    this.exitCode = null;
    this.waitTarget = 0;
    /** @type {(() => void) | null} */
    this.waitResolve = null;
    /** @type {() => void} */
    this.resolveClosed = () => {}; // replaced by the executor below
    /** @type {Promise<void>} */
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    /** The process/start response, set by Client.start(). @type {Promise<unknown> | undefined} */
    this.started = undefined;
  }

  /** Resolves once the cumulative decoded output reaches `target` bytes. */
  waitBytes(target) {
    if (this.bytes >= target) return Promise.resolve();
    this.waitTarget = target;
    return /** @type {Promise<void>} */ (new Promise((resolve) => (this.waitResolve = resolve)));
  }

  _chunk(data, s, e) {
    this.chunks++;
    this.bytes += base64Length(data, s, e);
    if (this.countLines) {
      const buf = Buffer.from(data.latin1Slice(s, e), 'base64');
      let i = -1;
      while ((i = buf.indexOf(NEWLINE, i + 1)) !== -1) this.lines++;
    }
    if (this.waitResolve !== null && this.bytes >= this.waitTarget) {
      const r = this.waitResolve;
      this.waitResolve = null;
      r();
    }
  }
}

export class Client {
  /** @param {{url: string, headers: Record<string,string>}} server */
  static connect(server, timeoutMs = 10_000) {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(server.url, { headers: server.headers, perMessageDeflate: false, maxPayload: 512 * 1024 * 1024 });
      const timer = setTimeout(() => {
        ws.terminate();
        reject(new Error(`connect to ${server.url} timed out`));
      }, timeoutMs);
      ws.once('open', () => {
        clearTimeout(timer);
        resolve(new Client(ws));
      });
      ws.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  constructor(ws) {
    this.ws = ws;
    this.nextId = 1;
    this.pending = new Map();
    this.procs = new Map();
    this.cwd = pathToFileURL(process.cwd()).href;
    this.env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', LANG: 'C', TERM: 'xterm-256color' };
    this.closedPromise = new Promise((resolve) => ws.once('close', resolve));
    ws.on('error', () => undefined);
    ws.on('close', () => {
      for (const { reject } of this.pending.values()) reject(new Error('connection closed'));
      this.pending.clear();
      for (const p of this.procs.values()) p.resolveClosed(); // what did not arrive counts as lost
    });
    ws.on('message', (data) => this._message(data));
  }

  async init() {
    const r = await this.request('initialize', { clientName: 'exec-server-bench' });
    this.notify('initialized', {});
    return r;
  }

  request(method, params) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.ws.send(`{"id":${id},"method":"${method}","params":${JSON.stringify(params)}}`);
    });
  }

  notify(method, params) {
    this.ws.send(JSON.stringify({ method, params }));
  }

  /** Registers the process before asking for it, so no early output is missed. */
  start(processId, argv, { tty = false, pipeStdin = false, countLines = false } = {}) {
    const p = new Proc(processId, countLines);
    this.procs.set(processId, p);
    p.started = this.request('process/start', { processId, argv, cwd: this.cwd, env: this.env, tty, pipeStdin });
    p.started.catch(() => p.resolveClosed());
    return p;
  }

  /** Fire-and-forget write (the response is consumed but not awaited). */
  write(processId, base64, writeId) {
    const id = this.nextId++;
    this.pending.set(id, NOOP_PENDING);
    this.ws.send(`{"id":${id},"method":"process/write","params":{"processId":"${processId}","chunk":"${base64}","writeId":"${writeId}"}}`);
  }

  close(timeoutMs = 2000) {
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    this.ws.close(1000);
    const t = setTimeout(() => this.ws.terminate(), timeoutMs);
    return this.closedPromise.then(() => clearTimeout(t));
  }

  _message(data) {
    if (data.length > OUTPUT_PREFIX.length && data.compare(OUTPUT_PREFIX, 0, OUTPUT_PREFIX.length, 0, OUTPUT_PREFIX.length) === 0) {
      const i = data.indexOf(PROCESS_ID_KEY, OUTPUT_PREFIX.length) + PROCESS_ID_KEY.length;
      const j = data.indexOf(QUOTE, i);
      const p = this.procs.get(data.latin1Slice(i, j));
      if (p === undefined) return;
      const s = data.indexOf(CHUNK_KEY, j) + CHUNK_KEY.length;
      p._chunk(data, s, data.indexOf(QUOTE, s));
      return;
    }
    const msg = JSON.parse(data.toString());
    if (msg.method === undefined) {
      const w = this.pending.get(msg.id);
      if (w === undefined) return;
      this.pending.delete(msg.id);
      if (msg.error) w.reject(Object.assign(new Error(msg.error.message), { code: msg.error.code }));
      else w.resolve(msg.result);
      return;
    }
    const p = msg.params && this.procs.get(msg.params.processId);
    if (!p) return;
    if (msg.method === 'process/exited') p.exitCode = msg.params.exitCode;
    else if (msg.method === 'process/closed') p.resolveClosed();
  }
}

const NOOP_PENDING = { resolve() {}, reject() {} };
