/**
 * Which server a reload left for this window (src/extension/host/adoptLeftServer.ts), with a
 * scripted control socket per slot and a fake clock: owned slots are asked again until they
 * can be adopted or the wait is over; absent slots are free; refused ones are not reused.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { adoptLeftServer, type AdoptAnswer } from '../../src/extension/host/adoptLeftServer';

/** Each slot answers from its script, one answer per ask (the last one repeats). */
function scripted(scripts: Record<string, Array<AdoptAnswer<string>>>) {
  const asks: string[] = [];
  let t = 0;
  return {
    asks,
    now: () => t,
    sleep: async (ms: number) => {
      t += ms;
    },
    tryAdopt: async (slot: string): Promise<AdoptAnswer<string>> => {
      asks.push(`${t}:${slot}`);
      const s = scripts[slot];
      return s.length > 1 ? s.shift()! : s[0];
    },
  };
}

describe('adoptLeftServer', () => {
  it('adopts the first orphaned server at once, without asking the slots after it', async () => {
    const f = scripted({ a: ['absent'], b: [{ adopted: 'server-b' }], c: [{ adopted: 'server-c' }] });
    const r = await adoptLeftServer({ slots: ['a', 'b', 'c'], waitMs: 8000, pollMs: 250, ...f });
    assert.deepEqual(r.adopted, { host: 'server-b', slot: 'b' });
    assert.deepEqual(r.taken, []);
    assert.deepEqual(f.asks, ['0:a', '0:b']);
  });

  it('asks an owned slot again until its old owner lets go (a reload whose old host is slow), then adopts it', async () => {
    let waiting = 0;
    const f = scripted({ a: ['owned', 'owned', 'owned', { adopted: 'mine' }], b: ['absent'] });
    const r = await adoptLeftServer({ slots: ['a', 'b'], waitMs: 8000, pollMs: 250, onWaiting: (n) => (waiting = n), ...f });
    assert.deepEqual(r.adopted, { host: 'mine', slot: 'a' });
    assert.equal(waiting, 1);
    assert.deepEqual(f.asks, ['0:a', '0:b', '250:a', '500:a', '750:a']);
  });

  it('gives up after the wait when the owner stays (another live window): the slot is taken, a free one is not', async () => {
    const f = scripted({ other: ['owned'], free: ['absent'], broken: ['refused'] });
    const r = await adoptLeftServer({ slots: ['other', 'free', 'broken'], waitMs: 1000, pollMs: 250, ...f });
    assert.equal(r.adopted, undefined);
    assert.deepEqual(r.taken.sort(), ['broken', 'other']);
    assert.deepEqual(f.asks.filter((a) => a.endsWith(':other')), ['0:other', '250:other', '500:other', '750:other', '1000:other']);
  });

  it('with two owned slots, adopts the one that is let go and keeps the other taken', async () => {
    const f = scripted({ first: ['owned'], second: ['owned', { adopted: 'second-server' }] });
    const r = await adoptLeftServer({ slots: ['first', 'second'], waitMs: 8000, pollMs: 250, ...f });
    assert.deepEqual(r.adopted, { host: 'second-server', slot: 'second' });
    assert.deepEqual(r.taken, ['first']);
  });

  it('an owned slot whose server ends while waiting becomes free, not taken', async () => {
    const f = scripted({ a: ['owned', 'absent'] });
    const r = await adoptLeftServer({ slots: ['a'], waitMs: 8000, pollMs: 250, ...f });
    assert.equal(r.adopted, undefined);
    assert.deepEqual(r.taken, []);
    assert.deepEqual(f.asks, ['0:a', '250:a']);
  });

  it('no slots, or none owned: no waiting at all', async () => {
    const f = scripted({ a: ['absent'] });
    let waited = false;
    const r = await adoptLeftServer({ slots: ['a'], waitMs: 8000, pollMs: 250, onWaiting: () => (waited = true), ...f });
    assert.deepEqual(r, { taken: [] });
    assert.equal(waited, false);
    assert.deepEqual(await adoptLeftServer({ slots: [], waitMs: 8000, pollMs: 250, ...f }), { taken: [] });
  });
});
