/**
 * The `fs/*` methods of codex exec-server 0.169 (PROTOCOL_NOTES.md §6, transcripts/06_fs.jsonl),
 * one instance per connection: it owns that connection's open file handles and watches,
 * and `dispose()` releases them all.
 *
 * Only node:fs APIs are used, never a shell. Paths arrive as file:// URIs or absolute
 * native paths (pathFromWire) and leave as file:// URIs.
 *
 * Error mapping (upstream's, fsErrors.ts): ENOENT and unknown handles → -32004; protocol
 * misuse ("is not a file", duplicate handle, bad base64, copy of a directory without
 * recursive) → -32600; every other OS error → -32603 with Rust's io::Error text, e.g.
 * `Not a directory (os error 20)`.
 *
 * A request that carries a `sandbox` is checked against it before anything is touched
 * (fsAccess.ts, sandbox/fsGuard.ts): writes only inside its writable roots, reads only where it allows.
 */
import {
  FsCanonicalize, FsClose, FsCopy, FsCreateDirectory, FsGetMetadata, FsOpen, FsReadBlock, FsReadDirectory, FsReadFile,
  FsRemove, FsWatchMissing, FsWriteFile,
} from '../../protocol/methods';
import { handle, methodTable, type MethodTable } from '../connection/methodTable';
import { HandleTable } from './fileHandles';
import { canonicalize, copy, createDirectory, getMetadata, readDirectory, readFile, remove, writeFile } from './pathMethods';
import { WatchTable, type Notify } from './watchMissing';

const DEFAULT_READ_FILE_MAX_BYTES = 64 * 1024 * 1024;
const DEFAULT_WATCH_POLL_MS = 1000;

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

export function createFilesystemMethods(opts: FilesystemOptions = {}): FilesystemMethods {
  const maxBytes = opts.readFileMaxBytes ?? DEFAULT_READ_FILE_MAX_BYTES;
  const pollMs = Math.min(Math.max(opts.watchPollMs ?? DEFAULT_WATCH_POLL_MS, 50), 10_000);
  const handles = new HandleTable();
  const watches = new WatchTable(opts.notify, pollMs);
  const methods = methodTable(
    handle(FsReadFile, (params) => readFile(params, maxBytes)),
    handle(FsWriteFile, writeFile),
    handle(FsGetMetadata, getMetadata),
    handle(FsReadDirectory, readDirectory),
    handle(FsCreateDirectory, createDirectory),
    handle(FsRemove, remove),
    handle(FsCopy, copy),
    handle(FsCanonicalize, canonicalize),
    handle(FsOpen, (params) => handles.open(params)),
    handle(FsReadBlock, (params) => handles.readBlock(params)),
    handle(FsClose, (params) => handles.close(params)),
    handle(FsWatchMissing, (params) => watches.watchMissing(params)),
  );
  return {
    methods,
    async dispose() {
      watches.dispose();
      await handles.dispose();
    },
  };
}
