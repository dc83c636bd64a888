import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { ExecClient } from '../../../src/client/client';
import type { DiscoveryInfo } from '../../../src/discovery/discoveryFiles';
import type { ExecServerApi } from '../../../src/extension/extension';
import { groupMembers, recordPid, waitFor } from './helpers';

/**
 * Runs last (files run in name order): leaves a process and its grandchild running when the
 * suite ends. Closing the window must end them (deactivate(), or the watchdog): the runner
 * checks every recorded pid once the window is closed. The earlier files restart the server and
 * use Terminate All, so this cannot be left to them.
 */
describe('teardown: work left for deactivation', () => {
  it('leaves a process group running for the check after the window closes', async () => {
    const api = await vscode.extensions.getExtension<ExecServerApi>('exec-server-dev.exec-server-vscode')!.activate();
    await api.ready;
    const info = JSON.parse(fs.readFileSync(api.discoveryFile!, 'utf8')) as DiscoveryInfo;
    // A resumable session: its processes outlive this connection, so only deactivation ends them.
    const client = await ExecClient.connectWebSocket(info.url, { token: info.token, clientName: 'left-for-deactivation', resumeSessionId: null });
    const left = await client.start({ processId: 'left-running', argv: ['sh', '-c', 'sleep 307 & sleep 308; wait'] });
    recordPid(left.pid);
    const members = await waitFor('grandchild started', () => (groupMembers(left.pid).length >= 3 ? groupMembers(left.pid) : null));
    for (const m of members) recordPid(m);
    await waitFor('listed', () => api.findProcessNode(left.pid));
    assert.equal(api.state, 'running');
  });
});
