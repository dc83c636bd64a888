/**
 * What the tree, output channels and pickers call a process and its agent
 * (src/extension/processLabels.ts, with format.ts's command labels): client metadata is
 * untrusted text, so only strings are shown, whitespace-collapsed and clipped.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { MAX_META_CHARS, agentGroupName, copyableCommand, displayCommand, metaString, processNote } from '../../src/extension/processLabels';

const snap = (argv: string[], metadata: Record<string, unknown> | null = null) => ({ argv, metadata });

describe('metaString', () => {
  it('shows only strings: anything else, or no metadata, is absent', () => {
    for (const v of [1, true, null, { a: 1 }, ['x'], undefined]) assert.equal(metaString({ k: v }, 'k'), undefined, JSON.stringify(v));
    assert.equal(metaString(null, 'k'), undefined);
    assert.equal(metaString(undefined, 'k'), undefined);
    assert.equal(metaString({}, 'k'), undefined);
  });

  it('collapses whitespace (newlines, tabs, runs) and trims; blank is absent', () => {
    assert.equal(metaString({ k: '  npm\n\trun   test \r\n' }, 'k'), 'npm run test');
    assert.equal(metaString({ k: ' \n\t ' }, 'k'), undefined);
    assert.equal(metaString({ k: '' }, 'k'), undefined);
  });

  it('clips to max characters, the last one an ellipsis; exactly max is kept whole', () => {
    assert.equal(metaString({ k: 'abcde' }, 'k', 5), 'abcde');
    assert.equal(metaString({ k: 'abcdef' }, 'k', 5), 'abcd…');
    assert.equal(metaString({ k: 'abcdef' }, 'k', 5)!.length, 5);
    const long = 'x'.repeat(1000);
    assert.equal(metaString({ k: long }, 'k')!.length, MAX_META_CHARS);
    assert.equal(metaString({ k: 'x'.repeat(MAX_META_CHARS) }, 'k'), 'x'.repeat(MAX_META_CHARS));
  });
});

describe('displayCommand', () => {
  it("prefers the agent's shell line from the metadata over the argv", () => {
    assert.equal(displayCommand(snap(['bash', '-lc', 'wrapped'], { command: 'npm test\n' })), 'npm test');
  });

  it('falls back to the script of a `<shell> -c` argv, or the quoted argv', () => {
    assert.equal(displayCommand(snap(['/bin/bash', '-lc', 'echo  hi\n'])), 'echo hi');
    assert.equal(displayCommand(snap(['sh', '-c', 'ls'])), 'ls');
    assert.equal(displayCommand(snap(['node', 'x.js', 'a b'])), "node x.js 'a b'");
    assert.equal(displayCommand(snap(['bash', '-lc', 'x', 'extra'])), 'bash -lc x extra', 'a -c that is not second to last is not a script');
    assert.equal(displayCommand(snap(['echo', '-c', 'x'])), 'echo -c x', 'only shells');
    assert.equal(displayCommand(snap(['bash', '-lc', '   '])), '(empty command)');
    assert.equal(displayCommand(snap([])), '(empty command)');
  });

  it('ignores a non-string or blank command in the metadata', () => {
    assert.equal(displayCommand(snap(['ls'], { command: 42 })), 'ls');
    assert.equal(displayCommand(snap(['ls'], { command: '  ' })), 'ls');
  });

  it('clips to max (120 by default)', () => {
    const label = displayCommand(snap(['bash', '-c', 'y'.repeat(300)]));
    assert.equal(label.length, 120);
    assert.ok(label.endsWith('…'));
    assert.equal(displayCommand(snap(['ls'], { command: 'z'.repeat(50) }), 10), `${'z'.repeat(9)}…`);
  });
});

describe('copyableCommand', () => {
  it('copies the shell line as sent (not collapsed or clipped) when there is one', () => {
    const line = `for f in *; do\n  echo "$f"\ndone ${'#'.repeat(300)}`;
    assert.equal(copyableCommand(snap(['bash', '-lc', line], { command: line })), line);
  });

  it('otherwise copies the argv quoted for a shell', () => {
    assert.equal(copyableCommand(snap(['printf', '%s\n', "it's", ''])), "printf '%s\n' 'it'\\''s' ''");
    assert.equal(copyableCommand(snap(['ls', '-la', '/tmp/a_b-c.txt'])), 'ls -la /tmp/a_b-c.txt');
    assert.equal(copyableCommand(snap(['ls'], { command: ' ' })), 'ls');
    assert.equal(copyableCommand(snap(['ls'], { command: ['rm', '-rf'] })), 'ls');
  });
});

describe('processNote', () => {
  it("is the agent's description, else the CLI's --name, clipped to 60", () => {
    assert.equal(processNote({ metadata: { description: 'run the tests', name: 'n' } }), 'run the tests');
    assert.equal(processNote({ metadata: { description: 7, name: ' build\nall ' } }), 'build all');
    assert.equal(processNote({ metadata: { source: 'mcp' } }), undefined);
    assert.equal(processNote({ metadata: null }), undefined);
    assert.equal(processNote({ metadata: { description: 'd'.repeat(100) } })!.length, 60);
  });
});

describe('agentGroupName', () => {
  it('names the well-known agents as users know them, whatever the case', () => {
    const cases: Array<[string, string]> = [
      ['claude-code', 'Claude Code'],
      ['Gemini-CLI-MCP-Client', 'Gemini CLI'],
      ['codex-mcp-client', 'codex'],
      ['Visual Studio Code - Insiders', 'Copilot'],
      ['github-copilot-cli', 'Copilot CLI'],
      ['opencode', 'opencode'],
      ['exec-server-run', 'Command line'],
    ];
    for (const [client, name] of cases) assert.equal(agentGroupName(client), name, client);
  });

  it('shows any other name trimmed, and a blank one as "unnamed client"', () => {
    assert.equal(agentGroupName('  my-agent '), 'my-agent');
    assert.equal(agentGroupName('claude-code-fork'), 'claude-code-fork', 'only whole names match');
    assert.equal(agentGroupName(''), 'unnamed client');
    assert.equal(agentGroupName('   '), 'unnamed client');
  });
});
