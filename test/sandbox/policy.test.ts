/**
 * Unit tests of the policy materialisation (what codex-linux-sandbox gets), the fs rules
 * (what sandboxed fs/* may touch), and the refusals that need no codex.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import {
  accessFor,
  checkManagedNetwork,
  fsRules,
  materializePermissions,
  parseSandbox,
  SandboxRefusal,
  type SandboxRequest,
} from '../../src/server/sandbox/policy';
import { RpcError } from '../../src/protocol/errors';

const special = (kind: string, subpath?: string) => ({ type: 'special', value: subpath === undefined ? { kind } : { kind, subpath } });

/** The workspace-write shape codex 0.171 sends (notes/codex-sandbox.md). */
function workspaceWrite(roots: string[], extra: Record<string, unknown> = {}) {
  return {
    permissions: {
      type: 'managed',
      file_system: {
        type: 'restricted',
        entries: [
          { path: special('root'), access: 'read' },
          { path: special('project_roots'), access: 'write' },
          { path: special('slash_tmp'), access: 'write' },
          { path: special('tmpdir'), access: 'write' },
          ...['.git', '.agents', '.codex', '.aws'].map((n) => ({ path: special('project_roots', n), access: 'read', missing_path_behavior: 'skip' })),
        ],
      },
      network: 'restricted',
    },
    cwd: `file://${roots[0]}`,
    workspaceRoots: roots.map((r) => `file://${r}`),
    windowsSandboxLevel: 'disabled',
    useLegacyLandlock: false,
    ...extra,
  };
}

test('parseSandbox: null/undefined is no sandbox; URIs become paths', () => {
  assert.equal(parseSandbox(null), null);
  assert.equal(parseSandbox(undefined), null);
  const req = parseSandbox(workspaceWrite(['/w/a b', '/w2']))!;
  assert.equal(req.cwd, '/w/a b');
  assert.deepEqual(req.workspaceRoots, ['/w/a b', '/w2']);
});

test('parseSandbox: malformed is -32602, an unknown profile type is a refusal naming upstream\'s words', () => {
  assert.throws(() => parseSandbox('x'), (e: unknown) => e instanceof RpcError && e.code === -32602);
  assert.throws(() => parseSandbox({ cwd: 'file:///w' }), /missing field `sandbox.permissions`/);
  assert.throws(() => parseSandbox({ permissions: { type: 'managed' } }), /missing field `sandbox.cwd`/);
  assert.throws(
    () => parseSandbox({ permissions: { type: 'disabled' }, cwd: 'file:///w' }),
    (e: unknown) => e instanceof SandboxRefusal && /^sandbox intent cannot be enforced on this executor: .*"disabled".*danger-full-access/.test(e.message),
  );
});

test('materializePermissions: project_roots expands over every root (extra roots), subpaths joined; root, slash_tmp, tmpdir stay special; network kept', () => {
  const req = parseSandbox(workspaceWrite(['/w', '/extra'], {}))!;
  const m = materializePermissions(req) as any;
  assert.equal(m.type, 'managed');
  assert.equal(m.network, 'restricted');
  const entries = m.file_system.entries;
  assert.deepEqual(entries.slice(0, 5), [
    { path: special('root'), access: 'read' },
    { path: { type: 'path', path: '/w' }, access: 'write' },
    { path: { type: 'path', path: '/extra' }, access: 'write' },
    { path: special('slash_tmp'), access: 'write' },
    { path: special('tmpdir'), access: 'write' },
  ]);
  assert.deepEqual(entries[5], { path: { type: 'path', path: '/w/.git' }, access: 'read', missing_path_behavior: 'skip' });
  assert.deepEqual(entries[6], { path: { type: 'path', path: '/extra/.git' }, access: 'read', missing_path_behavior: 'skip' });
  assert.equal(entries.length, 5 + 8);
  // The request object itself is not changed.
  assert.equal((req.permissions as any).file_system.entries[1].path.type, 'special');
});

test('materializePermissions: network "enabled" passes through; read-only has only the root entry', () => {
  const ww = workspaceWrite(['/w']);
  (ww.permissions as any).network = 'enabled';
  assert.equal((materializePermissions(parseSandbox(ww)!) as any).network, 'enabled');
  const ro = { ...workspaceWrite(['/w']), permissions: { type: 'managed', file_system: { type: 'restricted', entries: [{ path: special('root'), access: 'read' }] }, network: 'restricted' } };
  assert.deepEqual((materializePermissions(parseSandbox(ro)!) as any).file_system.entries, [{ path: special('root'), access: 'read' }]);
});

test('materializePermissions: no workspace roots → project_roots entries vanish; a subpath with .. is refused', () => {
  const req: SandboxRequest = { ...parseSandbox(workspaceWrite(['/w']))!, workspaceRoots: [] };
  const entries = (materializePermissions(req) as any).file_system.entries;
  assert.equal(entries.length, 3);
  const bad = workspaceWrite(['/w']);
  (bad.permissions as any).file_system.entries.push({ path: special('project_roots', '../etc'), access: 'write' });
  assert.throws(() => materializePermissions(parseSandbox(bad)!), /without `\.\.`/);
});

