/** Unit tests of the sandboxDenied heuristic (upstream's codex-rs/sandboxing/src/denial.rs). */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { isLikelySandboxDenied } from '../../src/server/sandbox/denial';

test('unsandboxed or exit 0 is never denied', () => {
  assert.equal(isLikelySandboxDenied(false, 1, null, 'Permission denied'), false);
  assert.equal(isLikelySandboxDenied(true, 0, null, 'Read-only file system'), false);
});

test('a denial word in the output (any case) means denied', () => {
  for (const text of [
    'sh: 1: cannot create x: Read-only file system',
    'bash: /etc/x: Permission denied',
    'ping: socket: Operation not permitted',
    'killed by SECCOMP',
    'sandbox: nope',
    'Landlock restrict',
    'error: failed to write file',
  ]) {
    assert.equal(isLikelySandboxDenied(true, 1, null, text), true, text);
  }
});

test('without such words: 2, 126, 127 are not denials, 159 (SIGSYS) is; others are not', () => {
  assert.equal(isLikelySandboxDenied(true, 2, null, 'usage'), false);
  assert.equal(isLikelySandboxDenied(true, 126, null, ''), false);
  assert.equal(isLikelySandboxDenied(true, 127, null, 'command not found'), false);
  assert.equal(isLikelySandboxDenied(true, 159, null, ''), true);
  assert.equal(isLikelySandboxDenied(true, 1, null, 'plain failure'), false);
  // A words match wins over the exit-code rule.
  assert.equal(isLikelySandboxDenied(true, 127, null, 'permission denied'), true);
});

test('killed by a signal: SIGSYS counts as 159', () => {
  assert.equal(isLikelySandboxDenied(true, null, 'SIGSYS', ''), true);
  assert.equal(isLikelySandboxDenied(true, null, 'SIGTERM', ''), false);
});
