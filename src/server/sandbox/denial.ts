/**
 * `process/exited.sandboxDenied`, computed as upstream does (codex-rs/sandboxing/src/denial.rs):
 * a guess from the exit status and the output, which codex uses to offer a retry without
 * the sandbox. Unsandboxed or exit 0 → false; output naming a denial → true; otherwise
 * exit 2/126/127 (usage, not executable, not found) → false and 159 (128 + SIGSYS, seccomp's
 * kill) → true.
 */
import { constants } from 'node:os';
import type { ManagedProcess } from '../process/managedProcess';

const DENIAL_WORDS = [
  'operation not permitted',
  'permission denied',
  'read-only file system',
  'seccomp',
  'sandbox',
  'landlock',
  'failed to write file',
];
const NOT_DENIED_CODES = new Set([2, 126, 127]);
const SIGSYS_CODE = 128 + (constants.signals.SIGSYS ?? 31);
/** The output tail looked at: denials are reported near the end, and a flood must not cost. */
const SCAN_BYTES = 256 * 1024;

export function isLikelySandboxDenied(sandboxed: boolean, exitCode: number | null, signal: string | null, output: string): boolean {
  if (!sandboxed) return false;
  const code = exitCode ?? signalCode(signal);
  if (code === 0) return false;
  const text = output.toLowerCase();
  if (DENIAL_WORDS.some((w) => text.includes(w))) return true;
  if (code !== null && NOT_DENIED_CODES.has(code)) return false;
  return code === SIGSYS_CODE;
}

function signalCode(signal: string | null): number | null {
  if (!signal) return null;
  const n = (constants.signals as Record<string, number | undefined>)[signal];
  return n === undefined ? null : 128 + n;
}

// Which processes run sandboxed, with the command they were asked to run (their spawn argv
// is the helper's): kept here so ManagedProcess stays unaware of sandboxing.
const sandboxed = new WeakMap<ManagedProcess, string[]>();

export function markSandboxed(p: ManagedProcess, commandArgv: string[]): void {
  sandboxed.set(p, commandArgv);
}

export function isSandboxed(p: ManagedProcess): boolean {
  return sandboxed.has(p);
}

/** The argv to show for `p`: the client's command, not the sandbox helper wrapped around it. */
export function commandArgv(p: ManagedProcess): string[] {
  return sandboxed.get(p) ?? p.spec.argv;
}

// The answer per process at a given output position: process/read may ask it often.
const answered = new WeakMap<ManagedProcess, { nextSeq: number; denied: boolean }>();

/** The heuristic over what `p` retained of its stdout/stderr. */
export function sandboxDeniedFor(p: ManagedProcess): boolean {
  if (!sandboxed.has(p) || p.exitCode === 0) return false;
  const cached = answered.get(p);
  if (cached && cached.nextSeq === p.nextSeq) return cached.denied;
  const denied = scan(p);
  answered.set(p, { nextSeq: p.nextSeq, denied });
  return denied;
}

function scan(p: ManagedProcess): boolean {
  const chunks = p.output.all();
  const parts: Buffer[] = [];
  let total = 0;
  for (let i = chunks.length - 1; i >= 0 && total < SCAN_BYTES; i--) {
    parts.unshift(chunks[i]!.data);
    total += chunks[i]!.data.length;
  }
  return isLikelySandboxDenied(true, p.exitCode, p.exitSignal, Buffer.concat(parts).toString('utf8'));
}
