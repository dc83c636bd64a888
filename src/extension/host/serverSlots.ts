import { randomBytes } from 'node:crypto';
import { discoveryDir } from '../../discovery/discoveryFiles';
import { hostPlatform } from '../../platform/hostPlatform';

/**
 * A stable address per window (issue 14): a window's server comes back on the same port with
 * the same token after a restart or a reload. What is kept, per workspace:
 *   - workspaceState `execServer.slots`: [{id, port}] — no secret in it;
 *   - SecretStorage `execServer.token.<id>` (the agents' bearer token) and
 *     `execServer.control.<id>` (the control socket's secret): never in settings or logs.
 * A "slot" is one window's server. workspaceState is shared by every window on the same folder,
 * so a second window on that folder finds the first slot taken (its control socket answers
 * `owned`) and makes its own: two windows never share, nor adopt, each other's server.
 * No `vscode` import: the stores are passed in (Memento and SecretStorage fit these shapes).
 */
export interface SlotStores {
  state: { get<T>(key: string): T | undefined; update(key: string, value: unknown): PromiseLike<void> };
  secrets: { get(key: string): PromiseLike<string | undefined>; store(key: string, value: string): PromiseLike<void> };
}

export interface SlotEntry {
  id: string;
  /** The port it last listened on (0: none yet). */
  port: number;
}

export interface Slot extends SlotEntry {
  token: string;
  controlSecret: string;
  /** Its private control socket. */
  socketPath: string;
}

const SLOTS_KEY = 'execServer.slots';
/** Bounded: a folder opened in many windows over time does not grow this forever. */
const MAX_SLOTS = 8;

export function listSlots(s: SlotStores): SlotEntry[] {
  const v = s.state.get<unknown>(SLOTS_KEY);
  if (!Array.isArray(v)) return [];
  return v
    .filter((e): e is SlotEntry => typeof e?.id === 'string' && /^[0-9a-f]{12}$/.test(e.id) && Number.isInteger(e.port))
    .map((e) => ({ id: e.id, port: e.port }));
}

/**
 * A slot's secrets, created the first time. Both are read at once (each read is a round trip
 * to the window: SecretStorage lives in the renderer); storing fresh ones is not waited for on
 * the way to a listening server: `persisted` settles when they are stored (await it later).
 */
export async function loadSlot(s: SlotStores, e: SlotEntry): Promise<Slot & { persisted: Promise<void> }> {
  const keys = [`execServer.token.${e.id}`, `execServer.control.${e.id}`];
  const have = await Promise.all(keys.map((k) => s.secrets.get(k)));
  const stores: PromiseLike<void>[] = [];
  const [token, controlSecret] = have.map((v, i) => {
    if (v) return v;
    const fresh = randomBytes(32).toString('base64url');
    stores.push(s.secrets.store(keys[i], fresh));
    return fresh;
  });
  return { ...e, token, controlSecret, socketPath: controlSocketPath(e.id), persisted: Promise.all(stores).then(() => undefined) };
}

export async function newSlot(s: SlotStores): Promise<Slot & { persisted: Promise<void> }> {
  const e = { id: randomBytes(6).toString('hex'), port: 0 };
  const slots = [...listSlots(s), e].slice(-MAX_SLOTS);
  const saved = s.state.update(SLOTS_KEY, slots);
  const slot = await loadSlot(s, e);
  return { ...slot, persisted: Promise.all([saved, slot.persisted]).then(() => undefined) };
}

/** Remember the port a slot's server got (a new one when its old port was taken). */
export async function saveSlotPort(s: SlotStores, id: string, port: number): Promise<void> {
  const slots = listSlots(s);
  const e = slots.find((x) => x.id === id);
  if (!e || e.port === port) return;
  e.port = port;
  await s.state.update(SLOTS_KEY, slots);
}

/**
 * `<discovery dir>-ctl/<id>.sock`: beside the discovery directory, not in it (agents list that
 * one); the directory 0700; kept short (a UNIX socket path has a ~100-byte limit). A named pipe
 * on Windows.
 */
function controlSocketPath(id: string, env: NodeJS.ProcessEnv = process.env): string {
  return hostPlatform().localSocketPath(`${discoveryDir(env)}-ctl`, id);
}
