// The workloads, each in two forms: through a server (over the protocol, with the cheap client)
// and directly in this Node process (the baseline: what Node itself can do). Every function
// returns plain figures plus wall time and CPU time (the server's, or ours for a baseline).
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { Client } from './client.mjs';
import { selfCpuMs } from './servers.mjs';

const require = createRequire(import.meta.url);
const now = () => performance.now();
let idCounter = 0;
const newId = (prefix) => `${prefix}-${process.pid}-${++idCounter}`;

export function withTimeout(promise, ms, what) {
  let t;
  return Promise.race([
    promise.finally(() => clearTimeout(t)),
    new Promise((_, reject) => (t = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms))),
  ]);
}

async function connected(server) {
  const c = await Client.connect(server);
  await c.init();
  return c;
}

/** Wraps a measured section: wall ms and CPU ms (server's or ours). */
async function measured(cpu, fn) {
  const c0 = cpu();
  const s0 = selfCpuMs();
  const t0 = now();
  const r = await fn();
  const wallMs = now() - t0;
  const cpuMs = cpu() - c0;
  // For a server run, this process is the client: its CPU competes with the server's.
  return cpu === selfCpuMs ? { ...r, wallMs, cpuMs } : { ...r, wallMs, cpuMs, clientCpuMs: selfCpuMs() - s0 };
}

export function percentiles(samples) {
  const s = Float64Array.from(samples).sort();
  const at = (q) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
  return { n: s.length, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: s[s.length - 1] };
}

// ---------- output throughput: pipes ----------

export async function pipeThroughputServer(server, { size }, timeoutMs) {
  const c = await connected(server);
  try {
    return await measured(server.cpuMs, async () => {
      const p = c.start(newId('pipe'), ['head', '-c', size, '/dev/zero']);
      await withTimeout(p.closed, timeoutMs, 'pipe throughput');
      return { bytes: p.bytes, chunks: p.chunks };
    });
  } finally {
    await c.close();
  }
}

