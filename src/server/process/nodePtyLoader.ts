import * as fs from 'node:fs';
import * as path from 'node:path';
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
      const mod = require(id) as typeof NodePty;
      ensureSpawnHelperExecutable(id);
      cached = mod;
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

/**
 * node-pty 1.1.0's macOS prebuilds ship `spawn-helper` without its execute bit
 * (microsoft/node-pty#850), so every PTY spawn fails with "posix_spawnp failed". Our packages
 * fix the mode, but a copy installed some other way may not: set it once at load. Other
 * platforms have no spawn-helper (Linux forks directly; Windows uses ConPTY).
 */
export function ensureSpawnHelperExecutable(moduleId: string, platform: NodeJS.Platform = process.platform, arch: string = process.arch): string[] {
  if (platform !== 'darwin') return [];
  const fixed: string[] = [];
  let root: string;
  try {
    root = path.dirname(require.resolve(`${moduleId}/package.json`));
  } catch {
    return fixed;
  }
  for (const dir of ['build/Release', `prebuilds/${platform}-${arch}`]) {
    const helper = path.join(root, dir, 'spawn-helper');
    try {
      const mode = fs.statSync(helper).mode;
      if ((mode & 0o111) === 0o111) continue;
      fs.chmodSync(helper, mode | 0o755);
      fixed.push(helper);
    } catch {
      // absent, or not ours to change: node-pty reports the spawn failure itself
    }
  }
  return fixed;
}
