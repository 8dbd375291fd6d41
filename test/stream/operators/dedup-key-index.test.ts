// DedupKeyIndex on a real versioned store: which keys it holds after each way a batch can end —
// committed, aborted (retried), committed and then retried against N − 1, a replay of an older batch,
// and a new index (a restart) — each time equal to the keys of the version the store reads; and its
// hash table against a Set over many random batches (growth, tombstones, compaction, undo).

import { describe, expect, it } from 'vitest';
import { MemoryStateStoreProvider } from '../../../state/memory-store.js';
import { type AddKey, DedupKeyIndex, NOT_PLAIN } from '../../../stream/operators/dedup-key-index.js';
import type { StateStore } from '../../../stream/state-store.js';

const OP = '0-dedup';
const FP = { operator: 'test' };
const enc = new TextEncoder();

/** The keys of a version, stored as one record each (the test's own layout): key → float64 expiry. */
async function stored(store: StateStore, add: AddKey): Promise<void> {
  for await (const { key, value } of store.scan('')) add(key, 0, key.length, expiryIn(value));
}

const expiryIn = (value: Uint8Array) => new DataView(value.buffer, value.byteOffset, value.length).getFloat64(0);

function expiryValue(expiry: number): Uint8Array {
  const value = new Uint8Array(8);
  new DataView(value.buffer).setFloat64(0, expiry);
  return value;
}

/** Stores the key `id` with its expiry, or (after an eviction at `watermark`) deletes every expired key. */
const log = {
  put: (store: StateStore, id: string, expiry: number) => store.put(enc.encode(id), expiryValue(expiry)),
  async evict(store: StateStore, watermark: number): Promise<void> {
    const expired: Uint8Array[] = [];
    for await (const { key, value } of store.scan('')) if (expiryIn(value) <= watermark) expired.push(key);
    for (const key of expired) store.delete(key);
  },
};

/** The index's methods on string keys (as their UTF-8). */
const on = (index: DedupKeyIndex) => ({
  has: (id: string) => {
    const b = enc.encode(id);
    return index.has(b, 0, b.length);
  },
  add: (id: string, expiry: number) => {
    const b = enc.encode(`xx${id}yy`); // keys at an offset into a larger array
    return index.add(b, 2, b.length - 2, expiry);
  },
});

