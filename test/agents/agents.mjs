// How each agent CLI is configured and run offline against the mock model (recipes:
// ../shared/notes/agent-clis-offline.md). Each entry:
//   toolCall(server, tool, args) -> the script step that makes the model call an MCP tool
//   configure({world, bin, mockUrl, mcp, prompt}) -> {argv, env}: writes the agent's config into
//     the world's HOME (mcp = {command, args, env} registered under the name `exec`, or null when
//     the config was written by `exec-server connect <agent> --write`)
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { NODE, baseEnv } from './harness.mjs';

/**
 * configure()'s argument; `mcp` null = the agent's config already registers the bridge.
 * @typedef {{ world: { home: string, root: string, workspace: string }, bin: string, mockUrl: string,
 *   mcp: { command: string, args: string[], env?: Record<string, string> } | null, prompt: string,
 *   allowedTools?: string[], approvalMode?: string, extraArgs?: string[] }} ConfigureArgs
 */

const toml = (s) => JSON.stringify(String(s));
const tomlInline = (obj) => `{ ${Object.entries(obj).map(([k, v]) => `${toml(k)} = ${toml(v)}`).join(', ')} }`;

function mergeJson(file, patch) {
  const cur = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
  const merge = (a, b) => {
    for (const [k, v] of Object.entries(b)) {
      if (v && typeof v === 'object' && !Array.isArray(v) && a[k] && typeof a[k] === 'object' && !Array.isArray(a[k])) merge(a[k], v);
      else a[k] = v;
    }
    return a;
  };
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, JSON.stringify(merge(cur, patch), null, 2));
}

export const codex = {
  name: 'codex',
  toolCall: (server, tool, args) => ({ namespace: `mcp__${server}`, tool, args }),
  /** codex reads $CODEX_HOME/config.toml; `mcp` null = a config.toml already holding [mcp_servers.exec]. */
  /** @param {ConfigureArgs} o */
  configure({ world, bin, mockUrl, mcp, prompt }) {
    const codexHome = join(world.home, '.codex');
    mkdirSync(codexHome, { recursive: true });
    const file = join(codexHome, 'config.toml');
    const existing = existsSync(file) ? readFileSync(file, 'utf8') : '';
    const lines = [
      'model = "mock-model"',
      'model_provider = "mock"',
      '',
      '[model_providers.mock]',
      'name = "mock"',
      `base_url = ${toml(`${mockUrl}/v1`)}`,
      'wire_api = "responses"',
      'env_key = "MOCK_API_KEY"',
      'request_max_retries = 0',
      'stream_max_retries = 0',
      '',
      '[analytics]',
      'enabled = false', // else a look-up of an outside host at exit
      '',
    ];
    if (mcp) {
      lines.push(
        '[mcp_servers.exec]',
        `command = ${toml(mcp.command)}`,
        `args = [${mcp.args.map(toml).join(', ')}]`,
        `env = ${tomlInline(mcp.env ?? {})}`,
        'startup_timeout_sec = 30',
        'tool_timeout_sec = 60',
        '',
      );
    }
    writeFileSync(file, `${lines.join('\n')}\n${existing}`);
    const env = baseEnv(world, { CODEX_HOME: codexHome, MOCK_API_KEY: 'mock-key' });
    const argv = [
      bin, 'exec', '--json', '--skip-git-repo-check', '--ephemeral', '--dangerously-bypass-approvals-and-sandbox',
      '-C', world.workspace,
      '--disable', 'plugins', '--disable', 'apps', '--disable', 'remote_plugin', '--disable', 'tool_suggest',
      prompt,
    ];
    return { argv, env };
  },
};

export const claude = {
  name: 'claude',
  toolCall: (server, tool, args) => ({ tool: `mcp__${server}__${tool}`, args }),
  /**
   * mcp given: a --mcp-config file with --strict-mcp-config (nothing else is loaded).
   * mcp null: the user-scope set-up already in HOME (~/.claude.json, ~/.claude/settings.json).
   * allowedTools: what the user allowed for this non-interactive run (-p cannot ask).
   */
  /** @param {ConfigureArgs} o */
  configure({ world, bin, mockUrl, mcp, prompt, allowedTools = ['mcp__exec'] }) {
    const env = baseEnv(world, {
      ANTHROPIC_BASE_URL: mockUrl,
      ANTHROPIC_API_KEY: 'dummy',
      DISABLE_TELEMETRY: '1',
      DISABLE_ERROR_REPORTING: '1',
      DISABLE_AUTOUPDATER: '1',
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
      ENABLE_TOOL_SEARCH: 'false', // list MCP tools directly instead of deferring them behind ToolSearch
    });
    const argv = [bin, '-p', prompt, '--output-format', 'stream-json', '--verbose'];
    if (mcp) {
      const cfg = join(world.root, 'claude-mcp.json');
      writeFileSync(cfg, JSON.stringify({ mcpServers: { exec: { type: 'stdio', ...mcp } } }, null, 2));
      argv.push('--mcp-config', cfg, '--strict-mcp-config');
    }
    if (allowedTools.length) argv.push('--allowedTools', allowedTools.join(','));
    return { argv, env };
  },
  /** The tool_result blocks Claude Code printed (stream-json), for what the agent itself saw. */
  events: (stdout) => jsonLines(stdout),
};

