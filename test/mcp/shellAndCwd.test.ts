/** Shell line, environment and default cwd (pure). */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { checkEnv, commandEnv, shellArgv } from '../../src/mcp/shellLine';
import { defaultCwd, resolveCwd } from '../../src/mcp/workspaceCwd';
import { parseMcpArgs } from '../../src/mcp/bridgeMain';

test('the user’s bash or zsh as a login shell; otherwise bash; otherwise sh -c; cmd on Windows', () => {
  const all = () => true;
  assert.deepEqual(shellArgv('ls', { platform: 'linux', env: { SHELL: '/usr/bin/zsh' }, isExecutable: all }), ['/usr/bin/zsh', '-lc', 'ls']);
  assert.deepEqual(shellArgv('ls', { platform: 'darwin', env: { SHELL: '/bin/bash' }, isExecutable: all }), ['/bin/bash', '-lc', 'ls']);
  assert.deepEqual(shellArgv('ls', { platform: 'linux', env: { SHELL: '/usr/bin/fish', PATH: '/opt/x:/usr/bin' }, isExecutable: (p) => p === '/usr/bin/bash' }), ['/usr/bin/bash', '-lc', 'ls']);
  assert.deepEqual(shellArgv('ls', { platform: 'linux', env: {}, isExecutable: () => false }), ['/bin/sh', '-c', 'ls']);
  assert.deepEqual(shellArgv('ls', { platform: 'linux', env: { SHELL: '/bin/bash' }, isExecutable: all, login: false }), ['/bin/bash', '-c', 'ls']);
  assert.deepEqual(shellArgv('dir', { platform: 'win32', env: { ComSpec: 'C:\\Windows\\system32\\cmd.exe' } }), ['C:\\Windows\\system32\\cmd.exe', '/d', '/s', '/c', 'dir']);
});

test('command env: the agent’s, minus the token and ELECTRON_RUN_AS_NODE, with non-interactive defaults the call can override', () => {
  const env = commandEnv({ PATH: '/bin', EXEC_SERVER_TOKEN: 'secret', ELECTRON_RUN_AS_NODE: '1', PAGER: 'less', EXEC_SERVER_URL: 'ws://x' }, { GIT_PAGER: 'delta' });
  assert.deepEqual(env, { PATH: '/bin', PAGER: 'cat', EXEC_SERVER_URL: 'ws://x', GIT_TERMINAL_PROMPT: '0', GIT_PAGER: 'delta' });
  assert.match(checkEnv({ 'A=B': '1' })!, /variable name/);
  assert.match(checkEnv({ A: 'x\0y' })!, /NUL/);
  assert.equal(checkEnv({ A: '1' }), undefined);
});

test('default cwd: the agent’s own directory inside a folder, else the folder holding a root, else the bridge’s', () => {
  assert.equal(defaultCwd('/w/proj/pkg', [], ['/w/proj']), '/w/proj/pkg');
  assert.equal(defaultCwd('/', ['/w/proj/src'], ['/w/other', '/w/proj']), '/w/proj');
  assert.equal(defaultCwd('/home/u', ['/elsewhere'], ['/w/proj']), '/home/u');
  assert.equal(defaultCwd('/home/u', ['/w/proj'], undefined), '/home/u');
  assert.equal(resolveCwd('sub', '/w/proj'), '/w/proj/sub');
  assert.equal(resolveCwd('/abs', '/w/proj'), '/abs');
  assert.equal(resolveCwd('file:///w/x', '/w/proj'), '/w/x');
  assert.equal(resolveCwd(undefined, '/w/proj'), '/w/proj');
});

test('mcp flags', () => {
  assert.deepEqual(parseMcpArgs(['--url', 'ws://127.0.0.1:1', '--token-file', '/t']), { url: 'ws://127.0.0.1:1', tokenFile: '/t', login: true, help: false });
  assert.deepEqual(parseMcpArgs(['--url=ws://h:2', '--no-login']), { url: 'ws://h:2', login: false, help: false });
  assert.throws(() => parseMcpArgs(['--token-file', '/t']), /needs --url/);
  assert.throws(() => parseMcpArgs(['--url']), /needs a value/);
  assert.throws(() => parseMcpArgs(['--x']), /unknown option/);
  assert.throws(() => parseMcpArgs(['--url', 'http://h?token=abc']), (e: Error) => !e.message.includes('abc'));
});
