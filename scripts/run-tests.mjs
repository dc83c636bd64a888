#!/usr/bin/env node
// Runs the compiled node:test suites under out/test (compiled by `npm run compile-tests`).
// Usage: node scripts/run-tests.mjs [subdir ...]   (default: every suite but the slow layers
// that have their own npm scripts: vscode, interop).
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const outTest = join(root, 'out', 'test');
const own = new Set(['vscode', 'interop', 'fixtures']);
const args = process.argv.slice(2);
const dirs = args.length ? args.map((d) => join(outTest, d)) : readdirSync(outTest)
  .filter((d) => !own.has(d) && statSync(join(outTest, d)).isDirectory())
  .map((d) => join(outTest, d));

const files = [];
const walk = (dir) => {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.test.js')) files.push(p);
  }
};
dirs.forEach(walk);
if (files.length === 0) {
  console.error('no test files found under', dirs.join(', '));
  process.exit(1);
}
const r = spawnSync(process.execPath, ['--test', '--test-reporter=spec', '--test-concurrency=2', ...files], {
  stdio: 'inherit',
  cwd: root,
});
process.exit(r.status ?? 1);
