/**
 * JSON-RPC error codes used on the wire, and the one error type every layer throws.
 * Codes follow JSON-RPC 2.0 plus the two server-defined codes upstream exec-server uses, and
 * the two of this server's admin channel (src/protocol/admin.ts).
 */
export const ErrorCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
  /** Upstream: filesystem ENOENT, unknown file handle. */
  NotFound: -32004,
  /** Upstream: resuming a session that another connection holds. */
  SessionAttached: -32010,
  /** Admin: `admin/adopt` with a wrong secret (the control socket closes after the answer). */
  AdminAuthFailed: -32001,
  /** Admin: `admin/adopt` of a server that still has a live owner (another window). */
  AdminOwned: -32002,
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** An error that becomes a JSON-RPC error object; anything else thrown is an internal error. */
export class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
    this.name = 'RpcError';
  }
}

export const invalidRequest = (message: string) => new RpcError(ErrorCode.InvalidRequest, message);
export const invalidParams = (message: string) => new RpcError(ErrorCode.InvalidParams, message);
export const internalError = (message: string) => new RpcError(ErrorCode.InternalError, message);
export const notFound = (message: string) => new RpcError(ErrorCode.NotFound, message);

/** Turn any thrown value into a wire error object without leaking stack traces. */
export function toWireError(err: unknown): { code: number; message: string; data?: unknown } {
  if (err instanceof RpcError) {
    return err.data === undefined
      ? { code: err.code, message: err.message }
      : { code: err.code, message: err.message, data: err.data };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { code: ErrorCode.InternalError, message };
}
