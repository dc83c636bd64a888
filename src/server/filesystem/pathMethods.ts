/**
 * The fs/* methods that act on a path and answer at once: read, write, stat, list, mkdir,
 * remove, copy, canonicalize (PROTOCOL_NOTES.md §6). Only node:fs APIs, never a shell.
 */
import { promises as fsp, type Stats } from 'node:fs';
import * as nodePath from 'node:path';
import { Base64Error, decodeBase64 } from '../../protocol/base64';
import { invalidRequest, type RpcError } from '../../protocol/errors';
import type {
  FsCanonicalizeResult, FsDirectoryEntry, FsEmptyResult, FsGetMetadataResult, FsReadDirectoryResult, FsReadFileResult,
} from '../../protocol/fsTypes';
import { pathFromWire, pathToWire } from '../../protocol/paths';
import { Params } from '../../protocol/validate';
import { guardRecursiveRemove } from '../sandbox';
import { checkSandbox, pathParams, READ_FLAGS, readFully } from './fsAccess';
import { fsErrorToRpc, notAFile, os } from './fsErrors';

export async function readFile(params: unknown, maxBytes: number): Promise<FsReadFileResult> {
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

export async function writeFile(params: unknown): Promise<FsEmptyResult> {
  const { p, path } = pathParams(params, 'FsWriteFileParams', 'write');
  const encoded = p.string('dataBase64');
  let data: Buffer;
  try {
    data = decodeBase64(encoded);
  } catch (err) {
    // Upstream answers bad base64 here with -32600 and the Rust crate's words (unlike process/write's -32602).
    if (err instanceof Base64Error) throw invalidRequest(`fs/writeFile requires valid base64 dataBase64: ${err.message}`);
    throw err;
  }
  await os(() => fsp.writeFile(path, data));
  return {};
}

export async function getMetadata(params: unknown): Promise<FsGetMetadataResult> {
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

export async function readDirectory(params: unknown): Promise<FsReadDirectoryResult> {
  const { path } = pathParams(params, 'FsReadDirectoryParams');
  const dirents = await os(() => fsp.readdir(path, { withFileTypes: true }));
  const entries: FsDirectoryEntry[] = [];
  for (const d of dirents) {
    // Symlinks are reported by their target (a link to a file is isFile:true); broken ones as neither.
    const st = d.isSymbolicLink() ? await fsp.stat(nodePath.join(path, d.name)).catch(() => undefined) : d;
    entries.push({ fileName: d.name, isDirectory: st?.isDirectory() ?? false, isFile: st?.isFile() ?? false });
  }
  return { entries };
}

export async function createDirectory(params: unknown): Promise<FsEmptyResult> {
  const { p, path } = pathParams(params, 'FsCreateDirectoryParams', 'write');
  const recursive = p.optBool('recursive') ?? true;
  await os(() => fsp.mkdir(path, { recursive }));
  return {};
}

export async function remove(params: unknown): Promise<FsEmptyResult> {
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

export async function copy(params: unknown): Promise<FsEmptyResult> {
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

export async function canonicalize(params: unknown): Promise<FsCanonicalizeResult> {
  const { path } = pathParams(params, 'FsCanonicalizeParams');
  return { path: pathToWire(await os(() => fsp.realpath(path))) };
}
