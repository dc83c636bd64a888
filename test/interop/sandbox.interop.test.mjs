// Interop, sandboxed: the real codex CLI (0.169.0 and 0.171.0) with `-s workspace-write` /
// `-s read-only` runs tool calls on OUR server (dist/cli.js, started with --codex-path pointing
// at the same codex), driven offline by the scripted mock model. Every JSON-RPC frame goes
// through the logging proxy so the tests can see what the server answered (sandboxType,
// sandboxDenied). Linux only (the sandbox is codex's bubblewrap + seccomp).
//
//   npm run build && node --test --test-reporter=spec test/interop/sandbox.interop.test.mjs
//
// CODEX_VERSIONS (comma-separated, default "0.169.0,0.171.0") picks the versions; each is
// installed (cached outside the repo) by scripts/install-codex.sh. Loopback only; every test
// stops what it started, by PID; timeouts bounded.
import { test, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startMockModel } from './mockModel.mjs';
import { runCodexExec } from './codexRunner.mjs';
import { startLogProxy } from './wsLogProxy.mjs';
import { installCodex, onEnd } from './testLifecycle.mjs';

const here = new URL('.', import.meta.url).pathname;
const ROOT = join(here, '..', '..');
const CLI = join(ROOT, 'dist', 'cli.js');
const VERSIONS = (process.env.CODEX_VERSIONS ?? '0.169.0,0.171.0').split(',').map((v) => v.trim()).filter(Boolean);
const CODEX_TIMEOUT_MS = 60_000;
const TEST_TIMEOUT_MS = 120_000;
const PROTECTED = ['.git', '.agents', '.codex', '.aws'];
const LINUX = process.platform === 'linux';
const OUTSIDE_BASE = join(process.env.EXEC_SERVER_TEST_CACHE || join(homedir(), '.cache', 'exec-server-vscode'), 'sandbox-tests');

const bins = {};

before(() => {
  if (!LINUX) return;
  for (const v of VERSIONS) {
    bins[v] = installCodex(v);
  }
});



