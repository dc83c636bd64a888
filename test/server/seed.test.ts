/**
 * The seed's tests, ported (exec_server_tests.rs), plus a replay of the seed README's example
 * session with raw frames, the in-process client, and the seed's disconnect rule.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as readline from 'node:readline';
import { ExecClient, type OutputEvent } from '../../src/client/client';
import { ExecServer } from '../../src/server/execServer';
import { spawnStdioCli, startWsCli } from '../helpers/cli';
import { assertGone, isAlive, ProcessGuard, waitUntil } from '../helpers/procs';
import { RawWs, unb64 } from '../helpers/rawWs';

const guard = new ProcessGuard();
const PROMPT_LOOP = "printf 'ready\\n'; while IFS= read -r line; do printf 'echo:%s\\n' \"$line\"; done";

/** The seed's recv_until_contains: output events of one process until `needle` shows up. */
function recvUntilContains(client: ExecClient, processId: string, needle: string, timeoutMs = 10_000): Promise<{ stream: string; text: string }> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => {
      client.off('output', on);
      reject(new Error(`timed out waiting for ${JSON.stringify(needle)}; got ${JSON.stringify(text)}`));
    }, timeoutMs);
    const on = (e: OutputEvent) => {
      if (e.processId !== processId) return;
      text += e.data.toString();
      if (text.includes(needle)) {
        clearTimeout(timer);
        client.off('output', on);
        resolve({ stream: e.stream, text });
      }
    };
    client.on('output', on);
  });
}

async function streamsPtyOutputAndAcceptsWrites(client: ExecClient): Promise<void> {
  const ready = recvUntilContains(client, 'proc-1', 'ready');
  const r = await client.start({
    processId: 'proc-1',
    argv: ['bash', '-lc', PROMPT_LOOP],
    cwd: process.cwd(),
    env: { PATH: process.env.PATH! },
    tty: true,
  });
  guard.trackGroup(r.pid);
  assert.equal(r.processId, 'proc-1');
  const first = await ready;
  assert.equal(first.stream, 'pty');
  assert.match(first.text, /ready/);
  const echoed = recvUntilContains(client, 'proc-1', 'echo:hello');
  const w = await client.write('proc-1', 'hello\n');
  assert.equal(w.accepted, true);
  const second = await echoed;
  assert.equal(second.stream, 'pty');
  assert.match(second.text, /echo:hello/);
  const closed = client.wait('proc-1', 15_000);
  assert.deepEqual(await client.terminate('proc-1'), { running: true });
  await closed;
  await assertGone(r.pid);
}

test('stdio: initialize answers protocolVersion exec-server.v0 (seed exec_server_accepts_initialize_over_stdio)', async () => {
  const { proc, stop } = spawnStdioCli(guard);
  const lines = readline.createInterface({ input: proc.stdout! });
  const next = () =>
    new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no response line')), 10_000);
      lines.once('line', (l) => {
        clearTimeout(t);
        resolve(l);
      });
    });
  const got = next();
  proc.stdin!.write(JSON.stringify({ id: 1, method: 'initialize', params: { clientName: 'exec-server-test' } }) + '\n');
  const response = JSON.parse(await got);
  assert.equal(response.id, 1);
  assert.equal('jsonrpc' in response, false);
  assert.equal(response.result.protocolVersion, 'exec-server.v0');
  assert.equal(typeof response.result.sessionId, 'string');
  proc.stdin!.write(JSON.stringify({ method: 'initialized', params: {} }) + '\n');
  // The connection now serves exec methods.
  const listed = next();
  proc.stdin!.write(JSON.stringify({ id: 2, method: 'process/list', params: {} }) + '\n');
  assert.deepEqual(JSON.parse(await listed), { id: 2, result: { processes: [] } });
  lines.close();
  const exit = (await stop()) as { code: number | null };
  assert.equal(exit.code, 0, 'the stdio server exits cleanly when its input ends');
});

test('stdio: invalid JSON → -32700 id null, an oversized line → -32600; the connection keeps serving', async () => {
  const { proc, stop } = spawnStdioCli(guard, ['--max-frame-bytes', '4096']);
  const lines = readline.createInterface({ input: proc.stdout! });
  const got: any[] = [];
  lines.on('line', (l) => got.push(JSON.parse(l)));
  const send = (t: string) => proc.stdin!.write(t + '\n');
  send(JSON.stringify({ id: 1, method: 'initialize', params: { clientName: 'x' } }));
  send('{"method":"initialized"}');
  send('{not json');
  send(JSON.stringify({ id: 2, method: 'process/list', params: { pad: 'x'.repeat(10_000) } }));
  send(JSON.stringify({ id: 3, method: 'process/list', params: {} }));
  await waitUntil(() => got.some((m) => m.id === 3), 'the answer to the request after the bad lines');
  const errors = got.filter((m) => m.id === null);
  assert.deepEqual(errors.map((m) => m.error.code).sort(), [-32700, -32600].sort());
  assert.equal(got.some((m) => m.id === 2), false, 'the oversized request was not executed');
  assert.deepEqual(got.find((m) => m.id === 3), { id: 3, result: { processes: [] } });
  lines.close();
  await stop();
});

test('stdio: client streams PTY output and accepts writes (seed)', async () => {
  const { proc, stop } = spawnStdioCli(guard);
  const client = await ExecClient.connectStdio(proc, { clientName: 'exec-server-test', initializeTimeoutMs: 10_000 });
  assert.equal(client.protocolVersion, 'exec-server.v0');
  await streamsPtyOutputAndAcceptsWrites(client);
  client.close();
  await stop();
});

