import type { RequestMethod } from '../../protocol/requestTypes';

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
 * A handler typed by its descriptor (src/protocol/requestTypes.ts): it gets the raw params
 * (it validates them itself, naming the field) and must return the declared result.
 */
export type TypedHandler<R> = (params: unknown) => R | PromiseLike<R> | Overtakable<R>;

/** One row of a method table, checked against the method's declared result type. */
export function handle<P, R>(m: RequestMethod<P, R>, handler: TypedHandler<R>): [string, MethodHandler] {
  return [m.method, handler];
}

/** A method table from typed rows: `methodTable(handle(ProcessStart, …), …)`. */
export function methodTable(...rows: Array<[string, MethodHandler]>): MethodTable {
  return Object.fromEntries(rows);
}

/**
 * A result that later requests may overtake: a process/read long poll, which has taken its
 * place in the order (checked the process, read what was there) and now only waits for
 * output, which a request behind it (a write) may be what produces.
 */
export class Overtakable<R = unknown> {
  constructor(readonly result: Promise<R>) {}
}
