/**
 * `environment/info` and `environmentConfig/read`, answered truthfully for this machine.
 *
 * EnvironmentInfo (PROTOCOL_NOTES.md §2): the shell is $SHELL when it names an existing
 * absolute file, else /bin/bash, else /bin/sh. `capabilities` lists only what this server
 * really does: fsWatchMissing and environmentConfigRead are true, everything upstream
 * advertises for sandboxing, network proxying, credential masking, streaming etc. is false.
 * `providerId` is `sha256:<hex>` of "hostname\0uid\0home" (the upstream input could not be
 * found; this is stable per host+user, as upstream's value is across runs).
 *
 * environmentConfig/read follows upstream codex-rs/exec-server/src/environment_config.rs
 * (read_environment_config) and codex-rs/config/src/loader/local.rs
 * (load_local_config_layers, LocalTomlLayerStack::project):
 *   - params `{cwd, configPaths: string[][], requirementsPaths: string[][]}`; both lists
 *     empty → -32602 "at least one config or requirements path is required"; an empty
 *     path → -32602 "TOML paths must contain at least one key segment".
 *   - config layers, lowest precedence first: system /etc/codex/config.toml, user
 *     $CODEX_HOME/config.toml, project `.codex/config.toml` in every directory from the
 *     project root (nearest ancestor of cwd holding `.git`, else cwd) down to cwd — only
 *     when the user config marks cwd or the project root `trust_level = "trusted"` under
 *     `[projects."<path>"]` — then the legacy managed /etc/codex/managed_config.toml.
 *     cloudInsertionIndex counts the kept layers before the first non-system layer.
 *   - requirements layers: /etc/codex/requirements.toml; cloudInsertionIndex 1 when kept.
 *   - each layer is projected to the requested key paths; a layer with nothing selected
 *     is dropped. A non-table value met on the way down a path is kept whole (it
 *     overrides lower layers); a table header on the way down is kept even if empty.
 *   - each layer is `{source, baseDir: <dir of the file as URI>, toml}`; `source` is an
 *     opaque diagnostic string (`user:/path/config.toml`).
 *
 * Limitation (no TOML dependency): the projection works on the TOML text, statement by
 * statement, with a small scanner (tables, arrays of tables, dotted/quoted keys,
 * multi-line strings and arrays). The `toml` returned is the original text of the kept
 * statements, not upstream's re-serialisation; it parses to the same selected values,
 * except that an inline table (`a = {b = 1, c = 2}`) met on the way down a longer path is
 * returned whole instead of narrowed. Not implemented: `project_root_markers` from config
 * (always `.git`), requirements derived from the legacy managed config, macOS MDM layers.
 * A file this scanner cannot read gives -32603 naming the file and line.
 */
import { createHash } from 'node:crypto';
import { existsSync, promises as fsp, realpathSync, statSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RpcError, ErrorCode, invalidParams } from '../protocol/errors';
import { pathFromWire, pathToWire } from '../protocol/paths';
import type { EnvironmentInfo } from '../protocol/types';
import { Params } from '../protocol/validate';
import type { MethodTable } from './methodTable';
import type { SandboxStatus } from './sandbox';

// ---------------------------------------------------------------------------
// environment/info

export const CAPABILITIES: Readonly<Record<string, boolean>> = Object.freeze({
  networkProxyLaunch: false,
  networkProxyReviewDomains: false,
  credentialMasking: false,
  credentialMaskingCustomProviders: false,
  capabilityDiscoverySandbox: false,
  fsWatchMissing: true,
  capabilityDiscoveryV2: false,
  environmentConfigRead: true,
  httpHeaderEnvVars: false,
  sandboxedFileStreaming: false,
  fileWriteStreaming: false,
  shellSnapshotV2: false,
  windowsMxc: false,
  linuxRootWritePreservesDevices: false,
  linuxApprovedRootWritePreservesRestrictions: false,
});

