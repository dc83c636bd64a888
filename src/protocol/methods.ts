import { notification, request } from './requestTypes';
import type {
  CloseStdinResult, ClosedNotification, ExitedNotification, InitializeParams, InitializeResult, ListResult,
  OutputNotification, ProcessIdParams, ReadParams, ReadResult, ResizeParams, ResizeResult, SignalParams,
  SignalResult, StartParams, StartResult, TerminateResult, WriteParams, WriteResult,
} from './types';

/** Every method name of the protocol, seed v0 and upstream (codex 0.169), in one place. */
export const Method = {
  initialize: 'initialize',
  initialized: 'initialized',

  processStart: 'process/start',
  processRead: 'process/read',
  processWrite: 'process/write',
  processSignal: 'process/signal',
  processResize: 'process/resize',
  processCloseStdin: 'process/closeStdin',
  processTerminate: 'process/terminate',
  processList: 'process/list',

  processOutput: 'process/output',
  processExited: 'process/exited',
  processClosed: 'process/closed',

  environmentInfo: 'environment/info',
  environmentConfigRead: 'environmentConfig/read',

  fsReadFile: 'fs/readFile',
  fsWriteFile: 'fs/writeFile',
  fsGetMetadata: 'fs/getMetadata',
  fsReadDirectory: 'fs/readDirectory',
  fsCreateDirectory: 'fs/createDirectory',
  fsRemove: 'fs/remove',
  fsCopy: 'fs/copy',
  fsCanonicalize: 'fs/canonicalize',
  fsOpen: 'fs/open',
  fsReadBlock: 'fs/readBlock',
  fsClose: 'fs/close',
  fsWatchMissing: 'fs/watchMissing',

  /** Upstream 0.171 (an HTTP client on the executor): refused here, see connectionHandler. */
  httpRequest: 'http/request',
} as const;

export const PROTOCOL_VERSION = 'exec-server.v0';

// Typed descriptors: the server's handler tables and the client's calls are both checked
// against these (src/protocol/requestTypes.ts).
export const Initialize = request<InitializeParams, InitializeResult>(Method.initialize);
export const Initialized = notification<Record<string, never>>(Method.initialized);
export const ProcessStart = request<StartParams, StartResult>(Method.processStart);
export const ProcessRead = request<ReadParams, ReadResult>(Method.processRead);
export const ProcessWrite = request<WriteParams, WriteResult>(Method.processWrite);
export const ProcessSignal = request<SignalParams, SignalResult>(Method.processSignal);
export const ProcessResize = request<ResizeParams, ResizeResult>(Method.processResize);
export const ProcessCloseStdin = request<ProcessIdParams, CloseStdinResult>(Method.processCloseStdin);
export const ProcessTerminate = request<ProcessIdParams, TerminateResult>(Method.processTerminate);
export const ProcessList = request<Record<string, never>, ListResult>(Method.processList);
export const ProcessOutput = notification<OutputNotification>(Method.processOutput);
export const ProcessExited = notification<ExitedNotification>(Method.processExited);
export const ProcessClosed = notification<ClosedNotification>(Method.processClosed);
