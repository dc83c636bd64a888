import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where a command runs when the agent gives no `cwd`.
 *
 * CLI agents (Claude Code, Gemini CLI, codex…) start the bridge in the directory they work in,
 * so that directory is the agent's working directory: when it lies inside one of the server's
 * workspace folders it is used as is (an agent started in `proj/packages/api` expects its
 * commands to run there, like its own shell tool, not in `proj`). VS Code starts MCP servers
 * wherever its extension host runs, and says where the agent works through MCP roots: then the
 * workspace folder holding a root is used. Otherwise (no folder matches, or the server was given
 * by URL without a discovery file) the bridge's own working directory.
 */
export function defaultCwd(bridgeCwd: string, roots: readonly string[], workspaceFolders: readonly string[] | undefined): string {
  const folders = (workspaceFolders ?? []).map((f) => path.resolve(f));
  if (folders.some((f) => isInside(bridgeCwd, f))) return bridgeCwd;
  let best: string | undefined;
  for (const root of roots) {
    for (const f of folders) {
      if (isInside(path.resolve(root), f) && (!best || f.length > best.length)) best = f;
    }
  }
  return best ?? bridgeCwd;
}

/** Resolve the agent's `cwd` argument: relative paths are taken from the default. */
export function resolveCwd(given: string | undefined, fallback: string): string {
  if (!given) return fallback;
  const p = given.startsWith('file://') ? fileURLToPath(given) : given;
  return path.resolve(fallback, p.startsWith('~/') ? path.join(process.env.HOME ?? '~', p.slice(2)) : p);
}

function isInside(p: string, folder: string): boolean {
  const rel = path.relative(folder, p);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}
