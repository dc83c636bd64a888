import type { Readable } from 'node:stream';

/**
 * Newline-delimited framing for stdio: one JSON message per line. A line longer than the
 * limit is discarded (reported through `onOversized`) instead of growing memory forever.
 */
export class LineSplitter {
  private parts: Buffer[] = [];
  private size = 0;
  private discarding = false;

  constructor(
    private readonly maxLineBytes: number,
    private readonly onLine: (line: string) => void,
    private readonly onOversized: () => void,
  ) {}

  push(data: Buffer): void {
    let start = 0;
    for (let nl = data.indexOf(10, start); nl !== -1; nl = data.indexOf(10, start)) {
      this.append(data.subarray(start, nl));
      this.flush();
      start = nl + 1;
    }
    if (start < data.length) this.append(data.subarray(start));
  }

  private append(part: Buffer): void {
    if (this.discarding) return;
    this.size += part.length;
    if (this.size > this.maxLineBytes) {
      this.discarding = true;
      this.parts = [];
      this.onOversized();
      return;
    }
    this.parts.push(part);
  }

  private flush(): void {
    if (!this.discarding) {
      const line = Buffer.concat(this.parts, this.size).toString('utf8').replace(/\r$/, '');
      if (line.trim() !== '') this.onLine(line);
    }
    this.parts = [];
    this.size = 0;
    this.discarding = false;
  }
}

export type OneLine =
  | { kind: 'line'; text: string }
  | { kind: 'tooLarge' }
  /** The stream ended, closed or failed before a whole line arrived. */
  | { kind: 'closed'; error?: NodeJS.ErrnoException };

/**
 * Read one line of `stream` and stop there: for a handshake after which the same stream
 * carries something else (the control socket's `admin/adopt`, then the admin channel). The
 * stream is left paused with the bytes after the line pushed back, so whoever reads next gets
 * them first. Bounded: more than `maxBytes` without a newline settles it as `tooLarge`.
 */
export function readOneLine(stream: Readable, maxBytes: number): Promise<OneLine> {
  return new Promise((resolve) => {
    let buf: Buffer = Buffer.alloc(0);
    const finish = (r: OneLine, rest?: Buffer) => {
      stream.pause();
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('close', onEnd);
      stream.off('error', onError);
      if (rest?.length) stream.unshift(rest);
      resolve(r);
    };
    const onData = (d: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, d]) : d;
      const nl = buf.indexOf(10);
      if (nl > maxBytes || (nl < 0 && buf.length > maxBytes)) return finish({ kind: 'tooLarge' });
      if (nl >= 0) finish({ kind: 'line', text: buf.subarray(0, nl).toString('utf8').replace(/\r$/, '') }, buf.subarray(nl + 1));
    };
    const onEnd = () => finish({ kind: 'closed' });
    const onError = (error: NodeJS.ErrnoException) => finish({ kind: 'closed', error });
    stream.on('data', onData);
    stream.once('end', onEnd);
    stream.once('close', onEnd);
    stream.once('error', onError);
  });
}
