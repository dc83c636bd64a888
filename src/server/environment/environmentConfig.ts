/**
 * `environmentConfig/read`: codex's executor-local config layers, projected to the key
 * paths the client asks for. Follows upstream codex-rs/exec-server/src/environment_config.rs
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
 *   - each layer is projected to the requested key paths (tomlProjection.ts); a layer with
 *     nothing selected is dropped.
 *   - each layer is `{source, baseDir: <dir of the file as URI>, toml}`; `source` is an
 *     opaque diagnostic string (`user:/path/config.toml`).
 *
 * Not implemented: `project_root_markers` from config (always `.git`), requirements derived
 * from the legacy managed config, macOS MDM layers. A file the TOML scanner cannot read
 * gives -32603 naming the file and line.
 */
import { existsSync, promises as fsp, realpathSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ConfigLayer, ConfigLayerStack, EnvironmentConfigReadResult } from '../../protocol/environmentTypes';
import { ErrorCode, invalidParams, RpcError } from '../../protocol/errors';
import { pathFromWire, pathToWire } from '../../protocol/paths';
import { Params } from '../../protocol/validate';
import { projectToml } from './tomlProjection';
import { scanToml, type Statement } from './tomlScanner';

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

export async function readEnvironmentConfig(params: unknown, loc: EnvironmentConfigLocations = {}): Promise<EnvironmentConfigReadResult> {
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
