import * as fs from 'node:fs';
import { constants as osConstants } from 'node:os';
import { ErrorCode, internalError, RpcError } from '../../protocol/errors';
import { hostPlatform } from '../../platform/hostPlatform';
import { errnoCodeOf, osErrorNumberIn, osFailure } from './osError';
import { readHead, shebangInterpreter } from './programPath';

/**
 * Turns a failed spawn into an error that says what went wrong, in the `Description (os
 * error N)` form the pre-spawn checks use. The raw errors mislead: libuv reports a cwd that
 * vanished after our check as `spawn /usr/bin/true ENOENT` (it reads as "no such program"),
 * an unenterable cwd as `EACCES` on the program, a full fd table as a bare `EMFILE`, and
 * node-pty says only `forkpty(3) failed.` for any reason. Read-only diagnosis after the
 * fact: nothing here runs on the success path.
 */
export function explainSpawnFailure(err: unknown, ctx: { program: string; file: string; cwd: string; tty: boolean }): unknown {
  const message = err instanceof Error ? err.message : String(err);
  // childProcess.ts keeps the spawn's ErrnoException as `cause`; a bare ErrnoException carries the errno itself.
  const code = errnoCodeOf(err);
  const what = `cannot start \`${ctx.program}\``;
  switch (code) {
    case 'EMFILE':
      return osFailure('EMFILE', `${what}: ${fdUsage()}`);
    case 'ENFILE':
      return osFailure('ENFILE', `${what}: the system-wide open-file table is full (fs.file-max)`);
    case 'EAGAIN':
      return osFailure(
        'EAGAIN',
        `${what}: fork failed, the process limit is reached ` +
          `(${limitText('Max processes', 'RLIMIT_NPROC')}, which counts every process and thread of this user, ` +
          'or the system-wide pid/thread limit); wait for processes to finish or terminate some, or raise `ulimit -u`',
      );
    case 'ENOMEM':
      return osFailure('ENOMEM', `${what}: the system is out of memory (or of pids/threads)`);
    case 'ENOENT':
      if (!isDirectory(ctx.cwd)) {
        return osFailure('ENOENT', `cwd \`${ctx.cwd}\` does not exist (it was removed before \`${ctx.program}\` could start in it)`);
      }
      return osFailure('ENOENT', `${what} in cwd \`${ctx.cwd}\`: ${missingInterpreter(ctx.file) ?? 'the cwd was removed while starting, or a file the program needs to load does not exist'}`);
    case 'EACCES':
      if (!canEnter(ctx.cwd)) return osFailure('EACCES', `${what}: cwd \`${ctx.cwd}\` cannot be entered (no search permission)`);
      return err;
  }
  if (ctx.tty && /forkpty/.test(message)) {
    if (atFdLimit()) return osFailure('EMFILE', `${what} in a PTY (forkpty failed): ${fdUsage()}`);
    return internalError(
      `${message} (forkpty gives no reason; the usual ones are the process limit \`ulimit -u\`, ` +
        'the open-file limit `ulimit -n`, or no free PTY: /proc/sys/kernel/pty/max)',
    );
  }
  return err instanceof RpcError ? err : internalError(message);
}

/** "N of M file descriptors in use": reading /proc itself may fail at the limit, which says enough. */
function fdUsage(): string {
  const limit = limitText('Max open files', 'RLIMIT_NOFILE');
  // undefined: EMFILE again (no descriptor left even to look), or a platform that cannot count.
  const open = hostPlatform().openFdCount();
  const usage = open === undefined ? 'every file descriptor is in use' : `${open} file descriptors in use`;
  return (
    `the exec server has reached its open-file limit (${usage}; ${limit}); every running process holds ` +
    'two or three (its output pipes or its PTY) until it ends: wait for processes to finish or terminate some, or raise `ulimit -n` for the server'
  );
}

function atFdLimit(): boolean {
  try {
    const open = fs.readdirSync('/proc/self/fd').length;
    const soft = Number(/^Max open files\s+(\d+)/m.exec(readLimits() ?? '')?.[1]);
    return Number.isFinite(soft) && soft > 0 && open + 8 >= soft; // forkpty needs a few fds at once
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EMFILE';
  }
}

/** Limits read when the module loads (while descriptors are free), refreshed when possible. */
let limitsSnapshot: string | undefined;
readLimits();
function readLimits(): string | undefined {
  try {
    return (limitsSnapshot = fs.readFileSync('/proc/self/limits', 'utf8'));
  } catch {
    return limitsSnapshot;
  }
}

function limitText(row: string, name: string): string {
  const m = new RegExp(`^${row}\\s+(\\S+)`, 'm').exec(readLimits() ?? '');
  return m ? `${name} = ${m[1]}` : name;
}

/** A script whose `#!` interpreter does not exist fails to exec with ENOENT: name the interpreter. */
function missingInterpreter(file: string): string | undefined {
  const head = readHead(file);
  const interp = head && shebangInterpreter(head);
  return interp && !fs.existsSync(interp) ? `its interpreter \`${interp}\` (from the #! line of \`${file}\`) does not exist` : undefined;
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function canEnter(p: string): boolean {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export type SpawnErrorKind = 'spawnNotFound' | 'spawnPermissionDenied' | 'spawnFailed';

/**
 * Upstream 0.171 tags a failed process/start with `error.data.kind` (an internally tagged
 * ProcessStartErrorData): not found (ENOENT: program, cwd, #! interpreter), permission
 * denied (EACCES), anything else spawnFailed. Every message here carries the errno as
 * `(os error N)` (pre-spawn checks and explainSpawnFailure alike), or the spawn's errno on `cause`.
 */
export function withSpawnErrorKind(err: unknown): unknown {
  if (!(err instanceof RpcError) || err.code !== ErrorCode.InternalError || err.data !== undefined) return err;
  const errno = (err.cause as { code?: unknown } | undefined)?.code;
  const os = osErrorNumberIn(err.message);
  const kind: SpawnErrorKind =
    errno === 'ENOENT' || os === osConstants.errno.ENOENT
      ? 'spawnNotFound'
      : errno === 'EACCES' || os === osConstants.errno.EACCES
        ? 'spawnPermissionDenied'
        : 'spawnFailed';
  return new RpcError(err.code, err.message, { kind });
}
