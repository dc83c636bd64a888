// Real agents, offline, with the MCP bridge: codex 0.171, Claude Code 2.1.332, Gemini CLI 0.61,
// Copilot CLI 1.0.102 and opencode 1.18.33,
// each against its mock model API on 127.0.0.1, each configured with `exec-server mcp` under the
// name `exec`, with only EXEC_SERVER_DISCOVERY_DIR in the server's env (as a user's config would
// carry it) and no URL or token variable anywhere: the bridge finds our exec server through the
// discovery file whose workspaceFolders hold the agent's workspace. The mock makes the model call
// run_command with a command that prints a marker and its ancestry; the test asserts that the
// command ran under OUR server (its pid among the ancestors) and not under the agent or the
// bridge, and that its output reached the model's next request.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as agents from './agents.mjs';
import { agentBins, ancestryCommand, bridgeServer, markerOutput, parseAncestors } from './harness.mjs';
import { describeRun, runScenario } from './scenario.mjs';

const BINS = agentBins(['codex', 'claude', 'gemini', 'copilot', 'opencode']);

for (const agent of [agents.codex, agents.claude, agents.gemini, agents.copilot, agents.opencode]) {
  test(`${agent.name}: run_command through the bridge runs under our exec server, found by discovery`, async (t) => {
    const tag = `${agent.name}${process.pid}`;
    const s = await runScenario({
      agent,
      bin: BINS[agent.name],
      label: agent.name,
      script: () => [agent.toolCall('exec', 'run_command', { command: ancestryCommand(tag), yield_ms: 20_000 }), { text: 'DONE' }],
      configure: ({ world, bin, mockUrl }) => agent.configure({ world, bin, mockUrl, mcp: bridgeServer(world), prompt: 'Run the check.' }),
    });
    t.diagnostic(`${agent.name}: agent run ${s.result.ms} ms`);
    const why = describeRun(s);
    assert.equal(s.result.timedOut, false, why);
    assert.equal(s.result.code, 0, why);

    // The tool result came back to the model in its next request, with the marker the shell computed.
    const result = s.toolResults.find((r) => /run_command/.test(r.name ?? '') || r.text.includes(markerOutput(tag)));
    assert.ok(result, `no run_command result reached the mock: ${why}`);
    assert.ok(result.text.includes(markerOutput(tag)), `marker missing from the tool result: ${why}`);
    assert.equal(result.isError, false, why);

    // Where it ran: under our server, not under the agent (nor, thus, its bridge).
    const ancestors = parseAncestors(result.text);
    assert.ok(ancestors.length >= 2, why);
    assert.ok(ancestors.includes(s.serverPid), `server pid ${s.serverPid} not among the command's ancestors ${ancestors}`);
    assert.ok(!ancestors.includes(s.result.pid), `the agent (pid ${s.result.pid}) is an ancestor of the command`);
    assert.ok(s.bridges.size >= 1, `no bridge process seen under the agent: ${why}`);
    for (const [pid, names] of s.bridges) {
      assert.ok(!ancestors.includes(pid), `the bridge (pid ${pid}) is an ancestor of the command`);
      // Discovery, not variables: the bridge had neither a URL nor a token in its environment.
      assert.ok(!names.includes('EXEC_SERVER_URL') && !names.includes('EXEC_SERVER_TOKEN'), `bridge env: ${names}`);
      assert.ok(names.includes('EXEC_SERVER_DISCOVERY_DIR'), `bridge env lacks the discovery dir: ${names}`);
    }
  });
}

test('codex: with no server advertised for the workspace, run_command returns an error and runs nothing', async (t) => {
  const agent = agents.codex;
  const tag = `none${process.pid}`;
  const s = await runScenario({
    agent,
    bin: BINS.codex,
    label: 'codex-noserver',
    discoveryDir: () => null, // the server runs, but no discovery file points at it
    script: () => [agent.toolCall('exec', 'run_command', { command: ancestryCommand(tag) }), { text: 'DONE' }],
    configure: ({ world, bin, mockUrl }) => agent.configure({ world, bin, mockUrl, mcp: bridgeServer(world), prompt: 'Run the check.' }),
  });
  t.diagnostic(`codex (no server): agent run ${s.result.ms} ms`);
  const why = describeRun(s);
  assert.equal(s.result.code, 0, why);
  const result = s.toolResults[0];
  assert.ok(result, `no tool result reached the mock: ${why}`);
  assert.ok(!result.text.includes(markerOutput(tag)), `the command ran although no server was found: ${why}`);
  assert.match(result.text, /no exec server found/i, why);
});
