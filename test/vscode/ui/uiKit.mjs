// Small helpers shared by the UI scripts (sidebar.ui.mjs, vsix.smoke.mjs).

/** A log prefix with the seconds since the script started, e.g. `[ui +3.2s]`. */
export function makeStamp(tag) {
  const t0 = Date.now();
  return () => `[${tag} +${((Date.now() - t0) / 1000).toFixed(1)}s]`;
}

/**
 * A discovery file's content, as the UI scripts read it (src/discovery/discoveryFiles.ts writes it).
 * @typedef {{ url: string, token: string, port: number, pid: number, hostMode?: string, startedAt?: string | number }} DiscoveryInfo
 */

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Poll with an overall bound (a hang guard, not a timed assertion). */
export async function waitFor(what, f, boundMs = 60_000) {
  const end = Date.now() + boundMs;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`gave up waiting for: ${what}`);
    await sleep(100);
  }
}
