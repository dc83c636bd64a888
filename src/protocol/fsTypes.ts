/**
 * Wire types of the `fs/*` methods, as codex exec-server 0.169 answers them
 * (../shared/codex-0.169/PROTOCOL_NOTES.md §6). Paths are file:// URIs or absolute native
 * paths on input, file:// URIs on output; bytes are standard padded base64.
 */

/**
 * Every fs request may carry codex's `sandbox` (the same object as process/start's, shape in
 * ../shared/notes/codex-sandbox.md): the server then checks the paths against it before
 * touching anything. Read field by field by server/sandbox/policy.ts, so opaque here.
 */
export interface FsSandboxed {
  sandbox?: Record<string, unknown> | null;
}

export interface FsPathParams extends FsSandboxed {
  path: string;
}

/** The `{}` most fs methods answer. */
export type FsEmptyResult = Record<string, never>;

export type FsReadFileParams = FsPathParams;
export interface FsReadFileResult {
  dataBase64: string;
}

export interface FsWriteFileParams extends FsPathParams {
  dataBase64: string;
}

export type FsGetMetadataParams = FsPathParams;
/** For a symlink: its target's metadata, with `isSymlink: true`. */
export interface FsGetMetadataResult {
  isDirectory: boolean;
  isFile: boolean;
  isSymlink: boolean;
  size: number;
  createdAtMs: number;
  modifiedAtMs: number;
}

export type FsReadDirectoryParams = FsPathParams;
/** A symlink is described by its target; a broken one is neither a file nor a directory. */
export interface FsDirectoryEntry {
  fileName: string;
  isDirectory: boolean;
  isFile: boolean;
}
export interface FsReadDirectoryResult {
  entries: FsDirectoryEntry[];
}

export interface FsCreateDirectoryParams extends FsPathParams {
  /** Default true. */
  recursive?: boolean | null;
}

export interface FsRemoveParams extends FsPathParams {
  /** Default true. */
  recursive?: boolean | null;
  /** Default true: a missing path is not an error. */
  force?: boolean | null;
}

export interface FsCopyParams extends FsSandboxed {
  sourcePath: string;
  destinationPath: string;
  /** Required; must be true to copy a directory. */
  recursive: boolean;
}

export type FsCanonicalizeParams = FsPathParams;
export interface FsCanonicalizeResult {
  path: string;
}

export interface FsOpenParams extends FsPathParams {
  handleId: string;
}
export interface FsOpenResult {
  handleId: string;
}

export interface FsReadBlockParams {
  handleId: string;
  offset: number;
  len: number;
}
export interface FsReadBlockResult {
  /** base64 */
  chunk: string;
  eof: boolean;
}

export interface FsCloseParams {
  handleId: string;
}

/** The codex client sends an integer; strings are accepted too and echoed back as sent. */
export type FsWatchId = number | string;

export interface FsWatchMissingParams extends FsSandboxed {
  watchId: FsWatchId;
  missing: string[];
  present?: string | null;
}
export interface FsWatchMissingResult {
  /** false when this connection cannot be notified, so no watch was kept. */
  watching: boolean;
}

/** Sent once when a watched `missing` path appears or the `present` one goes; the watch then ends. */
export interface FsMissingChangedNotification {
  watchId: FsWatchId;
  path: string;
  change: 'created' | 'removed';
}
