import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { hostPlatform } from '../platform/hostPlatform';
import { pidAlive } from '../platform/pidAlive';

/**
 * Discovery files: how an agent started anywhere on this machine finds the server.
 *
 * Directory (per user, created 0700, refused if it is a symlink or not ours):
 *   $XDG_RUNTIME_DIR/exec-server-vscode/   Linux, when XDG_RUNTIME_DIR is set (tmpfs, per user, cleared at logout)
 *   %LOCALAPPDATA%\exec-server-vscode\     Windows
 *   ~/.exec-server-vscode/                 otherwise
 *   ($EXEC_SERVER_DISCOVERY_DIR overrides both.)
 * File: `server-<pid>-<port>.json`, mode 0600, JSON {@link DiscoveryInfo}; `pid` is the process that
 * owns the server (the VS Code extension host). Written atomically (a fresh 0600 temp file created
 * with O_EXCL, then renamed), removed when the server stops. Files whose pid is dead are stale:
 * readers ignore them and the extension deletes them at start.
 * No vscode import: agents' tooling and tests can use this module too.
 */
export interface DiscoveryInfo {
  url: string;
  port: number;
  token: string;
  pid: number;
  workspaceFolders: string[];
  appName: string;
  protocolVersion: string;
  startedAt: string;
  /** Extra, informational. */
  hostMode?: 'inProcess' | 'child';
}

const DISCOVERY_FILE = /^server-(\d+)-(\d+)\.json$/;

export function discoveryDir(env: NodeJS.ProcessEnv = process.env): string {
  return hostPlatform().discoveryDir(env);
}

function discoveryFileName(pid: number, port: number): string {
  return `server-${pid}-${port}.json`;
}

/** Create the directory 0700, or check an existing one is a real directory owned by us. */
async function ensureDiscoveryDir(dir = discoveryDir()): Promise<string> {
  await fs.promises.mkdir(dir, { recursive: true, mode: 0o700 });
  const st = await fs.promises.lstat(dir);
  if (!st.isDirectory()) throw new Error(`${dir} is not a directory`);
  if (typeof process.getuid === 'function' && st.uid !== process.getuid()) throw new Error(`${dir} is not owned by this user`);
  if ((st.mode & 0o077) !== 0) await fs.promises.chmod(dir, 0o700);
  return dir;
}

/** Atomically write this server's discovery file; returns its path. */
export async function writeDiscoveryFile(info: DiscoveryInfo, dir = discoveryDir()): Promise<string> {
  await ensureDiscoveryDir(dir);
  const file = path.join(dir, discoveryFileName(info.pid, info.port));
  const tmp = path.join(dir, `.tmp-${info.pid}-${info.port}-${randomBytes(6).toString('hex')}`);
  // 'wx' = O_CREAT|O_EXCL: never follows or reuses a file someone else put there.
  await fs.promises.writeFile(tmp, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  try {
    await fs.promises.rename(tmp, file);
  } catch (err) {
    await fs.promises.rm(tmp, { force: true });
    throw err;
  }
  return file;
}

export function removeDiscoveryFileSync(file: string): void {
  try {
    fs.unlinkSync(file);
  } catch {
    // already gone
  }
}

/** Delete discovery files (and leftover temp files) of processes that no longer exist. */
export async function cleanStaleDiscoveryFiles(dir = discoveryDir()): Promise<string[]> {
  let names: string[];
  try {
    names = await fs.promises.readdir(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = DISCOVERY_FILE.exec(name) ?? /^\.tmp-(\d+)-(\d+)-[0-9a-f]+$/.exec(name);
    if (!m || pidAlive(Number(m[1]))) continue;
    await fs.promises.rm(path.join(dir, name), { force: true });
    removed.push(name);
  }
  return removed;
}

/** The live servers advertised in the directory, newest first (what an agent would do). */
export async function listDiscoveredServers(dir = discoveryDir()): Promise<Array<DiscoveryInfo & { file: string }>> {
  let names: string[];
  try {
    names = await fs.promises.readdir(dir);
  } catch {
    return [];
  }
  const out: Array<DiscoveryInfo & { file: string }> = [];
  for (const name of names) {
    const m = DISCOVERY_FILE.exec(name);
    if (!m || !pidAlive(Number(m[1]))) continue;
    try {
      const file = path.join(dir, name);
      const info = JSON.parse(await fs.promises.readFile(file, 'utf8')) as DiscoveryInfo;
      out.push({ ...info, file });
    } catch {
      // being replaced or not ours: skip
    }
  }
  return out.sort((a, b) => b.startedAt.localeCompare(a.startedAt));
}
