/**
 * `exec-server servers` (lists what discovery finds, never a token) and `exec-server connect`
 * (--print fragments parse and carry the right keys; --write merges into a temp HOME keeping
 * the user's keys and deny rules) run as real processes.
 */
import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startWsCli, type CliServer } from '../helpers/cli';
import { ProcessGuard } from '../helpers/procs';
import { advertise, cleanEnv, runCliTo, tempDir } from './runHelpers';
import { AGENTS } from '../../src/agents/agents';

const guard = new ProcessGuard();
let a: CliServer;
let b: CliServer;

before(async () => {
  [a, b] = await Promise.all([startWsCli(guard), startWsCli(guard)]);
});

test('servers: lists every advertised server, marks the one run would pick from --cwd, never prints a token', async () => {
  const disc = path.join(tempDir('exec-servers-'), 'disc');
  const folderA = fs.realpathSync(tempDir('exec-servers-a-'));
  const folderB = fs.realpathSync(tempDir('exec-servers-b-'));
  advertise(disc, a, [folderA], 'Window A');
  advertise(disc, b, [folderB], 'Window B');
  const env = cleanEnv({ EXEC_SERVER_DISCOVERY_DIR: disc, EXEC_SERVER_TOKEN: undefined });
  const text = await runCliTo(guard, ['servers', '--cwd', folderB], { env });
  assert.equal(text.code, 0, text.stderr);
  assert.ok(text.stdout.includes('Window A') && text.stdout.includes('Window B'), text.stdout);
  assert.ok(text.stdout.includes(folderA) && text.stdout.includes(folderB));
  const marked = text.stdout.split('\n').filter((l) => l.startsWith('*'));
  assert.equal(marked.length, 1, text.stdout);
  assert.ok(marked[0].includes(b.url) && marked[0].includes('Window B'), marked[0]);
  for (const tok of [a.token!, b.token!]) assert.ok(!text.stdout.includes(tok) && !text.stderr.includes(tok), 'token printed');

  const json = await runCliTo(guard, ['servers', '--json', '--cwd', folderA], { env });
  assert.equal(json.code, 0, json.stderr);
  for (const tok of [a.token!, b.token!]) assert.ok(!json.stdout.includes(tok), 'token in --json');
  const l = JSON.parse(json.stdout) as { selected: { url: string }; servers: Array<{ url: string; pid: number; selected: boolean; workspaceFolders: string[]; token?: string }> };
  assert.equal(l.servers.length, 2);
  assert.equal(l.selected.url, a.url);
  assert.deepEqual(l.servers.filter((s) => s.selected).map((s) => s.pid), [a.pid]);
  assert.ok(l.servers.every((s) => !('token' in s)));

  const none = await runCliTo(guard, ['servers', '--cwd', tempDir('exec-servers-elsewhere-')], { env });
  assert.equal(none.code, 0);
  assert.ok(!none.stdout.split('\n').some((line) => line.startsWith('*')), none.stdout);
  assert.match(none.stdout, /no exec server found/);
});

test('servers: an empty discovery directory says so', async () => {
  const env = cleanEnv({ EXEC_SERVER_DISCOVERY_DIR: path.join(tempDir('exec-servers-empty-'), 'disc') });
  const r = await runCliTo(guard, ['servers'], { env });
  assert.equal(r.code, 0);
  assert.match(r.stdout, /No exec server is advertised/);
});

const LAUNCHER = ['/opt/exec server/bin/exec-server'];
const launcherEnv = (extra: NodeJS.ProcessEnv = {}) => cleanEnv({ EXEC_SERVER_LAUNCHER: JSON.stringify(LAUNCHER), ...extra });

