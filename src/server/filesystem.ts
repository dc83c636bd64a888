/**
 * The `fs/*` methods of codex exec-server 0.169 (PROTOCOL_NOTES.md §6, transcripts/06_fs.jsonl),
 * one instance per connection: it owns that connection's open file handles and watches,
 * and `dispose()` releases them all.
 *
 * Only node:fs APIs are used, never a shell. Paths arrive as file:// URIs or absolute
 * native paths (pathFromWire) and leave as file:// URIs.
 *
 * Error mapping (upstream's): ENOENT and unknown handles → -32004; protocol misuse
 * ("is not a file", duplicate handle, bad base64, copy of a directory without recursive)
 * → -32600; every other OS error → -32603 with Rust's io::Error text, e.g.
 * `Not a directory (os error 20)`.
 *
 * A request that carries a `sandbox` is checked against it before anything is touched
 * (sandbox/fsGuard.ts): writes only inside its writable roots, reads only where it allows.
 */
import { constants as fsConstants, promises as fsp, type Stats } from 'node:fs';
import * as nodePath from 'node:path';
import * as util from 'node:util';
import { ErrorCode, RpcError, invalidRequest, notFound } from '../protocol/errors';
import { pathFromWire, pathToWire } from '../protocol/paths';
import { Params } from '../protocol/validate';
import type { MethodTable } from './methodTable';
import { guardFs, guardRecursiveRemove, type FsIntent } from './sandbox';

export const DEFAULT_READ_FILE_MAX_BYTES = 64 * 1024 * 1024;
/** Larger `len` values in fs/readBlock are clamped to this (the reply's `eof` stays truthful). */
export const MAX_READ_BLOCK_BYTES = 16 * 1024 * 1024;
export const MAX_OPEN_HANDLES = 256;
export const MAX_WATCHES = 64;
export const MAX_WATCH_PATHS = 256;
export const DEFAULT_WATCH_POLL_MS = 1000;
/**
 * Notification sent when a fs/watchMissing watch fires. The upstream name could not be found
 * in the stored upstream source, so this name is ours; see `createWatchMissing`.
 */
/** Upstream's name, seen from codex exec-server 0.169 (test/interop/README.md); extra fields are ours. */
export const FS_WATCH_MISSING_CHANGED = 'fs/missingChanged';

export type Notify = (method: string, params: unknown) => void;

export interface FilesystemOptions {
  readFileMaxBytes?: number;
  /** Delivers server→client notifications (fs/watchMissing). Without it no watch is started. */
  notify?: Notify;
  /** How often watches re-check their paths (bounded to 50..10000 ms). */
  watchPollMs?: number;
}

export interface FilesystemMethods {
  methods: MethodTable;
  dispose(): Promise<void>;
}

// ---------------------------------------------------------------------------
// Shared error helpers (also meant for process/start spawn errors).

/** glibc strerror texts, which Rust's io::Error prints; libuv's own texts differ for some. */
const STRERROR: Record<string, string> = {
  EPERM: 'Operation not permitted',
  ENOENT: 'No such file or directory',
  EIO: 'Input/output error',
  E2BIG: 'Argument list too long',
  ENOEXEC: 'Exec format error',
  EBADF: 'Bad file descriptor',
  EAGAIN: 'Resource temporarily unavailable',
  ENOMEM: 'Cannot allocate memory',
  EACCES: 'Permission denied',
  EBUSY: 'Device or resource busy',
  EEXIST: 'File exists',
  EXDEV: 'Invalid cross-device link',
  ENOTDIR: 'Not a directory',
  EISDIR: 'Is a directory',
  EINVAL: 'Invalid argument',
  ENFILE: 'Too many open files in system',
  EMFILE: 'Too many open files',
  ETXTBSY: 'Text file busy',
  EFBIG: 'File too large',
  ENOSPC: 'No space left on device',
  EROFS: 'Read-only file system',
  EMLINK: 'Too many links',
  ENAMETOOLONG: 'File name too long',
  ENOTEMPTY: 'Directory not empty',
  ELOOP: 'Too many levels of symbolic links',
};

