import { readFileSync } from 'node:fs';
import { inflateRawSync } from 'node:zlib';

/** One entry of a zip file (what a .vsix is), read from its central directory. */
export interface ZipEntry {
  name: string;
  /** Unix mode from the external attributes (0 when the archiver wrote none). */
  mode: number;
  read(): Buffer;
}

/** A small zip reader (stored and deflated entries), enough to open a .vsix without unzip. */
export function readZip(file: string): ZipEntry[] {
  const buf = readFileSync(file);
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error(`${file}: not a zip file (no end of central directory)`);
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const entries: ZipEntry[] = [];
  for (let n = 0; n < count; n++) {
    if (buf.readUInt32LE(p) !== 0x02014b50) throw new Error(`${file}: bad central directory entry ${n}`);
    const method = buf.readUInt16LE(p + 10);
    const compressed = buf.readUInt32LE(p + 20);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const external = buf.readUInt32LE(p + 38);
    const local = buf.readUInt32LE(p + 42);
    const name = buf.toString('utf8', p + 46, p + 46 + nameLen);
    entries.push({
      name,
      mode: external >>> 16,
      read() {
        const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
        const data = buf.subarray(start, start + compressed);
        if (method === 0) return Buffer.from(data);
        if (method === 8) return inflateRawSync(data);
        throw new Error(`${name}: unsupported compression method ${method}`);
      },
    });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

/** The kind of native binary in `b`, from its header: ELF, Mach-O or PE, and the machine. */
export function binaryKind(b: Buffer): string {
  if (b.length >= 20 && b.readUInt32BE(0) === 0x7f454c46) {
    const machine = b.readUInt16LE(18);
    return `elf-${machine === 0x3e ? 'x86-64' : machine === 0xb7 ? 'arm64' : `0x${machine.toString(16)}`}`;
  }
  if (b.length >= 8 && b.readUInt32LE(0) === 0xfeedfacf) {
    const cpu = b.readUInt32LE(4);
    return `macho-${cpu === 0x01000007 ? 'x86-64' : cpu === 0x0100000c ? 'arm64' : `0x${cpu.toString(16)}`}`;
  }
  if (b.length >= 64 && b.toString('latin1', 0, 2) === 'MZ') {
    const pe = b.readUInt32LE(0x3c);
    if (b.toString('latin1', pe, pe + 4) !== 'PE\0\0') return 'mz-not-pe';
    const machine = b.readUInt16LE(pe + 4);
    const optMagic = b.readUInt16LE(pe + 24); // 0x20b = PE32+
    const bits = optMagic === 0x20b ? '' : '-pe32';
    return `pe-${machine === 0x8664 ? 'x64' : machine === 0xaa64 ? 'arm64' : `0x${machine.toString(16)}`}${bits}`;
  }
  return 'unknown';
}
