/**
 * What the extension's tree sees of a bridge session, through the server's admin API
 * (the same feed the sidebar uses): the session named by the MCP client's clientInfo.name, the
 * process's metadata, and after the bridge shuts down its processes ended as stopped.
 */
import { after, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { ExecServer } from '../../src/server/execServer';
import { adminInProcess } from '../../src/server/admin/adminApi';
import { listenWebSocket } from '../../src/transport/websocket';
import { friendlyAgentName } from '../../src/protocol/agentNames';
import { writeTokenFile } from '../helpers/cli';
import { ProcessGuard, waitUntil } from '../helpers/procs';
import { cleanEnv, inMemoryBridge, tempDir } from './mcpHarness';

const guard = new ProcessGuard();

test('the tree sees the agent by name, the command and description as metadata, and its processes ended once the bridge leaves', async () => {
  const server = new ExecServer({ terminateGraceMs: 300 });
  const ws = await listenWebSocket(server, { token: 'tree-test-token' });
  after(async () => {
    await ws.close();
    await server.shutdown();
  });
  const admin = adminInProcess(server);
  const tokenFile = writeTokenFile('tree-test-token');
  const bridge = await inMemoryBridge({ url: ws.url, tokenFile, cwd: tempDir('mcp-tree-'), env: cleanEnv(), clientName: 'gemini-cli-mcp-client' });
  const r = await bridge.call('run_command', { command: 'sleep 300', yield_ms: 0, description: 'wait a while' });
  assert.equal(r.isError, false, r.text);
  guard.trackGroup(r.structured.pid);
  const snap = await admin.snapshot();
  assert.equal(snap.sessions.length, 1);
  assert.equal(snap.sessions[0].clientName, 'gemini-cli-mcp-client');
  assert.equal(friendlyAgentName(snap.sessions[0].clientName), 'Gemini CLI');
  const p = snap.processes.find((x) => x.pid === r.structured.pid)!;
  assert.ok(p);
  assert.equal(p.argv[p.argv.length - 1], 'sleep 300');
  assert.match(p.argv[1], /^-l?c$/);
  assert.deepEqual(
    { source: p.metadata?.source, command: p.metadata?.command, description: p.metadata?.description, mcpClient: p.metadata?.mcpClient },
    { source: 'mcp', command: 'sleep 300', description: 'wait a while', mcpClient: 'gemini-cli-mcp-client' },
  );
  const ended: string[] = [];
  const sub = admin.subscribe({ processChanged: (x) => x.pid === r.structured.pid && x.state === 'closed' && ended.push(x.stopRequest ?? 'none') });
  await bridge.close();
  await waitUntil(() => ended.length > 0, 'the process to be reported closed');
  sub.dispose();
  assert.equal(ended[0], 'terminate');
});
