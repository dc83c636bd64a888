// Shared pieces of the real-agent tests: the pinned agent binaries, a real exec server advertised
// by a discovery file, a throwaway HOME/workspace per run, running an agent CLI with a timeout and
// a process-group kill, and reading a command's ancestry back out of its output.
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI = join(REPO, 'dist', 'cli.js');
export const NODE = process.execPath;

/** The agent binaries, from scripts/install-agents.sh (idempotent: ~0 s once installed). */
export function agentBins(names = ['codex', 'claude', 'gemini']) {
  const out = execFileSync('bash', [join(REPO, 'scripts', 'install-agents.sh'), ...names], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 600_000 });
  const bins = {};
  for (const line of out.split('\n')) {
    const m = /^(\w+)=(.+)$/.exec(line.trim());
    if (m) bins[m[1]] = m[2];
  }
  return bins;
}

/** A throwaway world: root/{home,workspace,discovery}; realpaths (agents resolve their cwd). */
export function tempWorld(label) {
  const root = realpathSync(mkdtempSync(join(tmpdir(), `agents-${label}-`)));
  const home = join(root, 'home');
  const workspace = join(root, 'workspace');
  const discovery = join(root, 'discovery');
  mkdirSync(home, { recursive: true });
  mkdirSync(workspace, { recursive: true });
  mkdirSync(discovery, { recursive: true, mode: 0o700 });
  chmodSync(discovery, 0o700);
  return { root, home, workspace, discovery, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

/**
 * Starts our exec server (`node dist/cli.js --listen ws://127.0.0.1:0 --token-file F`) in its own
 * process group and waits for its "listening on ws://…" line.
 */
export async function startExecServer(world, { startTimeoutMs = 20_000 } = {}) {
  const token = `tok-${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
  const tokenFile = join(world.root, 'server-token');
  writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
  // Same user, same HOME as the agent (as with the extension host): codex in remote mode reads
  // the [mcp_servers] of ITS config through the server (environmentConfig/read).
  const env = { ...process.env, HOME: world.home, EXEC_SERVER_DISCOVERY_DIR: join(world.root, 'server-own-discovery') };
  for (const k of ['EXEC_SERVER_URL', 'EXEC_SERVER_TOKEN', 'CODEX_HOME', 'CODEX_EXEC_SERVER_URL']) delete env[k];
  const child = spawn(NODE, [CLI, '--listen', 'ws://127.0.0.1:0', '--token-file', tokenFile], { cwd: world.root, env, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`exec server did not start within ${startTimeoutMs} ms: ${stderr}`)), startTimeoutMs);
    const onData = () => {
      const m = /listening on (ws:\/\/\S+)/.exec(stderr);
      if (m) done(null, m[1].replace(/\/$/, ''));
    };
    const onExit = (code, signal) => done(new Error(`exec server exited (${code ?? signal}) before listening: ${stderr}`));
    function done(err, value) {
      clearTimeout(timer);
      child.stderr.off('data', onData);
      child.off('exit', onExit);
      if (err) {
        killGroup(child.pid);
        reject(err);
      } else resolve(value);
    }
    child.stderr.on('data', onData);
    child.once('exit', onExit);
  });
  // It printed its address, so it was spawned and has a pid.
  const pid = /** @type {number} */ (child.pid);
  const exited = new Promise((resolve) => (child.exitCode !== null ? resolve(undefined) : child.once('exit', resolve)));
  return {
    pid,
    url,
    port: Number(new URL(url).port),
    token,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      try {
        process.kill(pid, 'SIGTERM');
      } catch {}
      const t = setTimeout(() => killGroup(pid), 5000);
      await exited;
      clearTimeout(t);
      killGroup(pid); // whatever it left in its group
    },
  };
}

/**
 * Advertises the server the way the extension does: `server-<pid>-<port>.json`, mode 0600, in the
 * discovery dir, with the agent's workspace among its folders (same format as
 * src/discovery/discoveryFiles.ts writeDiscoveryFile).
 */
export function advertise(server, dir, workspaceFolders) {
  const info = {
    url: server.url,
    port: server.port,
    token: server.token,
    pid: server.pid,
    workspaceFolders,
    appName: 'agents-test',
    protocolVersion: 'exec-server.v0',
    startedAt: new Date().toISOString(),
  };
  const file = join(dir, `server-${server.pid}-${server.port}.json`);
  writeFileSync(file, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  return file;
}

/**
 * The bridge as an agent's config runs it: `node dist/cli.js mcp`, with the discovery dir in the
 * server's env (what a user whose discovery dir is not the default would put there) and NO url or
 * token variable: the bridge must find the server by discovery.
 */
export function bridgeServer(world) {
  return { command: NODE, args: [CLI, 'mcp'], env: { EXEC_SERVER_DISCOVERY_DIR: world.discovery } };
}

/**
 * A clean environment: nothing from the caller's own agent setup, keys or servers leaks in.
 * @param {{ home: string, root: string }} world
 * @param {Record<string, string>} [extra]
 * @returns {Record<string, string>}
 */
export function baseEnv(world, extra = {}) {
  const env = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: world.home,
    USER: process.env.USER ?? 'root',
    LOGNAME: process.env.LOGNAME ?? process.env.USER ?? 'root',
    SHELL: '/bin/bash',
    LANG: 'C.UTF-8',
    TERM: 'dumb',
    NO_COLOR: '1',
    TMPDIR: join(world.root, 'tmp'),
    XDG_CONFIG_HOME: join(world.home, '.config'),
    XDG_CACHE_HOME: join(world.home, '.cache'),
    XDG_DATA_HOME: join(world.home, '.local', 'share'),
    XDG_STATE_HOME: join(world.home, '.local', 'state'),
    ...extra,
  };
  mkdirSync(env.TMPDIR, { recursive: true });
  return env;
}

/** Sends SIGKILL to a process group (pgid = pid of a detached child); ignores a gone group. */
export function killGroup(pid) {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {}
}

/**
 * Runs an agent CLI in its own process group with stdin at EOF, a hard timeout (SIGKILL to the
 * group) and, whatever happens, the group killed when it returns. `onSpawn(pid)` sees the pid.
 */
export function runAgent({ argv, env, cwd, timeoutMs = 120_000 }) {
  const started = Date.now();
  const child = spawn(argv[0], argv.slice(1), { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
  const result = new Promise((resolve, reject) => {
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid);
    }, timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      killGroup(child.pid);
      resolve({ code, signal, timedOut, stdout, stderr, ms: Date.now() - started, pid: child.pid });
    });
  });
  return { pid: child.pid, result, kill: () => killGroup(child.pid) };
}

/**
 * A shell line that proves where it ran: prints a marker computed by the shell (the command text
 * holds `$((6*7))`, the output `42`, so an echo of the command cannot fake it) and then every
 * ancestor pid, walking /proc (bounded at 64 levels).
 */
export function ancestryCommand(tag) {
  return (
    `echo "MARK_${tag}_$((6*7))"; p=$$; i=0; ` +
    'while [ "$p" -gt 1 ] && [ $i -lt 64 ]; do echo "ANCESTOR $p"; ' +
    "p=$(sed -n 's/^PPid:[[:space:]]*//p' /proc/$p/status); i=$((i+1)); done"
  );
}

export const markerOutput = (tag) => `MARK_${tag}_42`;

export function parseAncestors(text) {
  return [...String(text).matchAll(/ANCESTOR (\d+)/g)].map((m) => Number(m[1]));
}

/** Every live process whose ancestors include `root` ({pid, ppid, cmd}), from /proc. */
export function descendants(root) {
  const procs = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const status = readFileSync(`/proc/${name}/status`, 'utf8');
      const ppid = Number(/^PPid:\s*(\d+)/m.exec(status)?.[1] ?? 0);
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
      procs.set(Number(name), { pid: Number(name), ppid, cmd });
    } catch {}
  }
  const out = [];
  for (const p of procs.values()) {
    let q = p;
    for (let i = 0; i < 64 && q && q.ppid > 1; i++) {
      if (q.ppid === root) {
        out.push(p);
        break;
      }
      q = procs.get(q.ppid);
    }
  }
  return out;
}

/** The bridge processes (`… dist/cli.js mcp`) among an agent's descendants. */
export function bridgePids(agentPid) {
  return descendants(agentPid)
    .filter((p) => p.cmd.includes(CLI) && / mcp\b/.test(p.cmd))
    .map((p) => p.pid);
}

export { existsSync };
