/**
 * Backpressure with a stalled client: a WebSocket client stops reading (its socket is paused)
 * while 3 processes each write 50 MB. The server must pause the processes (bounded memory)
 * and, once the client reads again, deliver every byte with contiguous seqs.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import type { Socket } from 'node:net';
import { startWsCli } from '../helpers/cli';
import { assertGone, ProcessGuard, rssBytes, sleep, waitUntil } from '../helpers/procs';
import { b64, RawWs, startParams } from '../helpers/rawWs';

const guard = new ProcessGuard();
const BYTES = 50_000_000;
const IDS = ['z1', 'z2', 'z3'];

/** Bytes written so far by a process (/proc/<pid>/io wchar), 0 once it is gone. */
function wchar(pid: number): number {
  try {
    return Number(/^wchar:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/io`, 'utf8'))![1]);
  } catch {
    return 0;
  }
}

function base64Length(s: string): number {
  const pad = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0;
  return (s.length / 4) * 3 - pad;
}

test('a stalled client keeps server memory bounded and loses nothing once it reads again', { timeout: 120_000 }, async () => {
  const server = await startWsCli(guard);
  const ws = await RawWs.open(server.url, { token: server.token, keep: false });
  const got = new Map<string, { bytes: number; seqs: number[]; exitCode?: number; closed: boolean }>();
  for (const id of IDS) got.set(id, { bytes: 0, seqs: [], closed: false });
  const responses = new Map<unknown, any>();
  ws.onMessage = (m) => {
    if (m.id !== undefined) responses.set(m.id, m);
    const p = m.params?.processId !== undefined ? got.get(m.params.processId) : undefined;
    if (!p) return;
    if (m.method === 'process/output') {
      p.bytes += base64Length(m.params.chunk);
      p.seqs.push(m.params.seq);
    } else if (m.method === 'process/exited') {
      p.exitCode = m.params.exitCode;
      p.seqs.push(m.params.seq);
    } else if (m.method === 'process/closed') {
      p.closed = true;
      p.seqs.push(m.params.seq);
    }
  };
  const call = async (id: number, method: string, params: unknown) => {
    ws.send({ id, method, params });
    await waitUntil(() => responses.has(id), `response ${id}`);
    const r = responses.get(id);
    assert.ok(r.result, JSON.stringify(r.error));
    return r.result;
  };
  await call(1, 'initialize', { clientName: 'stalled' });
  ws.notify('initialized');
  await sleep(200); // let the server settle before the baseline
  const baseline = rssBytes(server.pid);

  // Each process waits for a line on stdin, then writes 50 MB to stdout.
  const pids: number[] = [];
  for (const [i, id] of IDS.entries()) {
    const r = await call(10 + i, 'process/start', startParams(id, ['sh', '-c', `read go; exec head -c ${BYTES} /dev/zero`], { pipeStdin: true }));
    pids.push(guard.trackGroup(r.pid));
  }

  // Stop reading, then release the writers (sending still works on a paused socket).
  const socket = (ws.ws as unknown as { _socket: Socket })._socket;
  socket.pause();
  for (const [i, id] of IDS.entries()) ws.send({ id: 20 + i, method: 'process/write', params: { processId: id, chunk: b64('\n'), writeId: 'go' } });

  // Wait until the writers are blocked: their written byte counts stop moving.
  let peak = baseline;
  let last = -1;
  let stableSince = Date.now();
  await waitUntil(
    () => {
      peak = Math.max(peak, rssBytes(server.pid));
      const total = pids.reduce((n, p) => n + wchar(p), 0);
      if (total !== last) {
        last = total;
        stableSince = Date.now();
      }
      return total > 0 && Date.now() - stableSince > 750;
    },
    'the writers to block on backpressure',
    60_000,
  );
  for (let i = 0; i < 10; i++) {
    peak = Math.max(peak, rssBytes(server.pid));
    await sleep(50);
  }
  const written = pids.reduce((n, p) => n + wchar(p), 0);
  assert.ok(written < 3 * BYTES, `the writers are paused (they wrote ${written} of ${3 * BYTES} bytes)`);
  const growth = peak - baseline;
  if (process.env.BP_DEBUG) console.error({ baseline, peak, written, growth });
  assert.ok(growth < 200 * 1024 * 1024, `server RSS grew by ${(growth / 1048576).toFixed(1)} MB while the client stalled`);

  // Read again: everything arrives.
  socket.resume();
  await waitUntil(() => IDS.every((id) => got.get(id)!.closed), 'every process to close', 90_000);
  for (const id of IDS) {
    const p = got.get(id)!;
    assert.equal(p.bytes, BYTES, `${id}: every byte arrives`);
    assert.deepEqual(p.seqs, p.seqs.map((_, i) => i + 1), `${id}: seqs are contiguous from 1`);
    assert.equal(p.exitCode, 0);
  }
  for (const i of [0, 1, 2]) assert.equal(responses.get(20 + i)?.result?.status, 'accepted');
  for (const pid of pids) await assertGone(pid);
  await ws.close();
  await server.stop();
});
