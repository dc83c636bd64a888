/**
 * `exec-server run` against a real server (dist/cli.js --listen ws://127.0.0.1:0): streams,
 * exit codes, signals to the process group, stdin, --tty under a real PTY, no server, and the
 * token kept out of the child's environment.
 */
import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CLI, startWsCli, type CliServer } from '../helpers/cli';
import { descendantsOf, isAlive, ProcessGuard, waitUntil } from '../helpers/procs';
import { advertise, cleanEnv, runCliTo, runInPty, serverFlags, spawnCli, spawnCollected, tempDir, tokenFileFor } from './runHelpers';
import { exitStatus, parseRunArgs } from '../../src/cli/runCommand';

const guard = new ProcessGuard();
let server: CliServer;
let flags: string[];

before(async () => {
  server = await startWsCli(guard);
  flags = serverFlags(server, tokenFileFor(server));
});

test('stdout and stderr go to the right streams; the exit code is the command\'s', async () => {
  const r = await runCliTo(guard, ['run', ...flags, '--', 'sh', '-c', 'echo to-out; echo to-err >&2; exit 3']);
  assert.equal(r.code, 3, r.stderr);
  assert.equal(r.stdout, 'to-out\n');
  assert.equal(r.stderr, 'to-err\n');
  const ok = await runCliTo(guard, ['run', ...flags, '--', 'true']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.stdout + ok.stderr, '');
});

test('a command killed by a signal gives 128+N (SIGTERM: 143)', async () => {
  const r = await runCliTo(guard, ['run', ...flags, '--', 'sh', '-c', 'kill -TERM $$; sleep 5']);
  assert.equal(r.code, 143, r.stderr);
});

test('large output arrives whole and in order (backpressure does not lose bytes)', async () => {
  const r = await runCliTo(guard, ['run', ...flags, '--', 'seq', '1', '200000']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  assert.equal(lines.length, 200000);
  assert.equal(lines[0], '1');
  assert.equal(lines[199999], '200000');
});

test('SIGINT to run interrupts the whole process group in the server: a grandchild dies too', async () => {
  const marker = `${300 + Math.floor(Math.random() * 600)}.5`;
  const s = spawnCli(guard, ['run', ...flags, '--', 'bash', '-c', `sleep ${marker}; echo after`]);
  let sleeper = 0;
  await waitUntil(() => {
    sleeper = descendantsOf(server.pid).find((pid) => cmdline(pid) === `sleep ${marker}`) ?? 0;
    return sleeper !== 0;
  }, 'the grandchild sleep to start');
  guard.track(sleeper);
  s.proc.kill('SIGINT');
  const r = await s.done;
  assert.equal(r.code, 130, `bash dies of the SIGINT its child got; stderr: ${r.stderr}`);
  assert.ok(!r.stdout.includes('after'), r.stdout);
  await waitUntil(() => !isAlive(sleeper), 'the grandchild to be gone');
});

test('SIGTERM to run terminates the command (128+15)', async () => {
  const marker = `${300 + Math.floor(Math.random() * 600)}.25`;
  const s = spawnCli(guard, ['run', ...flags, '--', 'sleep', marker]);
  let pid = 0;
  await waitUntil(() => {
    pid = descendantsOf(server.pid).find((p) => cmdline(p) === `sleep ${marker}`) ?? 0;
    return pid !== 0;
  }, 'the command to start');
  guard.track(pid);
  s.proc.kill('SIGTERM');
  const r = await s.done;
  assert.equal(r.code, 143, r.stderr);
  await waitUntil(() => !isAlive(pid), 'the command to be gone');
});

test('`run -- yes | head -1`: the reader goes, the command is stopped, and its status is a SIGPIPE death (141)', async () => {
  const marker = `epipe-${process.pid}-${Date.now()}`;
  // A real shell pipeline; PIPESTATUS[0] is what `run` exits with.
  const script = '"$NODE" "$CLI" run "$@" | head -n 1; echo "status=${PIPESTATUS[0]}" >&2';
  const r = await spawnCollected(guard, 'bash', ['-c', script, 'bash', ...flags, '--', 'yes', marker], {
    env: cleanEnv({ NODE: process.execPath, CLI }),
  }).done;
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `${marker}\n`);
  assert.match(r.stderr, /status=141\n/);
  await waitUntil(() => !descendantsOf(server.pid).some((p) => cmdline(p) === `yes ${marker}`), 'the command to be stopped');
});

