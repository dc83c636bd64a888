/**
 * The `sandbox` object codex sends with process/start and some fs/* requests, read into
 * what we need (see /work/shared/notes/codex-sandbox.md for the wire shapes):
 *
 *  - for process/start, the permission profile handed to codex's own sandbox helper, with
 *    `project_roots` entries expanded over `workspaceRoots` (URIs turned into paths), as
 *    upstream's exec server does; everything else is passed through untouched, because the
 *    helper (the same codex version as the client) is the one that understands it;
 *  - for fs/*, the entries turned into absolute paths with an access level, so the server
 *    itself can decide whether a write or read is allowed.
 *
 * No I/O here except `resolveSpecialPath` reading the environment; pure and unit-tested.
 */
import * as path from 'node:path';
import { invalidParams } from '../../protocol/errors';
import { pathFromWire } from '../../protocol/paths';

/** Names kept read-only inside every writable root (upstream's protected metadata). */
export const PROTECTED_NAMES: readonly string[] = ['.git', '.agents', '.codex', '.aws'];

export type Access = 'none' | 'read' | 'write';

export interface SandboxRequest {
  /** The wire `permissions` object (type "managed"). */
  permissions: Record<string, unknown>;
  /** `sandbox.cwd` as a path. */
  cwd: string;
  /** `sandbox.workspaceRoots` as paths (the roots `project_roots` stands for). */
  workspaceRoots: string[];
}

/** Why a sandbox cannot be enforced; `what` is the sentence after upstream's prefix. */
export class SandboxRefusal extends Error {
  constructor(
    readonly why: string,
    readonly todo: string,
  ) {
    super(`${REFUSAL_PREFIX}: ${why}. ${todo}`);
    this.name = 'SandboxRefusal';
  }
}

/** A SandboxRefusal as the -32602 the client gets (upstream's code for it); any other error unchanged. */
export function refusalToRpc(err: unknown): unknown {
  return err instanceof SandboxRefusal ? invalidParams(err.message) : err;
}

/** Upstream's wording (codex-rs exec-server), so a client or a user can recognise it. */
const REFUSAL_PREFIX = 'sandbox intent cannot be enforced on this executor';
/** What a user can always do instead; said after every refusal. */
export const UNSANDBOXED_HINT =
  'To run the command without a sandbox instead, start codex with `--sandbox danger-full-access`';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * null/undefined → no sandbox. Anything else must be a sandbox we can read; a malformed one
 * is a -32602 (never "treat as unsandboxed"), a well-formed one we cannot enforce a
 * SandboxRefusal.
 */
export function parseSandbox(raw: unknown): SandboxRequest | null {
  if (raw === undefined || raw === null) return null;
  if (!isObject(raw)) throw invalidParams('invalid type for `sandbox`: expected an object or null');
  const permissions = raw.permissions;
  if (!isObject(permissions)) throw invalidParams('missing field `sandbox.permissions`');
  if (permissions.type !== 'managed') {
    throw new SandboxRefusal(
      `the permission profile type ${JSON.stringify(permissions.type)} is not one this server can enforce (only "managed")`,
      UNSANDBOXED_HINT,
    );
  }
  if (typeof raw.cwd !== 'string') throw invalidParams('missing field `sandbox.cwd`');
  const cwd = pathFromWire('sandbox.cwd', raw.cwd);
  let workspaceRoots: string[] = [];
  if (raw.workspaceRoots !== undefined && raw.workspaceRoots !== null) {
    if (!Array.isArray(raw.workspaceRoots) || raw.workspaceRoots.some((r) => typeof r !== 'string')) {
      throw invalidParams('invalid type for `sandbox.workspaceRoots`: expected an array of strings');
    }
    workspaceRoots = (raw.workspaceRoots as string[]).map((r, i) => pathFromWire(`sandbox.workspaceRoots[${i}]`, r));
  }
  return { permissions, cwd, workspaceRoots };
}

/** The request's managed-network fields: we run no network proxy, so either one is refused. */
export function checkManagedNetwork(enforceManagedNetwork: unknown, managedNetwork: unknown): void {
  if (enforceManagedNetwork === true || (managedNetwork !== undefined && managedNetwork !== null)) {
    throw new SandboxRefusal(
      'the request asks for a managed network (a network proxy with per-domain rules), which this server does not run',
      'Turn off the managed network for this codex environment, or start codex with `--sandbox danger-full-access` to run commands without a sandbox',
    );
  }
}

/**
 * The `permissions` object for `codex-linux-sandbox --permission-profile`: each entry whose
 * path is `{"type":"special","value":{"kind":"project_roots","subpath"?}}` becomes one
 * `{"type":"path","path":"<root>[/subpath]"}` entry per workspace root (its other fields kept);
 * no roots → the entry disappears, as "every project root" is then nothing.
 */
export function materializePermissions(req: SandboxRequest): Record<string, unknown> {
  const fsPolicy = req.permissions.file_system;
  if (!isObject(fsPolicy) || !Array.isArray(fsPolicy.entries)) return req.permissions;
  const entries: unknown[] = [];
  for (const entry of fsPolicy.entries) {
    const kind = projectRootsSubpath(entry);
    if (kind === undefined) {
      entries.push(entry);
      continue;
    }
    for (const root of req.workspaceRoots) {
      const p = kind.subpath === undefined ? root : path.join(root, kind.subpath);
      entries.push({ ...(entry as Record<string, unknown>), path: { type: 'path', path: p } });
    }
  }
  return { ...req.permissions, file_system: { ...fsPolicy, entries } };
}

