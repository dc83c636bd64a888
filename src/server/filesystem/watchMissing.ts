/** fs/watchMissing: one connection's one-shot watches for discovery roots appearing or going (see WatchTable). */
import { promises as fsp } from 'node:fs';
import { ErrorCode, invalidRequest, RpcError } from '../../protocol/errors';
import type { FsMissingChangedNotification, FsWatchId, FsWatchMissingResult } from '../../protocol/fsTypes';
import { FsMissingChanged } from '../../protocol/methods';
import { pathFromWire, pathToWire } from '../../protocol/paths';
import { Params } from '../../protocol/validate';
import { checkSandbox } from './fsAccess';

const MAX_WATCHES = 64;
const MAX_WATCH_PATHS = 256;

/** Delivers a server→client notification on the connection. */
export type Notify = (method: string, params: unknown) => void;

interface Watch {
  missing: string[];
  present: string | null;
  timer: NodeJS.Timeout;
  checking: boolean;
}

/**
 * fs/watchMissing `{watchId, missing:[uri], present?:uri}` → `{watching}`.
 *
 * The codex client sends it after skill/project discovery: `missing` are the candidate
 * roots it did not find (e.g. `<dir>/.agents/skills`), `present` the root it did find
 * (e.g. the `.git` that ends project discovery). What it needs is to hear when that
 * picture changes. The watch therefore fires when any `missing` path comes into existence
 * or the `present` path stops existing, sends ONE notification
 * `fs/missingChanged {watchId, path, change:"created"|"removed"}` and ends (the client
 * rediscovers and can register again). Paths are polled with lstat every `watchPollMs`
 * (bounded), which also catches paths created several levels deep, unlike one fs.watch.
 * A repeated watchId replaces the old watch. Without a `notify` sink nothing could be
 * reported, so the answer is then `{watching:false}` and no watch is kept.
 */
export class WatchTable {
  private readonly watches = new Map<string, Watch>();

  constructor(
    private readonly notify: Notify | undefined,
    private readonly pollMs: number,
  ) {}

  async watchMissing(params: unknown): Promise<FsWatchMissingResult> {
    const p = Params.of(params, 'FsWatchMissingParams');
    const watchId = readWatchId(p);
    const missing = p.stringArray('missing').map((u, i) => pathFromWire(`missing[${i}]`, u));
    const presentUri = p.optString('present');
    const present = presentUri === undefined ? null : pathFromWire('present', presentUri);
    checkSandbox(p, 'read', ...missing, ...(present === null ? [] : [present]));
    if (missing.length > MAX_WATCH_PATHS) throw invalidRequest(`fs/watchMissing accepts at most ${MAX_WATCH_PATHS} paths`);
    this.stop(watchId);
    if (!this.notify) return { watching: false };
    if (this.watches.size >= MAX_WATCHES) throw invalidRequest(`too many watches on this connection (at most ${MAX_WATCHES})`);
    const timer = setInterval(() => void this.check(watchId), this.pollMs);
    timer.unref();
    this.watches.set(watchId, { missing, present, timer, checking: false });
    // A path may already have changed between the client's discovery and this request.
    await this.check(watchId);
    return { watching: true };
  }

  dispose(): void {
    for (const id of [...this.watches.keys()]) this.stop(id);
  }

  private stop(watchId: string): void {
    const w = this.watches.get(watchId);
    if (!w) return;
    clearInterval(w.timer);
    this.watches.delete(watchId);
  }

  private async check(watchId: string): Promise<void> {
    const w = this.watches.get(watchId);
    if (!w || w.checking) return;
    w.checking = true;
    try {
      const change = await findChange(w);
      if (!change || this.watches.get(watchId) !== w) return;
      this.stop(watchId);
      const changed: FsMissingChangedNotification = { watchId: wireWatchId(watchId), ...change };
      this.notify?.(FsMissingChanged.method, changed);
    } finally {
      w.checking = false;
    }
  }
}

/** watchId is an integer from the codex client; strings are accepted too. Keyed by its JSON. */
function readWatchId(p: Params): string {
  const v = p.raw('watchId');
  if (v === undefined) throw new RpcError(ErrorCode.InvalidParams, 'missing field `watchId`');
  if (typeof v === 'string' || (typeof v === 'number' && Number.isSafeInteger(v))) return JSON.stringify(v);
  throw new RpcError(ErrorCode.InvalidParams, 'invalid type for `watchId`: expected an integer or a string');
}

function wireWatchId(key: string): FsWatchId {
  return JSON.parse(key) as FsWatchId;
}

async function findChange(w: Watch): Promise<Omit<FsMissingChangedNotification, 'watchId'> | undefined> {
  for (const m of w.missing) {
    if (await exists(m)) return { path: pathToWire(m), change: 'created' };
  }
  if (w.present !== null && !(await exists(w.present))) return { path: pathToWire(w.present), change: 'removed' };
  return undefined;
}

async function exists(p: string): Promise<boolean> {
  try {
    await fsp.lstat(p);
    return true;
  } catch {
    return false;
  }
}

