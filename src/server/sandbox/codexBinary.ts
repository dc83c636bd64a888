/**
 * Finding the native codex binary whose built-in sandbox helper we reuse.
 *
 * Order: the configured path (`--codex-path`, `execServer.codexPath`), else `codex` on PATH.
 * npm installs put a Node launcher (`@openai/codex/bin/codex.js`) on PATH; it cannot be run
 * under the helper's arg0 name, so we follow it the way it finds its binary itself: the
 * platform package (`@openai/codex-linux-x64` …) resolved from the launcher's location, then
 * `vendor/<target triple>/bin/codex`. A launcher whose binary cannot be found is still kept:
 * `codex sandbox` works through it (the fallback).
 */
import { accessSync, closeSync, constants as fsConstants, openSync, readSync, realpathSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';

export interface CodexLocation {
  /** The native executable (ELF/Mach-O), when found. */
  native: string | null;
  /** What was found first (the launcher script, or the native binary itself). */
  entry: string;
  /** How it was found, for the log and environment/info. */
  from: 'setting' | 'PATH';
}

const TARGETS: Record<string, { triple: string; pkg: string } | undefined> = {
  'linux-x64': { triple: 'x86_64-unknown-linux-musl', pkg: '@openai/codex-linux-x64' },
  'linux-arm64': { triple: 'aarch64-unknown-linux-musl', pkg: '@openai/codex-linux-arm64' },
  'darwin-x64': { triple: 'x86_64-apple-darwin', pkg: '@openai/codex-darwin-x64' },
  'darwin-arm64': { triple: 'aarch64-apple-darwin', pkg: '@openai/codex-darwin-arm64' },
};

/** Throws an Error whose message says what was looked for and where. */
export function findCodex(configured: string | undefined, env: NodeJS.ProcessEnv = process.env): CodexLocation {
  const from = configured ? 'setting' : 'PATH';
  const candidate = configured ? path.resolve(configured) : onPath('codex', env.PATH ?? '');
  if (!candidate) throw new Error('no `codex` executable was found on the server\'s PATH and no codex path is set');
  let real: string;
  try {
    real = realpathSync(candidate);
    if (!statSync(real).isFile()) throw new Error('not a file');
  } catch (err) {
    throw new Error(`the codex path ${candidate} is not a usable file (${(err as Error).message})`);
  }
  if (isNativeExecutable(real)) return { native: real, entry: real, from };
  return { native: nativeBehindLauncher(real), entry: real, from };
}

function onPath(name: string, pathVar: string): string | null {
  for (const dir of pathVar.split(path.delimiter)) {
    if (!dir || !path.isAbsolute(dir)) continue;
    const p = path.join(dir, name);
    try {
      accessSync(p, fsConstants.X_OK);
      if (statSync(p).isFile()) return p;
    } catch {
      // not here
    }
  }
  return null;
}

/** ELF or Mach-O magic: something the kernel runs directly (not a #! script). */
function isNativeExecutable(p: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(p, 'r');
    const b = Buffer.alloc(4);
    if (readSync(fd, b, 0, 4, 0) < 4) return false;
    const elf = b[0] === 0x7f && b[1] === 0x45 && b[2] === 0x4c && b[3] === 0x46;
    const m = b.readUInt32BE(0);
    const macho = [0xfeedface, 0xfeedfacf, 0xcefaedfe, 0xcffaedfe, 0xcafebabe].includes(m);
    return elf || macho;
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** The binary npm's launcher at `launcher` would run, or null. */
export function nativeBehindLauncher(launcher: string, platform = process.platform, arch = process.arch): string | null {
  const target = TARGETS[`${platform}-${arch}`];
  if (!target) return null;
  const candidates: string[] = [];
  try {
    const pkgJson = createRequire(launcher).resolve(`${target.pkg}/package.json`);
    candidates.push(path.join(path.dirname(pkgJson), 'vendor', target.triple, 'bin', 'codex'));
  } catch {
    // not resolvable from there
  }
  candidates.push(path.join(path.dirname(launcher), '..', 'vendor', target.triple, 'bin', 'codex'));
  for (const c of candidates) {
    try {
      const real = realpathSync(c);
      if (isNativeExecutable(real)) return real;
    } catch {
      // next
    }
  }
  return null;
}
