// Runs `codex exec` (0.169) fully offline against a mock model (see mockModel.mjs), optionally
// pointed at an external exec server. Fresh CODEX_HOME per run (a temp dir, removed afterwards
// unless keepHome is set). Codex runs in its own process group; on timeout that group (whose id is
// codex's PID) is killed with SIGKILL.
//
//   const r = await runCodexExec({ codexBin, prompt: 'go', workdir, mockBaseUrl: model.baseUrl,
//                                  execServerUrl: 'ws://127.0.0.1:PORT/?token=T', timeoutMs: 60000 });
//   r.code, r.signal, r.timedOut, r.stdout, r.stderr, r.events (parsed --json lines), r.ms
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** TOML basic string. */
function tomlString(s) {
  return JSON.stringify(String(s));
}

/**
 * environmentsToml: a string (written verbatim) or {url, authBearerToken?, id? = 'devbox'}.
 */
export function environmentsTomlText(environmentsToml) {
  if (typeof environmentsToml === 'string') return environmentsToml;
  const { url, authBearerToken, id = 'devbox' } = environmentsToml;
  const lines = [
    `default = ${tomlString(id)}`,
    'include_local = false',
    '',
    '[[environments]]',
    `id = ${tomlString(id)}`,
    `url = ${tomlString(url)}`,
  ];
  if (authBearerToken != null) lines.push(`auth_bearer_token = ${tomlString(authBearerToken)}`);
  return lines.join('\n') + '\n';
}

/**
 * The flags from /work/shared/notes/codex-mock-model.md.
 * @param {{ prompt: string, workdir: string, mockBaseUrl: string, sandbox?: string, extraArgs?: string[] }} o
 */
export function codexExecArgs({ prompt, workdir, mockBaseUrl, sandbox = 'bypass', extraArgs = [] }) {
  const sandboxArgs =
    sandbox === 'bypass'
      ? ['--dangerously-bypass-approvals-and-sandbox']
      : ['-s', sandbox, '-c', 'approval_policy=never'];
  return [
    'exec',
    '--json',
    '--skip-git-repo-check',
    '--ephemeral',
    ...sandboxArgs,
    '-C', workdir,
    '-m', 'mock-model',
    '-c', 'model_provider=mock',
    '-c', 'model_providers.mock.name=mock',
    '-c', `model_providers.mock.base_url=${tomlString(mockBaseUrl)}`,
    '-c', 'model_providers.mock.wire_api=responses',
    '-c', 'model_providers.mock.env_key=MOCK_API_KEY',
    '-c', 'model_providers.mock.request_max_retries=0',
    '-c', 'model_providers.mock.stream_max_retries=0',
    '--disable', 'plugins',
    '--disable', 'apps',
    '--disable', 'remote_plugin',
    '--disable', 'tool_suggest',
    ...extraArgs,
    prompt,
  ];
}

/**
 * @param {{
 *   codexBin: string, prompt: string, workdir: string, mockBaseUrl: string,
 *   execServerUrl?: string,
 *   environmentsToml?: string | {url: string, authBearerToken?: string, id?: string},
 *   sandbox?: 'bypass' | 'workspace-write' | 'read-only' | 'danger-full-access',
 *   timeoutMs?: number, extraArgs?: string[], env?: Record<string,string>, keepHome?: boolean,
 * }} o
 */
export function runCodexExec(o) {
  const { codexBin, execServerUrl, environmentsToml, timeoutMs = 60_000, env: extraEnv = {}, keepHome = false } = o;
  if (!codexBin) throw new Error('runCodexExec: codexBin is required');
  const codexHome = mkdtempSync(join(tmpdir(), 'codex-home-'));
  if (environmentsToml != null) writeFileSync(join(codexHome, 'environments.toml'), environmentsTomlText(environmentsToml));

  const env = { ...process.env };
  // Nothing from the caller's own codex / OpenAI setup may leak in.
  for (const k of Object.keys(env)) {
    if (k.startsWith('CODEX_') || k.startsWith('OPENAI_') || k === 'RUST_LOG') delete env[k];
  }
  Object.assign(env, { CODEX_HOME: codexHome, MOCK_API_KEY: 'mock-key', NO_COLOR: '1' }, extraEnv);
  if (execServerUrl != null) env.CODEX_EXEC_SERVER_URL = execServerUrl;

  const args = codexExecArgs(o);
  const started = Date.now();
  const child = spawn(codexBin, args, {
    cwd: o.workdir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // own process group (pgid = child.pid), so a timeout kill takes helpers too
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));

  return new Promise((resolve, reject) => {
    let timedOut = false;
    const kill = () => {
      try {
        process.kill(-Number(child.pid), 'SIGKILL'); // NaN if the spawn failed: throws, caught
      } catch {
        try {
          child.kill('SIGKILL');
        } catch {}
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      if (!keepHome) rmSync(codexHome, { recursive: true, force: true });
      reject(e);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      // codex is gone; make sure nothing it left in its group lingers.
      try {
        process.kill(-Number(child.pid), 'SIGKILL'); // NaN if the spawn failed: throws, caught
      } catch {}
      if (!keepHome) rmSync(codexHome, { recursive: true, force: true });
      const events = [];
      for (const line of stdout.split('\n')) {
        const t = line.trim();
        if (!t.startsWith('{')) continue;
        try {
          events.push(JSON.parse(t));
        } catch {}
      }
      resolve({
        code,
        signal,
        timedOut,
        stdout,
        stderr,
        events,
        ms: Date.now() - started,
        pid: child.pid,
        codexHome: keepHome ? codexHome : undefined,
        args,
      });
    });
  });
}

/** Convenience: the aggregated_output / status of every command_execution item in the events. */
export function commandExecutions(events) {
  return events
    .filter((e) => e.type === 'item.completed' && e.item?.type === 'command_execution')
    .map((e) => e.item);
}
