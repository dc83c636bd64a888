import { execFile, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * Real pipes for a child's stdio. Node's `stdio: 'pipe'` gives the child UNIX socketpairs,
 * and children notice: `echo x > /dev/stderr`, `tee /dev/stdout`, `head /dev/stdin` fail with
 * ENXIO (a socket cannot be reopened through /proc), and bash sources ~/.bashrc when its
 * stdin is a socket. Node cannot call pipe(2), but it can open a FIFO, which is the same
 * kernel object: each pair of opens below makes a new pipe, and the FIFO's name is unlinked
 * at once, so nothing else can ever open it. The names come from a private 0700 directory
 * on a tmpfs, made in batches by one `mkfifo` run (~4 ms per 256 on tmpfs; on ext4 it is
 * 40× that, hence the tmpfs), so a spawn pays only a few open(2)s (~20 µs a pipe).
 */

const BATCH = 256;
const LOW_WATER = 96;
const { O_RDONLY, O_WRONLY, O_NONBLOCK } = fs.constants;

export interface PipeEnds {
  /** Our end, for net.Socket({ fd }) (close-on-exec, like every fd Node opens). */
  parent: number;
  /** The child's end, blocking as a child expects; close it in the parent after the spawn. */
  child: number;
}

class FifoPool {
  private dir: string | undefined;
  private readonly free: string[] = [];
  private serial = 0;
  private refilling = false;
  /** Set once mkfifo failed: callers fall back to Node's socketpairs. */
  broken: Error | undefined;

  /** A pipe the child reads (its stdin). */
  toChild(): PipeEnds {
    const name = this.take();
    // Opening the write end needs a reader: hold a non-blocking one for the moment, then
    // open the child's end blocking (its own open file description keeps it blocking).
    const hold = fs.openSync(name, O_RDONLY | O_NONBLOCK);
    try {
      const parent = fs.openSync(name, O_WRONLY);
      const child = fs.openSync(name, O_RDONLY);
      return { parent, child };
    } finally {
      fs.closeSync(hold);
      fs.rmSync(name, { force: true });
    }
  }

  /** A pipe the child writes (its stdout or stderr). */
  fromChild(): PipeEnds {
    const name = this.take();
    try {
      const parent = fs.openSync(name, O_RDONLY | O_NONBLOCK);
      const child = fs.openSync(name, O_WRONLY); // a reader exists: does not block
      return { parent, child };
    } finally {
      fs.rmSync(name, { force: true });
    }
  }

  private take(): string {
    if (this.free.length === 0) this.make(true);
    else if (this.free.length < LOW_WATER) this.make(false);
    const name = this.free.pop();
    if (name === undefined) throw this.broken ?? new Error('no FIFO available');
    return name;
  }

  private make(sync: boolean): void {
    if (!sync && this.refilling) return;
    const dir = this.directory();
    const names = Array.from({ length: BATCH }, () => path.join(dir, `p${++this.serial}`));
    const args = ['-m', '600', '--', ...names];
    if (sync) {
      try {
        execFileSync('mkfifo', args, { stdio: 'ignore' });
      } catch (err) {
        this.broken = new Error(`mkfifo failed: ${(err as Error).message}`);
        throw this.broken;
      }
      this.free.push(...names);
      return;
    }
    this.refilling = true;
    execFile('mkfifo', args, (err) => {
      this.refilling = false;
      if (!err) this.free.push(...names);
    });
  }

  private directory(): string {
    if (this.dir) return this.dir;
    // A tmpfs if there is one: $XDG_RUNTIME_DIR, /dev/shm; else the temp dir.
    const base = [process.env.XDG_RUNTIME_DIR, '/dev/shm'].find((d): d is string => !!d && isWritableDir(d)) ?? os.tmpdir();
    this.dir = fs.mkdtempSync(path.join(base, 'exec-server-pipes-')); // mode 0700
    const dir = this.dir;
    process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
    return dir;
  }
}

function isWritableDir(p: string): boolean {
  try {
    fs.accessSync(p, fs.constants.W_OK | fs.constants.X_OK);
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

const fifoPipes = new FifoPool();

export interface StdioEnd extends PipeEnds {
  /** Our end as a stream (a libuv pipe handle, as process.stdin gets for a pipe). */
  socket(): net.Socket;
}

export interface StdioPipes {
  stdin: StdioEnd | undefined;
  stdout: StdioEnd;
  stderr: StdioEnd;
  closeChildEnds(): void;
  closeParentEnds(): void;
  closeAll(): void;
}

/**
 * The three pipes of a pipe-mode child, or null when FIFOs cannot be made here (no mkfifo):
 * the caller then uses Node's socketpairs. A failure to open (EMFILE) closes what was opened
 * and is thrown with the errno as `cause`, as a failed spawn is.
 */
export function openStdioPipes(withStdin: boolean): StdioPipes | null {
  if (fifoPipes.broken) return null;
  const opened: PipeEnds[] = [];
  const open = (dir: 'toChild' | 'fromChild', readable: boolean): StdioEnd => {
    const ends = dir === 'toChild' ? fifoPipes.toChild() : fifoPipes.fromChild();
    opened.push(ends);
    return { ...ends, socket: () => new net.Socket({ fd: ends.parent, readable, writable: !readable }) };
  };
  try {
    const stdin = withStdin ? open('toChild', false) : undefined;
    const stdout = open('fromChild', true);
    const stderr = open('fromChild', true);
    const closeChildEnds = () => opened.forEach((e) => closeQuietly(e.child));
    const closeParentEnds = () => opened.forEach((e) => closeQuietly(e.parent));
    return { stdin, stdout, stderr, closeChildEnds, closeParentEnds, closeAll: () => (closeChildEnds(), closeParentEnds()) };
  } catch (err) {
    for (const e of opened) {
      closeQuietly(e.child);
      closeQuietly(e.parent);
    }
    if (fifoPipes.broken) return null;
    throw Object.assign(new Error(`cannot open the child's pipes: ${(err as Error).message}`), { cause: err });
  }
}

function closeQuietly(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    // already closed
  }
}
