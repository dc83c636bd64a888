// A tiny loopback WebSocket proxy that records every JSON-RPC frame between a client (codex) and an
// exec server. Used to validate the harness against the reference server; not needed by the tests.
//
//   const proxy = await startLogProxy({ upstream: 'ws://127.0.0.1:PORT', logFile: '/tmp/frames.jsonl' });
//   // point codex at proxy.url (path, query and Authorization header are passed through)
//   proxy.frames  // [{t, conn, dir: 'handshake'|'c2s'|'s2c'|'open'|'close'|'reject', ...}]
//   await proxy.close();
//
// `authorize(req)` may return {status, body} to refuse an upgrade request before it is forwarded.
// `intercept(msg, conn)` may return a JSON-RPC response object to answer a client request itself
// instead of forwarding it (e.g. to see how codex reacts to a process/start error).
//
// CLI: node test/interop/wsLogProxy.mjs ws://127.0.0.1:UPSTREAM_PORT [logFile]   (prints its URL)
import http from 'node:http';
import { appendFileSync } from 'node:fs';
import { WebSocket, WebSocketServer } from 'ws';

/**
 * @param {{ upstream: string, logFile?: string, port?: number,
 *   intercept?: (msg: any, conn: number) => object | null | undefined,
 *   authorize?: (req: import('node:http').IncomingMessage) => { status: number, body?: string } | null | undefined }} opts
 */
export async function startLogProxy({ upstream, logFile, intercept, authorize, port = 0 }) {
  const frames = [];
  const t0 = Date.now();
  let connCounter = 0;
  const record = (f) => {
    const entry = { t: Date.now() - t0, ...f };
    frames.push(entry);
    if (logFile) appendFileSync(logFile, JSON.stringify(entry) + '\n');
  };
  const parse = (data) => {
    try {
      return { msg: JSON.parse(data.toString('utf8')) };
    } catch {
      return { raw: data.toString('utf8') };
    }
  };

  const wss = new WebSocketServer({ noServer: true });
  const sockets = new Set();
  const server = http.createServer((req, res) => {
    record({ dir: 'http', method: req.method, url: req.url });
    res.writeHead(404).end();
  });
  server.on('upgrade', (req, socket, head) => {
    const conn = ++connCounter;
    record({ conn, dir: 'handshake', url: req.url, headers: req.headers });
    const refusal = authorize?.(req);
    if (refusal) {
      const body = refusal.body ?? '';
      record({ conn, dir: 'reject', status: refusal.status, body, local: true });
      socket.end(`HTTP/1.1 ${refusal.status} Refused\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
      return;
    }
    /** @type {Record<string, string | string[]>} */
    const headers = {};
    for (const h of ['authorization', 'origin', 'user-agent']) if (req.headers[h]) headers[h] = req.headers[h];
    const up = new WebSocket(upstream.replace(/\/$/, '') + req.url, { headers, perMessageDeflate: false });
    let done = false;
    up.once('unexpected-response', (_r, res) => {
      done = true;
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => {
        record({ conn, dir: 'reject', status: res.statusCode, body });
        socket.end(`HTTP/1.1 ${res.statusCode} ${res.statusMessage}\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
      });
    });
    up.once('error', (e) => {
      if (done) return;
      done = true;
      record({ conn, dir: 'upstream-error', error: String(e.message) });
      socket.destroy();
    });
    up.once('open', () => {
      done = true;
      record({ conn, dir: 'open' });
      wss.handleUpgrade(req, socket, head, (client) => {
        sockets.add(client);
        sockets.add(up);
        const pending = [];
        client.on('message', (data, isBinary) => {
          const p = parse(data);
          record({ conn, dir: 'c2s', ...p, binary: isBinary });
          if (intercept && p.msg) {
            const reply = intercept(p.msg, conn);
            if (reply) {
              record({ conn, dir: 's2c', msg: reply, intercepted: true });
              client.send(JSON.stringify(reply));
              return;
            }
          }
          if (up.readyState === WebSocket.OPEN) up.send(data, { binary: isBinary });
          else pending.push([data, isBinary]);
        });
        up.on('message', (data, isBinary) => {
          record({ conn, dir: 's2c', ...parse(data), binary: isBinary });
          if (client.readyState === WebSocket.OPEN) client.send(data, { binary: isBinary });
        });
        client.on('close', (code, reason) => {
          record({ conn, dir: 'client-close', code, reason: reason.toString() });
          up.close();
        });
        up.on('close', (code, reason) => {
          record({ conn, dir: 'upstream-close', code, reason: reason.toString() });
          if (client.readyState === WebSocket.OPEN) client.close();
        });
        client.on('error', () => {});
        up.on('error', () => {});
      });
    });
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(undefined));
  });
  const actualPort = /** @type {import('node:net').AddressInfo} */ (server.address()).port;
  return {
    url: `ws://127.0.0.1:${actualPort}`,
    port: actualPort,
    frames,
    /** Client->server requests (c2s) with the given method. */
    requests: (method) => frames.filter((f) => f.dir === 'c2s' && f.msg?.method === method).map((f) => f.msg),
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.terminate();
        server.closeAllConnections?.();
        server.close(() => resolve(undefined));
      }),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [upstream, logFile] = process.argv.slice(2);
  if (!upstream) {
    console.error('usage: node wsLogProxy.mjs ws://127.0.0.1:PORT [logFile]');
    process.exit(2);
  }
  const p = await startLogProxy({ upstream, logFile });
  console.log(p.url);
}