describe('DedupKeyIndex', () => {
  it('addTagged(tag, bytes) is add(tag + bytes + NUL): each finds the keys of the other; a NUL is NOT_PLAIN', async () => {
    const provider = new MemoryStateStoreProvider();
    const index = new DedupKeyIndex();
    const store = await provider.open(OP, -1, FP);
    await index.begin(store, 0, async () => {});
    const model = new Set<string>();
    let seed = 99;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const TAG = 7;
    for (let i = 0; i < 20_000; i++) {
      // Inner bytes of a few lengths (empty included) from a small alphabet, so keys repeat.
      const inner = Array.from({ length: Math.floor(rand() * 4) }, () => 1 + Math.floor(rand() * 3));
      const tag = rand() < 0.9 ? TAG : TAG + 1;
      const encoding = [tag, ...inner, 0];
      const id = encoding.join(',');
      const padded = Uint8Array.from([9, 9, ...inner, 9]); // the bytes at an offset into a larger array
      const entry =
        rand() < 0.5
          ? index.addTagged(tag, padded, 2, 2 + inner.length, i)
          : index.add(Uint8Array.from([5, ...encoding]), 1, 1 + encoding.length, i);
      expect(entry >= 0, id).toBe(!model.has(id));
      model.add(id);
      // Encodings of other shapes (no terminator, one byte more) are other keys.
      const bare = Uint8Array.from([tag, ...inner]);
      expect(index.has(bare, 0, bare.length)).toBe(model.has(bare.join(',')));
    }
    expect(index.size).toBe(model.size);
    for (const id of model) {
      const bytes = Uint8Array.from(id.split(',').map(Number));
      expect(index.has(bytes, 0, bytes.length)).toBe(true);
    }
    const size = index.size;
    expect(index.addTagged(TAG, Uint8Array.from([1, 0, 2]), 0, 3, 5)).toBe(NOT_PLAIN);
    expect(index.addTagged(TAG, Uint8Array.from([0]), 0, 1, 5)).toBe(NOT_PLAIN);
    expect(index.size).toBe(size);
    store.abort();
  });

  it('follows the store version through commits, aborts, retries, replays and restarts', async () => {
    const provider = new MemoryStateStoreProvider();
    const index = new DedupKeyIndex();
    const keys = on(index);
    let loads = 0;
    const load = (store: StateStore, add: AddKey) => {
      loads++;
      return stored(store, add);
    };
    /**
     * Runs batch `batchId`: adds `add` (key `id` expires at its number), evicts at `watermark`, commits
     * unless `abort`.
     */
    const batch = async (batchId: number, add: [string, number][], watermark?: number, abort = false) => {
      const store = await provider.open(OP, batchId - 1, FP);
      await index.begin(store, batchId, load);
      for (const [id, expiry] of add) {
        expect(keys.has(id)).toBe(false);
        expect(keys.add(id, expiry)).toBeGreaterThanOrEqual(0);
        expect(keys.add(id, expiry)).toBe(-1);
        log.put(store, id, expiry);
      }
      if (watermark !== undefined) {
        const model = new Set<string>();
        for await (const { key, value } of store.scan('')) if (expiryIn(value) <= watermark) model.add(String(key));
        expect(index.evict(watermark)).toBe(model.size);
        await log.evict(store, watermark);
      }
      if (abort) store.abort();
      else await store.commit(batchId);
    };
    const all = (...ids: string[]) => ids.every((id) => keys.has(id));

    await batch(0, [
      ['a', 10],
      ['b', 20],
    ]);
    expect(loads).toBe(1); // the empty first version
    await batch(1, [['c', 30]], 10);
    expect([index.size, all('b', 'c'), keys.has('a')]).toEqual([2, true, false]);
    // Aborted: the retry of batch 2 sees version 1 again (the aborted changes are undone, no reload).
    await batch(
      2,
      [
        ['d', 5],
        ['e', 50],
      ],
      20,
      true,
    );
    await batch(2, [['x', 40]]);
    expect([index.size, all('b', 'c', 'x'), keys.has('d'), keys.has('e')]).toEqual([3, true, false, false]);
    expect(loads).toBe(1);
    // Committed, then retried against version 2 (the table commit failed): version 2's keys.
    await batch(3, [['y', 35]], 40);
    expect([index.size, keys.has('x'), keys.has('b')]).toEqual([0, false, false]);
    await batch(3, [['z', 60]]);
    expect([index.size, all('b', 'c', 'x', 'z'), keys.has('y')]).toEqual([4, true, false]);
    expect(loads).toBe(1);
    // A replay of an older batch: reloaded from the store as of that version.
    await batch(1, [['c', 30]], 10);
    expect(loads).toBe(2);
    expect([index.size, all('b', 'c')]).toEqual([2, true]);
    // A new index over the same state (a restart) loads it.
    const restarted = new DedupKeyIndex();
    const store = await provider.open(OP, 1, FP);
    await restarted.begin(store, 2, load);
    expect([restarted.size, on(restarted).has('b'), on(restarted).has('c')]).toEqual([2, true, true]);
    // Loaded keys evict by their stored expiry.
    expect(restarted.evict(25)).toBe(1);
    expect([restarted.size, on(restarted).has('b'), on(restarted).has('c')]).toEqual([1, false, true]);
    store.abort();
  });

  it('a batch that failed while loading reloads on the next one', async () => {
    const provider = new MemoryStateStoreProvider();
    const setup = await provider.open(OP, -1, FP);
    setup.put('k', expiryValue(1));
    await setup.commit(0);
    const index = new DedupKeyIndex();
    const store = await provider.open(OP, 0, FP);
    await expect(
      index.begin(store, 1, async (_store, add) => {
        add(enc.encode('partial'), 0, 7, 1);
        throw new Error('read failed');
      }),
    ).rejects.toThrow('read failed');
    await index.begin(store, 1, stored);
    expect([index.size, on(index).has('k'), on(index).has('partial')]).toEqual([1, true, false]);
    store.abort();
  });

  it('holds exactly the keys of a Map over many random batches: growth, tombstones, compaction, eviction, undo', async () => {
    const provider = new MemoryStateStoreProvider();
    const index = new DedupKeyIndex();
    const keys = on(index);
    let seed = 7;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    // Keys of many lengths (and a long one), reused across batches so that evicted keys come back.
    const key = () => `k${Math.floor(rand() * 60_000)}${'#'.repeat(Math.floor(rand() * 3) * 40)}`;
    // models[v + 1]: the keys (→ expiry) of committed version v; watermarks[v + 1]: its last eviction.
    const models: Map<string, number>[] = [new Map()];
    const watermarks: number[] = [0];
    let committed = -1;
    let evictions = 0;
    for (let round = 0; round < 40; round++) {
      // Usually the next batch; sometimes the last committed one again (its table commit failed).
      const batchId = committed >= 0 && rand() < 0.15 ? committed : committed + 1;
      const model = models[batchId]!;
      const store = await provider.open(OP, batchId - 1, FP);
      await index.begin(store, batchId, stored);
      expect(index.size).toBe(model.size);
      for (const id of [...model.keys()].slice(0, 50)) expect(keys.has(id)).toBe(true);
      const next = new Map(model);
      // Expiries ahead of the watermark, jittered so that evictions take some keys of a batch.
      const watermark = watermarks[batchId]! + Math.floor(rand() * 3) * 1_000;
      for (let i = 0; i < 3_000; i++) {
        const id = key();
        const expiry = watermark + Math.floor(rand() * 4_000);
        expect(keys.add(id, expiry) >= 0).toBe(!next.has(id));
        if (!next.has(id)) {
          next.set(id, expiry);
          log.put(store, id, expiry);
        }
      }
      let expired = 0;
      for (const [id, expiry] of next) {
        if (expiry <= watermark) {
          next.delete(id);
          expired++;
        }
      }
      expect(index.evict(watermark)).toBe(expired);
      evictions += expired;
      await log.evict(store, watermark);
      expect(index.size).toBe(next.size);
      // One batch in four fails before its state commit: the next begin undoes its changes.
      if (rand() < 0.25) store.abort();
      else {
        await store.commit(batchId);
        models.length = batchId + 1;
        models.push(next);
        watermarks.length = batchId + 1;
        watermarks.push(watermark);
        committed = batchId;
      }
    }
    expect(evictions).toBeGreaterThan(10_000);
    const model = models[committed + 1]!;
    const final = await provider.open(OP, await provider.latestVersion(OP), FP);
    const fresh = new DedupKeyIndex();
    await fresh.begin(final, 1_000, stored);
    final.abort();
    expect(fresh.size).toBe(model.size);
    for (const id of model.keys()) expect(on(fresh).has(id)).toBe(true);
  });
});
