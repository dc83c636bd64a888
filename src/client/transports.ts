import type { ChildProcess } from 'node:child_process';
import WebSocket from 'ws';
import { createMessageConnection, ResponseError, type Message } from 'vscode-jsonrpc/node';
import { RpcError } from '../protocol/errors';
import type { ExecServer } from '../server/execServer';
import { connectInProcess } from '../transport/inProcess';
import { LineSplitter } from '../transport/lineFraming';
import { FrameMessageWriter, PushMessageReader } from './messageAdapters';

/** What the typed client needs from a transport. */
export interface ClientTransport {
  request(method: string, params: unknown): Promise<unknown>;
  notify(method: string, params: unknown): void;
  close(): void;
  /**
   * Flow control (WebSocket only): stop reading incoming messages until resumed. A consumer
   * whose sink is full (a slow stdout) pauses, the server's send buffer fills, and the server
   * pauses the processes feeding it (session.ts): end-to-end backpressure.
   */
  pause?(): void;
  resume?(): void;
}

export interface TransportCallbacks {
  notification(method: string, params: Record<string, unknown>): void;
  closed(reason: string): void;
}

/** JSON-RPC over any message-framed channel, through vscode-jsonrpc. */
function rpcOverFrames(send: (text: string) => void, close: () => void, cb: TransportCallbacks) {
  const reader = new PushMessageReader();
  const connection = createMessageConnection(reader, new FrameMessageWriter(send));
  connection.onNotification((method, params) => cb.notification(method, (params ?? {}) as Record<string, unknown>));
  connection.listen();
  const transport: ClientTransport = {
    request: async (method, params) => {
      try {
        return await connection.sendRequest(method, params);
      } catch (err) {
        if (err instanceof ResponseError) throw new RpcError(err.code, err.message, err.data);
        throw err;
      }
    },
    notify: (method, params) => void connection.sendNotification(method, params),
    close,
  };
  return {
    transport,
    receive: (text: string) => {
      let msg: Message;
      try {
        msg = JSON.parse(text) as Message;
      } catch {
        return; // a server never sends invalid JSON; ignore rather than crash the client
      }
      reader.push({ ...msg, jsonrpc: '2.0' } as Message);
    },
    dispose: () => connection.dispose(),
  };
}

export interface WebSocketTransportOptions {
  token?: string;
  /** Send the token as `?token=` instead of an Authorization header. */
  tokenInQuery?: boolean;
  connectTimeoutMs?: number;
  headers?: Record<string, string>;
}

export async function openWebSocket(url: string, opts: WebSocketTransportOptions, cb: TransportCallbacks): Promise<ClientTransport> {
  const target = new URL(url);
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token && opts.tokenInQuery) target.searchParams.set('token', opts.token);
  else if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  const ws = new WebSocket(target, { headers, handshakeTimeout: opts.connectTimeoutMs ?? 10_000, perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => reject(new Error(`WebSocket upgrade refused: HTTP ${res.statusCode} ${body.trim()}`)));
    });
  });
  (ws as unknown as { _socket?: { setNoDelay(v: boolean): void } })._socket?.setNoDelay(true);
  const rpc = rpcOverFrames((t) => ws.send(t), () => ws.close(1000), cb);
  ws.on('message', (data) => rpc.receive(data.toString()));
  ws.on('error', () => undefined);
  ws.on('close', (code, reason) => {
    rpc.dispose();
    cb.closed(`websocket closed (${code}${reason.length ? `: ${reason.toString()}` : ''})`);
  });
  return { ...rpc.transport, pause: () => ws.pause(), resume: () => ws.resume() };
}

/** JSON lines over a child's stdin/stdout (a server started with `--listen stdio://`). */
export function openStdio(child: ChildProcess, cb: TransportCallbacks): ClientTransport {
  const rpc = rpcOverFrames((t) => child.stdin!.write(t + '\n'), () => child.stdin!.end(), cb);
  const splitter = new LineSplitter(256 * 1024 * 1024, (line) => rpc.receive(line), () => undefined);
  child.stdout!.on('data', (d: Buffer) => splitter.push(d));
  child.stdin!.on('error', () => undefined);
  child.once('exit', () => {
    rpc.dispose();
    cb.closed('server process exited');
  });
  return rpc.transport;
}

export function openInProcess(server: ExecServer, cb: TransportCallbacks): ClientTransport {
  const conn = connectInProcess(server, (m, p) => cb.notification(m, p as Record<string, unknown>), (r) => cb.closed(r));
  return {
    request: (method, params) => conn.request(method, params),
    notify: (method) => conn.notify(method),
    close: () => conn.close(),
  };
}
