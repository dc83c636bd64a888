/**
 * Finding the server with no variable at all: two real servers advertise different workspace
 * folders in a discovery directory; the bridge picks the one whose folder holds its working
 * directory (or, when it works elsewhere, one of the MCP client's roots), and after that server
 * goes away it follows the one now advertised for the folder.
 */
import { before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeDiscoveryFile } from '../../src/discovery/discoveryFiles';
import { startWsCli, type CliServer } from '../helpers/cli';
import { ProcessGuard, waitUntil } from '../helpers/procs';
import { ancestorsOf, cleanEnv, inMemoryBridge, stdioBridge, tempDir, untilEnded } from './mcpHarness';

const guard = new ProcessGuard();
let a: CliServer;
let b: CliServer;
let dir: string;
let folderA: string;
let folderB: string;

async function advertise(s: CliServer, folder: string, startedAt = new Date().toISOString()): Promise<void> {
  await writeDiscoveryFile(
    { url: s.url, port: s.port, token: s.token!, pid: s.pid, workspaceFolders: [folder], appName: 'test', protocolVersion: 'exec-server.v0', startedAt },
    dir,
  );
}

async function serverOf(pid: number): Promise<number> {
  await waitUntil(() => ancestorsOf(pid).length > 0, 'the process in /proc');
  const anc = ancestorsOf(pid);
  return [a, b].find((s) => anc.includes(s.pid))?.pid ?? -1;
}

before(async () => {
  [a, b] = await Promise.all([startWsCli(guard), startWsCli(guard)]);
  dir = tempDir('mcp-discovery-');
  folderA = tempDir('mcp-folder-a-');
  folderB = tempDir('mcp-folder-b-');
  await advertise(a, folderA);
  await advertise(b, folderB);
});

test('over stdio, no variables: the server whose folder holds the cwd runs the command, in that cwd', async () => {
  const sub = path.join(folderB, 'pkg');
  fs.mkdirSync(sub);
  const env = cleanEnv({ EXEC_SERVER_DISCOVERY_DIR: dir });
  for (const [cwd, expected] of [[sub, b], [folderA, a]] as const) {
    const m = await stdioBridge(guard, { cwd, env, clientName: 'gemini-cli-mcp-client' });
    const r = await m.call('run_command', { command: 'pwd; sleep 0.5', yield_ms: 0 });
    assert.equal(r.isError, false, r.text);
    assert.equal(await serverOf(r.structured.pid), expected.pid);
    assert.ok(!ancestorsOf(r.structured.pid).includes(m.child.pid!));
    let out = r.structured.output as string;
    for (let i = 0; i < 20 && !out.includes('\n'); i++) out += (await m.call('get_output', { process_id: r.structured.process_id, wait_ms: 5_000 })).structured.output;
    assert.equal(out, `${cwd}\n`);
    await m.close();
  }
});

test('a bridge working outside every folder uses the MCP roots: that server, and the root’s folder as default cwd', async () => {
  const elsewhere = tempDir('mcp-elsewhere-');
  const m = await inMemoryBridge({ cwd: elsewhere, env: cleanEnv({ EXEC_SERVER_DISCOVERY_DIR: dir }), roots: [folderA], clientName: 'Visual Studio Code' });
  try {
    const r = await m.call('run_command', { command: 'pwd; sleep 1', yield_ms: 0 });
    assert.equal(r.isError, false, r.text);
    assert.equal(await serverOf(r.structured.pid), a.pid);
    const { output } = await untilEnded(m, r.structured.process_id);
    assert.equal(r.structured.output + output, `${folderA}\n`);
  } finally {
    await m.close();
  }
});

test('after its server goes away the bridge follows the one now advertised for the folder', async () => {
  const m = await stdioBridge(guard, { cwd: folderB, env: cleanEnv({ EXEC_SERVER_DISCOVERY_DIR: dir }) });
  const r1 = await m.call('run_command', { command: 'echo first' });
  assert.equal(r1.isError, false, r1.text);
  const c = await startWsCli(guard);
  await advertise(c, folderB, new Date(Date.now() + 1000).toISOString());
  await b.stop(); // a window reload: the old server (and its discovery file's pid) is gone
  const r2 = await m.call('run_command', { command: 'echo second; sleep 0.5', yield_ms: 0 });
  assert.equal(r2.isError, false, r2.text);
  await waitUntil(() => ancestorsOf(r2.structured.pid).length > 0, 'the process in /proc');
  assert.ok(ancestorsOf(r2.structured.pid).includes(c.pid));
  await m.close();
});
