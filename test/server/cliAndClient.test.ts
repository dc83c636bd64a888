/**
 * The CLI (--help, clean shutdown on SIGTERM/SIGINT) and the typed client's helpers
 * (run, wait, readAll, events) over WebSocket and stdio.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ExecClient } from '../../src/client/client';
import { ROOT, runCli, spawnStdioCli, startWsCli } from '../helpers/cli';
import { assertGone, childrenOf, isAlive, ProcessGuard, waitUntil } from '../helpers/procs';

const guard = new ProcessGuard();
const PATH_ONLY = { PATH: process.env.PATH ?? '/usr/bin:/bin' };

test('--help mentions every flag the CLI parses', async () => {
  const r = await runCli(['--help']);
  assert.equal(r.code, 0);
  const src = fs.readFileSync(path.join(ROOT, 'src', 'cli', 'args.ts'), 'utf8');
  const flags = [...src.matchAll(/case '(-{1,2}[a-z][a-z-]*)'/g)].map((m) => m[1]);
  assert.ok(flags.length >= 9, `found flags: ${flags.join(' ')}`);
  for (const f of flags) assert.ok(r.stdout.includes(f), `--help does not mention ${f}`);
  for (const word of ['stdio://', 'ws://', 'EXEC_SERVER_TOKEN', 'listening on', 'SIGTERM']) assert.ok(r.stdout.includes(word), word);
});

test('the CLI rejects unknown flags and bad values with exit code 2', async () => {
  for (const args of [['--bogus'], ['--listen', 'tcp://x'], ['--auth', 'maybe'], ['--session-ttl-ms', '-1']]) {
    const r = await runCli(args);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.stderr, /exec-server:/);
  }
});

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  test(`${signal} to the CLI terminates every managed process (detached sessions, PTYs, TERM-ignoring ones, grandchildren)`, async () => {
    const server = await startWsCli(guard, { args: ['--terminate-grace-ms', '300'] });
    const seed = await ExecClient.connectWebSocket(server.url, { token: server.token! });
    const upstream = await ExecClient.connectWebSocket(server.url, { token: server.token!, resumeSessionId: null });
    const pids = [
      (await seed.start({ processId: 'a', argv: ['sleep', '300'], env: PATH_ONLY })).pid,
      (await seed.start({ processId: 'b', argv: ['bash', '-c', "trap '' TERM; sleep 300"], tty: true, env: PATH_ONLY })).pid,
      (await upstream.start({ processId: 'c', argv: ['bash', '-c', 'sleep 300 & sleep 300; wait'], env: PATH_ONLY })).pid,
    ];
    for (const p of pids) guard.trackGroup(p);
    upstream.close(); // 'c' now belongs to a detached session
    await waitUntil(() => childrenOf(pids[2]).length === 2, 'the grandchildren of c');
    const grandchildren = childrenOf(pids[2]);
    grandchildren.forEach((g) => guard.track(g));
    process.kill(server.pid, signal);
    const exit = await server.exited;
    assert.equal(exit.code, signal === 'SIGTERM' ? 143 : 130);
    for (const p of [...pids, ...grandchildren]) assert.equal(isAlive(p), false, `pid ${p} survived the server`);
    for (const p of pids) await assertGone(p, 1_000);
    seed.close();
  });
}

test('client run(): exit code, stdout and stderr separated, stdin fed; over WebSocket with ?token=', async () => {
  const server = await startWsCli(guard);
  const client = await ExecClient.connectWebSocket(server.url, { token: server.token!, tokenInQuery: true });
  const r = await client.run(['sh', '-c', 'echo out; echo err >&2; exit 4'], { env: PATH_ONLY });
  assert.equal(r.exitCode, 4);
  assert.equal(r.stdout.toString(), 'out\n');
  assert.equal(r.stderr.toString(), 'err\n');
  assert.equal(r.output.toString().length, 8);
  const fed = await client.run(['wc', '-c'], { stdin: Buffer.alloc(100_000, 1), env: PATH_ONLY });
  assert.equal(fed.stdout.toString().trim(), '100000');
  const signalled = await client.run(['sh', '-c', 'kill -TERM $$'], { env: PATH_ONLY });
  assert.equal(signalled.exitCode, 143);
  assert.equal(signalled.signal, 'SIGTERM');
  const big = await client.run(['head', '-c', '3000000', '/dev/zero'], { env: PATH_ONLY });
  assert.equal(big.stdout.length, 3_000_000, 'run() falls back to reads when retained output was evicted, or collected every notification');
  client.close();
  await server.stop();
});

test('client wait(): resolves after closed, also for a process that already finished; readAll', async () => {
  const { proc, stop } = spawnStdioCli(guard);
  const client = await ExecClient.connectStdio(proc);
  const events: string[] = [];
  client.on('exited', (e) => e.processId === 'w1' && events.push(`exited:${e.seq}`));
  client.on('closed', (e) => e.processId === 'w1' && events.push(`closed:${e.seq}`));
  const s = await client.start({ processId: 'w1', argv: ['sh', '-c', 'sleep 0.2; echo done; exit 9'], env: PATH_ONLY });
  guard.trackGroup(s.pid);
  const e = await client.wait('w1', 15_000);
  assert.equal(e.exitCode, 9);
  assert.deepEqual(events, ['exited:2', 'closed:3']);
  // Already finished: resolves from what the client saw.
  assert.equal((await client.wait('w1', 15_000)).exitCode, 9);
  const all = await client.readAll('w1');
  assert.equal(Buffer.concat(all.map((c) => c.data)).toString(), 'done\n');
  await assert.rejects(client.wait('ghost', 15_000), /unknown process id/);
  await assertGone(s.pid);
  client.close();
  await stop();
});

test('client over a wrong token reports the refusal', async () => {
  const server = await startWsCli(guard);
  await assert.rejects(ExecClient.connectWebSocket(server.url, { token: 'nope' }), /401/);
  await server.stop();
});
