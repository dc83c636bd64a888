/**
 * Sandboxed fs/* over the wire (the built CLI; no codex needed): writes only inside the
 * writable roots and outside the protected names, judged after resolving symlinks; reads only
 * where a read entry allows; refusals as upstream words them.
 */
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startWsCli, type CliServer } from '../helpers/cli';
import { ProcessGuard } from '../helpers/procs';
import { RawWs } from '../helpers/rawWs';
import { freshDir, sandboxFor, uri } from './harness';

const guard = new ProcessGuard();
let server: CliServer;
let ws: RawWs;
let w: string; // the workspace
let out: string; // a directory outside it (and outside /tmp)

before(async () => {
  server = await startWsCli(guard);
  ws = await RawWs.open(server.url, { token: server.token });
  await ws.handshake('fs-sandbox-tests');
  w = freshDir('fs-ws-');
  out = freshDir('fs-out-');
  fs.writeFileSync(path.join(out, 'secret.txt'), 'outside');
  fs.symlinkSync(out, path.join(w, 'linkdir'));
  fs.symlinkSync(path.join(out, 'secret.txt'), path.join(w, 'linkfile'));
  fs.symlinkSync(path.join(out, 'created-through-dangling-link.txt'), path.join(w, 'dangling'));
  fs.writeFileSync(path.join(w, 'inside.txt'), 'inside');
});
after(async () => {
  await ws.close();
  fs.rmSync(w, { recursive: true, force: true });
  fs.rmSync(out, { recursive: true, force: true });
});

const ww = () => sandboxFor({ roots: [w] });
const READ_ONLY = 'Read-only file system (os error 30)';

async function refused(method: string, params: Record<string, unknown>, message = READ_ONLY) {
  const r = await ws.call(method, params);
  assert.ok(r.error, `${method} ${JSON.stringify(params.path ?? params.destinationPath)} was allowed: ${JSON.stringify(r.result)}`);
  assert.equal(r.error.code, -32603, JSON.stringify(r.error));
  assert.equal(r.error.message, message);
}

const data = (s: string) => Buffer.from(s).toString('base64');

test('writeFile: inside allowed; outside, through a symlinked dir, a symlinked file or a dangling link refused', async () => {
  assert.deepEqual(await ws.result('fs/writeFile', { path: uri(path.join(w, 'new.txt')), dataBase64: data('n'), sandbox: ww() }), {});
  assert.equal(fs.readFileSync(path.join(w, 'new.txt'), 'utf8'), 'n');
  await refused('fs/writeFile', { path: uri(path.join(out, 'x.txt')), dataBase64: data('x'), sandbox: ww() });
  await refused('fs/writeFile', { path: uri(path.join(w, 'linkdir', 'x.txt')), dataBase64: data('x'), sandbox: ww() });
  await refused('fs/writeFile', { path: uri(path.join(w, 'linkfile')), dataBase64: data('x'), sandbox: ww() });
  await refused('fs/writeFile', { path: uri(path.join(w, 'dangling')), dataBase64: data('x'), sandbox: ww() });
  assert.deepEqual(fs.readdirSync(out).sort(), ['secret.txt']);
  assert.equal(fs.readFileSync(path.join(out, 'secret.txt'), 'utf8'), 'outside');
});

test('protected names inside a writable root are read-only, existing or not', async () => {
  fs.mkdirSync(path.join(w, '.git'), { recursive: true });
  for (const p of ['.git/config', '.agents', '.codex/x', '.aws/credentials', 'sub/.git/HEAD']) {
    await refused('fs/writeFile', { path: uri(path.join(w, p)), dataBase64: data('x'), sandbox: ww() });
  }
  await refused('fs/createDirectory', { path: uri(path.join(w, '.codex')), sandbox: ww() });
  await refused('fs/remove', { path: uri(path.join(w, '.git')), sandbox: ww() });
  assert.ok(fs.existsSync(path.join(w, '.git')));
  assert.ok(!fs.existsSync(path.join(w, '.codex')));
  // A name that only starts like one is not protected.
  assert.deepEqual(await ws.result('fs/writeFile', { path: uri(path.join(w, '.github')), dataBase64: data('x'), sandbox: ww() }), {});
});

test('createDirectory: inside allowed, through a symlink or outside refused', async () => {
  assert.deepEqual(await ws.result('fs/createDirectory', { path: uri(path.join(w, 'd1', 'd2')), recursive: true, sandbox: ww() }), {});
  assert.ok(fs.statSync(path.join(w, 'd1', 'd2')).isDirectory());
  await refused('fs/createDirectory', { path: uri(path.join(w, 'linkdir', 'sub')), recursive: true, sandbox: ww() });
  await refused('fs/createDirectory', { path: uri(path.join(out, 'sub')), recursive: true, sandbox: ww() });
  assert.ok(!fs.existsSync(path.join(out, 'sub')));
});

test('remove: a link inside goes (its target stays); through a link or outside refused', async () => {
  fs.symlinkSync(out, path.join(w, 'link-to-remove'));
  await refused('fs/remove', { path: uri(path.join(w, 'linkdir', 'secret.txt')), sandbox: ww() });
  await refused('fs/remove', { path: uri(path.join(out, 'secret.txt')), sandbox: ww() });
  assert.ok(fs.existsSync(path.join(out, 'secret.txt')));
  assert.deepEqual(await ws.result('fs/remove', { path: uri(path.join(w, 'link-to-remove')), sandbox: ww() }), {});
  assert.ok(!fs.existsSync(path.join(w, 'link-to-remove')));
  assert.ok(fs.existsSync(path.join(out, 'secret.txt')));
});

