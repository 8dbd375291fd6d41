// DedupKeyIndex on a real versioned store: which keys it holds after each way a batch can end —
// committed, aborted (retried), committed and then retried against N − 1, a replay of an older batch,
// and a new index (a restart) — each time equal to the keys of the version the store reads.

import { describe, expect, it } from 'vitest';
import { MemoryStateStoreProvider } from '../../../state/memory-store.js';
import { DedupKeyIndex } from '../../../stream/operators/dedup-key-index.js';
import type { StateStore } from '../../../stream/state-store.js';

const OP = '0-dedup';
const FP = { operator: 'test' };
const enc = new TextEncoder();
const dec = new TextDecoder();

/** The keys of a version, stored as one record each (the test's own layout). */
async function* stored(store: StateStore): AsyncIterable<string> {
  for await (const { key } of store.scan('')) yield dec.decode(key);
}

describe('DedupKeyIndex', () => {
  it('follows the store version through commits, aborts, retries, replays and restarts', async () => {
    const provider = new MemoryStateStoreProvider();
    const index = new DedupKeyIndex();
    let loads = 0;
    const load = (store: StateStore) => {
      loads++;
      return stored(store);
    };
    /** Runs batch `batchId`: adds `add`, removes `remove`, commits unless `abort`. */
    const batch = async (batchId: number, add: string[], remove: string[], abort = false) => {
      const store = await provider.open(OP, batchId - 1, FP);
      await index.begin(store, batchId, load);
      for (const id of add) {
        expect(index.has(id)).toBe(false);
        index.add(id);
        store.put(enc.encode(id), new Uint8Array(0));
      }
      for (const id of remove) {
        index.remove(id);
        store.delete(enc.encode(id));
      }
      if (abort) store.abort();
      else await store.commit(batchId);
    };
    const keys = (...ids: string[]) => ids.every((id) => index.has(id));

    await batch(0, ['a', 'b'], []);
    expect(loads).toBe(1); // the empty first version
    await batch(1, ['c'], ['a']);
    expect([index.size, keys('b', 'c'), index.has('a')]).toEqual([2, true, false]);
    // Aborted: the retry of batch 2 sees version 1 again (the aborted changes are undone, no reload).
    await batch(2, ['d', 'e'], ['b', 'd'], true);
    await batch(2, ['x'], []);
    expect([index.size, keys('b', 'c', 'x'), index.has('d'), index.has('e')]).toEqual([3, true, false, false]);
    expect(loads).toBe(1);
    // Committed, then retried against version 2 (the table commit failed): version 2's keys.
    await batch(3, ['y'], ['x', 'b']);
    await batch(3, ['z'], []);
    expect([index.size, keys('b', 'c', 'x', 'z'), index.has('y')]).toEqual([4, true, false]);
    expect(loads).toBe(1);
    // A replay of an older batch: reloaded from the store as of that version.
    await batch(1, ['c'], ['a']);
    expect(loads).toBe(2);
    expect([index.size, keys('b', 'c')]).toEqual([2, true]);
    // A new index over the same state (a restart) loads it.
    const restarted = new DedupKeyIndex();
    const store = await provider.open(OP, 1, FP);
    await restarted.begin(store, 2, load);
    expect([restarted.size, restarted.has('b'), restarted.has('c')]).toEqual([2, true, true]);
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
      index.begin(store, 1, async function* () {
        yield 'partial';
        throw new Error('read failed');
      }),
    ).rejects.toThrow('read failed');
    await index.begin(store, 1, stored);
    expect([index.size, index.has('k'), index.has('partial')]).toEqual([1, true, false]);
    store.abort();
  });
});
