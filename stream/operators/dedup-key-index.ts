// DedupKeyIndex: the keys an evicting dropDuplicates operator remembers, each with its expiry, held in
// memory for the state version its batch reads. The durable copy of the keys is the operator's key log
// in the state store (drop-duplicates.ts: each batch appends its new keys, never rewrites older
// records), so the store holds no per-key record and eviction reads nothing back: it is a sweep of
// the expiries here. Spark's default state store keeps its state in memory the same way; the keys in
// memory are those of the watermark window, which the watermark delay bounds.
//
// Keys are byte strings (their encodeKey encoding, exactly what a log entry stores), held in one byte
// arena and found through an open-addressing hash table of typed arrays: no JS string or object per
// key, so a lookup costs a hash of the bytes and a probe or two.
//
// The index follows the store's versions: a batch records what it adds and removes as pending changes
// for version N. The next batch finds out from its store's version (and whether the batch's store was
// committed) what happened to them:
// - the batch's store committed version N, and the next store reads N: the changes stand;
// - the next store reads N−1 (the batch failed or its state was not committed, or it is retried): the
//   changes are undone;
// - any other version (a replay of an older batch, or the first batch): the keys are reloaded from
//   the store's key log, which the versioned store gives exactly as of that version.
// This relies on the operator's contract: a planned operator serves one query run, whose engine is
// the only writer of its state (the checkpoint lease), and commits batch N as version N.

import { keepShape } from '../../common/shapes.js';
import type { StateStore } from '../state-store.js';

/** Adds the key bytes[start, end), remembered until `expiry`, to the index being loaded. */
export type AddKey = (bytes: Uint8Array, start: number, end: number, expiry: number) => void;

/** addTagged's answer for bytes with a NUL. */
export const NOT_PLAIN = -2;
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const EMPTY = 0;
const TOMBSTONE = -1;
/** Compaction of the arena once dead bytes pass this share of it (and this size). */
const COMPACT_MIN_BYTES = 1 << 20;

/**
 * FNV-1a over bytes[start, end), then murmur3's finalizer: FNV's multiplications carry low bits up but
 * never down, so without it the low bits (the table index) would depend on few input bits.
 */
function hashOf(bytes: Uint8Array, start: number, end: number): number {
  let h = FNV_OFFSET;
  for (let i = start; i < end; i++) h = Math.imul(h ^ bytes[i]!, FNV_PRIME);
  return finish(h);
}

/** murmur3's finalizer. */
function finish(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) | 0;
}

function grown<T extends Int32Array | Uint8Array | Float64Array>(array: T, size: number): T {
  const next = new (array.constructor as new (n: number) => T)(size);
  next.set(array);
  return next;
}

/** `list` (of which `count` are used) with room for one more: itself, or a copy of twice its size. */
function withRoom<T extends Int32Array>(list: T, count: number): T {
  return count < list.length ? list : grown(list, list.length * 2);
}

export class DedupKeyIndex {
  /** Key bytes of every entry (live or dead), entry e at starts[e] for lengths[e] bytes. */
  private arena = new Uint8Array(1 << 16);
  private arenaEnd = 0;
  private deadBytes = 0;
  private starts = new Int32Array(1024);
  private lengths = new Int32Array(1024);
  private hashes = new Int32Array(1024);
  private expiries = new Float64Array(1024);
  private alive = new Uint8Array(1024);
  /** At most the least expiry of a live entry (+Infinity: none). */
  private minExpiry = Number.POSITIVE_INFINITY;
  private entries = 0;
  private live = 0;
  /**
   * Hash table of a power-of-two number of slots, at most half full: slot i is slots[2i] (EMPTY,
   * TOMBSTONE, or entry + 1) and slots[2i + 1] (the entry's hash), so a probe reads one cache line.
   */
  private slots = new Int32Array(2 * 2048);
  private tombstones = 0;
  /** The committed version the keys equal without `pending`; undefined until first loaded. */
  private version: number | undefined;
  /**
   * The changes of the batch being recorded (begin), kept to undo them: its store (undefined: none
   * pending), the version it commits, and the entries it added and removed. Fields of the index, not
   * an object per batch: an object that dies with each batch loses its hidden class, and the optimized
   * code that checked it (common/shapes.ts).
   */
  private pendingStore: StateStore | undefined;
  private pendingVersion = -1;
  private added = new Int32Array(1024);
  private addedCount = 0;
  private removed = new Int32Array(1024);
  private removedCount = 0;

