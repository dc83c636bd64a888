/**
 * Orphan-proofing (issue 6 §2): when the process hosting an ExecServer dies, however it dies,
 * the watchdog kills every managed process group. Verified by scanning /proc.
 * Needs `npx tsc -p tsconfig.test.json` (the watchdog entry runs from out/src/cli/watchdog.js).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ExecServer } from '../../src/server/execServer';
import { defaultWatchdogScript } from '../../src/server/process/groupWatchdog';
import { ExecClient } from '../../src/client/client';
import { allStats, groupMembers, isAlive, ProcessGuard, waitGone, waitGroupGone, waitUntil } from '../helpers/procs';

const guard = new ProcessGuard();
const OUT = path.resolve(__dirname, '..', '..'); // out/
const WATCHDOG = path.join(OUT, 'src', 'cli', 'watchdog.js');
/** Prints the grandchild's pid, then the leader becomes `sleep 1000`: a group of two. */
const GROUP_CMD = ['/bin/sh', '-c', 'sleep 1000 & echo $!; exec sleep 1000'];

function lines(stream: NodeJS.ReadableStream): AsyncIterable<string> {
  return (async function* () {
    let buf = '';
    for await (const d of stream) {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        yield buf.slice(0, nl);
        buf = buf.slice(nl + 1);
      }
    }
  })();
}

async function firstLine(stream: NodeJS.ReadableStream): Promise<string> {
  for await (const l of lines(stream)) return l;
  throw new Error('stream ended without a line');
}

/** A detached `sh` group with a grandchild, started directly (no server): {leader, grandchild}. */
async function startGroup(): Promise<{ leader: number; grandchild: number; proc: ChildProcess }> {
  const proc = spawn(GROUP_CMD[0], GROUP_CMD.slice(1), { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
  const leader = guard.trackGroup(proc.pid!);
  guard.onCleanup(() => {
    try {
      process.kill(-leader, 'SIGKILL');
    } catch {
      /* gone */
    }
  });
  const grandchild = guard.track(Number(await firstLine(proc.stdout!)));
  proc.stdout!.destroy();
  return { leader, grandchild, proc };
}

function watchdogsOf(serverPid: number): number[] {
  return allStats()
    .filter((s) => s.ppid === serverPid && s.state !== 'Z')
    .filter((s) => {
      try {
        return fs.readFileSync(`/proc/${s.pid}/cmdline`, 'utf8').includes('watchdog.js');
      } catch {
        return false;
      }
    })
    .map((s) => s.pid);
}

test('the watchdog entry is found next to the compiled server (out/) and the bundles (dist/)', () => {
  assert.equal(defaultWatchdogScript(), WATCHDOG);
  const dist = path.resolve(OUT, '..', 'dist', 'watchdog.js');
  assert.ok(fs.existsSync(dist), `${dist} is missing: run npm run build`);
});

test('watchdog process: pipe closed → registered groups (grandchildren too) are killed; forgotten groups are not', async () => {
  const kept = await startGroup();
  const forgotten = await startGroup();
  const wd = spawn(process.execPath, [WATCHDOG, String(process.pid), '200'], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
  guard.track(wd.pid!);
  const exited = new Promise<number | null>((r) => wd.once('exit', (code) => r(code)));
  wd.stdin!.write(`+${kept.leader}\n+${forgotten.leader}\n`);
  wd.stdin!.write(`-${forgotten.leader}\n`);
  // Still watching while the pipe is open.
  assert.ok(isAlive(wd.pid!));
  wd.stdin!.end();
  assert.equal(await exited, 0);
  await waitGroupGone(kept.leader);
  assert.ok(!isAlive(kept.grandchild));
  assert.equal(groupMembers(forgotten.leader).length, 2, 'an unregistered group is left alone');
  process.kill(-forgotten.leader, 'SIGKILL');
  await waitGroupGone(forgotten.leader);
});

test('watchdog process: a group that ignores SIGTERM is SIGKILLed after the grace', async () => {
  const proc = spawn('/bin/sh', ['-c', "trap '' TERM; echo ready; while :; do sleep 1; done"], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
  const leader = guard.trackGroup(proc.pid!);
  assert.equal(await firstLine(proc.stdout!), 'ready');
  proc.stdout!.destroy();
  const wd = spawn(process.execPath, [WATCHDOG, String(process.pid), '300'], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
  guard.track(wd.pid!);
  wd.stdin!.end(`+${leader}\n`);
  await waitGroupGone(leader);
  await waitGone(wd.pid!);
});

test('in-process server: the watchdog starts with the first process and leaves after shutdown()', async () => {
  const server = new ExecServer({ terminateGraceMs: 200 });
  guard.onCleanup(() => server.shutdown());
  assert.equal(server.watchdog?.pid, undefined, 'no process yet, no watchdog');
  const c = await ExecClient.connectInProcess(server);
  const { pid } = await c.start({ argv: ['/bin/sleep', '1000'] });
  guard.trackGroup(pid);
  const wdPid = server.watchdog?.pid;
  assert.ok(wdPid, 'watchdog started');
  guard.track(wdPid);
  assert.deepEqual(watchdogsOf(process.pid).includes(wdPid), true);
  assert.equal(server.watchdog?.error, null);
  await server.shutdown();
  await waitGroupGone(pid);
  await waitGone(wdPid);
  c.close();
});

test('SIGKILL of a process hosting an in-process ExecServer: its processes (and grandchildren) die via the watchdog', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wd-host-'));
  guard.onCleanup(() => fs.rmSync(dir, { recursive: true, force: true }));
  const script = path.join(dir, 'host.js');
  fs.writeFileSync(
    script,
    `
const { ExecServer } = require(${JSON.stringify(path.join(OUT, 'src', 'server', 'execServer.js'))});
const { ExecClient } = require(${JSON.stringify(path.join(OUT, 'src', 'client', 'client.js'))});
(async () => {
  const server = new ExecServer();
  const c = await ExecClient.connectInProcess(server);
  let out = '';
  let leader = 0;
  const report = () => {
    if (!leader || !out.includes('\\n')) return;
    process.stdout.write(JSON.stringify({ leader, grandchild: Number(out.trim()), watchdog: server.watchdog.pid }) + '\\n');
    leader = 0;
  };
  c.on('output', (e) => {
    out += e.data.toString();
    report();
  });
  leader = (await c.start({ processId: 'p1', argv: ${JSON.stringify(GROUP_CMD)} })).pid;
  report();
  setInterval(() => undefined, 1000); // stay alive until killed
})();
`,
  );
  const host = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
  guard.track(host.pid!);
  const info = JSON.parse(await firstLine(host.stdout!)) as { leader: number; grandchild: number; watchdog: number };
  guard.trackGroup(info.leader);
  guard.track(info.grandchild);
  guard.track(info.watchdog);
  assert.equal(groupMembers(info.leader).length, 2);
  assert.ok(isAlive(info.watchdog));

  process.kill(host.pid!, 'SIGKILL');
  await waitGone(host.pid!);
  // Bounded waits for liveness: the kernel closes the pipe, the watchdog kills the group.
  await waitGroupGone(info.leader);
  assert.ok(!isAlive(info.grandchild));
  await waitGone(info.watchdog);
  await waitUntil(() => allStats().every((s) => s.pgrp !== info.leader || s.state === 'Z'), 'no member of the group in the process table');
});
