/**
 * Property layer (fast-check, seeded, bounded runs): arbitrary JSON as the params of every
 * method, and arbitrary JSON values as whole messages, always get one well-formed answer
 * (a result, or an error with a known code) — or, for a notification / a client response,
 * the documented close — and the server stays up. Every generated string that could name a
 * real path is made relative first, so no generated request can touch the file system or
 * start a process.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { startWsCli } from '../helpers/cli';
import { ProcessGuard, isAlive } from '../helpers/procs';
import { INITIALIZE, METHODS } from './corpus';
import { WsConn } from './conns';
import type { Json } from './driver';

const guard = new ProcessGuard();
const KNOWN_CODES = new Set([-32700, -32600, -32601, -32602, -32603, -32004, -32010]);
const SEED = 6;

/** Makes every string harmless as a path: nothing absolute, no URI scheme. */
function defang(v: unknown): unknown {
  if (typeof v === 'string') return /^\s*\/|^[a-zA-Z][a-zA-Z0-9+.-]*:|^\\/.test(v) ? `rel-${v}` : v;
  if (Array.isArray(v)) return v.map(defang);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, defang(x)]));
  return v;
}

function wellFormed(m: Json, id: unknown, what: string): void {
  assert.ok(m && typeof m === 'object', what);
  assert.ok(!('jsonrpc' in m), `${what}: carries jsonrpc`);
  assert.equal('result' in m, !('error' in m), `${what}: exactly one of result/error: ${JSON.stringify(m).slice(0, 300)}`);
  if (m.error) {
    assert.ok(KNOWN_CODES.has(m.error.code), `${what}: unknown code ${JSON.stringify(m.error)}`);
    assert.equal(typeof m.error.message, 'string');
    assert.notEqual(m.error.code, -32603, `${what}: internal error ${JSON.stringify(m.error)}`);
  }
  assert.deepEqual(m.id, id, what);
}

test('property: arbitrary params for every method → one well-formed answer, never a crash or hang', async (t) => {
  const server = await startWsCli(guard);
  const conn = await WsConn.open(server.url, server.token);
  await conn.handshake();
  let n = 0;
  const methods = [...METHODS, INITIALIZE, { method: 'process/list', fields: {} }, { method: 'environment/info', fields: {} }];
  for (const spec of methods) {
    const fields = [...Object.keys(spec.fields), 'sandbox', 'processId', 'extra'];
    const known = fc
      .uniqueArray(fc.tuple(fc.constantFrom(...fields), fc.jsonValue({ maxDepth: 3 })), { selector: (x) => x[0], maxLength: 8 })
      .map((kv) => Object.fromEntries(kv));
    const params = fc.oneof(known, fc.jsonValue({ maxDepth: 4 }), fc.constant(undefined));
    await fc.assert(
      fc.asyncProperty(params, async (p) => {
        const id = `p-${++n}`;
        const safe = defang(p);
        const m = await conn.call(id, spec.method, safe);
        wellFormed(m, id, `${spec.method} ${JSON.stringify(safe)?.slice(0, 200)}`);
        // Whatever succeeded must not have started anything (paths are all relative).
        if (spec.method === 'process/start') assert.ok(m.error, `process/start succeeded with ${JSON.stringify(safe)}`);
      }),
      { numRuns: 120, seed: SEED, endOnFailure: true },
    );
  }
  const list = await conn.call('final', 'process/list', {});
  assert.deepEqual(list.result.processes, []);
  t.diagnostic(`FIGURES ${JSON.stringify({ propertyParamsRuns: n, methods: methods.length })}`);
  assert.ok(isAlive(server.pid));
  await conn.close();
  await server.stop();
});

test('property: arbitrary JSON values as whole messages → an error answer, or the documented close', async (t) => {
  const server = await startWsCli(guard);
  let conn = await WsConn.open(server.url, server.token);
  await conn.handshake();
  let runs = 0;
  let closes = 0;
  const message = fc.oneof(
    fc.jsonValue({ maxDepth: 4 }),
    fc.record({ id: fc.jsonValue({ maxDepth: 1 }), method: fc.jsonValue({ maxDepth: 1 }), params: fc.jsonValue({ maxDepth: 3 }) }, { requiredKeys: [] }),
    fc.record({ id: fc.oneof(fc.integer(), fc.string()), result: fc.jsonValue({ maxDepth: 2 }) }),
  );
  await fc.assert(
    fc.asyncProperty(message, async (raw) => {
      runs++;
      const v = defang(raw) as Json;
      const obj = v !== null && typeof v === 'object' && !Array.isArray(v) ? v : undefined;
      const isNotification = obj !== undefined && typeof obj.method === 'string' && !('id' in obj) && (obj.params === undefined || obj.params === null || typeof obj.params === 'object');
      const isResponse = obj !== undefined && typeof obj.method !== 'string' && 'id' in obj && ('result' in obj || 'error' in obj);
      const expectClose = (isNotification && obj.method !== 'initialized') || isResponse;
      const start = conn.inbox.length;
      conn.sendText(JSON.stringify(v));
      if (expectClose) {
        const c = await conn.closed;
        assert.equal(c.code, 1002, `close for ${JSON.stringify(v).slice(0, 200)}`);
        closes++;
        conn = await WsConn.open(server.url, server.token);
        await conn.handshake();
        return;
      }
      // A sentinel after it: everything before the sentinel's answer belongs to this message.
      const s = await conn.call(`sentinel-${runs}`, 'process/list', {});
      assert.ok(s.result, 'the connection still serves');
      const answers = conn.inbox.slice(start).filter((m: Json) => m !== s && ('result' in m || 'error' in m));
      const wantsAnswer = !(isNotification && obj.method === 'initialized');
      assert.equal(answers.length, wantsAnswer ? 1 : 0, `answers to ${JSON.stringify(v).slice(0, 200)}: ${JSON.stringify(answers).slice(0, 300)}`);
      if (wantsAnswer) {
        const a = answers[0];
        const validId = obj !== undefined && (typeof obj.id === 'string' || (typeof obj.id === 'number' && Number.isFinite(obj.id)));
        assert.ok(a.error, `a random message succeeded: ${JSON.stringify(v).slice(0, 200)} → ${JSON.stringify(a).slice(0, 200)}`);
        wellFormed(a, validId ? obj.id : null, `message ${JSON.stringify(v).slice(0, 200)}`);
      }
    }),
    { numRuns: 600, seed: SEED, endOnFailure: true },
  );
  t.diagnostic(`FIGURES ${JSON.stringify({ propertyMessageRuns: runs, closes })}`);
  assert.ok(isAlive(server.pid));
  await conn.close();
  await server.stop();
});