  /** Keys remembered (including the current batch's changes). */
  get size(): number {
    return this.live;
  }

  /**
   * Brings the index to the version `store` reads and starts recording the changes of `batchId`.
   * `load` adds the keys of the store's version when they must be read again.
   */
  async begin(
    store: StateStore,
    batchId: number,
    load: (store: StateStore, add: AddKey) => Promise<void>,
  ): Promise<void> {
    const prior = this.pendingStore;
    this.pendingStore = undefined;
    if (prior?.committed && store.version === this.pendingVersion) this.version = this.pendingVersion;
    else if (prior !== undefined && store.version === this.version) this.undo();
    else if (store.version !== this.version) {
      this.version = undefined;
      this.clear();
      await load(store, (bytes, start, end, expiry) => {
        this.insert(bytes, start, end, expiry);
      });
      this.version = store.version;
    }
    this.addedCount = 0;
    this.removedCount = 0;
    if (this.deadBytes > COMPACT_MIN_BYTES && this.deadBytes * 2 > this.arenaEnd) this.compact();
    this.pendingStore = store;
    this.pendingVersion = batchId;
  }

  /** Whether the key bytes[start, end) is remembered. */
  has(bytes: Uint8Array, start: number, end: number): boolean {
    return this.find(bytes, start, end, hashOf(bytes, start, end)) >= 0;
  }

  /**
   * Remembers the key bytes[start, end) until `expiry` unless it is remembered: its entry, or -1 when
   * it was remembered.
   */
  add(bytes: Uint8Array, start: number, end: number, expiry: number): number {
    const entry = this.insert(bytes, start, end, expiry);
    if (entry >= 0) this.pushAdded(entry);
    return entry;
  }

  /**
   * add() of the key whose encoding is the byte `tag`, bytes[start, end) and a NUL byte (a string key
   * part: its tag, its UTF-8, its terminator), without writing that encoding anywhere first.
   * NOT_PLAIN (nothing added) when the bytes hold a NUL: their encoding escapes it, so the caller
   * encodes the key itself.
   */
  addTagged(tag: number, bytes: Uint8Array, start: number, end: number, expiry: number): number {
    const entry = this.insert(bytes, start, end, expiry, tag);
    if (entry >= 0) this.pushAdded(entry);
    return entry;
  }

  /**
   * Forgets every key whose expiry is <= `watermark` (one pass over the entries' expiries, skipped
   * while no expiry can be that low); returns how many.
   */
  evict(watermark: number): number {
    if (!(watermark >= this.minExpiry)) return 0;
    const { alive, expiries } = this;
    let removed = 0;
    let least = Number.POSITIVE_INFINITY;
    for (let e = 0; e < this.entries; e++) {
      if (alive[e] !== 1) continue;
      const expiry = expiries[e]!;
      if (expiry <= watermark) {
        this.removeAt(this.slotOfEntry(e));
        removed++;
      } else if (expiry < least) least = expiry;
    }
    this.minExpiry = least;
    return removed;
  }

  /** The entries the current batch added (some may have been removed since); valid until the next change. */
  addedEntries(): Int32Array {
    return this.added.subarray(0, this.addedCount);
  }

  /** Records `entry` as added by the batch (in an array kept from batch to batch, grown by doubling). */
  private pushAdded(entry: number): void {
    this.added = withRoom(this.added, this.addedCount);
    this.added[this.addedCount++] = entry;
  }

  /** Whether the key of `entry` is remembered. */
  isLive(entry: number): boolean {
    return this.alive[entry] === 1;
  }

  /** The expiry of the key of `entry`. */
  expiryOf(entry: number): number {
    return this.expiries[entry]!;
  }

  /** The byte length of the key of `entry`. */
  lengthOf(entry: number): number {
    return this.lengths[entry]!;
  }

  /** Copies the key bytes of `entry` into `out` at `at`; returns the end offset. */
  copyTo(entry: number, out: Uint8Array, at: number): number {
    const start = this.starts[entry]!;
    const length = this.lengths[entry]!;
    const arena = this.arena;
    for (let i = 0; i < length; i++) out[at + i] = arena[start + i]!;
    return at + length;
  }

