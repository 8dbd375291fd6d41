// The StateStore seam: versioned key/value state of stateful operators (dedup, windows), consumed by
// the engine. Implementations: state/leveldb-store.ts (durable), state/memory-store.ts (tests/examples).

/** A state key: raw bytes, or a string stored as its UTF-8 bytes. Keys order by unsigned bytes. */
export type StateKey = Uint8Array | string;

/** One key/value pair of a scan, in ascending key byte order. */
export interface StateEntry {
  key: Uint8Array;
  value: Uint8Array;
}

/** The version of a store with no commit yet: `open(op, EMPTY_STATE_VERSION)` reads empty state. */
export const EMPTY_STATE_VERSION = -1;

/**
 * What the state was written by: named parts, e.g. `{ operator: 'dropDuplicates', keySchema:
 * 'eventId:string', valueSchema: 'v1' }`. Stored with the first commit; a later open with any part
 * added, removed or changed is refused with STATE_INCOMPATIBLE naming every changed part.
 */
export type StateFingerprint = Readonly<Record<string, string>>;

/** Spark-shaped metrics (`stateOperators[]` of StreamingQueryProgress). */
export interface StateStoreMetrics {
  /** Rows in the state. Base version's count before commit; the new version's count after it. */
  numRowsTotal: number;
  /** Keys put in this version (counted once per key). Final after commit. */
  numRowsUpdated: number;
  /** Existing keys deleted in this version. Final after commit. */
  numRowsRemoved: number;
  /** Duration of commit() in ms (0 before commit), measured with the provider's clock. */
  commitTimeMs: number;
}

/**
 * One operator's state as of `version`, plus uncommitted changes made through it.
 *
 * Contract (every implementation runs test/contracts/state-store.ts):
 * - Reads (get, getMany, scan, range) see the state of `version` overlaid with this store's own
 *   uncommitted put/delete calls, in call order (the last call for a key wins).
 * - `scan` and `range` yield entries in ascending unsigned byte order of the keys.
 * - Nothing is visible to other stores or durable until `commit(newVersion)`, which is atomic: after a
 *   crash either all of the version's changes and its version marker are present, or none are.
 * - `commit(newVersion)` requires `newVersion > version` (else STATE_VERSION_ORDER). If versions above
 *   `version` exist (a replay), they are discarded in the same atomic step and replaced by the new one.
 * - After commit or abort the store is finished: any further call throws STATE_STORE_CLOSED.
 *   `abort()` is idempotent and never throws.
 * - Storage faults throw LakestreamError with `retryable` set; after a failed commit nothing of the
 *   version is durable and the store is finished (reopen the base version to retry).
 */
export interface StateStore {
  readonly operatorId: string;
  /** The committed version this store reads from (EMPTY_STATE_VERSION for empty state). */
  readonly version: number;
  /** True once commit() succeeded (false while open, after abort, and after a failed commit). */
  readonly committed: boolean;
  get(key: StateKey): Promise<Uint8Array | undefined>;
  /** Batched get: result[i] belongs to keys[i]. One storage round trip for all misses. */
  getMany(keys: readonly StateKey[]): Promise<(Uint8Array | undefined)[]>;
  put(key: StateKey, value: Uint8Array): void;
  delete(key: StateKey): void;
  /** Entries whose key starts with `prefix`, in key order. */
  scan(prefix: StateKey): AsyncIterable<StateEntry>;
  /** Entries with `from <= key < to` (either bound optional), in key order. */
  range(from: StateKey | undefined, to: StateKey | undefined): AsyncIterable<StateEntry>;
  commit(newVersion: number): Promise<void>;
  abort(): void;
  metrics(): StateStoreMetrics;
}

/**
 * Opens versioned stores, one state per operator id.
 *
 * Contract:
 * - `open(op, v, fp)` returns a store reading exactly the state committed as version `v` (also after
 *   later versions were committed, as long as `v` is within the retained versions: the newest
 *   `minVersionsToRetain` committed versions, plus EMPTY_STATE_VERSION until the first purge).
 *   Otherwise it throws STATE_VERSION_UNAVAILABLE.
 * - A stored fingerprint differing from `fp` throws STATE_INCOMPATIBLE; nothing is changed.
 * - At most one store per operator is unfinished at a time (else STATE_STORE_IN_USE).
 * - `latestVersion(op)` is the newest committed version, EMPTY_STATE_VERSION if none.
 * - `close()` aborts unfinished stores (their changes are lost) and releases resources; idempotent.
 */
export interface StateStoreProvider {
  open(operatorId: string, version: number, fingerprint: StateFingerprint): Promise<StateStore>;
  latestVersion(operatorId: string): Promise<number>;
  close(): Promise<void>;
}
