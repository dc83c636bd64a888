/**
 * Typed method descriptors, as LSP's `RequestType`: one constant carries a method's name and,
 * at the type level only, its params and result, so the server's handler table and the
 * client's calls are checked against the same declaration. No runtime cost beyond the name.
 */
export interface RequestMethod<P, R> {
  readonly method: string;
  /** Phantom: never set; it only carries P and R for the compiler. */
  readonly __types?: (params: P) => R;
}

export interface NotificationMethod<P> {
  readonly method: string;
  /** Phantom: never set. */
  readonly __params?: (params: P) => void;
}

export function request<P, R>(method: string): RequestMethod<P, R> {
  return { method };
}

export function notification<P>(method: string): NotificationMethod<P> {
  return { method };
}
