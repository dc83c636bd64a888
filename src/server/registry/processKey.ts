/**
 * A process's identity across the whole server: process ids are chosen by clients and only
 * unique within their session, so the registry and the admin API name a process
 * by (session, process). Branded so that a plain string (a processId, a sessionId, a key
 * built by hand) cannot be passed where a key is expected: `processKey()` is the only way
 * to make one, `parseProcessKey()` the only way to read one that came over the admin wire.
 *
 * The text form `sessionId/processId` is what the admin channel carries (ProcessSnapshot.key).
 * Session ids are UUIDs, so the first `/` separates the parts; a processId may contain `/`.
 */
export type ProcessKey = string & { readonly __processKey: unique symbol };

export function processKey(sessionId: string, processId: string): ProcessKey {
  return `${sessionId}/${processId}` as ProcessKey;
}

/** The key of a process record (anything carrying both ids, e.g. a ManagedProcess). */
export function keyOf(p: { readonly sessionId: string; readonly processId: string }): ProcessKey {
  return processKey(p.sessionId, p.processId);
}

/** A key received as text (from the admin channel): its parts, or undefined when it is not one. */
export function parseProcessKey(text: string): { key: ProcessKey; sessionId: string; processId: string } | undefined {
  const slash = text.indexOf('/');
  if (slash <= 0) return undefined;
  return { key: text as ProcessKey, sessionId: text.slice(0, slash), processId: text.slice(slash + 1) };
}
