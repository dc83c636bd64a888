/**
 * Which server a reload left for this window (vscode-free, so it is unit-tested with a fake
 * clock). Each slot's server is asked to be adopted: `adopted` ends the search; `absent` means
 * no server (the slot is free to reuse); `refused` means one answers but cannot be adopted
 * (the slot is not to be reused); `owned` means it has a live owner: another window on this
 * folder, or this window's previous extension host still shutting down (VS Code may start the
 * new host before the old one lets go). Nothing tells those two apart, so owned slots are asked
 * again every `pollMs` for up to `waitMs` before the caller starts a server of its own, which
 * would leave this window's processes to die at the end of the reload grace.
 */
export type AdoptAnswer<H> = { adopted: H } | 'owned' | 'absent' | 'refused';

export interface AdoptSearch<S, H> {
  slots: readonly S[];
  tryAdopt(slot: S): Promise<AdoptAnswer<H>>;
  waitMs: number;
  pollMs: number;
  /** Told once when owned slots are about to be asked again. */
  onWaiting?(owned: number): void;
  now?(): number;
  sleep?(ms: number): Promise<void>;
}

export interface AdoptOutcome<S, H> {
  adopted?: { host: H; slot: S };
  /** Slots not to reuse for a new server: owned by a live window, or answering but not adoptable. */
  taken: S[];
}

export async function adoptLeftServer<S, H>(o: AdoptSearch<S, H>): Promise<AdoptOutcome<S, H>> {
  const now = o.now ?? Date.now;
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const taken: S[] = [];
  let owned: S[] = [];
  const ask = async (slot: S): Promise<H | undefined> => {
    const a = await o.tryAdopt(slot);
    if (a === 'owned') owned.push(slot);
    else if (a === 'refused') taken.push(slot);
    else if (a !== 'absent') return a.adopted;
    return undefined;
  };
  for (const slot of o.slots) {
    const host = await ask(slot);
    if (host !== undefined) return { adopted: { host, slot }, taken };
  }
  if (owned.length > 0) o.onWaiting?.(owned.length);
  const end = now() + o.waitMs;
  while (owned.length > 0 && now() < end) {
    await sleep(o.pollMs);
    const again = owned;
    owned = [];
    for (let i = 0; i < again.length; i++) {
      const host = await ask(again[i]);
      if (host !== undefined) return { adopted: { host, slot: again[i] }, taken: [...taken, ...owned, ...again.slice(i + 1)] };
    }
  }
  return { taken: [...taken, ...owned] };
}