/** `No such file or directory (os error 2)` for a Node system error; undefined if it is not one. */
export function osErrorMessage(err: unknown): string | undefined {
  const e = err as NodeJS.ErrnoException;
  if (!e || typeof e.code !== 'string' || typeof e.errno !== 'number') return undefined;
  const errno = Math.abs(e.errno);
  const text = STRERROR[e.code] ?? capitalize(util.getSystemErrorMap().get(-errno)?.[1] ?? e.code);
  return `${text} (os error ${errno})`;
}

/** The one errno → RpcError mapping: ENOENT is -32004, any other OS error -32603. */
export function fsErrorToRpc(err: unknown): RpcError {
  if (err instanceof RpcError) return err;
  const message = osErrorMessage(err);
  if (message === undefined) {
    return new RpcError(ErrorCode.InternalError, err instanceof Error ? err.message : String(err));
  }
  const code = (err as NodeJS.ErrnoException).code === 'ENOENT' ? ErrorCode.NotFound : ErrorCode.InternalError;
  return new RpcError(code, message);
}

/** Throws unless the request's `sandbox` (if any) allows `intent` on `path`. */
function checkSandbox(p: Params, intent: FsIntent, ...paths: string[]): void {
  guardFs(p.raw('sandbox'), intent, ...paths);
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** O_NONBLOCK so opening a FIFO cannot hang the connection; it changes nothing for regular files. */
const READ_FLAGS = fsConstants.O_RDONLY | (fsConstants.O_NONBLOCK ?? 0);

/** Runs an fs operation, turning OS errors into wire errors. */
async function os<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    throw fsErrorToRpc(err);
  }
}

function notAFile(p: string): RpcError {
  return invalidRequest(`path \`${p}\` is not a file`);
}

/** Opens params, reads one path field, and checks it against the request's sandbox. */
function pathParams(params: unknown, what: string, intent: FsIntent = 'read', field = 'path'): { p: Params; path: string } {
  const p = Params.of(params, what);
  const path = pathFromWire(field, p.string(field));
  checkSandbox(p, intent, path);
  return { p, path };
}

// ---------------------------------------------------------------------------
// Base64 as upstream (Rust `base64` STANDARD engine) judges it.

const B64_ALPHABET = /[A-Za-z0-9+/]/;

/** Decodes padded standard base64, or throws with the Rust crate's wording. */
export function decodeBase64Strict(value: string): Buffer {
  const unpadded = value.replace(/={1,2}$/, '');
  for (let i = 0; i < unpadded.length; i++) {
    if (!B64_ALPHABET.test(unpadded[i]!)) {
      throw new Error(`Invalid symbol ${unpadded.charCodeAt(i)}, offset ${i}.`);
    }
  }
  if (unpadded.length % 4 === 1) throw new Error('Invalid input length.');
  if (value.length % 4 !== 0) throw new Error('Invalid padding');
  return Buffer.from(value, 'base64');
}

// ---------------------------------------------------------------------------
// Simple path methods.

async function readFile(params: unknown, maxBytes: number): Promise<{ dataBase64: string }> {
  const { path } = pathParams(params, 'FsReadFileParams');
  const fh = await os(() => fsp.open(path, READ_FLAGS));
  try {
    const st = await os(() => fh.stat());
    if (!st.isFile()) throw notAFile(path);
    if (st.size > maxBytes) throw tooLarge(path, st.size, maxBytes);
    // Read at most maxBytes+1 so a file that grew since fstat is still refused, not loaded.
    const buf = Buffer.alloc(Math.min(st.size, maxBytes) + 1);
    const n = await os(() => readFully(fh, buf, 0));
    if (n > maxBytes) throw tooLarge(path, n, maxBytes);
    return { dataBase64: buf.subarray(0, n).toString('base64') };
  } finally {
    await fh.close().catch(() => undefined);
  }
}

function tooLarge(path: string, size: number, maxBytes: number): RpcError {
  return invalidRequest(
    `file \`${path}\` is ${size} bytes, over the fs/readFile limit of ${maxBytes} bytes; ` +
      'read it in blocks with fs/open + fs/readBlock instead',
  );
}

