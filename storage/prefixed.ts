// A view of an ObjectStore under a key prefix (a "subfolder"): keys are relative to the prefix.

import { ObjectNotFoundError } from './errors.js';
import { validateKey, validatePrefix } from './key.js';
import type { ByteRange, ListOptions, ObjectMeta, ObjectStore } from './object-store.js';

/** Keys of this store are `prefix + key` in `inner`; listing strips the prefix again. */
export class PrefixedObjectStore implements ObjectStore {
  constructor(
    readonly inner: ObjectStore,
    /** A folder prefix ending in '/', e.g. 'sources/0/'. */
    readonly prefix: string,
  ) {
    if (!prefix.endsWith('/') || prefix.startsWith('/')) {
      throw new TypeError(`PrefixedObjectStore prefix must end with '/' and not start with '/': ${prefix}`);
    }
  }

  get location(): string {
    return `${this.inner.location}/${this.prefix.slice(0, -1)}`;
  }

  /** Validates `key` against this view, and renames not-found errors to the relative key. */
  private async call<T>(key: string, run: (innerKey: string) => Promise<T>): Promise<T> {
    validateKey(key, this.location);
    try {
      return await run(this.prefix + key);
    } catch (error) {
      if (error instanceof ObjectNotFoundError) throw new ObjectNotFoundError(this.location, key, error);
      throw error;
    }
  }

  get(key: string, range?: ByteRange): Promise<Uint8Array> {
    return this.call(key, (k) => this.inner.get(k, range));
  }

  async head(key: string): Promise<ObjectMeta> {
    const meta = await this.call(key, (k) => this.inner.head(k));
    return { ...meta, key };
  }

  put(key: string, data: Uint8Array): Promise<void> {
    return this.call(key, (k) => this.inner.put(k, data));
  }

  putIfAbsent(key: string, data: Uint8Array): Promise<'created' | 'exists'> {
    return this.call(key, (k) => this.inner.putIfAbsent(k, data));
  }

  delete(key: string): Promise<void> {
    return this.call(key, (k) => this.inner.delete(k));
  }

  async *list(options: ListOptions = {}): AsyncIterable<ObjectMeta> {
    if (options.prefix) validatePrefix(options.prefix, this.location);
    const inner: ListOptions = { prefix: this.prefix + (options.prefix ?? '') };
    if (options.startAfter !== undefined) inner.startAfter = this.prefix + options.startAfter;
    for await (const meta of this.inner.list(inner)) yield { ...meta, key: meta.key.slice(this.prefix.length) };
  }
}
