import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ConfigTarget } from './agents';

/**
 * The real user-scope file behind each set-up target, resolved against `home` and the
 * variables the agents themselves honour (CODEX_HOME and COPILOT_HOME per their own help,
 * XDG_CONFIG_HOME for opencode and for VS Code on Linux, APPDATA on Windows).
 */
export function configFile(target: ConfigTarget, home: string, env: NodeJS.ProcessEnv = {}, platform: NodeJS.Platform = process.platform): string {
  const xdg = env.XDG_CONFIG_HOME && path.isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : path.join(home, '.config');
  switch (target) {
    case 'claude.json':
      return path.join(home, '.claude.json');
    case 'claude-settings':
      return path.join(home, '.claude', 'settings.json');
    case 'gemini-settings':
      return path.join(home, '.gemini', 'settings.json');
    case 'codex-config':
      return path.join(env.CODEX_HOME || path.join(home, '.codex'), 'config.toml');
    case 'copilot-mcp':
      return path.join(env.COPILOT_HOME || path.join(home, '.copilot'), 'mcp-config.json');
    case 'opencode-config': {
      // opencode reads opencode.json or opencode.jsonc from its config folder: use the one there is.
      const dir = path.join(xdg, 'opencode');
      const jsonc = path.join(dir, 'opencode.jsonc');
      const plain = path.join(dir, 'opencode.json');
      return !fs.existsSync(plain) && fs.existsSync(jsonc) ? jsonc : plain;
    }
    case 'cursor-mcp':
      return path.join(home, '.cursor', 'mcp.json');
    case 'vscode-mcp':
      if (platform === 'darwin') return path.join(home, 'Library', 'Application Support', 'Code', 'User', 'mcp.json');
      if (platform === 'win32') return path.join(env.APPDATA || path.join(home, 'AppData', 'Roaming'), 'Code', 'User', 'mcp.json');
      return path.join(xdg, 'Code', 'User', 'mcp.json');
  }
}
