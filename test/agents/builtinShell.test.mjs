// The set-up `exec-server connect <agent> --write` produces (written into a throwaway HOME) keeps
// the agent's BUILT-IN shell tool from running anything outside our server: Claude Code's `Bash`,
// Gemini CLI's `run_shell_command` and opencode's `bash` are no longer offered to the model and a
// call to them anyway is refused; Copilot CLI's `bash` stays listed but is denied by the set-up's
// `--deny-tool shell`. The bridge's run_command, from the set-up's own MCP entry, runs under the
// server, found by discovery in the default directory with no variable at all.
//
// Each agent first gets a control run without the set-up, with the same scripted call to its
// built-in shell tool allowed: the marker file appears, which proves the refusal that follows is
// the set-up's doing and not a mock that never reached the tool.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as agents from './agents.mjs';
import { CLI, NODE, agentBins, ancestryCommand, baseEnv, markerOutput, parseAncestors } from './harness.mjs';
import { describeRun, runScenario } from './scenario.mjs';

const BINS = agentBins(['codex', 'claude', 'gemini', 'copilot', 'opencode']);

// allowedTools / extraArgs: what the user passes on the command line in both runs (the built-in
// shell explicitly allowed: the set-up's deny must still win). setupArgs: what the set-up asks to
// add to every run (Copilot CLI: its alias `copilot --deny-tool shell`). refusal: the error the
// model gets; errorFlag: the API marks tool results as errors (Responses and Chat Completions
// have no such flag); stillOffered: the tool stays in the list and is denied when called.
const CASES = [
  { agent: agents.claude, connectName: 'claude-code', builtin: 'Bash', allowedTools: ['mcp__exec', 'Bash'], refusal: /No such tool available: Bash/, errorFlag: true },
  { agent: agents.gemini, connectName: 'gemini-cli', builtin: 'run_shell_command', refusal: /Tool "run_shell_command" not found/, errorFlag: true },
  {
    agent: agents.copilot,
    connectName: 'copilot-cli',
    builtin: 'bash',
    extraArgs: ['--allow-all-tools'],
    setupArgs: ['--deny-tool', 'shell'],
    refusal: /Permission to run this tool was denied due to the following rules: `shell`/,
    stillOffered: true,
  },
  { agent: agents.opencode, connectName: 'opencode', builtin: 'bash', refusal: /unavailable tool 'bash'/ },
];

/** Gemini CLI refuses `$(…)` in its own shell tool: keep the built-in command plain. */
const builtinCommand = (flag) => `touch ${flag} && echo BUILTIN_RAN`;

