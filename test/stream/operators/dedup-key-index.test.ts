// DedupKeyIndex on a real versioned store: which keys it holds after each way a batch can end —
// committed, aborted (retried), committed and then retried against N − 1, a replay of an older batch,
// and a new index (a restart) — each time equal to the keys of the version the store reads; and its
// hash table against a Set over many random batches (growth, tombstones, compaction, undo).

import { describe, expect, it } from 'vitest';
import { MemoryStateStoreProvider } from '../../../state/memory-store.js';
import { type AddKey, DedupKeyIndex } from '../../../stream/operators/dedup-key-index.js';
import type { StateStore } from '../../../stream/state-store.js';

const OP = '0-dedup';
const FP = { operator: 'test' };
const enc = new TextEncoder();

/** The keys of a version, stored as one record each (the test's own layout). */
async function stored(store: StateStore, add: AddKey): Promise<void> {
  for await (const { key } of store.scan('')) add(key, 0, key.length);
}

/** The index's methods on string keys (as their UTF-8). */
const on = (index: DedupKeyIndex) => ({
  has: (id: string) => {
    const b = enc.encode(id);
    return index.has(b, 0, b.length);
  },
  add: (id: string) => {
    const b = enc.encode(`xx${id}yy`); // keys at an offset into a larger array
    return index.add(b, 2, b.length - 2);
  },
  remove: (id: string) => {
    const b = enc.encode(id);
    return index.remove(b, 0, b.length);
  },
});

describe('DedupKeyIndex', () => {
  it('follows the store version through commits, aborts, retries, replays and restarts', async () => {
    const provider = new MemoryStateStoreProvider();
    const index = new DedupKeyIndex();
    const keys = on(index);
    let loads = 0;
    const load = (store: StateStore, add: AddKey) => {
      loads++;
      return stored(store, add);
    };
    /** Runs batch `batchId`: adds `add`, removes `remove`, commits unless `abort`. */
    const batch = async (batchId: number, add: string[], remove: string[], abort = false) => {
      const store = await provider.open(OP, batchId - 1, FP);
      await index.begin(store, batchId, load);
      for (const id of add) {
        expect(keys.has(id)).toBe(false);
        expect(keys.add(id)).toBeGreaterThanOrEqual(0);
        expect(keys.add(id)).toBe(-1);
        store.put(enc.encode(id), new Uint8Array(0));
      }
      for (const id of remove) {
        expect(keys.remove(id)).toBe(true);
        store.delete(enc.encode(id));
      }
      if (abort) store.abort();
      else await store.commit(batchId);
    };
    const all = (...ids: string[]) => ids.every((id) => keys.has(id));

    await batch(0, ['a', 'b'], []);
    expect(loads).toBe(1); // the empty first version
    await batch(1, ['c'], ['a']);
    expect([index.size, all('b', 'c'), keys.has('a')]).toEqual([2, true, false]);
    // Aborted: the retry of batch 2 sees version 1 again (the aborted changes are undone, no reload).
    await batch(2, ['d', 'e'], ['b', 'd'], true);
    await batch(2, ['x'], []);
    expect([index.size, all('b', 'c', 'x'), keys.has('d'), keys.has('e')]).toEqual([3, true, false, false]);
    expect(loads).toBe(1);
    // Committed, then retried against version 2 (the table commit failed): version 2's keys.
    await batch(3, ['y'], ['x', 'b']);
    await batch(3, ['z'], []);
    expect([index.size, all('b', 'c', 'x', 'z'), keys.has('y')]).toEqual([4, true, false]);
    expect(loads).toBe(1);
    // A replay of an older batch: reloaded from the store as of that version.
    await batch(1, ['c'], ['a']);
    expect(loads).toBe(2);
    expect([index.size, all('b', 'c')]).toEqual([2, true]);
    // A new index over the same state (a restart) loads it.
    const restarted = new DedupKeyIndex();
    const store = await provider.open(OP, 1, FP);
    await restarted.begin(store, 2, load);
    expect([restarted.size, on(restarted).has('b'), on(restarted).has('c')]).toEqual([2, true, true]);
    store.abort();
  });

  it('a batch that failed while loading reloads on the next one', async () => {
    const provider = new MemoryStateStoreProvider();
    const setup = await provider.open(OP, -1, FP);
    setup.put('k', new Uint8Array(0));
    await setup.commit(0);
    const index = new DedupKeyIndex();
    const store = await provider.open(OP, 0, FP);
    await expect(
      index.begin(store, 1, async (_store, add) => {
        add(enc.encode('partial'), 0, 7);
        throw new Error('read failed');
      }),
    ).rejects.toThrow('read failed');
    await index.begin(store, 1, stored);
    expect([index.size, on(index).has('k'), on(index).has('partial')]).toEqual([1, true, false]);
    store.abort();
  });

  it('holds exactly the keys of a Set over many random batches: growth, tombstones, compaction, undo', async () => {
    const provider = new MemoryStateStoreProvider();
    const index = new DedupKeyIndex();
    const keys = on(index);
    let seed = 7;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    // Keys of many lengths (and a long one), reused across batches so that removed keys come back.
    const key = () => `k${Math.floor(rand() * 60_000)}${'#'.repeat(Math.floor(rand() * 3) * 40)}`;
    // models[v + 1]: the keys of committed version v.
    const models: Set<string>[] = [new Set()];
    let committed = -1;
    for (let round = 0; round < 40; round++) {
      // Usually the next batch; sometimes the last committed one again (its table commit failed).
      const batchId = committed >= 0 && rand() < 0.15 ? committed : committed + 1;
      const model = models[batchId]!;
      const store = await provider.open(OP, batchId - 1, FP);
      await index.begin(store, batchId, stored);
      expect(index.size).toBe(model.size);
      for (const id of [...model].slice(0, 50)) expect(keys.has(id)).toBe(true);
      const next = new Set(model);
      for (let i = 0; i < 3_000; i++) {
        const id = key();
        if (rand() < 0.6) {
          expect(keys.add(id) >= 0).toBe(!next.has(id));
          next.add(id);
          store.put(enc.encode(id), new Uint8Array(0));
        } else {
          expect(keys.remove(id)).toBe(next.has(id));
          next.delete(id);
          store.delete(enc.encode(id));
        }
      }
      expect(index.size).toBe(next.size);
      // One batch in four fails before its state commit: the next begin undoes its changes.
      if (rand() < 0.25) store.abort();
      else {
        await store.commit(batchId);
        models.length = batchId + 1;
        models.push(next);
        committed = batchId;
      }
    }
    const model = models[committed + 1]!;
    const final = await provider.open(OP, await provider.latestVersion(OP), FP);
    const fresh = new DedupKeyIndex();
    await fresh.begin(final, 1_000, stored);
    final.abort();
    expect(fresh.size).toBe(model.size);
    for (const id of model) expect(on(fresh).has(id)).toBe(true);
  });
});
