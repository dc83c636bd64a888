/**
 * The seam between the connection handler (handshake, routing) and the groups of methods
 * it serves. A handler validates its own params (throwing RpcError -32602 that names the
 * field) and returns the JSON result; it never sees the transport.
 *
 * Order: a connection's requests take effect in arrival order. A handler that returns a
 * promise holds the connection's later requests until it settles (a process/start, an fs
 * call); one that returns synchronously lets the next run at once. The only exception is
 * `Overtakable`: the request's ordered part is done and only its answer is still to come.
 */
export type MethodHandler = (params: unknown) => unknown;
export type MethodTable = Record<string, MethodHandler>;

/**
 * A result that later requests may overtake: a process/read long poll, which has taken its
 * place in the order (checked the process, read what was there) and now only waits for
 * output, which a request behind it (a write) may be what produces.
 */
export class Overtakable {
  constructor(readonly result: Promise<unknown>) {}
}
