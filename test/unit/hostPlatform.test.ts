import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { platformFor, type PlatformDeps } from '../../src/platform/hostPlatform';

/** Collaborators that record what a platform asked for; `alive` says which pids exist. */
function fakeDeps(o: { env?: NodeJS.ProcessEnv; alive?: number[]; dirs?: Record<string, string[]>; runtimeDir?: string } = {}) {
  const kills: Array<[number, NodeJS.Signals | 0]> = [];
  const spawned: Array<[string, string[]]> = [];
  const alive = new Set(o.alive ?? []);
  const deps: PlatformDeps = {
    kill(pid, sig) {
      kills.push([pid, sig]);
      if (!alive.has(pid)) throw Object.assign(new Error('ESRCH'), { code: 'ESRCH' });
    },
    spawnDetached: (command, args) => void spawned.push([command, args]),
    readdir(dir) {
      const d = o.dirs?.[dir];
      if (!d) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
      return d;
    },
    homedir: () => (o.env?.HOME ?? '/home/u'),
    ownRuntimeDir: () => o.runtimeDir,
    env: o.env ?? {},
    username: () => 'u',
  };
  return { deps, kills, spawned };
}

describe('host platform: Linux', () => {
  it('kills the process group, falling back to the pid when the group is gone', () => {
    const f = fakeDeps({ alive: [-42] });
    const p = platformFor('linux', f.deps);
    assert.equal(p.killTree(42, 'SIGTERM'), true);
    assert.deepEqual(f.kills, [[-42, 'SIGTERM']]);
    const g = fakeDeps({ alive: [43] });
    assert.equal(platformFor('linux', g.deps).killTree(43, 'SIGKILL'), true);
    assert.deepEqual(g.kills, [[-43, 'SIGKILL'], [43, 'SIGKILL']]);
    assert.equal(platformFor('linux', fakeDeps().deps).killTree(44, 'SIGKILL'), false);
  });
  it('group liveness, interrupt by signal, children lead their group', () => {
    const p = platformFor('linux', fakeDeps({ alive: [-7] }).deps);
    assert.equal(p.treeAlive(7), true);
    assert.equal(p.treeAlive(8), false);
    assert.equal(p.interruptRoute(true), 'signal');
    assert.equal(p.interruptRoute(false), 'signal');
    assert.equal(p.childLeadsGroup, true);
  });
  it('discovery dir: override, XDG_RUNTIME_DIR, home', () => {
    const p = platformFor('linux', fakeDeps({ env: { HOME: '/home/u' } }).deps);
    assert.equal(p.discoveryDir({ EXEC_SERVER_DISCOVERY_DIR: '/x' }), '/x');
    assert.equal(p.discoveryDir({ XDG_RUNTIME_DIR: '/run/user/1000' }), '/run/user/1000/exec-server-vscode');
    assert.equal(p.discoveryDir({ XDG_RUNTIME_DIR: 'relative' }), '/home/u/.exec-server-vscode');
  });
  it('discovery dir without XDG_RUNTIME_DIR (an agent stripped it): the user runtime dir when it exists', () => {
    const p = platformFor('linux', fakeDeps({ runtimeDir: '/run/user/1000' }).deps);
    assert.equal(p.discoveryDir({}), '/run/user/1000/exec-server-vscode');
    assert.equal(p.discoveryDir({ XDG_RUNTIME_DIR: '/run/user/1000' }), '/run/user/1000/exec-server-vscode', 'the same with or without the variable');
    const mac = platformFor('darwin', fakeDeps({ runtimeDir: '/run/user/501', env: { HOME: '/Users/u' } }).deps);
    assert.equal(mac.discoveryDir({}), '/Users/u/.exec-server-vscode');
  });
  it('fd count from /proc/self/fd, unknown when it cannot be read', () => {
    assert.equal(platformFor('linux', fakeDeps({ dirs: { '/proc/self/fd': ['0', '1', '2', '3'] } }).deps).openFdCount(), 3);
    assert.equal(platformFor('linux', fakeDeps().deps).openFdCount(), undefined);
  });
});

describe('host platform: macOS', () => {
  it('same groups and signals as Linux; no XDG runtime dir; /dev/fd', () => {
    const f = fakeDeps({ alive: [-9], dirs: { '/dev/fd': ['0', '1', '2', '3', '4'] }, env: { HOME: '/Users/u' } });
    const p = platformFor('darwin', f.deps);
    assert.equal(p.killTree(9, 'SIGINT'), true);
    assert.deepEqual(f.kills, [[-9, 'SIGINT']]);
    assert.equal(p.discoveryDir({ XDG_RUNTIME_DIR: '/run/user/1' }), '/Users/u/.exec-server-vscode');
    assert.equal(p.openFdCount(), 4);
    assert.equal(p.ptyTailReadable, true);
    assert.deepEqual(p.watchdogEnv(), {});
  });
});

