/**
 * Wire types of exec-server's handshake and process API: seed v0 plus upstream's (codex
 * 0.169/0.171). The fs/* types are in fsTypes.ts, environment/* in environmentTypes.ts. Byte
 * payloads are base64 strings on the wire; paths are absolute paths or file:// URIs on input
 * and file:// URIs on output (as upstream).
 */
import type { EnvironmentInfo, SandboxType } from './environmentTypes';

export interface InitializeParams {
  clientName: string;
  /** Present (even as null) = an upstream client: its session survives a disconnect. */
  resumeSessionId?: string | null;
}

export interface InitializeResult {
  protocolVersion: string;
  sessionId: string;
  environmentInfo: EnvironmentInfo;
}

export type OutputStream = 'stdout' | 'stderr' | 'pty';

/** How the child's environment is built from the server's own (upstream `envPolicy`). */
export interface EnvPolicy {
  inherit: 'all' | 'core' | 'none';
  ignoreDefaultExcludes: boolean;
  exclude: string[];
  set: Record<string, string>;
  includeOnly: string[];
}

export interface StartParams {
  processId: string;
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  tty: boolean;
  pipeStdin: boolean;
  arg0: string | null;
  /** Initial PTY size; upstream has no such field, default 80x24. */
  cols?: number;
  rows?: number;
  envPolicy?: EnvPolicy;
  metadata?: Record<string, unknown>;
}

export interface StartResult {
  processId: string;
  sandboxType: 'none' | SandboxType;
  pid: number;
}

export interface ReadParams {
  processId: string;
  afterSeq?: number | null;
  maxBytes?: number | null;
  waitMs?: number | null;
}

export interface OutputChunk {
  seq: number;
  stream: OutputStream;
  chunk: string;
}

export interface ReadResult {
  chunks: OutputChunk[];
  nextSeq: number;
  exited: boolean;
  exitCode: number | null;
  closed: boolean;
  failure: string | null;
  sandboxDenied: boolean;
  /** True when output after `afterSeq` was evicted from the retained buffer (bounded memory). */
  truncated: boolean;
}

export type WriteStatus = 'accepted' | 'unknownProcess' | 'stdinClosed' | 'starting';

export interface WriteParams {
  processId: string;
  /** base64 */
  chunk: string;
  writeId?: string | null;
}

export interface WriteResult {
  accepted: boolean;
  status: WriteStatus;
}

export type SignalName = 'interrupt' | 'terminate' | 'kill' | 'hangup';
export const SIGNAL_NAMES: readonly SignalName[] = ['interrupt', 'terminate', 'kill', 'hangup'];

export interface SignalParams {
  processId: string;
  signal: SignalName;
}

export interface ResizeParams {
  processId: string;
  cols: number;
  rows: number;
}

export interface ProcessIdParams {
  processId: string;
}

export interface TerminateResult {
  running: boolean;
}

export interface SignalResult {
  delivered: boolean;
}

export type ResizeResult = Record<string, never>;

export interface CloseStdinResult {
  closed: boolean;
}

export interface ProcessListEntry {
  processId: string;
  pid: number;
  argv: string[];
  tty: boolean;
  state: 'running' | 'exited' | 'closed';
  exitCode: number | null;
  nextSeq: number;
  startedAtMs: number;
}

export interface ListResult {
  processes: ProcessListEntry[];
}

export interface OutputNotification {
  processId: string;
  seq: number;
  stream: OutputStream;
  chunk: string;
}

export interface ExitedNotification {
  processId: string;
  seq: number;
  exitCode: number;
  /** Name of the signal that ended the process, when one did (an extension; upstream omits it). */
  signal: string | null;
  sandboxDenied: boolean;
}

export interface ClosedNotification {
  processId: string;
  seq: number;
}
