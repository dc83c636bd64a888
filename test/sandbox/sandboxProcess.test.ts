/**
 * Sandboxed process/start over the wire, with the real codex as the sandbox (its cached
 * native binary via --codex-path): the policy translation (extra roots, /tmp and $TMPDIR only
 * when asked, network), pipes and PTY, read-only + sandboxDenied, terminate leaving no
 * placeholders, the record showing the client's command, and environment/info.
 */
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { ProcessGuard, waitUntil } from '../helpers/procs';
import { RawWs, startParams } from '../helpers/rawWs';
import type { CliServer } from '../helpers/cli';
import { cachedCodex, codexSkip, freshDir, sandboxFor, startServer, uri } from './harness';

const skip = codexSkip();
const guard = new ProcessGuard();
let server: CliServer;
let ws: RawWs;
const dirs: string[] = [];
const dir = (p: string) => {
  const d = freshDir(p);
  dirs.push(d);
  return d;
};

before(async () => {
  if (skip) return;
  server = await startServer(guard, { args: ['--codex-path', cachedCodex()!] });
  ws = await RawWs.open(server.url, { token: server.token });
  await ws.handshake('sandbox-tests');
});
after(async () => {
  await ws?.close();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

let n = 0;
const fresh = (what: string) => `${what}-${++n}`;

/** Starts `script` under /bin/sh in a sandbox; resolves with output, exit and the start result. */
async function run(script: string, sandbox: Record<string, unknown> | null, extra: Record<string, unknown> = {}) {
  const id = fresh('sb');
  const cwd = (extra.cwd as string | undefined) ?? (sandbox ? (sandbox.cwd as string) : '/tmp');
  const r = await ws.call('process/start', startParams(id, ['/bin/sh', '-c', script], { cwd, sandbox, ...extra }));
  assert.ok(r.result, JSON.stringify(r.error));
  guard.trackGroup(r.result.pid);
  await ws.waitClosedNotification(id, 30_000);
  const exited = ws.notifications('process/exited', id)[0];
  return { id, out: ws.output(id), exited: exited.params, start: r.result };
}

test('workspace-write: inside written, outside refused, seccomp on, own pid namespace, sandboxType linuxSeccomp', { skip }, async () => {
  const w = dir('ws-');
  const outside = dir('out-');
  const r = await run(`echo in > in.txt; echo out > ${outside}/out.txt; grep Seccomp: /proc/self/status; echo pid=$$`, sandboxFor({ roots: [w] }));
  assert.equal(r.start.sandboxType, 'linuxSeccomp');
  assert.equal(fs.readFileSync(path.join(w, 'in.txt'), 'utf8'), 'in\n');
  assert.ok(!fs.existsSync(path.join(outside, 'out.txt')));
  assert.match(r.out, /Read-only file system/);
  assert.match(r.out, /Seccomp:\s*2/);
  assert.ok(Number(/pid=(\d+)/.exec(r.out)?.[1]) < 10, r.out);
  // The exit status passes through the helper unchanged (the last command succeeded).
  assert.equal(r.exited.exitCode, 0);
  assert.equal(r.exited.sandboxDenied, false);
});

test('exit codes pass through the helper', { skip }, async () => {
  const w = dir('ws-');
  const r = await run('exit 7', sandboxFor({ roots: [w] }));
  assert.equal(r.exited.exitCode, 7);
  assert.equal(r.exited.sandboxDenied, false, 'exit 7 without a denial word is not a denial');
});

test('extra workspace roots are all writable; a directory outside them is not', { skip }, async () => {
  const a = dir('root-a-');
  const b = dir('root-b-');
  const c = dir('not-a-root-');
  await run(`echo a > ${a}/f; echo b > ${b}/f; echo c > ${c}/f`, sandboxFor({ roots: [a, b] }));
  assert.ok(fs.existsSync(path.join(a, 'f')));
  assert.ok(fs.existsSync(path.join(b, 'f')), 'the second root was not writable');
  assert.ok(!fs.existsSync(path.join(c, 'f')));
});

test('slash_tmp and tmpdir: writable only when the entries are there', { skip }, async () => {
  const w = dir('ws-');
  const tmpdir = dir('tmpdir-');
  const mark = `exec-server-sb-${process.pid}-${Date.now()}`;
  const script = `echo x > /tmp/${mark}; echo y > "$TMPDIR/${mark}"; true`;
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', TMPDIR: tmpdir };
  try {
    await run(script, sandboxFor({ roots: [w], slashTmp: false, tmpdir: false }), { env });
    assert.ok(!fs.existsSync(`/tmp/${mark}`), '/tmp was writable without slash_tmp');
    assert.ok(!fs.existsSync(path.join(tmpdir, mark)), '$TMPDIR was writable without tmpdir');
    await run(script, sandboxFor({ roots: [w], slashTmp: true, tmpdir: true }), { env });
    assert.ok(fs.existsSync(`/tmp/${mark}`), '/tmp was not writable with slash_tmp');
    assert.ok(fs.existsSync(path.join(tmpdir, mark)), '$TMPDIR was not writable with tmpdir');
  } finally {
    fs.rmSync(`/tmp/${mark}`, { force: true });
  }
});

test('network: restricted cannot reach a loopback listener, enabled can', { skip }, async () => {
  const w = dir('ws-');
  let accepted = 0;
  const srv = net.createServer((s) => {
    accepted++;
    s.end();
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  const script = `if (exec 3<>/dev/tcp/127.0.0.1/${port}) 2>/dev/null; then echo connected; else echo refused; fi`;
  try {
    const restricted = await run(`exec /bin/bash -c '${script}'`, sandboxFor({ roots: [w], network: 'restricted' }));
    assert.match(restricted.out, /refused/, restricted.out);
    assert.equal(accepted, 0);
    const enabled = await run(`exec /bin/bash -c '${script}'`, sandboxFor({ roots: [w], network: 'enabled' }));
    assert.match(enabled.out, /connected/, enabled.out);
    assert.equal(accepted, 1);
  } finally {
    srv.close();
  }
});

test('read-only: a write inside fails; sandboxDenied on process/exited and process/read', { skip }, async () => {
  const w = dir('ws-');
  const r = await run('echo x > in.txt', sandboxFor({ roots: [w], readOnly: true }));
  assert.ok(!fs.existsSync(path.join(w, 'in.txt')));
  assert.match(r.out, /Read-only file system/);
  assert.notEqual(r.exited.exitCode, 0);
  assert.equal(r.exited.sandboxDenied, true);
  const read = await ws.result('process/read', { processId: r.id });
  assert.equal(read.sandboxDenied, true);
});

test('the same failure unsandboxed is not a sandbox denial', { skip }, async () => {
  const r = await run('echo "Permission denied" >&2; exit 1', null);
  assert.equal(r.start.sandboxType, 'none');
  assert.equal(r.exited.sandboxDenied, false);
});

test('PTY: a tty command runs sandboxed', { skip }, async () => {
  const w = dir('ws-');
  const r = await run('test -t 0 && echo tty-yes; grep Seccomp: /proc/self/status; echo x > /etc/sb-nope', sandboxFor({ roots: [w] }), { tty: true });
  assert.equal(r.start.sandboxType, 'linuxSeccomp');
  assert.match(r.out, /tty-yes/);
  assert.match(r.out, /Seccomp:\s*2/);
  assert.match(r.out, /Read-only file system/);
});

test('process/list shows the client\'s command, not the helper', { skip }, async () => {
  const w = dir('ws-');
  const r = await run('true', sandboxFor({ roots: [w] }));
  const list = await ws.result('process/list', {});
  const rec = list.processes.find((p: { processId: string }) => p.processId === r.id);
  assert.deepEqual(rec.argv, ['/bin/sh', '-c', 'true']);
});

test('terminate during a sandboxed command: SIGTERM first, and no placeholders are left', { skip }, async () => {
  const w = dir('ws-');
  const id = fresh('term');
  const r = await ws.call('process/start', startParams(id, ['/bin/sh', '-c', 'echo started; sleep 60'], { cwd: uri(w), sandbox: sandboxFor({ roots: [w] }) }));
  assert.ok(r.result, JSON.stringify(r.error));
  guard.trackGroup(r.result.pid);
  await ws.waitOutput(id, 'started');
  // While it runs, the helper has made the placeholders for the missing protected names.
  await waitUntil(() => fs.existsSync(path.join(w, '.git')), 'the .git placeholder while running');
  assert.deepEqual((await ws.result('process/terminate', { processId: id })), { running: true });
  await ws.waitClosedNotification(id, 20_000);
  const exited = ws.notifications('process/exited', id)[0].params;
  // The helper passes the SIGTERM on and exits by it (not SIGKILL after the grace).
  assert.equal(exited.signal, 'SIGTERM', JSON.stringify(exited));
  const left = fs.readdirSync(w).filter((f) => ['.git', '.agents', '.codex', '.aws'].includes(f));
  assert.deepEqual(left, [], 'placeholders left behind');
});

test('environment/info reports the sandbox status once probed', { skip }, async () => {
  const info = await ws.result('environment/info', {});
  assert.equal(info.sandbox.state, 'available');
  assert.equal(info.sandbox.sandboxType, 'linuxSeccomp');
  assert.equal(info.sandbox.mode, 'helper');
  assert.equal(info.sandbox.codexPath, fs.realpathSync(cachedCodex()!));
  assert.match(info.sandbox.codexVersion, /^\d+\.\d+\.\d+/);
  assert.match(server.stderr(), /sandbox: enforced \(linuxSeccomp\) with codex \S+ at .* via codex-linux-sandbox/);
});

test('the private helper directory is 0700, holds the symlink, and is gone after shutdown', { skip }, async () => {
  // The server makes it in os.tmpdir(): a TMPDIR of its own tells its directory from others'.
  const tmp = dir('tmpdir-');
  const s2 = await startServer(guard, { args: ['--codex-path', cachedCodex()!], env: { ...process.env, TMPDIR: tmp } });
  const c = await RawWs.open(s2.url, { token: s2.token });
  await c.handshake('dir-check');
  const w = dir('ws-');
  const r = await c.call('process/start', startParams('p1', ['/bin/sh', '-c', 'true'], { cwd: uri(w), sandbox: sandboxFor({ roots: [w] }) }));
  assert.ok(r.result, JSON.stringify(r.error));
  guard.trackGroup(r.result.pid);
  await c.waitClosedNotification('p1');
  const mine = fs.readdirSync(tmp).filter((d) => d.startsWith('exec-server-sandbox-'));
  assert.equal(mine.length, 1, `helper directories: ${mine.join(', ')}`);
  const d = path.join(tmp, mine[0]!);
  assert.equal(fs.statSync(d).mode & 0o777, 0o700);
  assert.ok(fs.lstatSync(path.join(d, 'codex-linux-sandbox')).isSymbolicLink());
  assert.equal(fs.realpathSync(path.join(d, 'codex-linux-sandbox')), fs.realpathSync(cachedCodex()!));
  // The probe's scratch directories are gone already.
  assert.deepEqual(fs.readdirSync(d), ['codex-linux-sandbox']);
  await c.close();
  await s2.stop();
  assert.equal(fs.existsSync(d), false, 'the stopped server left its helper directory');
});

test('fallback: a codex wrapper script whose binary cannot be found runs commands through `codex sandbox`', { skip }, async () => {
  // A shell wrapper (not npm's layout): the helper cannot be made from it, `codex sandbox` can.
  const wrapDir = dir('wrapper-');
  const wrapper = path.join(wrapDir, 'codex');
  fs.writeFileSync(wrapper, `#!/bin/sh\nexec '${cachedCodex()}' "$@"\n`, { mode: 0o755 });
  const s2 = await startServer(guard, { args: ['--codex-path', wrapper] });
  const c = await RawWs.open(s2.url, { token: s2.token });
  await c.handshake('fallback');
  const w = dir('ws-');
  const outside = dir('out-');
  const r = await c.call(
    'process/start',
    startParams('f1', ['/bin/sh', '-c', `echo in > in.txt; echo out > ${outside}/out.txt; grep Seccomp: /proc/self/status`], { cwd: uri(w), sandbox: sandboxFor({ roots: [w] }) }),
  );
  assert.ok(r.result, JSON.stringify(r.error));
  guard.trackGroup(r.result.pid);
  assert.equal(r.result.sandboxType, 'linuxSeccomp');
  await c.waitClosedNotification('f1', 30_000);
  const out = c.output('f1');
  const info = await c.result('environment/info', {});
  await c.close();
  await s2.stop();
  assert.equal(info.sandbox.mode, 'sandboxCommand');
  assert.equal(info.sandbox.codexPath, wrapper);
  assert.ok(fs.existsSync(path.join(w, 'in.txt')), out);
  assert.ok(!fs.existsSync(path.join(outside, 'out.txt')), out);
  assert.match(out, /Read-only file system/);
  assert.match(out, /Seccomp:\s*2/);
});
