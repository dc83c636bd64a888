/**
 * Enforcing codex's `sandbox` on process/start by reusing the sandbox the user's codex
 * ships, as upstream's own exec server does (notes: /work/shared/notes/codex-sandbox.md).
 *
 * Linux, preferred ("helper"): the native codex binary run under the arg0 name
 * `codex-linux-sandbox` — a symlink in a private 0700 directory made once per server and
 * removed at shutdown — with `--sandbox-policy-cwd`, `--command-cwd`, `--permission-profile`
 * and the command after `--`. It runs codex's bubblewrap (read-only `/`, writable roots bound,
 * protected names read-only, new user/pid/net namespaces) then seccomp, and passes the exit
 * status through. Those flags are codex-internal, so before first use we check, once:
 *   - the binary's version (`codex --version`), compared with each request's CODEX_VERSION
 *     (the client's version): another version might read the profile differently;
 *   - a probe: a command under a profile that allows writing one directory must be able to
 *     write there, must fail to write a second one, and must see seccomp on.
 * Fallback ("sandboxCommand"): `codex sandbox --sandbox-state-json` — the public entry point,
 * usable through npm's launcher too and the one codex offers on macOS (Seatbelt; not run
 * here) — used only where the helper is missing or its probe failed but this one passes.
 * Everything learnt is cached for the server's life; a request that cannot be enforced
 * exactly is refused with upstream's wording plus why and what to do, and nothing starts.
 */
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { invalidParams } from '../../protocol/errors';
import type { SandboxStatus, SandboxType } from '../../protocol/environmentTypes';
import { pathToWire } from '../../protocol/paths';
import { findCodex, type CodexLocation } from './codexBinary';
import { checkManagedNetwork, materializePermissions, parseSandbox, refusalToRpc, SandboxRefusal, UNSANDBOXED_HINT, type SandboxRequest } from './policy';

// What environment/info says about sandbox support is a wire type.
export type { SandboxStatus } from '../../protocol/environmentTypes';

export interface SandboxOptions {
  /** `--codex-path` / `execServer.codexPath`; otherwise `codex` on PATH. */
  codexPath?: string;
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
  /** Where the private helper directory is made (default os.tmpdir()). */
  tmpDir?: string;
  /** How long a failed check is kept before the next request checks again (default 60 s). */
  recheckAfterMs?: number;
}

/** process/start params the sandbox decision needs (already validated by processMethods). */
export interface StartRequest {
  sandbox: unknown;
  enforceManagedNetwork: unknown;
  managedNetwork: unknown;
  argv: string[];
  /** The command's cwd, a path. */
  cwd: string;
  env: Record<string, string>;
  arg0: string | null;
}

/** How to spawn a sandboxed command instead of the command itself. */
export interface SandboxedLaunch {
  file: string;
  argv: string[];
  arg0: null;
  sandboxType: SandboxType;
}

const PROBE_TIMEOUT_MS = 15_000;
const RECHECK_AFTER_MS = 60_000;
const VERSION_TIMEOUT_MS = 10_000;
const HELPER_NAME = 'codex-linux-sandbox';
const WHAT_TO_DO_BINARY =
  'Install codex on the machine the server runs on, or point the server at it with `--codex-path` ' +
  '(VS Code setting `execServer.codexPath`). ' +
  UNSANDBOXED_HINT;

export class SandboxSupport {
  private readonly platform: NodeJS.Platform;
  private readonly env: NodeJS.ProcessEnv;
  private current: SandboxStatus = { state: 'unchecked', sandboxType: null, mode: null, codexPath: null, codexVersion: null, reason: null };
  private checking: Promise<SandboxStatus> | null = null;
  private checkedAt = 0;
  /** Client versions that did not match and made us check codex again (once each). */
  private readonly recheckedFor = new Set<string>();
  /** The private 0700 directory holding the helper symlink; null until made. */
  private dir: string | null = null;
  private helperPath: string | null = null;
  private disposed = false;
  private readonly onExit = () => this.removeDir();

  constructor(private readonly opts: SandboxOptions = {}) {
    this.platform = opts.platform ?? process.platform;
    this.env = opts.env ?? process.env;
  }

  status(): SandboxStatus {
    return { ...this.current };
  }

