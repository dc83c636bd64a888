/**
 * `environment/info`, answered truthfully for this machine (PROTOCOL_NOTES.md §2).
 *
 * The shell is $SHELL when it names an existing absolute file, else /bin/bash, else /bin/sh.
 * `capabilities` lists only what this server really does: fsWatchMissing and
 * environmentConfigRead are true, everything upstream advertises for sandboxing, network
 * proxying, credential masking, streaming etc. is false. `providerId` is `sha256:<hex>` of
 * "hostname\0uid\0home" (the upstream input could not be found; this is stable per
 * host+user, as upstream's value is across runs).
 */
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { EnvironmentInfo, SandboxStatus } from '../../protocol/environmentTypes';
import { pathToWire } from '../../protocol/paths';

const CAPABILITIES: Readonly<Record<string, boolean>> = Object.freeze({
  networkProxyLaunch: false,
  networkProxyReviewDomains: false,
  credentialMasking: false,
  credentialMaskingCustomProviders: false,
  capabilityDiscoverySandbox: false,
  fsWatchMissing: true,
  capabilityDiscoveryV2: false,
  environmentConfigRead: true,
  httpHeaderEnvVars: false,
  sandboxedFileStreaming: false,
  fileWriteStreaming: false,
  shellSnapshotV2: false,
  windowsMxc: false,
  linuxRootWritePreservesDevices: false,
  linuxApprovedRootWritePreservesRestrictions: false,
});

export function buildEnvironmentInfo(opts: { cwd: string; executorVersion: string; sandbox?: SandboxStatus }): EnvironmentInfo {
  const info: EnvironmentInfo = {
    shell: detectShell(process.env.SHELL),
    executorVersion: opts.executorVersion,
    providerId: providerId(),
    cwd: pathToWire(opts.cwd),
    userHomeDir: pathToWire(os.homedir()),
    platformOs: platformOs(process.platform),
    prependPathDirs: [],
    temporaryDirectories: [],
    tempDir: pathToWire(os.tmpdir()),
    capabilities: { ...CAPABILITIES },
  };
  // Ours, not upstream's: whether sandboxed process/start can be enforced, and with what.
  if (opts.sandbox) info.sandbox = opts.sandbox;
  return info;
}

export function detectShell(envShell: string | undefined): { name: string; path: string } {
  const candidates = [envShell, '/bin/bash', '/bin/sh'];
  for (const c of candidates) {
    if (c && path.isAbsolute(c) && isFile(c)) return { name: path.basename(c), path: c };
  }
  return { name: 'sh', path: '/bin/sh' };
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/** Upstream spells these `linux`, `macos`, `windows`. */
export function platformOs(platform: NodeJS.Platform): string {
  if (platform === 'darwin') return 'macos';
  if (platform === 'win32') return 'windows';
  return platform;
}

function providerId(): string {
  let uid = '';
  try {
    uid = String(os.userInfo().uid);
  } catch {
    uid = process.env.USER ?? '';
  }
  const input = `${os.hostname()}\0${uid}\0${os.homedir()}`;
  return `sha256:${createHash('sha256').update(input).digest('hex')}`;
}
