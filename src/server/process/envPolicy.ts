/**
 * The child environment of `process/start`, following upstream exactly.
 *
 * Upstream (codex-rs/exec-server/src/local_process.rs `child_env`, with
 * codex-rs/protocol/src/shell_environment.rs `populate_env`):
 *
 *   - No `envPolicy`: the child gets exactly the request `env` (nothing inherited).
 *   - With a policy, starting from the *server's* own environment:
 *     1. inherit: `all` = every server variable; `none` = nothing; `core` = only
 *        PATH, SHELL, TMPDIR, TEMP, TMP, HOME, LANG, LC_ALL, LC_CTYPE, LOGNAME, USER
 *        (names compared case-insensitively).
 *     2. unless `ignoreDefaultExcludes`: drop names matching `*KEY*`, `*SECRET*`, `*TOKEN*`.
 *     3. drop names matching any `exclude` pattern.
 *     4. insert every `set` entry (overwriting).
 *     5. if `includeOnly` is non-empty, keep only names matching one of its patterns
 *        (this also filters what `set` inserted).
 *     6. finally the request `env` is layered on top (`env.extend(params.env)`), so it
 *        always wins and is never filtered.
 *   Patterns are wildcard patterns (`*` any run, `?` one character) matched against the
 *   whole name, case-insensitively (upstream builds them with `new_case_insensitive`).
 *   Upstream passes no thread id here, so CODEX_THREAD_ID is not added by the server.
 *
 * On the wire every policy field is required (serde has no defaults on ExecEnvPolicy).
 */
import type { EnvPolicy } from '../../protocol/types';
import { invalidParams } from '../../protocol/errors';
import { clip, Params } from '../../protocol/validate';

const INHERIT_VALUES = ['all', 'core', 'none'] as const;

const UNIX_CORE_ENV_VARS = ['PATH', 'SHELL', 'TMPDIR', 'TEMP', 'TMP', 'HOME', 'LANG', 'LC_ALL', 'LC_CTYPE', 'LOGNAME', 'USER'];

const DEFAULT_EXCLUDES = ['*KEY*', '*SECRET*', '*TOKEN*'];

/** Reads `envPolicy` from process/start params; null/absent means "no policy". */
export function parseEnvPolicy(value: unknown): EnvPolicy | undefined {
  if (value === undefined || value === null) return undefined;
  const p = Params.of(value, 'ExecEnvPolicy');
  const inherit = p.string('inherit');
  if (!(INHERIT_VALUES as readonly string[]).includes(inherit)) {
    throw invalidParams(`unknown variant \`${clip(inherit)}\`, expected one of \`all\`, \`core\`, \`none\``);
  }
  return {
    inherit: inherit as EnvPolicy['inherit'],
    ignoreDefaultExcludes: p.bool('ignoreDefaultExcludes'),
    exclude: p.stringArray('exclude'),
    set: p.stringMap('set'),
    includeOnly: p.stringArray('includeOnly'),
  };
}

/** The environment the child is spawned with (see the header for the rules). */
export function buildChildEnv(
  policy: EnvPolicy | undefined,
  requestEnv: Record<string, string>,
  serverEnv: NodeJS.ProcessEnv,
): Record<string, string> {
  const env = policy ? applyPolicy(policy, serverEnv) : emptyEnv();
  return assignEnv(env, requestEnv);
}

/** Null-prototype maps, so a variable named `__proto__` is just a variable. */
function emptyEnv(): Record<string, string> {
  return Object.create(null) as Record<string, string>;
}

function assignEnv(env: Record<string, string>, from: Record<string, string>): Record<string, string> {
  for (const [k, v] of Object.entries(from)) env[k] = v;
  return env;
}

function applyPolicy(policy: EnvPolicy, serverEnv: NodeJS.ProcessEnv): Record<string, string> {
  let env = inherited(policy.inherit, serverEnv);
  if (!policy.ignoreDefaultExcludes) env = dropMatching(env, compileAll(DEFAULT_EXCLUDES));
  if (policy.exclude.length > 0) env = dropMatching(env, compileAll(policy.exclude));
  assignEnv(env, policy.set);
  if (policy.includeOnly.length > 0) {
    const include = compileAll(policy.includeOnly);
    env = filterEnv(env, (name) => include.some((re) => re.test(name)));
  }
  return env;
}

/**
 * Variables of the host process that describe how *it* runs, not the user's environment:
 * inside VS Code the extension host (and our child server) run with ELECTRON_RUN_AS_NODE=1,
 * which would turn any Electron app an agent starts (`code`, ...) into a bare Node. VS Code's
 * own terminals drop it for the same reason.
 */
const HOST_ONLY_VARS = new Set(['ELECTRON_RUN_AS_NODE']);

function inherited(inherit: EnvPolicy['inherit'], serverEnv: NodeJS.ProcessEnv): Record<string, string> {
  const all = emptyEnv();
  for (const [k, v] of Object.entries(serverEnv)) if (v !== undefined && !HOST_ONLY_VARS.has(k)) all[k] = v;
  if (inherit === 'all') return all;
  if (inherit === 'none') return emptyEnv();
  const core = new Set(UNIX_CORE_ENV_VARS.map((n) => n.toUpperCase()));
  return filterEnv(all, (name) => core.has(name.toUpperCase()));
}

function dropMatching(env: Record<string, string>, patterns: RegExp[]): Record<string, string> {
  return filterEnv(env, (name) => !patterns.some((re) => re.test(name)));
}

function filterEnv(env: Record<string, string>, keep: (name: string) => boolean): Record<string, string> {
  const out = emptyEnv();
  for (const [k, v] of Object.entries(env)) if (keep(k)) out[k] = v;
  return out;
}

function compileAll(patterns: string[]): RegExp[] {
  return patterns.map(wildcardToRegExp);
}

/** `*` = any run, `?` = one character, everything else literal; whole-name, case-insensitive. */
export function wildcardToRegExp(pattern: string): RegExp {
  let src = '';
  for (const ch of pattern) {
    if (ch === '*') src += '[\\s\\S]*';
    else if (ch === '?') src += '[\\s\\S]';
    else src += ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${src}$`, 'iu');
}
