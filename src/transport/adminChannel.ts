import type { Readable, Writable } from 'node:stream';
import {
  AdminOutput, AdminOutputDropped, AdminProcessChanged, AdminProcessRemoved, AdminReadyNotification, AdminSessionChanged,
  AdminSessionRemoved, type AdminApi, type AdminReady,
} from '../protocol/admin';
import { ErrorCode, RpcError, toWireError } from '../protocol/errors';
import { decodeMessage, encodeError, encodeNotification, encodeResponse, type RequestId } from '../protocol/jsonrpc';
import type { NotificationMethod } from '../protocol/requestTypes';
import { clip } from '../protocol/validate';
import { adminMethods } from '../server/admin/adminMethods';
import type { MethodTable } from '../server/connection/methodTable';
import { LineSplitter } from './lineFraming';

/**
 * Serves the admin protocol (src/protocol/admin.ts) on a line stream: the CLI's stdin/stdout
 * with `--admin-stdio` (the extension's child mode), or an adopted control socket. Reachable
 * only by the owner that holds the pipe or passed the socket's secret, never over the WebSocket.
 * The codec is the exec protocol's (src/protocol/jsonrpc.ts): a malformed line gets its
 * JSON-RPC error and the channel keeps serving. Closing the input ends the channel.
 *
 * Bounded output: while more than `highWaterMarkBytes` are unsent, admin/output notifications
 * are dropped (the server is never blocked by, nor buffers without limit for, a slow owner;
 * the CLI writes fd 1 asynchronously); every later chunk of a process that lost one is dropped
 * too until the pipe drains, and then one admin/outputDropped {key} per such process is sent.
 * The owner re-fetches from admin/retainedOutput by seq (src/client/adminClient.ts does).
 */
const DEFAULT_ADMIN_HIGH_WATER_MARK = 8 * 1024 * 1024;
/** Requests from the owner are small; this only guards against a runaway line. */
const MAX_REQUEST_LINE_BYTES = 64 * 1024 * 1024;

export interface AdminChannelOptions {
  ready: AdminReady;
  /** Unsent bytes above which admin/output notifications are dropped (default 8 MiB). */
  highWaterMarkBytes?: number;
  /** The owner asked for admin/shutdown (answered before this runs). */
  onShutdown?(): void;
  /** More admin methods on this channel (admin/advertise of the CLI's owner, src/cli/adminOwner.ts). */
  extraMethods?: MethodTable;
}

export interface AdminChannel {
  /** Resolves when the input ends (the owner closed it or died) or the output fails. */
  readonly closed: Promise<void>;
  /** How many admin/output notifications were dropped so far (diagnostics, tests). */
  readonly droppedOutputEvents: number;
  dispose(): void;
}

/** Serve `api` on `input`/`output`; writes admin/ready first, synchronously. */
export function serveAdmin(api: AdminApi, input: Readable, output: Writable, opts: AdminChannelOptions): AdminChannel {
  const hwm = opts.highWaterMarkBytes ?? DEFAULT_ADMIN_HIGH_WATER_MARK;
  const methods: MethodTable = { ...adminMethods(api, { onShutdown: opts.onShutdown }), ...opts.extraMethods };
  let open = true;
  let dropped = 0;
  const droppedKeys = new Set<string>();
  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => (resolveClosed = r));

  const send = (line: string) => {
    if (open) output.write(line + '\n');
  };
  const notify = <P extends object>(m: NotificationMethod<P>, params: P) => send(encodeNotification(m.method, params));

  const onDrain = () => {
    const keys = [...droppedKeys];
    droppedKeys.clear();
    for (const key of keys) notify(AdminOutputDropped, { key });
  };

  notify(AdminReadyNotification, opts.ready);

  const sub = api.subscribe({
    sessionChanged: (s) => notify(AdminSessionChanged, s),
    sessionRemoved: (id) => notify(AdminSessionRemoved, { id }),
    processChanged: (p) => notify(AdminProcessChanged, p),
    processRemoved: (key) => notify(AdminProcessRemoved, { key }),
    output: (key, c) => {
      if (!open) return;
      // writableNeedDrain guarantees a 'drain' event will end the episode.
      if (droppedKeys.has(key) || (output.writableLength > hwm && output.writableNeedDrain)) {
        dropped++;
        if (droppedKeys.size === 0) output.once('drain', onDrain);
        droppedKeys.add(key);
        return;
      }
      notify(AdminOutput, { key, seq: c.seq, stream: c.stream, data: c.data.toString('base64') });
    },
  });

  // Requests run concurrently (none waits on another); each is answered when it settles.
  const dispatch = (id: RequestId, method: string, params: unknown) => {
    const handler = Object.hasOwn(methods, method) ? methods[method] : undefined;
    new Promise((resolve) => {
      if (!handler) throw new RpcError(ErrorCode.MethodNotFound, `method not found: \`${clip(method)}\``);
      resolve(handler(params));
    }).then(
      (result) => send(encodeResponse(id, result)),
      (err: unknown) => send(encodeError(id, toWireError(err))),
    );
  };

  const receive = (line: string) => {
    const d = decodeMessage(line);
    switch (d.kind) {
      case 'request':
        return dispatch(d.id, d.method, d.params);
      case 'invalid':
        return send(encodeError(d.id, { code: d.code, message: d.message }));
      case 'violation':
        // A response from the owner (the server sends it no requests): say so, keep serving.
        return send(encodeError(null, { code: ErrorCode.InvalidRequest, message: d.reason }));
      case 'notification':
        return; // the admin protocol has none from the owner; JSON-RPC answers no notification
    }
  };

  const splitter = new LineSplitter(MAX_REQUEST_LINE_BYTES, receive, () =>
    send(encodeError(null, { code: ErrorCode.InvalidRequest, message: 'message too large: line exceeds the maximum size of an admin request' })),
  );
  const onData = (d: Buffer) => splitter.push(d);
  const dispose = () => {
    if (!open) return;
    open = false;
    sub.dispose();
    input.off('data', onData);
    output.off('drain', onDrain);
    resolveClosed();
  };
  input.on('data', onData);
  input.once('end', dispose);
  input.once('close', dispose);
  input.on('error', dispose);
  output.on('error', dispose);
  return {
    closed,
    get droppedOutputEvents() {
      return dropped;
    },
    dispose,
  };
}
