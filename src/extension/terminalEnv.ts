import * as vscode from 'vscode';

/**
 * Integrated terminals get the server's address: EXEC_SERVER_URL and EXEC_SERVER_TOKEN, and
 * (opt-in, setting execServer.codexTerminalIntegration) CODEX_EXEC_SERVER_URL with the token in
 * the query, so `codex` started in a terminal runs its commands through this server.
 * persistent = false: the token is never written to disk by VS Code and never outlives the window.
 */
export class TerminalEnv {
  constructor(private readonly collection: vscode.GlobalEnvironmentVariableCollection) {
    collection.persistent = false;
    collection.description = 'Exec Server: address and token of the exec server of this window';
  }

  apply(url: string, port: number, token: string, codex: boolean): void {
    this.collection.replace('EXEC_SERVER_URL', url);
    this.collection.replace('EXEC_SERVER_TOKEN', token);
    if (codex) this.collection.replace('CODEX_EXEC_SERVER_URL', `ws://127.0.0.1:${port}/?token=${encodeURIComponent(token)}`);
    else this.collection.delete('CODEX_EXEC_SERVER_URL');
  }

  clear(): void {
    this.collection.clear();
  }
}
