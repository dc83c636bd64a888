import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * Everything that differs between Linux, macOS and Windows, behind one small interface
 * (except the shell for an agent's command line: src/mcp/shellLine.ts, platform-injectable too).
 * Callers never test `process.platform` themselves: they ask the platform. Tests build each
 * platform with its collaborators injected (`PlatformDeps`), so the macOS and Windows
 * branches run here too, even though only Linux processes can be started on this machine.
 */
export type PlatformId = 'linux' | 'darwin' | 'win32';

export interface HostPlatform {
  readonly id: PlatformId;
  /**
   * Whether a managed child leads its own process group (spawn's `detached`: setsid on POSIX).
   * On Windows `detached` would open a new console window instead: never.
   */
  readonly childLeadsGroup: boolean;
  /**
   * Signal a managed process and every process it started. POSIX: the process group.
   * Windows has no groups or signals: a hard stop is a tree kill (`taskkill /T /F`); see
   * `interruptRoute` for Ctrl-C.
   */
  killTree(pid: number, signal: NodeJS.Signals): boolean;
  /** True while the managed process (POSIX: any member of its group) is alive. */
  treeAlive(pid: number): boolean;
  /**
   * How `process/signal interrupt` reaches the process: a SIGINT to its group (POSIX), Ctrl-C
   * typed into its console (a Windows PTY: ConPTY turns it into CTRL_C_EVENT), or, for a
   * Windows pipe process, which has no console we can type into, a tree kill.
   */
  interruptRoute(tty: boolean): 'signal' | 'ctrl-c' | 'tree-kill';
  /** `file://` URIs and native paths (Windows: drive letters, `file:///C:/x` ↔ `C:\\x`). */
  fileUriToPath(uri: string): string;
  pathToFileUri(p: string): string;
  /** Per-user directory of discovery files (0700 where the platform has modes). */
  discoveryDir(env?: NodeJS.ProcessEnv): string;
  /** Open file descriptors of this process, for spawn-failure messages; undefined when unknown. */
  openFdCount(): number | undefined;
  /**
   * Whether the PTY master can be read directly at exit to recover the tail node-pty drops
   * (src/server/process/ptyTail.ts). Linux: the defect and the fix are measured here. macOS: the
   * master is a plain fd as well, so the same read applies. Windows (ConPTY pipes): no.
   */
  readonly ptyTailReadable: boolean;
  /** Extra environment the watchdog process needs to start (Windows: SystemRoot). */
  watchdogEnv(env?: NodeJS.ProcessEnv): Record<string, string>;
  /** Whether argv[0] names a file rather than a command to search for (`./x`, Windows `.\\x`). */
  hasPathSeparator(program: string): boolean;
  /**
   * Whether we search PATH for argv[0] as execvp would (POSIX), for clear errors before the
   * spawn. Windows: no; the OS searches, with PATHEXT.
   */
  readonly searchesPathLikeExecvp: boolean;
  /**
   * Whether a file that is neither ELF nor `#!` must be refused before the spawn (ENOEXEC, as
   * upstream): Linux, where the check is exact. macOS executables are Mach-O, and Windows
   * decides by extension: the OS says there.
   */
  readonly checksExecFormat: boolean;
  /** Whether files have POSIX modes (0600 secrets, 0700 directories). Windows: ACLs, no modes. */
  readonly fileModes: boolean;
  /**
   * Where a private local socket named `name` lives: a UNIX socket in `posixDir` (POSIX) or a
   * named pipe of this user (Windows, where pipes have no directory).
   */
  localSocketPath(posixDir: string, name: string): string;
}

export interface PlatformDeps {
  /** process.kill */
  kill(pid: number, signal: NodeJS.Signals | 0): void;
  /** Starts a helper command and forgets it (taskkill). */
  spawnDetached(command: string, args: string[]): void;
  /** fs.readdirSync */
  readdir(dir: string): string[];
  homedir(): string;
  /** /run/user/<uid> when it exists, is a directory owned by this user and private; else undefined. */
  ownRuntimeDir(): string | undefined;
  env: NodeJS.ProcessEnv;
  /** os.userInfo().username */
  username(): string;
}

const APP_DIR = 'exec-server-vscode';

function trySignal(deps: PlatformDeps, target: number, signal: NodeJS.Signals | 0): boolean {
  try {
    deps.kill(target, signal);
    return true;
  } catch {
    return false;
  }
}

/** Linux and macOS: process groups and signals. They differ in where things live. */
function posixPlatform(id: 'linux' | 'darwin', deps: PlatformDeps): HostPlatform {
  return {
    id,
    childLeadsGroup: true,
    killTree: (pid, signal) => trySignal(deps, -pid, signal) || trySignal(deps, pid, signal),
    treeAlive: (pid) => trySignal(deps, -pid, 0),
    interruptRoute: () => 'signal',
    fileUriToPath: (uri) => fileURLToPath(uri, { windows: false }),
    pathToFileUri: (p) => pathToFileURL(p, { windows: false }).href,
    discoveryDir(env = deps.env) {
      if (env.EXEC_SERVER_DISCOVERY_DIR) return env.EXEC_SERVER_DISCOVERY_DIR;
      // Linux: the per-user runtime dir (tmpfs, 0700, cleared at logout). macOS has none;
      // its per-user TMPDIR (/var/folders/…/T/) is private too but changes meaning across
      // sandboxed apps, so the home directory is the one place every agent agrees on.
      if (id === 'linux') {
        if (env.XDG_RUNTIME_DIR && path.isAbsolute(env.XDG_RUNTIME_DIR)) return path.join(env.XDG_RUNTIME_DIR, APP_DIR);
        // Agents strip the environment of the MCP servers they start (codex keeps a handful of
        // variables, XDG_RUNTIME_DIR not among them): the runtime dir systemd would have named
        // is found without the variable, so the bridge and the window agree on one directory.
        const runtime = deps.ownRuntimeDir();
        if (runtime) return path.join(runtime, APP_DIR);
      }
      return path.join(deps.homedir(), `.${APP_DIR}`);
    },
    openFdCount() {
      // Linux: /proc/self/fd; macOS: /dev/fd (fdescfs) lists this process's descriptors.
      try {
        return deps.readdir(id === 'linux' ? '/proc/self/fd' : '/dev/fd').length - 1; // minus readdir's own
      } catch {
        return undefined;
      }
    },
    ptyTailReadable: true,
    watchdogEnv: () => ({}),
    hasPathSeparator: (program) => program.includes('/'),
    searchesPathLikeExecvp: true,
    checksExecFormat: id === 'linux',
    fileModes: true,
    localSocketPath: (posixDir, name) => path.posix.join(posixDir, `${name}.sock`),
  };
}

function windowsPlatform(deps: PlatformDeps): HostPlatform {
  return {
    id: 'win32',
    childLeadsGroup: false,
    killTree(pid, signal) {
      if (signal === 'SIGINT') return false; // see interruptRoute: never a kill in disguise
      // No Job object without a native module: taskkill /T walks the tree by parent pid (a
      // grandchild whose parent already exited escapes it; documented in the README).
      if (!trySignal(deps, pid, 0)) return false;
      deps.spawnDetached('taskkill', ['/T', '/F', '/PID', String(pid)]);
      return true;
    },
    treeAlive: (pid) => trySignal(deps, pid, 0),
    interruptRoute: (tty) => (tty ? 'ctrl-c' : 'tree-kill'),
    fileUriToPath: (uri) => fileURLToPath(uri, { windows: true }),
    pathToFileUri: (p) => pathToFileURL(p, { windows: true }).href,
    discoveryDir(env = deps.env) {
      if (env.EXEC_SERVER_DISCOVERY_DIR) return env.EXEC_SERVER_DISCOVERY_DIR;
      const local = env.LOCALAPPDATA && path.win32.isAbsolute(env.LOCALAPPDATA) ? env.LOCALAPPDATA : path.win32.join(deps.homedir(), 'AppData', 'Local');
      return path.win32.join(local, APP_DIR);
    },
    openFdCount: () => undefined,
    ptyTailReadable: false,
    watchdogEnv: (env = deps.env) => ({ SystemRoot: env.SystemRoot ?? 'C:\\Windows' }),
    hasPathSeparator: (program) => program.includes('/') || program.includes('\\'),
    searchesPathLikeExecvp: false,
    checksExecFormat: false,
    fileModes: false,
    localSocketPath: (_posixDir, name) => `\\\\.\\pipe\\${APP_DIR}-${deps.username()}-${name}`,
  };
}

export function platformFor(id: string, deps: PlatformDeps): HostPlatform {
  if (id === 'win32') return windowsPlatform(deps);
  if (id === 'darwin' || id === 'linux') return posixPlatform(id, deps);
  // Other Unixes (FreeBSD, …): POSIX groups and signals, Linux's layout otherwise untested.
  return posixPlatform('linux', deps);
}

let current: HostPlatform | undefined;

/** The platform this process runs on, with the real collaborators. */
export function hostPlatform(): HostPlatform {
  if (!current) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const fs = require('node:fs') as typeof import('node:fs');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const cp = require('node:child_process') as typeof import('node:child_process');
    current = platformFor(process.platform, {
      kill: (pid, sig) => void process.kill(pid, sig),
      spawnDetached(command, args) {
        const c = cp.spawn(command, args, { stdio: 'ignore', windowsHide: true });
        c.on('error', () => undefined);
      },
      readdir: (dir) => fs.readdirSync(dir),
      homedir: () => os.homedir(),
      ownRuntimeDir() {
        if (typeof process.getuid !== 'function') return undefined;
        const dir = `/run/user/${process.getuid()}`;
        try {
          const st = fs.lstatSync(dir);
          return st.isDirectory() && st.uid === process.getuid() && (st.mode & 0o077) === 0 ? dir : undefined;
        } catch {
          return undefined;
        }
      },
      env: process.env,
      username: () => os.userInfo().username,
    });
  }
  return current;
}
