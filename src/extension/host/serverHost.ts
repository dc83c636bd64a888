import type { ServerConfig } from '../../server/config';
import type { AdminApi } from '../../protocol/admin';

/**
 * A running exec server as the extension sees it, whichever way it is hosted (in this
 * extension host, or as a child process over stdio). No `vscode` import here.
 */
export interface ServerHost {
  readonly mode: 'inProcess' | 'child';
  readonly url: string;
  readonly port: number;
  readonly token: string;
  /** The privileged view: every session's processes, their output, and control. */
  readonly admin: AdminApi;
  /** Fires once if the server stops on its own (child crashed, ...). */
  onDidExit(listener: (reason: string) => void): void;
  /** Terminate every managed process and stop listening. */
  stop(): Promise<void>;
}

export interface HostOptions {
  host: string;
  port: number;
  token: string;
  config: Partial<ServerConfig>;
  /** Absolute path of the extension (to find dist/cli.js for child mode). */
  extensionPath: string;
  log(message: string): void;
}
