/**
 * Byte payloads travel as standard, padded base64 (process/write `chunk`, fs/writeFile
 * `dataBase64`). Upstream decodes them with Rust's `base64` STANDARD engine, which accepts
 * exactly what BASE64_RE matches; this is the one decoder both paths use.
 */
const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const B64_ALPHABET = /[A-Za-z0-9+/]/;

/** Invalid base64; the message is the Rust crate's (`Invalid symbol 64, offset 0.`). */
export class Base64Error extends Error {
  override readonly name = 'Base64Error';
}

/** Decodes padded standard base64, or throws a Base64Error worded as upstream's. */
export function decodeBase64(value: string): Buffer {
  // One regex test on the hot path (every process/write); the wording is worked out only on failure.
  if (BASE64_RE.test(value)) return Buffer.from(value, 'base64');
  throw new Base64Error(whyInvalid(value));
}

/** The first fault in the order the Rust crate reports it: a symbol, then the length, then the padding. */
function whyInvalid(value: string): string {
  const unpadded = value.replace(/={1,2}$/, '');
  for (let i = 0; i < unpadded.length; i++) {
    if (!B64_ALPHABET.test(unpadded[i]!)) return `Invalid symbol ${unpadded.charCodeAt(i)}, offset ${i}.`;
  }
  if (unpadded.length % 4 === 1) return 'Invalid input length.';
  return 'Invalid padding';
}
