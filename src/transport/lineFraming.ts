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
