/**
 * A raw WebSocket peer (the `ws` package) that sends exact frames and collects everything the
 * server sends, for wire-level assertions (no "jsonrpc" key, error ids, close codes).
 */
import { randomBytes } from 'node:crypto';
import * as http from 'node:http';
import WebSocket from 'ws';

export type Json = any;

export interface RawOptions {
  token?: string | null;
  tokenInQuery?: boolean;
  headers?: Record<string, string>;
  /** Keep every parsed message in `messages` (default true; off for bulk-output tests). */
  keep?: boolean;
}

interface Waiter {
  pred: (m: Json) => boolean;
  resolve: (m: Json) => void;
}

export class RawWs {
  readonly messages: Json[] = [];
  /** The raw text of every frame, in arrival order. */
  readonly texts: string[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  onMessage: ((m: Json) => void) | undefined;
  private waiters = new Set<Waiter>();
  private nextId = 1000;

  private constructor(
    readonly ws: WebSocket,
    private readonly keep: boolean,
  ) {
    this.closed = new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    ws.on('error', () => undefined);
    ws.on('message', (data) => {
      const text = data.toString();
      const m = JSON.parse(text);
      if (this.keep) {
        this.texts.push(text);
        this.messages.push(m);
      }
      this.onMessage?.(m);
      for (const w of [...this.waiters]) {
        if (w.pred(m)) {
          this.waiters.delete(w);
          w.resolve(m);
        }
      }
    });
  }

  static async open(url: string, o: RawOptions = {}): Promise<RawWs> {
    const target = new URL(url);
    const headers: Record<string, string> = { ...o.headers };
    if (o.token && o.tokenInQuery) target.searchParams.set('token', o.token);
    else if (o.token) headers.authorization = `Bearer ${o.token}`;
    const ws = new WebSocket(target, { headers, perMessageDeflate: false, maxPayload: 512 * 1024 * 1024 });
    const raw = new RawWs(ws, o.keep ?? true);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: HTTP ${res.statusCode}`)));
    });
    return raw;
  }

  sendText(text: string): void {
    this.ws.send(text);
  }

  send(obj: unknown): void {
    this.ws.send(JSON.stringify(obj));
  }

  /** Resolves with the first message (already received or future) matching `pred`. */
  waitFor(pred: (m: Json) => boolean, what = 'a message', timeoutMs = 15_000): Promise<Json> {
    const have = this.messages.find(pred);
    if (have) return Promise.resolve(have);
    return new Promise((resolve, reject) => {
      const w: Waiter = {
        pred,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(w);
        reject(new Error(`timed out waiting for ${what}; got: ${this.texts.slice(-10).join('\n')}`));
      }, timeoutMs);
      this.waiters.add(w);
    });
  }

  /** Sends a request (optionally with an exact id) and resolves with the whole response message. */
  async call(method: string, params?: unknown, id: number | string = this.nextId++): Promise<Json> {
    const msg: Json = { id, method };
    if (params !== undefined) msg.params = params;
    const reply = this.waitFor((m) => m.id === id && ('result' in m || 'error' in m), `response to ${method} (id ${id})`);
    this.send(msg);
    return reply;
  }

  /** `call`, expecting a result: returns it, or throws with the error. */
  async result(method: string, params?: unknown): Promise<Json> {
    const r = await this.call(method, params);
    if (r.error) throw new Error(`${method} failed: ${JSON.stringify(r.error)}`);
    return r.result;
  }

  notify(method: string, params: unknown = {}): void {
    this.send({ method, params });
  }

  /** initialize + initialized; `extra` adds fields such as resumeSessionId. */
  async handshake(clientName = 'raw-test', extra: Record<string, unknown> = {}): Promise<Json> {
    const r = await this.result('initialize', { clientName, ...extra });
    this.notify('initialized');
    return r;
  }

  notifications(method: string, processId?: string): Json[] {
    return this.messages.filter((m) => m.method === method && (processId === undefined || m.params?.processId === processId));
  }

  /** Concatenated decoded output of one process so far. */
  output(processId: string): string {
    return Buffer.concat(this.notifications('process/output', processId).map((m) => Buffer.from(m.params.chunk, 'base64'))).toString();
  }

  waitOutput(processId: string, needle: string, timeoutMs = 15_000): Promise<Json> {
    return this.waitFor(
      (m) => m.method === 'process/output' && m.params.processId === processId && this.output(processId).includes(needle),
      `output ${JSON.stringify(needle)} from ${processId}`,
      timeoutMs,
    );
  }

  waitClosedNotification(processId: string, timeoutMs = 15_000): Promise<Json> {
    return this.waitFor((m) => m.method === 'process/closed' && m.params.processId === processId, `process/closed for ${processId}`, timeoutMs);
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  close(): Promise<{ code: number; reason: string }> {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(1000);
    return this.closed;
  }

  /** Drop the TCP connection without a close handshake. */
  terminate(): Promise<{ code: number; reason: string }> {
    this.ws.terminate();
    return this.closed;
  }
}

/**
 * A bare HTTP upgrade request with exact headers (no WebSocket library defaults), for the
 * auth/Origin/Host checks. Resolves with the status and body (101 when upgraded).
 */
export function tryUpgrade(
  port: number,
  o: { path?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1',
      port,
      path: o.path ?? '/',
      headers: {
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': randomBytes(16).toString('base64'),
        ...o.headers,
      },
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, body: '', headers: res.headers });
    });
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error('upgrade request timed out')));
    req.end();
  });
}

export function httpGet(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

export const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');
export const unb64 = (s: string) => Buffer.from(s, 'base64').toString();

/** process/start params with sensible defaults: cwd /tmp, env {PATH}, pipes. */
export function startParams(processId: string, argv: string[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    processId,
    argv,
    cwd: '/tmp',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    tty: false,
    arg0: null,
    ...extra,
  };
}
