/** Unit tests of the agent set-ups (src/agents): pure functions and merges, no processes. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AGENTS, agentSetup, shellQuote, type AgentId } from '../../src/agents/agents';
import { mergeJson } from '../../src/agents/jsonMerge';
import { configFile } from '../../src/agents/paths';
import { upsertTomlTable } from '../../src/agents/tomlTable';
import { writeAgentSetup } from '../../src/agents/writeSetup';

const L = ['/usr/bin/node', '/home/u/.vscode/ext/dist/cli.js'];

test('every agent: the exec server runs "<launcher> mcp"; no token; steps well formed', () => {
  assert.deepEqual(
    AGENTS.map((a) => a.id),
    ['claude-code', 'gemini-cli', 'codex', 'copilot-cli', 'opencode', 'cursor', 'vscode'],
  );
  for (const { id, label } of AGENTS) {
    const s = agentSetup(id, L);
    assert.equal(s.agent, id);
    assert.equal(s.label, label);
    assert.ok(s.steps.length >= 1 && s.notes.length >= 1);
    const all = JSON.stringify(s);
    assert.ok(all.includes('/home/u/.vscode/ext/dist/cli.js'), id);
    assert.ok(!/EXEC_SERVER_TOKEN|\?token=|auth_bearer/.test(s.steps.map((x) => x.text).join('\n')), `${id} step has a token`);
    for (const step of s.steps) {
      if (step.kind === 'json') {
        assert.ok(step.file, `${id}: json step without a file`);
        JSON.parse(step.text);
      }
      if (step.kind === 'toml') assert.match(step.text, /^\[mcp_servers\.exec\]\ncommand = "\/usr\/bin\/node"\nargs = \[".*cli\.js", "mcp"\]\n$/);
    }
  }
});

test("each agent with a built-in shell tool gets it taken away (never an allow)", () => {
  const text = (id: AgentId) => agentSetup(id, L).steps.map((s) => s.text).join('\n');
  assert.deepEqual(JSON.parse(agentSetup('claude-code', L).steps[1].text), { permissions: { deny: ['Bash'] } });
  assert.deepEqual(JSON.parse(text('gemini-cli')).tools, { exclude: ['run_shell_command'] });
  assert.match(text('copilot-cli'), /--excluded-tools=bash --deny-tool=shell/);
  assert.deepEqual(JSON.parse(text('opencode')).permission, { bash: 'deny' });
  for (const { id } of AGENTS) {
    assert.ok(!/"allow"|permissionDecision|yolo|trust"\s*:\s*true|allow-all/.test(text(id)), `${id} loosens a policy`);
  }
  // codex runs natively through the server; the notes say how.
  assert.ok(agentSetup('codex', L).notes.some((n) => n.includes('CODEX_EXEC_SERVER_URL')));
});

test('shell quoting of the launcher in command lines', () => {
  assert.equal(shellQuote('/usr/bin/node'), '/usr/bin/node');
  assert.equal(shellQuote("/a b/it's"), `'/a b/it'\\''s'`);
  const cmd = agentSetup('claude-code', ['/opt/my tools/exec-server']).steps[0].text;
  assert.equal(cmd, "claude mcp add --scope user exec -- '/opt/my tools/exec-server' mcp");
});

test('mergeJson: objects merge, scalars and arrays replace, appendAt lists gain entries once', () => {
  const base = { a: 1, o: { keep: true, args: ['old'] }, p: { deny: ['X'] } };
  const merged = mergeJson(base, { o: { args: ['new'] }, p: { deny: ['Bash', 'X'] } }, [['p', 'deny']]);
  assert.deepEqual(merged, { a: 1, o: { keep: true, args: ['new'] }, p: { deny: ['X', 'Bash'] } });
  assert.deepEqual(base.p.deny, ['X'], 'input mutated');
  assert.deepEqual(mergeJson(undefined, { p: { deny: ['Bash'] } }, [['p', 'deny']]), { p: { deny: ['Bash'] } });
});

test('upsertTomlTable: appends, replaces only its own table, keeps comments and sub-tables', () => {
  const table = '[mcp_servers.exec]\ncommand = "n"\nargs = ["mcp"]\n';
  assert.equal(upsertTomlTable('', ['mcp_servers', 'exec'], table), table);
  assert.equal(upsertTomlTable('model = "x"\n', ['mcp_servers', 'exec'], table), `model = "x"\n\n${table}`);
  const before = '# top\n[mcp_servers."exec"] # mine\ncommand = "old"\n\n[mcp_servers.exec.env]\nA = "1"\n[other]\nk = 1\n';
  const after = upsertTomlTable(before, ['mcp_servers', 'exec'], table);
  assert.equal(after, '# top\n[mcp_servers.exec]\ncommand = "n"\nargs = ["mcp"]\n\n[mcp_servers.exec.env]\nA = "1"\n[other]\nk = 1\n');
  assert.equal(upsertTomlTable(after, ['mcp_servers', 'exec'], table), after, 'not idempotent');
  assert.throws(() => upsertTomlTable('[mcp_servers]\nexec = { command = "x" }\n', ['mcp_servers', 'exec'], table), /inline/);
});

test('configFile honours CODEX_HOME, COPILOT_HOME, XDG_CONFIG_HOME and the platform', () => {
  assert.equal(configFile('codex-config', '/h', { CODEX_HOME: '/c' }), '/c/config.toml');
  assert.equal(configFile('codex-config', '/h', {}), '/h/.codex/config.toml');
  assert.equal(configFile('copilot-mcp', '/h', { COPILOT_HOME: '/p' }), '/p/mcp-config.json');
  assert.equal(configFile('opencode-config', '/h', { XDG_CONFIG_HOME: '/x' }), '/x/opencode/opencode.json');
  assert.equal(configFile('vscode-mcp', '/h', {}, 'linux'), '/h/.config/Code/User/mcp.json');
  assert.equal(configFile('vscode-mcp', '/h', {}, 'darwin'), '/h/Library/Application Support/Code/User/mcp.json');
  assert.equal(configFile('claude-settings', '/h', {}), '/h/.claude/settings.json');
});

test('writeAgentSetup: creates missing files (0600), returns only changed files, leaves a file it cannot merge untouched', async () => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'exec-agents-'));
  const written = await writeAgentSetup('claude-code', L, home, {});
  assert.deepEqual(written.sort(), [path.join(home, '.claude.json'), path.join(home, '.claude', 'settings.json')]);
  assert.equal(fs.statSync(path.join(home, '.claude', 'settings.json')).mode & 0o777, 0o600);
  assert.deepEqual(await writeAgentSetup('claude-code', L, home, {}), []);
  const gem = path.join(home, '.gemini', 'settings.json');
  fs.mkdirSync(path.dirname(gem));
  fs.writeFileSync(gem, '[1, 2]');
  await assert.rejects(writeAgentSetup('gemini-cli', L, home, {}), /JSON object/);
  assert.equal(fs.readFileSync(gem, 'utf8'), '[1, 2]');
  assert.deepEqual(fs.readdirSync(path.dirname(gem)), ['settings.json'], 'temp file left behind');
});
