import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * How an agent's command line becomes argv and environment for `process/start`.
 *
 * Shell: agents write bash syntax, and expect the PATH of the user's login (version managers,
 * ~/.local/bin, …), which a login shell's profile sets up. So: the user's `$SHELL` with `-lc`
 * when it is bash or zsh (both read their login profile with -l and run -c non-interactively);
 * otherwise (fish, tcsh, nothing set) bash with `-lc` when there is one, else `/bin/sh -c`
 * (POSIX sh has no portable -l). Windows: the platform shell, `%ComSpec% /d /s /c`.
 * The price of -l is the profile's run time at every command (0.3–0.6 s on a machine whose
 * ~/.profile sources a pyenv-initialising ~/.bashrc), and Debian's /etc/profile resets PATH;
 * `login: false` (`exec-server mcp --no-login`) runs `-c` with the agent's environment as is.
 */
export function shellArgv(
  command: string,
  o: { platform?: NodeJS.Platform; env?: NodeJS.ProcessEnv; isExecutable?: (p: string) => boolean; login?: boolean } = {},
): string[] {
  const platform = o.platform ?? process.platform;
  const env = o.env ?? process.env;
  if (platform === 'win32') return [env.ComSpec || env.COMSPEC || 'cmd.exe', '/d', '/s', '/c', command];
  const ok = o.isExecutable ?? isExecutable;
  const flag = o.login === false ? '-c' : '-lc';
  const user = env.SHELL;
  if (user && path.isAbsolute(user) && /^(bash|zsh)$/.test(path.basename(user)) && ok(user)) return [user, flag, command];
  const bash = findOnPath('bash', env.PATH, ok) ?? ['/bin/bash', '/usr/bin/bash'].find(ok);
  if (bash) return [bash, flag, command];
  return ['/bin/sh', '-c', command];
}

/**
 * Non-interactive defaults: nothing may stop on a prompt or a pager the agent cannot see.
 * The agent's own `env` wins over them.
 */
const NON_INTERACTIVE_ENV: Readonly<Record<string, string>> = {
  GIT_TERMINAL_PROMPT: '0',
  GIT_PAGER: 'cat',
  PAGER: 'cat',
};

/** Variables of the bridge's own environment that must not reach the agent's commands. */
const NOT_INHERITED = [
  // The server's secret: the command needs no token (and must never see it).
  'EXEC_SERVER_TOKEN',
  // Set when VS Code runs the bridge with its own Node; it would turn any Electron app the agent starts into plain Node.
  'ELECTRON_RUN_AS_NODE',
];

/**
 * The command's environment: the agent's (what it gave the bridge, as its own shell tool would
 * use), minus the variables above, plus the non-interactive defaults, plus the call's `env`.
 */
export function commandEnv(base: NodeJS.ProcessEnv, extra: Record<string, string> | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) if (v !== undefined && !NOT_INHERITED.includes(k)) env[k] = v;
  Object.assign(env, NON_INTERACTIVE_ENV, extra ?? {});
  return env;
}

/** What is wrong with a caller's `env`, or undefined (names must be usable as variable names). */
export function checkEnv(env: Record<string, string> | undefined): string | undefined {
  for (const [k, v] of Object.entries(env ?? {})) {
    if (k === '' || k.includes('=') || k.includes('\0')) return `env: ${JSON.stringify(k)} is not a valid variable name`;
    if (v.includes('\0')) return `env: the value of ${k} contains a NUL character`;
  }
  return undefined;
}

function findOnPath(name: string, searchPath: string | undefined, ok: (p: string) => boolean): string | undefined {
  for (const dir of (searchPath ?? '').split(path.delimiter)) {
    if (!dir || !path.isAbsolute(dir)) continue;
    const p = path.join(dir, name);
    if (ok(p)) return p;
  }
  return undefined;
}

function isExecutable(p: string): boolean {
  try {
    if (!fs.statSync(p).isFile()) return false;
    fs.accessSync(p, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