test('remove: a recursive remove of a tree holding a protected name is refused, others allowed', async () => {
  fs.mkdirSync(path.join(w, 'tree', 'deep', '.git'), { recursive: true });
  await refused('fs/remove', { path: uri(path.join(w, 'tree')), recursive: true, sandbox: ww() });
  assert.ok(fs.existsSync(path.join(w, 'tree', 'deep', '.git')));
  fs.rmSync(path.join(w, 'tree', 'deep', '.git'), { recursive: true });
  assert.deepEqual(await ws.result('fs/remove', { path: uri(path.join(w, 'tree')), recursive: true, sandbox: ww() }), {});
  assert.ok(!fs.existsSync(path.join(w, 'tree')));
});

test('copy: from anywhere readable into the workspace; out of it or through a link refused', async () => {
  assert.deepEqual(
    await ws.result('fs/copy', { sourcePath: uri(path.join(out, 'secret.txt')), destinationPath: uri(path.join(w, 'copied.txt')), recursive: false, sandbox: ww() }),
    {},
  );
  assert.equal(fs.readFileSync(path.join(w, 'copied.txt'), 'utf8'), 'outside');
  await refused('fs/copy', { sourcePath: uri(path.join(w, 'inside.txt')), destinationPath: uri(path.join(out, 'x.txt')), recursive: false, sandbox: ww() });
  await refused('fs/copy', { sourcePath: uri(path.join(w, 'inside.txt')), destinationPath: uri(path.join(w, 'linkdir', 'x.txt')), recursive: false, sandbox: ww() });
  assert.deepEqual(fs.readdirSync(out).sort(), ['secret.txt']);
});

test('read-only sandbox: no write anywhere, reads fine', async () => {
  const ro = sandboxFor({ roots: [w], readOnly: true });
  await refused('fs/writeFile', { path: uri(path.join(w, 'ro.txt')), dataBase64: data('x'), sandbox: ro });
  await refused('fs/createDirectory', { path: uri(path.join(w, 'ro-dir')), sandbox: ro });
  await refused('fs/remove', { path: uri(path.join(w, 'inside.txt')), sandbox: ro });
  const r = await ws.result('fs/readFile', { path: uri(path.join(w, 'inside.txt')), sandbox: ro });
  assert.equal(Buffer.from(r.dataBase64, 'base64').toString(), 'inside');
});

test('a workspace root given through a symlink is still writable (roots are resolved too)', async () => {
  const alias = path.join(out, 'alias-of-ws');
  fs.symlinkSync(w, alias);
  try {
    const viaAlias = sandboxFor({ roots: [alias] });
    assert.deepEqual(await ws.result('fs/writeFile', { path: uri(path.join(alias, 'via-alias.txt')), dataBase64: data('a'), sandbox: viaAlias }), {});
    assert.ok(fs.existsSync(path.join(w, 'via-alias.txt')));
  } finally {
    fs.unlinkSync(alias);
  }
});

test('reads follow the read entries: outside them Permission denied, for every read method', async () => {
  const onlyWs = {
    permissions: { type: 'managed', file_system: { type: 'restricted', entries: [{ path: { type: 'path', path: w }, access: 'read' }] }, network: 'restricted' },
    cwd: uri(w),
    workspaceRoots: [uri(w)],
  };
  const denied = 'Permission denied (os error 13)';
  const secret = uri(path.join(out, 'secret.txt'));
  await refused('fs/readFile', { path: secret, sandbox: onlyWs }, denied);
  await refused('fs/readFile', { path: uri(path.join(w, 'linkfile')), sandbox: onlyWs }, denied);
  await refused('fs/getMetadata', { path: secret, sandbox: onlyWs }, denied);
  await refused('fs/readDirectory', { path: uri(out), sandbox: onlyWs }, denied);
  await refused('fs/canonicalize', { path: secret, sandbox: onlyWs }, denied);
  await refused('fs/open', { handleId: 'h1', path: secret, sandbox: onlyWs }, denied);
  await refused('fs/watchMissing', { watchId: 7, missing: [uri(path.join(out, 'nope'))], present: null, sandbox: onlyWs }, denied);
  await refused('fs/copy', { sourcePath: secret, destinationPath: uri(path.join(w, 'c')), recursive: false, sandbox: onlyWs }, denied);
  const ok = await ws.result('fs/readFile', { path: uri(path.join(w, 'inside.txt')), sandbox: onlyWs });
  assert.equal(Buffer.from(ok.dataBase64, 'base64').toString(), 'inside');
});

test('without a sandbox nothing changes', async () => {
  const p = path.join(out, 'unsandboxed.txt');
  assert.deepEqual(await ws.result('fs/writeFile', { path: uri(p), dataBase64: data('u'), sandbox: null }), {});
  assert.equal(fs.readFileSync(p, 'utf8'), 'u');
  fs.unlinkSync(p);
});

test('a sandbox the server cannot read is refused with upstream\'s wording (fail closed)', async () => {
  const odd = { ...ww(), permissions: { type: 'managed', file_system: { type: 'restricted', entries: [{ path: { type: 'glob_pattern', pattern: '**/*.env' }, access: 'none' }] } } };
  const r = await ws.call('fs/writeFile', { path: uri(path.join(w, 'odd.txt')), dataBase64: data('x'), sandbox: odd });
  assert.equal(r.error?.code, -32602, JSON.stringify(r));
  assert.match(r.error.message, /^sandbox intent cannot be enforced on this executor: /);
  assert.ok(!fs.existsSync(path.join(w, 'odd.txt')));
});