/** Fills `buf` from `position` until full or EOF; returns the bytes read. */
async function readFully(fh: fsp.FileHandle, buf: Buffer, position: number): Promise<number> {
  let total = 0;
  while (total < buf.length) {
    const { bytesRead } = await fh.read(buf, total, buf.length - total, position + total);
    if (bytesRead === 0) break;
    total += bytesRead;
  }
  return total;
}

async function writeFile(params: unknown): Promise<Record<string, never>> {
  const { p, path } = pathParams(params, 'FsWriteFileParams', 'write');
  const encoded = p.string('dataBase64');
  let data: Buffer;
  try {
    data = decodeBase64Strict(encoded);
  } catch (err) {
    throw invalidRequest(`fs/writeFile requires valid base64 dataBase64: ${(err as Error).message}`);
  }
  await os(() => fsp.writeFile(path, data));
  return {};
}

async function getMetadata(params: unknown) {
  const { path } = pathParams(params, 'FsGetMetadataParams');
  const link = await os(() => fsp.lstat(path));
  // For a symlink upstream describes the target, flagged isSymlink.
  const st = link.isSymbolicLink() ? await os(() => fsp.stat(path)) : link;
  return {
    isDirectory: st.isDirectory(),
    isFile: st.isFile(),
    isSymlink: link.isSymbolicLink(),
    size: st.size,
    createdAtMs: Math.floor(st.birthtimeMs),
    modifiedAtMs: Math.floor(st.mtimeMs),
  };
}

async function readDirectory(params: unknown) {
  const { path } = pathParams(params, 'FsReadDirectoryParams');
  const dirents = await os(() => fsp.readdir(path, { withFileTypes: true }));
  const entries = [];
  for (const d of dirents) {
    // Symlinks are reported by their target (a link to a file is isFile:true); broken ones as neither.
    const st = d.isSymbolicLink() ? await fsp.stat(nodePath.join(path, d.name)).catch(() => undefined) : d;
    entries.push({ fileName: d.name, isDirectory: st?.isDirectory() ?? false, isFile: st?.isFile() ?? false });
  }
  return { entries };
}

async function createDirectory(params: unknown): Promise<Record<string, never>> {
  const { p, path } = pathParams(params, 'FsCreateDirectoryParams', 'write');
  const recursive = p.optBool('recursive') ?? true;
  await os(() => fsp.mkdir(path, { recursive }));
  return {};
}

