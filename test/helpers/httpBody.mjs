// The body of a request to a mock model API, decompressed the way each agent CLI may send it
// (codex compresses with zstd; others with gzip, deflate or br).
import * as zlib from 'node:zlib';

/** node:zlib with zstd, which Node has from 22.15 on (@types/node 20 does not know it). */
const zlibZstd = /** @type {typeof zlib & { zstdDecompressSync?: (b: Buffer) => Buffer }} */ (zlib);

/**
 * @param {import('node:http').IncomingMessage} req
 * @returns {Promise<string>}
 */
export function readBody(req) {
  return new Promise((resolve, reject) => {
    /** @type {Buffer[]} */
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('error', reject);
    req.on('end', () => {
      /** @type {Buffer} */
      let buf = Buffer.concat(chunks);
      const enc = String(req.headers['content-encoding'] ?? '').toLowerCase();
      try {
        if (enc === 'gzip') buf = zlib.gunzipSync(buf);
        else if (enc === 'deflate') buf = zlib.inflateSync(buf);
        else if (enc === 'br') buf = zlib.brotliDecompressSync(buf);
        else if (enc === 'zstd' && typeof zlibZstd.zstdDecompressSync === 'function') buf = zlibZstd.zstdDecompressSync(buf);
      } catch (e) {
        reject(e);
        return;
      }
      resolve(buf.toString('utf8'));
    });
  });
}

/**
 * The body parsed as JSON: null when empty, the text itself when it is not JSON (or '' when it
 * could not be read), so a mock records whatever an agent sent.
 * @param {import('node:http').IncomingMessage} req
 * @returns {Promise<any>} JSON of any shape, read field by field by the mocks
 */
export async function readJsonBody(req) {
  let raw = '';
  try {
    raw = await readBody(req);
    return raw ? JSON.parse(raw) : null;
  } catch {
    return raw;
  }
}
