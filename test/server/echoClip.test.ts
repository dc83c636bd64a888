/**
 * -32602 messages echo rejected client values, which can be megabytes: an echo is clipped to
 * 80 characters, an ellipsis and the original length, and still names the field.
 */
import { before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { clip, MAX_ECHO_CHARS, Params } from '../../src/protocol/validate';
import { startWsCli, type CliServer } from '../helpers/cli';
import { ProcessGuard } from '../helpers/procs';
import { RawWs, startParams } from '../helpers/rawWs';

const guard = new ProcessGuard();
let server: CliServer;
let ws: RawWs;
const BIG = 2 * 1024 * 1024;

before(async () => {
  server = await startWsCli(guard);
  ws = await RawWs.open(server.url, { token: server.token });
  await ws.handshake('echo-clip');
});

test('clip: short values unchanged; long ones cut at 80 with … and the length; never half a surrogate pair', () => {
  assert.equal(MAX_ECHO_CHARS, 80);
  assert.equal(clip('x'.repeat(80)), 'x'.repeat(80));
  assert.equal(clip('x'.repeat(81)), `${'x'.repeat(80)}… (81 chars)`);
  const emoji = 'a'.repeat(79) + '😀'.repeat(10); // the 80th code unit is a high surrogate
  const c = clip(emoji);
  assert.equal(c, `${'a'.repeat(79)}… (${emoji.length} chars)`);
  assert.equal(Buffer.from(c, 'utf8').toString('utf8'), c, 'round-trips through UTF-8');
});

test('Params: wrong-type strings, unknown variants and map keys are clipped', () => {
  const long = 'v'.repeat(5000);
  assert.throws(() => Params.of({ argv: long }, 'X').stringArray('argv'), {
    message: `invalid type for \`argv\`: string "${'v'.repeat(80)}…" (5000 chars), expected a sequence of strings`,
  });
  assert.throws(() => Params.of({ signal: long }, 'X').oneOf('signal', ['kill']), {
    message: `unknown variant \`${'v'.repeat(80)}… (5000 chars)\` for \`signal\`, expected one of \`kill\``,
  });
  assert.throws(() => Params.of({ env: { [long]: 1 } }, 'X').stringMap('env'), {
    message: `invalid type for \`env.${'v'.repeat(80)}… (5000 chars)\`: integer \`1\`, expected a string`,
  });
  // Short values are echoed whole, as before.
  assert.throws(() => Params.of({ tty: 'yes' }, 'X').bool('tty'), { message: 'invalid type for `tty`: string "yes", expected a boolean' });
});

test('over the wire: 2 MiB rejected values come back as short errors that name the field', async () => {
  const big = 'z'.repeat(BIG);
  const cases: Array<[string, unknown, RegExp]> = [
    ['process/start', startParams('a', big as unknown as string[]), /^invalid type for `argv`: string "z{80}…" \(2097152 chars\)/],
    ['process/start', startParams('b', ['true'], { tty: big }), /^invalid type for `tty`: string "z{80}…" \(2097152 chars\)/],
    ['process/start', startParams('c', ['true'], { env: { [big]: 5 } }), /^invalid type for `env\.z{80}… \(2097152 chars\)`: integer `5`/],
    ['process/signal', { processId: 'x', signal: big }, /^unknown variant `z{80}… \(2097152 chars\)` for `signal`/],
  ];
  for (const [method, params, expected] of cases) {
    const r = await ws.call(method, params);
    assert.equal(r.error?.code, -32602, JSON.stringify(r).slice(0, 300));
    assert.match(r.error.message, expected);
    assert.ok(r.error.message.length < 200, `${method}: a ${r.error.message.length}-char message`);
  }
  assert.deepEqual((await ws.result('process/list', {})).processes, []);
});

test('over the wire: long method names, process ids, session ids and paths are clipped too', async () => {
  const long = 'q'.repeat(5000);
  const cases: Array<[string, unknown, number, RegExp]> = [
    [long, {}, -32601, /^method not found: `q{80}… \(5000 chars\)`$/],
    ['process/write', { processId: long, chunk: '' }, -32600, /^unknown process id q{80}… \(5000 chars\)$/],
    ['process/start', startParams('d', ['true'], { cwd: long }), -32602, /^`cwd` must be an absolute path or a file:\/\/ URI, got "q{80}… \(5000 chars\)"$/],
  ];
  for (const [method, params, code, expected] of cases) {
    const r = await ws.call(method, params);
    assert.equal(r.error?.code, code, JSON.stringify(r).slice(0, 300));
    assert.match(r.error.message, expected);
  }
  const fresh = await RawWs.open(server.url, { token: server.token });
  const r = await fresh.call('initialize', { clientName: 'c', resumeSessionId: long });
  assert.match(r.error?.message ?? '', /^unknown session id q{80}… \(5000 chars\)$/);
  await fresh.close();
  await ws.close();
});
