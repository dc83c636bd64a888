/**
 * Shared pieces of the sandbox tests: the cached real codex (scripts/install-codex.sh), a
 * workspace outside /tmp (workspace-write makes /tmp writable), sandbox objects as codex
 * sends them, and our CLI started with extra flags or under a wrapper (unshare).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { startWsCli, type CliServer } from '../helpers/cli';
import type { ProcessGuard } from '../helpers/procs';

export const CACHE = process.env.EXEC_SERVER_TEST_CACHE || path.join(os.homedir(), '.cache', 'exec-server-vscode');
export const DEFAULT_CODEX_VERSION = '0.171.0';

/**
 * The native codex binary of `version` if scripts/install-codex.sh has cached it (or
 * CODEX_BIN names one); null otherwise. `npm run test:sandbox` installs it first and sets
 * SANDBOX_REQUIRE_CODEX=1, so there a missing binary fails instead of skipping.
 */
export function cachedCodex(version = DEFAULT_CODEX_VERSION): string | null {
  if (process.env.CODEX_BIN && version === DEFAULT_CODEX_VERSION) return process.env.CODEX_BIN;
  const dir = path.join(CACHE, `codex-${version}`);
  if (!fs.existsSync(path.join(dir, '.installed'))) return null;
  const triple = process.arch === 'arm64' ? 'aarch64-unknown-linux-musl' : 'x86_64-unknown-linux-musl';
  const pkg = process.arch === 'arm64' ? 'codex-linux-arm64' : 'codex-linux-x64';
  const bin = path.join(dir, 'node_modules', '@openai', pkg, 'vendor', triple, 'bin', 'codex');
  return fs.existsSync(bin) ? bin : null;
}

/** Why the codex-backed tests cannot run here, or false (for node:test's `skip`). */
export function codexSkip(version = DEFAULT_CODEX_VERSION): string | false {
  if (process.platform !== 'linux') return 'the codex sandbox is enforced on Linux only';
  if (cachedCodex(version)) return false;
  if (process.env.SANDBOX_REQUIRE_CODEX === '1') throw new Error(`codex ${version} is not installed: run scripts/install-codex.sh ${version}`);
  return `codex ${version} is not cached (scripts/install-codex.sh ${version}; npm run test:sandbox does it)`;
}

/** A fresh directory outside /tmp and $TMPDIR (realpath'd), removed by the caller. */
export function freshDir(prefix: string): string {
  const base = path.join(CACHE, 'sandbox-tests');
  fs.mkdirSync(base, { recursive: true });
  return fs.realpathSync(fs.mkdtempSync(path.join(base, prefix)));
}

export const uri = (p: string) => pathToFileURL(p).href;
const special = (kind: string, subpath?: string) => ({ type: 'special', value: subpath === undefined ? { kind } : { kind, subpath } });

export interface SandboxShape {
  roots: string[];
  cwd?: string;
  readOnly?: boolean;
  slashTmp?: boolean;
  tmpdir?: boolean;
  network?: 'restricted' | 'enabled';
}

/** A `sandbox` as codex 0.171 sends it for -s workspace-write (or read-only). */
export function sandboxFor(o: SandboxShape): Record<string, unknown> {
  const entries: unknown[] = [{ path: special('root'), access: 'read' }];
  if (!o.readOnly) {
    entries.push({ path: special('project_roots'), access: 'write' });
    if (o.slashTmp ?? true) entries.push({ path: special('slash_tmp'), access: 'write' });
    if (o.tmpdir ?? true) entries.push({ path: special('tmpdir'), access: 'write' });
    for (const n of ['.git', '.agents', '.codex', '.aws']) {
      entries.push({ path: special('project_roots', n), access: 'read', missing_path_behavior: 'skip' });
    }
  }
  return {
    permissions: { type: 'managed', file_system: { type: 'restricted', entries }, network: o.network ?? 'restricted' },
    cwd: uri(o.cwd ?? o.roots[0]!),
    workspaceRoots: o.roots.map(uri),
    windowsSandboxLevel: 'disabled',
    windowsSandboxProxySettingsMode: 'reconcile',
    useLegacyLandlock: false,
  };
}

/** Our CLI (`--listen ws://127.0.0.1:0`, a token file, `args`), optionally run by `wrap` (argv prefix). */
export function startServer(guard: ProcessGuard, o: { args?: string[]; wrap?: string[]; env?: NodeJS.ProcessEnv } = {}): Promise<CliServer> {
  return startWsCli(guard, o);
}
