import { hostPlatform } from '../../platform/hostPlatform';
import { pidAlive } from '../../platform/pidAlive';
import { spawn as spawnPipe, type ChildProcess } from 'node:child_process';
import * as os from 'node:os';
import { internalError } from '../../protocol/errors';
import type { OutputStream } from '../../protocol/types';
import { inheritableFds, launcher } from './childLauncher';
import { openStdioPipes } from './fifoPipes';
import { loadNodePty } from './nodePtyLoader';
import { recoverPtyTail } from './ptyTail';

/** What a running child reports; the managed process turns these into seq'd events. */
export interface ChildEvents {
  data(stream: OutputStream, data: Buffer): void;
  exit(exitCode: number, signal: string | null): void;
  /** Every output stream reached EOF or was abandoned: nothing more can arrive. */
  end(): void;
}

/** The uniform face of a PTY or pipe child, so the registry need not care which it is. */
export interface ChildHandle {
  readonly pid: number;
  /** False when stdin was never opened (pipe process without pipeStdin) or is closed. */
  readonly stdinOpen: boolean;
  write(data: Buffer): void;
  closeStdin(): void;
  resize(cols: number, rows: number): void;
  /** Stop reading output (backpressure); the child blocks once the kernel buffer fills. */
  pause(): void;
  resume(): void;
  /** Give up on output held open by grandchildren: destroy our ends of the streams. */
  abandonOutput(): void;
}

export interface SpawnSpec {
  file: string;
  argv: string[];
  arg0: string | null;
  cwd: string;
  env: Record<string, string>;
  tty: boolean;
  pipeStdin: boolean;
  cols: number;
  rows: number;
}

export async function spawnChild(spec: SpawnSpec, events: ChildEvents): Promise<ChildHandle> {
  return spec.tty ? spawnPty(spec, events) : spawnPipes(spec, events);
}

const signalNames = new Map<number, string>(
  Object.entries(os.constants.signals).map(([name, num]) => [num as number, name]),
);

/** Exit code as a shell reports it: 128+N when a signal ended the process. */
function exitCodeOf(code: number | null, signal: string | number | null): { exitCode: number; signal: string | null } {
  if (signal !== null && signal !== 0) {
    const name = typeof signal === 'number' ? signalNames.get(signal) ?? `SIG${signal}` : signal;
    const num = typeof signal === 'number' ? signal : (os.constants.signals as Record<string, number>)[signal] ?? 0;
    return { exitCode: 128 + num, signal: name };
  }
  return { exitCode: code ?? 0, signal: null };
}