  /**
   * Finds and probes codex once; later calls return the cached result. A failure is kept
   * for RECHECK_AFTER_MS only (codex may get installed, a loaded machine may have timed the
   * probe out); success is kept for the server's life.
   */
  check(): Promise<SandboxStatus> {
    // checkedAt is 0 while a check runs, so concurrent callers share it.
    const stale = this.checkedAt > 0 && this.current.state === 'unavailable' && Date.now() - this.checkedAt >= (this.opts.recheckAfterMs ?? RECHECK_AFTER_MS);
    if (stale) this.checking = null;
    if (!this.checking) {
      this.checkedAt = 0;
      this.checking = this.runCheck().then((s) => {
        this.current = s;
        this.checkedAt = Date.now();
        return { ...s };
      });
    }
    return this.checking;
  }

  /**
   * null when the request is unsandboxed; the launch to use otherwise. Throws -32602 with
   * upstream's wording when the sandbox cannot be enforced exactly (nothing is started).
   */
  async prepare(r: StartRequest): Promise<SandboxedLaunch | null> {
    try {
      checkManagedNetwork(r.enforceManagedNetwork, r.managedNetwork);
      const req = parseSandbox(r.sandbox);
      if (!req) return null;
      return await this.launchFor(req, r);
    } catch (err) {
      throw refusalToRpc(err);
    }
  }

  private async launchFor(req: SandboxRequest, r: StartRequest): Promise<SandboxedLaunch> {
    if (this.platform === 'win32') {
      // Upstream's own words for this case.
      throw invalidParams(`sandboxed remote process launch is not supported on Windows. ${UNSANDBOXED_HINT}`);
    }
    let s = await this.check();
    const clientVersion = r.env.CODEX_VERSION;
    if (clientVersion !== undefined && clientVersion !== s.codexVersion && !this.recheckedFor.has(clientVersion)) {
      // codex may have been upgraded on disk since the check: look once more per client version.
      this.recheckedFor.add(clientVersion);
      this.checking = null;
      s = await this.check();
    }
    if (s.state !== 'available' || !s.mode || !s.sandboxType || !s.codexPath) {
      throw new SandboxRefusal(s.reason ?? 'sandbox support is not available', s.reason?.includes('user namespaces') ? USERNS_TODO : WHAT_TO_DO_BINARY);
    }
    if (clientVersion !== undefined && clientVersion !== s.codexVersion) {
      throw new SandboxRefusal(
        `the client is codex ${clientVersion} but the codex whose sandbox this server uses (${s.codexPath}) is ${s.codexVersion}; ` +
          'their sandbox policies may differ',
        `Point the server at codex ${clientVersion} with \`--codex-path\` (VS Code setting \`execServer.codexPath\`), or run the same codex version on both sides. ${UNSANDBOXED_HINT}`,
      );
    }
    if (r.arg0 !== null && r.arg0 !== r.argv[0]) {
      throw new SandboxRefusal('the request sets `arg0`, which codex\'s sandbox helper cannot pass on to the command', UNSANDBOXED_HINT);
    }
    const profile = JSON.stringify(materializePermissions(req));
    if (s.mode === 'helper') {
      const helper = this.helperPath!;
      return {
        file: helper,
        argv: [helper, '--sandbox-policy-cwd', req.cwd, '--command-cwd', r.cwd, '--permission-profile', profile, '--', ...r.argv],
        arg0: null,
        sandboxType: s.sandboxType,
      };
    }
    const state = JSON.stringify({ sandboxCwd: pathToWire(req.cwd), permissionProfile: JSON.parse(profile) });
    return { file: s.codexPath, argv: [s.codexPath, 'sandbox', '--sandbox-state-json', state, '--', ...r.argv], arg0: null, sandboxType: s.sandboxType };
  }

  /** Removes the helper directory (also done at process exit, should shutdown be skipped). */
  dispose(): void {
    this.disposed = true;
    this.removeDir();
  }

  private removeDir(): void {
    process.removeListener('exit', this.onExit);
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.dir = null;
    this.helperPath = null;
  }