export const gemini = {
  name: 'gemini',
  toolCall: (server, tool, args) => ({ tool: `mcp_${server}_${tool}`, args }),
  /** Writes the offline settings into ~/.gemini/settings.json, merged with what is there. */
  /** @param {ConfigureArgs} o */
  configure({ world, bin, mockUrl, mcp, prompt, approvalMode = 'yolo' }) {
    const settings = {
      security: { auth: { selectedType: 'gemini-api-key' } },
      privacy: { usageStatisticsEnabled: false },
      telemetry: { enabled: false },
    };
    if (mcp) settings.mcpServers = { exec: { ...mcp, trust: true } };
    mergeJson(join(world.home, '.gemini', 'settings.json'), settings);
    const env = baseEnv(world, { GOOGLE_GEMINI_BASE_URL: mockUrl, GEMINI_API_KEY: 'dummy', GEMINI_CLI_TRUST_WORKSPACE: 'true' });
    const argv = [NODE, bin, '-p', prompt, '--output-format', 'stream-json'];
    if (approvalMode) argv.push('--approval-mode', approvalMode);
    return { argv, env };
  },
};

export function jsonLines(text) {
  const out = [];
  for (const line of String(text).split('\n')) {
    const t = line.trim();
    if (!t.startsWith('{')) continue;
    try {
      out.push(JSON.parse(t));
    } catch {}
  }
  return out;
}

export { mergeJson };

/** Copilot CLI unpacks ~235 MB on its first run: share that cache between runs (outside the repo). */
const sharedCopilotCache = () => join(process.env.EXEC_SERVER_TEST_CACHE ?? join(process.env.HOME ?? '/tmp', '.cache', 'exec-server-vscode'), 'copilot-xdg-cache');

export const copilot = {
  name: 'copilot',
  toolCall: (server, tool, args) => ({ tool: `${server}-${tool}`, args }),
  /** extraArgs: e.g. the set-up's `--deny-tool shell` (Copilot CLI has no setting for it). */
  /** @param {ConfigureArgs} o */
  configure({ world, bin, mockUrl, mcp, prompt, extraArgs = [] }) {
    const env = baseEnv(world, {
      XDG_CACHE_HOME: sharedCopilotCache(),
      COPILOT_OFFLINE: 'true',
      COPILOT_AUTO_UPDATE: 'false',
      COPILOT_PROVIDER_BASE_URL: `${mockUrl}/v1`,
      COPILOT_PROVIDER_TYPE: 'openai',
      COPILOT_PROVIDER_WIRE_API: 'responses',
      COPILOT_PROVIDER_API_KEY: 'dummy',
      COPILOT_MODEL: 'mock-model',
    });
    mkdirSync(env.XDG_CACHE_HOME, { recursive: true });
    const argv = [bin, '-p', prompt, '--disable-builtin-mcps', '--output-format', 'json', ...extraArgs];
    if (mcp) {
      const cfg = join(world.root, 'copilot-mcp.json');
      writeFileSync(cfg, JSON.stringify({ mcpServers: { exec: { type: 'local', ...mcp, tools: ['*'] } } }, null, 2));
      argv.push('--additional-mcp-config', `@${cfg}`, '--allow-tool=exec');
    }
    return { argv, env };
  },
};

export const opencode = {
  name: 'opencode',
  toolCall: (server, tool, args) => ({ tool: `${server}_${tool}`, args }),
  /** @param {ConfigureArgs} o */
  configure({ world, bin, mockUrl, mcp, prompt }) {
    const cfg = {
      $schema: 'https://opencode.ai/config.json',
      autoupdate: false,
      share: 'disabled',
      model: 'mock/mock-model',
      provider: { mock: { npm: '@ai-sdk/openai-compatible', name: 'mock', options: { baseURL: `${mockUrl}/v1`, apiKey: 'dummy' }, models: { 'mock-model': { name: 'mock-model' } } } },
    };
    if (mcp) cfg.mcp = { exec: { type: 'local', command: [mcp.command, ...mcp.args], enabled: true, environment: mcp.env ?? {} } };
    const file = join(world.root, 'opencode.json');
    writeFileSync(file, JSON.stringify(cfg, null, 2));
    const env = baseEnv(world, {
      OPENCODE_CONFIG: file,
      OPENCODE_DISABLE_AUTOUPDATE: '1',
      OPENCODE_DISABLE_MODELS_FETCH: '1',
      OPENCODE_DISABLE_SHARE: '1',
      OPENCODE_DISABLE_DEFAULT_PLUGINS: '1',
      npm_config_registry: `${mockUrl}/npm/`, // it looks a plugin package up at every start; a 404 is fine
    });
    return { argv: [bin, 'run', '--format', 'json', prompt], env };
  },
};