test('connect --print: each agent prints only parseable fragments / command lines with the right keys', async () => {
  for (const { id } of AGENTS) {
    const r = await runCliTo(guard, ['connect', id, '--print'], { env: launcherEnv() });
    assert.equal(r.code, 0, `${id}: ${r.stderr}`);
    const parts = r.stdout.trimEnd().split('\n\n');
    const jsons = parts.filter((p) => p.startsWith('{')).map((p) => JSON.parse(p) as Record<string, any>);
    const tomls = parts.filter((p) => p.startsWith('['));
    const commands = parts.filter((p) => !p.startsWith('{') && !p.startsWith('['));
    const everything = jsons.map((j) => JSON.stringify(j)).join('') + tomls.join('') + commands.join('');
    assert.ok(!/token/i.test(everything), `${id} mentions a token`);
    switch (id) {
      case 'claude-code':
        assert.deepEqual(commands, [`claude mcp add --scope user exec -- '/opt/exec server/bin/exec-server' mcp`]);
        assert.deepEqual(jsons, [{ permissions: { deny: ['Bash'] } }]);
        break;
      case 'gemini-cli':
        assert.deepEqual(jsons, [{ mcpServers: { exec: { command: LAUNCHER[0], args: ['mcp'] } }, tools: { exclude: ['run_shell_command'] } }]);
        break;
      case 'codex': {
        assert.equal(tomls.length, 1);
        const parsed = parseToml(tomls[0]);
        if (parsed) assert.deepEqual(parsed, { mcp_servers: { exec: { command: LAUNCHER[0], args: ['mcp'] } } });
        break;
      }
      case 'copilot-cli':
        assert.deepEqual(jsons, [{ mcpServers: { exec: { type: 'local', command: LAUNCHER[0], args: ['mcp'], tools: ['*'] } } }]);
        assert.deepEqual(commands, [`alias copilot='copilot --excluded-tools=bash --deny-tool=shell'`]);
        break;
      case 'opencode':
        assert.deepEqual(jsons, [{ mcp: { exec: { type: 'local', command: [...LAUNCHER, 'mcp'], enabled: true } }, permission: { bash: 'deny' } }]);
        break;
      case 'cursor':
        assert.deepEqual(jsons, [{ mcpServers: { exec: { command: LAUNCHER[0], args: ['mcp'] } } }]);
        break;
      case 'vscode':
        assert.deepEqual(jsons, [{ servers: { exec: { type: 'stdio', command: LAUNCHER[0], args: ['mcp'] } } }]);
        break;
    }
  }
});

test('connect without EXEC_SERVER_LAUNCHER uses this node and the running cli.js; plain output shows files and notes', async () => {
  const r = await runCliTo(guard, ['connect', 'cursor'], { env: cleanEnv() });
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.stdout.includes(process.execPath), r.stdout);
  assert.ok(r.stdout.includes(path.join('dist', 'cli.js')));
  assert.ok(r.stdout.includes('~/.cursor/mcp.json'));
  assert.match(r.stdout, /Notes:/);
  const bad = await runCliTo(guard, ['connect', 'emacs'], { env: cleanEnv() });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unknown agent/);
  const both = await runCliTo(guard, ['connect', 'codex', '--print', '--write'], { env: cleanEnv() });
  assert.equal(both.code, 2);
});