describe('host platform: Windows', () => {
  it('terminate/kill = taskkill /T /F of a live pid; nothing for a dead one; interrupt is never a kill', () => {
    const f = fakeDeps({ alive: [100] });
    const p = platformFor('win32', f.deps);
    assert.equal(p.killTree(100, 'SIGTERM'), true);
    assert.deepEqual(f.spawned, [['taskkill', ['/T', '/F', '/PID', '100']]]);
    assert.equal(p.killTree(101, 'SIGKILL'), false);
    assert.equal(p.killTree(100, 'SIGINT'), false);
    assert.equal(f.spawned.length, 1);
    assert.ok(f.kills.every(([pid]) => pid > 0), 'no negative (group) pids on Windows');
  });
  it('interrupt: Ctrl-C into a PTY (ConPTY), a tree kill for pipes; children get no new console', () => {
    const p = platformFor('win32', fakeDeps().deps);
    assert.equal(p.interruptRoute(true), 'ctrl-c');
    assert.equal(p.interruptRoute(false), 'tree-kill');
    assert.equal(p.childLeadsGroup, false);
    assert.equal(p.ptyTailReadable, false);
  });
  it('file:// URIs with drive letters (and UNC shares) both ways', () => {
    const p = platformFor('win32', fakeDeps().deps);
    assert.equal(p.fileUriToPath('file:///C:/Users/x%20y/a.txt'), 'C:\\Users\\x y\\a.txt');
    assert.equal(p.pathToFileUri('D:\\work\\repo'), 'file:///D:/work/repo');
    assert.equal(p.fileUriToPath('file://server/share/f'), '\\\\server\\share\\f');
    assert.throws(() => p.fileUriToPath('file:///no-drive'), /absolute/);
    const l = platformFor('linux', fakeDeps().deps);
    assert.equal(l.fileUriToPath('file:///home/u/a%20b'), '/home/u/a b');
  });
  it('discovery dir under %LOCALAPPDATA%; watchdog gets SystemRoot', () => {
    const p = platformFor('win32', fakeDeps({ env: { HOME: 'C:\\Users\\u' } }).deps);
    assert.equal(p.discoveryDir({ LOCALAPPDATA: 'C:\\Users\\u\\AppData\\Local' }), 'C:\\Users\\u\\AppData\\Local\\exec-server-vscode');
    assert.equal(p.discoveryDir({}), 'C:\\Users\\u\\AppData\\Local\\exec-server-vscode');
    assert.deepEqual(p.watchdogEnv({ SystemRoot: 'D:\\Win' }), { SystemRoot: 'D:\\Win' });
    assert.equal(p.openFdCount(), undefined);
  });
  it('programs: `\\` separates paths too, the OS searches PATH(EXT), no exec-format check, no file modes; control sockets are named pipes', () => {
    const p = platformFor('win32', fakeDeps().deps);
    assert.equal(p.hasPathSeparator('.\\build.cmd'), true);
    assert.equal(p.hasPathSeparator('C:/tools/x.exe'), true);
    assert.equal(p.hasPathSeparator('git'), false);
    assert.equal(p.searchesPathLikeExecvp, false);
    assert.equal(p.checksExecFormat, false);
    assert.equal(p.fileModes, false);
    assert.equal(p.localSocketPath('C:\\ignored', 'abc'), '\\\\.\\pipe\\exec-server-vscode-u-abc');
  });
});

describe('host platform: programs and local sockets on POSIX', () => {
  it('Linux: `/` only, PATH searched as execvp does, exec format checked, 0600/0700 modes, UNIX sockets in the private dir', () => {
    const p = platformFor('linux', fakeDeps().deps);
    assert.equal(p.hasPathSeparator('./x'), true);
    assert.equal(p.hasPathSeparator('a\\b'), false); // a legal file name on POSIX, searched in PATH
    assert.equal(p.searchesPathLikeExecvp, true);
    assert.equal(p.checksExecFormat, true);
    assert.equal(p.fileModes, true);
    assert.equal(p.localSocketPath('/run/user/1/exec-server-vscode-ctl', 'abc'), '/run/user/1/exec-server-vscode-ctl/abc.sock');
  });
  it('macOS: as Linux, but Mach-O executables: the OS judges the format', () => {
    const p = platformFor('darwin', fakeDeps().deps);
    assert.equal(p.searchesPathLikeExecvp, true);
    assert.equal(p.checksExecFormat, false);
    assert.equal(p.fileModes, true);
  });
});
