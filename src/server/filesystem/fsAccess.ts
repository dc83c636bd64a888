/**
 * What every fs/* method does before and while touching a file: read the path from the
 * params, check it against the request's `sandbox` (sandbox/fsGuard.ts: writes only inside
 * its writable roots, reads only where it allows), open for reading without blocking, read
 * a range in full.
 */
import { constants as fsConstants, type promises as fsp } from 'node:fs';
import { pathFromWire } from '../../protocol/paths';
import { Params } from '../../protocol/validate';
import { guardFs, type FsIntent } from '../sandbox';

/** Throws unless the request's `sandbox` (if any) allows `intent` on every path. */
export function checkSandbox(p: Params, intent: FsIntent, ...paths: string[]): void {
  guardFs(p.raw('sandbox'), intent, ...paths);
}

/** Opens params, reads one path field, and checks it against the request's sandbox. */
export function pathParams(params: unknown, what: string, intent: FsIntent = 'read', field = 'path'): { p: Params; path: string } {
  const p = Params.of(params, what);
  const path = pathFromWire(field, p.string(field));
  checkSandbox(p, intent, path);
  return { p, path };
}

/** O_NONBLOCK so opening a FIFO cannot hang the connection; it changes nothing for regular files. */
export const READ_FLAGS = fsConstants.O_RDONLY | (fsConstants.O_NONBLOCK ?? 0);

/** Fills `buf` from `position` until full or EOF; returns the bytes read. */
export async function readFully(fh: fsp.FileHandle, buf: Buffer, position: number): Promise<number> {
  let total = 0;
  while (total < buf.length) {
    const { bytesRead } = await fh.read(buf, total, buf.length - total, position + total);
    if (bytesRead === 0) break;
    total += bytesRead;
  }
  return total;
}
