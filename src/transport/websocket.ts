import * as http from 'node:http';
import type { Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { ExecServer } from '../server/execServer';
import { encodeOutputFrame } from '../protocol/jsonrpc';
import { checkUpgrade, isLoopbackHost } from './auth';
import { CloseCode, serveConnection } from './rpcEndpoint';

export interface WebSocketListenOptions {
  host?: string;
  port?: number;
  /** Required unless the host is loopback and auth is explicitly disabled (null). */
  token: string | null;
  /** Largest accepted frame; larger ones close the connection with 1009. */
  maxFrameBytes?: number;
  /** Unsent bytes per connection above which its processes are paused. */
  highWaterMarkBytes?: number;
  /**
   * Ping every connection this often; one that sent nothing at all (no pong, no frame)
   * between two pings is cut. 0 turns the heartbeat off. Default 30 s.
   */
  heartbeatMs?: number;
}

export interface WebSocketListener {
  readonly host: string;
  readonly port: number;
  readonly url: string;
  readonly connectionCount: number;
  close(): Promise<void>;
}

export const DEFAULT_MAX_FRAME_BYTES = 64 * 1024 * 1024;
export const DEFAULT_HIGH_WATER_MARK = 4 * 1024 * 1024;
const DEFAULT_HEARTBEAT_MS = 30_000;

/**
 * Reused buffers for output frames (a 64 KiB chunk is ~87 KiB of frame). A frame is released
 * once the socket has taken it; without reuse, frames queued behind a slow client live long
 * enough to be promoted and pile up as dead external memory until a full GC.
 */
const framePool = (() => {
  const SLAB = 96 * 1024;
  const free: Buffer[] = [];
  return {
    acquire: (n: number): Buffer => (n > SLAB ? Buffer.allocUnsafeSlow(n) : (free.pop() ?? Buffer.allocUnsafeSlow(SLAB))),
    release: (b: Buffer): void => {
      if (b.length === SLAB && free.length < 64) free.push(b);
    },
  };
})();

/** The WebSocket transport: `/` upgrades (after the checks in auth.ts), `/readyz` answers 200. */
export async function listenWebSocket(server: ExecServer, opts: WebSocketListenOptions): Promise<WebSocketListener> {
  const host = opts.host ?? '127.0.0.1';
  if (opts.token === null && !isLoopbackHost(host)) {
    throw new Error(`refusing to listen on non-loopback address ${host} without a token`);
  }
  if (opts.token !== null && opts.token.length === 0) throw new Error('the token must not be empty');
  const hwm = opts.highWaterMarkBytes ?? DEFAULT_HIGH_WATER_MARK;
  const http1 = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (req.method === 'GET' && path === '/readyz') {
      res.writeHead(200, { 'content-length': '0' }).end();
    } else if (path === '/') {
      res.writeHead(426, { 'content-type': 'text/plain', connection: 'close' }).end('this endpoint only accepts WebSocket upgrades\n');
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  });
  http1.on('connection', (s: Socket) => s.setNoDelay(true));
  const wss = new WebSocketServer({ noServer: true, maxPayload: opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES, perMessageDeflate: false });
  const sockets = new Set<WebSocket>();
  const heartbeat = startHeartbeat(opts.heartbeatMs ?? DEFAULT_HEARTBEAT_MS);
  let port = 0;

  http1.on('upgrade', (req, socket: Socket, head) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const verdict = path !== '/' ? { ok: false, status: 404, reason: 'not found' } : checkUpgrade(req, { token: opts.token, port, host });
    if (!verdict.ok) {
      const body = `${verdict.reason}\n`;
      socket.end(
        `HTTP/1.1 ${verdict.status} ${http.STATUS_CODES[verdict.status!]}\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
      );
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => attach(ws, socket));
  });

  function attach(ws: WebSocket, socket: Socket): void {
    sockets.add(ws);
    heartbeat.watch(ws, socket);
    const conn = serveConnection(server, {
      send: (text) => {
        if (ws.readyState === ws.OPEN) ws.send(text);
      },
      sendOutput: (processId, seq, stream, data) => {
        if (ws.readyState !== ws.OPEN) return;
        let slab: Buffer | undefined;
        const frame = encodeOutputFrame(processId, seq, stream, data, (n) => (slab = framePool.acquire(n)));
        ws.send(frame, { binary: false }, () => framePool.release(slab!));
      },
      close: (code, reason) => ws.close(code, reason.slice(0, 120)),
      get congested() {
        return ws.bufferedAmount > hwm;
      },
      onceDrained: (cb) => {
        const check = () => {
          if (ws.readyState !== ws.OPEN || ws.bufferedAmount <= hwm / 2) cb();
          else socket.once('drain', check);
        };
        check();
      },
    });
    ws.on('message', (data, isBinary) => {
      // Binary frames holding JSON are accepted too, as upstream does.
      conn.receive(isBinary ? Buffer.concat(([] as Buffer[]).concat(data as Buffer | Buffer[])).toString('utf8') : data.toString());
    });
    ws.on('error', () => undefined); // e.g. 1009 on an oversized frame: ws closes it itself
    ws.on('close', () => {
      sockets.delete(ws);
      heartbeat.forget(ws);
      conn.closed();
    });
  }

  await new Promise<void>((resolve, reject) => {
    http1.once('error', reject);
    http1.listen(opts.port ?? 0, host, () => {
      http1.off('error', reject);
      resolve();
    });
  });
  port = (http1.address() as { port: number }).port;
  const urlHost = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return {
    host,
    port,
    url: `ws://${urlHost}:${port}`,
    get connectionCount() {
      return sockets.size;
    },
    close: async () => {
      heartbeat.stop();
      const closing = new Promise<void>((r) => http1.close(() => r()));
      for (const ws of sockets) ws.close(CloseCode.GoingAway, 'server shutting down');
      // Give peers a moment to answer the close frame, then cut whoever did not.
      for (let i = 0; i < 25 && sockets.size > 0; i++) await new Promise((r) => setTimeout(r, 20));
      for (const ws of sockets) ws.terminate();
      http1.closeAllConnections();
      await closing;
    },
  };
}

/**
 * Half-open connections: a peer that vanished without a close frame (a crashed machine, a
 * dropped NAT mapping, a frozen process) would otherwise hold its session and processes
 * forever, because TCP alone never notices an idle dead peer. Every `periodMs` each
 * connection is pinged; one from which not a single byte arrived since the previous ping
 * (a pong, a request, a ping of its own, part of a frame: anything proves it is there) is
 * terminated, which runs the normal disconnect path (seed session: processes terminated;
 * resumable session: detached for its TTL).
 */
function startHeartbeat(periodMs: number) {
  const heard = new Map<WebSocket, boolean>();
  let lastTick = Date.now();
  const timer =
    periodMs > 0
      ? setInterval(() => {
          const now = Date.now();
          // A late tick means our own event loop was blocked: the pongs may be sitting unread
          // in the kernel, so judge nobody this round, just ping again.
          const judge = now - lastTick < periodMs * 1.5;
          lastTick = now;
          for (const [ws, alive] of heard) {
            if (judge && !alive) {
              ws.terminate();
              continue;
            }
            heard.set(ws, false);
            if (ws.readyState === ws.OPEN) ws.ping();
          }
        }, periodMs)
      : undefined;
  timer?.unref();
  return {
    watch(ws: WebSocket, socket: Socket): void {
      if (!timer) return;
      heard.set(ws, true);
      socket.on('data', () => {
        if (heard.has(ws)) heard.set(ws, true);
      });
    },
    forget: (ws: WebSocket) => heard.delete(ws),
    stop: () => clearInterval(timer),
  };
}
