/**
 * Backpressure over stdio (`--listen stdio://`): the client stops reading the server's stdout
 * while a process writes 50 MB. The session must pause that process (server memory stays
 * bounded), the server must keep serving what arrives on stdin meanwhile (a blocking write to
 * fd 1 would freeze its whole event loop), and once the client reads again every byte arrives.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnStdioCli } from '../helpers/cli';
import { assertGone, ProcessGuard, rssBytes, sleep, waitUntil } from '../helpers/procs';
import { b64, startParams } from '../helpers/rawWs';

const guard = new ProcessGuard();
const BYTES = 50_000_000;

/** Bytes written so far by a process (/proc/<pid>/io wchar), 0 once it is gone. */
function wchar(pid: number): number {
  try {
    return Number(/^wchar:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/io`, 'utf8'))![1]);
  } catch {
    return 0;
  }
}

test('a stdio client that stops reading: the process is paused, the server keeps serving, nothing is lost', { timeout: 180_000 }, async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'stdio-bp-'));
  const marker = path.join(tmp, 'served-while-stalled');
  const { proc, stop } = spawnStdioCli(guard);
  const responses = new Map<number, any>();
  const flood = { bytes: 0, seqs: [] as number[], closed: false, exitCode: undefined as number | undefined };
  let pending = '';
  proc.stdout!.setEncoding('utf8');
  proc.stdout!.on('data', (d: string) => {
    const lines = (pending + d).split('\n');
    pending = lines.pop()!;
    for (const line of lines) {
      const m = JSON.parse(line);
      if (m.id !== undefined) responses.set(m.id, m);
      if (m.params?.processId !== 'flood') continue;
      flood.seqs.push(m.params.seq);
      if (m.method === 'process/output') flood.bytes += Buffer.from(m.params.chunk, 'base64').length;
      if (m.method === 'process/exited') flood.exitCode = m.params.exitCode;
      if (m.method === 'process/closed') flood.closed = true;
    }
  });
  const send = (msg: object) => proc.stdin!.write(JSON.stringify(msg) + '\n');
  const call = async (id: number, method: string, params: unknown) => {
    send({ id, method, params });
    await waitUntil(() => responses.has(id), `response ${id} to ${method}`, 30_000);
    const r = responses.get(id);
    assert.ok(r.result, JSON.stringify(r.error));
    return r.result;
  };

  await call(1, 'initialize', { clientName: 'stdio-stalled' });
  send({ method: 'initialized' });
  await sleep(200);
  const baseline = rssBytes(proc.pid!);
  const started = await call(2, 'process/start', startParams('flood', ['sh', '-c', `read go; exec head -c ${BYTES} /dev/zero`], { pipeStdin: true }));
  const pid = guard.trackGroup(started.pid);

  // Stop reading, then release the writer (requests still flow on stdin).
  proc.stdout!.pause();
  send({ id: 3, method: 'process/write', params: { processId: 'flood', chunk: b64('\n'), writeId: 'go' } });
  let peak = baseline;
  let last = -1;
  let stableSince = Date.now();
  await waitUntil(
    () => {
      peak = Math.max(peak, rssBytes(proc.pid!));
      const w = wchar(pid);
      if (w !== last) {
        last = w;
        stableSince = Date.now();
      }
      return w > 0 && Date.now() - stableSince > 750;
    },
    'the writer to block on backpressure',
    60_000,
  );
  assert.ok(wchar(pid) < BYTES, `the writer is paused (it wrote ${wchar(pid)} of ${BYTES} bytes)`);

  // The server still acts on requests while its output is stalled: this start runs `touch`.
  send({ id: 4, method: 'process/start', params: startParams('touch', ['touch', marker]) });
  await waitUntil(() => fs.existsSync(marker), 'the server to run a request while its client is not reading', 30_000);
  for (let i = 0; i < 10; i++) {
    peak = Math.max(peak, rssBytes(proc.pid!));
    await sleep(50);
  }
  const growth = peak - baseline;
  console.log(`# FIGURES ${JSON.stringify({ stdioStall: { baselineMiB: +(baseline / 1048576).toFixed(1), peakMiB: +(peak / 1048576).toFixed(1), writtenWhileStalled: wchar(pid) } })}`);
  assert.ok(growth < 200 * 1024 * 1024, `server RSS grew by ${(growth / 1048576).toFixed(1)} MiB while the client stalled`);

  // Read again: everything arrives, in order.
  proc.stdout!.resume();
  await waitUntil(() => flood.closed, 'the flood process to close', 120_000);
  assert.equal(flood.bytes, BYTES, 'every byte arrives');
  assert.deepEqual(flood.seqs, flood.seqs.map((_, i) => i + 1), 'seqs are contiguous from 1');
  assert.equal(flood.exitCode, 0);
  await waitUntil(() => responses.has(3) && responses.has(4), 'the responses sent while stalled');
  assert.equal(responses.get(3).result.status, 'accepted');
  assert.ok(responses.get(4).result.pid > 0);
  await assertGone(pid);
  await stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('a stdio client that ends its input while a large response is still queued receives all of it', { timeout: 60_000 }, async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'stdio-flush-'));
  const file = path.join(tmp, 'big.bin');
  const data = Buffer.alloc(3 * 1024 * 1024, 'exec-server ');
  fs.writeFileSync(file, data);
  const { proc } = spawnStdioCli(guard);
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  const chunks: Buffer[] = [];
  let ending = false;
  const ended = new Promise<void>((r) => proc.stdout!.once('end', () => r()));
  proc.stdout!.on('data', (d: Buffer) => {
    chunks.push(d);
    // The ~4 MiB answer has started: the server queued the whole line. Stop reading, so it
    // cannot all fit the pipe, and end our input: the server shuts down with it queued.
    if (!ending && Buffer.concat(chunks).includes('{"id":2,')) {
      ending = true;
      proc.stdout!.pause();
      proc.stdin!.end();
      setTimeout(() => proc.stdout!.resume(), 500);
    }
  });
  for (const m of [
    { id: 1, method: 'initialize', params: { clientName: 'flush' } },
    { method: 'initialized' },
    { id: 2, method: 'fs/readFile', params: { path: file } },
  ]) {
    proc.stdin!.write(JSON.stringify(m) + '\n');
  }
  await ended;
  assert.equal(await exited, 0);
  const lines = Buffer.concat(chunks).toString('utf8').split('\n').filter(Boolean);
  const answer = lines.find((l) => l.startsWith('{"id":2,'));
  assert.ok(answer !== undefined, 'the answer started');
  assert.equal(Buffer.from(JSON.parse(answer).result.dataBase64, 'base64').equals(data), true, 'the whole file arrives');
  fs.rmSync(tmp, { recursive: true, force: true });
});
