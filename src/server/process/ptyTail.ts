import * as fs from 'node:fs';
import type { IPty } from 'node-pty';
import { hostPlatform } from '../../platform/hostPlatform';

/** Most bytes read back synchronously at EOF: a PTY buffers a few KiB; this is far above. */
const MAX_TAIL_READS = 64;

/**
 * node-pty loses the end of a PTY's output at exit in a good share of runs on Linux
 * (microsoft/node-pty#72): when the child's exit hangs the terminal up, a read of the master
 * can answer 0 (EOF) for a moment while output is still buffered; libuv takes that as the
 * end and node-pty closes the master with the data unread. At that `end`, before node-pty
 * reacts, read what is left straight from the master fd (non-blocking: stops at EAGAIN/EIO).
 * Uses node-pty's private `_socket`/`_fd`; a build without them (e.g. VS Code's bundled copy
 * changing shape) just keeps node-pty's own behaviour.
 */
export function recoverPtyTail(term: IPty, onData: (data: Buffer) => void): void {
  if (!hostPlatform().ptyTailReadable) return;
  const internals = term as unknown as { _socket?: NodeJS.EventEmitter; _fd?: number };
  const socket = internals._socket;
  const fd = internals._fd;
  if (!socket || typeof socket.prependListener !== 'function' || typeof fd !== 'number') return;
  socket.prependListener('end', () => {
    const buf = Buffer.allocUnsafe(64 * 1024);
    for (let i = 0; i < MAX_TAIL_READS; i++) {
      let n: number;
      try {
        n = fs.readSync(fd, buf, 0, buf.length, null);
      } catch {
        return; // EAGAIN: nothing more; EIO: the other side is gone and drained
      }
      if (n <= 0) return;
      onData(Buffer.from(buf.subarray(0, n)));
    }
  });
}
