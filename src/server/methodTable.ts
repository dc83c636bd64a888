/**
 * The seam between the connection handler (handshake, routing) and the groups of methods
 * it serves. A handler validates its own params (throwing RpcError -32602 that names the
 * field) and returns the JSON result; it never sees the transport.
 */
export type MethodHandler = (params: unknown) => unknown | Promise<unknown>;
export type MethodTable = Record<string, MethodHandler>;
