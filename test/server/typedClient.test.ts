/**
 * The typed client against the real server: every fs/* and environment/* call goes through
 * ExecClient.call with the descriptors of src/protocol/methods.ts (the compiler checks the
 * params and the result types; this checks the server answers those shapes), the
 * fs/missingChanged notification arrives, and every declared request is routed.
 */
import { after, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ExecClient } from '../../src/client/client';
import { RpcError } from '../../src/protocol/errors';
import type { FsMissingChangedNotification } from '../../src/protocol/fsTypes';
import {
  EnvironmentConfigRead, FsCanonicalize, FsClose, FsCopy, FsCreateDirectory, FsGetMetadata, FsMissingChanged, FsOpen,
  FsReadBlock, FsReadDirectory, FsReadFile, FsRemove, FsWatchMissing, FsWriteFile, GetEnvironmentInfo, REQUEST_GROUPS,
} from '../../src/protocol/methods';
import { ExecServer } from '../../src/server/execServer';

const server = new ExecServer({}, { watchdog: false });
const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'typed-client-')));
after(async () => {
  await server.shutdown();
  fs.rmSync(dir, { recursive: true, force: true });
});
const uri = (...p: string[]) => pathToFileURL(path.join(dir, ...p)).href;
const b64 = (s: string) => Buffer.from(s).toString('base64');

test('fs/* through ExecClient.call: the declared results, in order on one connection', async () => {
  const c = await ExecClient.connectInProcess(server, { resumeSessionId: null });
  try {
    assert.deepEqual(await c.call(FsCreateDirectory, { path: uri('a', 'b') }), {});
    assert.deepEqual(await c.call(FsWriteFile, { path: uri('a', 'b', 'f.txt'), dataBase64: b64('hello typed\n') }), {});
    const read = await c.call(FsReadFile, { path: uri('a', 'b', 'f.txt') });
    assert.equal(Buffer.from(read.dataBase64, 'base64').toString(), 'hello typed\n');
    const meta = await c.call(FsGetMetadata, { path: uri('a', 'b', 'f.txt') });
    assert.deepEqual([meta.isFile, meta.isDirectory, meta.isSymlink, meta.size], [true, false, false, 12]);
    assert.equal(typeof meta.modifiedAtMs, 'number');
    const list = await c.call(FsReadDirectory, { path: uri('a', 'b') });
    assert.deepEqual(list.entries, [{ fileName: 'f.txt', isDirectory: false, isFile: true }]);
    assert.deepEqual(await c.call(FsCopy, { sourcePath: uri('a'), destinationPath: uri('copy'), recursive: true }), {});
    assert.equal((await c.call(FsCanonicalize, { path: `${uri('copy', 'b')}/../b/f.txt` })).path, uri('copy', 'b', 'f.txt'));
    assert.deepEqual(await c.call(FsOpen, { handleId: 'h', path: uri('copy', 'b', 'f.txt') }), { handleId: 'h' });
    const block = await c.call(FsReadBlock, { handleId: 'h', offset: 6, len: 100 });
    assert.deepEqual([Buffer.from(block.chunk, 'base64').toString(), block.eof], ['typed\n', true]);
    assert.deepEqual(await c.call(FsClose, { handleId: 'h' }), {});
    assert.deepEqual(await c.call(FsRemove, { path: uri('copy') }), {});
    assert.equal(fs.existsSync(path.join(dir, 'copy')), false);
    await assert.rejects(c.call(FsReadFile, { path: uri('copy', 'b', 'f.txt') }), (e: unknown) => e instanceof RpcError && e.code === -32004);
  } finally {
    c.close();
  }
});

test('fs/watchMissing: the client gets fs/missingChanged as declared', async () => {
  const c = await ExecClient.connectInProcess(server, { resumeSessionId: null });
  try {
    let timer: NodeJS.Timeout | undefined;
    // Bounded, and a pending timer keeps the loop alive meanwhile (the watch's poll timer is unref'd).
    const got = new Promise<FsMissingChangedNotification>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error('no fs/missingChanged within 10 s')), 10_000);
      c.on('notification', (method: string, params: FsMissingChangedNotification) => method === FsMissingChanged.method && resolve(params));
    }).finally(() => clearTimeout(timer));
    assert.deepEqual(await c.call(FsWatchMissing, { watchId: 7, missing: [uri('later')], present: null }), { watching: true });
    fs.mkdirSync(path.join(dir, 'later'));
    assert.deepEqual(await got, { watchId: 7, path: uri('later'), change: 'created' });
  } finally {
    c.close();
  }
});

test('environment/info and environmentConfig/read through ExecClient.call', async () => {
  const codexHome = fs.mkdtempSync(path.join(dir, 'codex-home-'));
  fs.writeFileSync(path.join(codexHome, 'config.toml'), 'model = "m"\n[mcp_servers.x]\ncommand = "y"\n');
  const saved = process.env.CODEX_HOME;
  process.env.CODEX_HOME = codexHome; // the in-process server reads it per request
  const c = await ExecClient.connectInProcess(server, { resumeSessionId: null });
  try {
    const info = await c.call(GetEnvironmentInfo, null);
    assert.equal(info.executorVersion, c.environmentInfo?.executorVersion);
    assert.equal(info.capabilities.fsWatchMissing, true);
    assert.equal(info.tempDir, pathToFileURL(os.tmpdir()).href);
    const config = await c.call(EnvironmentConfigRead, { cwd: pathToFileURL(dir).href, configPaths: [['mcp_servers']], requirementsPaths: [] });
    assert.equal(config.codexHomeDir, pathToFileURL(codexHome).href);
    const user = config.config.layers.find((l) => l.source.startsWith('user:'));
    assert.equal(user?.toml, '[mcp_servers.x]\ncommand = "y"\n');
    assert.deepEqual(config.requirements.layers, []);
  } finally {
    c.close();
    if (saved === undefined) delete process.env.CODEX_HOME;
    else process.env.CODEX_HOME = saved;
  }
});

test('every declared request is routed: bad params get -32602 or an answer, never -32601', async () => {
  const c = await ExecClient.connectInProcess(server, { resumeSessionId: null });
  try {
    const methods = REQUEST_GROUPS.flatMap((g) => g.methods.map((m) => m.method));
    assert.equal(new Set(methods).size, methods.length, 'each method declared once');
    for (const method of methods) {
      const code = await c.request(method, 'not an object').then(
        () => 'answered',
        (e: unknown) => (e instanceof RpcError ? e.code : String(e)),
      );
      assert.ok(code === 'answered' || code === -32602, `${method}: ${code}`);
    }
  } finally {
    c.close();
  }
});
