#!/usr/bin/env node
// The MCP bridge's cost, each figure beside a baseline taken in the same run against the same
// server (`npm run bench:mcp`; builds first):
//   1. run_command of `true` through `exec-server mcp` (an MCP client over stdio, as agents
//      use it) vs a direct `process/start` of the same argv, waiting for `process/closed`:
//      overhead per call and ratio. Once with `--no-login` (bash -c: the bridge alone), once
//      with the default login shell (bash -lc: what agents get, profile included).
//   2. get_output paging (cursor pages of 100 000 chars) through 1 MB of retained output vs
//      direct `process/read` pages of 100 000 bytes: MB/s and ratio.
// Prints figures and ratios; asserts nothing. Usage: node bench/mcp.mjs [--quick]
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { Client as McpClient } from '@modelcontextprotocol/sdk/client/index.js';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { Client } from './lib/client.mjs';
import { ROOT, startServer } from './lib/servers.mjs';

const quick = process.argv.includes('--quick');
const N_SPAWN = quick ? 20 : 60;
const N_LOGIN = quick ? 5 : 15;
const N_PAGE = quick ? 3 : 8;
const OUTPUT_BYTES = 1_000_000;
const LINE = '0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopq';
const SHELL = process.env.SHELL && /\/(bash|zsh)$/.test(process.env.SHELL) ? process.env.SHELL : '/bin/bash';

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)], mean: s.reduce((a, b) => a + b, 0) / s.length, p90: s[Math.floor(s.length * 0.9)] };
};
const ms = (x) => `${x.toFixed(1)} ms`;

async function bridge(server, tokenFile, extra = []) {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [join(ROOT, 'dist/cli.js'), 'mcp', '--url', server.url, '--token-file', tokenFile, ...extra],
    stderr: 'ignore',
  });
  const client = new McpClient({ name: 'exec-server-bench', version: '1' });
  await client.connect(transport);
  const call = async (name, args) => {
    const r = await client.callTool({ name, arguments: args }, undefined, { timeout: 60_000 });
    if (r.isError) throw new Error(`${name}: ${r.content?.[0]?.text}`);
    return r.structuredContent;
  };
  return { call, close: () => client.close() };
}

let seq = 0;
async function direct(c, argv) {
  const p = c.start(`d${++seq}`, argv);
  await p.started;
  await p.closed;
  return p;
}

async function spawnOverhead(c, b, flag, n) {
  const viaBridge = [];
  const viaDirect = [];
  for (let i = 0; i < 3; i++) {
    await b.call('run_command', { command: 'true', yield_ms: 30_000 });
    await direct(c, [SHELL, flag, 'true']);
  }
  for (let i = 0; i < n; i++) {
    let t = performance.now();
    const r = await b.call('run_command', { command: 'true', yield_ms: 30_000 });
    viaBridge.push(performance.now() - t);
    if (r.status !== 'exited' || r.exit_code !== 0) throw new Error(`unexpected ${JSON.stringify(r)}`);
    t = performance.now();
    await direct(c, [SHELL, flag, 'true']);
    viaDirect.push(performance.now() - t);
  }
  const sb = stats(viaBridge);
  const sd = stats(viaDirect);
  console.log(`  ${SHELL} ${flag} true, ${n} calls each, interleaved`);
  console.log(`    run_command via the bridge  median ${ms(sb.median)}  mean ${ms(sb.mean)}  p90 ${ms(sb.p90)}`);
  console.log(`    direct process/start        median ${ms(sd.median)}  mean ${ms(sd.mean)}  p90 ${ms(sd.p90)}`);
  console.log(`    overhead per call           median ${ms(sb.median - sd.median)}  ratio ${(sb.median / sd.median).toFixed(2)}x`);
}