test('piped stdin is forwarded and closed at its end', async () => {
  const text = 'hello\nworld\n'.repeat(5000);
  const r = await runCliTo(guard, ['run', ...flags, '--', 'cat'], { stdinText: text });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, text);
});

test('a stdin pipe that never closes does not keep run alive after the command ends', async () => {
  const s = spawnCli(guard, ['run', ...flags, '--', 'sh', '-c', 'echo done'], { stdin: 'pipe' });
  s.proc.stdin!.write('unread\n'); // and never ended
  const r = await s.done;
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'done\n');
  s.proc.stdin!.destroy();
});

test('the server going away mid-run ends run with a message (the server stopped the command)', async () => {
  const own = await startWsCli(guard);
  const marker = `${300 + Math.floor(Math.random() * 600)}.75`;
  const s = spawnCli(guard, ['run', ...serverFlags(own, tokenFileFor(own)), '--', 'sleep', marker]);
  let pid = 0;
  await waitUntil(() => {
    pid = descendantsOf(own.pid).find((p) => cmdline(p) === `sleep ${marker}`) ?? 0;
    return pid !== 0;
  }, 'the command to start');
  guard.track(pid);
  await own.stop();
  const r = await s.done;
  // Either the exit of the terminated command arrived first (143) or the connection closed first (69).
  assert.ok(r.code === 143 || r.code === 69, `code ${r.code}; stderr: ${r.stderr}`);
  if (r.code === 69) assert.match(r.stderr, /lost the connection/);
  await waitUntil(() => !isAlive(pid), 'the command to be gone');
});

test('without piped stdin (and without --tty) the command reads end of file at once', async () => {
  // stdin is /dev/null here: cat must end by itself (bounded by the helper's timeout otherwise).
  const r = await runCliTo(guard, ['run', ...flags, '--', 'sh', '-c', 'cat; echo "cat ended $?"']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'cat ended 0\n');
});

test('EXEC_SERVER_TOKEN is not passed to the command; the rest of the environment is', async () => {
  const env = cleanEnv({ EXEC_SERVER_TOKEN: 'do-not-leak-7f3a', RUN_TEST_VAR: 'visible-42' });
  const r = await runCliTo(guard, ['run', ...flags, '--', 'env'], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.stdout.includes('RUN_TEST_VAR=visible-42'));
  assert.ok(!r.stdout.includes('EXEC_SERVER_TOKEN'), 'variable name present');
  assert.ok(!r.stdout.includes('do-not-leak-7f3a'), 'token value present');
  assert.ok(!r.stdout.includes(server.token!), 'server token present');
});

test('with no server found: exit 69, the clear message, and nothing runs', async () => {
  const dir = tempDir('exec-run-nodisc-');
  const marker = path.join(dir, 'ran');
  const env = cleanEnv({ EXEC_SERVER_DISCOVERY_DIR: path.join(dir, 'disc') });
  const r = await runCliTo(guard, ['run', '--', 'sh', '-c', `touch ${marker}`], { env, cwd: dir });
  assert.equal(r.code, 69);
  assert.match(r.stderr, /no exec server found/);
  assert.match(r.stderr, /Nothing was run/);
  assert.equal(r.stdout, '');
  assert.ok(!fs.existsSync(marker), 'the command ran');
  // A server that is advertised but not reachable: also 69, nothing run.
  const bad = await runCliTo(guard, ['run', '--url', 'ws://127.0.0.1:1', '--', 'sh', '-c', `touch ${marker}`], { env });
  assert.equal(bad.code, 69);
  assert.match(bad.stderr, /cannot reach the exec server/);
  assert.ok(!fs.existsSync(marker));
});