  private async runCheck(): Promise<SandboxStatus> {
    const none = (reason: string, extra: Partial<SandboxStatus> = {}): SandboxStatus => ({
      state: 'unavailable', sandboxType: null, mode: null, codexPath: null, codexVersion: null, reason, ...extra,
    });
    if (this.platform === 'win32') return none('sandboxed remote process launch is not supported on Windows');
    if (this.platform !== 'linux' && this.platform !== 'darwin') return none(`no codex sandbox exists for ${this.platform}`);
    let loc: CodexLocation;
    try {
      loc = findCodex(this.opts.codexPath, this.env);
    } catch (err) {
      return none((err as Error).message);
    }
    const versionOf = loc.native ?? loc.entry;
    const version = await codexVersion(versionOf).catch((err: Error) => err);
    if (version instanceof Error) return none(`\`${versionOf} --version\` failed: ${version.message}`, { codexPath: versionOf });
    const sandboxType: SandboxType = this.platform === 'linux' ? 'linuxSeccomp' : 'macosSeatbelt';
    const found = { codexPath: versionOf, codexVersion: version };
    if (this.disposed) return none('the server is shutting down', found);
    const work = this.makeDir();
    const failures: string[] = [];
    if (this.platform === 'linux' && loc.native) {
      const helper = path.join(work, HELPER_NAME);
      // Replaced atomically: a re-check must not leave a moment without the helper.
      rmSync(`${helper}.new`, { force: true });
      symlinkSync(loc.native, `${helper}.new`);
      renameSync(`${helper}.new`, helper);
      const fail = await probe(work, (w, script, args) => [helper, ['--sandbox-policy-cwd', w, '--command-cwd', w, '--permission-profile', JSON.stringify(probeProfile(w)), '--', '/bin/sh', '-c', script, 'sh', ...args]], true);
      if (!fail) {
        this.helperPath = helper;
        return { state: 'available', sandboxType, mode: 'helper', ...found, reason: null };
      }
      failures.push(`codex-linux-sandbox probe: ${fail}`);
    } else if (this.platform === 'linux') {
      failures.push(`the native codex binary behind ${loc.entry} was not found`);
    }
    const entry = loc.native ?? loc.entry;
    const fail = await probe(work, (w, script, args) => [entry, ['sandbox', '--sandbox-state-json', JSON.stringify({ sandboxCwd: pathToWire(w), permissionProfile: probeProfile(w) }), '--', '/bin/sh', '-c', script, 'sh', ...args]], this.platform === 'linux');
    if (!fail) return { state: 'available', sandboxType, mode: 'sandboxCommand', codexPath: entry, codexVersion: version, reason: null };
    failures.push(`codex sandbox probe: ${fail}`);
    const userns = this.platform === 'linux' ? userNamespaceProblem() : null;
    return none([userns, ...failures].filter(Boolean).join('; '), found);
  }

  private makeDir(): string {
    if (this.dir) return this.dir;
    const base = this.opts.tmpDir ?? os.tmpdir();
    this.dir = mkdtempSync(path.join(base, 'exec-server-sandbox-'));
    chmodSync(this.dir, 0o700);
    process.on('exit', this.onExit);
    return this.dir;
  }
}

const USERNS_TODO =
  'Allow unprivileged user namespaces for this user (in a container: a seccomp profile that permits them; on Ubuntu 23.10+: ' +
  'an AppArmor profile for codex or `sysctl kernel.apparmor_restrict_unprivileged_userns=0`), or run the server on a host that has them. ' +
  UNSANDBOXED_HINT;

/** A profile: everything readable, only `w` writable, no network. */
function probeProfile(w: string) {
  return {
    type: 'managed',
    file_system: {
      type: 'restricted',
      entries: [
        { path: { type: 'special', value: { kind: 'root' } }, access: 'read' },
        { path: { type: 'path', path: w }, access: 'write' },
      ],
    },
    network: 'restricted',
  };
}

type ProbeCommand = (writable: string, script: string, args: string[]) => [string, string[]];

/**
 * Runs the probe script through `command`; null when the sandbox behaved, else what went
 * wrong. The script must write to $1, must fail to write to $2, and (Linux) see seccomp.
 */