test('fsRules/accessFor: writable roots, protected names, /tmp and $TMPDIR, everything else read', () => {
  const rules = fsRules(parseSandbox(workspaceWrite(['/w', '/extra']))!, { TMPDIR: '/var/tmpdir' });
  assert.equal(accessFor(rules, '/w'), 'write');
  assert.equal(accessFor(rules, '/w/src/a.ts'), 'write');
  assert.equal(accessFor(rules, '/extra/x'), 'write');
  assert.equal(accessFor(rules, '/tmp/x'), 'write');
  assert.equal(accessFor(rules, '/var/tmpdir/x'), 'write');
  assert.equal(accessFor(rules, '/etc/passwd'), 'read');
  assert.equal(accessFor(rules, '/wx/file'), 'read', 'a sibling with the same prefix is not inside');
  for (const n of ['.git', '.agents', '.codex', '.aws']) {
    assert.equal(accessFor(rules, `/w/${n}`), 'read', n);
    assert.equal(accessFor(rules, `/w/${n}/config`), 'read', n);
    assert.equal(accessFor(rules, `/w/sub/${n}/x`), 'read', `${n} deeper down is protected too`);
    assert.equal(accessFor(rules, `/tmp/${n}/x`), 'read', `${n} under /tmp`);
  }
  assert.equal(accessFor(rules, '/w/.github/x'), 'write');
});

test('fsRules: without slash_tmp/tmpdir entries /tmp and $TMPDIR are read-only; TMPDIR unset adds nothing', () => {
  const ww = workspaceWrite(['/w']);
  (ww.permissions as any).file_system.entries = (ww.permissions as any).file_system.entries.filter(
    (e: any) => !['slash_tmp', 'tmpdir'].includes(e.path.value.kind),
  );
  const rules = fsRules(parseSandbox(ww)!, { TMPDIR: '/var/tmpdir' });
  assert.equal(accessFor(rules, '/tmp/x'), 'read');
  assert.equal(accessFor(rules, '/var/tmpdir/x'), 'read');
  const noTmpdir = fsRules(parseSandbox(workspaceWrite(['/w']))!, {});
  assert.equal(noTmpdir.rules.some((r) => r.path === '/var/tmpdir'), false);
});

test('fsRules: no read entry → none; unrestricted → write; unknown kinds/access refused (fail closed)', () => {
  const only = { permissions: { type: 'managed', file_system: { type: 'restricted', entries: [{ path: { type: 'path', path: '/data' }, access: 'read' }] } }, cwd: 'file:///data' };
  const rules = fsRules(parseSandbox(only)!);
  assert.equal(accessFor(rules, '/data/x'), 'read');
  assert.equal(accessFor(rules, '/etc/passwd'), 'none');
  const unrestricted = { permissions: { type: 'managed', file_system: { type: 'unrestricted' } }, cwd: 'file:///w' };
  assert.equal(accessFor(fsRules(parseSandbox(unrestricted)!), '/etc/x'), 'write');
  const unknownKind = { permissions: { type: 'managed', file_system: { type: 'restricted', entries: [{ path: special('minimal'), access: 'read' }] } }, cwd: 'file:///w' };
  assert.throws(() => fsRules(parseSandbox(unknownKind)!), (e: unknown) => e instanceof SandboxRefusal);
  const unknownAccess = { permissions: { type: 'managed', file_system: { type: 'restricted', entries: [{ path: special('root'), access: 'execute' }] } }, cwd: 'file:///w' };
  assert.throws(() => fsRules(parseSandbox(unknownAccess)!), /"execute"/);
});

test('accessFor: the longest entry wins, the most restrictive of equal ones', () => {
  const req = {
    permissions: {
      type: 'managed',
      file_system: {
        type: 'restricted',
        entries: [
          { path: special('root'), access: 'read' },
          { path: { type: 'path', path: '/w' }, access: 'write' },
          { path: { type: 'path', path: '/w/secret' }, access: 'none' },
          { path: { type: 'path', path: '/w/ro' }, access: 'read' },
          { path: { type: 'path', path: '/w/ro' }, access: 'write' },
        ],
      },
    },
    cwd: 'file:///w',
  };
  const rules = fsRules(parseSandbox(req)!);
  assert.equal(accessFor(rules, '/w/secret/x'), 'none');
  assert.equal(accessFor(rules, '/w/ro/x'), 'read');
  assert.equal(accessFor(rules, '/w/other'), 'write');
});

test('checkManagedNetwork: enforceManagedNetwork or a managedNetwork is refused; false/null pass', () => {
  checkManagedNetwork(false, null);
  checkManagedNetwork(undefined, undefined);
  assert.throws(
    () => checkManagedNetwork(true, null),
    (e: Error) => /^sandbox intent cannot be enforced on this executor: .*managed network.*danger-full-access/.test(e.message),
  );
  assert.throws(() => checkManagedNetwork(false, { allowedDomains: [] }), /managed network/);
});
