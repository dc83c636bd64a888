/**
 * fs/open, fs/readBlock, fs/close: one connection's open files, read in positioned blocks so
 * a large file is never loaded whole. `dispose()` closes whatever the client left open.
 */
import { promises as fsp } from 'node:fs';
import { invalidRequest, notFound } from '../../protocol/errors';
import type { FsEmptyResult, FsOpenResult, FsReadBlockResult } from '../../protocol/fsTypes';
import { Params } from '../../protocol/validate';
import { pathParams, READ_FLAGS, readFully } from './fsAccess';
import { fsErrorToRpc, notAFile, os } from './fsErrors';

/** Larger `len` values in fs/readBlock are clamped to this (the reply's `eof` stays truthful). */
const MAX_READ_BLOCK_BYTES = 16 * 1024 * 1024;
const MAX_OPEN_HANDLES = 256;

export class HandleTable {
  private readonly handles = new Map<string, fsp.FileHandle>();

  async open(params: unknown): Promise<FsOpenResult> {
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
  async readBlock(params: unknown): Promise<FsReadBlockResult> {
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

  async close(params: unknown): Promise<FsEmptyResult> {
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