function projectRootsSubpath(entry: unknown): { subpath?: string } | undefined {
  if (!isObject(entry) || !isObject(entry.path) || entry.path.type !== 'special') return undefined;
  const value = entry.path.value;
  if (!isObject(value) || value.kind !== 'project_roots') return undefined;
  const subpath = value.subpath;
  if (subpath === undefined || subpath === null) return {};
  if (typeof subpath !== 'string' || path.isAbsolute(subpath) || subpath.split(/[\\/]/).includes('..')) {
    throw invalidParams('`project_roots.subpath` must be a relative path without `..`');
  }
  return { subpath };
}

// ---------------------------------------------------------------------------
// For fs/*: the entries as absolute paths.

export interface FsRule {
  path: string;
  access: Access;
}

export interface FsRules {
  /** Every entry with a known path; most specific wins when checking. */
  rules: FsRule[];
  /** The whole file system is unrestricted (file_system.type "unrestricted"). */
  unrestricted: boolean;
}

/**
 * The file-system entries as `{path, access}`. Special kinds: `root` → /, `slash_tmp` → /tmp,
 * `tmpdir` → $TMPDIR (when set to an absolute path), `project_roots` → each workspace root
 * (+ subpath), `current_working_directory` → sandbox.cwd. Any other kind or path type is
 * unknown to us: a write could then be allowed that the client meant to forbid, so it is a
 * SandboxRefusal (fail closed) rather than ignored.
 */
export function fsRules(req: SandboxRequest, env: NodeJS.ProcessEnv = process.env): FsRules {
  const fsPolicy = req.permissions.file_system;
  if (!isObject(fsPolicy)) throw invalidParams('missing field `sandbox.permissions.file_system`');
  if (fsPolicy.type === 'unrestricted') return { rules: [], unrestricted: true };
  if (fsPolicy.type !== 'restricted' || !Array.isArray(fsPolicy.entries)) {
    throw new SandboxRefusal(`the file-system policy type ${JSON.stringify(fsPolicy.type)} is not one this server knows`, UNSANDBOXED_HINT);
  }
  const rules: FsRule[] = [];
  for (const entry of fsPolicy.entries) {
    if (!isObject(entry)) throw invalidParams('invalid file-system entry in `sandbox.permissions`');
    const access = parseAccess(entry.access);
    for (const p of entryPaths(entry.path, req, env)) rules.push({ path: path.normalize(p), access });
  }
  return { rules, unrestricted: false };
}

function parseAccess(v: unknown): Access {
  if (v === 'read' || v === 'write' || v === 'none') return v;
  throw new SandboxRefusal(`the file-system access ${JSON.stringify(v)} is not one this server knows`, UNSANDBOXED_HINT);
}

function entryPaths(p: unknown, req: SandboxRequest, env: NodeJS.ProcessEnv): string[] {
  if (!isObject(p)) throw invalidParams('invalid file-system entry path in `sandbox.permissions`');
  if (p.type === 'path' && typeof p.path === 'string') return [pathFromWire('sandbox entry path', p.path)];
  if (p.type === 'special' && isObject(p.value)) {
    const kind = p.value.kind;
    if (kind === 'root') return ['/'];
    if (kind === 'slash_tmp') return ['/tmp'];
    if (kind === 'tmpdir') return env.TMPDIR && path.isAbsolute(env.TMPDIR) ? [env.TMPDIR] : [];
    if (kind === 'current_working_directory') return [req.cwd];
    if (kind === 'project_roots') {
      const sub = projectRootsSubpath({ path: p });
      return req.workspaceRoots.map((r) => (sub?.subpath === undefined ? r : path.join(r, sub.subpath)));
    }
  }
  throw new SandboxRefusal(`the file-system entry ${JSON.stringify(p)} is not one this server knows how to check`, UNSANDBOXED_HINT);
}

/** True when `p` is `root` or below it (both normalised, absolute). */
function isWithin(p: string, root: string): boolean {
  if (root === '/') return true;
  return p === root || p.startsWith(root.endsWith('/') ? root : root + '/');
}

/**
 * The access `rules` give the (already resolved) path `p`: the longest matching rule wins,
 * the most restrictive among equally long ones. A write is further refused when, below the
 * writable root that grants it, a path component is one of PROTECTED_NAMES.
 */
export function accessFor(rules: FsRules, p: string): Access {
  if (rules.unrestricted) return 'write';
  let best: FsRule | undefined;
  for (const r of rules.rules) {
    if (!isWithin(p, r.path)) continue;
    if (!best || r.path.length > best.path.length || (r.path.length === best.path.length && rank(r.access) < rank(best.access))) best = r;
  }
  if (!best) return 'none';
  if (best.access === 'write') {
    const rel = path.relative(best.path, p);
    if (rel !== '' && rel.split(path.sep).some((c) => PROTECTED_NAMES.includes(c))) return 'read';
  }
  return best.access;
}

function rank(a: Access): number {
  return a === 'none' ? 0 : a === 'read' ? 1 : 2;
}
