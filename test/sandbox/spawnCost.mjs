// Sandboxed spawn cost, ours vs upstream's `codex exec-server` of the same codex version, in
// one run: process/start of /bin/true → process/closed, unsandboxed and with the
// workspace-write sandbox codex sends, rounds interleaved between the two servers. Prints
// figures (no pass/fail: the machine is shared).
//
//   npm run build && node test/sandbox/spawnCost.mjs [codexVersion=0.171.0] [rounds=40]
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, realpathSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import WebSocket from 'ws';

const ROOT = new URL('../..', import.meta.url).pathname;
const version = process.argv[2] ?? '0.171.0';
const ROUNDS = Number(process.argv[3] ?? 40);
const WARMUP = 5;
const codexBin = execFileSync('bash', [join(ROOT, 'scripts/install-codex.sh'), version], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
const base = join(process.env.EXEC_SERVER_TEST_CACHE || join(homedir(), '.cache', 'exec-server-vscode'), 'sandbox-tests');
mkdirSync(base, { recursive: true });
const ws0 = realpathSync(mkdtempSync(join(base, 'bench-ws-')));
const wsUri = pathToFileURL(ws0).href;
const special = (kind, subpath) => ({ type: 'special', value: subpath === undefined ? { kind } : { kind, subpath } });
const SANDBOX = {
  permissions: {
    type: 'managed',
    file_system: {
      type: 'restricted',
      entries: [
        { path: special('root'), access: 'read' },
        { path: special('project_roots'), access: 'write' },
        { path: special('slash_tmp'), access: 'write' },
        { path: special('tmpdir'), access: 'write' },
        ...['.git', '.agents', '.codex', '.aws'].map((n) => ({ path: special('project_roots', n), access: 'read', missing_path_behavior: 'skip' })),
      ],
    },
    network: 'restricted',
  },
  cwd: wsUri,
  workspaceRoots: [wsUri],
  windowsSandboxLevel: 'disabled',
  windowsSandboxProxySettingsMode: 'reconcile',
  useLegacyLandlock: false,
};

function startProc(argv, re, stream) {
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  return new Promise((resolve, reject) => {
    let buf = '';
    const t = setTimeout(() => reject(new Error(`no URL: ${buf}`)), 15_000);
    child[stream].on('data', (d) => {
      buf += d;
      const m = re.exec(buf);
      if (m) {
        clearTimeout(t);
        resolve({ child, url: m[1].replace(/\/$/, '') });
      }
    });
  });
}

async function connect(url) {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  await new Promise((r, j) => (ws.once('open', r), ws.once('error', j)));
  let id = 0;
  const pending = new Map();
  const closedWaiters = new Map();
  ws.on('message', (m) => {
    const j = JSON.parse(String(m));
    if (j.id !== undefined && pending.has(j.id)) {
      pending.get(j.id)(j);
      pending.delete(j.id);
    } else if (j.method === 'process/closed') {
      closedWaiters.get(j.params.processId)?.();
    }
  });
  const call = (method, params) => new Promise((r) => {
    const i = ++id;
    pending.set(i, r);
    ws.send(JSON.stringify({ jsonrpc: '2.0', id: i, method, params }));
  });
  const r = await call('initialize', { clientName: 'spawn-cost', resumeSessionId: null });
  if (r.error) throw new Error(JSON.stringify(r.error));
  ws.send(JSON.stringify({ jsonrpc: '2.0', method: 'initialized', params: {} }));
  let n = 0;
  return {
    ws,
    /** ms from process/start sent to process/closed received. */
    async run(sandbox) {
      const processId = `p${++n}`;
      const closed = new Promise((r) => closedWaiters.set(processId, r));
      const t0 = process.hrtime.bigint();
      const res = await call('process/start', {
        processId, argv: ['/bin/true'], cwd: wsUri, env: { PATH: '/usr/bin:/bin', CODEX_VERSION: version }, tty: false, pipeStdin: false, arg0: null,
        sandbox, enforceManagedNetwork: false, managedNetwork: null,
      });
      if (res.error) throw new Error(JSON.stringify(res.error));
      await closed;
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      closedWaiters.delete(processId);
      return { ms, sandboxType: res.result.sandboxType };
    },
  };
}

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { median: q(0.5), p90: q(0.9), min: s[0] };
};

const ours = await startProc([process.execPath, join(ROOT, 'dist/cli.js'), '--listen', 'ws://127.0.0.1:0', '--auth', 'none', '--codex-path', codexBin], /listening on (ws:\/\/\S+)/, 'stderr');
const upstream = await startProc([codexBin, 'exec-server', '--listen', 'ws://127.0.0.1:0'], /(ws:\/\/\S+)/, 'stdout');
try {
  const servers = { ours: await connect(ours.url), upstream: await connect(upstream.url) };
  const times = {};
  const types = {};
  for (let round = 0; round < WARMUP + ROUNDS; round++) {
    for (const [name, c] of Object.entries(servers)) {
      for (const [mode, sb] of [['none', null], ['sandboxed', SANDBOX]]) {
        const { ms, sandboxType } = await c.run(sb);
        const k = `${name} ${mode}`;
        types[k] = sandboxType;
        if (round >= WARMUP) (times[k] ??= []).push(ms);
      }
    }
  }
  console.log(`codex ${version}, ${ROUNDS} rounds (after ${WARMUP} warm-up), /bin/true start→closed, ms:`);
  const row = {};
  for (const [k, xs] of Object.entries(times)) {
    row[k] = stats(xs);
    console.log(`  ${k.padEnd(20)} sandboxType=${types[k].padEnd(12)} median ${row[k].median.toFixed(1)}  p90 ${row[k].p90.toFixed(1)}  min ${row[k].min.toFixed(1)}`);
  }
  const over = (n) => row[`${n} sandboxed`].median - row[`${n} none`].median;
  console.log(`  sandbox overhead (median sandboxed - median none): ours ${over('ours').toFixed(1)} ms, upstream ${over('upstream').toFixed(1)} ms`);
  console.log(`  sandboxed spawn ours/upstream (medians): ${(row['ours sandboxed'].median / row['upstream sandboxed'].median).toFixed(2)}`);
  for (const c of Object.values(servers)) c.ws.close();
} finally {
  for (const p of [ours.child, upstream.child]) {
    try {
      process.kill(p.pid, 'SIGTERM');
    } catch {}
  }
  await new Promise((r) => setTimeout(r, 500));
  for (const p of [ours.child, upstream.child]) {
    try {
      process.kill(-p.pid, 'SIGKILL');
    } catch {}
  }
  rmSync(ws0, { recursive: true, force: true });
}
