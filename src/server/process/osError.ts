/**
 * OS errors as upstream words them. Codex's exec server is Rust: an OS error reaches the
 * client as io::Error's Display, `No such file or directory (os error 2)` — glibc's
 * strerror text and the errno. The fs/* methods, the pre-spawn checks (programPath.ts),
 * the spawn-failure explanations (spawnFailure.ts) and the sandbox's fs refusals all say it
 * this way, so a client can match on the text as it does against upstream.
 */
import { constants as osConstants } from 'node:os';
import * as util from 'node:util';
import { internalError, type RpcError } from '../../protocol/errors';

/** glibc strerror texts, which Rust's io::Error prints; libuv's own texts differ for some. */
const STRERROR = {
  EPERM: 'Operation not permitted',
  ENOENT: 'No such file or directory',
  EIO: 'Input/output error',
  E2BIG: 'Argument list too long',
  ENOEXEC: 'Exec format error',
  EBADF: 'Bad file descriptor',
  EAGAIN: 'Resource temporarily unavailable',
  ENOMEM: 'Cannot allocate memory',
  EACCES: 'Permission denied',
  EBUSY: 'Device or resource busy',
  EEXIST: 'File exists',
  EXDEV: 'Invalid cross-device link',
  ENOTDIR: 'Not a directory',
  EISDIR: 'Is a directory',
  EINVAL: 'Invalid argument',
  ENFILE: 'Too many open files in system',
  EMFILE: 'Too many open files',
  ETXTBSY: 'Text file busy',
  EFBIG: 'File too large',
  ENOSPC: 'No space left on device',
  EROFS: 'Read-only file system',
  EMLINK: 'Too many links',
  ENAMETOOLONG: 'File name too long',
  ENOTEMPTY: 'Directory not empty',
  ELOOP: 'Too many levels of symbolic links',
} as const;

export type ErrnoCode = keyof typeof STRERROR;

/** `Permission denied (os error 13)` for an errno name (this host's number). */
export function osErrorText(code: ErrnoCode): string {
  return `${STRERROR[code]} (os error ${osConstants.errno[code]})`;
}

/** `Permission denied (os error 13): <detail>` as a -32603, the form of every spawn failure. */
export function osFailure(code: ErrnoCode, detail: string): RpcError {
  return internalError(`${osErrorText(code)}: ${detail}`);
}

/** `No such file or directory (os error 2)` for a Node system error; undefined if it is not one. */
export function osErrorMessage(err: unknown): string | undefined {
  const e = err as NodeJS.ErrnoException;
  if (!e || typeof e.code !== 'string' || typeof e.errno !== 'number') return undefined;
  const errno = Math.abs(e.errno);
  const text = (STRERROR as Record<string, string>)[e.code] ?? capitalize(util.getSystemErrorMap().get(-errno)?.[1] ?? e.code);
  return `${text} (os error ${errno})`;
}

/** The errno name (`ENOENT`) of a Node system error, or of the one kept as its `cause`. */
export function errnoCodeOf(err: unknown): string | undefined {
  const codeOf = (e: unknown) => {
    const c = (e as { code?: unknown } | undefined)?.code;
    return typeof c === 'string' ? c : undefined;
  };
  // An RpcError's own `code` is the JSON-RPC number, so a string code is an errno name.
  return codeOf((err as { cause?: unknown } | undefined)?.cause) ?? codeOf(err);
}

/** The errno in an `(os error N)` message, if it carries one. */
export function osErrorNumberIn(message: string): number | undefined {
  const m = /\(os error (\d+)\)/.exec(message);
  return m ? Number(m[1]) : undefined;
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
