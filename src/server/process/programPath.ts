import * as fs from 'node:fs';
import * as path from 'node:path';
import { hostPlatform } from '../../platform/hostPlatform';
import { internalError } from '../../protocol/errors';
import { osFailure } from './osError';

/** glibc's confstr(_CS_PATH): what execvp searches when the child has no PATH. */
const DEFAULT_SEARCH_PATH = '/bin:/usr/bin';

/**
 * Resolve argv[0] the way execvp would in the child (with the child's PATH), before
 * spawning. Doing it up front gives PTY and pipe spawns the same clear errors; node-pty
 * would otherwise fork, fail in execvp and report only "exit 1".
 */
export function resolveProgram(program: string, env: Record<string, string>, cwd: string): string {
  if (program === '') throw internalError('missing program: argv[0] is empty');
  const platform = hostPlatform();
  if (platform.hasPathSeparator(program)) {
    const candidate = path.resolve(cwd, program);
    checkExecutable(candidate, program);
    return candidate;
  }
  if (!platform.searchesPathLikeExecvp) return program; // Windows: the OS searches, with PATHEXT
  const searchPath = env.PATH ?? DEFAULT_SEARCH_PATH;
  let sawNonExecutable: string | undefined;
  for (const dir of searchPath.split(':')) {
    const candidate = path.resolve(cwd, dir || '.', program);
    const st = statOrUndefined(candidate);
    if (!st || !st.isFile()) continue;
    if (isExecutable(candidate)) return candidate;
    sawNonExecutable ??= candidate;
  }
  if (sawNonExecutable) {
    throw osFailure('EACCES', `${sawNonExecutable} is not executable`);
  }
  throw osFailure('ENOENT', `program \`${program}\` not found in PATH (${searchPath})`);
}

/** The working directory must exist and be a directory: say so before spawning. */
export function checkCwd(cwd: string): void {
  const st = statOrUndefined(cwd);
  if (!st) throw osFailure('ENOENT', `cwd \`${cwd}\` does not exist`);
  if (!st.isDirectory()) throw osFailure('ENOTDIR', `cwd \`${cwd}\` is not a directory`);
}

function checkExecutable(candidate: string, program: string): void {
  const st = statOrUndefined(candidate);
  if (!st) throw osFailure('ENOENT', `\`${program}\` does not exist`);
  if (st.isDirectory()) throw osFailure('EACCES', `\`${program}\` is a directory`);
  if (!isExecutable(candidate)) throw osFailure('EACCES', `\`${program}\` is not executable`);
}

function isExecutable(p: string): boolean {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function statOrUndefined(p: string): fs.Stats | undefined {
  try {
    return fs.statSync(p);
  } catch {
    return undefined;
  }
}

/**
 * The kernel runs only binaries it knows (ELF here) and `#!` scripts (whose interpreter must exist); anything else fails
 * with ENOEXEC, as upstream reports it. execvp (libuv's, node-pty's) would instead hand such
 * a file to /bin/sh and run it as a shell script: refuse it before spawning. A system with
 * binfmt_misc handlers registered may run more formats, so there the kernel decides.
 */
export function checkExecFormat(file: string, program: string): void {
  if (!hostPlatform().checksExecFormat) return;
  const h = readHead(file);
  if (!h) return; // unreadable but executable (mode --x): the exec itself will tell
  if (h.subarray(0, 4).equals(ELF_MAGIC)) return;
  if (h.subarray(0, 2).toString('latin1') === '#!') {
    // A missing interpreter fails the exec with ENOENT; when the child starts through the
    // fd-closing launcher (childLauncher.ts) that would only be an exit code: say it here.
    const interp = shebangInterpreter(h);
    if (interp && !fs.existsSync(interp)) {
      throw osFailure('ENOENT', `cannot start \`${program}\`: its interpreter \`${interp}\` (from the #! line of \`${file}\`) does not exist`);
    }
    return;
  }
  if (hasBinfmtHandlers()) return;
  throw osFailure('ENOEXEC', `\`${program}\` is not a program this system can run (no #! line, not an executable binary)`);
}

const ELF_MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);

/** The first 256 bytes of `file` (its ELF magic or `#!` line); undefined if it cannot be read. */
export function readHead(file: string): Buffer | undefined {
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const head = Buffer.alloc(256);
      return head.subarray(0, fs.readSync(fd, head, 0, head.length, 0));
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return undefined;
  }
}

/** The interpreter a `#!` line names, if the file starts with one. */
export function shebangInterpreter(head: Buffer): string | undefined {
  return /^#!\s*(\S+)/.exec(head.toString('latin1'))?.[1];
}

let binfmtHandlers: boolean | undefined;
function hasBinfmtHandlers(): boolean {
  if (binfmtHandlers === undefined) {
    try {
      binfmtHandlers = fs.readdirSync('/proc/sys/fs/binfmt_misc').some((n) => n !== 'register' && n !== 'status');
    } catch {
      binfmtHandlers = false;
    }
  }
  return binfmtHandlers;
}
