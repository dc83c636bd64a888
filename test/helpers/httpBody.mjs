// The body of a request to a mock model API, decompressed the way each agent CLI may send it
// (codex compresses with zstd; others with gzip, deflate or br).
import * as zlib from 'node:zlib';

export function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('error', reject);
    req.on('end', () => {
      let buf = Buffer.concat(chunks);
      const enc = String(req.headers['content-encoding'] ?? '').toLowerCase();
      try {
        if (enc === 'gzip') buf = zlib.gunzipSync(buf);
        else if (enc === 'deflate') buf = zlib.inflateSync(buf);
        else if (enc === 'br') buf = zlib.brotliDecompressSync(buf);
        else if (enc === 'zstd' && typeof zlib.zstdDecompressSync === 'function') buf = zlib.zstdDecompressSync(buf);
      } catch (e) {
        reject(e);
        return;
      }
      resolve(buf.toString('utf8'));
    });
  });
}
