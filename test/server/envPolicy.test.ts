import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { buildChildEnv, parseEnvPolicy, wildcardToRegExp } from '../../src/server/process/envPolicy';
import { RpcError } from '../../src/protocol/errors';
import type { EnvPolicy } from '../../src/protocol/types';

const SERVER_ENV = {
  PATH: '/usr/bin:/bin',
  HOME: '/home/u',
  home_lower: 'x',
  OPENAI_API_KEY: 'sk-1',
  GH_TOKEN: 'ghp',
  my_secret_thing: 's',
  EDITOR: 'vi',
  CODEX_VERSION: '0.169.0',
  UNDEF: undefined,
};

const policy = (p: Partial<EnvPolicy>): EnvPolicy => ({
  inherit: 'all',
  ignoreDefaultExcludes: false,
  exclude: [],
  set: {},
  includeOnly: [],
  ...p,
});

test('no policy: the child env is exactly the request env', () => {
  assert.deepEqual(plain(buildChildEnv(undefined, { A: '1' }, SERVER_ENV)), { A: '1' });
});

test('inherit all applies default excludes case-insensitively', () => {
  const env = buildChildEnv(policy({}), {}, SERVER_ENV);
  assert.deepEqual(Object.keys(env).sort(), ['CODEX_VERSION', 'EDITOR', 'HOME', 'PATH', 'home_lower']);
});

test('ignoreDefaultExcludes keeps secrets; exclude patterns drop names', () => {
  const env = buildChildEnv(policy({ ignoreDefaultExcludes: true, exclude: ['codex_*', 'EDIT?R'] }), {}, SERVER_ENV);
  assert.equal(env.OPENAI_API_KEY, 'sk-1');
  assert.equal(env.GH_TOKEN, 'ghp');
  assert.equal(env.CODEX_VERSION, undefined);
  assert.equal(env.EDITOR, undefined);
  assert.ok(!('UNDEF' in env));
});

test('inherit core keeps only the core names; none keeps nothing', () => {
  assert.deepEqual(plain(buildChildEnv(policy({ inherit: 'core' }), {}, SERVER_ENV)), { PATH: '/usr/bin:/bin', HOME: '/home/u' });
  assert.deepEqual(plain(buildChildEnv(policy({ inherit: 'none' }), {}, SERVER_ENV)), {});
});

test('set is applied after excludes, includeOnly filters last (set included), request env wins over all', () => {
  const env = plain(buildChildEnv(
    policy({ inherit: 'all', set: { MY_TOKEN: 't', FOO: 'f' }, includeOnly: ['PATH', '*token*'] }),
    { PATH: '/req', ZZZ: 'z' },
    SERVER_ENV,
  ));
  // MY_TOKEN survives: set comes after the default excludes; FOO is filtered by includeOnly.
  assert.deepEqual(env, { PATH: '/req', MY_TOKEN: 't', ZZZ: 'z' });
});

test('the codex client policy (transcript 20): request env layered on the inherited env', () => {
  const env = plain(buildChildEnv(
    policy({ ignoreDefaultExcludes: true, exclude: ['CODEX_PERMISSION_PROFILE', 'CODEX_VERSION'] }),
    { CODEX_VERSION: '0.169.0', TERM: 'dumb' },
    SERVER_ENV,
  ));
  assert.equal(env.CODEX_VERSION, '0.169.0');
  assert.equal(env.TERM, 'dumb');
  assert.equal(env.PATH, '/usr/bin:/bin');
});

test('wildcards match the whole name', () => {
  assert.ok(wildcardToRegExp('A*').test('ABC'));
  assert.ok(!wildcardToRegExp('A').test('AB'));
  assert.ok(wildcardToRegExp('a.b').test('A.B'));
  assert.ok(!wildcardToRegExp('a.b').test('AxB'));
});

test('parseEnvPolicy: null/absent is undefined, fields are required and typed', () => {
  assert.equal(parseEnvPolicy(undefined), undefined);
  assert.equal(parseEnvPolicy(null), undefined);
  const full = { inherit: 'core', ignoreDefaultExcludes: true, exclude: ['X'], set: { A: 'b' }, includeOnly: [] };
  const parsed = parseEnvPolicy(full)!;
  assert.deepEqual({ ...parsed, set: { ...parsed.set } }, full);
  const bad = (v: unknown, re: RegExp) =>
    assert.throws(() => parseEnvPolicy(v), (e: unknown) => e instanceof RpcError && e.code === -32602 && re.test(e.message));
  bad({ ...full, inherit: 'some' }, /unknown variant `some`/);
  bad({ ...full, exclude: undefined }, /missing field `exclude`/);
  bad({ ...full, set: { A: 1 } }, /set\.A/);
  bad({ ...full, ignoreDefaultExcludes: 'yes' }, /ignoreDefaultExcludes/);
  bad([1], /ExecEnvPolicy/);
});

test('a variable named __proto__ is an ordinary variable', () => {
  const req = JSON.parse('{"__proto__":"x","A":"1"}') as Record<string, string>;
  const env = buildChildEnv(policy({ inherit: 'none' }), req, SERVER_ENV);
  assert.deepEqual(Object.keys(env).sort(), ['A', '__proto__']);
  assert.equal(env['__proto__'], 'x');
});

function plain(env: Record<string, string>): Record<string, string> {
  return { ...env };
}

test('the host-only ELECTRON_RUN_AS_NODE is never inherited, but a client may still set it', () => {
  const server = { ...SERVER_ENV, ELECTRON_RUN_AS_NODE: '1' };
  const inherited = buildChildEnv(policy({ inherit: 'all', ignoreDefaultExcludes: true }), {}, server);
  assert.equal(inherited.ELECTRON_RUN_AS_NODE, undefined);
  assert.ok(Object.keys(inherited).length > 0);
  const explicit = buildChildEnv(policy({ inherit: 'all' }), { ELECTRON_RUN_AS_NODE: '1' }, server);
  assert.equal(explicit.ELECTRON_RUN_AS_NODE, '1');
});
