// Starting and stopping the servers under test (this project's CLI and, optionally,
// `codex exec-server`), and reading their CPU time and RSS from /proc. Everything started
// here is stopped by PID: the server, then whatever it left behind among its descendants.
import { spawn, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';

export const ROOT = new URL('../..', import.meta.url).pathname;
const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** utime+stime of one process, in ms (children not included). */
export function cpuMs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK;
  } catch {
    return NaN;
  }
}

/** VmRSS in bytes. */
export function rssBytes(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** Our own CPU (user+system), in ms: the "server" cost of a baseline that runs in-process. */
export function selfCpuMs() {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

function descendants(pid) {
  const children = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  const out = [];
  const queue = [pid];
  while (queue.length) {
    for (const c of children.get(queue.shift()) ?? []) {
      out.push(c);
      queue.push(c);
    }
  }
  return out;
}

function waitLine(stream, re, timeoutMs, what) {
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => done(new Error(`${what}: no "listening" line within ${timeoutMs} ms: ${buf.slice(-500)}`)), timeoutMs);
    const onData = (d) => {
      buf += d.toString();
      const m = re.exec(buf);
      if (m) done(null, m[1]);
    };
    const onEnd = () => done(new Error(`${what} exited before listening: ${buf.slice(-500)}`));
    function done(err, v) {
      clearTimeout(timer);
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.resume(); // keep draining whatever it logs later
      if (err) reject(err);
      else resolve(v);
    }
    stream.on('data', onData);
    stream.once('end', onEnd);
  });
}

/**
 * @param {'ours'|'floor'|'codex'} kind
 * @param {{codexBin?: string, cpuProf?: string}} opts
 */
export async function startServer(kind, opts = {}) {
  let child;
  let url;
  /** @type {Record<string, string>} */
  let headers = {};
  let tmp;
  if (kind === 'ours') {
    tmp = mkdtempSync(join(tmpdir(), 'exec-server-bench-'));
    const token = randomBytes(24).toString('base64url');
    const tokenFile = join(tmp, 'token');
    writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
    const nodeArgs = opts.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${opts.cpuProf}`] : [];
    // Extra V8/Node flags for investigations, e.g. BENCH_SERVER_NODE_ARGS="--trace-gc".
    if (process.env.BENCH_SERVER_NODE_ARGS) nodeArgs.push(...process.env.BENCH_SERVER_NODE_ARGS.split(/\s+/).filter(Boolean));
    child = spawn(process.execPath, [...nodeArgs, join(ROOT, 'dist/cli.js'), '--listen', 'ws://127.0.0.1:0', '--token-file', tokenFile], {
      stdio: ['ignore', process.env.BENCH_SERVER_NODE_ARGS ? 'inherit' : 'ignore', 'pipe'],
    });
    url = await waitLine(child.stderr, /listening on (ws:\/\/\S+)/, 10_000, 'exec-server');
    headers = { authorization: `Bearer ${token}` };
  } else if (kind === 'floor') {
    child = spawn(process.execPath, [join(ROOT, 'bench/lib/floorServer.mjs')], { stdio: ['ignore', 'ignore', 'pipe'] });
    url = await waitLine(child.stderr, /listening on (ws:\/\/\S+)/, 10_000, 'floor server');
  } else {
    if (!opts.codexBin) throw new Error('startServer(\'codex\') needs opts.codexBin');
    child = spawn(opts.codexBin, ['exec-server', '--listen', 'ws://127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'ignore'] });
    url = await waitLine(child.stdout, /(ws:\/\/\S+)/, 10_000, 'codex exec-server');
  }
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const pid = child.pid;
  return {
    kind,
    pid,
    url,
    headers,
    cpuMs: () => cpuMs(pid),
    rssBytes: () => rssBytes(pid),
    async stop() {
      const left = descendants(pid);
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
      for (const p of left) {
        try {
          process.kill(p, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      if (tmp) rmSync(tmp, { recursive: true, force: true });
    },
  };
}

/** The codex binary: an explicit path, $CODEX_BIN, the install script (--with-codex) or its cache. */
export function findCodex({ withCodex, noCodex }) {
  if (noCodex) return null;
  if (typeof withCodex === 'string' && withCodex !== '') return withCodex;
  if (process.env.CODEX_BIN && existsSync(process.env.CODEX_BIN)) return process.env.CODEX_BIN;
  if (withCodex) {
    return execFileSync('bash', [join(ROOT, 'scripts/install-codex.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  }
  const cache = process.env.EXEC_SERVER_TEST_CACHE ?? join(homedir(), '.cache/exec-server-vscode');
  const dir = join(cache, 'codex-0.169.0');
  if (!existsSync(join(dir, '.installed'))) return null;
  const arch = process.arch === 'arm64' ? ['codex-linux-arm64', 'aarch64-unknown-linux-musl'] : ['codex-linux-x64', 'x86_64-unknown-linux-musl'];
  const bin = join(dir, 'node_modules/@openai', arch[0], 'vendor', arch[1], 'bin/codex');
  return existsSync(bin) ? bin : null;
}
