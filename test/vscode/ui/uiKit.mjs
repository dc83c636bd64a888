// Small helpers shared by the UI scripts (sidebar.ui.mjs, vsix.smoke.mjs, reload.ui.mjs).
import { readdirSync, readFileSync } from 'node:fs';

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

/**
 * A process's state letter and process group from /proc (Linux), or null when it is gone.
 * @param {number} pid
 */
export function procStat(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { state: f[0], pgid: Number(f[2]) };
  } catch { return null; }
}

/** Alive and not a zombie. @param {number} pid */
export const alive = (pid) => { const s = procStat(pid); return !!s && s.state !== 'Z'; };

/** The live members of a process group. @param {number} pgid */
export const groupMembers = (pgid) => readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(Number)
  .filter((pid) => { const s = procStat(pid); return !!s && s.pgid === pgid && s.state !== 'Z'; });

/**
 * The pass/fail bookkeeping of a UI script: `check` runs one named check (its error is counted,
 * marked `counted` and rethrown); `fail` counts a failure outside a check (set-up, a leftover);
 * `finish` prints the totals and exits (0 only when something passed and nothing failed).
 * @param {() => string} stamp
 * @param {(name: string) => void} [onFail] more diagnosis after a failed check
 */
export function makeChecks(stamp, onFail) {
  let passed = 0, failed = 0;
  return {
    /**
     * @template T
     * @param {string} name
     * @param {() => Promise<T>} f
     * @returns {Promise<T>}
     */
    async check(name, f) {
      try {
        const v = await f();
        passed++;
        console.log(`${stamp()} ✔ ${name}`);
        return v;
      } catch (e) {
        failed++;
        console.log(`${stamp()} ✖ ${name}: ${e?.stack ?? e}`);
        onFail?.(name);
        throw Object.assign(e instanceof Error ? e : new Error(String(e)), { counted: true });
      }
    },
    /** @param {string} [message] */
    fail(message) {
      failed++;
      if (message) console.log(`${stamp()} ✖ ${message}`);
    },
    /** @returns {never} */
    finish() {
      console.log(`${passed} passed, ${failed} failed`);
      process.exit(failed === 0 && passed > 0 ? 0 : 1);
    },
  };
}
