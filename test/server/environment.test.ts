import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { readEnvironmentConfig } from '../../src/server/environment/environmentConfig';
import { buildEnvironmentInfo, detectShell, platformOs } from '../../src/server/environment/environmentInfo';
import { createEnvironmentMethods } from '../../src/server/environment/environmentMethods';
import { projectToml } from '../../src/server/environment/tomlProjection';
import { RpcError } from '../../src/protocol/errors';

const u = (p: string) => pathToFileURL(p).href;

test('buildEnvironmentInfo is truthful and advertises only what is implemented', () => {
  const info = buildEnvironmentInfo({ cwd: '/tmp', executorVersion: '1.2.3' });
  assert.equal(info.executorVersion, '1.2.3');
  assert.equal(info.cwd, 'file:///tmp');
  assert.equal(info.userHomeDir, u(os.homedir()));
  assert.equal(info.tempDir, u(os.tmpdir()));
  assert.equal(info.platformOs, platformOs(process.platform));
  assert.match(info.providerId, /^sha256:[0-9a-f]{64}$/);
  assert.equal(buildEnvironmentInfo({ cwd: '/', executorVersion: 'x' }).providerId, info.providerId);
  assert.deepEqual(info.prependPathDirs, []);
  assert.deepEqual(info.temporaryDirectories, []);
  assert.ok(fs.existsSync(info.shell.path));
  assert.equal(info.shell.name, path.basename(info.shell.path));
  const on = Object.entries(info.capabilities).filter(([, v]) => v).map(([k]) => k).sort();
  assert.deepEqual(on, ['environmentConfigRead', 'fsWatchMissing']);
  assert.equal(info.capabilities.credentialMasking, false);
});

test('detectShell falls back when $SHELL is unusable; platform names', () => {
  assert.equal(detectShell('/definitely/not/here').path, fs.existsSync('/bin/bash') ? '/bin/bash' : '/bin/sh');
  assert.equal(detectShell('relative/bash').path, fs.existsSync('/bin/bash') ? '/bin/bash' : '/bin/sh');
  assert.deepEqual([platformOs('linux'), platformOs('darwin'), platformOs('win32')], ['linux', 'macos', 'windows']);
});

test('environment/info ignores params', async () => {
  const info = buildEnvironmentInfo({ cwd: '/tmp', executorVersion: 'v' });
  const m = createEnvironmentMethods(() => info);
  assert.equal(await m['environment/info']!(undefined), info);
  assert.equal(await m['environment/info']!({ junk: 1 }), info);
});

test('projectToml selects key paths like upstream LocalTomlLayerStack::project', () => {
  const doc = [
    'ignored=true',
    '"literal.key"="literal"',
    'array=[1,',
    '  2] # two',
    '[a]',
    'b=1',
    'c=2',
    '[mcp_servers.docs]',
    'url = "https://x" # c',
    "args = ['''multi",
    "line''']",
    '[[mcp_servers.list]]',
    'name = "n"',
    '[other]',
    'x = 1',
  ].join('\n');
  assert.equal(projectToml(doc, [['only_user']]), undefined);
  assert.equal(projectToml(doc, [['a', 'b'], ['array', 'unused'], ['literal.key']]),
    '"literal.key"="literal"\narray=[1,\n  2] # two\n[a]\nb=1\n');
  assert.equal(projectToml(doc, [['mcp_servers']]),
    "[mcp_servers.docs]\nurl = \"https://x\" # c\nargs = ['''multi\nline''']\n[[mcp_servers.list]]\nname = \"n\"\n");
  // A table on the way down is kept (empty), like upstream's `[a]`.
  assert.equal(projectToml('[a]\nunrequested=true\n', [['a', 'b']]), '[a]\n');
  // A non-table value on the way down is kept whole; an array of tables too.
  assert.equal(projectToml('a=2\nz=1', [['a', 'b']]), 'a=2\n');
  assert.equal(projectToml('[[a]]\nb=1\nc=2', [['a', 'b']]), '[[a]]\nb=1\nc=2\n');
  assert.equal(projectToml('a.b = 1\na.c = 2', [['a', 'b']]), 'a.b = 1\n');
  assert.throws(() => projectToml('this is not toml', [['a']]), (e: unknown) => e instanceof RpcError && e.code === -32603 && /line 1/.test(e.message));
});

