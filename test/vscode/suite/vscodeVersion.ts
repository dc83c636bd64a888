// Which VS Code this suite runs in (the runner runs it in 1.100 and 1.139): lets a test that needs
// a newer API say so and be reported as skipped ("not applicable") in an older VS Code instead of
// failing there.
import * as vscode from 'vscode';

/** [major, minor, patch] of a version string such as '1.139.1' or '1.101.0-insider'. */
export function parseVersion(v: string): [number, number, number] {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(v);
  if (!m) throw new Error(`not a VS Code version: ${v}`);
  return [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
}

/** True when the running VS Code (vscode.version) is at least `min` (e.g. '1.101'). */
export function vscodeAtLeast(min: string, running: string = vscode.version): boolean {
  const [a, b] = [parseVersion(running), parseVersion(min)];
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] > b[i];
  return true;
}

/**
 * Call first thing in a mocha test or hook (`function () { requireVscode(this, '1.101', 'MCP
 * server definition providers'); ... }`, not an arrow function): on an older VS Code the test is
 * skipped with the reason in its title, and counted as skipped.
 */
export function requireVscode(ctx: Mocha.Context, min: string, what: string): void {
  if (vscodeAtLeast(min)) return;
  const t = ctx.currentTest ?? ctx.test;
  if (t) t.title += ` (not applicable: ${what} needs VS Code ≥ ${min}, this is ${vscode.version})`;
  ctx.skip();
}
