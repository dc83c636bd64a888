/**
 * `node dist/cli.js mcp` as agents start it: the SDK client over its stdio, a real exec server
 * on 127.0.0.1. The process runs under the server, not under the bridge; unknown methods are
 * answered at once; the bridge exits on end of stdin, SIGINT and SIGTERM, and what its agent
 * left running is stopped; without a server nothing runs.
 */
import { before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CLI, startWsCli, writeTokenFile, type CliServer } from '../helpers/cli';
import { isAlive, ProcessGuard, waitGroupGone, waitUntil } from '../helpers/procs';
import { ancestorsOf, cleanEnv, stdioBridge, tempDir } from './mcpHarness';

const guard = new ProcessGuard();
let server: CliServer;
let tokenFile: string;
let noDiscovery: string;

before(async () => {
  server = await startWsCli(guard);
  tokenFile = writeTokenFile(server.token!);
  noDiscovery = tempDir('mcp-nodisc-');
});

test('over stdio with --url/--token-file: the command runs under the server, not under the bridge', async () => {
  const b = await stdioBridge(guard, { args: ['--url', server.url, '--token-file', tokenFile], env: cleanEnv({ EXEC_SERVER_DISCOVERY_DIR: noDiscovery }) });
  const r = await b.call('run_command', { command: 'echo hi; sleep 1', yield_ms: 0 });
  assert.equal(r.isError, false, r.text);
  const pid = r.structured.pid as number;
  await waitUntil(() => ancestorsOf(pid).length > 0, 'the process in /proc');
  const anc = ancestorsOf(pid);
  assert.ok(anc.includes(server.pid), `server ${server.pid} among ancestors ${anc.join(',')}`);
  assert.ok(!anc.includes(b.child.pid!), `bridge ${b.child.pid} is not an ancestor (${anc.join(',')})`);
  const tools = await b.client.listTools();
  assert.equal(tools.tools.length, 5);
  await b.close();
  assert.ok(!b.stderr().includes(server.token!), 'the token is never logged');
});

test('server/discover sent before initialize is answered -32601 at once', async () => {
  const child = spawn(process.execPath, [CLI, 'mcp', '--url', server.url, '--token-file', tokenFile], { stdio: ['pipe', 'pipe', 'pipe'], env: cleanEnv() });
  guard.track(child.pid!);
  const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stdin.write(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'server/discover', params: {} }) + '\n');
  await waitUntil(() => out.includes('\n'), 'an answer to server/discover');
  const msg = JSON.parse(out.split('\n')[0]);
  assert.equal(msg.id, 1);
  assert.equal(msg.error.code, -32601);
  child.stdin.end();
  assert.equal(await exited, 0);
});

for (const how of ['end of stdin', 'SIGINT', 'SIGTERM'] as const) {
  test(`the bridge exits on ${how} and the processes its agent left running are stopped`, async () => {
    // EXEC_SERVER_URL + EXEC_SERVER_TOKEN this time (the other way to name the server).
    const b = await stdioBridge(guard, { env: cleanEnv({ EXEC_SERVER_URL: server.url, EXEC_SERVER_TOKEN: server.token!, EXEC_SERVER_DISCOVERY_DIR: noDiscovery }) });
    const r = await b.call('run_command', { command: 'sleep 300 & echo "child=$!"; wait', yield_ms: 0 });
    assert.equal(r.isError, false, r.text);
    const pid = r.structured.pid as number;
    guard.trackGroup(pid);
    let seen = r.structured.output as string;
    for (let i = 0; i < 20 && !/child=\d+/.test(seen); i++) seen += (await b.call('get_output', { process_id: r.structured.process_id, wait_ms: 5_000 })).structured.output;
    const grandchild = Number(/child=(\d+)/.exec(seen)![1]);
    assert.ok(isAlive(grandchild));
    if (how === 'end of stdin') b.child.stdin!.end();
    else b.child.kill(how);
    const e = await b.exited;
    assert.equal(e.code, 0, `exit ${JSON.stringify(e)}; stderr: ${b.stderr()}`);
    await waitGroupGone(pid);
    assert.ok(!isAlive(grandchild));
    assert.ok(!b.stderr().includes(server.token!), 'the token is never logged');
  });
}

test('no server to be found: a tool error that says what to do, and nothing runs', async () => {
  const work = tempDir('mcp-noserver-');
  const b = await stdioBridge(guard, { cwd: work, env: cleanEnv({ EXEC_SERVER_DISCOVERY_DIR: noDiscovery }) });
  const marker = path.join(work, 'ran');
  const r = await b.call('run_command', { command: `touch ${marker}` });
  assert.equal(r.isError, true);
  assert.match(r.text, /no exec server found/);
  assert.match(r.text, /VS Code/);
  assert.match(r.text, /--url/);
  assert.match(r.text, /Nothing was run/);
  assert.equal(fs.existsSync(marker), false);
  // A server that is named but not there: the same, with the reason.
  const dead = await stdioBridge(guard, { cwd: work, args: ['--url', 'ws://127.0.0.1:9', '--token-file', tokenFile], env: cleanEnv() });
  const r2 = await dead.call('run_command', { command: `touch ${marker}` });
  assert.equal(r2.isError, true);
  assert.match(r2.text, /could not connect to the exec server at ws:\/\/127\.0\.0\.1:9/);
  assert.match(r2.text, /Nothing was run/);
  assert.equal(fs.existsSync(marker), false);
  await b.close();
  await dead.close();
});

test('bad flags: exit code 2 with a message; --help documents the discovery order', async () => {
  for (const args of [['--bogus'], ['--token-file', tokenFile], ['--url', 'http://x']]) {
    const child = spawn(process.execPath, [CLI, 'mcp', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    assert.equal(code, 2, args.join(' '));
    assert.match(err, /exec-server mcp:/);
  }
  const help = spawn(process.execPath, [CLI, 'mcp', '--help'], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  help.stdout.on('data', (d: Buffer) => (out += d.toString()));
  assert.equal(await new Promise((r) => help.once('exit', r)), 0);
  for (const w of ['--url', '--token-file', 'EXEC_SERVER_URL', 'EXEC_SERVER_TOKEN', 'discovery', 'run_command']) assert.ok(out.includes(w), w);
});
