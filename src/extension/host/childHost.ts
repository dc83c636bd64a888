import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { adminOverStdio, type AdminClient } from '../../client/adminClient';
import { AdminAdvertise, type AdoptResult, type AdvertiseParams } from '../../protocol/admin';
import type { HostOptions, ServerHost } from './serverHost';

/**
 * Child mode: the project's own CLI (`dist/cli.js --listen ws://HOST:PORT --admin-stdio`)
 * run with VS Code's runtime (Electron as Node), observed and controlled over its stdio.
 *
 * - The token travels in the environment (EXEC_SERVER_TOKEN), never on the command line
 *   (which any local user can read in the process table); the CLI removes it from its own
 *   environment once read, so its children do not inherit it.
 * - The CLI's first stdout line is `admin/ready` {url, port, pid}; we wait for it (bounded)
 *   and on failure kill the child and reject with its stderr.
 * - The child stays in our process group: a signal to the group (Ctrl-C, code-server's
 *   group SIGTERM) reaches it and it shuts down cleanly. If we die, its stdin reaches EOF
 *   and it shuts down too; if it is SIGKILLed, its watchdog kills its process groups.
 * - stop(): admin/shutdown and closing stdin (the CLI terminates every process and exits),
 *   then SIGKILL after a bound.
 * No `vscode` import here: the extension adapts this to its UI.
 */
export interface ChildServerHost extends ServerHost {
  readonly mode: 'child';
  /** The CLI's pid. */
  readonly pid: number;
  readonly admin: AdminClient;
  /** Set when this host was adopted after a reload (see adoptChildHost.ts). */
  readonly adopted?: AdoptResult;
  /**
   * Let go without stopping it (deactivate() in a reload): close our channel; with a control
   * socket the server waits its reload grace for an adopter, without one it stops.
   */
  detach(): void;
  /** Have the server write (and own) its discovery file; returns its path. */
  advertise(p: AdvertiseParams): Promise<string>;
}

export interface ChildHostExtras {
  /** The CLI script (default `<extensionPath>/dist/cli.js`). */
  cliPath?: string;
  /** The runtime (default process.execPath: node, or VS Code's Electron run as Node). */
  execPath?: string;
  /** How long to wait for the ready line (default 15 s). */
  readyTimeoutMs?: number;
  /** How long stop() waits for a clean exit before SIGKILL (default grace + 5 s). */
  stopTimeoutMs?: number;
  /** The private control socket (issue 14) and its secret; the secret travels in the environment. */
  control?: { path: string; secret: string; reloadGraceMs: number };
}

/** Keep only the tail of the child's stderr (for error messages). */
const STDERR_TAIL_BYTES = 16 * 1024;

