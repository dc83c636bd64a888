import { ErrorCode } from './errors';
import { Method } from './methods';

/**
 * Framing-independent JSON-RPC (de)serialisation. Outgoing messages omit `"jsonrpc"` as the
 * seed specifies; incoming ones may carry it or not. No I/O here.
 */
export type RequestId = string | number;

export type Decoded =
  | { kind: 'request'; id: RequestId; method: string; params: unknown }
  | { kind: 'notification'; method: string; params: unknown }
  /** Answer with this error and keep serving. */
  | { kind: 'invalid'; id: RequestId | null; code: number; message: string }
  /** The peer sent something only a broken client sends (a response): close the connection. */
  | { kind: 'violation'; reason: string };

export function decodeMessage(text: string): Decoded {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch (err) {
    return { kind: 'invalid', id: null, code: ErrorCode.ParseError, message: `parse error: ${(err as Error).message}` };
  }
  if (Array.isArray(msg)) {
    return { kind: 'invalid', id: null, code: ErrorCode.InvalidRequest, message: 'batch requests are not supported: send one JSON-RPC object per message' };
  }
  if (typeof msg !== 'object' || msg === null) {
    return { kind: 'invalid', id: null, code: ErrorCode.InvalidRequest, message: 'expected a JSON-RPC object' };
  }
  const m = msg as Record<string, unknown>;
  const hasId = 'id' in m;
  const idOk = typeof m.id === 'string' || (typeof m.id === 'number' && Number.isFinite(m.id));
  const id = idOk ? (m.id as RequestId) : null;
  if (typeof m.method !== 'string') {
    if (hasId && ('result' in m || 'error' in m)) {
      return { kind: 'violation', reason: 'clients must not send responses: this server sends no requests' };
    }
    return { kind: 'invalid', id, code: ErrorCode.InvalidRequest, message: '`method` must be a string' };
  }
  if ('params' in m && m.params !== null && typeof m.params !== 'object') {
    return { kind: 'invalid', id, code: ErrorCode.InvalidRequest, message: '`params` must be an object or an array' };
  }
  if (!hasId) return { kind: 'notification', method: m.method, params: m.params };
  if (!idOk) {
    return { kind: 'invalid', id: null, code: ErrorCode.InvalidRequest, message: '`id` must be a string or a number' };
  }
  return { kind: 'request', id: id!, method: m.method, params: m.params };
}

export function encodeResponse(id: RequestId | null, result: unknown): string {
  return JSON.stringify({ id, result: result === undefined ? null : result });
}

export function encodeError(id: RequestId | null, error: { code: number; message: string; data?: unknown }): string {
  return JSON.stringify({ id, error });
}

/**
 * Notifications; output chunks arrive as Buffers and are base64-encoded straight into the
 * frame (the hot path: no intermediate object, no generic JSON walk of the payload).
 */
export function encodeNotification(method: string, params: object): string {
  if (method === Method.processOutput) {
    const p = params as { processId: string; seq: number; stream: string; chunk: Buffer | string };
    const chunk = typeof p.chunk === 'string' ? p.chunk : p.chunk.toString('base64');
    return `{"method":"process/output","params":{"processId":${JSON.stringify(p.processId)},"seq":${p.seq},"stream":"${p.stream}","chunk":"${chunk}"}}`;
  }
  return JSON.stringify({ method, params });
}

/**
 * A `process/output` notification as the bytes of a UTF-8 text frame: the base64 of the chunk
 * is written straight into the frame (one copy; no concatenated string to flatten and no
 * string-to-bytes conversion by the socket). `alloc` may hand out a reused buffer at least
 * `n` bytes long; the frame is its first bytes.
 */
export function encodeOutputFrame(
  processId: string,
  seq: number,
  stream: string,
  data: Buffer,
  alloc: (n: number) => Buffer = Buffer.allocUnsafe,
): Buffer {
  const head = `{"method":"process/output","params":{"processId":${JSON.stringify(processId)},"seq":${seq},"stream":"${stream}","chunk":"`;
  const headLen = Buffer.byteLength(head);
  const b64Len = Math.ceil(data.length / 3) * 4;
  const size = headLen + b64Len + 3;
  const frame = alloc(size);
  frame.write(head, 0, headLen, 'utf8');
  frame.write(data.toString('base64'), headLen, b64Len, 'latin1');
  frame.write('"}}', headLen + b64Len, 3, 'latin1');
  return frame.length === size ? frame : frame.subarray(0, size);
}

export function encodeRequest(id: RequestId, method: string, params: unknown): string {
  return JSON.stringify({ id, method, params: params === undefined ? {} : params });
}

/** A message from a server, as its client reads it (the admin channel's owner). */
export type ServerMessage =
  | { kind: 'response'; id: RequestId | null; result: unknown }
  | { kind: 'error'; id: RequestId | null; error: { code: number; message: string; data?: unknown } }
  | { kind: 'notification'; method: string; params: unknown }
  /** Not a response or notification: the client ignores it (a stray write to stdout). */
  | { kind: 'invalid'; reason: string };

export function decodeServerMessage(text: string): ServerMessage {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch (err) {
    return { kind: 'invalid', reason: `parse error: ${(err as Error).message}` };
  }
  if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) return { kind: 'invalid', reason: 'expected a JSON-RPC object' };
  const m = msg as Record<string, unknown>;
  const id = typeof m.id === 'string' || (typeof m.id === 'number' && Number.isFinite(m.id)) ? (m.id as RequestId) : null;
  if (typeof m.method === 'string') {
    if ('id' in m) return { kind: 'invalid', reason: `a request from the server (${m.method}): this client serves none` };
    return { kind: 'notification', method: m.method, params: m.params };
  }
  if ('error' in m) {
    const e = m.error as { code?: unknown; message?: unknown; data?: unknown } | null;
    if (typeof e !== 'object' || e === null || typeof e.code !== 'number') return { kind: 'invalid', reason: '`error` without a numeric code' };
    const error = { code: e.code, message: typeof e.message === 'string' ? e.message : 'request failed' };
    return { kind: 'error', id, error: e.data === undefined ? error : { ...error, data: e.data } };
  }
  if ('result' in m) return { kind: 'response', id, result: m.result };
  return { kind: 'invalid', reason: 'neither a response nor a notification' };
}
