/**
 * Wire types of `environment/info` (also in initialize's result) and
 * `environmentConfig/read` (../shared/codex-0.169/PROTOCOL_NOTES.md §2 and §6).
 */

export interface EnvironmentInfo {
  shell: { name: string; path: string };
  executorVersion: string;
  providerId: string;
  cwd: string;
  userHomeDir: string;
  platformOs: string;
  prependPathDirs: string[];
  temporaryDirectories: string[];
  tempDir: string;
  capabilities: Record<string, boolean>;
  /** Ours, not upstream's: whether sandboxed process/start can be enforced here, and how. */
  sandbox?: SandboxStatus;
}

export type SandboxMode = 'helper' | 'sandboxCommand';
export type SandboxType = 'linuxSeccomp' | 'macosSeatbelt';

/** What environment/info and the logs say about sandbox support. */
export interface SandboxStatus {
  state: 'unchecked' | 'available' | 'unavailable';
  /** The `sandboxType` sandboxed process/start answers (null when unavailable). */
  sandboxType: SandboxType | null;
  mode: SandboxMode | null;
  /** The native binary (or the launcher, in sandboxCommand mode) in use. */
  codexPath: string | null;
  codexVersion: string | null;
  /** Why sandboxed requests are refused (state "unavailable"). */
  reason: string | null;
}

/** environment/info takes no params (upstream ignores any, or none at all). */
export type EnvironmentInfoParams = Record<string, never> | null;

export interface EnvironmentConfigReadParams {
  cwd: string;
  /** TOML key paths to select from the config layers, e.g. `[["mcp_servers"]]`. */
  configPaths: string[][];
  requirementsPaths: string[][];
}

export interface ConfigLayer {
  /** An opaque diagnostic, e.g. `user:/home/me/.codex/config.toml`. */
  source: string;
  /** The directory of the layer's file, as a file:// URI. */
  baseDir: string;
  /** The layer's selected statements, as TOML text. */
  toml: string;
}

export interface ConfigLayerStack {
  /** Lowest precedence first. */
  layers: ConfigLayer[];
  /** How many kept layers come before where a cloud layer would go. */
  cloudInsertionIndex: number;
}

export interface EnvironmentConfigReadResult {
  userHomeDir: string;
  codexHomeDir: string;
  hostname: string;
  config: ConfigLayerStack;
  requirements: ConfigLayerStack;
}
