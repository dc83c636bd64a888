import type { EnvironmentConfigReadParams, EnvironmentConfigReadResult, EnvironmentInfo, EnvironmentInfoParams } from './environmentTypes';
import type {
  FsCanonicalizeParams, FsCanonicalizeResult, FsCloseParams, FsCopyParams, FsCreateDirectoryParams, FsEmptyResult,
  FsGetMetadataParams, FsGetMetadataResult, FsMissingChangedNotification, FsOpenParams, FsOpenResult, FsReadBlockParams,
  FsReadBlockResult, FsReadDirectoryParams, FsReadDirectoryResult, FsReadFileParams, FsReadFileResult, FsRemoveParams,
  FsWatchMissingParams, FsWatchMissingResult, FsWriteFileParams,
} from './fsTypes';
import { notification, request, type RequestMethod } from './requestTypes';
import type {
  CloseStdinResult, ClosedNotification, ExitedNotification, InitializeParams, InitializeResult, ListResult,
  OutputNotification, ProcessIdParams, ReadParams, ReadResult, ResizeParams, ResizeResult, SignalParams,
  SignalResult, StartParams, StartResult, TerminateResult, WriteParams, WriteResult,
} from './types';

/**
 * Every method of the protocol, seed v0 and upstream (codex 0.169 and 0.171), declared once
 * with its params and result (src/protocol/requestTypes.ts): the server's handler tables
 * and the client's calls are both checked against these.
 */

export const PROTOCOL_VERSION = 'exec-server.v0';

/**
 * The server→client process notifications by name, for the code that compares a method name
 * on the hot path (an output frame is encoded without building a params object).
 */
export const Method = {
  processOutput: 'process/output',
  processExited: 'process/exited',
  processClosed: 'process/closed',
} as const;

// Handshake.
export const Initialize = request<InitializeParams, InitializeResult>('initialize');
export const Initialized = notification<Record<string, never>>('initialized');

// process/*
export const ProcessStart = request<StartParams, StartResult>('process/start');
export const ProcessRead = request<ReadParams, ReadResult>('process/read');
export const ProcessWrite = request<WriteParams, WriteResult>('process/write');
export const ProcessSignal = request<SignalParams, SignalResult>('process/signal');
export const ProcessResize = request<ResizeParams, ResizeResult>('process/resize');
export const ProcessCloseStdin = request<ProcessIdParams, CloseStdinResult>('process/closeStdin');
export const ProcessTerminate = request<ProcessIdParams, TerminateResult>('process/terminate');
export const ProcessList = request<Record<string, never>, ListResult>('process/list');
export const ProcessOutput = notification<OutputNotification>(Method.processOutput);
export const ProcessExited = notification<ExitedNotification>(Method.processExited);
export const ProcessClosed = notification<ClosedNotification>(Method.processClosed);

// fs/*
export const FsReadFile = request<FsReadFileParams, FsReadFileResult>('fs/readFile');
export const FsWriteFile = request<FsWriteFileParams, FsEmptyResult>('fs/writeFile');
export const FsGetMetadata = request<FsGetMetadataParams, FsGetMetadataResult>('fs/getMetadata');
export const FsReadDirectory = request<FsReadDirectoryParams, FsReadDirectoryResult>('fs/readDirectory');
export const FsCreateDirectory = request<FsCreateDirectoryParams, FsEmptyResult>('fs/createDirectory');
export const FsRemove = request<FsRemoveParams, FsEmptyResult>('fs/remove');
export const FsCopy = request<FsCopyParams, FsEmptyResult>('fs/copy');
export const FsCanonicalize = request<FsCanonicalizeParams, FsCanonicalizeResult>('fs/canonicalize');
export const FsOpen = request<FsOpenParams, FsOpenResult>('fs/open');
export const FsReadBlock = request<FsReadBlockParams, FsReadBlockResult>('fs/readBlock');
export const FsClose = request<FsCloseParams, FsEmptyResult>('fs/close');
export const FsWatchMissing = request<FsWatchMissingParams, FsWatchMissingResult>('fs/watchMissing');
/** Upstream's name, seen from codex exec-server 0.169 (test/interop/README.md). */
export const FsMissingChanged = notification<FsMissingChangedNotification>('fs/missingChanged');

// environment/*
export const GetEnvironmentInfo = request<EnvironmentInfoParams, EnvironmentInfo>('environment/info');
export const EnvironmentConfigRead = request<EnvironmentConfigReadParams, EnvironmentConfigReadResult>('environmentConfig/read');

/** Upstream 0.171 (an HTTP client on the executor): refused here, see server/connection/connectionHandler.ts. */
export const HttpRequest = request<unknown, never>('http/request');

/**
 * The requests served after the handshake, by the group upstream names in "client must call
 * initialize before using <group> methods".
 */
export const REQUEST_GROUPS: ReadonlyArray<{ group: string; methods: ReadonlyArray<RequestMethod<never, unknown>> }> = [
  {
    group: 'exec',
    methods: [ProcessStart, ProcessRead, ProcessWrite, ProcessSignal, ProcessResize, ProcessCloseStdin, ProcessTerminate, ProcessList],
  },
  {
    group: 'filesystem',
    methods: [FsReadFile, FsWriteFile, FsGetMetadata, FsReadDirectory, FsCreateDirectory, FsRemove, FsCopy, FsCanonicalize, FsOpen, FsReadBlock, FsClose, FsWatchMissing],
  },
  { group: 'environment info', methods: [GetEnvironmentInfo, EnvironmentConfigRead] },
];
