// The ObjectStore seam: the only way table-format kernels (Delta, Iceberg) and checkpoint logs do I/O.
// Implementations: local.ts (filesystem), memory.ts (tests/examples); S3 fits the same contract later.

/** Metadata of one stored object. */
export interface ObjectMeta {
  /** Key relative to the store's root, '/'-separated, no leading '/'. */
  key: string;
  /** Size in bytes. */
  size: number;
  /** Last modification time, milliseconds since the Unix epoch. */
  lastModified: number;
}

/** A byte range: `length` omitted means "to the end". */
export interface ByteRange {
  offset: number;
  length?: number;
}

export interface ListOptions {
  /** Only keys that start with this string (not necessarily a whole folder name). */
  prefix?: string;
  /** Only keys strictly greater than this one (byte-wise), e.g. the last commit file already seen. */
  startAfter?: string;
}

/**
 * A flat key → bytes store rooted at one location (a table's folder, a checkpoint folder).
 *
 * Contract (every implementation runs test/contracts/object-store.ts):
 * - Keys are relative, '/'-separated, without '.' or '..' segments; an invalid key throws
 *   `StorageError` with code `INVALID_KEY`.
 * - `get`/`head` of a missing key throw `ObjectNotFoundError` (code `OBJECT_NOT_FOUND`, not retryable).
 * - `get` with a range returns exactly the bytes in range, truncated at the end of the object; an
 *   offset past the end returns an empty array.
 * - `put` replaces atomically: readers see the old bytes or the new bytes, never a mix.
 * - **`putIfAbsent` is the commit primitive.** It creates the object only if no object with that key
 *   exists, atomically across processes and hosts that share the store, and returns `'created'`;
 *   if the key exists it changes nothing and returns `'exists'`. A reader never observes a partly
 *   written object. (Local: temp file + fsync + link(2), which fails with EEXIST; S3: PutObject with
 *   `If-None-Match: *`, where a 412 means `'exists'`.)
 * - `list` yields every object under `prefix` (recursively), sorted by key in ascending byte order,
 *   starting strictly after `startAfter`; it sees every object whose put/putIfAbsent resolved before
 *   the listing began (consistent listing).
 * - `delete` is idempotent: deleting a missing key succeeds.
 * - Transient faults (I/O errors, throttling) throw `StorageError` with `retryable: true`.
 */
export interface ObjectStore {
  /** Human-readable location of the root, for messages (e.g. "file:///data/events"). */
  readonly location: string;
  get(key: string, range?: ByteRange): Promise<Uint8Array>;
  head(key: string): Promise<ObjectMeta>;
  put(key: string, data: Uint8Array): Promise<void>;
  putIfAbsent(key: string, data: Uint8Array): Promise<'created' | 'exists'>;
  list(options?: ListOptions): AsyncIterable<ObjectMeta>;
  delete(key: string): Promise<void>;
}
