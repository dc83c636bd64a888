/**
 * The name the tree shows for a client session. MCP bridge sessions carry the MCP client's
 * `clientInfo.name` as their `clientName`; the best-known agents get the name users know them by.
 */
const FRIENDLY: Array<[RegExp, string]> = [
  [/^claude-code$/i, 'Claude Code'],
  [/^gemini-cli(-mcp-client)?$/i, 'Gemini CLI'],
  [/^codex(-mcp-client)?$/i, 'codex'],
  // VS Code's own MCP client announces the product's long name; its agent is Copilot.
  [/^(visual studio code|code - oss|code-server|vscode)( - insiders)?$/i, 'Copilot'],
  [/^(github-)?copilot(-cli)?$/i, 'Copilot CLI'],
  [/^cursor(-vscode)?$/i, 'Cursor'],
  [/^opencode$/i, 'opencode'],
  // `exec-server run` from a terminal, a script or a Makefile (its --name replaces this).
  [/^exec-server-run$/i, 'Command line'],
];

export function friendlyAgentName(clientName: string): string {
  const name = clientName.trim();
  for (const [re, friendly] of FRIENDLY) if (re.test(name)) return friendly;
  return name || 'unnamed client';
}
