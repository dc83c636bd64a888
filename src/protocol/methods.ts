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