export function buildEnvironmentInfo(opts: { cwd: string; executorVersion: string; sandbox?: SandboxStatus }): EnvironmentInfo {
  const info: EnvironmentInfo & { sandbox?: SandboxStatus } = {
    shell: detectShell(process.env.SHELL),
    executorVersion: opts.executorVersion,
    providerId: providerId(),
    cwd: pathToWire(opts.cwd),
    userHomeDir: pathToWire(os.homedir()),
    platformOs: platformOs(process.platform),
    prependPathDirs: [],
    temporaryDirectories: [],
    tempDir: pathToWire(os.tmpdir()),
    capabilities: { ...CAPABILITIES },
  };
  // Ours, not upstream's: whether sandboxed process/start can be enforced, and with what.
  if (opts.sandbox) info.sandbox = opts.sandbox;
  return info;
}

export function detectShell(envShell: string | undefined): { name: string; path: string } {
  const candidates = [envShell, '/bin/bash', '/bin/sh'];
  for (const c of candidates) {
    if (c && path.isAbsolute(c) && isFile(c)) return { name: path.basename(c), path: c };
  }
  return { name: 'sh', path: '/bin/sh' };
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/** Upstream spells these `linux`, `macos`, `windows`. */
export function platformOs(platform: NodeJS.Platform): string {
  if (platform === 'darwin') return 'macos';
  if (platform === 'win32') return 'windows';
  return platform;
}

function providerId(): string {
  let uid = '';
  try {
    uid = String(os.userInfo().uid);
  } catch {
    uid = process.env.USER ?? '';
  }
  const input = `${os.hostname()}\0${uid}\0${os.homedir()}`;
  return `sha256:${createHash('sha256').update(input).digest('hex')}`;
}

// ---------------------------------------------------------------------------
// environmentConfig/read

export interface ConfigLayer {
  source: string;
  baseDir: string;
  toml: string;
}

export interface ConfigLayerStack {
  layers: ConfigLayer[];
  cloudInsertionIndex: number;
}

export interface EnvironmentConfigLocations {
  /** Defaults: $CODEX_HOME, else ~/.codex. */
  codexHome?: string;
  /** Defaults: /etc/codex. */
  systemDir?: string;
  homeDir?: string;
}

interface RawLayer {
  source: string;
  file: string;
  text: string;
}

export async function readEnvironmentConfig(params: unknown, loc: EnvironmentConfigLocations = {}) {
  const p = Params.of(params, 'EnvironmentConfigReadParams');
  const cwd = pathFromWire('cwd', p.string('cwd'));
  const configPaths = readPathList(p, 'configPaths');
  const requirementsPaths = readPathList(p, 'requirementsPaths');
  if (configPaths.length === 0 && requirementsPaths.length === 0) {
    throw invalidParams('at least one config or requirements path is required');
  }
  if ([...configPaths, ...requirementsPaths].some((k) => k.length === 0)) {
    throw invalidParams('TOML paths must contain at least one key segment');
  }
  const homeDir = loc.homeDir ?? os.homedir();
  const codexHome = resolveCodexHome(loc.codexHome, homeDir);
  const systemDir = loc.systemDir ?? '/etc/codex';

  const system = await readLayer('system', path.join(systemDir, 'config.toml'));
  const user = await readLayer('user', path.join(codexHome, 'config.toml'));
  const project = await projectLayers(cwd, codexHome, user);
  const managed = await readLayer('managed', path.join(systemDir, 'managed_config.toml'));
  const requirements = await readLayer('requirements', path.join(systemDir, 'requirements.toml'));

  return {
    userHomeDir: pathToWire(homeDir),
    codexHomeDir: pathToWire(codexHome),
    hostname: os.hostname(),
    config: projectStack(present([system, user, ...project, managed]), system ? 1 : 0, configPaths),
    requirements: projectStack(present([requirements]), requirements ? 1 : 0, requirementsPaths),
  };
}

export function createEnvironmentMethods(info: () => EnvironmentInfo, loc?: EnvironmentConfigLocations): MethodTable {
  return {
    'environment/info': () => info(),
    'environmentConfig/read': (params) => readEnvironmentConfig(params, loc),
  };
}

function readPathList(p: Params, field: string): string[][] {
  const v = p.raw(field);
  if (v === undefined) throw invalidParams(`missing field \`${field}\``);
  if (!Array.isArray(v)) throw invalidParams(`invalid type for \`${field}\`: expected a sequence of sequences of strings`);
  return v.map((item, i) => {
    if (!Array.isArray(item) || item.some((s) => typeof s !== 'string')) {
      throw invalidParams(`invalid type for \`${field}[${i}]\`: expected a sequence of strings`);
    }
    return item as string[];
  });
}

function resolveCodexHome(explicit: string | undefined, homeDir: string): string {
  const raw = explicit ?? process.env.CODEX_HOME ?? path.join(homeDir, '.codex');
  const abs = path.resolve(raw);
  return existsSync(abs) ? safeRealpath(abs) : abs;
}

function safeRealpath(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

function present<T>(items: (T | undefined)[]): T[] {
  return items.filter((x): x is T => x !== undefined);
}

/** A missing file is no layer; any other read error is reported. */
async function readLayer(kind: string, file: string): Promise<RawLayer | undefined> {
  try {
    const text = await fsp.readFile(file, 'utf8');
    return { source: `${kind}:${file}`, file, text };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new RpcError(ErrorCode.InternalError, `failed to load executor-local config: ${file}: ${(err as Error).message}`);
  }
}

/** `.codex/config.toml` from the project root down to cwd, when that project is trusted. */
async function projectLayers(cwd: string, codexHome: string, user: RawLayer | undefined): Promise<RawLayer[]> {
  const root = findProjectRoot(cwd);
  if (!user || !isTrusted(user, [cwd, root])) return [];
  const dirs: string[] = [];
  for (let d = cwd; ; d = path.dirname(d)) {
    dirs.unshift(d);
    if (d === root || path.dirname(d) === d) break;
  }
  const layers: RawLayer[] = [];
  for (const dir of dirs) {
    const dotCodex = path.join(dir, '.codex');
    if (dotCodex === codexHome) continue; // the user layer already covers CODEX_HOME
    const layer = await readLayer('project', path.join(dotCodex, 'config.toml'));
    if (layer) layers.push(layer);
  }
  return layers;
}

function findProjectRoot(cwd: string): string {
  for (let d = cwd; ; d = path.dirname(d)) {
    if (existsSync(path.join(d, '.git'))) return d;
    if (path.dirname(d) === d) return cwd;
  }
}

/** The first of `candidates` with a `[projects."<path>"]` entry decides (cwd before root). */
function isTrusted(user: RawLayer, candidates: string[]): boolean {
  const statements = scanToml(user.text, user.file);
  for (const candidate of candidates) {
    const level = trustLevel(statements, candidate);
    if (level !== undefined) return level === 'trusted';
  }
  return false;
}

function trustLevel(statements: Statement[], project: string): string | undefined {
  for (const s of statements) {
    if (s.kind !== 'kv') continue;
    const full = [...s.table, ...s.key];
    if (full.length === 3 && full[0] === 'projects' && full[1] === project && full[2] === 'trust_level') {
      return parseStringValue(s.value);
    }
    if (full.length === 2 && full[0] === 'projects' && full[1] === project) {
      const m = /trust_level\s*=\s*("(?:[^"\\]|\\.)*"|'[^']*')/.exec(s.value);
      if (m) return parseStringValue(m[1]!);
    }
  }
  return undefined;
}

function parseStringValue(raw: string): string | undefined {
  const v = raw.trim();
  if (v.startsWith("'") && v.endsWith("'") && v.length >= 2) return v.slice(1, -1);
  if (v.startsWith('"') && v.endsWith('"') && v.length >= 2) {
    try {
      return JSON.parse(v) as string;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

function projectStack(raw: RawLayer[], systemCount: number, paths: string[][]): ConfigLayerStack {
  const layers: ConfigLayer[] = [];
  let cloudInsertionIndex = 0;
  raw.forEach((layer, index) => {
    const toml = projectToml(layer.text, paths, layer.file);
    if (toml === undefined) return;
    if (index < systemCount) cloudInsertionIndex += 1;
    layers.push({ source: layer.source, baseDir: pathToWire(path.dirname(layer.file)), toml });
  });
  return { layers, cloudInsertionIndex };
}

// ---------------------------------------------------------------------------
// A small TOML statement scanner and the key-path projection built on it.

export type Statement =
  | { kind: 'table'; path: string[]; array: boolean; text: string }
  | { kind: 'kv'; table: string[]; key: string[]; value: string; text: string };

type Match = 'inside' | 'ancestor' | 'none';

/**
 * Keeps only the statements selected by `paths`; undefined when nothing is selected
 * (upstream drops such a layer). See the header for the rules.
 */
export function projectToml(text: string, paths: string[][], file = '<toml>'): string | undefined {
  const kept: string[] = [];
  let tableKept = false;
  let wholeArray = false;
  for (const s of scanToml(text, file)) {
    if (s.kind === 'table') {
      const m = matchPath(s.path, paths);
      tableKept = m !== 'none';
      // An array of tables on the way down is a non-table value: kept whole.
      wholeArray = s.array && m === 'ancestor';
      if (tableKept) kept.push(s.text);
      continue;
    }
    if (!tableKept && s.table.length > 0) continue;
    if (wholeArray || matchPath([...s.table, ...s.key], paths) !== 'none') kept.push(s.text);
  }
  return kept.length === 0 ? undefined : kept.join('\n') + '\n';
}

/** `inside`: at or below a selected path; `ancestor`: on the way down to one. */
function matchPath(full: string[], paths: string[][]): Match {
  let best: Match = 'none';
  for (const sel of paths) {
    const n = Math.min(full.length, sel.length);
    let same = true;
    for (let i = 0; i < n && same; i++) same = full[i] === sel[i];
    if (!same) continue;
    if (full.length >= sel.length) return 'inside';
    best = 'ancestor';
  }
  return best;
}

class TomlScanError extends Error {}

export function scanToml(text: string, file = '<toml>'): Statement[] {
  try {
    return new Scanner(text).statements();
  } catch (err) {
    if (err instanceof TomlScanError) {
      throw new RpcError(ErrorCode.InternalError, `failed to load executor-local config: ${file}: ${err.message}`);
    }
    throw err;
  }
}

class Scanner {
  private i = 0;
  private table: string[] = [];

  constructor(private readonly s: string) {}

  statements(): Statement[] {
    const out: Statement[] = [];
    for (;;) {
      this.skipBlankAndComments();
      if (this.i >= this.s.length) return out;
      out.push(this.s[this.i] === '[' ? this.header() : this.keyValue());
    }
  }

  private header(): Statement {
    const start = this.i;
    const array = this.s.startsWith('[[', this.i);
    this.i += array ? 2 : 1;
    const p = this.key(array ? ']]' : ']');
    if (!this.s.startsWith(array ? ']]' : ']', this.i)) this.fail('expected `]` after table name');
    this.i += array ? 2 : 1;
    this.endOfLine();
    this.table = p;
    return { kind: 'table', path: p, array, text: this.s.slice(start, this.i).trimEnd() };
  }

  private keyValue(): Statement {
    const start = this.i;
    const key = this.key('=');
    if (this.s[this.i] !== '=') this.fail('expected `=` after a key');
    this.i += 1;
    const valueStart = this.i;
    this.value();
    const value = this.s.slice(valueStart, this.i).trim();
    if (value === '') this.fail('missing value');
    this.endOfLine();
    return { kind: 'kv', table: this.table, key, value, text: this.s.slice(start, this.i).trimEnd() };
  }

  /** A dotted key of bare, "basic" and 'literal' parts, up to `stop`. */
  private key(stop: string): string[] {
    const parts: string[] = [];
    for (;;) {
      this.skipSpaces();
      const c = this.s[this.i];
      if (c === '"') parts.push(this.basicString());
      else if (c === "'") parts.push(this.literalString());
      else {
        const m = /^[A-Za-z0-9_-]+/.exec(this.s.slice(this.i));
        if (!m) this.fail('invalid key');
        parts.push(m![0]);
        this.i += m![0].length;
      }
      this.skipSpaces();
      if (this.s[this.i] === '.') {
        this.i += 1;
        continue;
      }
      if (!this.s.startsWith(stop, this.i)) this.fail('invalid key');
      return parts;
    }
  }

  /** Skips one value, whatever its shape: strings, arrays and inline tables may nest and span lines. */
  private value(): void {
    let depth = 0;
    for (;;) {
      if (this.i >= this.s.length) {
        if (depth > 0) this.fail('unterminated array or inline table');
        return;
      }
      const c = this.s[this.i]!;
      if (c === '"' || c === "'") {
        if (this.s.startsWith(c.repeat(3), this.i)) this.multilineString(c);
        else if (c === '"') this.basicString();
        else this.literalString();
      } else if (c === '[' || c === '{') {
        depth += 1;
        this.i += 1;
      } else if (c === ']' || c === '}') {
        depth -= 1;
        this.i += 1;
        if (depth < 0) this.fail('unbalanced brackets');
      } else if (c === '#') {
        while (this.i < this.s.length && this.s[this.i] !== '\n') this.i += 1;
      } else if (c === '\n' && depth === 0) {
        return;
      } else {
        this.i += 1;
      }
    }
  }

  private basicString(): string {
    const start = this.i;
    this.i += 1;
    while (this.i < this.s.length && this.s[this.i] !== '"') {
      if (this.s[this.i] === '\n') this.fail('newline in a string');
      this.i += this.s[this.i] === '\\' ? 2 : 1;
    }
    if (this.i >= this.s.length) this.fail('unterminated string');
    this.i += 1;
    const raw = this.s.slice(start, this.i);
    try {
      return JSON.parse(raw.replace(/\\U([0-9A-Fa-f]{8})/g, (_, h: string) => String.fromCodePoint(parseInt(h, 16)))) as string;
    } catch {
      return raw.slice(1, -1);
    }
  }

  private literalString(): string {
    const end = this.s.indexOf("'", this.i + 1);
    const nl = this.s.indexOf('\n', this.i + 1);
    if (end < 0 || (nl >= 0 && nl < end)) this.fail('unterminated string');
    const v = this.s.slice(this.i + 1, end);
    this.i = end + 1;
    return v;
  }

  private multilineString(q: string): void {
    const delim = q.repeat(3);
    let j = this.i + 3;
    for (;;) {
      const end = this.s.indexOf(delim, j);
      if (end < 0) this.fail('unterminated multi-line string');
      if (q === '"' && isEscaped(this.s, end)) {
        j = end + 1;
        continue;
      }
      // Up to two extra quotes right before the closing delimiter belong to the string.
      let close = end + 3;
      while (close < this.s.length && this.s[close] === q && close - end < 5) close += 1;
      this.i = close;
      return;
    }
  }

  private skipSpaces(): void {
    while (this.s[this.i] === ' ' || this.s[this.i] === '\t') this.i += 1;
  }

  private skipBlankAndComments(): void {
    for (;;) {
      const c = this.s[this.i];
      if (c === ' ' || c === '\t' || c === '\r' || c === '\n') this.i += 1;
      else if (c === '#') while (this.i < this.s.length && this.s[this.i] !== '\n') this.i += 1;
      else return;
    }
  }

  private endOfLine(): void {
    this.skipSpaces();
    if (this.s[this.i] === '#') while (this.i < this.s.length && this.s[this.i] !== '\n') this.i += 1;
    if (this.s[this.i] === '\r') this.i += 1;
    if (this.i < this.s.length && this.s[this.i] !== '\n') this.fail('unexpected text after a statement');
  }

  private fail(message: string): never {
    const line = this.s.slice(0, this.i).split('\n').length;
    throw new TomlScanError(`unsupported or invalid TOML at line ${line}: ${message}`);
  }
}

function isEscaped(s: string, at: number): boolean {
  let n = 0;
  for (let k = at - 1; k >= 0 && s[k] === '\\'; k--) n += 1;
  return n % 2 === 1;
}
