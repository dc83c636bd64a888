/** Server settings (never request settings, so memory and lifetimes stay predictable). */
export interface ServerConfig {
  /** Output retained per process for process/read; oldest chunks are evicted first. */
  retainedOutputBytes: number;
  /**
   * Output retained by closed processes, server-wide. Their records stay readable for
   * exitedRetentionMs; past this budget the oldest closed processes give up their output
   * first (reads then answer `truncated`), so a burst of short noisy commands cannot hold
   * exitedRetentionMs × their output in memory. Running processes keep their own window.
   */
  closedOutputBudgetBytes: number;
  /** How long a detached upstream session (and its processes) waits for a resume. */
  sessionTtlMs: number;
  /** process/terminate: SIGTERM to the group, then SIGKILL after this long. */
  terminateGraceMs: number;
  /** After exit, how long to wait for grandchildren to release stdout/stderr before `closed`. */
  closeWaitMs: number;
  /** How long an exited+closed process stays readable (and its id reserved). */
  exitedRetentionMs: number;
  /** Longest `waitMs` honoured by process/read. */
  maxReadWaitMs: number;
  /** Version reported in environmentInfo.executorVersion. */
  executorVersion: string;
  /** The codex whose sandbox enforces `sandbox` requests (sandbox/codexBinary.ts); default: `codex` on PATH. */
  codexPath?: string;
}

const DEFAULT_CONFIG: ServerConfig = {
  retainedOutputBytes: 1024 * 1024,
  closedOutputBudgetBytes: 64 * 1024 * 1024,
  sessionTtlMs: 80_000,
  terminateGraceMs: 1_000,
  closeWaitMs: 2_000,
  exitedRetentionMs: 80_000,
  maxReadWaitMs: 60_000,
  executorVersion: '0.1.0',
};

export function resolveConfig(partial: Partial<ServerConfig> = {}): ServerConfig {
  const cfg = { ...DEFAULT_CONFIG };
  for (const [k, v] of Object.entries(partial)) {
    if (v !== undefined) (cfg as Record<string, unknown>)[k] = v;
  }
  return cfg;
}
