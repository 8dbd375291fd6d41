// StateMirror: an in-memory copy of the newest committed version of one operator's state (the `d`
// range of state/layout.ts), owned by the provider and shared by the stores it opens, so reads of the
// newest version (point reads and ranges) and the undo records of a commit need no backend read.
//
// A mirror is trusted only while it matches the stored metadata (the newest version and the random
// token written by its commit); a store that finds it stale, a failed commit, or a state grown above
// the provider's `maxCachedRows` drops it, and stores fall back to backend reads.
//
// Ranges use a lazily built ordered index: ids are grouped into buckets by their first 3 bytes (so the
// buckets are contiguous, ordered slices of the key space), and a bucket's ids are sorted only when a
// range first touches it after inserts — a range over the eviction index of an operator never sorts
// its main keys.

import type { StateBackend } from './backend.js';
import { byteString, DATA_END, DATA_START, lowerBound } from './layout.js';

/** Ids whose first 3 bytes are equal share a bucket; numbers order like the 3-byte prefixes. */
function bucketOf(id: string): number {
  const n = id.length;
  return (
    (n > 0 ? id.charCodeAt(0) + 1 : 0) * 262_144 +
    (n > 1 ? id.charCodeAt(1) + 1 : 0) * 512 +
    (n > 2 ? id.charCodeAt(2) + 1 : 0)
  );
}

interface Bucket {
  /**
   * Whether inserts are tracked in `added`. Buckets present when the index is first built start
   * untracked and get their ids from one pass over the rows when a range first touches them, so the
   * keys of a bucket no range reads (e.g. an operator's main keys) cost nothing to index.
   */
  tracked: boolean;
  /** Sorted ids; may still hold ids deleted since (check rows). */
  sorted: string[];
  /** Ids inserted since the last sort, unsorted (may hold deleted ones and repeats). */
  added: string[];
  /** Ids of the bucket present in rows. */
  live: number;
  /** Deletions since `sorted` was last compacted. */
  stale: number;
}

/** Merges two sorted arrays into a new one without repeats. */
function mergeUnique(a: readonly string[], b: readonly string[]): string[] {
  const out: string[] = [];
  let i = 0;
  let j = 0;
  let last: string | undefined;
  while (i < a.length || j < b.length) {
    const next = j >= b.length || (i < a.length && a[i]! <= b[j]!) ? a[i++]! : b[j++]!;
    if (next !== last) out.push(next);
    last = next;
  }
  return out;
}

export class StateMirror {
  /** Byte string of each user key (see byteString) → byte string of its value. Mutate via set/delete. */
  readonly rows = new Map<string, string>();
  /** The ordered index, by bucket number; undefined until the first range. */
  private buckets: Map<number, Bucket> | undefined;
  /** Bucket numbers in order; undefined when a bucket was added since. */
  private order: number[] | undefined;

  constructor(
    /** The committed version it equals. */
    public version: number,
    /** The commit token of that version (undefined for a store with no commit). */
    public token: string | undefined,
  ) {}

  get size(): number {
    return this.rows.size;
  }

  get(id: string): string | undefined {
    return this.rows.get(id);
  }

  set(id: string, value: string): void {
    const { rows } = this;
    const before = rows.size;
    rows.set(id, value);
    if (this.buckets !== undefined && rows.size !== before) {
      const bucket = this.bucket(bucketOf(id));
      bucket.live++;
      if (bucket.tracked) {
        bucket.added.push(id);
        // Keep `added` of a bucket no range reads proportional to its live ids.
        if (bucket.added.length > 2 * bucket.live + 1024) {
          bucket.added = [...new Set(bucket.added)].filter((a) => rows.has(a));
        }
      }
    }
  }

  delete(id: string): void {
    if (this.rows.delete(id) && this.buckets !== undefined) {
      const bucket = this.buckets.get(bucketOf(id))!;
      bucket.live--;
      bucket.stale++;
    }
  }

