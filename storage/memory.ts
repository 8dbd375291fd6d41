// MemoryObjectStore: the ObjectStore seam held in a Map, for tests and examples (one process only).
// Bytes are copied on put and get, so callers can never mutate stored objects.

import { ObjectNotFoundError } from './errors.js';
import { compareKeys, validateKey, validatePrefix, validateRange } from './key.js';
import type { ByteRange, ListOptions, ObjectMeta, ObjectStore } from './object-store.js';

interface StoredObject {
  readonly data: Uint8Array;
  readonly lastModified: number;
}

export interface MemoryObjectStoreOptions {
  /** Clock for `lastModified`, milliseconds since the epoch. Default `Date.now`. */
  now?: () => number;
}

let unnamedStores = 0;

/**
 * An in-process ObjectStore. putIfAbsent is atomic within the process (the check and the insert run
 * in one synchronous step). Unlike a filesystem, `a` and `a/b` can both hold objects, as on S3.
 * `list()` takes a snapshot of the matching keys when iteration starts.
 */
export class MemoryObjectStore implements ObjectStore {
  readonly location: string;
  private readonly objects = new Map<string, StoredObject>();
  private readonly now: () => number;

  constructor(name?: string, options: MemoryObjectStoreOptions = {}) {
    unnamedStores += name === undefined ? 1 : 0;
    this.location = `memory://${name ?? `store-${unnamedStores}`}`;
    this.now = options.now ?? Date.now;
  }

  async get(key: string, range?: ByteRange): Promise<Uint8Array> {
    validateKey(key, this.location);
    if (range !== undefined) validateRange(range, this.location, key);
    const object = this.require(key);
    const size = object.data.byteLength;
    const start = Math.min(range?.offset ?? 0, size);
    const end = range?.length === undefined ? size : Math.min(size, start + range.length);
    return object.data.slice(start, end);
  }

  async head(key: string): Promise<ObjectMeta> {
    validateKey(key, this.location);
    const object = this.require(key);
    return { key, size: object.data.byteLength, lastModified: object.lastModified };
  }

  async put(key: string, data: Uint8Array): Promise<void> {
    validateKey(key, this.location);
    this.objects.set(key, { data: copy(data), lastModified: this.now() });
  }

  async putIfAbsent(key: string, data: Uint8Array): Promise<'created' | 'exists'> {
    validateKey(key, this.location);
    if (this.objects.has(key)) return 'exists';
    this.objects.set(key, { data: copy(data), lastModified: this.now() });
    return 'created';
  }

  async *list(options: ListOptions = {}): AsyncIterable<ObjectMeta> {
    const prefix = options.prefix ?? '';
    const { startAfter } = options;
    validatePrefix(prefix, this.location);
    const matches: ObjectMeta[] = [];
    for (const [key, object] of this.objects) {
      if (!key.startsWith(prefix)) continue;
      if (startAfter !== undefined && compareKeys(key, startAfter) <= 0) continue;
      matches.push({ key, size: object.data.byteLength, lastModified: object.lastModified });
    }
    matches.sort((a, b) => compareKeys(a.key, b.key));
    yield* matches;
  }

  async delete(key: string): Promise<void> {
    validateKey(key, this.location);
    this.objects.delete(key);
  }

  /** Number of stored objects (for tests). */
  get size(): number {
    return this.objects.size;
  }

  private require(key: string): StoredObject {
    const object = this.objects.get(key);
    if (object === undefined) throw new ObjectNotFoundError(this.location, key);
    return object;
  }
}

/** A plain Uint8Array copy (also of Buffers, whose slice() would share memory). */
function copy(data: Uint8Array): Uint8Array {
  return new Uint8Array(data);
}
