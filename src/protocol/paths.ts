import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { invalidParams } from './errors';
import { clip } from './validate';

/**
 * Paths on the wire: upstream sends `file://` URIs everywhere, the seed sends absolute
 * native paths. We accept both on input and answer with URIs (upstream's form).
 */
export function pathFromWire(name: string, value: string): string {
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(value)?.[1];
  // A one-letter "scheme" is a Windows drive letter, not a URI.
  if (scheme && scheme.length > 1) {
    if (scheme.toLowerCase() !== 'file') {
      throw invalidParams(`unsupported path URI scheme \`${clip(scheme)}\` in \`${name}\``);
    }
    let p: string;
    try {
      p = fileURLToPath(value);
    } catch (err) {
      throw invalidParams(`invalid URI in \`${name}\`: ${(err as Error).message}`);
    }
    return path.normalize(p);
  }
  if (value === '' || !path.isAbsolute(value)) {
    throw invalidParams(`\`${name}\` must be an absolute path or a file:// URI, got ${JSON.stringify(clip(value))}`);
  }
  return path.normalize(value);
}

export function pathToWire(p: string): string {
  return pathToFileURL(p).href;
}
