// DedupKeyIndex: the keys an evicting dropDuplicates operator remembers, held in memory for the state
// version its batch reads. The durable copy of the keys is the operator's eviction index in the state
// store (each key is in exactly one bucket entry until it is evicted), so the store holds no per-key
// record: a batch writes a few bucket values instead of one record per new key and one deletion per
// evicted key. Spark's default state store keeps its state in memory the same way; the keys in memory
// are those of the watermark window, which the watermark delay bounds.
//
// The index follows the store's versions: a batch records what it adds and removes as pending changes
// for version N. The next batch finds out from the version of its store what happened to them:
// - store version N: version N was committed, the changes stand;
// - store version N−1 (the batch failed or its state was not committed, and is being retried): the
//   changes are undone;
// - any other version (a replay of an older batch, or the first batch): the keys are reloaded from
//   the store's eviction index, which the versioned store gives exactly as of that version.
// This relies on the operator's contract: a planned operator serves one query run, whose engine is
// the only writer of its state (the checkpoint lease), and commits batch N as version N.

import type { StateStore } from '../state-store.js';

interface Pending {
  version: number;
  added: string[];
  removed: string[];
}

export class DedupKeyIndex {
  private readonly keys = new Set<string>();
  /** The committed version `keys` equals without `pending`; undefined until first loaded. */
  private version: number | undefined;
  private pending: Pending | undefined;

  /** Keys remembered (including the current batch's changes). */
  get size(): number {
    return this.keys.size;
  }

  /**
   * Brings the index to the version `store` reads and starts recording the changes of `batchId`.
   * `load` lists the ids of the store's version when they must be read again.
   */
  async begin(store: StateStore, batchId: number, load: (store: StateStore) => AsyncIterable<string>): Promise<void> {
    const pending = this.pending;
    this.pending = undefined;
    if (pending !== undefined && store.version === pending.version) this.version = pending.version;
    else if (pending !== undefined && store.version === this.version) this.undo(pending);
    else if (store.version !== this.version) {
      this.version = undefined;
      this.keys.clear();
      for await (const id of load(store)) this.keys.add(id);
      this.version = store.version;
    }
    this.pending = { version: batchId, added: [], removed: [] };
  }

  has(id: string): boolean {
    return this.keys.has(id);
  }

  /** Remembers a key that is not remembered. */
  add(id: string): void {
    this.keys.add(id);
    this.pending!.added.push(id);
  }

  /** Forgets a remembered key. */
  remove(id: string): void {
    if (this.keys.delete(id)) this.pending!.removed.push(id);
  }

  private undo(pending: Pending): void {
    // A key added and removed by the batch was absent before it: re-adding the removed keys first and
    // deleting the added ones after leaves it absent; a key can be removed only once per batch.
    for (const id of pending.removed) this.keys.add(id);
    for (const id of pending.added) this.keys.delete(id);
  }
}