  private removeAt(slot: number): void {
    const entry = this.slots[2 * slot]! - 1;
    this.slots[2 * slot] = TOMBSTONE;
    this.tombstones++;
    this.alive[entry] = 0;
    this.live--;
    this.deadBytes += this.lengths[entry]!;
    if (this.pendingStore !== undefined) {
      this.removed = withRoom(this.removed, this.removedCount);
      this.removed[this.removedCount++] = entry;
    }
  }

  /** The slot of key bytes[start, end) with hash `h`, or -1. */
  private find(bytes: Uint8Array, start: number, end: number, h: number): number {
    const { slots, lengths, starts, arena } = this;
    const mask = (slots.length >> 1) - 1;
    const length = end - start;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const v = slots[2 * i]!;
      if (v === EMPTY) return -1;
      if (v === TOMBSTONE || slots[2 * i + 1] !== h) continue;
      const e = v - 1;
      if (lengths[e] !== length) continue;
      const s = starts[e]!;
      let same = true;
      for (let j = 0; j < length; j++) {
        if (arena[s + j] !== bytes[start + j]) {
          same = false;
          break;
        }
      }
      if (same) return i;
    }
  }

  /** The slot holding `entry` (which must be in the table). */
  private slotOfEntry(entry: number): number {
    const mask = (this.slots.length >> 1) - 1;
    for (let i = this.hashes[entry]! & mask; ; i = (i + 1) & mask) {
      if (this.slots[2 * i] === entry + 1) return i;
    }
  }

  /**
   * Adds the key bytes[start, end) — with `tag` >= 0, the key `tag`, those bytes (none NUL) and a NUL —
   * as a new entry unless present: the entry, -1, or NOT_PLAIN (a NUL among tagged bytes). One probe
   * finds it or its slot.
   */
  private insert(bytes: Uint8Array, start: number, end: number, expiry: number, tag = -1): number {
    if ((this.live + this.tombstones + 1) * 4 > this.slots.length) this.rehash();
    const tagged = tag >= 0;
    let h: number;
    if (tagged) {
      // hashOf of the encoding, read from its parts.
      h = Math.imul(FNV_OFFSET ^ tag, FNV_PRIME);
      for (let i = start; i < end; i++) {
        const byte = bytes[i]!;
        if (byte === 0) return NOT_PLAIN;
        h = Math.imul(h ^ byte, FNV_PRIME);
      }
      h = finish(Math.imul(h, FNV_PRIME));
    } else h = hashOf(bytes, start, end);
    const inner = tagged ? 1 : 0;
    const length = end - start + 2 * inner;
    const { slots, lengths, starts } = this;
    const mask = (slots.length >> 1) - 1;
    let free = -1;
    let slot = h & mask;
    for (; ; slot = (slot + 1) & mask) {
      const v = slots[2 * slot]!;
      if (v === EMPTY) break;
      if (v === TOMBSTONE) {
        if (free < 0) free = slot;
        continue;
      }
      if (slots[2 * slot + 1] !== h) continue;
      const e = v - 1;
      if (lengths[e] !== length) continue;
      // A tagged key is compared on its inner bytes only: with equal hashes and equal bytes between,
      // the first and last bytes are equal too (each FNV step is a bijection of the state, and so is
      // the finalizer, so equal hashes of equal-length keys that differ in one end byte are impossible).
      const s = starts[e]! + inner;
      let same = true;
      for (let j = 0; j < end - start; j++) {
        if (this.arena[s + j] !== bytes[start + j]) {
          same = false;
          break;
        }
      }
      if (same) return -1;
    }
    if (free >= 0) {
      slot = free;
      this.tombstones--;
    }
    if (this.arenaEnd + length > this.arena.length) {
      this.arena = grown(this.arena, Math.max(this.arena.length * 2, this.arenaEnd + length));
    }
    const arena = this.arena;
    const at = this.arenaEnd;
    if (tagged) {
      arena[at] = tag;
      arena[at + length - 1] = 0;
    }
    for (let i = 0; i < end - start; i++) arena[at + inner + i] = bytes[start + i]!;
    this.arenaEnd += length;
    const entry = this.entries++;
    if (entry >= this.starts.length) {
      const size = this.starts.length * 2;
      this.starts = grown(this.starts, size);
      this.lengths = grown(this.lengths, size);
      this.hashes = grown(this.hashes, size);
      this.expiries = grown(this.expiries, size);
      this.alive = grown(this.alive, size);
    }
    this.starts[entry] = at;
    this.lengths[entry] = length;
    this.hashes[entry] = h;
    this.expiries[entry] = expiry;
    if (expiry < this.minExpiry) this.minExpiry = expiry;
    this.alive[entry] = 1;
    slots[2 * slot] = entry + 1;
    slots[2 * slot + 1] = h;
    this.live++;
    return entry;
  }

  /** Puts `entry` (not in the table) into a free slot, growing or cleaning the table first if needed. */
  private place(entry: number): void {
    if ((this.live + this.tombstones + 1) * 4 > this.slots.length) this.rehash();
    const mask = (this.slots.length >> 1) - 1;
    const h = this.hashes[entry]!;
    let i = h & mask;
    while (this.slots[2 * i]! > 0) i = (i + 1) & mask;
    if (this.slots[2 * i] === TOMBSTONE) this.tombstones--;
    this.slots[2 * i] = entry + 1;
    this.slots[2 * i + 1] = h;
    this.live++;
  }

  /** A fresh table without tombstones, doubled when the live keys need it. */
  private rehash(): void {
    let size = this.slots.length >> 1;
    while ((this.live + 1) * 4 > size) size *= 2;
    const old = this.slots;
    const slots = new Int32Array(2 * size);
    const mask = size - 1;
    for (let k = 0; k < old.length; k += 2) {
      const v = old[k]!;
      if (v <= 0) continue;
      const h = old[k + 1]!;
      let i = h & mask;
      while (slots[2 * i] !== EMPTY) i = (i + 1) & mask;
      slots[2 * i] = v;
      slots[2 * i + 1] = h;
    }
    this.slots = slots;
    this.tombstones = 0;
  }

  private undo(): void {
    // A key added and removed by the batch was absent before it: re-adding the removed entries first
    // and taking out the added ones after leaves it absent. Entries are never reused while pending.
    for (let i = 0; i < this.removedCount; i++) {
      const entry = this.removed[i]!;
      this.alive[entry] = 1;
      this.deadBytes -= this.lengths[entry]!;
      this.place(entry);
      if (this.expiries[entry]! < this.minExpiry) this.minExpiry = this.expiries[entry]!;
    }
    for (let i = 0; i < this.addedCount; i++) {
      const entry = this.added[i]!;
      if (this.alive[entry] !== 1) continue;
      const slot = this.slotOfEntry(entry);
      this.slots[2 * slot] = TOMBSTONE;
      this.tombstones++;
      this.alive[entry] = 0;
      this.live--;
      this.deadBytes += this.lengths[entry]!;
    }
  }

  /** Drops every key. */
  private clear(): void {
    this.arenaEnd = 0;
    this.deadBytes = 0;
    this.entries = 0;
    this.live = 0;
    this.tombstones = 0;
    this.slots = new Int32Array(2 * 2048);
    this.minExpiry = Number.POSITIVE_INFINITY;
  }

  /**
   * Moves the live entries to the front of the arena (entries renumbered); only with no changes
   * pending. In place, keeping the arena's and the table's sizes: the next batches, about as large,
   * then fill them without growing them again (fresh arrays are external memory, which brings V8's
   * full collections sooner).
   */
  private compact(): void {
    const arena = this.arena;
    let at = 0;
    let next = 0;
    for (let e = 0; e < this.entries; e++) {
      if (this.alive[e] !== 1) continue;
      const start = this.starts[e]!;
      const length = this.lengths[e]!;
      // Entries lie in the arena in entry order, so the live bytes only move down (at <= start).
      arena.copyWithin(at, start, start + length);
      this.starts[next] = at;
      this.lengths[next] = length;
      this.hashes[next] = this.hashes[e]!;
      this.expiries[next] = this.expiries[e]!;
      this.alive[next] = 1;
      at += length;
      next++;
    }
    this.arenaEnd = at;
    this.deadBytes = 0;
    this.entries = next;
    this.live = 0;
    this.tombstones = 0;
    this.slots.fill(EMPTY);
    for (let e = 0; e < next; e++) this.place(e);
  }
}

keepShape(new DedupKeyIndex());
