// What every interop test file needs: the codex binary of a version (installed once into the
// cache outside the repo) and clean-ups that run when a test ends, or at the end of the file
// for whatever a failed test did not get to stop.
import { execFileSync } from 'node:child_process';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';

const installer = fileURLToPath(new URL('../../scripts/install-codex.sh', import.meta.url));

/** Path of the native codex binary of `version` (scripts/install-codex.sh; ~0 s when cached). */
export function installCodex(version) {
  return execFileSync('bash', [installer, version], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 300_000,
  }).trim();
}

const cleanups = new Set();

after(async () => {
  for (const fn of [...cleanups]) await fn().catch(() => {});
});

/** Registers fn to run when the test ends (and, as a fallback, when the file ends). */
export function onEnd(t, fn) {
  let done = false;
  const once = async () => {
    if (done) return;
    done = true;
    cleanups.delete(once);
    await fn();
  };
  cleanups.add(once);
  t.after(once);
}