  /** Ids with `lo <= id < hi` (either bound optional) in ascending order, with their values: a snapshot. */
  entriesIn(lo: string | undefined, hi: string | undefined): { ids: string[]; values: string[] } {
    const buckets = this.buckets ?? this.index();
    this.order ??= [...buckets.keys()].sort((a, b) => a - b);
    const { order } = this;
    const { rows } = this;
    const first = lo === undefined ? 0 : bucketOf(lo);
    const last = hi === undefined ? Number.POSITIVE_INFINITY : bucketOf(hi);
    const ids: string[] = [];
    const values: string[] = [];
    let start = 0;
    while (start < order.length && order[start]! < first) start++;
    let end = start;
    while (end < order.length && order[end]! <= last) end++;
    this.track(buckets, order, start, end);
    for (let b = start; b < end; b++) {
      const sorted = this.settle(buckets.get(order[b]!)!);
      for (let i = lo === undefined ? 0 : lowerBound(sorted, lo); i < sorted.length; i++) {
        const id = sorted[i]!;
        if (hi !== undefined && id >= hi) break;
        const value = rows.get(id);
        if (value !== undefined) {
          ids.push(id);
          values.push(value);
        }
      }
    }
    return { ids, values };
  }

  /** Groups the rows into (untracked) buckets. */
  private index(): Map<number, Bucket> {
    const buckets = new Map<number, Bucket>();
    for (const id of this.rows.keys()) {
      const number = bucketOf(id);
      const bucket = buckets.get(number);
      if (bucket === undefined) buckets.set(number, { tracked: false, sorted: [], added: [], live: 1, stale: 0 });
      else bucket.live++;
    }
    this.buckets = buckets;
    this.order = undefined;
    return buckets;
  }

  /** A bucket created after the index holds only ids inserted since, so it is tracked from the start. */
  private bucket(number: number): Bucket {
    let bucket = this.buckets!.get(number);
    if (bucket === undefined) {
      bucket = { tracked: true, sorted: [], added: [], live: 0, stale: 0 };
      this.buckets!.set(number, bucket);
      this.order = undefined;
    }
    return bucket;
  }

  /** Starts tracking the buckets order[start, end): one pass over the rows collects their ids. */
  private track(buckets: Map<number, Bucket>, order: readonly number[], start: number, end: number): void {
    let untracked = 0;
    for (let b = start; b < end; b++) if (!buckets.get(order[b]!)!.tracked) untracked++;
    if (untracked === 0) return;
    const first = order[start]!;
    const last = order[end - 1]!;
    for (const id of this.rows.keys()) {
      const number = bucketOf(id);
      if (number < first || number > last) continue;
      const bucket = buckets.get(number)!;
      if (!bucket.tracked) bucket.added.push(id);
    }
    for (let b = start; b < end; b++) buckets.get(order[b]!)!.tracked = true;
  }

  /** Sorts a bucket's inserted ids into it and drops deleted ids once they are many; returns its ids. */
  private settle(bucket: Bucket): readonly string[] {
    if (bucket.added.length > 0) {
      bucket.sorted = mergeUnique(bucket.sorted, bucket.added.sort());
      bucket.added = [];
    }
    if (bucket.stale > 64 && bucket.stale * 2 > bucket.sorted.length) {
      const { rows } = this;
      bucket.sorted = bucket.sorted.filter((id) => rows.has(id));
      bucket.stale = 0;
    }
    return bucket.sorted;
  }
}

/** The provider's slot for one operator's mirror. */
export interface MirrorCell {
  mirror: StateMirror | undefined;
  /** Set when the mirror was dropped for exceeding `maxRows`; it is then rebuilt only below maxRows / 2. */
  tooLarge: boolean;
  /** Row bound of the mirror (rows of the `d` range). */
  readonly maxRows: number;
}

/** Whether a mirror should be (re)built for a newest version holding `rows` rows. */
export function shouldBuild(cell: MirrorCell, rows: number): boolean {
  return rows <= (cell.tooLarge ? Math.floor(cell.maxRows / 2) : cell.maxRows);
}

/**
 * Reads the `d` range into a new mirror of `version`. Returns undefined (and marks the cell too large)
 * when it holds more than `cell.maxRows` rows.
 */
export async function buildMirror(
  backend: StateBackend,
  cell: MirrorCell,
  version: number,
  token: string | undefined,
): Promise<StateMirror | undefined> {
  const mirror = new StateMirror(version, token);
  for await (const [key, value] of backend.iterate(DATA_START, DATA_END)) {
    mirror.set(byteString(key, 1), byteString(value));
    if (mirror.size > cell.maxRows) {
      cell.tooLarge = true;
      return undefined;
    }
  }
  cell.tooLarge = false;
  return mirror;
}
