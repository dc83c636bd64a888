import * as fs from 'node:fs';
import * as path from 'node:path';
import { discoveryDir, listDiscoveredServers, type DiscoveryInfo } from './discoveryFiles';

/**
 * How a client that was not handed a connection (the MCP bridge, `exec-server run`) finds the
 * exec server to use. Resolved again at every use, so a window reload or a server restart is
 * followed. Order (the first that applies wins):
 *   1. explicit `url` (+ `tokenFile`), e.g. the `--url` / `--token-file` flags;
 *   2. `EXEC_SERVER_URL` + `EXEC_SERVER_TOKEN`;
 *   3. `EXEC_SERVER_URL` alone, its token read from the discovery file advertising that URL;
 *   4. the discovery files (ours, mode 0600, live pid) whose `workspaceFolders` contain the
 *      working directory or one of the MCP roots: the longest folder wins, then the newest.
 * Agents pass MCP servers only the variables their config names (codex and Gemini CLI strip
 * the rest), so step 4 must work with no variable at all.
 */
export interface ResolveOptions {
  url?: string;
  tokenFile?: string;
  /** Where the agent works: its cwd, then its MCP roots (absolute paths). */
  cwd?: string;
  roots?: string[];
  env?: NodeJS.ProcessEnv;
  dir?: string;
}

export interface ResolvedServer {
  url: string;
  token: string | null;
  /** How it was found, for messages (never contains the token). */
  source: 'flags' | 'env' | 'env+discovery' | 'discovery';
  info?: DiscoveryInfo & { file: string };
}

export class ServerNotFoundError extends Error {
  constructor(detail: string) {
    super(
      `no exec server found: ${detail}. Open this folder in VS Code with the Exec Server extension ` +
        'running (its discovery file tells agents where the server is), or pass --url ws://127.0.0.1:PORT ' +
        'with --token-file PATH (or set EXEC_SERVER_URL and EXEC_SERVER_TOKEN). Nothing was run.',
    );
    this.name = 'ServerNotFoundError';
  }
}

export async function resolveServer(o: ResolveOptions = {}): Promise<ResolvedServer> {
  const env = o.env ?? process.env;
  const dir = o.dir ?? discoveryDir(env);
  if (o.url) {
    if (o.tokenFile) return { url: o.url, token: readTokenFile(o.tokenFile), source: 'flags' };
    if (env.EXEC_SERVER_TOKEN) return { url: o.url, token: env.EXEC_SERVER_TOKEN, source: 'flags' };
    const info = await byUrl(o.url, dir);
    return { url: o.url, token: info?.token ?? null, source: 'flags', info };
  }
  if (env.EXEC_SERVER_URL) {
    if (env.EXEC_SERVER_TOKEN) return { url: env.EXEC_SERVER_URL, token: env.EXEC_SERVER_TOKEN, source: 'env' };
    const info = await byUrl(env.EXEC_SERVER_URL, dir);
    if (!info) throw new ServerNotFoundError(`EXEC_SERVER_URL is ${env.EXEC_SERVER_URL} but EXEC_SERVER_TOKEN is not set and no discovery file in ${dir} advertises that URL`);
    return { url: info.url, token: info.token, source: 'env+discovery', info };
  }
  const places = [o.cwd ?? process.cwd(), ...(o.roots ?? [])].map((p) => path.resolve(p));
  const all = await trustedServers(dir);
  const best = pickByFolder(all, places);
  if (!best) {
    const seen = all.length === 0 ? `no live server is advertised in ${dir}` : `${all.length} live server(s) in ${dir}, none with a workspace folder containing ${places.join(' or ')}`;
    throw new ServerNotFoundError(seen);
  }
  return { url: best.url, token: best.token, source: 'discovery', info: best };
}

/** The live servers whose discovery file is ours and private (a file others could write is ignored). */
export async function trustedServers(dir = discoveryDir()): Promise<Array<DiscoveryInfo & { file: string }>> {
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
  const out: Array<DiscoveryInfo & { file: string }> = [];
  for (const s of await listDiscoveredServers(dir)) {
    try {
      const st = await fs.promises.lstat(s.file);
      if (!st.isFile()) continue;
      if (uid !== undefined && (st.uid !== uid || (st.mode & 0o077) !== 0)) continue;
      if (typeof s.url !== 'string' || !Array.isArray(s.workspaceFolders)) continue;
      out.push(s);
    } catch {
      // vanished meanwhile
    }
  }
  return out;
}

/**
 * The server whose workspace folder holds one of `places` most closely (longest folder path),
 * then the newest (`startedAt`). Pure, for tests.
 */
function pickByFolder<T extends Pick<DiscoveryInfo, 'workspaceFolders' | 'startedAt'>>(servers: T[], places: string[]): T | undefined {
  let best: { s: T; len: number } | undefined;
  for (const s of servers) {
    for (const folder of s.workspaceFolders) {
      const f = path.resolve(folder);
      if (!places.some((p) => isInside(p, f))) continue;
      if (!best || f.length > best.len || (f.length === best.len && s.startedAt > best.s.startedAt)) best = { s, len: f.length };
    }
  }
  return best?.s;
}

function isInside(p: string, folder: string): boolean {
  const rel = path.relative(folder, p);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

async function byUrl(url: string, dir: string): Promise<(DiscoveryInfo & { file: string }) | undefined> {
  const norm = (u: string) => u.replace(/\/+$/, '').replace(/\/\?.*$/, '').replace(/\?.*$/, '');
  return (await trustedServers(dir)).find((s) => norm(s.url) === norm(url));
}

function readTokenFile(file: string): string {
  const token = fs.readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  if (!token) throw new Error(`token file ${file} is empty`);
  return token;
}