/** Our CLI on 127.0.0.1:0 with a token file and `extraArgs`; stopped by PID. */
async function startOurServer(t, extraArgs) {
  const dir = mkdtempSync(join(tmpdir(), 'sandbox-it-'));
  const token = randomBytes(18).toString('base64url');
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, token + '\n', { mode: 0o600 });
  // HOME of its own: commands run with `bash -lc`, and this machine's login profile (pyenv's
  // rehash lock, left behind by any shell stopped while it runs) is not under test.
  /** @type {NodeJS.ProcessEnv} */
  const env = { ...process.env, HOME: mkdtempSync(join(tmpdir(), 'exec-sbx-home-')) };
  delete env.EXEC_SERVER_TOKEN;
  const child = spawn(process.execPath, [CLI, '--listen', 'ws://127.0.0.1:0', '--token-file', tokenFile, ...extraArgs], {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  });
  let stderr = '';
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  child.stderr.setEncoding('utf8');
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${stderr}`)), 20_000);
    child.stderr.on('data', (d) => {
      stderr += d;
      const m = /listening on (ws:\/\/\S+)/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolve(m[1].replace(/\/$/, ''));
      }
    });
    exited.then((x) => reject(new Error(`server exited early ${JSON.stringify(x)}: ${stderr}`)));
  });
  // It printed its address, so it was spawned and has a pid.
  const pid = /** @type {number} */ (child.pid);
  onEnd(t, async () => {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {}
    const timer = setTimeout(() => {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {}
    }, 5000);
    await exited;
    clearTimeout(timer);
    rmSync(dir, { recursive: true, force: true });
  });
  return { url, token, pid, stderr: () => stderr };
}

/**
 * Server + proxy + mock model + workspace and a directory outside it, all stopped at the end.
 * `script` may be a function of {workdir, outside}.
 * @param {import('node:test').TestContext} t
 * @param {{ codexPath?: string, script: any, serverArgs?: string[] }} o
 */
async function setup(t, { codexPath, script, serverArgs = [] }) {
  // realpath: codex and the sandbox see resolved paths.
  const workdir = realpathSync(mkdtempSync(join(tmpdir(), 'sandbox-wd-')));
  // Not under /tmp: workspace-write makes /tmp (slash_tmp) and $TMPDIR writable too.
  mkdirSync(OUTSIDE_BASE, { recursive: true });
  const outside = realpathSync(mkdtempSync(join(OUTSIDE_BASE, 'sandbox-outside-')));
  onEnd(t, async () => {
    rmSync(workdir, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  });
  const server = await startOurServer(t, ['--codex-path', codexPath, ...serverArgs]);
  const proxy = await startLogProxy({ upstream: server.url });
  onEnd(t, () => proxy.close());
  const model = await startMockModel(typeof script === 'function' ? script({ workdir, outside }) : script);
  onEnd(t, () => model.close());
  return { server, proxy, model, workdir, outside };
}

async function runCodex(t, codexBin, ctx, sandbox) {
  const r = await runCodexExec({
    codexBin,
    prompt: 'Run the scripted tool calls.',
    workdir: ctx.workdir,
    mockBaseUrl: ctx.model.baseUrl,
    environmentsToml: { url: ctx.proxy.url, authBearerToken: ctx.server.token },
    sandbox,
    timeoutMs: CODEX_TIMEOUT_MS,
  });
  t.diagnostic(`codex exec -s ${sandbox}: exit ${r.code} in ${r.ms} ms`);
  assert.equal(r.timedOut, false, `codex timed out; stderr:\n${r.stderr}`);
  assert.equal(r.code, 0, `codex exited ${r.code}; stderr:\n${r.stderr}`);
  return r;
}

/** The server's answers to process/start (result or error), in order. */
function startAnswers(proxy) {
  const ids = new Set(proxy.frames.filter((f) => f.dir === 'c2s' && f.msg?.method === 'process/start').map((f) => `${f.conn}:${f.msg.id}`));
  return proxy.frames.filter((f) => f.dir === 's2c' && ids.has(`${f.conn}:${f.msg?.id}`)).map((f) => f.msg);
}

function notifications(proxy, method) {
  return proxy.frames.filter((f) => f.dir === 's2c' && f.msg?.method === method).map((f) => f.msg.params);
}

const outputs = (model) => model.toolOutputs().map((o) => o.output);
const leftPlaceholders = (dir) => readdirSync(dir).filter((n) => PROTECTED.includes(n));

for (const version of VERSIONS) {
  describe(`codex ${version}`, { skip: LINUX ? false : 'the codex sandbox is enforced on Linux only' }, () => {
    const bin = () => bins[version];

    test('-s workspace-write: writes inside, not outside; seccomp and its own pid namespace', { timeout: TEST_TIMEOUT_MS }, async (t) => {
      const cmd = ({ outside }) =>
        `echo inside > in.txt; echo outside > ${outside}/out.txt; ` +
        'grep Seccomp: /proc/self/status; echo pid=$$; echo marker-$((6*7))';
      const ctx2 = await setup(t, { codexPath: bin(), script: (d) => [{ tool: 'exec_command', args: { cmd: cmd(d), yield_time_ms: 5000 } }] });
      await runCodex(t, bin(), ctx2, 'workspace-write');
      const [out] = outputs(ctx2.model);
      assert.ok(out, 'codex sent no tool output');
      assert.match(out, /marker-42/, out);
      assert.ok(existsSync(join(ctx2.workdir, 'in.txt')), 'the write inside the workspace did not happen');
      assert.equal(readFileSync(join(ctx2.workdir, 'in.txt'), 'utf8'), 'inside\n');
      assert.match(out, /Read-only file system/, out);
      assert.ok(!existsSync(join(ctx2.outside, 'out.txt')), 'a write outside the workspace succeeded');
      assert.match(out, /Seccomp:\s*2/, out);
      const pid = Number(/pid=(\d+)/.exec(out)?.[1]);
      assert.ok(pid > 0 && pid < 10, `expected a pid from a fresh pid namespace, got ${pid}`);
      const [answer] = startAnswers(ctx2.proxy);
      assert.equal(answer?.result?.sandboxType, 'linuxSeccomp', JSON.stringify(answer));
      assert.deepEqual(leftPlaceholders(ctx2.workdir), [], 'placeholders left in the workspace');
    });

    test('-s read-only: a write inside fails and sandboxDenied is true', { timeout: TEST_TIMEOUT_MS }, async (t) => {
      const ctx = await setup(t, {
        codexPath: bin(),
        script: [{ tool: 'exec_command', args: { cmd: 'echo x > in.txt', yield_time_ms: 5000 } }],
      });
      await runCodex(t, bin(), ctx, 'read-only');
      const [out] = outputs(ctx.model);
      assert.match(out ?? '', /Read-only file system/, out);
      assert.ok(!existsSync(join(ctx.workdir, 'in.txt')), 'a write in a read-only sandbox succeeded');
      const exited = notifications(ctx.proxy, 'process/exited');
      assert.equal(exited.length, 1, JSON.stringify(exited));
      assert.notEqual(exited[0].exitCode, 0);
      assert.equal(exited[0].sandboxDenied, true, JSON.stringify(exited[0]));
    });

    test('tty command runs sandboxed', { timeout: TEST_TIMEOUT_MS }, async (t) => {
      const ctx = await setup(t, {
        codexPath: bin(),
        script: [{ tool: 'exec_command', args: { cmd: 'grep Seccomp: /proc/self/status; test -t 1 && echo is-a-tty; echo pid=$$', yield_time_ms: 5000, tty: true } }],
      });
      await runCodex(t, bin(), ctx, 'workspace-write');
      const [out] = outputs(ctx.model);
      assert.match(out ?? '', /Seccomp:\s*2/, out);
      assert.match(out, /is-a-tty/, out);
      const start = ctx.proxy.requests('process/start')[0];
      assert.equal(start?.params?.tty, true);
      assert.equal(startAnswers(ctx.proxy)[0]?.result?.sandboxType, 'linuxSeccomp');
    });

    test('apply_patch inside the workspace succeeds; outside it is refused', { timeout: TEST_TIMEOUT_MS }, async (t) => {
      const patch = (file, text) => `apply_patch <<'EOF'\n*** Begin Patch\n*** Add File: ${file}\n+${text}\n*** End Patch\nEOF\n`;
      const ctx2 = await setup(t, {
        codexPath: bin(),
        script: ({ outside }) => [
          { tool: 'exec_command', args: { cmd: patch('hello.txt', 'patched inside'), yield_time_ms: 5000 } },
          { tool: 'exec_command', args: { cmd: patch(join(outside, 'escape.txt'), 'patched outside'), yield_time_ms: 5000 } },
        ],
      });
      const ctx = ctx2;
      await runCodex(t, bin(), ctx2, 'workspace-write');
      const [first, second] = outputs(ctx2.model);
      assert.equal(readFileSync(join(ctx2.workdir, 'hello.txt'), 'utf8'), 'patched inside\n', first);
      assert.ok(!existsSync(join(ctx.outside, 'escape.txt')), `apply_patch wrote outside the workspace: ${second}`);
      t.diagnostic(`outside: ${JSON.stringify(second)}`);
      // codex itself rejects a patch outside the writable roots before asking the server; the
      // server's own check of a sandboxed fs/writeFile is covered by test/sandbox/fsGuard.test.ts.
      assert.match(second ?? '', /rejected|Read-only file system/, second);
      // The write went through fs/writeFile carrying the sandbox, and was allowed inside.
      const writes = ctx2.proxy.requests('fs/writeFile');
      assert.ok(writes.length >= 1 && writes.every((w) => w.params.sandbox), JSON.stringify(writes.map((w) => w.params.path)));
    });

    test('--sandbox danger-full-access is unchanged (no sandbox)', { timeout: TEST_TIMEOUT_MS }, async (t) => {
      const ctx = await setup(t, {
        codexPath: bin(),
        script: ({ outside }) => [{ tool: 'exec_command', args: { cmd: `grep Seccomp: /proc/self/status; echo ok > ${outside}/out.txt`, yield_time_ms: 5000 } }],
      });
      const ctx0 = ctx;
      await runCodex(t, bin(), ctx, 'danger-full-access');
      const [out] = outputs(ctx.model);
      assert.match(out ?? '', /Seccomp:\s*0/, out);
      assert.ok(existsSync(join(ctx0.outside, 'out.txt')), out);
      assert.equal(startAnswers(ctx.proxy)[0]?.result?.sandboxType, 'none');
      assert.equal(ctx.proxy.requests('process/start')[0]?.params?.sandbox, null);
    });

    test('codex not found: the refusal reaches the model and nothing runs', { timeout: TEST_TIMEOUT_MS }, async (t) => {
      const ctx = await setup(t, {
        codexPath: '/nonexistent/codex',
        script: [{ tool: 'exec_command', args: { cmd: 'echo ran > ran.txt', yield_time_ms: 5000 } }],
      });
      await runCodex(t, bin(), ctx, 'workspace-write');
      const [out] = outputs(ctx.model);
      assert.match(out ?? '', /sandbox intent cannot be enforced on this executor/, out);
      assert.match(out, /codex-path/, out);
      assert.ok(!existsSync(join(ctx.workdir, 'ran.txt')), 'the command ran');
      assert.equal(startAnswers(ctx.proxy)[0]?.error?.code, -32602);
    });

    test('a terminate during a sandboxed command leaves no placeholders', { timeout: TEST_TIMEOUT_MS }, async (t) => {
      // A 0 ms session TTL: when codex exits, its session ends and the server terminates the
      // still-running command (SIGTERM to its group, SIGKILL after the grace).
      const marker = `sb-term-${randomBytes(4).toString('hex')}`;
      const ctx = await setup(t, {
        codexPath: bin(),
        serverArgs: ['--session-ttl-ms', '0'],
        script: [{ tool: 'exec_command', args: { cmd: `ls -a; exec -a ${marker} sleep 30`, yield_time_ms: 1000 } }],
      });
      await runCodex(t, bin(), ctx, 'workspace-write');
      const [out] = outputs(ctx.model);
      assert.match(out ?? '', /\.git/, `the placeholders were not there while it ran: ${out}`);
      assert.match(out, /Process running with session ID/, out);
      // Wait (bounded) until the sandboxed process is gone, then look.
      for (let i = 0; i < 100 && processWithArg(marker); i++) await new Promise((r) => setTimeout(r, 100));
      assert.equal(processWithArg(marker), false, 'the sandboxed command is still running');
      const terminate = ctx.proxy.requests('process/terminate');
      t.diagnostic(`codex sent ${terminate.length} process/terminate`);
      assert.deepEqual(leftPlaceholders(ctx.workdir), [], 'placeholders left after the terminate');
    });
  });
}

describe('version mismatch', { skip: LINUX && VERSIONS.length >= 2 ? false : 'needs two codex versions on Linux' }, () => {
  test('a client codex of another version than the server\'s codex is refused; nothing runs', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const [serverVersion, clientVersion] = VERSIONS;
    const ctx = await setup(t, {
      codexPath: bins[serverVersion],
      script: [{ tool: 'exec_command', args: { cmd: 'echo ran > ran.txt', yield_time_ms: 5000 } }],
    });
    await runCodex(t, bins[clientVersion], ctx, 'workspace-write');
    const [out] = outputs(ctx.model);
    assert.match(out ?? '', /sandbox intent cannot be enforced on this executor/, out);
    assert.match(out, new RegExp(`client is codex ${clientVersion.replace(/\./g, '\\.')}`), out);
    assert.ok(!existsSync(join(ctx.workdir, 'ran.txt')), 'the command ran');
  });
});

/** True while some process has `arg` as its argv[0] (scans /proc). */
function processWithArg(arg) {
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (argv[0] === arg) return true;
    } catch {}
  }
  return false;
}
