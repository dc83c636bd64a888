import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { ExecClient } from '../../../src/client/client';
import type { DiscoveryInfo } from '../../../src/discovery/discoveryFiles';
import type { ExecServerApi, TreeSnapshotItem } from '../../../src/extension/extension';
import {
  CHANNEL_BURST_CHARS,
  CHANNEL_MAX_CHARS,
  CHANNEL_RATE_CHARS_PER_S,
  REPLAY_MAX_CHARS,
} from '../../../src/extension/outputThrottle';
import { REFRESH_DEBOUNCE_MS } from '../../../src/extension/processTree';
import { alive, groupMembers, recordPid, recordPids, startAgent, waitFor } from './helpers';

/**
 * Behaviour under load, in the real extension host: 500 concurrent processes and a process
 * printing 100 MiB. What is asserted is behaviour (everything listed, refreshes debounced,
 * channel writes bounded, commands complete, nothing left running), never speed: the figures
 * are measured by bench/extension.mjs.
 */
describe(`Exec Server under load (inside VS Code, ${process.env.EXEC_SERVER_EXPECT_MODE ?? 'inProcess'} host)`, function () {
  this.timeout(240_000);
  let api: ExecServerApi;
  let info: DiscoveryInfo;

  before(async () => {
    api = await vscode.extensions.getExtension<ExecServerApi>('exec-server-dev.exec-server-vscode')!.activate();
    await api.ready;
    info = JSON.parse(fs.readFileSync(api.discoveryFile!, 'utf8')) as DiscoveryInfo;
  });

  it('500 concurrent processes: all listed, the tree refreshed far fewer times than they changed, Terminate All ends them all and Clear Finished empties the tree', async () => {
    const n = 500;
    const clientName = `load-agent-${process.pid}`;
    const client = await ExecClient.connectWebSocket(info.url, { token: info.token, clientName });
    try {
      const before = api.counters;
      const t0 = Date.now();
      const started = await Promise.all(Array.from({ length: n }, (_, i) => client.start({ processId: `load-${i}`, argv: ['sleep', '30'] })));
      recordPids(started.map((s) => s.pid));
      const session = () => api.getTreeSnapshot().find((s) => s.label === clientName);
      const running = (c: TreeSnapshotItem) => c.contextValue.startsWith('process.running');
      const rows = await waitFor('all 500 listed as running', () => {
        const children = session()?.children ?? [];
        return children.filter(running).length === n ? children : null;
      });
      // Through the tree data provider (getChildren/getTreeItem): every pid, once.
      const listedPids = rows.map((r) => Number(/pid (\d+)/.exec(r.description)?.[1])).sort((a, b) => a - b);
      assert.deepEqual(listedPids, started.map((s) => s.pid).sort((a, b) => a - b));
      assert.match(session()!.description, new RegExp(`^connected · ${n} running`));

      const signalled = await vscode.commands.executeCommand<number>('execServer.terminateAll', { confirm: false });
      assert.ok(signalled >= n, `signalled ${signalled}`);
      await waitFor('every process gone', () => started.every((s) => !alive(s.pid)));
      await waitFor('none listed as running', () => (session()?.children ?? []).every((c) => !running(c)));
      const elapsed = Date.now() - t0;
      const after = api.counters;
      const events = after.modelChanges - before.modelChanges;
      const refreshes = after.treeRefreshes - before.treeRefreshes;
      // Each process changed at least twice (started, exited): 1000+ model events.
      assert.ok(events >= 2 * n, `${events} model events`);
      // Debounced: a whole-tree refresh waits for a REFRESH_DEBOUNCE_MS timer, so there can be at
      // most one per period of the time this took (the timer's property, not a speed claim)...
      assert.ok(refreshes <= Math.ceil(elapsed / REFRESH_DEBOUNCE_MS) + 1, `${refreshes} refreshes in ${elapsed} ms`);
      // ...and far fewer than the events.
      assert.ok(refreshes * 10 <= events, `${refreshes} refreshes for ${events} events`);

      const cleared = await vscode.commands.executeCommand<number>('execServer.clearFinished');
      assert.ok(cleared >= 1);
      assert.deepEqual(session()?.children ?? [], [], 'the tree lists none of them');
      for (const s of started) assert.deepEqual(groupMembers(s.pid), [], `process group ${s.pid} is empty`);
    } finally {
      client.close();
    }
  });

  it('a process printing 100 MiB with its output channel open: channel writes stay bounded, commands complete during the flood, nothing is left running', async () => {
    const total = 100 * 1024 * 1024;
    const line = 'exec-server flood line 0123456789abcdefghijklmnopqrstuvwxyz';
    // It keeps running after the flood (sleep), so that stopping it is part of the test.
    const script = `yes '${line}' | head -c ${total}; echo; echo flood-done; exec sleep 600`;
    const agent = startAgent(info.url, info.token, ['sh', '-c', script], 'flood100', { clientName: `flood-agent-${process.pid}` });
    try {
      const pid = await agent.started;
      recordPid(pid);
      recordPid(agent.pid);
      const key = await waitFor('the flood in the tree', () => api.getTreeSnapshot().flatMap((s) => s.children).find((c) => c.key?.endsWith('/flood100'))?.key);
      await vscode.commands.executeCommand('execServer.showOutput', key);

      // During the flood: a command to the workbench and back, commands of the extension, and
      // the tree provider all answer (bounded only by mocha's timeout: no timed assertion).
      await waitFor('the agent received 30 MiB', () => agent.bytes() >= 30 * 1024 * 1024);
      await vscode.commands.executeCommand('setContext', 'execServerTest.flooding', true);
      await vscode.commands.executeCommand('execServer.showView');
      assert.ok(api.getTreeSnapshot().some((s) => s.children.some((c) => c.key === key)));
      for (const m of groupMembers(pid)) recordPid(m);

      const text = await waitFor('the end of the flood in the channel', () => {
        const t = api.outputChannelText(key);
        return t?.includes('flood-done\n') ? t : null;
      });
      const st = api.outputChannelStats(key)!;
      // Bounded: what the channel holds...
      assert.ok(st.chars <= CHANNEL_MAX_CHARS, `channel holds ${st.chars}`);
      assert.equal(st.chars, text.length);
      // ...and what was sent to VS Code: one replay on opening, then the token bucket's bound over
      // the time between the first and last write (each write may overdraw by one small write).
      const span = (st.lastWriteAt! - st.firstWriteAt!) / 1000;
      const bound = REPLAY_MAX_CHARS + 1_000 + CHANNEL_BURST_CHARS + CHANNEL_RATE_CHARS_PER_S * span + (st.appends + st.replaces) * (4 * 1024 + 200);
      assert.ok(st.charsSent <= bound, `sent ${st.charsSent} > ${bound} in ${span} s`);
      assert.ok(st.charsSkipped > 0, 'most of the flood was skipped, not written');
      assert.match(text, /characters skipped/);
      if (st.replaces === 0) assert.ok(text.startsWith('$ sh -c '), 'the header is kept');

      // Stop it from the tree, as a user would: its whole group ends, the agent gets all output.
      await vscode.commands.executeCommand('execServer.terminateProcess', api.findProcessNode(pid));
      await waitFor('the flood process group is gone', () => groupMembers(pid).length === 0);
      const report = await agent.closed;
      assert.equal(report.bytes, total + '\nflood-done\n'.length);
      await waitFor('the channel shows the end', () => api.outputChannelText(key)?.includes('[process ended: killed by SIGTERM]'));
      assert.ok(api.outputChannelStats(key)!.chars <= CHANNEL_MAX_CHARS);
    } finally {
      await agent.stop();
    }
    assert.equal(alive(agent.pid), false, 'the agent process ended');
    await vscode.commands.executeCommand('execServer.clearFinished');
  });
});
