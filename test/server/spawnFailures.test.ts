/**
 * Spawn failures that the pre-spawn checks cannot catch, each produced for real: a cwd that
 * vanishes between the check and the spawn, a cwd removed under a running process, a cwd
 * that cannot be entered, a missing #! interpreter, the open-file limit (EMFILE, via
 * `prlimit --pid`) and the process limit (EAGAIN, server run as `nobody` under RLIMIT_NPROC).
 * Every failure must be a JSON-RPC error that names the cause, and the server keeps serving.
 */
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startWsCli, type CliServer } from '../helpers/cli';
import { assertGone, isAlive, ProcessGuard, sleep, waitUntil } from '../helpers/procs';
import { b64, RawWs, startParams } from '../helpers/rawWs';
import { cannotRunAsNobody, have, NOBODY_UID, openFds, setLimit, startServerAsNobody, tasksOfUid } from './limits';

const guard = new ProcessGuard();
let server: CliServer;
let ws: RawWs;
let tmp: string;
let n = 0;
const id = (what: string) => `${what}-${++n}`;

before(async () => {
  server = await startWsCli(guard);
  ws = await RawWs.open(server.url, { token: server.token });
  await ws.handshake('spawn-failures');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'spawn-failures-'));
  fs.chmodSync(tmp, 0o755); // the `nobody` server must reach the directories below
});
after(async () => {
  await ws.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function start(c: RawWs, params: Record<string, unknown>) {
  const r = await c.call('process/start', params);
  if (r.result) guard.trackGroup(r.result.pid);
  return r;
}

/** The server still starts processes and delivers their output. */
async function assertServes(c: RawWs) {
  const pid = id('ok');
  assert.ok((await start(c, startParams(pid, ['echo', 'serving']))).result);
  await c.waitClosedNotification(pid);
  assert.equal(c.output(pid), 'serving\n');
}

test('a cwd deleted before process/start → -32603 naming the cwd (pipes and PTY); the server keeps serving', async () => {
  for (const tty of [false, true]) {
    const cwd = fs.mkdtempSync(path.join(tmp, 'gone-'));
    fs.rmdirSync(cwd);
    const r = await start(ws, startParams(id('gone'), ['true'], { cwd, tty }));
    assert.equal(r.error?.code, -32603, JSON.stringify(r));
    assert.ok(r.error.message.includes(`cwd \`${cwd}\` does not exist`), r.error.message);
  }
  await assertServes(ws);
});

/**
 * Creates and removes a directory until a stop file appears (60 s at most), keeping it for a
 * random 0–1 ms each time: about as long as the window between the server's check and the
 * child's chdir, so a fair share of starts pass the check and then lose the directory.
 */
const FLICKER = `
const fs = require('fs'), [dir, stop] = process.argv.slice(1), end = Date.now() + 60000;
const spin = (ns) => { const t = process.hrtime.bigint() + BigInt(ns); while (process.hrtime.bigint() < t); };
for (let i = 0; Date.now() < end; i++) {
  try { fs.mkdirSync(dir); } catch {}
  spin(Math.floor(Math.random() * 1e6));
  try { fs.rmdirSync(dir); } catch {}
  spin(Math.floor(Math.random() * 2e5));
  if (i % 100 === 0 && fs.existsSync(stop)) break;
}`;

test('a cwd that vanishes between the check and the spawn: every failure names the cwd', async (t) => {
  // A separate process creates and removes the directory as fast as it can, so some starts
  // pass the check and then fail in the child's chdir (the race window is microseconds).
  const cwd = path.join(tmp, 'flicker');
  const stopFile = path.join(tmp, 'flicker.stop');
  const flicker = spawn(
    process.execPath,
    ['-e', FLICKER, cwd, stopFile],
    { stdio: 'ignore' },
  );
  guard.track(flicker.pid!);
  const flickerExit = new Promise((r) => flicker.once('exit', r));
  const counts = { started: 0, checkRefused: 0, spawnRefused: 0 };
  try {
    await waitUntil(() => fs.existsSync(cwd), 'the flicker process to run');
    for (let i = 0; i < 3000 && counts.spawnRefused < 5; i++) {
      const r = await start(ws, startParams(id('race'), ['true'], { cwd }));
      if (r.result) {
        counts.started++;
        continue;
      }
      assert.equal(r.error.code, -32603, JSON.stringify(r));
      assert.ok(r.error.message.includes(`cwd \`${cwd}\``), `the error names the cwd: ${r.error.message}`);
      if (/was removed before/.test(r.error.message)) counts.spawnRefused++;
      else counts.checkRefused++;
    }
  } finally {
    fs.writeFileSync(stopFile, '');
    await flickerExit;
  }
  console.log(`# FIGURES ${JSON.stringify({ cwdRace: counts })}`);
  await assertServes(ws);
  // The race is real, so it cannot be forced: say so rather than pass on the pre-check alone.
  if (counts.spawnRefused === 0) t.skip('the directory never vanished inside the check→spawn window here');
});

test('a cwd removed while a process runs in it: the process keeps running and its output arrives (pipes and PTY)', async () => {
  for (const tty of [false, true]) {
    const cwd = fs.mkdtempSync(path.join(tmp, 'running-'));
    const pid = id('in-removed');
    // It waits for a last line before exiting, so the check does not depend on what a PTY
    // does with output still unread at exit (see test/reliability/ptyExitOutput.test.ts).
    const script = 'echo ready; read go; echo "after removal: $go"; i=0; while [ $i -lt 500 ]; do echo "line $i"; i=$((i+1)); done; echo END; read done';
    const r = await start(ws, startParams(pid, ['sh', '-c', script], { cwd, tty, pipeStdin: true }));
    assert.ok(r.result, JSON.stringify(r));
    // Only once it runs: a PTY child enters its cwd after process/start has answered.
    await ws.waitOutput(pid, 'ready');
    fs.rmSync(cwd, { recursive: true });
    assert.ok(isAlive(r.result.pid));
    assert.equal((await ws.result('process/write', { processId: pid, chunk: b64('yes\n') })).accepted, true);
    await ws.waitOutput(pid, 'END');
    const out = ws.output(pid).replace(/\r\n/g, '\n');
    const lines = Array.from({ length: 500 }, (_, i) => `line ${i}\n`).join('');
    assert.ok(out.includes(`after removal: yes\n${lines}END\n`), out.slice(-200));
    assert.equal((await ws.result('process/write', { processId: pid, chunk: b64('x\n') })).accepted, true);
    await ws.waitClosedNotification(pid);
    assert.equal(ws.notifications('process/exited', pid)[0].params.exitCode, 0);
  }
});

test('a script whose #! interpreter does not exist → an error naming the interpreter', async () => {
  const script = path.join(tmp, 'bad-interp.sh');
  fs.writeFileSync(script, '#!/nonexistent/interpreter -x\necho never\n', { mode: 0o755 });
  const r = await start(ws, startParams(id('interp'), [script]));
  assert.equal(r.error?.code, -32603, JSON.stringify(r));
  assert.match(r.error.message, /^No such file or directory \(os error 2\): .*interpreter `\/nonexistent\/interpreter`/);
});

test('EMFILE: at the open-file limit starts fail with a precise error, pipes and PTY; after terminating, starts work again', { skip: !have('prlimit') && 'prlimit (util-linux) is not installed' }, async () => {
  const s = await startWsCli(guard);
  const c = await RawWs.open(s.url, { token: s.token });
  await c.handshake('emfile');
  await assertServes(c); // the watchdog and its pipe exist before the limit is measured
  const limit = openFds(s.pid) + 12;
  setLimit(s.pid, 'nofile', limit);
  const running: string[] = [];
  let failure: { code: number; message: string } | undefined;
  for (let i = 0; i < 200 && !failure; i++) {
    const pid = id('fd');
    const r = await start(c, startParams(pid, ['sleep', '300']));
    if (r.result) running.push(pid);
    else failure = r.error;
  }
  assert.ok(failure, 'a start failed before 200 processes');
  assert.equal(failure.code, -32603);
  assert.match(failure.message, /^Too many open files \(os error 24\): cannot start `sleep`: the exec server has reached its open-file limit/);
  assert.match(failure.message, new RegExp(`RLIMIT_NOFILE = ${limit}`));
  // A PTY needs fewer descriptors than three pipes: it may still fit a few times.
  let ptyFailure: { code: number; message: string } | undefined;
  for (let i = 0; i < 50 && !ptyFailure; i++) {
    const pid = id('fd-pty');
    const r = await start(c, startParams(pid, ['sleep', '300'], { tty: true }));
    if (r.result) running.push(pid);
    else ptyFailure = r.error;
  }
  assert.equal(ptyFailure?.code, -32603, JSON.stringify(ptyFailure));
  assert.match(ptyFailure.message, /^Too many open files \(os error 24\): cannot start `sleep` in a PTY/);
  console.log(`# FIGURES ${JSON.stringify({ emfile: { limit, runningAtFailure: running.length, message: failure.message, ptyMessage: ptyFailure.message } })}`);

  // Still serving on the open connection; free the descriptors and start again.
  const list = await c.result('process/list', {});
  assert.equal(list.processes.filter((p: { state: string }) => p.state === 'running').length, running.length);
  for (const pid of running) await c.result('process/terminate', { processId: pid });
  for (const pid of running) await c.waitClosedNotification(pid);
  await assertServes(c);
  const again = id('pty-again');
  assert.ok((await start(c, startParams(again, ['echo', 'pty again'], { tty: true }))).result);
  await c.waitClosedNotification(again);
  assert.match(c.output(again), /pty again/);
  await c.close();
  await s.stop();
});

test('EAGAIN: at the process limit (server as nobody under RLIMIT_NPROC) starts fail with a precise error; after terminating, starts work again', { skip: cannotRunAsNobody() }, async () => {
  const s = await startServerAsNobody(guard);
  const c = await RawWs.open(s.url, { token: s.token });
  await c.handshake('eagain');
  // Warm up what would create threads or processes later: the watchdog and libuv's thread pool.
  await assertServes(c);
  await c.result('fs/readFile', { path: '/etc/hostname' }).catch(() => undefined);

  // A cwd nobody may stat but not enter: the check passes, the child's chdir fails.
  const locked = fs.mkdtempSync(path.join(tmp, 'locked-'));
  fs.chmodSync(locked, 0o644);
  const denied = await start(c, startParams(id('locked'), ['true'], { cwd: locked }));
  assert.equal(denied.error?.code, -32603, JSON.stringify(denied));
  assert.equal(denied.error.message, `Permission denied (os error 13): cannot start \`true\`: cwd \`${locked}\` cannot be entered (no search permission)`);

  // Threads appear for a moment after start-up (the watchdog's Node): count once it is steady.
  let tasks = -1;
  let steady = 0;
  for (let i = 0; i < 100 && steady < 5; i++) {
    const now = tasksOfUid(NOBODY_UID);
    steady = now === tasks ? steady + 1 : 0;
    tasks = now;
    await sleep(50);
  }
  const limit = tasks + 3;
  setLimit(s.pid, 'nproc', limit, true);
  const running: Array<{ id: string; pid: number }> = [];
  let failure: { code: number; message: string } | undefined;
  for (let i = 0; i < 50 && !failure; i++) {
    const pid = id('nproc');
    const r = await start(c, startParams(pid, ['sleep', '300']));
    if (r.result) running.push({ id: pid, pid: r.result.pid });
    else failure = r.error;
  }
  assert.ok(failure, 'a start failed before 50 processes');
  assert.equal(failure.code, -32603);
  assert.match(failure.message, /^Resource temporarily unavailable \(os error 11\): cannot start `sleep`: fork failed, the process limit is reached/);
  assert.match(failure.message, new RegExp(`RLIMIT_NPROC = ${limit}`));
  console.log(`# FIGURES ${JSON.stringify({ eagain: { limit, runningAtFailure: running.length, message: failure.message } })}`);

  for (const p of running) await c.result('process/terminate', { processId: p.id });
  for (const p of running) await assertGone(p.pid);
  await assertServes(c);
  await c.close();
});