function fixture() {
  const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'envcfg-')));
  const home = path.join(root, 'home');
  const codexHome = path.join(home, '.codex');
  const systemDir = path.join(root, 'etc-codex');
  const project = path.join(root, 'proj');
  const cwd = path.join(project, 'sub');
  for (const d of [codexHome, systemDir, path.join(project, '.git'), path.join(project, '.codex'), path.join(cwd, '.codex')]) {
    fs.mkdirSync(d, { recursive: true });
  }
  return { root, home, codexHome, systemDir, project, cwd, loc: { codexHome, systemDir, homeDir: home } };
}

test('environmentConfig/read: layers in precedence order, projected, trusted projects only', async () => {
  const f = fixture();
  try {
    fs.writeFileSync(path.join(f.systemDir, 'config.toml'), '[mcp_servers.sys]\nurl = "https://sys"\n');
    fs.writeFileSync(path.join(f.codexHome, 'config.toml'),
      `model = "m"\n[mcp_servers.user]\nurl = "https://user"\n[projects.${JSON.stringify(f.project)}]\ntrust_level = "trusted"\n`);
    fs.writeFileSync(path.join(f.project, '.codex', 'config.toml'), '[mcp_servers.proj]\ncommand = "p"\n');
    fs.writeFileSync(path.join(f.cwd, '.codex', 'config.toml'), 'model = "sub-only"\n');
    fs.writeFileSync(path.join(f.systemDir, 'requirements.toml'), '[mcp_servers.sys]\nidentity = { url = "https://sys" }\n');
    const params = { cwd: u(f.cwd), configPaths: [['mcp_servers']], requirementsPaths: [['mcp_servers']] };
    const res = await readEnvironmentConfig(params, f.loc);
    assert.equal(res.userHomeDir, u(f.home));
    assert.equal(res.codexHomeDir, u(f.codexHome));
    assert.equal(res.hostname, os.hostname());
    assert.deepEqual(res.config.layers.map((l) => [l.source.split(':')[0], l.baseDir]), [
      ['system', u(f.systemDir)], ['user', u(f.codexHome)], ['project', u(path.join(f.project, '.codex'))],
    ]);
    assert.equal(res.config.cloudInsertionIndex, 1);
    assert.equal(res.config.layers[1]!.toml, '[mcp_servers.user]\nurl = "https://user"\n');
    assert.equal(res.requirements.layers.length, 1);
    assert.equal(res.requirements.cloudInsertionIndex, 1);

    // Untrusted: project layers are left out.
    fs.writeFileSync(path.join(f.codexHome, 'config.toml'), '[mcp_servers.user]\nurl = "https://user"\n');
    const untrusted = await readEnvironmentConfig(params, f.loc);
    assert.deepEqual(untrusted.config.layers.map((l) => l.source.split(':')[0]), ['system', 'user']);

    // Nothing selected anywhere: empty stacks with index 0 (as the codex transcript shows).
    const none = await readEnvironmentConfig({ ...params, configPaths: [['nothing']], requirementsPaths: [['nothing']] }, f.loc);
    assert.deepEqual(none.config, { layers: [], cloudInsertionIndex: 0 });
    assert.deepEqual(none.requirements, { layers: [], cloudInsertionIndex: 0 });
  } finally {
    fs.rmSync(f.root, { recursive: true, force: true });
  }
});

test('environmentConfig/read: no files, and param errors', async () => {
  const f = fixture();
  try {
    const m = createEnvironmentMethods(() => buildEnvironmentInfo({ cwd: '/', executorVersion: 'v' }), f.loc);
    const read = m['environmentConfig/read']!;
    const res: any = await read({ cwd: u(f.cwd), configPaths: [['mcp_servers']], requirementsPaths: [['mcp_servers']] });
    assert.deepEqual(res.config, { layers: [], cloudInsertionIndex: 0 });
    const bad = async (params: unknown, re: RegExp) =>
      assert.rejects(Promise.resolve(read(params)), (e: unknown) => e instanceof RpcError && e.code === -32602 && re.test(e.message));
    await bad({ cwd: u(f.cwd), configPaths: [], requirementsPaths: [] }, /at least one config or requirements path is required/);
    await bad({ cwd: u(f.cwd), configPaths: [[]], requirementsPaths: [] }, /at least one key segment/);
    await bad({ cwd: u(f.cwd), configPaths: [['a']] }, /missing field `requirementsPaths`/);
    await bad({ configPaths: [['a']], requirementsPaths: [] }, /missing field `cwd`/);
    await bad({ cwd: u(f.cwd), configPaths: ['a'], requirementsPaths: [] }, /configPaths\[0\]/);
  } finally {
    fs.rmSync(f.root, { recursive: true, force: true });
  }
});