test('websocket: client streams PTY output and accepts writes (seed)', async () => {
  const server = await startWsCli(guard);
  const client = await ExecClient.connectWebSocket(server.url, { token: server.token!, clientName: 'exec-server-test', connectTimeoutMs: 5_000, initializeTimeoutMs: 5_000 });
  await streamsPtyOutputAndAcceptsWrites(client);
  client.close();
  await server.stop();
});

test('websocket disconnect terminates the processes of that connection (seed), and only those', async () => {
  const server = await startWsCli(guard);
  const other = await ExecClient.connectWebSocket(server.url, { token: server.token! });
  const keep = await other.start({ processId: 'keep', argv: ['sleep', '300'], env: { PATH: process.env.PATH! } });
  guard.trackGroup(keep.pid);

  const client = await ExecClient.connectWebSocket(server.url, { token: server.token! });
  const a = await client.start({ processId: 'proc-1', argv: ['bash', '-lc', 'sleep 300; echo never'], env: { PATH: process.env.PATH! } });
  const b = await client.start({ processId: 'proc-2', argv: ['sleep', '300'], tty: true, env: { PATH: process.env.PATH! } });
  guard.trackGroup(a.pid);
  guard.trackGroup(b.pid);
  await waitUntil(() => isAlive(a.pid) && isAlive(b.pid), 'processes to run');
  client.close();
  await assertGone(a.pid);
  await assertGone(b.pid);
  assert.ok(isAlive(keep.pid), "another connection's process is untouched");
  other.close();
  await assertGone(keep.pid);
  await server.stop();
});

test("README example session replayed with raw frames (responses carry no \"jsonrpc\")", async () => {
  const server = await startWsCli(guard);
  const ws = await RawWs.open(server.url, { token: server.token });

  ws.sendText('{"id":1,"method":"initialize","params":{"clientName":"example-client"}}');
  const init = await ws.waitFor((m) => m.id === 1);
  assert.equal(init.result.protocolVersion, 'exec-server.v0');
  ws.sendText('{"method":"initialized","params":{}}');

  ws.sendText(
    JSON.stringify({
      id: 2,
      method: 'process/start',
      params: {
        processId: 'proc-1',
        argv: ['bash', '-lc', PROMPT_LOOP],
        cwd: '/tmp',
        env: { PATH: '/usr/bin:/bin' },
        tty: true,
        arg0: null,
      },
    }),
  );
  const started = await ws.waitFor((m) => m.id === 2);
  assert.equal(started.result.processId, 'proc-1');
  guard.trackGroup(started.result.pid);
  await ws.waitOutput('proc-1', 'ready');
  for (const n of ws.notifications('process/output', 'proc-1')) {
    assert.equal(n.params.stream, 'pty');
    assert.equal(typeof n.params.seq, 'number');
  }

  ws.sendText('{"id":3,"method":"process/write","params":{"processId":"proc-1","chunk":"aGVsbG8K"}}');
  const wrote = await ws.waitFor((m) => m.id === 3);
  assert.deepEqual(wrote, { id: 3, result: { accepted: true, status: 'accepted' } });
  await ws.waitOutput('proc-1', 'echo:hello');

  ws.sendText('{"id":4,"method":"process/terminate","params":{"processId":"proc-1"}}');
  assert.deepEqual(await ws.waitFor((m) => m.id === 4), { id: 4, result: { running: true } });
  const exited = await ws.waitFor((m) => m.method === 'process/exited');
  assert.equal(exited.params.processId, 'proc-1');
  assert.equal(typeof exited.params.exitCode, 'number');
  await ws.waitClosedNotification('proc-1');

  // Wire form: nothing the server sent carries "jsonrpc"; output chunks are base64.
  assert.ok(ws.texts.length > 0);
  for (const t of ws.texts) assert.equal('jsonrpc' in JSON.parse(t), false, t);
  assert.match(ws.notifications('process/output', 'proc-1').map((n) => unb64(n.params.chunk)).join(''), /ready/);
  await ws.close();
  await assertGone(started.result.pid);
  await server.stop();
});

test('requests carrying "jsonrpc":"2.0" are accepted; string ids are echoed', async () => {
  const server = await startWsCli(guard);
  const ws = await RawWs.open(server.url, { token: server.token });
  ws.send({ jsonrpc: '2.0', id: 'init-a', method: 'initialize', params: { clientName: 'x' } });
  const r = await ws.waitFor((m) => m.id === 'init-a');
  assert.equal(r.result.protocolVersion, 'exec-server.v0');
  assert.equal('jsonrpc' in r, false);
  await ws.close();
  await server.stop();
});

test('binary frames holding JSON are accepted and answered', async () => {
  const server = await startWsCli(guard);
  const ws = await RawWs.open(server.url, { token: server.token });
  ws.ws.send(Buffer.from(JSON.stringify({ id: 7, method: 'initialize', params: { clientName: 'bin' } })), { binary: true });
  const r = await ws.waitFor((m) => m.id === 7);
  assert.equal(r.result.protocolVersion, 'exec-server.v0');
  await ws.close();
  await server.stop();
});

test('in-process client (connectInProcess): start, stream, write, run', async () => {
  const server = new ExecServer();
  guard.onCleanup(() => server.shutdown());
  const client = await ExecClient.connectInProcess(server, { clientName: 'in-proc' });
  assert.equal(client.protocolVersion, 'exec-server.v0');
  await streamsPtyOutputAndAcceptsWrites(client);
  const r = await client.run(['sh', '-c', 'cat; echo err >&2; exit 5'], { stdin: 'piped-in', env: { PATH: process.env.PATH! } });
  assert.equal(r.exitCode, 5);
  assert.equal(r.stdout.toString(), 'piped-in');
  assert.equal(r.stderr.toString(), 'err\n');
  client.close();
  await server.shutdown();
});
