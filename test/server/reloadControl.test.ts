/**
 * Issue 14: the private control channel of a child-mode server, and its reload grace. The real
 * CLI (dist/cli.js) runs as a child with --admin-stdio --control-socket --reload-grace-ms; the
 * test process plays the extension host: it lets go (as deactivate() does in a reload), then a
 * "new extension host" adopts the server over the socket. An agent connected over WebSocket
 * keeps its connection and processes throughout. Verified through /proc and the discovery dir.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { ExecClient } from '../../src/client/client';
import { startChildHost, type ChildServerHost } from '../../src/extension/host/childHost';
import { adoptChildHost } from '../../src/extension/host/adoptChildHost';
import { adoptOverControlSocket, ControlError } from '../../src/transport/controlSocket';
import { groupMembers, isAlive, ProcessGuard, waitGroupGone, waitUntil } from '../helpers/procs';

const guard = new ProcessGuard();
const ROOT = path.resolve(__dirname, '..', '..', '..');

interface Rig {
  host: ChildServerHost;
  socketPath: string;
  secret: string;
  token: string;
  dir: string;
  discoveryDir: string;
  logs: string[];
}

async function startRig(reloadGraceMs: number): Promise<Rig> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exec-ctl-'));
  const socketPath = path.join(dir, 'ctl', 'w.sock');
  const secret = randomBytes(24).toString('base64url');
  const token = randomBytes(24).toString('base64url');
  const logs: string[] = [];
  const host = await startChildHost(
    { host: '127.0.0.1', port: 0, token, config: { terminateGraceMs: 300, sessionTtlMs: 60_000 }, extensionPath: ROOT, log: (m) => logs.push(m) },
    { control: { path: socketPath, secret, reloadGraceMs } },
  );
  guard.track(host.pid);
  guard.onCleanup(() => {
    try {
      process.kill(host.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return { host, socketPath, secret, token, dir, discoveryDir: path.join(dir, 'discovery'), logs };
}

async function agentWithTwoProcesses(r: Rig) {
  const client = await ExecClient.connectWebSocket(r.host.url, { token: r.token, clientName: 'reload-agent', resumeSessionId: null });
  guard.onCleanup(() => client.close());
  const sleeper = await client.start({ processId: 'sleeper', argv: ['sleep', '300'] });
  const ticker = await client.start({ processId: 'ticker', argv: ['sh', '-c', 'i=0; while true; do i=$((i+1)); echo "tick $i"; sleep 0.2; done'] });
  guard.trackGroup(sleeper.pid);
  guard.trackGroup(ticker.pid);
  return { client, sleeper, ticker };
}

test('control socket: 0700 dir, 0600 socket, a wrong secret is refused and closes the connection, nothing stops', async () => {
  const r = await startRig(5_000);
  assert.equal(fs.statSync(path.dirname(r.socketPath)).mode & 0o777, 0o700);
  assert.equal(fs.statSync(r.socketPath).mode & 0o777, 0o600);
  const cmdline = fs.readFileSync(`/proc/${r.host.pid}/cmdline`, 'utf8');
  assert.ok(!cmdline.includes(r.secret) && !cmdline.includes(r.token), 'no secret on the command line');
  // The secret leaves the server's environment once read: a process inheriting everything does not see it.
  const client = await ExecClient.connectWebSocket(r.host.url, { token: r.token, clientName: 'env-check' });
  const env = await client.run(['sh', '-c', 'echo "secret=${EXEC_SERVER_CONTROL_SECRET:-unset}"'], {
    envPolicy: { inherit: 'all', ignoreDefaultExcludes: true, exclude: [], set: {}, includeOnly: [] },
  });
  client.close();
  assert.match(String(env.stdout), /secret=unset/);

  await assert.rejects(adoptOverControlSocket(r.socketPath, 'wrong-' + r.secret), (e: ControlError) => e.reason === 'auth');
  // Garbage instead of the handshake: an error line and a closed socket.
  const raw = net.connect(r.socketPath);
  const answer = await new Promise<string>((resolve) => {
    let text = '';
    raw.on('data', (d) => (text += d));
    raw.on('close', () => resolve(text));
    raw.write('{"id":7,"method":"admin/snapshot"}\n');
  });
  assert.match(answer, /expected admin\/adopt first/);
  // While the first owner is connected, even the right secret cannot take the server.
  await assert.rejects(adoptOverControlSocket(r.socketPath, r.secret), (e: ControlError) => e.reason === 'owned');
  // Nothing of this disturbed the server.
  assert.equal((await r.host.admin.snapshot()).processes.length, 1);
  await r.host.stop();
  await waitUntil(() => !isAlive(r.host.pid), 'server exited');
  assert.ok(!fs.existsSync(r.socketPath), 'socket removed at exit');
  await assert.rejects(adoptOverControlSocket(r.socketPath, r.secret), (e: ControlError) => e.reason === 'absent');
});

test('reload: the owner lets go, the server keeps processes, output and the agent connection; a new owner adopts it with history; a second adopter is refused', async () => {
  const r = await startRig(20_000);
  const file = await r.host.advertise({ workspaceFolders: ['/ws'], appName: 'test', protocolVersion: 'exec-server.v0', startedAt: new Date().toISOString(), hostMode: 'child', dir: r.discoveryDir });
  assert.equal(path.basename(file), `server-${r.host.pid}-${r.host.port}.json`, 'the discovery file names the server, which outlives the extension host');
  const { client, sleeper, ticker } = await agentWithTwoProcesses(r);
  let lastTick = 0;
  client.on('output', (e: { processId: string; data: Buffer | string }) => {
    if (e.processId !== 'ticker') return;
    for (const m of String(e.data).matchAll(/tick (\d+)/g)) lastTick = Math.max(lastTick, Number(m[1]));
  });
  await waitUntil(() => lastTick >= 2, 'ticks before the reload');

  r.host.detach(); // deactivate() in a reload
  const ticksAtDetach = lastTick;
  await waitUntil(() => lastTick >= ticksAtDetach + 3, 'the agent still gets output with no owner');
  assert.ok(isAlive(r.host.pid));
  assert.ok(fs.existsSync(file), 'discovery file kept during the grace');

  const logs: string[] = [];
  const adopted = await adoptChildHost({ socketPath: r.socketPath, secret: r.secret, token: r.token, log: (m) => logs.push(m) });
  assert.equal(adopted.pid, r.host.pid);
  assert.equal(adopted.url, r.host.url);
  assert.equal(adopted.adopted?.running, 2);
  const snap = await adopted.admin.snapshot();
  assert.deepEqual(snap.processes.filter((p) => p.state === 'running').map((p) => p.processId).sort(), ['sleeper', 'ticker']);
  const tickerKey = snap.processes.find((p) => p.processId === 'ticker')!.key;
  const retained = await adopted.admin.retainedOutput(tickerKey);
  assert.match(Buffer.concat(retained.chunks.map((c) => c.data)).toString(), /tick 1\n/, 'output from before the reload is retained');
  // Live output reaches the new owner.
  let liveAfterAdopt = '';
  adopted.admin.subscribe({ output: (key, c) => key === tickerKey && (liveAfterAdopt += c.data.toString()) });
  await waitUntil(() => /tick \d+/.test(liveAfterAdopt), 'live output over the control socket');
  // Same URL, same token: the agent's connection is the same one, and its next start works.
  const next = await client.run(['sh', '-c', 'echo after-reload'], { processId: 'after' });
  assert.equal(next.exitCode, 0);
  assert.match(String(next.stdout), /after-reload/);
  await assert.rejects(adoptOverControlSocket(r.socketPath, r.secret), (e: ControlError) => e.reason === 'owned', 'owned again: nobody else adopts');
  // The adopter can advertise too (same file, same server pid).
  assert.equal(await adopted.advertise({ workspaceFolders: ['/ws'], appName: 'test', protocolVersion: 'exec-server.v0', startedAt: new Date().toISOString(), hostMode: 'child', dir: r.discoveryDir }), file);

  // Restart Server from the adopting window: a real stop.
  await adopted.stop();
  await waitUntil(() => !isAlive(r.host.pid), 'server exited');
  await waitGroupGone(sleeper.pid);
  await waitGroupGone(ticker.pid);
  assert.ok(!fs.existsSync(file), 'discovery file removed');
});

test('grace expiry: nobody adopts → every process ends, the discovery file and socket go, the server exits; an owner killed while adopted is the same', async () => {
  const r = await startRig(1_500);
  const file = await r.host.advertise({ workspaceFolders: ['/ws'], appName: 'test', protocolVersion: 'exec-server.v0', startedAt: new Date().toISOString(), hostMode: 'child', dir: r.discoveryDir });
  const { sleeper, ticker } = await agentWithTwoProcesses(r);
  // First a reload (adopted in time), then the adopter dies without a word (SIGKILLed host: its socket closes).
  r.host.detach();
  const adopted = await adoptChildHost({ socketPath: r.socketPath, secret: r.secret, token: r.token, log: () => undefined });
  assert.equal(adopted.adopted?.running, 2);
  adopted.detach();
  await waitUntil(() => !isAlive(r.host.pid), 'server exited after the grace', 15_000);
  for (const pid of [sleeper.pid, ticker.pid]) assert.deepEqual(groupMembers(pid), [], `group ${pid} gone`);
  assert.ok(!fs.existsSync(file), 'discovery file removed');
  assert.ok(!fs.existsSync(r.socketPath), 'control socket removed');
});

test('CLI flags: --control-socket needs --admin-stdio, --reload-grace-ms needs --control-socket', async () => {
  const { parseArgs } = await import('../../src/cli/args');
  const base = ['--listen', 'ws://127.0.0.1:0', '--admin-stdio'];
  assert.deepEqual(
    (({ controlSocket, reloadGraceMs }) => ({ controlSocket, reloadGraceMs }))(parseArgs([...base, '--control-socket', '/x/y.sock', '--reload-grace-ms', '2500'])),
    { controlSocket: '/x/y.sock', reloadGraceMs: 2500 },
  );
  assert.throws(() => parseArgs(['--listen', 'ws://127.0.0.1:0', '--control-socket', '/x/y.sock']), /needs --admin-stdio/);
  assert.throws(() => parseArgs([...base, '--reload-grace-ms', '5']), /needs --control-socket/);
  assert.throws(() => parseArgs([...base, '--control-socket', '/x', '--reload-grace-ms', '-1']), /non-negative integer/);
});

test('a control socket path someone else already serves is refused; a stale socket file is replaced', async () => {
  const { listenControlSocket } = await import('../../src/transport/controlSocket');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exec-ctl2-'));
  guard.onCleanup(() => fs.rmSync(dir, { recursive: true, force: true }));
  const p = path.join(dir, 'ctl', 's.sock');
  const opts = { path: p, secret: 's', adopt: () => { throw new ControlError('owned', 'x'); }, onAdopted: (s: net.Socket) => s.destroy() };
  const first = await listenControlSocket(opts);
  await assert.rejects(listenControlSocket(opts), /already listens/);
  first.close();
  // A dead server's socket file (a server SIGKILLed before it could remove it).
  const stale = net.createServer();
  const p2 = path.join(dir, 'ctl', 'stale.sock');
  await new Promise<void>((r) => stale.listen(p2, r));
  // Node removes the file on close(); a killed process would not: keep a copy of the inode.
  fs.linkSync(p2, p2 + '.keep');
  await new Promise((r) => stale.close(r));
  fs.renameSync(p2 + '.keep', p2);
  const second = await listenControlSocket({ ...opts, path: p2 });
  await assert.rejects(adoptOverControlSocket(p2, 's'), (e: ControlError) => e.reason === 'owned');
  second.close();
});

test('a second child server on a slot whose control socket is served fails to start, naming the socket (the extension then takes a new slot), and leaves nothing', async () => {
  const r = await startRig(1_000);
  await assert.rejects(
    startChildHost({ host: '127.0.0.1', port: 0, token: r.token, config: {}, extensionPath: ROOT, log: () => undefined }, { control: { path: r.socketPath, secret: r.secret, reloadGraceMs: 1_000 } }),
    /already listens on/,
  );
  // The first one still serves its owner.
  await assert.rejects(adoptOverControlSocket(r.socketPath, r.secret), (e: ControlError) => e.reason === 'owned');
  await r.host.stop();
});