async function spawnPipes(spec: SpawnSpec, events: ChildEvents): Promise<ChildHandle> {
  const pipes = openStdioPipes(spec.pipeStdin);
  const argv0 = spec.arg0 ?? spec.argv[0];
  const launch = launcher(spec.file, argv0, spec.argv.slice(1), spec.env, inheritableFds.list(), false);
  let child: ChildProcess;
  try {
    child = spawnPipe(launch?.file ?? spec.file, launch?.args ?? spec.argv.slice(1), {
      cwd: spec.cwd,
      env: launch?.env ?? spec.env,
      argv0: launch ? 'bash' : argv0,
      // Its own process group (setsid), so terminate/kill reach grandchildren too.
      detached: hostPlatform().childLeadsGroup,
      stdio: pipes ? [pipes.stdin?.child ?? 'ignore', pipes.stdout.child, pipes.stderr.child] : [spec.pipeStdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      windowsHide: true,
    });
  } catch (err) {
    pipes?.closeAll();
    throw err;
  }
  // The child has its ends now (or never will): ours must go, or EOF would never come.
  pipes?.closeChildEnds();
  if (child.pid === undefined) {
    pipes?.closeParentEnds();
    const err = await new Promise<NodeJS.ErrnoException>((resolve) => child.once('error', resolve));
    // The errno stays on `cause`: spawnFailure.ts explains EMFILE, EAGAIN, a vanished cwd….
    throw Object.assign(internalError(`failed to spawn \`${spec.argv[0]}\`: ${err.message}`), { cause: err });
  }
  child.on('error', () => undefined); // later errors (kill of a dead pid) are not fatal
  const stdout = pipes ? pipes.stdout.socket() : child.stdout!;
  const stderr = pipes ? pipes.stderr.socket() : child.stderr!;
  let open = 2;
  const onClose = () => {
    if (--open === 0) events.end();
  };
  stdout.on('data', (b: Buffer) => events.data('stdout', b));
  stderr.on('data', (b: Buffer) => events.data('stderr', b));
  stdout.once('close', onClose);
  stderr.once('close', onClose);
  child.once('exit', (code, signal) => {
    const r = exitCodeOf(code, signal);
    events.exit(r.exitCode, r.signal);
  });
  const stdin = pipes ? pipes.stdin?.socket() ?? null : child.stdin;
  stdin?.on('error', () => undefined); // EPIPE when the child is gone: reported via status instead
  let stdinOpen = !!stdin;
  return {
    pid: child.pid,
    get stdinOpen() {
      return stdinOpen && !!stdin && stdin.writable;
    },
    write: (data) => {
      stdin?.write(data);
    },
    closeStdin: () => {
      stdinOpen = false;
      stdin?.end();
    },
    resize: () => {
      throw internalError('process/resize is only for PTY processes (started with tty:true)');
    },
    pause: () => {
      stdout.pause();
      stderr.pause();
    },
    resume: () => {
      stdout.resume();
      stderr.resume();
    },
    abandonOutput: () => {
      stdout.destroy();
      stderr.destroy();
    },
  };
}

async function spawnPty(spec: SpawnSpec, events: ChildEvents): Promise<ChildHandle> {
  let pty: typeof import('node-pty');
  try {
    pty = loadNodePty();
  } catch (err) {
    throw internalError((err as Error).message);
  }
  // node-pty execs `file` with argv[0] = file and the child's environ (execvp, so the child's
  // PATH): passing the name as given keeps argv[0] as the client wrote it, and resolves to
  // the same program resolveProgram() already checked. node-pty cannot set argv[0] nor close
  // descriptors in the child: when either is needed, childLauncher's bash does it.
  const argv0 = spec.arg0 ?? spec.argv[0];
  // node-pty sets PWD to the cwd itself: the launcher must hand on that PWD, not the client's.
  const launch = launcher(spec.file, argv0, spec.argv.slice(1), { ...spec.env, PWD: spec.cwd }, inheritableFds.list(), argv0 !== spec.argv[0]);
  const file = launch?.file ?? spec.argv[0];
  const args = launch?.args ?? spec.argv.slice(1);
  let term: import('node-pty').IPty;
  try {
    term = pty.spawn(file, args, {
      name: spec.env.TERM ?? 'xterm-256color',
      cols: spec.cols,
      rows: spec.rows,
      cwd: spec.cwd,
      env: launch?.env ?? spec.env,
      encoding: null,
    } as import('node-pty').IPtyForkOptions);
  } catch (err) {
    throw internalError(`failed to spawn \`${spec.argv[0]}\` in a PTY: ${(err as Error).message}`);
  }
  // Its master is not close-on-exec: while it lives, later children must not get it.
  const master = (term as unknown as { _fd?: number })._fd;
  if (typeof master === 'number') {
    inheritableFds.addPtyMaster(master);
    const socket = (term as unknown as { _socket?: NodeJS.EventEmitter })._socket;
    socket?.once('close', () => inheritableFds.removePtyMaster(master));
  }
  let exited = false;
  let stdinOpen = true;
  let pausePoll: NodeJS.Timeout | undefined;
  let reaped = false;
  term.onData((d: string | Buffer) => events.data('pty', typeof d === 'string' ? Buffer.from(d) : d));
  recoverPtyTail(term, (d) => events.data('pty', d));
  term.onExit(({ exitCode, signal }) => {
    exited = true;
    if (pausePoll) clearInterval(pausePoll);
    // node-pty reports exit only after the PTY's data is drained, so the stream ends here.
    const r = exitCodeOf(exitCode, signal ?? null);
    events.exit(r.exitCode, r.signal);
    events.end();
  });
  const resume = () => {
    if (pausePoll) clearInterval(pausePoll);
    pausePoll = undefined;
    term.resume();
  };
  return {
    pid: term.pid,
    get stdinOpen() {
      return stdinOpen && !exited;
    },
    write: (data) => term.write(data),
    // A terminal has no separate stdin to close: ^D is what a user would type for EOF.
    closeStdin: () => {
      term.write('\x04');
      stdinOpen = false;
    },
    resize: (cols, rows) => term.resize(cols, rows),
    pause: () => {
      // node-pty destroys the PTY 200 ms after the child is reaped, dropping anything
      // still unread: once the child is gone, never pause again (what is left is at most
      // the PTY's buffer); while paused, watch for that and drain in time.
      if (reaped || !pidAlive(term.pid)) {
        reaped = true;
        return;
      }
      term.pause();
      pausePoll ??= setInterval(() => {
        if (!pidAlive(term.pid)) {
          reaped = true;
          resume();
        }
      }, 50);
    },
    resume,
    // node-pty already stops waiting 200 ms after exit (it destroys the PTY itself).
    abandonOutput: () => undefined,
  };
}

