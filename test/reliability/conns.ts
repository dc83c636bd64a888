/** WebSocket and stdio connections for the corpus driver (see driver.ts). */
import type { ChildProcess } from 'node:child_process';
import WebSocket from 'ws';
import type { Case } from './corpus';
import { waker, type Conn, type Json } from './driver';

export class WsConn implements Conn {
  readonly inbox: Json[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private readonly w = waker();
  private constructor(readonly ws: WebSocket) {
    this.closed = new Promise((resolve) =>
      ws.once('close', (code, reason) => {
        this.w.poke();
        resolve({ code, reason: reason.toString() });
      }),
    );
    ws.on('error', () => undefined);
    ws.on('message', (data) => {
      this.inbox.push(JSON.parse(data.toString()));
      this.w.poke();
    });
  }

  static async open(url: string, token: string | null): Promise<WsConn> {
    const ws = new WebSocket(url, { headers: token ? { authorization: `Bearer ${token}` } : {}, perMessageDeflate: false, maxPayload: 256 * 1024 * 1024 });
    const c = new WsConn(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    return c;
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }
  wake(): Promise<void> {
    return this.w.wake();
  }
  sendText(text: string): void {
    this.ws.send(text);
  }
  sendCase(c: Case): void {
    if (typeof c.frame === 'string') this.ws.send(c.frame);
    else this.ws.send(c.frame, { binary: !c.rawText });
  }

  /** Sends a request and waits (bounded) for its answer. */
  async call(id: string, method: string, params?: unknown): Promise<Json> {
    const start = this.inbox.length;
    this.ws.send(JSON.stringify({ id, method, params }));
    return waitAnswer(this, id, start);
  }

  async handshake(): Promise<Json> {
    const r = await this.call('hs-init', 'initialize', { clientName: 'reliability' });
    if (!r.result) throw new Error(`initialize failed: ${JSON.stringify(r)}`);
    this.ws.send(JSON.stringify({ method: 'initialized' }));
    return r.result;
  }

  close(): Promise<unknown> {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(1000);
    return this.closed;
  }
}

export class StdioConn implements Conn {
  readonly inbox: Json[] = [];
  readonly ended: Promise<void>;
  private open = true;
  private buf = '';
  private readonly w = waker();
  constructor(readonly proc: ChildProcess) {
    proc.stdout!.setEncoding('utf8');
    proc.stdout!.on('data', (d: string) => {
      this.buf += d;
      let nl: number;
      while ((nl = this.buf.indexOf('\n')) !== -1) {
        const line = this.buf.slice(0, nl);
        this.buf = this.buf.slice(nl + 1);
        if (line.trim()) this.inbox.push(JSON.parse(line));
      }
      this.w.poke();
    });
    proc.stdin!.on('error', () => undefined);
    this.ended = new Promise((resolve) =>
      proc.stdout!.once('end', () => {
        this.open = false;
        this.w.poke();
        resolve();
      }),
    );
  }
  get isOpen(): boolean {
    return this.open;
  }
  wake(): Promise<void> {
    return this.w.wake();
  }
  sendText(text: string): void {
    this.proc.stdin!.write(text + '\n');
  }
  sendCase(c: Case): void {
    this.proc.stdin!.write(c.frame);
    this.proc.stdin!.write('\n');
  }
  async call(id: string, method: string, params?: unknown): Promise<Json> {
    const start = this.inbox.length;
    this.sendText(JSON.stringify({ id, method, params }));
    return waitAnswer(this, id, start);
  }
  async handshake(): Promise<Json> {
    const r = await this.call('hs-init', 'initialize', { clientName: 'reliability' });
    if (!r.result) throw new Error(`initialize failed: ${JSON.stringify(r)}`);
    this.sendText(JSON.stringify({ method: 'initialized' }));
    return r.result;
  }
}

async function waitAnswer(c: Conn, id: string, from: number): Promise<Json> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    for (let i = from; i < c.inbox.length; i++) {
      const m = c.inbox[i];
      if (m && m.id === id && ('result' in m || 'error' in m)) return m;
    }
    if (!c.isOpen) throw new Error(`connection closed waiting for ${id}`);
    if (Date.now() > deadline) throw new Error(`no answer to ${id}`);
    await c.wake();
  }
}

/** A process/start request for a long-lived process holding no stdin. */
export function liveStart(processId: string): Record<string, unknown> {
  return { processId, argv: ['sleep', '600'], cwd: '/tmp', env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, tty: false, arg0: null };
}
