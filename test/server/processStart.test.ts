/**
 * process/start: every param and spawn error (each registers nothing), file:// cwd, env given
 * exactly, arg0 for pipes and PTYs. Raw frames against the built CLI.
 */
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { startWsCli, type CliServer } from '../helpers/cli';
import { assertGone, ProcessGuard } from '../helpers/procs';
import { RawWs, startParams } from '../helpers/rawWs';

const guard = new ProcessGuard();
let server: CliServer;
let ws: RawWs;
let tmp: string;

before(async () => {
  server = await startWsCli(guard);
  ws = await RawWs.open(server.url, { token: server.token });
  await ws.handshake('start-tests');
  tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'start test ')));
});
after(async () => {
  await ws.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** Starts, records the pid with the guard, and resolves with the start result. */
async function start(params: Record<string, unknown>) {
  const r = await ws.call('process/start', params);
  if (r.result) guard.trackGroup(r.result.pid);
  return r;
}

/** Runs to `closed` and returns the decoded output and the exit code. */
async function run(params: Record<string, unknown>): Promise<{ out: string; exitCode: number }> {
  const id = params.processId as string;
  const r = await start(params);
  assert.ok(r.result, JSON.stringify(r.error));
  await ws.waitClosedNotification(id);
  const exited = ws.notifications('process/exited', id)[0];
  return { out: ws.output(id), exitCode: exited.params.exitCode };
}

/** The failed start registered nothing: unknown to read/list, and the id is free for a real start. */
async function assertNotRegistered(processId: string) {
  const read = await ws.call('process/read', { processId });
  assert.equal(read.error?.code, -32600, JSON.stringify(read));
  assert.match(read.error.message, /unknown process id/);
  const list = await ws.result('process/list', {});
  assert.equal(list.processes.some((p: { processId: string }) => p.processId === processId), false);
  const w = await ws.result('process/write', { processId, chunk: '', writeId: 'probe' });
  assert.equal(w.status, 'unknownProcess');
}

let n = 0;
const fresh = (what: string) => `${what}-${++n}`;

const paramErrors: Array<[string, (id: string) => Record<string, unknown>, number, RegExp | string]> = [
  ['missing processId', (id) => { const p = startParams(id, ['true']); delete p.processId; return p; }, -32602, 'missing field `processId`'],
  ['missing argv', (id) => { const p = startParams(id, ['true']); delete p.argv; return p; }, -32602, 'missing field `argv`'],
  ['missing cwd', (id) => { const p = startParams(id, ['true']); delete p.cwd; return p; }, -32602, 'missing field `cwd`'],
  ['missing env', (id) => { const p = startParams(id, ['true']); delete p.env; return p; }, -32602, 'missing field `env`'],
  ['missing tty', (id) => { const p = startParams(id, ['true']); delete p.tty; return p; }, -32602, 'missing field `tty`'],
  ['argv as a string', (id) => startParams(id, 'ls' as unknown as string[]), -32602, /argv.*string "ls"/],
  ['argv with a number', (id) => startParams(id, ['ls', 5 as unknown as string]), -32602, /argv\[1\]/],
  ['processId a number', (id) => ({ ...startParams(id, ['true']), processId: 5 }), -32602, /processId/],
  ['cwd a number', (id) => startParams(id, ['true'], { cwd: 7 }), -32602, /cwd/],
  ['env values not strings', (id) => startParams(id, ['true'], { env: { A: 1 } }), -32602, /env\.A/],
  ['env an array', (id) => startParams(id, ['true'], { env: ['A=1'] }), -32602, /env/],
  ['tty a string', (id) => startParams(id, ['true'], { tty: 'yes' }), -32602, /tty/],
  ['pipeStdin a number', (id) => startParams(id, ['true'], { pipeStdin: 1 }), -32602, /pipeStdin/],
  ['arg0 a number', (id) => startParams(id, ['true'], { arg0: 3 }), -32602, /arg0/],
  ['argv empty', (id) => startParams(id, []), -32602, 'argv must not be empty'],
  ['relative cwd', (id) => startParams(id, ['true'], { cwd: 'tmp' }), -32602, /cwd.*absolute/],
  ['empty cwd', (id) => startParams(id, ['true'], { cwd: '' }), -32602, /cwd/],
  ['http:// cwd', (id) => startParams(id, ['true'], { cwd: 'http://example.com/tmp' }), -32602, 'unsupported path URI scheme `http` in `cwd`'],
  ['missing binary', (id) => startParams(id, ['definitely-not-a-program-xyz']), -32603, /No such file or directory/],
  ['missing binary (absolute path)', (id) => startParams(id, ['/nonexistent/bin/xyz']), -32603, /No such file or directory/],
  ['missing binary in a PTY', (id) => startParams(id, ['definitely-not-a-program-xyz'], { tty: true }), -32603, /No such file or directory/],
  ['empty program', (id) => startParams(id, ['']), -32603, /missing program/],
  ['cwd that does not exist', (id) => startParams(id, ['true'], { cwd: '/nonexistent/dir/xyz' }), -32603, /No such file or directory/],
  ['cwd that is a file', (id) => startParams(id, ['true'], { cwd: '/etc/hostname' }), -32603, /Not a directory/],
  ['cwd that does not exist, PTY', (id) => startParams(id, ['true'], { cwd: '/nonexistent/dir/xyz', tty: true }), -32603, /No such file or directory/],
  ['params an array', () => ['x'] as unknown as Record<string, unknown>, -32602, /expected struct/],
  ['a sandbox that cannot be enforced', (id) => startParams(id, ['true'], { sandbox: { permissions: {} } }), -32602, /^sandbox intent cannot be enforced on this executor: /],
];

for (const [what, make, code, message] of paramErrors) {
  test(`process/start ${what} → ${code}, registers nothing`, async () => {
    const id = fresh(what.replace(/\W+/g, '_'));
    const r = await start(make(id));
    assert.ok(r.error, `expected an error, got ${JSON.stringify(r)}`);
    assert.equal(r.error.code, code, JSON.stringify(r.error));
    if (typeof message === 'string') assert.equal(r.error.message, message);
    else assert.match(r.error.message, message);
    await assertNotRegistered(id);
  });
}

test('process/start of a file that is not executable → -32603, registers nothing', async () => {
  const file = path.join(tmp, 'not-executable.sh');
  fs.writeFileSync(file, '#!/bin/sh\necho hi\n', { mode: 0o644 });
  for (const tty of [false, true]) {
    const id = fresh('noexec');
    const r = await start(startParams(id, [file], { tty }));
    assert.equal(r.error?.code, -32603, JSON.stringify(r));
    assert.match(r.error.message, /Permission denied|not executable/);
    await assertNotRegistered(id);
    const viaPath = fresh('noexec-path');
    const r2 = await start(startParams(viaPath, ['not-executable.sh'], { tty, env: { PATH: tmp } }));
    assert.equal(r2.error?.code, -32603, JSON.stringify(r2));
    await assertNotRegistered(viaPath);
  }
  const dirId = fresh('dir');
  const r3 = await start(startParams(dirId, [tmp]));
  assert.equal(r3.error?.code, -32603);
  await assertNotRegistered(dirId);
});

test('duplicate processId → -32600; the first process is untouched, even after it closed', async () => {
  const id = fresh('dup');
  const first = await start(startParams(id, ['sh', '-c', 'read x; echo got:$x'], { pipeStdin: true }));
  assert.ok(first.result);
  const dup = await start(startParams(id, ['echo', 'second']));
  assert.equal(dup.error?.code, -32600);
  assert.equal(dup.error.message, `process ${id} already exists`);
  const dupTty = await start(startParams(id, ['echo', 'second'], { tty: true }));
  assert.equal(dupTty.error?.code, -32600);
  // The original still works.
  assert.equal((await ws.result('process/write', { processId: id, chunk: Buffer.from('one\n').toString('base64') })).status, 'accepted');
  await ws.waitClosedNotification(id);
  assert.equal(ws.output(id), 'got:one\n');
  assert.equal(ws.output(id).includes('second'), false);
  // Still reserved after close (as upstream).
  const again = await start(startParams(id, ['echo', 'third']));
  assert.equal(again.error?.code, -32600);
  await assertGone(first.result.pid);
});

test('concurrent starts with the same processId: exactly one wins', async () => {
  const id = fresh('race');
  const [a, b] = await Promise.all([start(startParams(id, ['sleep', '0.2'])), start(startParams(id, ['sleep', '0.2']))]);
  assert.equal([a, b].filter((r) => r.result).length, 1, JSON.stringify([a, b]));
  assert.equal([a, b].filter((r) => r.error?.code === -32600).length, 1);
  await ws.waitClosedNotification(id);
});

test('file:// cwd (percent-encoded) and native absolute cwd both work; pwd reports it', async () => {
  const uri = pathToFileURL(tmp).href;
  assert.match(uri, /%20/);
  const viaUri = await run(startParams(fresh('cwd-uri'), ['pwd'], { cwd: uri }));
  assert.equal(viaUri.out, tmp + '\n');
  const viaPath = await run(startParams(fresh('cwd-path'), ['pwd'], { cwd: tmp }));
  assert.equal(viaPath.out, tmp + '\n');
  const viaUriPty = await run(startParams(fresh('cwd-uri-pty'), ['pwd'], { cwd: uri, tty: true }));
  assert.equal(viaUriPty.out.trim(), tmp);
});

test('env is given exactly: a child started with env {PATH} sees no other variable', async () => {
  const r = await run(startParams(fresh('env'), ['/usr/bin/env'], { env: { PATH: '/usr/bin:/bin' } }));
  assert.equal(r.out, 'PATH=/usr/bin:/bin\n');
  const two = await run(startParams(fresh('env2'), ['/usr/bin/env'], { env: { PATH: '/usr/bin:/bin', FOO: 'bar baz' } }));
  assert.deepEqual(two.out.trim().split('\n').sort(), ['FOO=bar baz', 'PATH=/usr/bin:/bin']);
  const none = await run(startParams(fresh('env0'), ['/usr/bin/env'], { env: {} }));
  assert.equal(none.out, '');
});

test('arg0 sets argv[0] for pipe and PTY processes; null keeps argv[0]', async () => {
  const script = "tr '\\0' '\\n' < /proc/$$/cmdline | head -n 1";
  for (const tty of [false, true]) {
    const set = await run(startParams(fresh('arg0'), ['/bin/sh', '-c', script], { tty, arg0: 'my-zero' }));
    assert.equal(set.out.trim(), 'my-zero', `tty=${tty}`);
    const unset = await run(startParams(fresh('arg0-null'), ['/bin/sh', '-c', script], { tty, arg0: null }));
    assert.equal(unset.out.trim(), '/bin/sh', `tty=${tty}`);
  }
});

test('start result: processId, sandboxType none, pid', async () => {
  const id = fresh('result');
  const r = await start(startParams(id, ['true']));
  assert.equal(r.result.processId, id);
  assert.equal(r.result.sandboxType, 'none');
  assert.equal(typeof r.result.pid, 'number');
  await ws.waitClosedNotification(id);
});

test('argv[0] as given (not the resolved path) for a pipe process started by bare name', async () => {
  const r = await run(startParams(fresh('argv0-bare'), ['sh', '-c', "tr '\\0' '\\n' < /proc/$$/cmdline | head -n 1"]));
  assert.equal(r.out.trim(), 'sh');
});

test('PTY: argv[0] as given for a program started by bare name', async () => {
  const r = await run(startParams(fresh('argv0-bare-pty'), ['sh', '-c', "tr '\\0' '\\n' < /proc/$$/cmdline | head -n 1"], { tty: true }));
  assert.equal(r.out.trim(), 'sh');
});

// A terminal needs TERM, and node-pty sets PWD to the cwd: those two are the documented
// additions to a PTY child's env (README); nothing else is inherited.
test('PTY: env is given exactly, plus TERM and PWD', async () => {
  const r = await run(startParams(fresh('env-pty'), ['/usr/bin/env'], { tty: true, env: { PATH: '/usr/bin:/bin' } }));
  const vars = r.out.trim().split(/\r?\n/).sort();
  assert.deepEqual(vars, ['PATH=/usr/bin:/bin', 'PWD=/tmp', 'TERM=xterm-256color'].sort());
});