test('discovery: with no flags or variables, run finds the server whose folder holds --cwd and runs there', async () => {
  const dir = tempDir('exec-run-disc-');
  const folder = fs.realpathSync(tempDir('exec-run-folder-'));
  const sub = path.join(folder, 'sub');
  fs.mkdirSync(sub);
  advertise(path.join(dir, 'disc'), server, [folder]);
  const env = cleanEnv({ EXEC_SERVER_DISCOVERY_DIR: path.join(dir, 'disc') });
  const r = await runCliTo(guard, ['run', '--cwd', sub, '--name', 'my-script', '--', 'pwd'], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `${sub}\n`);
});

test('a command that cannot start: 127 and the server\'s reason', async () => {
  const r = await runCliTo(guard, ['run', ...flags, '--', 'no-such-program-e5b1']);
  assert.equal(r.code, 127);
  assert.match(r.stderr, /no-such-program-e5b1/);
});

test('bad usage: exit 2', async () => {
  for (const args of [['run'], ['run', '--bogus', '--', 'true'], ['run', '--cwd']]) {
    const r = await runCliTo(guard, args);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.stderr, /exec-server run:/);
  }
  const help = await runCliTo(guard, ['run', '--help']);
  assert.equal(help.code, 0);
  for (const f of ['--tty', '--cwd', '--name', '--url', '--token-file', '128+N', '69']) assert.ok(help.stdout.includes(f), f);
});

test('--tty: a real terminal in the child, keystrokes forwarded, resizes followed, exit code passed', async () => {
  const script = [
    'test -t 0 && test -t 1 && echo ISATTY-YES',
    'echo "SIZE1 $(stty size)"',
    'read line',
    'echo "GOT:$line"',
    'i=0; s=$(stty size); while [ "$s" != "40 120" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); s=$(stty size); done',
    'echo "SIZE2 $s"',
    'exit 7',
  ].join('\n');
  const t = await runInPty(guard, ['run', '--tty', ...flags, '--', 'bash', '-c', script]);
  try {
    await waitUntil(() => t.output().includes('SIZE1'), 'SIZE1 on the terminal', 20_000);
    assert.ok(t.output().includes('ISATTY-YES'), t.output());
    assert.match(t.output(), /SIZE1 24 80/);
    t.write('typed-in-raw\r');
    await waitUntil(() => t.output().includes('GOT:typed-in-raw'), 'GOT on the terminal', 20_000);
    t.resize(120, 40);
    assert.equal(await t.exited, 7, t.output());
    assert.match(t.output(), /SIZE2 40 120/);
  } finally {
    t.dispose();
  }
});

test('--tty: Ctrl-C typed in the terminal reaches the command as in a local terminal (130)', async () => {
  const t = await runInPty(guard, ['run', '--tty', ...flags, '--', 'bash', '-c', 'echo READY; sleep 600; echo after']);
  try {
    await waitUntil(() => t.output().includes('READY'), 'READY', 20_000);
    t.write('\x03');
    assert.equal(await t.exited, 130, t.output());
    assert.ok(!t.output().includes('after'), t.output());
  } finally {
    t.dispose();
  }
});

test('parseRunArgs and exitStatus', () => {
  assert.deepEqual(parseRunArgs(['--tty', '--cwd', '/x', '--name=n', '--', 'ls', '-l']), { tty: true, help: false, cwd: '/x', name: 'n', argv: ['ls', '-l'] });
  assert.deepEqual(parseRunArgs(['ls', '--tty']).argv, ['ls', '--tty']); // options end at the command
  assert.throws(() => parseRunArgs(['--token-file', 'f', '--', 'ls']), /--url/);
  assert.equal(exitStatus({ exitCode: 143, signal: 'SIGTERM' }), 143);
  assert.equal(exitStatus({ exitCode: 1, signal: 'SIGKILL' }), 137);
  assert.equal(exitStatus({ exitCode: 5, signal: null }), 5);
});

function cmdline(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
  } catch {
    return '';
  }
}
