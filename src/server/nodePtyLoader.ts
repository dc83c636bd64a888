import type * as NodePty from 'node-pty';

/**
 * node-pty is a native module: the extension may run inside a VS Code whose Node ABI
 * differs from the build we ship. We try our own copy first, then any fallback the host
 * registers (VS Code's bundled copy under appRoot). If none loads, PTY requests fail with
 * this error and pipe processes keep working.
 */
let cached: typeof NodePty | undefined;
let loadError: string | undefined;
const fallbacks: string[] = [];

export function addNodePtyFallback(modulePath: string): void {
  fallbacks.push(modulePath);
}

export function loadNodePty(): typeof NodePty {
  if (cached) return cached;
  if (loadError) throw new Error(loadError);
  const errors: string[] = [];
  for (const id of ['node-pty', ...fallbacks]) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      cached = require(id) as typeof NodePty;
      return cached;
    } catch (err) {
      errors.push(`${id}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  loadError = `PTY support is unavailable (node-pty could not be loaded: ${errors.join('; ')}); use tty:false`;
  throw new Error(loadError);
}

/** For diagnostics: which node-pty would be used, without throwing. */
export function nodePtyStatus(): { ok: boolean; error?: string } {
  try {
    loadNodePty();
    return { ok: true };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}
