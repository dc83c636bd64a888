/** Sandbox support: what the rest of the server calls (see each module's header). */
export { describeSandboxStatus, sandboxFor, releaseSandbox, SandboxSupport, type SandboxStatus, type SandboxedLaunch } from './sandboxSupport';
export { guardFs, guardRecursiveRemove, type FsIntent } from './fsGuard';
export { commandArgv, isSandboxed, markSandboxed, sandboxDeniedFor } from './denial';