test('connect --write merges into existing files in HOME, keeping the user\'s keys and deny rules', async () => {
  const home = tempDir('exec-connect-home-');
  const write = (rel: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(home, rel)), { recursive: true });
    fs.writeFileSync(path.join(home, rel), text);
  };
  write('.claude.json', JSON.stringify({ numStartups: 3, mcpServers: { other: { type: 'stdio', command: 'x' } } }));
  write('.claude/settings.json', JSON.stringify({ model: 'opus', permissions: { deny: ['Read(./.env)'], allow: ['Bash(npm test)'], ask: ['WebFetch'] } }, null, 2));
  write('.gemini/settings.json', JSON.stringify({ theme: 'Dracula', tools: { exclude: ['web_fetch'], allowed: ['run_shell_command(git)'] } }));
  write('.codex/config.toml', 'model = "o4"\n\n[mcp_servers.exec]\ncommand = "/old/launcher"\nargs = ["old"]\n\n[mcp_servers.exec.env]\nFOO = "bar"\n\n# my other server\n[mcp_servers.other]\ncommand = "other"\n');
  write('.copilot/mcp-config.json', JSON.stringify({ mcpServers: { github: { type: 'http', url: 'https://example.invalid' } } }));
  write('.config/opencode/opencode.json', JSON.stringify({ $schema: 'https://opencode.ai/config.json', permission: 'ask', model: 'm' }));
  const env = launcherEnv({ HOME: home });
  for (const { id } of AGENTS) {
    const r = await runCliTo(guard, ['connect', id, '--write'], { env });
    assert.equal(r.code, 0, `${id}: ${r.stderr}`);
    assert.match(r.stdout, /updated /, id);
  }
  const read = (rel: string) => JSON.parse(fs.readFileSync(path.join(home, rel), 'utf8'));

  const claude = read('.claude.json');
  assert.equal(claude.numStartups, 3);
  assert.deepEqual(Object.keys(claude.mcpServers).sort(), ['exec', 'other']);
  assert.deepEqual(claude.mcpServers.exec, { type: 'stdio', command: LAUNCHER[0], args: ['mcp'] });
  const settings = read('.claude/settings.json');
  assert.equal(settings.model, 'opus');
  assert.deepEqual(settings.permissions, { deny: ['Read(./.env)', 'Bash'], allow: ['Bash(npm test)'], ask: ['WebFetch'] });

  const gemini = read('.gemini/settings.json');
  assert.equal(gemini.theme, 'Dracula');
  assert.deepEqual(gemini.tools, { exclude: ['web_fetch', 'run_shell_command'], allowed: ['run_shell_command(git)'] });
  assert.deepEqual(gemini.mcpServers.exec, { command: LAUNCHER[0], args: ['mcp'] });

  const toml = fs.readFileSync(path.join(home, '.codex/config.toml'), 'utf8');
  assert.ok(!toml.includes('/old/launcher'), toml);
  assert.ok(toml.startsWith('model = "o4"\n'), toml);
  assert.ok(toml.includes('[mcp_servers.exec.env]\nFOO = "bar"') && toml.includes('# my other server\n[mcp_servers.other]'), toml);
  const parsed = parseToml(toml);
  if (parsed) {
    assert.deepEqual(parsed.mcp_servers.exec, { command: LAUNCHER[0], args: ['mcp'], env: { FOO: 'bar' } });
    assert.deepEqual(parsed.mcp_servers.other, { command: 'other' });
    assert.equal(parsed.model, 'o4');
  }

  const copilot = read('.copilot/mcp-config.json');
  assert.deepEqual(Object.keys(copilot.mcpServers).sort(), ['exec', 'github']);
  const opencode = read('.config/opencode/opencode.json');
  assert.equal(opencode.$schema, 'https://opencode.ai/config.json');
  assert.deepEqual(opencode.permission, { '*': 'ask', bash: 'deny' });
  assert.deepEqual(opencode.mcp.exec.command, [...LAUNCHER, 'mcp']);
  assert.deepEqual(read('.cursor/mcp.json'), { mcpServers: { exec: { command: LAUNCHER[0], args: ['mcp'] } } });
  assert.ok(read('.config/Code/User/mcp.json').servers.exec);

  // Idempotent: a second run changes nothing, and the deny rule is not duplicated.
  const again = await runCliTo(guard, ['connect', 'claude-code', '--write'], { env });
  assert.match(again.stdout, /nothing changed/);
  assert.deepEqual(read('.claude/settings.json').permissions.deny, ['Read(./.env)', 'Bash']);
  const codexAgain = await runCliTo(guard, ['connect', 'codex', '--write'], { env });
  assert.match(codexAgain.stdout, /nothing changed/);
});

test('connect --write refuses a JSONC file instead of dropping its comments', async () => {
  const home = tempDir('exec-connect-jsonc-');
  const file = path.join(home, '.cursor', 'mcp.json');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const text = '{\n  // my servers\n  "mcpServers": {}\n}\n';
  fs.writeFileSync(file, text);
  const r = await runCliTo(guard, ['connect', 'cursor', '--write'], { env: launcherEnv({ HOME: home }) });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /not plain JSON/);
  assert.equal(fs.readFileSync(file, 'utf8'), text);
});

/** TOML through Python's tomllib when there is one (3.11+); undefined otherwise (the text checks still run). */
function parseToml(text: string): Record<string, any> | undefined {
  const r = spawnSync('python3', ['-c', 'import sys, json, tomllib; print(json.dumps(tomllib.loads(sys.stdin.read())))'], { input: text, encoding: 'utf8' });
  if (r.status !== 0) {
    if (/ModuleNotFoundError|No such file/.test(r.stderr ?? '') || r.error) return undefined;
    throw new Error(`invalid TOML: ${r.stderr}\n${text}`);
  }
  return JSON.parse(r.stdout) as Record<string, any>;
}