export async function startChildHost(o: HostOptions, extras: ChildHostExtras = {}): Promise<ChildServerHost> {
  const cli = extras.cliPath ?? path.join(o.extensionPath, 'dist', 'cli.js');
  if (!existsSync(cli)) throw new Error(`the exec server (child mode) failed to start: ${cli} does not exist`);
  const host = o.host.includes(':') ? `[${o.host}]` : o.host;
  const args = [cli, '--listen', `ws://${host}:${o.port}`, '--admin-stdio'];
  const c = o.config;
  if (c.retainedOutputBytes !== undefined) args.push('--retained-output-bytes', String(c.retainedOutputBytes));
  if (c.sessionTtlMs !== undefined) args.push('--session-ttl-ms', String(c.sessionTtlMs));
  if (c.terminateGraceMs !== undefined) args.push('--terminate-grace-ms', String(c.terminateGraceMs));
  if (c.codexPath) args.push('--codex-path', c.codexPath);
  const grace = c.terminateGraceMs ?? 1_000;
  const control = extras.control;
  if (control) args.push('--control-socket', control.path, '--reload-grace-ms', String(control.reloadGraceMs));

  const child: ChildProcess = spawn(extras.execPath ?? process.execPath, args, {
    env: {
      ...process.env,
      ELECTRON_RUN_AS_NODE: '1',
      EXEC_SERVER_TOKEN: o.token,
      ...(control ? { EXEC_SERVER_CONTROL_SECRET: control.secret } : {}),
    },
    stdio: ['pipe', 'pipe', 'pipe'],
    windowsHide: true,
  });
  let stderrTail = '';
  let ready = false;
  let exitInfo: string | null = null;
  const exitListeners: ((reason: string) => void)[] = [];
  let stopping = false;
  let detached = false;
  let lineBuf = '';

  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => {
    stderrTail = (stderrTail + d).slice(-STDERR_TAIL_BYTES);
    if (!ready) return;
    // After start, the server's own diagnostics go to the extension's log, line by line.
    lineBuf += d;
    const lines = lineBuf.split('\n');
    lineBuf = lines.pop() ?? '';
    for (const l of lines) if (l.trim()) o.log(`[server] ${l}`);
  });
  child.on('error', (err) => {
    stderrTail += `\n${err.message}`;
  });
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exitInfo = signal ? `killed by ${signal}` : `exited with code ${code}`;
      resolve();
    });
    // spawn failure (ENOENT...) emits 'error' without 'exit'
    child.once('error', () => {
      exitInfo ??= 'failed to start';
      resolve();
    });
  });
  const admin = adminOverStdio(child);
  const stderrText = () => stderrTail.trim() || '(no output on stderr)';

  try {
    const timeoutMs = extras.readyTimeoutMs ?? 15_000;
    let timer: NodeJS.Timeout | undefined;
    const r = await Promise.race([
      admin.ready,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no ready line within ${timeoutMs} ms`)), timeoutMs);
      }),
      exited.then(() => {
        throw new Error(exitInfo ?? 'exited');
      }),
    ]).finally(() => clearTimeout(timer));
    ready = true;
    o.log(`exec server child (pid ${child.pid}) listening on ${r.url}`);
    // The sandbox status line can reach stderr before the ready line reaches stdout.
    for (const l of stderrTail.split('\n')) if (l.startsWith('exec-server: sandbox: ')) o.log(`[server] ${l}`);
    child.once('exit', () => {
      admin.dispose();
      if (stopping || detached) return;
      const reason = `the exec server process ${exitInfo}${stderrTail ? `: ${lastLines(stderrTail)}` : ''}`;
      o.log(reason);
      for (const l of exitListeners.splice(0)) l(reason);
    });
    return {
      mode: 'child',
      pid: child.pid!,
      url: r.url,
      port: r.port,
      token: o.token,
      admin,
      onDidExit: (l) => {
        if (exitInfo !== null && !stopping) l(`the exec server process ${exitInfo}`);
        else exitListeners.push(l);
      },
      detach: () => {
        if (stopping || detached) return;
        detached = true;
        exitListeners.length = 0;
        // Closing stdin is the end of our ownership; the child must not keep this host alive.
        child.stdin?.end();
        admin.dispose();
        child.stdout?.destroy();
        child.stderr?.destroy();
        child.unref();
      },
      advertise: async (p) => (await admin.request(AdminAdvertise, p)).file,
      stop: async () => {
        if (stopping) return exited;
        stopping = true;
        if (exitInfo !== null) return;
        // Clean shutdown: the CLI terminates every process (SIGTERM, SIGKILL after the grace).
        admin.shutdown().catch(() => undefined);
        child.stdin?.end();
        const bound = extras.stopTimeoutMs ?? grace + 5_000;
        let timer: NodeJS.Timeout | undefined;
        const timedOut = await Promise.race([
          exited.then(() => false),
          new Promise<boolean>((r) => (timer = setTimeout(() => r(true), bound))),
        ]).finally(() => clearTimeout(timer));
        if (timedOut) {
          // Its watchdog still kills its process groups once it is gone.
          o.log(`the exec server process did not exit within ${bound} ms: killing it`);
          child.kill('SIGKILL');
          await exited;
        }
      },
    };
  } catch (err) {
    child.kill('SIGKILL');
    await exited;
    // Let stderr's last bytes arrive (the pipe closes right after exit).
    const stderr = child.stderr!;
    if (!stderr.destroyed) {
      await new Promise<void>((r) => {
        const t = setTimeout(r, 1_000);
        stderr.once('close', () => {
          clearTimeout(t);
          r();
        });
      });
    }
    admin.dispose();
    // Prefer how it ended (exit code) over how we noticed (the pipe closing first).
    const why = exitInfo && exitInfo !== 'killed by SIGKILL' ? exitInfo : (err as Error).message;
    throw new Error(`the exec server (child mode) failed to start: ${why}; stderr: ${stderrText()}`);
  }
}

function lastLines(text: string, n = 5): string {
  return text.trim().split('\n').slice(-n).join(' | ');
}
