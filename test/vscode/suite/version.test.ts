import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { parseVersion, requireVscode, vscodeAtLeast } from './vscodeVersion';

describe(`VS Code version (${vscode.version})`, () => {
  it('is the VS Code the runner meant to start', () => {
    // run-vscode-tests.mjs passes the version it asked the harness for.
    const expected = process.env.EXEC_SERVER_EXPECT_VSCODE;
    if (expected) assert.equal(vscode.version, expected);
    assert.deepEqual(parseVersion('1.101.0-insider'), [1, 101, 0]);
    assert.ok(vscodeAtLeast('1.100'));
    assert.ok(vscodeAtLeast('1.101', '1.139.1') && !vscodeAtLeast('1.101', '1.100.3') && !vscodeAtLeast('2.0', '1.139.1'));
  });

  it('has the MCP server definition provider API (VS Code ≥ 1.101)', function () {
    requireVscode(this, '1.101', 'vscode.lm.registerMcpServerDefinitionProvider');
    // @types/vscode is pinned to 1.100 (the engine's minimum), which does not declare it.
    const lm = vscode.lm as unknown as Record<string, unknown>;
    assert.equal(typeof lm.registerMcpServerDefinitionProvider, 'function');
  });
});
