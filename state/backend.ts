// The StateBackend seam: the ordered, atomically-batched byte key/value store under the versioned
// state layout (state/layout.ts). Implemented by LevelDB (leveldb-store.ts) and a sorted map (memory-store.ts).

/** One write of an atomic batch. */
export type BackendOp = { type: 'put'; key: Uint8Array; value: Uint8Array } | { type: 'del'; key: Uint8Array };

/**
 * An ordered map of byte keys to byte values, owned by one operator's state.
 *
 * Contract:
 * - `getMany` returns one entry per key (undefined when absent), reading the last completed write.
 * - `iterate(gte, lt)` yields existing entries with `gte <= key < lt` in ascending unsigned byte order;
 *   writes completing during an iteration may or may not be seen.
 * - `write(ops)` applies all ops atomically and in order (a later op on the same key wins): after a
 *   crash either every op is durable or none is. Faults throw a retryable StateBackendError STATE_IO.
 *   `ops` may be generated lazily while it is iterated (it can be iterated more than once).
 * - Returned arrays are owned by the caller. Arrays passed to `write` may be views into one larger
 *   buffer and are not changed after the call: a backend keeping them should copy them.
 */
export interface StateBackend {
  readonly location: string;
  getMany(keys: readonly Uint8Array[]): Promise<(Uint8Array | undefined)[]>;
  iterate(gte: Uint8Array, lt: Uint8Array): AsyncIterable<[Uint8Array, Uint8Array]>;
  write(ops: Iterable<BackendOp>): Promise<void>;
  close(): Promise<void>;
}
