import { invalidParams, invalidRequest } from '../../protocol/errors';
import { ProcessCloseStdin, ProcessList, ProcessRead, ProcessResize, ProcessSignal, ProcessStart, ProcessTerminate, ProcessWrite } from '../../protocol/methods';
import { pathFromWire } from '../../protocol/paths';
import { SIGNAL_NAMES, type ReadResult, type StartResult, type WriteResult } from '../../protocol/types';
import { clip, Params } from '../../protocol/validate';
import type { ServerConfig } from '../config';
import { buildChildEnv, parseEnvPolicy } from './envPolicy';
import { ManagedProcess } from './managedProcess';
import { handle, methodTable, Overtakable, type MethodTable } from '../connection/methodTable';
import type { ReadSlice } from './outputBuffer';
import { processKey } from '../registry/processKey';
import type { ProcessRegistry } from '../registry/processRegistry';
import { checkCwd, checkExecFormat, resolveProgram } from './programPath';
import { commandArgv, markSandboxed, sandboxDeniedFor, sandboxFor } from '../sandbox';
import type { Session } from '../registry/session';
import { explainSpawnFailure, withSpawnErrorKind } from './spawnFailure';

const DEFAULT_READ_MAX_BYTES = 1024 * 1024;

/** What process/* needs of the process registry (processRegistry.ts). */
export type ProcessHost = Pick<ProcessRegistry, 'reserve' | 'find' | 'isStarting' | 'processesOf'>;