export async function pipeThroughputDirect({ size }, timeoutMs) {
  return measured(selfCpuMs, async () => {
    const child = spawn('head', ['-c', size, '/dev/zero'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let bytes = 0;
    let chunks = 0;
    child.stdout.on('data', (b) => {
      bytes += b.length;
      chunks++;
    });
    await withTimeout(new Promise((r) => child.once('close', r)), timeoutMs, 'pipe baseline');
    return { bytes, chunks };
  });
}

// ---------- output throughput: PTY ----------

const ptyCommand = (inputBytes) => ['sh', '-c', `head -c ${inputBytes} /dev/zero | base64`];

export async function ptyThroughputServer(server, { inputBytes }, timeoutMs) {
  const c = await connected(server);
  try {
    return await measured(server.cpuMs, async () => {
      const p = c.start(newId('pty'), ptyCommand(inputBytes), { tty: true });
      await withTimeout(p.closed, timeoutMs, 'pty throughput');
      return { bytes: p.bytes, chunks: p.chunks };
    });
  } finally {
    await c.close();
  }
}

function ptySpawn(argv) {
  const pty = require('node-pty');
  return pty.spawn(argv[0], argv.slice(1), {
    name: 'xterm-256color',
    cols: 80,
    rows: 24,
    cwd: process.cwd(),
    env: { PATH: process.env.PATH, HOME: process.env.HOME ?? '/tmp', LANG: 'C', TERM: 'xterm-256color' },
    encoding: null,
  });
}

export async function ptyThroughputDirect({ inputBytes }, timeoutMs) {
  return measured(selfCpuMs, async () => {
    const term = ptySpawn(ptyCommand(inputBytes));
    let bytes = 0;
    let chunks = 0;
    term.onData((d) => {
      bytes += d.length;
      chunks++;
    });
    await withTimeout(new Promise((r) => term.onExit(r)), timeoutMs, 'pty baseline');
    return { bytes, chunks };
  });
}

// ---------- write -> echo round trip through cat ----------

const LINE = 'ping-123\n';
const LINE_B64 = Buffer.from(LINE).toString('base64');
// A PTY echoes the typed line ("ping-123\r\n") and cat prints it again: both count.
const PTY_ECHO_BYTES = 2 * (LINE.length + 1);

/** Round trips until `iterations` are done or `budgetMs` has passed (after `warmup`). */
async function roundTrips(one, { iterations, warmup, budgetMs }) {
  for (let i = 0; i < warmup; i++) await one();
  const samples = [];
  const deadline = now() + budgetMs;
  while (samples.length < iterations && now() < deadline) {
    const t0 = now();
    await one();
    samples.push((now() - t0) * 1000);
  }
  return samples;
}

export async function rttServer(server, { tty, iterations, warmup, budgetMs }, timeoutMs) {
  const c = await connected(server);
  const id = newId(tty ? 'rtt-pty' : 'rtt-pipe');
  try {
    const p = c.start(id, ['cat'], { tty, pipeStdin: !tty });
    await p.started;
    const per = tty ? PTY_ECHO_BYTES : LINE.length;
    let writes = 0;
    const one = () => {
      const target = p.bytes + per;
      c.write(id, LINE_B64, String(++writes));
      return withTimeout(p.waitBytes(target), timeoutMs, 'round trip');
    };
    const r = await measured(server.cpuMs, async () => ({ ...percentiles(await roundTrips(one, { iterations, warmup, budgetMs })) }));
    await c.request('process/terminate', { processId: id }).catch(() => undefined);
    return r;
  } finally {
    await c.close();
  }
}

export async function rttDirectPipe({ iterations, warmup, budgetMs }, timeoutMs) {
  const child = spawn('cat', [], { stdio: ['pipe', 'pipe', 'ignore'] });
  let bytes = 0;
  let target = 0;
  let wake = null;
  child.stdout.on('data', (b) => {
    bytes += b.length;
    if (wake && bytes >= target) {
      const w = wake;
      wake = null;
      w();
    }
  });
  const line = Buffer.from(LINE);
  const one = () => {
    target = bytes + line.length;
    child.stdin.write(line);
    return withTimeout(new Promise((r) => (wake = r)), timeoutMs, 'pipe round trip');
  };
  try {
    return await measured(selfCpuMs, async () => percentiles(await roundTrips(one, { iterations, warmup, budgetMs })));
  } finally {
    child.stdin.end();
    child.kill();
  }
}

export async function rttDirectPty({ iterations, warmup, budgetMs }, timeoutMs) {
  const term = ptySpawn(['cat']);
  let bytes = 0;
  let target = 0;
  let wake = null;
  term.onData((d) => {
    bytes += d.length;
    if (wake && bytes >= target) {
      const w = wake;
      wake = null;
      w();
    }
  });
  const one = () => {
    target = bytes + PTY_ECHO_BYTES;
    term.write(LINE);
    return withTimeout(new Promise((r) => (wake = r)), timeoutMs, 'pty round trip');
  };
  try {
    return await measured(selfCpuMs, async () => percentiles(await roundTrips(one, { iterations, warmup, budgetMs })));
  } finally {
    term.kill();
  }
}

// ---------- spawn rate of `true` ----------

/** Runs `count` spawns with `concurrency` in flight; stops early after `budgetMs`. */
async function spawnLoop(spawnOne, { count, concurrency, budgetMs }) {
  let started = 0;
  let done = 0;
  const deadline = now() + budgetMs;
  const worker = async () => {
    while (started < count && now() < deadline) {
      started++;
      await spawnOne();
      done++;
    }
  };
  const t0 = now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const secs = (now() - t0) / 1000;
  return { spawned: done, perSec: done / secs };
}

export async function spawnRateServer(server, { count, concurrency, budgetMs }, timeoutMs) {
  const c = await connected(server);
  let failures = 0;
  try {
    const r = await measured(server.cpuMs, () =>
      spawnLoop(
        async () => {
          const p = c.start(newId('true'), ['true']);
          await withTimeout(p.closed, timeoutMs, 'spawn');
          c.procs.delete(p.id);
          if (p.exitCode !== 0) failures++;
        },
        { count, concurrency, budgetMs },
      ),
    );
    return { ...r, failures };
  } finally {
    await c.close();
  }
}

export async function spawnRateDirect({ count, concurrency, budgetMs }, timeoutMs) {
  let failures = 0;
  const r = await measured(selfCpuMs, () =>
    spawnLoop(
      async () => {
        const child = spawn('true', [], { stdio: ['ignore', 'pipe', 'pipe'] });
        const code = await withTimeout(new Promise((r) => child.once('close', r)), timeoutMs, 'spawn baseline');
        if (code !== 0) failures++;
      },
      { count, concurrency, budgetMs },
    ),
  );
  return { ...r, failures };
}

// ---------- many connections ----------

// One `echo` (a write(2)) per line, so lines arrive as many small chunks.
const linesCommand = (n) => ['sh', '-c', `i=0; while [ $i -lt ${n} ]; do echo "line $i"; i=$((i+1)); done`];

export async function manyConnectionsServer(server, { connections, processes, lines }, timeoutMs) {
  const clients = [];
  try {
    return await measured(server.cpuMs, async () => {
      const procs = [];
      await withTimeout(
        Promise.all(
          Array.from({ length: connections }, async () => {
            const c = await connected(server);
            clients.push(c);
            const mine = Array.from({ length: processes }, () => c.start(newId('lines'), linesCommand(lines), { countLines: true }));
            procs.push(...mine);
            await Promise.all(mine.map((p) => p.closed));
          }),
        ),
        timeoutMs,
        'many connections',
      );
      const received = procs.reduce((n, p) => n + p.lines, 0);
      const expected = connections * processes * lines;
      return { expected, received, lost: expected - received };
    });
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
}

// ---------- stalled client ----------

export async function stalledClientServer(server, { processes, size, sizeBytes, stallMs }, timeoutMs) {
  const c = await connected(server);
  const rss0 = server.rssBytes();
  let peak = rss0;
  const sampler = setInterval(() => {
    const r = server.rssBytes();
    if (r > peak) peak = r;
  }, 25);
  try {
    const r = await measured(server.cpuMs, async () => {
      const procs = Array.from({ length: processes }, () => c.start(newId('stall'), ['head', '-c', size, '/dev/zero']));
      await Promise.all(procs.map((p) => p.started));
      c.ws.pause(); // stop reading the socket: the kernel buffers fill, then the server's
      await new Promise((r) => setTimeout(r, stallMs));
      const duringStall = peak - rss0;
      c.ws.resume();
      await withTimeout(Promise.all(procs.map((p) => p.closed)), timeoutMs, 'stalled client');
      const received = procs.reduce((n, p) => n + p.bytes, 0);
      const expected = processes * sizeBytes;
      return { expected, received, lost: expected - received, rssGrowthStallBytes: duringStall };
    });
    return { ...r, rssBeforeBytes: rss0, rssPeakBytes: peak, rssGrowthBytes: peak - rss0 };
  } finally {
    clearInterval(sampler);
    await c.close();
  }
}
