import type * as vscode from 'vscode';

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

  /** `_port` is unused (the URL carries it); kept so the callers need no change. */
  apply(url: string, _port: number, token: string, codex: boolean): void {
    this.collection.replace('EXEC_SERVER_URL', url);
    this.collection.replace('EXEC_SERVER_TOKEN', token);
    if (codex) this.collection.replace('CODEX_EXEC_SERVER_URL', codexExecServerUrl(url, token));
    else this.collection.delete('CODEX_EXEC_SERVER_URL');
  }

  clear(): void {
    this.collection.clear();
  }
}

/**
 * codex can only be given a URL, so the token goes in the query, after a `/` that codex keeps
 * on the upgrade request. Built from the server's own URL (the transport's, which brackets an
 * IPv6 host and keeps `localhost`), so `execServer.host` = `::1` or `localhost` is honoured.
 */
export function codexExecServerUrl(serverUrl: string, token: string): string {
  const u = new URL(serverUrl);
  u.pathname = '/';
  u.search = `?token=${encodeURIComponent(token)}`;
  return u.toString();
}
