import * as fs from 'node:fs';
import * as path from 'node:path';
import { internalError } from '../protocol/errors';

/** glibc's confstr(_CS_PATH): what execvp searches when the child has no PATH. */
const DEFAULT_SEARCH_PATH = '/bin:/usr/bin';

/**
 * Resolve argv[0] the way execvp would in the child (with the child's PATH), before
 * spawning. Doing it up front gives PTY and pipe spawns the same clear errors; node-pty
 * would otherwise fork, fail in execvp and report only "exit 1".
 */
export function resolveProgram(program: string, env: Record<string, string>, cwd: string): string {
  if (program === '') throw internalError('missing program: argv[0] is empty');
  if (program.includes('/') || (process.platform === 'win32' && program.includes('\\'))) {
    const candidate = path.resolve(cwd, program);
    checkExecutable(candidate, program);
    return candidate;
  }
  if (process.platform === 'win32') return program; // let the OS search PATHEXT
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
    throw internalError(`Permission denied (os error 13): ${sawNonExecutable} is not executable`);
  }
  throw internalError(`No such file or directory (os error 2): program \`${program}\` not found in PATH (${searchPath})`);
}

/** The working directory must exist and be a directory: say so before spawning. */
export function checkCwd(cwd: string): void {
  const st = statOrUndefined(cwd);
  if (!st) throw internalError(`No such file or directory (os error 2): cwd \`${cwd}\` does not exist`);
  if (!st.isDirectory()) throw internalError(`Not a directory (os error 20): cwd \`${cwd}\` is not a directory`);
}

function checkExecutable(candidate: string, program: string): void {
  const st = statOrUndefined(candidate);
  if (!st) throw internalError(`No such file or directory (os error 2): \`${program}\` does not exist`);
  if (st.isDirectory()) throw internalError(`Permission denied (os error 13): \`${program}\` is a directory`);
  if (!isExecutable(candidate)) throw internalError(`Permission denied (os error 13): \`${program}\` is not executable`);
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
