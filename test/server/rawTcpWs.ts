/**
 * A WebSocket client written by hand on a bare TCP socket (RFC 6455 framing, no library), so a
 * test can behave like a peer that vanished: stop reading, never answer pings, never close.
 * Until `goSilent()` it answers pings like any live client, so only the silence is tested.
 */
import { randomBytes } from 'node:crypto';
import * as net from 'node:net';
import { waitUntil } from '../helpers/procs';

export const Opcode = { text: 0x1, close: 0x8, ping: 0x9, pong: 0xa } as const;

export interface Frame {
  opcode: number;
  payload: Buffer;
  /** Set when the frame arrived after goSilent(). */
  afterSilence: boolean;
}

export class RawTcpWs {
  readonly frames: Frame[] = [];
  ended = false;
  private buf = Buffer.alloc(0);
  private silent = false;
  private nextId = 1;

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('error', () => undefined); // ECONNRESET once the server cuts us
    socket.on('close', () => (this.ended = true));
  }

  /** Performs the upgrade handshake by hand; rejects unless the answer is 101. */
  static async connect(port: number, token: string): Promise<RawTcpWs> {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    socket.write(
      'GET / HTTP/1.1\r\n' +
        `Host: 127.0.0.1:${port}\r\n` +
        'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n' +
        `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\n` +
        `Authorization: Bearer ${token}\r\n\r\n`,
    );
    const head = await new Promise<{ status: string; rest: Buffer }>((resolve, reject) => {
      let acc = Buffer.alloc(0);
      const onData = (d: Buffer) => {
        acc = Buffer.concat([acc, d]);
        const end = acc.indexOf('\r\n\r\n');
        if (end < 0) return;
        socket.off('data', onData);
        resolve({ status: acc.subarray(0, acc.indexOf('\r\n')).toString(), rest: acc.subarray(end + 4) });
      };
      socket.on('data', onData);
      socket.once('close', () => reject(new Error('closed during the upgrade')));
    });
    if (!/^HTTP\/1\.1 101 /.test(head.status)) throw new Error(`upgrade refused: ${head.status}`);
    const c = new RawTcpWs(socket);
    if (head.rest.length) c.onData(head.rest);
    return c;
  }

  /** Sends one masked text frame (clients must mask). */
  sendText(text: string): void {
    this.socket.write(encodeFrame(Opcode.text, Buffer.from(text)));
  }

  /** Sends a request and resolves with its parsed response (bounded wait). */
  async call(method: string, params: unknown): Promise<any> {
    const id = this.nextId++;
    this.sendText(JSON.stringify({ id, method, params }));
    let reply: any;
    await waitUntil(() => {
      reply = this.messages().find((m) => m.id === id);
      return reply !== undefined;
    }, `response to ${method}`);
    return reply;
  }

  messages(): any[] {
    return this.frames.filter((f) => f.opcode === Opcode.text).map((f) => JSON.parse(f.payload.toString()));
  }

  /** From now on: read nothing, answer nothing, close nothing (the peer has vanished). */
  goSilent(): void {
    this.silent = true;
    this.socket.pause();
  }

  /** Read again (to see what the server sent while we were silent, and whether it hung up). */
  wakeUp(): void {
    this.socket.resume();
  }

  destroy(): void {
    this.socket.destroy();
  }

  private onData(d: Buffer): void {
    this.buf = Buffer.concat([this.buf, d]);
    for (;;) {
      const f = decodeFrame(this.buf);
      if (!f) return;
      this.buf = this.buf.subarray(f.size);
      this.frames.push({ opcode: f.opcode, payload: f.payload, afterSilence: this.silent });
      if (f.opcode === Opcode.ping && !this.silent) this.socket.write(encodeFrame(Opcode.pong, f.payload));
    }
  }
}

function encodeFrame(opcode: number, payload: Buffer): Buffer {
  const mask = randomBytes(4);
  const len = payload.length;
  const head = len < 126 ? Buffer.from([0x80 | opcode, 0x80 | len]) : Buffer.alloc(len < 65536 ? 4 : 10);
  if (len >= 126 && len < 65536) {
    head.set([0x80 | opcode, 0x80 | 126]);
    head.writeUInt16BE(len, 2);
  } else if (len >= 65536) {
    head.set([0x80 | opcode, 0x80 | 127]);
    head.writeBigUInt64BE(BigInt(len), 2);
  }
  const body = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]));
  return Buffer.concat([head, mask, body]);
}

/** One unmasked server frame from the front of `b`, or undefined if it is not complete yet. */
function decodeFrame(b: Buffer): { opcode: number; payload: Buffer; size: number } | undefined {
  if (b.length < 2) return undefined;
  let len = b[1] & 0x7f;
  let off = 2;
  if (len === 126) {
    if (b.length < 4) return undefined;
    len = b.readUInt16BE(2);
    off = 4;
  } else if (len === 127) {
    if (b.length < 10) return undefined;
    len = Number(b.readBigUInt64BE(2));
    off = 10;
  }
  if (b.length < off + len) return undefined;
  return { opcode: b[0] & 0x0f, payload: b.subarray(off, off + len), size: off + len };
}
