/**
 * Protocol details of upstream codex 0.171: `error.data.kind` on failed starts, every param
 * validated before the process id is looked up (-32602, not -32600 "unknown process id"),
 * fs/copy copies a symlink as a link, http/request refused with a clear -32601; and the
 * terminals' CODEX_EXEC_SERVER_URL built from the server's own URL (IPv6, localhost).
 */
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { codexExecServerUrl } from '../../src/extension/terminalEnv';
import { startWsCli, type CliServer } from '../helpers/cli';
import { ProcessGuard } from '../helpers/procs';
import { RawWs, startParams } from '../helpers/rawWs';

const guard = new ProcessGuard();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'exec-protocol171-'));
let server: CliServer;
let ws: RawWs;

before(async () => {
  server = await startWsCli(guard);
  ws = await RawWs.open(server.url, { token: server.token });
  await ws.handshake('protocol171-tests');
});
after(async () => {
  await ws.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

let n = 0;
const fresh = () => `p-${++n}`;

test('failed starts carry error.data.kind: spawnNotFound, spawnPermissionDenied, spawnFailed (pipes and PTY)', async () => {
  const notExecutable = path.join(tmp, 'not-executable');
  fs.writeFileSync(notExecutable, '#!/bin/sh\necho hi\n', { mode: 0o644 });
  const noFormat = path.join(tmp, 'no-format');
  fs.writeFileSync(noFormat, 'echo hi\n', { mode: 0o755 });
  const badInterp = path.join(tmp, 'bad-interpreter');
  fs.writeFileSync(badInterp, '#!/nonexistent/interpreter\n', { mode: 0o755 });
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['missing program', { argv: ['no-such-program-xyz'] }, 'spawnNotFound'],
    ['missing path', { argv: [path.join(tmp, 'missing')] }, 'spawnNotFound'],
    ['missing cwd', { argv: ['true'], cwd: path.join(tmp, 'no-such-dir') }, 'spawnNotFound'],
    ['missing #! interpreter', { argv: [badInterp] }, 'spawnNotFound'],
    ['not executable', { argv: [notExecutable] }, 'spawnPermissionDenied'],
    ['a directory', { argv: [tmp] }, 'spawnPermissionDenied'],
    ['no exec format', { argv: [noFormat] }, 'spawnFailed'],
    ['cwd is a file', { argv: ['true'], cwd: noFormat }, 'spawnFailed'],
  ];
  for (const tty of [false, true]) {
    for (const [what, extra, kind] of cases) {
      const r = await ws.call('process/start', startParams(fresh(), ['true'], { tty, ...extra }));
      assert.ok(r.error, `${what} (tty:${tty}) should fail, got ${JSON.stringify(r.result)}`);
      assert.equal(r.error.code, -32603, what);
      assert.deepEqual(r.error.data, { kind }, `${what} (tty:${tty}): ${r.error.message}`);
    }
  }
  // Refusals that are not spawn failures carry no kind.
  const dup = fresh();
  const ok = await ws.result('process/start', startParams(dup, ['true']));
  guard.trackGroup(ok.pid);
  const again = await ws.call('process/start', startParams(dup, ['true']));
  assert.equal(again.error.code, -32600);
  assert.equal(again.error.data, undefined);
  await ws.waitClosedNotification(dup);
});

test('wrong-typed params for an unknown process id → -32602 naming the field, not "unknown process id"', async () => {
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['process/read', { processId: 'nope', afterSeq: 'x' }, /afterSeq/],
    ['process/read', { processId: 'nope', waitMs: -1 }, /waitMs/],
    ['process/read', { processId: 'nope', maxBytes: true }, /maxBytes/],
    ['process/write', { processId: 'nope', chunk: 5 }, /chunk/],
    ['process/write', { processId: 'nope', chunk: 'aGk=', writeId: 1 }, /writeId/],
    ['process/signal', { processId: 'nope', signal: 'bogus' }, /signal/],
    ['process/resize', { processId: 'nope', cols: 'x', rows: 24 }, /cols/],
    ['process/resize', { processId: 'nope', cols: 0, rows: 24 }, /cols/],
    ['process/closeStdin', { processId: 7 }, /processId/],
    ['process/terminate', { processId: null }, /processId/],
  ];
  for (const [method, params, field] of cases) {
    const r = await ws.call(method, params);
    assert.equal(r.error?.code, -32602, `${method} ${JSON.stringify(params)}: ${JSON.stringify(r)}`);
    assert.match(r.error.message, field);
  }
  // Valid params for an unknown id: still the unknown-process answer.
  for (const [method, params] of [
    ['process/read', { processId: 'nope' }],
    ['process/resize', { processId: 'nope', cols: 80, rows: 24 }],
    ['process/closeStdin', { processId: 'nope' }],
  ] as const) {
    const r = await ws.call(method, params);
    assert.equal(r.error?.code, -32600, method);
    assert.match(r.error.message, /unknown process id/);
  }
});

test('fs/copy copies a symlink as a link (same target text), dangling ones too, replacing a file in the way', async () => {
  const target = path.join(tmp, 'target.txt');
  fs.writeFileSync(target, 'target');
  const link = path.join(tmp, 'link');
  fs.symlinkSync('target.txt', link);
  const dangling = path.join(tmp, 'dangling');
  fs.symlinkSync('nowhere', dangling);
  for (const [src, text] of [[link, 'target.txt'], [dangling, 'nowhere']]) {
    const dest = `${src}-copy`;
    fs.writeFileSync(dest, 'in the way');
    const r = await ws.call('fs/copy', { sourcePath: src, destinationPath: dest, recursive: false });
    assert.deepEqual(r.result, {}, JSON.stringify(r.error));
    assert.equal(fs.lstatSync(dest).isSymbolicLink(), true, `${dest} is a link`);
    assert.equal(fs.readlinkSync(dest), text);
  }
  assert.equal(fs.readFileSync(target, 'utf8'), 'target');
});

test('http/request is refused with -32601 and a message that says why', async () => {
  const r = await ws.call('http/request', { method: 'GET', url: 'http://127.0.0.1:1/' });
  assert.equal(r.error?.code, -32601);
  assert.match(r.error.message, /http\/request is not supported by this exec server/);
});

test("the terminals' CODEX_EXEC_SERVER_URL is built from the server's URL: IPv4, IPv6, localhost", () => {
  assert.equal(codexExecServerUrl('ws://127.0.0.1:4000', 'a/b c'), 'ws://127.0.0.1:4000/?token=a%2Fb%20c');
  assert.equal(codexExecServerUrl('ws://[::1]:4000', 'tok'), 'ws://[::1]:4000/?token=tok');
  assert.equal(codexExecServerUrl('ws://localhost:4000', 'tok'), 'ws://localhost:4000/?token=tok');
});
