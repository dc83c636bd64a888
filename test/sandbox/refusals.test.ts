/**
 * Every case the server cannot enforce is refused before anything starts, with upstream's
 * wording (`sandbox intent cannot be enforced on this executor`) plus why and what to do:
 * no codex, a codex whose sandbox does not confine (failed probe), a client of another codex
 * version, no user namespaces, a managed network, `arg0`, Windows/other platforms.
 */
import { after, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ProcessGuard } from '../helpers/procs';
import { RawWs, startParams } from '../helpers/rawWs';
import { SandboxSupport, userNamespaceProblem } from '../../src/server/sandbox/sandboxSupport';
import { findCodex, nativeBehindLauncher } from '../../src/server/sandbox/codexBinary';
import type { RpcError } from '../../src/protocol/errors';
import { cachedCodex, codexSkip, freshDir, sandboxFor, startServer, uri } from './harness';

const guard = new ProcessGuard();
const dirs: string[] = [];
const dir = (p: string) => {
  const d = freshDir(p);
  dirs.push(d);
  return d;
};
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});
const PREFIX = /^sandbox intent cannot be enforced on this executor: /;

/** A fake `codex`: reports a version, and runs `sandbox … -- cmd` WITHOUT any sandbox. */
function fakeCodex(version = '0.171.0'): string {
  const d = dir('fake-codex-');
  const f = path.join(d, 'codex');
  fs.writeFileSync(
    f,
    `#!/bin/sh\nif [ "$1" = "--version" ]; then echo "codex-cli ${version}"; exit 0; fi\n` +
      'while [ $# -gt 0 ] && [ "$1" != "--" ]; do shift; done; shift; exec "$@"\n',
    { mode: 0o755 },
  );
  return f;
}

/** Starts a server with `o`, asks for a sandboxed command that would create a file, returns the answer. */
async function attempt(o: Parameters<typeof startServer>[1], extra: Record<string, unknown> = {}) {
  const server = await startServer(guard, o);
  const ws = await RawWs.open(server.url, { token: server.token });
  await ws.handshake('refusal-tests');
  const w = dir('ws-');
  const marker = path.join(w, 'ran.txt');
  const r = await ws.call('process/start', startParams('p', ['/bin/sh', '-c', `echo ran > ${marker}`], { cwd: uri(w), sandbox: sandboxFor({ roots: [w] }), ...extra }));
  const list = await ws.result('process/list', {});
  const info = await ws.result('environment/info', {});
  await ws.close();
  await server.stop();
  assert.ok(!fs.existsSync(marker), 'the command ran');
  assert.deepEqual(list.processes, [], 'a process was registered');
  return { r, info, stderr: server.stderr() };
}

function assertRefused(r: { error?: { code: number; message: string } }, why: RegExp, todo: RegExp) {
  assert.ok(r.error, `expected a refusal, got ${JSON.stringify(r)}`);
  assert.equal(r.error.code, -32602);
  assert.match(r.error.message, PREFIX);
  assert.match(r.error.message, why);
  assert.match(r.error.message, todo);
}

test('no codex at the configured path', async () => {
  const { r, info, stderr } = await attempt({ args: ['--codex-path', '/nonexistent/codex'] });
  assertRefused(r, /the codex path \/nonexistent\/codex is not a usable file/, /--codex-path.*execServer\.codexPath.*--sandbox danger-full-access/);
  assert.equal(info.sandbox.state, 'unavailable');
  assert.match(stderr, /sandbox: requests with a sandbox will be refused: the codex path/);
});

