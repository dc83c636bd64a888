import { notification, request } from './requestTypes';
import type { OutputStream, SignalName, WriteStatus } from './types';

/**
 * The admin protocol: the privileged channel of a server to its owner. Every session's
 * processes, their events and output, and control over any of them. Reached in three ways,
 * all speaking this one protocol:
 *   - in-process (the extension's inProcess mode): `adminInProcess` (src/server/admin/adminApi.ts);
 *   - over the CLI's stdin/stdout with `exec-server --admin-stdio` (the extension's child mode):
 *     `serveAdmin` (src/transport/adminChannel.ts) and `adminOverStdio` (src/client/adminClient.ts);
 *   - over the control socket after a window reload (`--control-socket`): its first request is
 *     `admin/adopt` with the secret, then the socket carries the same channel (src/transport/controlSocket.ts).
 * Never over the WebSocket. JSON-RPC 2.0, one message per line, the codec and error codes of
 * the exec protocol (src/protocol/jsonrpc.ts, errors.ts); buffers travel as base64.
 *
 * Server → owner, in this order: the `admin/ready` notification first (the owner learns the
 * port without parsing stderr); then lifecycle and output notifications, and responses.
 *
 * Bounded output: process output can be a flood, and an owner that reads slowly must not make
 * the server buffer without limit. Above a high-water mark `admin/output` notifications are
 * dropped, and once the pipe drains one `admin/outputDropped {key}` per process that lost some
 * is sent; the owner re-fetches what it missed with `admin/retainedOutput` (chunks carry seqs;
 * the client does this by itself). Lifecycle notifications and responses are never dropped.
 */

/** A client connection's session as the owner sees it. */
export interface SessionSnapshot {
  id: string;
  clientName: string;
  connected: boolean;
  resumable: boolean;
  /** When it connected, or when it was detached (ms since epoch). */
  sinceMs: number;
}

/** A process of any session. `key` (`session/process`) names it on this channel. */
export interface ProcessSnapshot {
  key: string;
  sessionId: string;
  processId: string;
  clientName: string;
  pid: number;
  argv: string[];
  /** Runs under codex's sandbox (process/start carried a `sandbox`). */
  sandboxed?: boolean;
  cwd: string;
  tty: boolean;
  pipeStdin: boolean;
  state: 'running' | 'exited' | 'closed';
  exitCode: number | null;
  signal: string | null;
  /** What was last requested (terminate/kill/...), to tell "killed" from "failed". */
  stopRequest: SignalName | null;
  startedAtMs: number;
  exitedAtMs: number | null;
  outputBytes: number;
  metadata: Record<string, unknown> | null;
}

/** A chunk of a process's output, as the API hands it out. */
export interface ObservedChunk {
  seq: number;
  stream: OutputStream;
  data: Buffer;
}

/** The same chunk on the wire: `data` in base64. */
export interface WireChunk {
  seq: number;
  stream: OutputStream;
  data: string;
}

export const toWireChunk = (c: ObservedChunk): WireChunk => ({ seq: c.seq, stream: c.stream, data: c.data.toString('base64') });
export const fromWireChunk = (c: WireChunk): ObservedChunk => ({ seq: c.seq, stream: c.stream, data: Buffer.from(c.data, 'base64') });

/** What the owner can be told; every callback is optional. */
export interface AdminListener {
  sessionChanged?(s: SessionSnapshot): void;
  sessionRemoved?(id: string): void;
  processChanged?(p: ProcessSnapshot): void;
  processRemoved?(key: string): void;
  output?(key: string, chunk: ObservedChunk): void;
}

export interface AdminSnapshotResult {
  sessions: SessionSnapshot[];
  processes: ProcessSnapshot[];
}

export interface RetainedOutput {
  chunks: ObservedChunk[];
  /** The oldest output was already evicted from the retention budget. */
  truncated: boolean;
}

/**
 * The admin API, whichever way it is reached (in-process, or a client of the channel).
 * Plain data only, so the same interface is served over a pipe.
 */
export interface AdminApi {
  snapshot(): Promise<AdminSnapshotResult>;
  retainedOutput(key: string): Promise<RetainedOutput>;
  signal(key: string, signal: SignalName): Promise<boolean>;
  terminate(key: string): Promise<boolean>;
  terminateAll(): Promise<number>;
  write(key: string, data: Buffer): Promise<WriteStatus>;
  resize(key: string, cols: number, rows: number): Promise<void>;
  subscribe(listener: AdminListener): { dispose(): void };
}

/** The first notification: where the server listens. */
export interface AdminReady {
  url: string;
  port: number;
  pid: number;
}

export interface KeyParams {
  key: string;
}
export interface AdminSignalParams {
  key: string;
  signal: SignalName;
}
export interface AdminWriteParams {
  key: string;
  /** base64 */
  data: string;
}
export interface AdminResizeParams {
  key: string;
  cols: number;
  rows: number;
}
export type NoParams = Record<string, never>;

/**
 * `admin/advertise`: the server writes (and owns) its discovery file, with its own pid, so the
 * file outlives the extension host that asked for it and goes when the server ends.
 */
export interface AdvertiseParams {
  workspaceFolders: string[];
  appName: string;
  protocolVersion: string;
  startedAt: string;
  hostMode?: 'inProcess' | 'child';
  /** The discovery directory (default: the platform's). */
  dir?: string;
}
export interface AdvertiseResult {
  /** The discovery file's path. */
  file: string;
}

/** `admin/adopt`: the first request on the control socket. */
export interface AdoptParams {
  secret: string;
  /** The adopter's pid (for the server's log). */
  pid?: number;
}
export interface AdoptResult {
  url: string;
  port: number;
  pid: number;
  /** Processes still running when adopted. */
  running: number;
  /** Every process the server still knows (running or finished). */
  processes: number;
  /** How long it had been without an owner. */
  orphanedMs: number;
}

/** A terminal's columns and rows fit in 16 bits (TIOCSWINSZ). */
export const MAX_TERMINAL_SIZE = 0xffff;

// Owner → server requests.
export const AdminSnapshot = request<NoParams, AdminSnapshotResult>('admin/snapshot');
export const AdminRetainedOutput = request<KeyParams, { chunks: WireChunk[]; truncated: boolean }>('admin/retainedOutput');
export const AdminSignal = request<AdminSignalParams, boolean>('admin/signal');
export const AdminTerminate = request<KeyParams, boolean>('admin/terminate');
export const AdminTerminateAll = request<NoParams, number>('admin/terminateAll');
export const AdminWrite = request<AdminWriteParams, WriteStatus>('admin/write');
export const AdminResize = request<AdminResizeParams, null>('admin/resize');
/** Every process terminated, then the server exits (answered first). */
export const AdminShutdown = request<NoParams, null>('admin/shutdown');
/** Child mode only (the CLI's owner channel). */
export const AdminAdvertise = request<AdvertiseParams, AdvertiseResult>('admin/advertise');
/** Control socket only, and only as its first message. */
export const AdminAdopt = request<AdoptParams, AdoptResult>('admin/adopt');

// Server → owner notifications.
export const AdminReadyNotification = notification<AdminReady>('admin/ready');
export const AdminSessionChanged = notification<SessionSnapshot>('admin/sessionChanged');
export const AdminSessionRemoved = notification<{ id: string }>('admin/sessionRemoved');
export const AdminProcessChanged = notification<ProcessSnapshot>('admin/processChanged');
export const AdminProcessRemoved = notification<KeyParams>('admin/processRemoved');
export const AdminOutput = notification<KeyParams & WireChunk>('admin/output');
export const AdminOutputDropped = notification<KeyParams>('admin/outputDropped');