async function probe(work: string, command: ProbeCommand, expectSeccomp: boolean): Promise<string | null> {
  const w = mkdtempSync(path.join(work, 'probe-w-'));
  const r = mkdtempSync(path.join(work, 'probe-r-'));
  const script =
    'echo ok > "$1/allowed" || exit 3; ' +
    'if (echo no > "$2/denied") 2>/dev/null; then exit 4; fi; ' +
    (expectSeccomp ? 'grep -q "^Seccomp:[[:space:]]*2" /proc/self/status || exit 5; ' : '') +
    'exit 0';
  try {
    const [file, args] = command(w, script, [w, r]);
    const res = await run(file, args, w, PROBE_TIMEOUT_MS);
    const deniedWritten = existsSync(path.join(r, 'denied'));
    if (deniedWritten || res.code === 4) return 'a write the profile denies succeeded: the sandbox does not confine writes';
    if (res.code === 5) return 'the command did not run under seccomp';
    if (res.code === 0 && existsSync(path.join(w, 'allowed'))) return null;
    const tail = res.stderr.trim().split('\n').slice(-3).join(' | ').slice(0, 400);
    return `${res.error ?? `exit ${res.code ?? res.signal}`}${tail ? `: ${tail}` : ''}`;
  } finally {
    rmSync(w, { recursive: true, force: true });
    rmSync(r, { recursive: true, force: true });
  }
}

function run(file: string, args: string[], cwd: string, timeout: number): Promise<{ code: number | null; signal: string | null; stderr: string; stdout: string; error?: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd, timeout, killSignal: 'SIGKILL', maxBuffer: 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
      const e = err as (NodeJS.ErrnoException & { code?: number | string; signal?: string; killed?: boolean }) | null;
      if (e && typeof e.code === 'string') return resolve({ code: null, signal: null, stdout, stderr, error: `could not run ${file}: ${e.message}` });
      if (e?.killed) return resolve({ code: null, signal: 'SIGKILL', stdout, stderr, error: `timed out after ${timeout} ms` });
      resolve({ code: e ? (typeof e.code === 'number' ? e.code : null) : 0, signal: e?.signal ?? null, stdout, stderr });
    });
  });
}

async function codexVersion(bin: string): Promise<string> {
  const res = await run(bin, ['--version'], os.tmpdir(), VERSION_TIMEOUT_MS);
  if (res.error) throw new Error(res.error);
  const m = /(\d+\.\d+\.\d+\S*)/.exec(res.stdout);
  if (res.code !== 0 || !m) throw new Error(`unexpected output ${JSON.stringify(res.stdout.slice(0, 200))} (exit ${res.code})`);
  return m[1]!;
}

/** Why bubblewrap cannot make a user namespace here, when the kernel says so; else null. */
export function userNamespaceProblem(read: (p: string) => string | null = readProc): string | null {
  if (read('/proc/sys/user/max_user_namespaces') === '0') return 'user namespaces are disabled on this host (user.max_user_namespaces = 0)';
  if (read('/proc/sys/kernel/unprivileged_userns_clone') === '0' && process.getuid?.() !== 0) {
    return 'unprivileged user namespaces are disabled on this host (kernel.unprivileged_userns_clone = 0)';
  }
  if (read('/proc/sys/kernel/apparmor_restrict_unprivileged_userns') === '1' && process.getuid?.() !== 0) {
    return "Ubuntu's AppArmor restriction on unprivileged user namespaces is on (kernel.apparmor_restrict_unprivileged_userns = 1)";
  }
  return null;
}

function readProc(p: string): string | null {
  try {
    return readFileSync(p, 'utf8').trim();
  } catch {
    return null;
  }
}

// One SandboxSupport per server, keyed by its resolved config object, so the process and
// environment methods reach it without being handed the server.
const perServer = new WeakMap<object, SandboxSupport>();

export function sandboxFor(config: { codexPath?: string }): SandboxSupport {
  let s = perServer.get(config);
  if (!s) {
    s = new SandboxSupport({ codexPath: config.codexPath });
    perServer.set(config, s);
  }
  return s;
}

/** At server shutdown: remove the helper directory. */
export function releaseSandbox(config: object): void {
  perServer.get(config)?.dispose();
  perServer.delete(config);
}

/** One line for the logs: what sandboxed requests will get. */
export function describeSandboxStatus(s: SandboxStatus): string {
  if (s.state === 'available') {
    const how = s.mode === 'helper' ? 'codex-linux-sandbox' : '`codex sandbox`';
    return `sandbox: enforced (${s.sandboxType}) with codex ${s.codexVersion} at ${s.codexPath} via ${how}`;
  }
  if (s.state === 'unchecked') return 'sandbox: not checked yet';
  return `sandbox: requests with a sandbox will be refused: ${s.reason}`;
}