test('no codex on PATH', async () => {
  const empty = dir('empty-path-');
  const { r } = await attempt({ env: { ...process.env, PATH: empty } });
  assertRefused(r, /no `codex` executable was found on the server's PATH/, /--codex-path/);
});

test('a codex whose sandbox does not confine writes fails the probe (helper missing, `codex sandbox` fallback tried)', async () => {
  const { r, info } = await attempt({ args: ['--codex-path', fakeCodex()] });
  assertRefused(r, /codex sandbox probe: a write the profile denies succeeded/, /--codex-path/);
  assert.match(r.error.message, /native codex binary behind .* was not found/);
  assert.equal(info.sandbox.codexVersion, '0.171.0');
});

test('a managed network is refused (enforceManagedNetwork, managedNetwork), even before codex is looked at', async () => {
  for (const extra of [{ enforceManagedNetwork: true }, { managedNetwork: { mode: 'limited' } }]) {
    const { r } = await attempt({ args: ['--codex-path', '/nonexistent/codex'] }, extra);
    assertRefused(r, /managed network/, /danger-full-access/);
  }
});

test('a client of another codex version than the server\'s codex', { skip: codexSkip() }, async () => {
  const { r } = await attempt({ args: ['--codex-path', cachedCodex()!] }, { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', CODEX_VERSION: '0.0.1' } });
  assertRefused(r, /the client is codex 0\.0\.1 but the codex whose sandbox this server uses \(.*\) is \d+\.\d+\.\d+/, /Point the server at codex 0\.0\.1 with `--codex-path`/);
});

test('arg0 cannot be passed through the helper', { skip: codexSkip() }, async () => {
  const { r } = await attempt({ args: ['--codex-path', cachedCodex()!] }, { arg0: 'renamed' });
  assertRefused(r, /`arg0`/, /danger-full-access/);
});

/** `unshare -U -r` with user.max_user_namespaces = 0 inside: a host without user namespaces. */
function noUsernsWrap(): string[] | null {
  const probe = spawnSync('unshare', ['-U', '-r', 'sh', '-c', 'echo 0 > /proc/sys/user/max_user_namespaces && ! unshare -U true 2>/dev/null'], { timeout: 10_000 });
  return probe.status === 0 ? ['unshare', '-U', '-r', 'sh', '-c', 'echo 0 > /proc/sys/user/max_user_namespaces && exec "$0" "$@"'] : null;
}

test('no user namespaces (as in a locked-down container)', { skip: codexSkip() || (noUsernsWrap() ? false : 'cannot simulate: unshare -U unavailable') }, async () => {
  const { r, info } = await attempt({ args: ['--codex-path', cachedCodex()!], wrap: noUsernsWrap()! });
  assertRefused(r, /user namespaces are disabled on this host \(user\.max_user_namespaces = 0\)/, /Allow unprivileged user namespaces/);
  assert.equal(info.sandbox.state, 'unavailable');
});

test('Windows: upstream\'s own refusal; other platforms: no sandbox exists', async () => {
  const req = { sandbox: sandboxFor({ roots: ['/w'] }), enforceManagedNetwork: false, managedNetwork: null, argv: ['x'], cwd: '/w', env: {}, arg0: null };
  await assert.rejects(new SandboxSupport({ platform: 'win32' }).prepare(req), (e: RpcError) => e.code === -32602 && /^sandboxed remote process launch is not supported on Windows\. .*danger-full-access/.test(e.message));
  await assert.rejects(new SandboxSupport({ platform: 'freebsd' }).prepare(req), (e: RpcError) => PREFIX.test(e.message) && /no codex sandbox exists for freebsd/.test(e.message));
  // Unsandboxed requests are untouched on every platform.
  assert.equal(await new SandboxSupport({ platform: 'win32' }).prepare({ ...req, sandbox: null }), null);
});

test('macOS path (simulated here): `codex sandbox` is used only if its probe shows a denied write denied', async () => {
  const s = new SandboxSupport({ platform: 'darwin', codexPath: fakeCodex() });
  const st = await s.check();
  s.dispose();
  assert.equal(st.state, 'unavailable');
  assert.match(st.reason!, /codex sandbox probe: a write the profile denies succeeded/);
});

test('userNamespaceProblem names the switch that is off', () => {
  const reader = (values: Record<string, string>) => (p: string) => values[p] ?? null;
  assert.match(userNamespaceProblem(reader({ '/proc/sys/user/max_user_namespaces': '0' }))!, /max_user_namespaces = 0/);
  assert.equal(userNamespaceProblem(reader({ '/proc/sys/user/max_user_namespaces': '1000' })), null);
});

test('findCodex: a configured native binary, npm\'s launcher followed to its platform package, PATH lookup', { skip: process.platform === 'linux' ? false : 'Linux layout' }, () => {
  const root = dir('npm-layout-');
  const triple = process.arch === 'arm64' ? 'aarch64-unknown-linux-musl' : 'x86_64-unknown-linux-musl';
  const pkg = process.arch === 'arm64' ? 'codex-linux-arm64' : 'codex-linux-x64';
  const nm = path.join(root, 'lib', 'node_modules');
  const launcher = path.join(nm, '@openai', 'codex', 'bin', 'codex.js');
  fs.mkdirSync(path.dirname(launcher), { recursive: true });
  fs.writeFileSync(launcher, '#!/usr/bin/env node\n', { mode: 0o755 });
  fs.writeFileSync(path.join(nm, '@openai', 'codex', 'package.json'), '{"name":"@openai/codex"}');
  const vendorBin = path.join(nm, '@openai', pkg, 'vendor', triple, 'bin');
  fs.mkdirSync(vendorBin, { recursive: true });
  fs.writeFileSync(path.join(nm, '@openai', pkg, 'package.json'), `{"name":"@openai/${pkg}"}`);
  // Any ELF stands in for the native codex here.
  const elf = fs.realpathSync('/bin/sh');
  fs.copyFileSync(elf, path.join(vendorBin, 'codex'));
  const binDir = path.join(root, 'bin');
  fs.mkdirSync(binDir);
  fs.symlinkSync(launcher, path.join(binDir, 'codex'));

  const viaPath = findCodex(undefined, { PATH: `/nonexistent:${binDir}` });
  assert.equal(viaPath.from, 'PATH');
  assert.equal(viaPath.entry, launcher);
  assert.equal(viaPath.native, path.join(vendorBin, 'codex'));
  assert.equal(findCodex(path.join(binDir, 'codex')).native, path.join(vendorBin, 'codex'));
  assert.equal(findCodex(elf).native, elf);
  assert.equal(nativeBehindLauncher(launcher, 'linux', 'riscv64' as NodeJS.Architecture), null);
  assert.throws(() => findCodex(undefined, { PATH: '/nonexistent' }), /no `codex` executable was found/);
});

test('findCodex through the real npm install of codex (when cached)', { skip: codexSkip() }, () => {
  const native = cachedCodex()!;
  const npmBin = path.join(native.split('/node_modules/')[0]!, 'node_modules', '.bin', 'codex');
  assert.equal(findCodex(npmBin).native, fs.realpathSync(native));
});

test('a failed check is retried later: codex installed after the server started is picked up', { skip: codexSkip() }, async () => {
  const d = dir('late-codex-');
  const later = path.join(d, 'codex');
  const s = new SandboxSupport({ codexPath: later, recheckAfterMs: 0, tmpDir: d });
  try {
    assert.equal((await s.check()).state, 'unavailable');
    fs.symlinkSync(cachedCodex()!, later);
    const again = await s.check();
    assert.equal(again.state, 'available', again.reason ?? '');
    assert.equal(again.mode, 'helper');
    // Success is kept: no further probe.
    assert.equal(await s.check().then((x) => x.state), 'available');
  } finally {
    s.dispose();
  }
});

test('codex upgraded on disk after the check: a client of the new version makes the server look again', { skip: codexSkip('0.169.0') || codexSkip('0.171.0') }, async () => {
  const d = dir('upgrade-');
  const link = path.join(d, 'codex');
  fs.symlinkSync(cachedCodex('0.169.0')!, link);
  const s = new SandboxSupport({ codexPath: link, tmpDir: d });
  try {
    assert.equal((await s.check()).codexVersion, '0.169.0');
    fs.unlinkSync(link);
    fs.symlinkSync(cachedCodex('0.171.0')!, link);
    const req = { sandbox: sandboxFor({ roots: [d] }), enforceManagedNetwork: false, managedNetwork: null, argv: ['/bin/true'], cwd: d, arg0: null };
    const launch = await s.prepare({ ...req, env: { CODEX_VERSION: '0.171.0' } });
    assert.equal(launch?.sandboxType, 'linuxSeccomp');
    assert.equal(s.status().codexVersion, '0.171.0');
    assert.equal(fs.realpathSync(launch!.file), fs.realpathSync(cachedCodex('0.171.0')!));
    // An old client is now the mismatch, refused after its one re-check.
    await assert.rejects(s.prepare({ ...req, env: { CODEX_VERSION: '0.169.0' } }), /the client is codex 0\.169\.0/);
  } finally {
    s.dispose();
  }
});
