import * as fs from 'node:fs/promises';
import * as path from 'node:path';

/**
 * A stable command for agents configured outside VS Code: `<globalStorage>/bin/exec-server`
 * (`exec-server.cmd` on Windows). Its path does not change when the extension updates (the global
 * storage directory belongs to the extension id, not its version); it runs the installed
 * version's CLI with VS Code's own Node (process.execPath with ELECTRON_RUN_AS_NODE=1), so the
 * user needs no `node` on PATH. It holds no token: the CLI finds the server by discovery.
 * Rewritten only when its content changes (a new extension path or VS Code binary).
 * No vscode import.
 */
export interface LauncherInfo {
  /** Absolute path of the launcher. */
  path: string;
  /** argv to run it: [path] (agents' configs take a command and its args). */
  argv: string[];
  /** Whether this call wrote it. */
  written: boolean;
}

function launcherPath(globalStorageDir: string, platform: NodeJS.Platform = process.platform): string {
  return path.join(globalStorageDir, 'bin', platform === 'win32' ? 'exec-server.cmd' : 'exec-server');
}

/** POSIX shell single quotes: the only character needing care is the quote itself. */
function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export function launcherScript(execPath: string, extensionPath: string, platform: NodeJS.Platform = process.platform): string {
  if (platform === 'win32') {
    // setlocal: the variables stay in this script, not in the calling cmd.exe session.
    const cli = path.win32.join(extensionPath, 'dist', 'cli.js');
    return [
      '@echo off',
      'rem Exec Server for VS Code: runs the extension\'s CLI with VS Code\'s own runtime. Written by the extension.',
      'setlocal',
      'set ELECTRON_RUN_AS_NODE=1',
      'set "EXEC_SERVER_LAUNCHER=%~f0"',
      `"${execPath}" "${cli}" %*`,
      '',
    ].join('\r\n');
  }
  const cli = path.posix.join(extensionPath, 'dist', 'cli.js');
  return [
    '#!/bin/sh',
    "# Exec Server for VS Code: runs the extension's CLI with VS Code's own runtime. Written by the extension.",
    `ELECTRON_RUN_AS_NODE=1 EXEC_SERVER_LAUNCHER="$0" exec ${shQuote(execPath)} ${shQuote(cli)} "$@"`,
    '',
  ].join('\n');
}

/** Write the launcher if its content differs (atomically: a temp file renamed over it), mode 0700. */
export async function ensureLauncher(globalStorageDir: string, execPath: string, extensionPath: string, platform: NodeJS.Platform = process.platform): Promise<LauncherInfo> {
  const file = launcherPath(globalStorageDir, platform);
  const content = launcherScript(execPath, extensionPath, platform);
  let current: string | undefined;
  try {
    current = await fs.readFile(file, 'utf8');
  } catch {
    // not there yet
  }
  let written = false;
  if (current !== content) {
    await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.tmp`;
    await fs.writeFile(tmp, content, { mode: 0o700 });
    await fs.rename(tmp, file);
    written = true;
  }
  if (platform !== 'win32') {
    const st = await fs.stat(file);
    if ((st.mode & 0o777) !== 0o700) await fs.chmod(file, 0o700);
  }
  return { path: file, argv: [file], written };
}