/** process/* for one session. Validation first, then the registry; errors name the field. */
export function createProcessMethods(session: Session, registry: ProcessHost, config: ServerConfig): MethodTable {
  const keyOf = (processId: string) => processKey(session.id, processId);
  const find = (processId: string) => registry.find(keyOf(processId));
  const mustFind = (processId: string) => {
    const p = find(processId);
    if (!p) throw invalidRequest(`unknown process id ${clip(processId)}`);
    return p;
  };

  return methodTable(
    handle(ProcessStart, async (raw): Promise<StartResult> => {
      const q = Params.of(raw, 'ExecParams');
      const processId = q.string('processId');
      const argv = q.stringArray('argv');
      const cwdWire = q.string('cwd');
      const env = q.stringMap('env');
      const tty = q.bool('tty');
      const pipeStdin = q.optBool('pipeStdin') ?? false;
      const arg0 = q.optString('arg0') ?? null;
      const cols = q.optUint('cols', 65535) ?? 80;
      const rows = q.optUint('rows', 65535) ?? 24;
      const envPolicy = parseEnvPolicy(q.raw('envPolicy'));
      const metadata = q.optObject('metadata');
      if (argv.length === 0) throw invalidParams('argv must not be empty');
      const cwd = pathFromWire('cwd', cwdWire);
      // Claimed from here on: a second start with this id is refused, a write answers `starting`.
      const reservation = registry.reserve(session, processId);
      try {
        const childEnv = buildChildEnv(envPolicy, env, process.env);
        let file: string;
        try {
          checkCwd(cwd);
          file = resolveProgram(argv[0], childEnv, cwd);
          checkExecFormat(file, argv[0]);
        } catch (err) {
          throw withSpawnErrorKind(err);
        }
        // A `sandbox` runs the command under codex's sandbox helper, or is refused (sandbox/).
        const sandboxed = await sandboxFor(config).prepare({
          sandbox: q.raw('sandbox'), enforceManagedNetwork: q.raw('enforceManagedNetwork'), managedNetwork: q.raw('managedNetwork'),
          argv, cwd, env, arg0,
        });
        const launch = sandboxed ?? { file, argv, arg0 };
        const p = await ManagedProcess.start({
          sessionId: session.id,
          processId,
          spec: { file: launch.file, argv: launch.argv, arg0: launch.arg0, cwd, env: childEnv, tty, pipeStdin, cols, rows },
          metadata,
          config,
          events: reservation.events,
        }).catch((err: unknown) => {
          throw withSpawnErrorKind(explainSpawnFailure(err, { program: argv[0], file, cwd, tty }));
        });
        if (sandboxed) markSandboxed(p, argv);
        reservation.add(p); // terminated at once if the client left while we were spawning
        return { processId, sandboxType: sandboxed?.sandboxType ?? 'none', pid: p.pid };
      } finally {
        reservation.release();
      }
    }),

    handle(ProcessRead, (raw): ReadResult | Overtakable<ReadResult> => {
      const q = Params.of(raw, 'ReadParams');
      const processId = q.string('processId');
      const afterSeq = q.optUint('afterSeq') ?? 0;
      const maxBytes = q.optUint('maxBytes') ?? DEFAULT_READ_MAX_BYTES;
      const waitMs = Math.min(q.optUint('waitMs') ?? 0, config.maxReadWaitMs);
      const p = mustFind(processId);
      const slice = p.output.read(afterSeq, maxBytes);
      if (slice.chunks.length === 0 && p.state !== 'closed' && waitMs > 0 && p.nextSeq - 1 <= afterSeq) {
        // Waiting for output: the requests behind this one go ahead (a write may be what wakes it).
        return new Overtakable(p.waitForChange(waitMs).then(() => readResult(p, p.output.read(afterSeq, maxBytes))));
      }
      return readResult(p, slice);
    }),

    handle(ProcessWrite, (raw): WriteResult => {
      const q = Params.of(raw, 'WriteParams');
      const processId = q.string('processId');
      const chunk = q.base64('chunk');
      const writeId = q.optString('writeId');
      const p = find(processId);
      const status = p ? p.write(chunk, writeId) : registry.isStarting(keyOf(processId)) ? 'starting' : 'unknownProcess';
      // Seed clients (no writeId) get errors for what upstream reports as a status.
      if (writeId === undefined && status === 'unknownProcess') throw invalidRequest(`unknown process id ${clip(processId)}`);
      if (writeId === undefined && status === 'stdinClosed') {
        throw invalidRequest(
          p!.state !== 'running'
            ? `process ${clip(processId)} has exited; its stdin is closed`
            : `process ${clip(processId)} does not accept input (started with tty:false and without pipeStdin, or stdin was closed)`,
        );
      }
      return { accepted: status === 'accepted', status };
    }),

    handle(ProcessSignal, (raw) => {
      const q = Params.of(raw, 'SignalParams');
      const processId = q.string('processId');
      const signal = q.oneOf('signal', SIGNAL_NAMES);
      const p = find(processId);
      return { delivered: p ? p.signal(signal) : false };
    }),

    handle(ProcessResize, (raw) => {
      const q = Params.of(raw, 'ResizeParams');
      const processId = q.string('processId');
      const cols = q.uint('cols', 65535);
      const rows = q.uint('rows', 65535);
      if (cols === 0 || rows === 0) throw invalidParams('`cols` and `rows` must be at least 1');
      mustFind(processId).resize(cols, rows);
      return {};
    }),

    handle(ProcessCloseStdin, (raw) => {
      const q = Params.of(raw, 'ProcessIdParams');
      return { closed: mustFind(q.string('processId')).closeStdin() };
    }),

    handle(ProcessTerminate, (raw) => {
      const q = Params.of(raw, 'TerminateParams');
      const p = find(q.string('processId'));
      return { running: p ? p.terminate() : false };
    }),

    handle(ProcessList, () => ({
      processes: registry.processesOf(session).map((p) => ({
        processId: p.processId,
        pid: p.pid,
        argv: commandArgv(p),
        tty: p.tty,
        state: p.state,
        exitCode: p.exitCode,
        nextSeq: p.nextSeq,
        startedAtMs: p.startedAt,
      })),
    })),
  );
}

function readResult(p: ManagedProcess, slice: ReadSlice): ReadResult {
  const last = slice.chunks[slice.chunks.length - 1];
  const cut = last !== undefined && p.output.hasAfter(last.seq);
  return {
    chunks: slice.chunks.map((c) => ({ seq: c.seq, stream: c.stream, chunk: c.data.toString('base64') })),
    nextSeq: cut ? last.seq + 1 : p.nextSeq,
    exited: p.state !== 'running',
    exitCode: p.exitCode,
    closed: p.state === 'closed',
    failure: null,
    sandboxDenied: p.state !== 'running' && sandboxDeniedFor(p),
    truncated: slice.truncated,
  };
}
