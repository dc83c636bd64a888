import * as vscode from 'vscode';
import type { ServerConfig } from '../server/config';

/** The `execServer.*` settings (see package.json contributes.configuration). */
export interface Settings {
  host: string;
  port: number;
  hostMode: 'inProcess' | 'child';
  retainedOutputBytes: number;
  sessionTtlSeconds: number;
  terminateGraceMs: number;
  codexTerminalIntegration: boolean;
  maxFinishedProcesses: number;
  /** The codex whose sandbox enforces sandboxed requests; '' = `codex` on the server's PATH. */
  codexPath: string;
  /** Child mode: how long the server waits for this window's next extension host (0 = stop with this one). */
  reloadGraceSeconds: number;
}

export const SECTION = 'execServer';
/** Settings that only take effect when the server (re)starts. */
export const SERVER_SETTINGS = ['host', 'port', 'hostMode', 'retainedOutputBytes', 'sessionTtlSeconds', 'terminateGraceMs', 'codexPath', 'reloadGraceSeconds'] as const;

/** Default reload grace: a slow reload measured in code-server plus a margin (see the README). */
const DEFAULT_RELOAD_GRACE_SECONDS = 20;

export function readSettings(): Settings {
  const c = vscode.workspace.getConfiguration(SECTION);
  const int = (key: string, def: number, min: number, max = Number.MAX_SAFE_INTEGER) => {
    const v = Math.floor(Number(c.get<number>(key, def)));
    return Number.isFinite(v) ? Math.min(max, Math.max(min, v)) : def;
  };
  return {
    host: c.get<string>('host', '127.0.0.1').trim() || '127.0.0.1',
    port: int('port', 0, 0, 65535),
    hostMode: c.get<string>('hostMode', 'child') === 'inProcess' ? 'inProcess' : 'child',
    retainedOutputBytes: int('retainedOutputBytes', 1024 * 1024, 4096),
    sessionTtlSeconds: int('sessionTtlSeconds', 80, 0),
    terminateGraceMs: int('terminateGraceMs', 1000, 0, 60_000),
    codexTerminalIntegration: c.get<boolean>('codexTerminalIntegration', false),
    maxFinishedProcesses: int('maxFinishedProcesses', 200, 0, 100_000),
    codexPath: (c.get<string>('codexPath', '') ?? '').trim(),
    reloadGraceSeconds: int('reloadGraceSeconds', DEFAULT_RELOAD_GRACE_SECONDS, 0, 3600),
  };
}

export function serverConfig(s: Settings, executorVersion: string): Partial<ServerConfig> {
  return {
    retainedOutputBytes: s.retainedOutputBytes,
    sessionTtlMs: s.sessionTtlSeconds * 1000,
    terminateGraceMs: s.terminateGraceMs,
    executorVersion,
    codexPath: s.codexPath || undefined,
  };
}