async function remove(params: unknown): Promise<Record<string, never>> {
  const { p, path } = pathParams(params, 'FsRemoveParams', 'writeEntry');
  const recursive = p.optBool('recursive') ?? true;
  const force = p.optBool('force') ?? true;
  let st: Stats;
  try {
    st = await fsp.lstat(path);
  } catch (err) {
    if (force && (err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw fsErrorToRpc(err);
  }
  if (st.isDirectory() && recursive) guardRecursiveRemove(p.raw('sandbox'), path);
  if (!st.isDirectory()) await os(() => fsp.unlink(path));
  // Non-recursive removal of a directory is rmdir, which fails ENOTEMPTY like upstream.
  else if (recursive) await os(() => fsp.rm(path, { recursive: true, force }));
  else await os(() => fsp.rmdir(path));
  return {};
}

async function copy(params: unknown): Promise<Record<string, never>> {
  const p = Params.of(params, 'FsCopyParams');
  const source = pathFromWire('sourcePath', p.string('sourcePath'));
  const destination = pathFromWire('destinationPath', p.string('destinationPath'));
  checkSandbox(p, 'read', source);
  checkSandbox(p, 'write', destination);
  const recursive = p.bool('recursive');
  const st = await os(() => fsp.lstat(source));
  if (st.isSymbolicLink()) {
    // As upstream: a symlink is copied as a link (same target text), not as what it points to.
    const target = await os(() => fsp.readlink(source));
    await os(async () => {
      try {
        await fsp.symlink(target, destination);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || (await fsp.lstat(destination)).isDirectory()) throw err;
        await fsp.unlink(destination); // a file or link in the way is replaced, as copyFile would
        await fsp.symlink(target, destination);
      }
    });
  } else if (st.isDirectory()) {
    if (!recursive) throw invalidRequest('fs/copy requires recursive: true when sourcePath is a directory');
    await os(() => fsp.cp(source, destination, { recursive: true, force: true, verbatimSymlinks: true }));
  } else {
    await os(() => fsp.copyFile(source, destination));
  }
  return {};
}

async function canonicalize(params: unknown) {
  const { path } = pathParams(params, 'FsCanonicalizeParams');
  return { path: pathToWire(await os(() => fsp.realpath(path))) };
}

// ---------------------------------------------------------------------------
// File handles: fs/open, fs/readBlock, fs/close.

class HandleTable {
  private readonly handles = new Map<string, fsp.FileHandle>();

  async open(params: unknown) {
    const { p, path } = pathParams(params, 'FsOpenParams');
    const handleId = p.string('handleId');
    if (this.handles.has(handleId)) throw invalidRequest(`file handle \`${handleId}\` already exists`);
    if (this.handles.size >= MAX_OPEN_HANDLES) {
      throw invalidRequest(`too many open file handles (at most ${MAX_OPEN_HANDLES}); close some with fs/close`);
    }
    const fh = await os(() => fsp.open(path, READ_FLAGS));
    const st = await fh.stat().catch(async (err) => {
      await fh.close().catch(() => undefined);
      throw fsErrorToRpc(err);
    });
    // The id may have been taken while we awaited; and only regular files can be read in blocks.
    if (!st.isFile() || this.handles.has(handleId)) {
      await fh.close().catch(() => undefined);
      throw st.isFile() ? invalidRequest(`file handle \`${handleId}\` already exists`) : notAFile(path);
    }
    this.handles.set(handleId, fh);
    return { handleId };
  }

  /** A positioned read of at most `len` bytes (clamped); never loads the whole file. */
  async readBlock(params: unknown) {
    const p = Params.of(params, 'FsReadBlockParams');
    const handleId = p.string('handleId');
    const offset = p.uint('offset');
    const len = Math.min(p.uint('len'), MAX_READ_BLOCK_BYTES);
    const fh = this.get(handleId);
    const buf = Buffer.alloc(len);
    const n = await os(() => readFully(fh, buf, offset));
    // A short read means the end of the file was reached.
    return { chunk: buf.subarray(0, n).toString('base64'), eof: n < len };
  }

  async close(params: unknown): Promise<Record<string, never>> {
    const p = Params.of(params, 'FsCloseParams');
    const handleId = p.string('handleId');
    const fh = this.get(handleId);
    this.handles.delete(handleId);
    await os(() => fh.close());
    return {};
  }

  async dispose(): Promise<void> {
    const all = [...this.handles.values()];
    this.handles.clear();
    await Promise.all(all.map((fh) => fh.close().catch(() => undefined)));
  }

  private get(handleId: string): fsp.FileHandle {
    const fh = this.handles.get(handleId);
    if (!fh) throw notFound(`unknown file handle \`${handleId}\``);
    return fh;
  }
}

// ---------------------------------------------------------------------------
// fs/watchMissing.

interface Watch {
  missing: string[];
  present: string | null;
  timer: NodeJS.Timeout;
  checking: boolean;
}

/**
 * fs/watchMissing `{watchId, missing:[uri], present?:uri}` → `{watching}`.
 *
 * The codex client sends it after skill/project discovery: `missing` are the candidate
 * roots it did not find (e.g. `<dir>/.agents/skills`), `present` the root it did find
 * (e.g. the `.git` that ends project discovery). What it needs is to hear when that
 * picture changes. The watch therefore fires when any `missing` path comes into existence
 * or the `present` path stops existing, sends ONE notification
 * `fs/missingChanged {watchId, path, change:"created"|"removed"}` and ends (the client
 * rediscovers and can register again). Paths are polled with lstat every `watchPollMs`
 * (bounded), which also catches paths created several levels deep, unlike one fs.watch.
 * A repeated watchId replaces the old watch. Without a `notify` sink nothing could be
 * reported, so the answer is then `{watching:false}` and no watch is kept.
 */
class WatchTable {
  private readonly watches = new Map<string, Watch>();

  constructor(
    private readonly notify: Notify | undefined,
    private readonly pollMs: number,
  ) {}

  async watchMissing(params: unknown) {
    const p = Params.of(params, 'FsWatchMissingParams');
    const watchId = readWatchId(p);
    const missing = p.stringArray('missing').map((u, i) => pathFromWire(`missing[${i}]`, u));
    const presentUri = p.optString('present');
    const present = presentUri === undefined ? null : pathFromWire('present', presentUri);
    checkSandbox(p, 'read', ...missing, ...(present === null ? [] : [present]));
    if (missing.length > MAX_WATCH_PATHS) throw invalidRequest(`fs/watchMissing accepts at most ${MAX_WATCH_PATHS} paths`);
    this.stop(watchId);
    if (!this.notify) return { watching: false };
    if (this.watches.size >= MAX_WATCHES) throw invalidRequest(`too many watches on this connection (at most ${MAX_WATCHES})`);
    const timer = setInterval(() => void this.check(watchId), this.pollMs);
    timer.unref();
    this.watches.set(watchId, { missing, present, timer, checking: false });
    // A path may already have changed between the client's discovery and this request.
    await this.check(watchId);
    return { watching: true };
  }

  get size(): number {
    return this.watches.size;
  }

  dispose(): void {
    for (const id of [...this.watches.keys()]) this.stop(id);
  }

  private stop(watchId: string): void {
    const w = this.watches.get(watchId);
    if (!w) return;
    clearInterval(w.timer);
    this.watches.delete(watchId);
  }

  private async check(watchId: string): Promise<void> {
    const w = this.watches.get(watchId);
    if (!w || w.checking) return;
    w.checking = true;
    try {
      const change = await findChange(w);
      if (!change || this.watches.get(watchId) !== w) return;
      this.stop(watchId);
      this.notify?.(FS_WATCH_MISSING_CHANGED, { watchId: wireWatchId(watchId), ...change });
    } finally {
      w.checking = false;
    }
  }
}

/** watchId is an integer from the codex client; strings are accepted too. Keyed by its JSON. */
function readWatchId(p: Params): string {
  const v = p.raw('watchId');
  if (v === undefined) throw new RpcError(ErrorCode.InvalidParams, 'missing field `watchId`');
  if (typeof v === 'string' || (typeof v === 'number' && Number.isSafeInteger(v))) return JSON.stringify(v);
  throw new RpcError(ErrorCode.InvalidParams, 'invalid type for `watchId`: expected an integer or a string');
}

function wireWatchId(key: string): unknown {
  return JSON.parse(key);
}

async function findChange(w: Watch): Promise<{ path: string; change: 'created' | 'removed' } | undefined> {
  for (const m of w.missing) {
    if (await exists(m)) return { path: pathToWire(m), change: 'created' };
  }
  if (w.present !== null && !(await exists(w.present))) return { path: pathToWire(w.present), change: 'removed' };
  return undefined;
}

async function exists(p: string): Promise<boolean> {
  try {
    await fsp.lstat(p);
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------

export function createFilesystemMethods(opts: FilesystemOptions = {}): FilesystemMethods {
  const maxBytes = opts.readFileMaxBytes ?? DEFAULT_READ_FILE_MAX_BYTES;
  const pollMs = Math.min(Math.max(opts.watchPollMs ?? DEFAULT_WATCH_POLL_MS, 50), 10_000);
  const handles = new HandleTable();
  const watches = new WatchTable(opts.notify, pollMs);
  const methods: MethodTable = {
    'fs/readFile': (params) => readFile(params, maxBytes),
    'fs/writeFile': writeFile,
    'fs/getMetadata': getMetadata,
    'fs/readDirectory': readDirectory,
    'fs/createDirectory': createDirectory,
    'fs/remove': remove,
    'fs/copy': copy,
    'fs/canonicalize': canonicalize,
    'fs/open': (params) => handles.open(params),
    'fs/readBlock': (params) => handles.readBlock(params),
    'fs/close': (params) => handles.close(params),
    'fs/watchMissing': (params) => watches.watchMissing(params),
  };
  return {
    methods,
    async dispose() {
      watches.dispose();
      await handles.dispose();
    },
  };
}
