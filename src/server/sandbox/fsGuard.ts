/**
 * Sandboxed fs/*: a request that carries a `sandbox` may write only inside the writable
 * roots (outside .git/.agents/.codex/.aws there) and read only what the read entries allow,
 * judged on the path with symlinks resolved — a link inside the workspace that points
 * outside it does not let a write out. Refused writes answer upstream's
 * `-32603 "Read-only file system (os error 30)"`, refused reads `Permission denied`.
 *
 * The check and the operation are two steps (no openat2/RESOLVE_BENEATH from Node): a
 * process that can write inside the workspace could swap a directory for a symlink between
 * them. Commands run inside the kernel-enforced sandbox; this guard covers the server's own
 * fs/* calls, whose requests come from the client itself.
 */
import { lstatSync, readdirSync, readlinkSync, realpathSync } from 'node:fs';
import * as path from 'node:path';
import { ErrorCode, RpcError } from '../../protocol/errors';
import { osErrorText } from '../process/osError';
import { accessFor, fsRules, parseSandbox, PROTECTED_NAMES, refusalToRpc, type Access, type FsRules } from './policy';

export type FsIntent = 'read' | 'write' | 'writeEntry';

/**
 * Throws unless the request's sandbox (the raw `sandbox` field; null/undefined = none)
 * allows `intent` on `target`. `write` judges the path with its last component followed
 * (writeFile, copy destination, mkdir); `writeEntry` the entry itself (remove: unlinking a
 * symlink inside the workspace that points outside only removes the link).
 */
export function guardFs(rawSandbox: unknown, intent: FsIntent, ...targets: string[]): void {
  let rules: FsRules;
  try {
    const req = parseSandbox(rawSandbox);
    if (!req) return;
    rules = fsRules(req);
  } catch (err) {
    // A sandbox we cannot read is refused like upstream refuses one it cannot enforce.
    throw refusalToRpc(err);
  }
  rules = { ...rules, rules: rules.rules.map((r) => ({ ...r, path: resolveExisting(r.path) })) };
  for (const target of targets) {
    const resolved = intent === 'writeEntry' ? path.join(resolveExisting(path.dirname(target)), path.basename(target)) : resolveExisting(target);
    const need: Access = intent === 'read' ? 'read' : 'write';
    const have = accessFor(rules, resolved);
    if (need === 'write' && have !== 'write') throw refused('write');
    if (need === 'read' && have === 'none') throw refused('read');
  }
}

/**
 * The one answer to an fs/* call the sandbox does not allow, in the words the kernel-enforced
 * sandbox gives the same operation run as a command: a write on a read-only bind mount, a
 * read the policy hides.
 */
function refused(access: Exclude<Access, 'none'>): RpcError {
  return new RpcError(ErrorCode.InternalError, osErrorText(access === 'write' ? 'EROFS' : 'EACCES'));
}

/**
 * `p` with every symlink in its existing part resolved; the part that does not exist yet is
 * appended as written (it will be created as a real entry under the resolved parent). A
 * dangling symlink as the last existing component is followed to its target's text, so
 * writing through it is judged where the write would land.
 */
function resolveExisting(p: string): string {
  let cur = path.resolve(p);
  const rest: string[] = [];
  for (let hops = 0; hops < 256; hops++) {
    try {
      const real = realpathSync(cur);
      return rest.length === 0 ? real : path.join(real, ...[...rest].reverse());
    } catch {
      // Missing, or a dangling symlink: a write through the link lands at its target.
      let link: string | undefined;
      try {
        if (lstatSync(cur).isSymbolicLink()) link = readlinkSync(cur);
      } catch {
        link = undefined;
      }
      const parent = path.dirname(cur);
      if (link !== undefined) {
        cur = path.resolve(parent, link);
        continue;
      }
      if (parent === cur) break;
      rest.push(path.basename(cur));
      cur = parent;
    }
  }
  // Too many links (a loop): judge the path as written, its parent resolved where possible.
  return path.resolve(p);
}

/** Entries looked at before a recursive remove is refused as too large to check. */
const MAX_REMOVE_SCAN = 100_000;

/**
 * A sandboxed recursive fs/remove of a directory: the kernel-enforced sandbox would keep
 * .git/.agents/.codex/.aws (and anything not writable) inside it, so the removal is refused
 * when the tree holds one of those names. Symlinks are not followed (rm removes the link).
 */
export function guardRecursiveRemove(rawSandbox: unknown, dir: string): void {
  if (rawSandbox === undefined || rawSandbox === null) return;
  const stack = [dir];
  let seen = 0;
  while (stack.length > 0) {
    const d = stack.pop()!;
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      continue;
    }
    for (const name of names) {
      if (++seen > MAX_REMOVE_SCAN) throw refused('write');
      const p = path.join(d, name);
      if (PROTECTED_NAMES.includes(name)) throw refused('write');
      try {
        if (lstatSync(p).isDirectory()) stack.push(p);
      } catch {
        // gone meanwhile
      }
    }
  }
}