for (const c of CASES) {
  const { agent } = c;

  test(`${agent.name} control: without the set-up, its built-in ${c.builtin} runs the command`, async (t) => {
    const s = await runScenario({
      agent,
      bin: BINS[agent.name],
      label: `${agent.name}-control`,
      script: ({ world }) => [{ tool: c.builtin, args: { command: builtinCommand(join(world.workspace, 'builtin-ran')), description: 'touch a file' } }, { text: 'DONE' }],
      configure: ({ world, bin, mockUrl }) => agent.configure({ world, bin, mockUrl, mcp: null, prompt: 'Run it.', allowedTools: c.allowedTools, extraArgs: c.extraArgs }),
      after: (world) => ({ ran: existsSync(join(world.workspace, 'builtin-ran')) }),
    });
    t.diagnostic(`${agent.name} control: agent run ${s.result.ms} ms`);
    const why = describeRun(s);
    assert.equal(s.result.code, 0, why);
    assert.ok(s.turns[0]?.offered.includes(c.builtin), `${c.builtin} not offered without the set-up: ${why}`);
    assert.equal(s.after.ran, true, `the built-in ${c.builtin} did not run in the control: ${why}`);
  });

  test(`${agent.name} with \`connect ${c.connectName} --write\`: ${c.builtin} is refused, run_command runs under our server`, async (t) => {
    const tag = `${agent.name}setup${process.pid}`;
    const s = await runScenario({
      agent,
      bin: BINS[agent.name],
      label: `${agent.name}-setup`,
      // The set-up's bridge gets no discovery variable: advertise in the default directory of a
      // user without XDG_RUNTIME_DIR, ~/.exec-server-vscode.
      discoveryDir: (world) => {
        const dir = join(world.home, '.exec-server-vscode');
        mkdirSync(dir, { recursive: true, mode: 0o700 });
        return dir;
      },
      setup: (world) => {
        const env = baseEnv(world);
        execFileSync(NODE, [CLI, 'connect', c.connectName, '--write'], { cwd: world.workspace, env, stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
      },
      script: ({ world }) => [
        { tool: c.builtin, args: { command: builtinCommand(join(world.workspace, 'builtin-ran')), description: 'touch a file' } },
        agent.toolCall('exec', 'run_command', { command: ancestryCommand(tag), yield_ms: 20_000 }),
        { text: 'DONE' },
      ],
      configure: ({ world, bin, mockUrl }) =>
        agent.configure({ world, bin, mockUrl, mcp: null, prompt: 'Run it.', allowedTools: c.allowedTools, extraArgs: [...(c.extraArgs ?? []), ...(c.setupArgs ?? [])] }),
      after: (world) => ({ ran: existsSync(join(world.workspace, 'builtin-ran')) }),
    });
    t.diagnostic(`${agent.name} with the set-up: agent run ${s.result.ms} ms`);
    const why = describeRun(s);
    assert.equal(s.result.timedOut, false, why);
    assert.equal(s.result.code, 0, why);

    // The built-in shell tool is not offered, a call to it anyway is an error, and it ran nothing.
    if (!c.stillOffered) for (const turn of s.turns) assert.ok(!turn.offered.includes(c.builtin), `${c.builtin} offered at turn ${turn.turn}: ${why}`);
    const refused = s.toolResults[0];
    assert.ok(refused, `no result for the ${c.builtin} call: ${why}`);
    if (c.errorFlag) assert.equal(refused.isError, true, why);
    assert.match(refused.text, c.refusal, why);
    assert.ok(!refused.text.includes('BUILTIN_RAN'), why);
    assert.equal(s.after.ran, false, `the built-in ${c.builtin} ran outside the server: ${why}`);

    // run_command, from the set-up's own bridge, ran under our server.
    const ran = s.toolResults[1];
    assert.ok(ran && ran.text.includes(markerOutput(tag)), `run_command's output did not reach the model: ${why}`);
    const ancestors = parseAncestors(ran.text);
    assert.ok(ancestors.includes(s.serverPid), `server pid ${s.serverPid} not among ${ancestors}`);
    assert.ok(!ancestors.includes(s.result.pid), `the agent is an ancestor of the command`);
    assert.ok(s.bridges.size >= 1, `the set-up's bridge was not seen under the agent: ${why}`);
    for (const pid of s.bridges.keys()) assert.ok(!ancestors.includes(pid), `the bridge (pid ${pid}) is an ancestor of the command`);
  });
}

// codex needs no refusal: its own shell tool runs in the exec server natively when
// CODEX_EXEC_SERVER_URL names it (what the extension's terminal integration sets in VS Code
// terminals). Seen with 0.171: in that mode codex reads [mcp_servers] through the server
// (environmentConfig/read) but starts none of them, so the set-up's MCP tools are not offered
// there; its built-in exec_command is what runs, under our server.
test('codex with `connect codex --write` and CODEX_EXEC_SERVER_URL: its built-in exec_command runs under our server', async (t) => {
  const agent = agents.codex;
  const tag = `codexsetup${process.pid}`;
  let serverUrl;
  const s = await runScenario({
    agent,
    bin: BINS.codex,
    label: 'codex-setup',
    setup: (world, server) => {
      serverUrl = `${server.url}/?token=${server.token}`; // in the agent's environment only, never argv
      execFileSync(NODE, [CLI, 'connect', 'codex', '--write'], { cwd: world.workspace, env: baseEnv(world), stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
    },
    script: () => [{ tool: 'exec_command', args: { cmd: ancestryCommand(tag), yield_time_ms: 10_000 } }, { text: 'DONE' }],
    configure: ({ world, bin, mockUrl }) => {
      const c = agent.configure({ world, bin, mockUrl, mcp: null, prompt: 'Run it.' });
      c.env.CODEX_EXEC_SERVER_URL = serverUrl;
      return c;
    },
  });
  t.diagnostic(`codex with the set-up: agent run ${s.result.ms} ms`);
  const why = describeRun(s);
  assert.equal(s.result.timedOut, false, why);
  assert.equal(s.result.code, 0, why);
  const builtin = s.toolResults[0];
  assert.equal(builtin?.name, 'exec_command', why);
  assert.ok(builtin.text.includes(markerOutput(tag)), `exec_command output missing: ${why}`);
  const ancestors = parseAncestors(builtin.text);
  assert.ok(ancestors.includes(s.serverPid), `server pid ${s.serverPid} not among ${ancestors}`);
  assert.ok(!ancestors.includes(s.result.pid), `codex is an ancestor of its command: it ran locally`);
});

test('codex control: without CODEX_EXEC_SERVER_URL its exec_command runs locally, under codex', async (t) => {
  const agent = agents.codex;
  const tag = `codexlocal${process.pid}`;
  const s = await runScenario({
    agent,
    bin: BINS.codex,
    label: 'codex-control',
    script: () => [{ tool: 'exec_command', args: { cmd: ancestryCommand(tag), yield_time_ms: 10_000 } }, { text: 'DONE' }],
    configure: ({ world, bin, mockUrl }) => agent.configure({ world, bin, mockUrl, mcp: null, prompt: 'Run it.' }),
  });
  t.diagnostic(`codex control: agent run ${s.result.ms} ms`);
  const why = describeRun(s);
  assert.equal(s.result.code, 0, why);
  const ancestors = parseAncestors(s.toolResults[0]?.text ?? '');
  assert.ok(ancestors.includes(s.result.pid), `codex not among the ancestors of its local command: ${why}`);
  assert.ok(!ancestors.includes(s.serverPid), why);
});
