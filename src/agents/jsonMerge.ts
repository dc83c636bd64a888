/**
 * Key-wise JSON merge for agent config files: everything the user has stays, objects merge
 * recursively, scalars and arrays from the patch replace (an MCP server's `args` must not be
 * appended to a stale launcher's), except the lists named in `appendAt` (deny and exclude
 * lists), which keep the user's entries and gain ours once: a set-up never drops a rule.
 * Pure, no I/O.
 */
export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type JsonObject = { [k: string]: Json };

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function mergeJson(base: Json | undefined, patch: Json, appendAt: string[][] = [], at: string[] = []): Json {
  if (isObject(patch)) {
    const out: JsonObject = isObject(base) ? { ...base } : {};
    for (const [k, v] of Object.entries(patch)) out[k] = mergeJson(out[k], v, appendAt, [...at, k]);
    return out;
  }
  if (Array.isArray(patch) && Array.isArray(base) && appendAt.some((p) => samePath(p, at))) {
    const out = [...base];
    for (const v of patch) if (!out.some((x) => JSON.stringify(x) === JSON.stringify(v))) out.push(v);
    return out;
  }
  return patch;
}

function samePath(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * Parse an existing config file. Comments (JSONC, allowed in VS Code's and opencode's files)
 * are refused rather than silently dropped by a rewrite: the caller says to merge by hand.
 */
export function parseConfigJson(text: string, file: string): JsonObject {
  if (text.trim() === '') return {};
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file} is not plain JSON (${(err as Error).message}; comments or trailing commas?): merge the fragment by hand (exec-server connect AGENT --print)`);
  }
  if (!isObject(v)) throw new Error(`${file} does not hold a JSON object: merge the fragment by hand`);
  return v;
}
