import { test, beforeEach, afterEach } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createFilesystemMethods, type FilesystemMethods } from '../../src/server/filesystem/filesystemMethods';
import { decodeBase64 } from '../../src/protocol/base64';
import { FsMissingChanged } from '../../src/protocol/methods';
import { Params } from '../../src/protocol/validate';
import { RpcError } from '../../src/protocol/errors';

let dir: string;
let fsm: FilesystemMethods;
const uri = (...p: string[]) => pathToFileURL(path.join(dir, ...p)).href;
const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');
const call = (method: string, params: unknown) => Promise.resolve(fsm.methods[method]!(params)) as Promise<any>;

async function rejects(method: string, params: unknown, code: number, message?: string | RegExp) {
  await assert.rejects(call(method, params), (e: unknown) => {
    assert.ok(e instanceof RpcError, String(e));
    assert.equal(e.code, code, e.message);
    if (typeof message === 'string') assert.equal(e.message, message);
    else if (message) assert.match(e.message, message);
    return true;
  });
}

beforeEach(() => {
  dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'fs-test-')));
  fsm = createFilesystemMethods();
});
afterEach(async () => {
  await fsm.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('writeFile + readFile round trip, URI and native paths', async () => {
  assert.deepEqual(await call('fs/writeFile', { path: uri('a.txt'), dataBase64: b64('hello fs\n') }), {});
  assert.deepEqual(await call('fs/writeFile', { path: path.join(dir, 'b.txt'), dataBase64: 'YmJi', sandbox: null }), {});
  assert.deepEqual(await call('fs/readFile', { path: uri('a.txt') }), { dataBase64: b64('hello fs\n') });
  assert.deepEqual(await call('fs/readFile', { path: path.join(dir, 'b.txt') }), { dataBase64: 'YmJi' });
  await call('fs/writeFile', { path: uri('a.txt'), dataBase64: 'eA==' }); // truncates
  assert.deepEqual(await call('fs/readFile', { path: uri('a.txt') }), { dataBase64: 'eA==' });
});

test('writeFile errors', async () => {
  await rejects('fs/writeFile', { path: uri('nodir', 'x.txt'), dataBase64: 'eA==' }, -32004, 'No such file or directory (os error 2)');
  await rejects('fs/writeFile', { path: uri('c.txt'), dataBase64: '@@@' }, -32600,
    'fs/writeFile requires valid base64 dataBase64: Invalid symbol 64, offset 0.');
  await rejects('fs/writeFile', { path: pathToFileURL(dir).href, dataBase64: 'eA==' }, -32603, 'Is a directory (os error 21)');
  await rejects('fs/writeFile', { path: 'a.txt', dataBase64: 'eA==' }, -32602);
  await rejects('fs/writeFile', { path: 'http://example.com/a', dataBase64: 'eA==' }, -32602, /unsupported path URI scheme `http`/);
  await rejects('fs/writeFile', { path: uri('c.txt') }, -32602, 'missing field `dataBase64`');
});

test('readFile errors and the size limit', async () => {
  await rejects('fs/readFile', { path: uri('missing.txt') }, -32004, 'No such file or directory (os error 2)');
  await rejects('fs/readFile', { path: pathToFileURL(dir).href }, -32600, `path \`${dir}\` is not a file`);
  const small = createFilesystemMethods({ readFileMaxBytes: 10 });
  fs.writeFileSync(path.join(dir, 'big'), Buffer.alloc(11));
  fs.writeFileSync(path.join(dir, 'ok'), Buffer.alloc(10, 1));
  await assert.rejects(Promise.resolve(small.methods['fs/readFile']!({ path: uri('big') })), (e: any) => e.code === -32600 && /fs\/open \+ fs\/readBlock/.test(e.message));
  assert.deepEqual(await small.methods['fs/readFile']!({ path: uri('ok') }), { dataBase64: Buffer.alloc(10, 1).toString('base64') });
  await small.dispose();
});

test('getMetadata: file, directory, symlink, missing', async () => {
  fs.writeFileSync(path.join(dir, 'a.txt'), 'hello fs\n');
  fs.symlinkSync(path.join(dir, 'a.txt'), path.join(dir, 'link.txt'));
  const f = await call('fs/getMetadata', { path: uri('a.txt') });
  assert.equal(f.isFile, true); assert.equal(f.isDirectory, false); assert.equal(f.isSymlink, false); assert.equal(f.size, 9);
  assert.equal(typeof f.createdAtMs, 'number'); assert.ok(Number.isInteger(f.modifiedAtMs) && f.modifiedAtMs > 0);
  const d = await call('fs/getMetadata', { path: pathToFileURL(dir).href });
  assert.equal(d.isDirectory, true); assert.equal(d.isFile, false);
  const l = await call('fs/getMetadata', { path: uri('link.txt') });
  assert.deepEqual([l.isFile, l.isSymlink, l.size], [true, true, 9]);
  await rejects('fs/getMetadata', { path: uri('missing') }, -32004);
});

test('createDirectory defaults to recursive; readDirectory lists entries', async () => {
  assert.deepEqual(await call('fs/createDirectory', { path: uri('d1') }), {});
  assert.deepEqual(await call('fs/createDirectory', { path: uri('d1') }), {}); // existing is fine
  assert.deepEqual(await call('fs/createDirectory', { path: uri('d1'), recursive: true }), {});
  await rejects('fs/createDirectory', { path: uri('d2', 'x', 'y'), recursive: false }, -32004, 'No such file or directory (os error 2)');
  assert.deepEqual(await call('fs/createDirectory', { path: uri('d2', 'x', 'y'), recursive: true }), {});
  assert.deepEqual(await call('fs/createDirectory', { path: uri('d3', 'x') }), {});
  fs.writeFileSync(path.join(dir, 'a.txt'), 'x');
  fs.symlinkSync(path.join(dir, 'a.txt'), path.join(dir, 'link.txt'));
  const { entries } = await call('fs/readDirectory', { path: pathToFileURL(dir).href });
  const byName = Object.fromEntries(entries.map((e: any) => [e.fileName, [e.isDirectory, e.isFile]]));
  assert.deepEqual(byName, { d1: [true, false], d2: [true, false], d3: [true, false], 'a.txt': [false, true], 'link.txt': [false, true] });
  await rejects('fs/readDirectory', { path: uri('a.txt') }, -32603, 'Not a directory (os error 20)');
  await rejects('fs/readDirectory', { path: uri('missing') }, -32004);
});

test('copy: recursive is required, files overwrite, directories need recursive', async () => {
  fs.writeFileSync(path.join(dir, 'a.txt'), 'aaa');
  fs.writeFileSync(path.join(dir, 'b.txt'), 'bbb');
  fs.mkdirSync(path.join(dir, 'd2', 'x', 'y'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'd2', 'x', 'y', 'f.txt'), 'deep');
  assert.deepEqual(await call('fs/copy', { sourcePath: uri('a.txt'), destinationPath: uri('a-copy.txt'), recursive: false }), {});
  await rejects('fs/copy', { sourcePath: uri('a.txt'), destinationPath: uri('a-copy2.txt') }, -32602, 'missing field `recursive`');
  await rejects('fs/copy', { sourcePath: uri('d2'), destinationPath: uri('d2copy'), recursive: false }, -32600,
    'fs/copy requires recursive: true when sourcePath is a directory');
  assert.deepEqual(await call('fs/copy', { sourcePath: uri('d2'), destinationPath: uri('d2copy'), recursive: true }), {});
  assert.equal(fs.readFileSync(path.join(dir, 'd2copy', 'x', 'y', 'f.txt'), 'utf8'), 'deep');
  await call('fs/copy', { sourcePath: uri('b.txt'), destinationPath: uri('a-copy.txt'), recursive: false });
  assert.equal(fs.readFileSync(path.join(dir, 'a-copy.txt'), 'utf8'), 'bbb');
  await rejects('fs/copy', { sourcePath: uri('missing'), destinationPath: uri('zzz'), recursive: false }, -32004);
});

test('canonicalize resolves .., . and symlinks', async () => {
  fs.mkdirSync(path.join(dir, 'd2', 'x', 'y'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'a.txt'), 'x');
  fs.symlinkSync(path.join(dir, 'a.txt'), path.join(dir, 'link.txt'));
  assert.deepEqual(await call('fs/canonicalize', { path: pathToFileURL(dir).href + '/d2/x/../x/./y' }), { path: uri('d2', 'x', 'y') });
  assert.deepEqual(await call('fs/canonicalize', { path: uri('link.txt') }), { path: uri('a.txt') });
  await rejects('fs/canonicalize', { path: uri('missing') }, -32004);
});

test('remove: defaults recursive and force to true', async () => {
  fs.writeFileSync(path.join(dir, 'a.txt'), 'x');
  fs.mkdirSync(path.join(dir, 'full', 'sub'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'empty'));
  fs.mkdirSync(path.join(dir, 'full2', 'sub'), { recursive: true });
  assert.deepEqual(await call('fs/remove', { path: uri('a.txt') }), {});
  assert.deepEqual(await call('fs/remove', { path: uri('missing') }), {});
  assert.deepEqual(await call('fs/remove', { path: uri('missing'), force: true }), {});
  await rejects('fs/remove', { path: uri('missing'), force: false }, -32004, 'No such file or directory (os error 2)');
  await rejects('fs/remove', { path: uri('full'), recursive: false }, -32603, 'Directory not empty (os error 39)');
  assert.deepEqual(await call('fs/remove', { path: uri('full') }), {});
  assert.deepEqual(await call('fs/remove', { path: uri('full2'), recursive: true }), {});
  assert.deepEqual(await call('fs/remove', { path: uri('empty'), recursive: false }), {});
  assert.deepEqual(fs.readdirSync(dir), []);
});

test('open / readBlock / close lifecycle', async () => {
  fs.writeFileSync(path.join(dir, 'a.txt'), 'hello fs\n');
  assert.deepEqual(await call('fs/open', { handleId: 'h1', path: uri('a.txt') }), { handleId: 'h1' });
  await rejects('fs/open', { handleId: 'h1', path: uri('a.txt') }, -32600, 'file handle `h1` already exists');
  assert.deepEqual(await call('fs/readBlock', { handleId: 'h1', offset: 0, len: 5 }), { chunk: b64('hello'), eof: false });
  assert.deepEqual(await call('fs/readBlock', { handleId: 'h1', offset: 5, len: 100 }), { chunk: b64(' fs\n'), eof: true });
  assert.deepEqual(await call('fs/readBlock', { handleId: 'h1', offset: 1000, len: 10 }), { chunk: '', eof: true });
  assert.deepEqual(await call('fs/close', { handleId: 'h1' }), {});
  await rejects('fs/readBlock', { handleId: 'h1', offset: 0, len: 5 }, -32004, 'unknown file handle `h1`');
  await rejects('fs/close', { handleId: 'h1' }, -32004, 'unknown file handle `h1`');
  await rejects('fs/readBlock', { handleId: 'h2' }, -32602, 'missing field `offset`');
  await rejects('fs/open', { handleId: 'h3', path: uri('missing') }, -32004);
  await rejects('fs/open', { handleId: 'h3', path: pathToFileURL(dir).href }, -32600, /is not a file/);
  // The id is reusable after close.
  assert.deepEqual(await call('fs/open', { handleId: 'h1', path: uri('a.txt') }), { handleId: 'h1' });
});

test('readBlock walks a file larger than the block size', async () => {
  const data = Buffer.alloc(3 * 65536 + 123);
  for (let i = 0; i < data.length; i++) data[i] = (i * 31) & 0xff;
  fs.writeFileSync(path.join(dir, 'big.bin'), data);
  await call('fs/open', { handleId: 'big', path: uri('big.bin') });
  const parts: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const r = await call('fs/readBlock', { handleId: 'big', offset, len: 65536 });
    const chunk = Buffer.from(r.chunk, 'base64');
    assert.ok(chunk.length <= 65536);
    parts.push(chunk);
    offset += chunk.length;
    if (r.eof) break;
  }
  assert.ok(Buffer.concat(parts).equals(data));
});

test('dispose closes open handles', async () => {
  fs.writeFileSync(path.join(dir, 'a.txt'), 'x');
  await call('fs/open', { handleId: 'h', path: uri('a.txt') });
  await fsm.dispose();
  await rejects('fs/readBlock', { handleId: 'h', offset: 0, len: 1 }, -32004);
});

test('a sandbox that cannot be enforced is refused on every method', async () => {
  fs.writeFileSync(path.join(dir, 'a.txt'), 'x');
  const sandbox = { permissions: {} };
  for (const [method, params] of [
    ['fs/readFile', { path: uri('a.txt') }],
    ['fs/writeFile', { path: uri('a.txt'), dataBase64: 'eA==' }],
    ['fs/getMetadata', { path: uri('a.txt') }],
    ['fs/readDirectory', { path: pathToFileURL(dir).href }],
    ['fs/createDirectory', { path: uri('n') }],
    ['fs/remove', { path: uri('a.txt') }],
    ['fs/copy', { sourcePath: uri('a.txt'), destinationPath: uri('b'), recursive: false }],
    ['fs/canonicalize', { path: uri('a.txt') }],
    ['fs/open', { handleId: 'h', path: uri('a.txt') }],
    ['fs/watchMissing', { watchId: 1, missing: [], present: null }],
  ] as const) {
    await rejects(method, { ...params, sandbox }, -32602, /^sandbox intent cannot be enforced on this executor: .*--sandbox danger-full-access/);
  }
  assert.equal(fs.readFileSync(path.join(dir, 'a.txt'), 'utf8'), 'x');
  assert.ok(!fs.existsSync(path.join(dir, 'n')));
});

test('watchMissing reports a created path once', async () => {
  const seen: [string, any][] = [];
  const w = createFilesystemMethods({ notify: (m, p) => seen.push([m, p]), watchPollMs: 50 });
  try {
    const res = await w.methods['fs/watchMissing']!({ watchId: 1, missing: [uri('a', '.agents', 'skills')], present: pathToFileURL(dir).href });
    assert.deepEqual(res, { watching: true });
    await sleep(150);
    assert.equal(seen.length, 0);
    fs.mkdirSync(path.join(dir, 'a', '.agents', 'skills'), { recursive: true });
    await waitFor(() => seen.length > 0);
    assert.deepEqual(seen, [[FsMissingChanged.method, { watchId: 1, path: uri('a', '.agents', 'skills'), change: 'created' }]]);
    await sleep(150);
    assert.equal(seen.length, 1); // one-shot
  } finally {
    await w.dispose();
  }
});

test('watchMissing reports a removed present path; dispose stops watches; no notify = not watching', async () => {
  const seen: any[] = [];
  const w = createFilesystemMethods({ notify: (_m, p) => seen.push(p), watchPollMs: 50 });
  fs.mkdirSync(path.join(dir, '.git'));
  await w.methods['fs/watchMissing']!({ watchId: 'x', missing: [], present: uri('.git') });
  fs.rmdirSync(path.join(dir, '.git'));
  await waitFor(() => seen.length > 0);
  assert.deepEqual(seen[0], { watchId: 'x', path: uri('.git'), change: 'removed' });

  await w.methods['fs/watchMissing']!({ watchId: 2, missing: [uri('later')] });
  await w.dispose();
  fs.mkdirSync(path.join(dir, 'later'));
  await sleep(150);
  assert.equal(seen.length, 1);

  assert.deepEqual(await call('fs/watchMissing', { watchId: 1, missing: [uri('zz')], present: null }), { watching: false });
  await rejects('fs/watchMissing', { missing: [] }, -32602, 'missing field `watchId`');
});

test('one base64 decoder: upstream wording for fs/writeFile, the same verdict for process/write params', () => {
  assert.equal(decodeBase64('aGVsbG8=').toString(), 'hello');
  assert.equal(decodeBase64('').length, 0);
  assert.throws(() => decodeBase64('a=bc'), /Invalid symbol 61, offset 1\./);
  assert.throws(() => decodeBase64('aGVsbG8'), /Invalid padding/);
  assert.throws(() => decodeBase64('aGVsb'), /Invalid input length\./);
  assert.throws(() => decodeBase64('aGVsbG8=='), /Invalid padding/);
  assert.throws(() => Params.of({ chunk: 'aGVsbG8' }, 'WriteParams').base64('chunk'), (e: unknown) => e instanceof RpcError && e.code === -32602 && e.message === '`chunk` is not valid base64');
  assert.equal(Params.of({ chunk: 'aGk=' }, 'WriteParams').base64('chunk').toString(), 'hi');
});

function sleep(ms: number) {
  return new Promise((r) => setTimeout(r, ms));
}
async function waitFor(cond: () => boolean, timeoutMs = 3000) {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await sleep(20);
  }
}