async function pagingThroughput(c, b) {
  const cmd = `yes ${LINE} | head -c ${OUTPUT_BYTES}`;
  const r = await b.call('run_command', { command: cmd, yield_ms: 30_000, max_output_chars: 1000 });
  if (r.status !== 'exited' || r.next_cursor !== OUTPUT_BYTES) throw new Error(`bridge source: ${JSON.stringify({ ...r, output: undefined })}`);
  const id = r.process_id;
  const d = await direct(c, ['bash', '-c', cmd]);
  const pageBridge = async () => {
    let cursor = 0;
    let chars = 0;
    let calls = 0;
    for (let i = 0; i < 1000; i++) {
      const p = await b.call('get_output', { process_id: id, cursor, max_output_chars: 100_000 });
      calls++;
      chars += p.output.length;
      cursor = p.next_cursor;
      if (!p.truncated) break;
    }
    if (cursor !== OUTPUT_BYTES) throw new Error(`paged to ${cursor}`);
    return { calls, chars };
  };
  const readDirect = async () => {
    let after = 0;
    let bytes = 0;
    let calls = 0;
    for (let i = 0; i < 1000; i++) {
      const res = await c.request('process/read', { processId: d.id, afterSeq: after, maxBytes: 100_000 });
      calls++;
      for (const ch of res.chunks) bytes += Buffer.from(ch.chunk, 'base64').length;
      if (res.chunks.length === 0) break;
      after = res.chunks[res.chunks.length - 1].seq;
    }
    if (bytes !== OUTPUT_BYTES) throw new Error(`read ${bytes}`);
    return { calls, bytes };
  };
  await pageBridge();
  await readDirect();
  const tb = [];
  const td = [];
  /** @type {{ calls: number, chars: number, directCalls?: number }} */
  let shape = { calls: 0, chars: 0 }; // N_PAGE ≥ 3: replaced by the last round's
  for (let i = 0; i < N_PAGE; i++) {
    let t = performance.now();
    shape = await pageBridge();
    tb.push(performance.now() - t);
    t = performance.now();
    const dd = await readDirect();
    td.push(performance.now() - t);
    shape.directCalls = dd.calls;
  }
  const mbps = (t) => OUTPUT_BYTES / 1e6 / (t / 1000);
  const sb = stats(tb);
  const sd = stats(td);
  console.log(`  1 MB of retained output, read from the start, ${N_PAGE} rounds each`);
  console.log(`    get_output pages (${shape.calls} calls of ≤100 000 chars)  median ${ms(sb.median)}  ${mbps(sb.median).toFixed(1)} MB/s`);
  console.log(`    direct process/read (${shape.directCalls} calls of ≤100 000 B)    median ${ms(sd.median)}  ${mbps(sd.median).toFixed(1)} MB/s`);
  console.log(`    ratio (bridge time / direct time)           ${(sb.median / sd.median).toFixed(2)}x`);
  // For scale: one MCP round trip over stdio that does no work (list_processes).
  const rt = [];
  for (let i = 0; i < 20; i++) {
    const t = performance.now();
    await b.call('list_processes', {});
    rt.push(performance.now() - t);
  }
  console.log(`    (an empty MCP call, list_processes, over stdio: median ${ms(stats(rt).median)})`);
}

const server = await startServer('ours');
const token = server.headers.authorization.slice('Bearer '.length);
const tokenFile = join(mkdtempSync(join(tmpdir(), 'bench-mcp-')), 'token');
writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
const c = await Client.connect(server);
await c.init();
// The environment the bridge's commands get (the SDK passes its child only these variables,
// and the bridge adds its non-interactive defaults): the login profile then does the same work.
c.env = { ...getDefaultEnvironment(), GIT_TERMINAL_PROMPT: '0', GIT_PAGER: 'cat', PAGER: 'cat' };
console.log(`MCP bridge benchmark — node ${process.version}, ${cpus().length} CPU(s) (${cpus()[0]?.model ?? '?'})${quick ? ', --quick' : ''}`);
try {
  const noLogin = await bridge(server, tokenFile, ['--no-login']);
  console.log('\n1. run_command of `true` vs direct process/start (bridge with --no-login: the bridge alone)');
  await spawnOverhead(c, noLogin, '-c', N_SPAWN);
  console.log('\n2. get_output paging vs direct process/read');
  await pagingThroughput(c, noLogin);
  await noLogin.close();
  const login = await bridge(server, tokenFile);
  console.log('\n3. run_command of `true` vs direct process/start, default login shell (what agents get)');
  await spawnOverhead(c, login, '-lc', N_LOGIN);
  await login.close();
} finally {
  await c.close();
  await server.stop();
}
