/**
 * Child mode (issue 3 §1): the CLI (dist/cli.js, `npm run build`) run as a child with
 * `--admin-stdio`, observed and controlled over its stdio; and the orphan-proofing of
 * issue 6 §2 for it (SIGKILL of the child → no process survives). Verified through /proc.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { ExecClient } from '../../src/client/client';
import { adminOverStreams } from '../../src/client/adminClient';
import { startChildHost, type ChildServerHost } from '../../src/extension/host/childHost';
import { ExecServer } from '../../src/server/execServer';
import type { ObservedChunk, ProcessSnapshot } from '../../src/protocol/admin';
import { adminInProcess } from '../../src/server/admin/adminApi';
import { serveAdmin } from '../../src/transport/adminChannel';
import { allStats, groupMembers, isAlive, ProcessGuard, waitGone, waitGroupGone, waitUntil } from '../helpers/procs';

const guard = new ProcessGuard();
const ROOT = path.resolve(__dirname, '..', '..', '..');
const GROUP_CMD = ['/bin/sh', '-c', 'sleep 1000 & echo $!; exec sleep 1000'];

async function startHost(logs: string[] = []): Promise<ChildServerHost> {
  const host = await startChildHost({
    host: '127.0.0.1',
    port: 0,
    token: randomBytes(16).toString('hex'),
    config: { terminateGraceMs: 300, retainedOutputBytes: 1 << 20, sessionTtlMs: 5_000 },
    extensionPath: ROOT,
    log: (m) => logs.push(m),
  });
  guard.track(host.pid);
  guard.onCleanup(() => host.stop());
  return host;
}

function watchdogOf(serverPid: number): number | undefined {
  return allStats()
    .filter((s) => s.ppid === serverPid && s.state !== 'Z')
    .find((s) => {
      try {
        return fs.readFileSync(`/proc/${s.pid}/cmdline`, 'utf8').includes('watchdog.js');
      } catch {
        return false;
      }
    })?.pid;
}

test('child host: ready, the token stays off the command line, the admin channel sees and terminates a WebSocket client process, stop() leaves nothing', async () => {
  const logs: string[] = [];
  const host = await startHost(logs);
  assert.equal(host.mode, 'child');
  assert.match(host.url, /^ws:\/\/127\.0\.0\.1:\d+$/);
  assert.ok(host.port > 0);
  const cmdline = fs.readFileSync(`/proc/${host.pid}/cmdline`, 'utf8');
  assert.ok(cmdline.includes('--admin-stdio'));
  assert.ok(!cmdline.includes(host.token), 'the token is not on the command line');

  const changes: ProcessSnapshot[] = [];
  const output = new Map<string, Buffer[]>();
  const sub = host.admin.subscribe({
    processChanged: (p) => changes.push(p),
    output: (key, c) => output.set(key, [...(output.get(key) ?? []), c.data]),
  });
  const client = await ExecClient.connectWebSocket(host.url, { token: host.token, clientName: 'child-host-test' });
  guard.onCleanup(() => client.close());
  const { pid } = await client.start({
    processId: 'obs-1',
    argv: ['/bin/sh', '-c', 'echo "hello from $$ token=${EXEC_SERVER_TOKEN:-unset}"; exec sleep 1000'],
    envPolicy: { inherit: 'all', ignoreDefaultExcludes: true, exclude: [], set: {}, includeOnly: [] },
  });
  guard.trackGroup(pid);

  await waitUntil(() => changes.some((p) => p.pid === pid && p.state === 'running'), 'processChanged(running)');
  const key = changes.find((p) => p.pid === pid)!.key;
  assert.equal(changes.find((p) => p.key === key)!.clientName, 'child-host-test');
  await waitUntil(() => Buffer.concat(output.get(key) ?? []).toString().includes('\n'), 'observed output');
  // The server's children do not inherit the token the extension handed to the CLI.
  assert.equal(Buffer.concat(output.get(key)!).toString(), `hello from ${pid} token=unset\n`);

  const snap = await host.admin.snapshot();
  assert.ok(snap.processes.some((p) => p.key === key && p.state === 'running' && p.pid === pid));
  assert.ok(snap.sessions.some((s) => s.clientName === 'child-host-test' && s.connected));
  const retained = await host.admin.retainedOutput(key);
  assert.equal(Buffer.concat(retained.chunks.map((c) => c.data)).toString(), `hello from ${pid} token=unset\n`);

  const wd = watchdogOf(host.pid);
  assert.ok(wd, 'the CLI started its watchdog');
  guard.track(wd);

  assert.equal(await host.admin.terminate(key), true);
  await waitUntil(() => changes.some((p) => p.key === key && p.state !== 'running' && p.stopRequest === 'terminate'), 'processChanged(exited)');
  await waitGroupGone(pid);
  await assert.rejects(host.admin.terminate('no/such'), /unknown process/);

  sub.dispose();
  client.close();
  await host.stop();
  await waitGone(host.pid);
  await waitGone(wd);
  assert.ok(logs.some((l) => l.includes(host.url)));
  assert.ok(!logs.join('\n').includes(host.token), 'the token never reaches the log');
});

test('child host: stop() terminates running processes of every session', async () => {
  const host = await startHost();
  const client = await ExecClient.connectWebSocket(host.url, { token: host.token, resumeSessionId: null });
  guard.onCleanup(() => client.close());
  const { pid } = await client.start({ argv: GROUP_CMD });
  guard.trackGroup(pid);
  await waitUntil(() => groupMembers(pid).length === 2, 'leader and grandchild');
  const wd = watchdogOf(host.pid);
  if (wd) guard.track(wd);
  await host.stop();
  await waitGone(host.pid);
  await waitGroupGone(pid);
  if (wd) await waitGone(wd);
});

test('child host: SIGKILL of the CLI child → its process group (and grandchild) is killed by the watchdog; onDidExit fires', async () => {
  const host = await startHost();
  const exitReason = new Promise<string>((r) => host.onDidExit(r));
  const client = await ExecClient.connectWebSocket(host.url, { token: host.token });
  guard.onCleanup(() => client.close());
  let out = '';
  client.on('output', (e: { data: Buffer }) => (out += e.data.toString()));
  const { pid } = await client.start({ argv: GROUP_CMD });
  guard.trackGroup(pid);
  await waitUntil(() => out.includes('\n'), 'the grandchild pid');
  const grandchild = guard.track(Number(out.trim()));
  assert.equal(groupMembers(pid).length, 2);
  assert.ok(isAlive(grandchild));
  const wd = watchdogOf(host.pid);
  assert.ok(wd);
  guard.track(wd);

  process.kill(host.pid, 'SIGKILL');
  assert.match(await exitReason, /SIGKILL/);
  await waitGone(host.pid);
  await waitGroupGone(pid);
  assert.ok(!isAlive(grandchild));
  await waitGone(wd);
  await host.stop(); // already gone: resolves
});

test('child host: a start failure (port taken) rejects with the child stderr and leaves no process', async () => {
  const blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  guard.onCleanup(() => new Promise((r) => blocker.close(r)));
  const port = (blocker.address() as net.AddressInfo).port;
  const before = new Set(allStats().filter((s) => s.ppid === process.pid).map((s) => s.pid));
  await assert.rejects(
    startChildHost({ host: '127.0.0.1', port, token: 'x'.repeat(32), config: {}, extensionPath: ROOT, log: () => undefined }),
    (e: Error) => {
      assert.match(e.message, /failed to start/);
      assert.match(e.message, /EADDRINUSE/);
      assert.ok(!e.message.includes('x'.repeat(32)), 'no token in the error');
      return true;
    },
  );
  const after = allStats().filter((s) => s.ppid === process.pid && s.state !== 'Z' && !before.has(s.pid));
  assert.deepEqual(after, []);
});

test('admin channel: under congestion output is dropped (bounded), outputDropped is sent, and the client repairs from retained output', async () => {
  const server = new ExecServer({ terminateGraceMs: 200 });
  guard.onCleanup(() => server.shutdown());
  const toServer = new PassThrough();
  const fromServer = new PassThrough({ highWaterMark: 16 * 1024 });
  const hwm = 64 * 1024;
  const channel = serveAdmin(adminInProcess(server), toServer, fromServer, { ready: { url: 'ws://x', port: 1, pid: process.pid }, highWaterMarkBytes: hwm });
  const admin = adminOverStreams(fromServer, toServer);
  assert.deepEqual(await admin.ready, { url: 'ws://x', port: 1, pid: process.pid });
  const got = new Map<string, ObservedChunk[]>();
  admin.subscribe({ output: (key, c) => got.set(key, [...(got.get(key) ?? []), c]) });

  fromServer.pause(); // the parent stops reading
  const client = await ExecClient.connectInProcess(server);
  const n = 60_000;
  const expected = Array.from({ length: n }, (_, i) => `${i + 1}\n`).join('');
  const r = await client.run(['seq', '1', String(n)]);
  assert.equal(r.stdout.toString(), expected);
  assert.ok(channel.droppedOutputEvents > 0, 'output events were dropped while congested');
  assert.ok(fromServer.writableLength < hwm + 256 * 1024, `bounded backlog (${fromServer.writableLength} bytes)`);

  fromServer.resume();
  const key = [...got.keys()][0] ?? (await admin.snapshot()).processes[0].key;
  const text = () => Buffer.concat((got.get(key) ?? []).map((c) => c.data)).toString();
  await waitUntil(() => text().length >= expected.length, 'repaired output');
  assert.equal(text(), expected);
  const seqs = got.get(key)!.map((c) => c.seq);
  assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), 'delivered in seq order, no duplicates');
  assert.equal(new Set(seqs).size, seqs.length);

  channel.dispose();
  admin.dispose();
  client.close();
  await server.shutdown();
});

test('child mode, SIGKILL of the extension host (the CLI parent): the CLI sees stdin EOF, terminates its processes and exits', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'child-host-'));
  guard.onCleanup(() => fs.rmSync(dir, { recursive: true, force: true }));
  const script = path.join(dir, 'extension-host.js');
  const OUT = path.resolve(__dirname, '..', '..');
  fs.writeFileSync(
    script,
    `
const { startChildHost } = require(${JSON.stringify(path.join(OUT, 'src', 'extension', 'host', 'childHost.js'))});
const { ExecClient } = require(${JSON.stringify(path.join(OUT, 'src', 'client', 'client.js'))});
(async () => {
  const host = await startChildHost({ host: '127.0.0.1', port: 0, token: 'tok-' + process.pid, config: { terminateGraceMs: 300 },
    extensionPath: ${JSON.stringify(ROOT)}, log: () => undefined });
  const c = await ExecClient.connectWebSocket(host.url, { token: host.token });
  let out = '';
  let leader = 0;
  const report = () => {
    if (!leader || !out.includes('\\n')) return;
    process.stdout.write(JSON.stringify({ cli: host.pid, leader, grandchild: Number(out.trim()) }) + '\\n');
    leader = 0;
  };
  c.on('output', (e) => { out += e.data.toString(); report(); });
  leader = (await c.start({ argv: ${JSON.stringify(GROUP_CMD)} })).pid;
  report();
  setInterval(() => undefined, 1000);
})();
`,
  );
  const extHost = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
  guard.track(extHost.pid!);
  const line = await new Promise<string>((resolve, reject) => {
    let buf = '';
    extHost.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      if (buf.includes('\n')) resolve(buf.slice(0, buf.indexOf('\n')));
    });
    extHost.once('exit', () => reject(new Error('the extension host script exited early')));
  });
  const info = JSON.parse(line) as { cli: number; leader: number; grandchild: number };
  guard.track(info.cli);
  guard.trackGroup(info.leader);
  guard.track(info.grandchild);
  const wd = watchdogOf(info.cli);
  if (wd) guard.track(wd);
  assert.equal(groupMembers(info.leader).length, 2);

  process.kill(extHost.pid!, 'SIGKILL');
  await waitGone(extHost.pid!);
  await waitGone(info.cli);
  await waitGroupGone(info.leader);
  assert.ok(!isAlive(info.grandchild));
  if (wd) await waitGone(wd);
});
