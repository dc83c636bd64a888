/**
 * Children start as a shell would start them: stdin/stdout/stderr are pipes (not sockets),
 * so /dev/stdout, /dev/stderr and /dev/stdin can be reopened and bash does not source
 * ~/.bashrc; they hold no descriptor beyond 0–2 (pipes and PTY), even when the server itself
 * inherited descriptors without close-on-exec or a PTY is running beside them; a file that
 * is neither a binary nor a #! script fails with ENOEXEC instead of running as a shell script.
 */
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startWsCli, type CliServer } from '../helpers/cli';
import { ProcessGuard } from '../helpers/procs';
import { b64, RawWs, startParams, type Json } from '../helpers/rawWs';

const guard = new ProcessGuard();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'exec-child-stdio-'));
let plain: { server: CliServer; ws: RawWs };
/** A server started with fds 3 and 11 inherited without close-on-exec (as in an extension host). */
let leaky: { server: CliServer; ws: RawWs };

async function open(extraStdio?: Array<'pipe' | 'ignore'>) {
  const server = await startWsCli(guard, { extraStdio });
  const ws = await RawWs.open(server.url, { token: server.token });
  await ws.handshake('child-stdio-tests');
  return { server, ws };
}

before(async () => {
  plain = await open();
  leaky = await open(['pipe', 'ignore', 'ignore', 'ignore', 'ignore', 'ignore', 'ignore', 'ignore', 'pipe']);
});
after(async () => {
  await plain.ws.close();
  await leaky.ws.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

let n = 0;
const fresh = (what: string) => `${what}-${++n}`;

/** Starts, optionally writes and closes stdin, and resolves with the whole output and the exit. */
async function run(ws: RawWs, argv: string[], extra: Record<string, unknown> = {}, input?: string, closeStdin = true): Promise<{ out: string; exited: Json }> {
  const id = fresh('p');
  const r = await ws.call('process/start', startParams(id, argv, { cwd: tmp, ...extra }));
  assert.ok(r.result, `start failed: ${JSON.stringify(r.error)}`);
  guard.trackGroup(r.result.pid);
  if (input !== undefined) {
    assert.equal((await ws.result('process/write', { processId: id, chunk: b64(input), writeId: 'w' })).status, 'accepted');
    if (closeStdin) await ws.result('process/closeStdin', { processId: id });
  }
  await ws.waitClosedNotification(id);
  const exited = ws.notifications('process/exited', id)[0];
  return { out: ws.output(id), exited };
}

/** `ls -l /proc/self/fd` → {fd: target}, without the directory ls itself reads. */
function fdTable(out: string): Record<string, string> {
  const t: Record<string, string> = {};
  for (const m of out.matchAll(/ (\d+) -> (\S+)/g)) if (!/^\/proc\/\d+\/fd$/.test(m[2])) t[m[1]] = m[2];
  return t;
}

test('pipes: fds 0–2 are pipes (stdin too with pipeStdin) and nothing else is open', async () => {
  const withStdin = fdTable((await run(plain.ws, ['ls', '-l', '/proc/self/fd'], { pipeStdin: true })).out);
  assert.deepEqual(Object.keys(withStdin).sort(), ['0', '1', '2']);
  // A socket would say `socket`; /proc names our pipes by their (unlinked) FIFO, so ask stat.
  const types = await run(plain.ws, ['stat', '-L', '-c', '%F', '/proc/self/fd/0', '/proc/self/fd/1', '/proc/self/fd/2'], { pipeStdin: true });
  assert.equal(types.out, 'fifo\nfifo\nfifo\n');
  const noStdin = fdTable((await run(plain.ws, ['ls', '-l', '/proc/self/fd'])).out);
  assert.deepEqual(Object.keys(noStdin).sort(), ['0', '1', '2']);
  assert.equal(noStdin['0'], '/dev/null');
});

test('pipes: /dev/stdout, /dev/stderr and /dev/stdin can be reopened (echo > /dev/stderr, tee, head)', async () => {
  // stdin stays open: head stops after 5 bytes. (Reopening /dev/stdin after the client closed
  // stdin would wait for a writer: our pipes are FIFOs, the one way they differ from pipe(2).)
  const r = await run(plain.ws, ['bash', '-c', 'echo to-stderr > /dev/stderr && echo to-stdout > /dev/stdout && echo teed | tee /dev/stderr && head -c 5 /dev/stdin'], { pipeStdin: true }, 'input', false);
  assert.equal(r.exited.params.exitCode, 0, r.out);
  for (const s of ['to-stderr', 'to-stdout', 'input']) assert.ok(r.out.includes(s), `missing ${s} in ${JSON.stringify(r.out)}`);
  assert.equal(r.out.split('teed').length - 1, 2, `tee wrote to stdout and to /dev/stderr: ${JSON.stringify(r.out)}`);
  assert.doesNotMatch(r.out, /No such device or address/);
});

test('pipes: bash -c with pipeStdin does not source ~/.bashrc', async () => {
  const home = fs.mkdtempSync(path.join(tmp, 'home-'));
  fs.writeFileSync(path.join(home, '.bashrc'), 'echo BASHRC-WAS-SOURCED\n');
  const r = await run(plain.ws, ['bash', '-c', 'echo hello'], { pipeStdin: true, env: { PATH: process.env.PATH!, HOME: home } });
  assert.equal(r.out, 'hello\n');
});

test('PTY: fds 0–2 are the terminal and nothing else is open, even with another PTY running', async () => {
  const other = fresh('other-pty');
  const o = await plain.ws.call('process/start', startParams(other, ['sleep', '30'], { tty: true }));
  guard.trackGroup(o.result.pid);
  try {
    const t = fdTable((await run(plain.ws, ['ls', '-l', '/proc/self/fd'], { tty: true })).out);
    assert.deepEqual(Object.keys(t).sort(), ['0', '1', '2'], JSON.stringify(t));
    for (const fd of ['0', '1', '2']) assert.match(t[fd], /^\/dev\/pts\/\d+$/);
    // And a pipe child started while that PTY runs does not get its master either.
    const p = fdTable((await run(plain.ws, ['ls', '-l', '/proc/self/fd'])).out);
    assert.deepEqual(Object.keys(p).sort(), ['0', '1', '2'], JSON.stringify(p));
  } finally {
    await plain.ws.result('process/terminate', { processId: other });
    await plain.ws.waitClosedNotification(other);
  }
});

test('a server holding inheritable fds (3 and 11) passes none of them on: pipes and PTY', async () => {
  for (const tty of [false, true]) {
    const t = fdTable((await run(leaky.ws, ['ls', '-l', '/proc/self/fd'], { tty })).out);
    assert.deepEqual(Object.keys(t).sort(), ['0', '1', '2'], `tty:${tty}: ${JSON.stringify(t)}`);
  }
});

test('through the fd-closing launcher the child still gets exactly its env, argv and arg0', async () => {
  const env = { PATH: process.env.PATH!, FOO: 'a b', SHLVL: '4', BASH_ENV: path.join(tmp, 'nonexistent-bash-env') };
  const r = await run(leaky.ws, ['env'], { env });
  const got = Object.fromEntries(r.out.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  assert.deepEqual(got, env);
  const a = await run(leaky.ws, ['sh', '-c', 'tr "\\0" " " < /proc/$$/cmdline', 'ignored'], { arg0: 'renamed' });
  assert.equal(a.out, "renamed -c tr \"\\0\" \" \" < /proc/$$/cmdline ignored ");
  const b = await run(leaky.ws, ['sh', '-c', 'echo "$0 $1"', 'x', 'y z']);
  assert.equal(b.out, 'x y z\n');
});

test('a file with neither #! nor a binary format → Exec format error (os error 8), pipes and PTY; it is not run', async () => {
  const file = path.join(tmp, 'not-a-program');
  const marker = path.join(tmp, 'ran-as-script');
  fs.writeFileSync(file, `touch ${marker}\n`, { mode: 0o755 });
  const empty = path.join(tmp, 'empty');
  fs.writeFileSync(empty, '', { mode: 0o755 });
  for (const tty of [false, true]) {
    for (const f of [file, empty]) {
      const r = await plain.ws.call('process/start', startParams(fresh('noexec'), [f], { tty }));
      assert.ok(r.error, `tty:${tty} ${f}: expected an error, got ${JSON.stringify(r.result)}`);
      assert.match(r.error.message, /^Exec format error \(os error 8\)/);
    }
  }
  assert.equal(fs.existsSync(marker), false, 'the file was run as a shell script');
});
