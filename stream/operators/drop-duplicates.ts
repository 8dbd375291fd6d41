// dropDuplicates(keys) and dropDuplicatesWithinWatermark(keys) on the state store, with Spark's
// eviction rules (SPARK-42931 for the within-watermark variant), driven by an index of the keys
// bucketed by expiry, so eviction is a range scan of few buckets instead of a full scan of the store.
// Operators that evict keep only that index in the store and the keys themselves in memory
// (dedup-key-index.ts); dropDuplicates without eviction keeps one store record per key.

import { isWellFormed, toWellFormed } from '../../common/strings.js';
import type { ColumnBatch } from '../../sinks/parquet/column-batch.js';
import { decodeKey, encodeKey, encodeKeyAfter, type KeyPart, prefixEnd } from '../../state/codec.js';
import { byteString } from '../../state/layout.js';
import { StateCorruptError, StreamArgumentError, UnsupportedOperationError } from '../errors.js';
import {
  type BatchContext,
  type OperatorSpec,
  operatorBase,
  type PlanContext,
  type StreamOperator,
} from '../operator.js';
import type { StateEntry, StateStore } from '../state-store.js';
import { eventTimeMs } from '../time.js';
import type { Row, RowGroup } from '../types.js';
import { type AddKey, DedupKeyIndex } from './dedup-key-index.js';
import { columnEventTimeMs } from './with-watermark.js';

// Key layout without eviction: ['k', ...values] → '' (one per remembered key). With eviction: the
// ['e', …] buckets described below, only.
const EMPTY = new Uint8Array(0);

function keyPart(value: unknown): KeyPart {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return Number.isNaN(value) ? 'NaN' : value;
  if (value instanceof Date) return value.getTime();
  if (value instanceof Uint8Array) return value;
  return JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
}

function checkKeys(kind: string, keys: readonly string[], context: PlanContext): void {
  if (keys.length === 0) throw new StreamArgumentError(`${kind} needs at least one key column`, { option: kind });
  if (context.aggregated && context.outputMode !== 'append') {
    throw new UnsupportedOperationError(
      `${kind} after an aggregation is not supported in ${context.outputMode} mode (stateful operators cannot be chained in update or complete mode)`,
      { operator: kind },
    );
  }
  if (context.schema) {
    const names = new Set(context.schema.fields.map((f) => f.name));
    for (const key of keys) {
      if (!names.has(key)) {
        throw new StreamArgumentError(
          `${kind}: key column '${key}' is not in the input (columns: ${[...names].join(', ')})`,
          { option: kind, column: key },
        );
      }
    }
  }
}

// ---- The eviction index, bucketed by expiry ---------------------------------------------------------
//
// Key layout: ['e', bucketStart] → the packed (expiry, key) entries of the keys whose expiry lies in
//             [bucketStart, bucketStart + width) when written (the eviction index). Every remembered
//             key is in exactly one entry, so the buckets are the operator's whole state.
// Bucket value: byte 0 = BUCKET_FORMAT, then per entry: float64 expiry (8 bytes big-endian), varint
// length, the key's encoding: encodeKey(key values), the main key's bytes after TAG_K. Entries are
// unordered.
//
// Width: the watermark delay / 60, in whole seconds, between 1 s and 1 min (10 s for a 10-minute
// delay): about 60 buckets per delay span, so a bucket is written about once per batch that adds to it
// and read back once, when the watermark passes it. The width only groups entries: every bucket key is
// <= the expiry of every entry in it (bucketStart <= expiry), and eviction reads each entry's own
// expiry, so eviction is exact per key for any width (also for buckets written with another width,
// e.g. before the watermark delay was changed). Hence the width is not part of the state fingerprint.
//
// Eviction at watermark W: every bucket with start <= W (a range scan of the index) is read; its
// entries with expiry <= W are evicted (the key forgotten) and the bucket is deleted, or rewritten
// with its remaining entries when it straddles W. Buckets with start > W hold no evictable entry.

const TAG_E = encodeKey(['e']);
const TAG_K = encodeKey(['k']);
/**
 * A main key of a single string part that is ASCII without NUL, as its byte string: TAG_K, the string
 * tag, the characters, the terminator (exactly byteString(encodeKeyAfter(TAG_K, [part])), see
 * state/codec.ts). An ASCII string is its own UTF-8, so the store takes it as a StateKey as is.
 */
const ASCII_KEY_PREFIX = byteString(encodeKey(['k', ''])).slice(0, -1);
const ASCII_KEY_SUFFIX = '\x00';
/** The type tag of a string key part (its encoding: the tag, the UTF-8 with NUL escaped, a NUL). */
const STRING_TAG = encodeKey([''])[0]!;

/** True when `part` is ASCII without NUL (its encoding is the tag, its characters and a NUL). */
function isPlainAscii(part: string): boolean {
  for (let i = 0; i < part.length; i++) {
    const c = part.charCodeAt(i);
    if (c === 0 || c >= 0x80) return false;
  }
  return true;
}

/** The byte string of encodeKeyAfter(TAG_K, [part]) when `part` is ASCII without NUL, else undefined. */
export function asciiMainKey(part: string): string | undefined {
  return isPlainAscii(part) ? ASCII_KEY_PREFIX + part + ASCII_KEY_SUFFIX : undefined;
}

// ---- Keys of the in-memory index --------------------------------------------------------------------
// A key (its values) is its encoding, encodeKey(values) — exactly what a bucket entry stores — written
// into a scratch buffer: a single string part as the string tag, its UTF-8 and a NUL (the encoding of
// a string without NUL characters); any other key through encodeKey. Keys are therefore as distinct as
// their encodings (strings as their UTF-8, where lone surrogates become U+FFFD).

let keyScratch = new Uint8Array(256);

function reserveKey(length: number): Uint8Array {
  if (length > keyScratch.length) keyScratch = new Uint8Array(Math.max(length, keyScratch.length * 2));
  return keyScratch;
}

/** Writes encodeKey(parts) into the key scratch buffer; returns its length. */
function writeRowKey(parts: readonly KeyPart[]): number {
  const only = parts[0];
  if (parts.length === 1 && typeof only === 'string' && isPlainAscii(only)) {
    const out = reserveKey(only.length + 2);
    out[0] = STRING_TAG;
    for (let i = 0; i < only.length; i++) out[i + 1] = only.charCodeAt(i);
    out[only.length + 1] = 0;
    return only.length + 2;
  }
  const encoded = encodeKey(parts);
  reserveKey(encoded.length).set(encoded);
  return encoded.length;
}

/** Key column types whose values a ColumnBatch gives back as the row path holds them. */
const COLUMN_KEY_TYPES = new Set(['string', 'long', 'integer', 'short', 'byte', 'double', 'boolean']);
const utf8 = new TextDecoder();

/**
 * writeRowKey for row `i`'s values in `columns` of `batch` (types of COLUMN_KEY_TYPES), as the row
 * path holds them: strings (a single one straight from its bytes), numbers or bigints, booleans,
 * nulls. `parts` is scratch space of the columns' length.
 */
function writeColumnKey(batch: ColumnBatch, columns: readonly number[], i: number, parts: KeyPart[]): number {
  for (let k = 0; k < columns.length; k++) {
    const c = columns[k]!;
    if (!batch.isValid(c, i)) {
      parts[k] = null;
      continue;
    }
    const type = batch.typeOf(c);
    if (type === 'string') {
      const bytes = batch.utf8Bytes(c);
      const start = batch.utf8Start(c, i);
      const end = batch.utf8Start(c, i + 1);
      if (columns.length === 1) {
        // Valid UTF-8 without NUL bytes is encoded as it is.
        const out = reserveKey(end - start + 2);
        out[0] = STRING_TAG;
        let at = 1;
        let nul = false;
        for (let j = start; j < end; j++) {
          const byte = bytes[j]!;
          if (byte === 0) nul = true;
          out[at++] = byte;
        }
        out[at++] = 0;
        if (!nul) return at;
      }
      parts[k] = utf8.decode(bytes.subarray(start, end));
    } else if (type === 'boolean') parts[k] = batch.numberAt(c, i) === 1;
    else parts[k] = batch.numberAt(c, i);
  }
  return writeRowKey(parts);
}

/** A main key: its encoded bytes, or (ASCII keys) their byte string. */
type MainKey = Uint8Array | string;
const BUCKET_FORMAT = 1;
const MIN_BUCKET_MS = 1_000;
const MAX_BUCKET_MS = 60_000;

/** The bucket width of an operator whose watermark delay is `delayMs`; see above. */
export function bucketWidthMs(delayMs: number): number {
  const width = Math.floor(delayMs / 60 / 1_000) * 1_000;
  return Math.min(MAX_BUCKET_MS, Math.max(MIN_BUCKET_MS, Number.isFinite(width) ? width : MIN_BUCKET_MS));
}

/** The start of the bucket of `expiry`: a multiple of `width`, never above `expiry`. */
function bucketStartOf(expiry: number, width: number): number {
  const start = expiry - (((expiry % width) + width) % width);
  return Number.isFinite(start) && start <= expiry ? start : expiry;
}

/** Entries added to one bucket by the current batch. */
interface BucketAdds {
  /** The keys' entries in the DedupKeyIndex. */
  entries: number[];
  expiries: number[];
  /** Packed size of the entries. */
  bytes: number;
}

function varintLength(n: number): number {
  let length = 1;
  while (n >= 0x80) {
    n >>>= 7;
    length++;
  }
  return length;
}

function entrySize(length: number): number {
  return 8 + varintLength(length) + length;
}

/** Appends the entries of `adds` (their keys from `index`) to `out` from `at`; returns the end offset. */
function writeEntries(out: Uint8Array, at: number, adds: BucketAdds, view: DataView, index: DedupKeyIndex): number {
  const { entries, expiries } = adds;
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i]!;
    view.setFloat64(at, expiries[i]!);
    at += 8;
    let length = index.lengthOf(entry);
    while (length >= 0x80) {
      out[at++] = (length & 0x7f) | 0x80;
      length >>>= 7;
    }
    out[at++] = length;
    at = index.copyTo(entry, out, at);
  }
  return at;
}

function corruptBucket(key: Uint8Array, why: string): never {
  throw new StateCorruptError(`an eviction index bucket of dropDuplicates state is malformed: ${why}`, {
    key: Buffer.from(key).toString('hex'),
  });
}

/**
 * Calls `visit(expiry, start, end)` for each entry of a stored bucket (the key bytes are
 * value[start, end)).
 */
function forEachEntry(
  key: Uint8Array,
  value: Uint8Array,
  visit: (expiry: number, entryStart: number, start: number, end: number) => void,
): void {
  if (value.length === 0 || value[0] !== BUCKET_FORMAT) corruptBucket(key, `unknown format ${value[0]}`);
  const view = new DataView(value.buffer, value.byteOffset, value.length);
  let at = 1;
  while (at < value.length) {
    const entryStart = at;
    if (at + 9 > value.length) corruptBucket(key, `truncated at byte ${at}`);
    const expiry = view.getFloat64(at);
    at += 8;
    let length = 0;
    let shift = 0;
    for (;;) {
      if (at >= value.length || shift > 28) corruptBucket(key, `bad length at byte ${at}`);
      const byte = value[at++]!;
      length |= (byte & 0x7f) << shift;
      if (byte < 0x80) break;
      shift += 7;
    }
    if (at + length > value.length) corruptBucket(key, `truncated at byte ${at}`);
    visit(expiry, entryStart, at, at + length);
    at += length;
  }
}

/** Adds every key in the eviction index of the version `store` reads. */
async function loadIndexedKeys(store: StateStore, add: AddKey): Promise<void> {
  for await (const { key, value } of store.range(TAG_E, prefixEnd(TAG_E))) {
    forEachEntry(key, value, (_expiry, _entryStart, start, end) => add(value, start, end));
  }
}

/**
 * Evicts the entries with expiry <= watermarkMs of one bucket (its stored value, if any, plus the
 * entries the batch adds to it), forgetting their keys; writes the remaining entries or deletes the
 * bucket. Returns the number of evicted keys.
 */
function evictBucket(
  store: StateStore,
  index: DedupKeyIndex,
  bucketKey: Uint8Array,
  stored: Uint8Array | undefined,
  adds: BucketAdds | undefined,
  watermarkMs: number,
): number {
  let removed = 0;
  let storedRemoved = 0;
  // Kept stored entries as [start, end) ranges of `stored`.
  const kept: number[] = [];
  let keptBytes = 0;
  if (stored !== undefined) {
    forEachEntry(bucketKey, stored, (expiry, entryStart, start, end) => {
      if (expiry <= watermarkMs) {
        index.remove(stored, start, end);
        storedRemoved++;
      } else {
        // Adjacent kept entries are one range, copied at once.
        if (kept.length > 0 && kept[kept.length - 1] === entryStart) kept[kept.length - 1] = end;
        else kept.push(entryStart, end);
        keptBytes += end - entryStart;
      }
    });
  }
  let remaining: BucketAdds | undefined;
  if (adds !== undefined) {
    remaining = { entries: [], expiries: [], bytes: 0 };
    for (let i = 0; i < adds.entries.length; i++) {
      const entry = adds.entries[i]!;
      const expiry = adds.expiries[i]!;
      if (expiry <= watermarkMs) {
        index.removeEntry(entry);
        removed++;
      } else {
        remaining.entries.push(entry);
        remaining.expiries.push(expiry);
        remaining.bytes += entrySize(index.lengthOf(entry));
      }
    }
  }
  const addedBytes = remaining?.bytes ?? 0;
  removed += storedRemoved;
  if (keptBytes + addedBytes === 0) {
    if (stored !== undefined) store.delete(bucketKey);
    return removed;
  }
  // Unchanged: nothing evicted from the stored entries and nothing added.
  if (stored !== undefined && storedRemoved === 0 && addedBytes === 0) return removed;
  const out = new Uint8Array(1 + keptBytes + addedBytes);
  out[0] = BUCKET_FORMAT;
  let at = 1;
  for (let i = 0; i < kept.length; i += 2) {
    out.set(stored!.subarray(kept[i]!, kept[i + 1]!), at);
    at += kept[i + 1]! - kept[i]!;
  }
  if (remaining !== undefined) writeEntries(out, at, remaining, new DataView(out.buffer), index);
  store.put(bucketKey, out);
  return removed;
}

/**
 * Writes the batch's index entries (`added`, by bucket start) and, when `watermarkMs` is given, evicts
 * every key with expiry <= watermarkMs (stored ones and those the batch added). Returns the number of
 * evicted keys.
 */
async function updateIndex(
  store: StateStore,
  index: DedupKeyIndex,
  added: Map<number, BucketAdds>,
  watermarkMs: number | undefined,
): Promise<number> {
  let removed = 0;
  if (watermarkMs !== undefined) {
    // Every bucket that may hold an entry with expiry <= watermark: start <= watermark.
    const upTo = prefixEnd(encodeKey(['e', watermarkMs]));
    const buckets: StateEntry[] = [];
    for await (const entry of store.range(TAG_E, upTo)) buckets.push(entry);
    for (const { key, value } of buckets) {
      const parts = decodeKey(key);
      const start = parts[1];
      if (parts.length !== 2 || parts[0] !== 'e' || typeof start !== 'number') corruptBucket(key, 'bad key');
      const adds = added.get(start);
      if (adds !== undefined) added.delete(start);
      removed += evictBucket(store, index, key, value, adds, watermarkMs);
    }
    for (const [start, adds] of added) {
      if (start > watermarkMs) continue;
      added.delete(start);
      removed += evictBucket(store, index, encodeKey(['e', start]), undefined, adds, watermarkMs);
    }
  }
  if (added.size === 0) return removed;
  // Buckets above the watermark: append the batch's entries (one read and one write per bucket).
  const starts = [...added.keys()];
  const keys = starts.map((start) => encodeKey(['e', start]));
  const stored = await store.getMany(keys);
  for (let b = 0; b < starts.length; b++) {
    const adds = added.get(starts[b]!)!;
    const before = stored[b];
    const prefix = before === undefined ? 1 : before.length;
    const out = new Uint8Array(prefix + adds.bytes);
    if (before === undefined) out[0] = BUCKET_FORMAT;
    else {
      if (before.length === 0 || before[0] !== BUCKET_FORMAT) corruptBucket(keys[b]!, `unknown format ${before[0]}`);
      out.set(before, 0);
    }
    writeEntries(out, prefix, adds, new DataView(out.buffer), index);
    store.put(keys[b]!, out);
  }
  return removed;
}

function dedupOperator(
  kind: 'dropDuplicates' | 'dropDuplicatesWithinWatermark',
  keys: readonly string[],
  context: PlanContext,
): StreamOperator {
  checkKeys(kind, keys, context);
  const watermark = context.watermark;
  let expiryOf: ((row: Row) => number | undefined) | undefined;
  if (kind === 'dropDuplicatesWithinWatermark') {
    if (!watermark) {
      throw new UnsupportedOperationError(
        'dropDuplicatesWithinWatermark needs a watermark: call withWatermark(column, delay) before it',
        { operator: kind },
      );
    }
    // Spark: expiresAt = event time of the first row + delay; evicted once watermark >= expiresAt.
    expiryOf = (row) => {
      const t = eventTimeMs(row[watermark.column]);
      return t === undefined ? undefined : t + watermark.delayMs;
    };
  } else if (watermark && keys.includes(watermark.column)) {
    // Event time is part of the key: a key can never recur once its event time is below the watermark.
    expiryOf = (row) => eventTimeMs(row[watermark.column]);
  }
  const base = operatorBase(kind, context, keys.join(','));
  if (expiryOf === undefined) {
    return {
      ...base,
      state: { operator: kind, keys: keys.join(','), eviction: 'none' },
      process: (groups, ctx) => dedupByStore(keys, groups, ctx),
    };
  }
  const width = bucketWidthMs(watermark?.delayMs ?? 0);
  const index = new DedupKeyIndex();
  // Columns: within the watermark, on a timestamp event-time column and keys of types whose row-path
  // values the columns give back exactly (not timestamps or dates: their key is the text as given).
  const typeOf = (name: string) => context.schema?.fields.find((f) => f.name === name)?.type;
  const takesColumns =
    kind === 'dropDuplicatesWithinWatermark' &&
    typeOf(watermark!.column) === 'timestamp' &&
    keys.every((k) => COLUMN_KEY_TYPES.has(typeOf(k) as string));
  return {
    ...base,
    takesColumns,
    state: {
      operator: kind,
      keys: keys.join(','),
      // The …InIndex layouts keep the keys only in the eviction index (earlier layouts also kept one
      // record per key and are refused as incompatible state).
      eviction: kind === 'dropDuplicates' ? 'eventTimeInKeyIndex' : 'expiresAtIndex',
    },
    async process(groups, ctx) {
      const store = ctx.state!;
      await index.begin(store, ctx.batchId, loadIndexedKeys);
      const parts = new Array<KeyPart>(keys.length);
      // The batch's index entries by bucket start, written once per bucket after the rows.
      const added = new Map<number, BucketAdds>();
      let dropped = 0;
      let inserted = 0;
      /**
       * Whether the row whose key is in keyScratch[0, length) is kept: a new key, remembered until
       * `expiry`. A key the index holds (version N−1's, or added earlier in this batch) is a duplicate;
       * a row without event time (`expiry` undefined) is a dead letter and does not claim its key.
       */
      const admit = (length: number, expiry: number | undefined, partition: string, rowOf: () => Row): boolean => {
        const entry = index.add(keyScratch, 0, length);
        if (entry < 0) {
          dropped++;
          return false;
        }
        if (expiry === undefined) {
          index.removeEntry(entry);
          ctx.deadLetter({
            partition,
            reason: `event-time column '${watermark!.column}' is null or not a timestamp`,
            row: rowOf(),
          });
          return false;
        }
        inserted++;
        const start = bucketStartOf(expiry, width);
        let adds = added.get(start);
        if (adds === undefined) {
          adds = { entries: [], expiries: [], bytes: 0 };
          added.set(start, adds);
        }
        adds.entries.push(entry);
        adds.expiries.push(expiry);
        adds.bytes += entrySize(index.lengthOf(entry));
        return true;
      };
      for (const group of groups) {
        const columns = group.columns;
        if (columns !== undefined) {
          const { batch } = columns;
          const keyColumns = keys.map((k) => batch.indexOf(k));
          const t = batch.indexOf(watermark!.column);
          const keep = new Uint8Array(batch.length);
          for (let i = 0; i < batch.length; i++) {
            const length = writeColumnKey(batch, keyColumns, i, parts);
            const time = columnEventTimeMs(batch, t, i);
            const expiry = time === undefined ? undefined : time + watermark!.delayMs;
            if (admit(length, expiry, group.partition, () => columns.rowAt(i))) keep[i] = 1;
          }
          columns.retain(keep);
        }
        const kept: Row[] = [];
        for (const row of group.rows) {
          for (let k = 0; k < keys.length; k++) parts[k] = keyPart(row[keys[k]!]);
          if (admit(writeRowKey(parts), expiryOf(row), group.partition, () => row)) kept.push(row);
        }
        group.rows = kept;
      }
      ctx.metrics.custom.numDuplicatesDropped = (ctx.metrics.custom.numDuplicatesDropped ?? 0) + dropped;
      const evictAt = ctx.watermarkMs > 0 ? ctx.watermarkMs : undefined;
      const evicted = await updateIndex(store, index, added, evictAt);
      if (evictAt !== undefined) {
        ctx.metrics.custom.numKeysEvicted = (ctx.metrics.custom.numKeysEvicted ?? 0) + evicted;
      }
      // The store holds buckets; the state's rows as Spark counts them are the keys.
      ctx.metrics.stateRows = { total: index.size, updated: inserted, removed: evicted };
      return groups;
    },
  };
}

/** dropDuplicates without eviction: one store record per remembered key, looked up per batch. */
async function dedupByStore(keys: readonly string[], groups: RowGroup[], ctx: BatchContext): Promise<RowGroup[]> {
  const store = ctx.state!;
  let count = 0;
  for (const group of groups) count += group.rows.length;
  // The main key of every row: TAG_K + the encoded key values, encoded once per row (a single
  // ASCII string part straight to its byte string).
  const encoded = new Array<MainKey>(count);
  const parts = new Array<KeyPart>(keys.length);
  let n = 0;
  for (const group of groups) {
    for (const row of group.rows) {
      for (let k = 0; k < keys.length; k++) parts[k] = keyPart(row[keys[k]!]);
      const only = parts[0];
      encoded[n++] =
        (keys.length === 1 && typeof only === 'string' ? asciiMainKey(only) : undefined) ??
        encodeKeyAfter(TAG_K, parts);
    }
  }
  const existing = count > 0 ? await store.getMany(encoded) : [];
  // Keys seen earlier in this batch: a single primitive key part stands for itself (exactly as
  // distinct as its encoding: strings as their UTF-8, where lone surrogates become U+FFFD), other
  // keys by their encoded bytes, in a set of their own.
  const seenParts = new Set<unknown>();
  const seenBytes = new Set<string>();
  const single = keys.length === 1 ? keys[0]! : undefined;
  let i = 0;
  let dropped = 0;
  for (const group of groups) {
    const kept: Row[] = [];
    for (const row of group.rows) {
      const at = i++;
      const key = encoded[at]!;
      let part: unknown = single === undefined ? undefined : keyPart(row[single]);
      const seen: Set<unknown> = part === undefined || part instanceof Uint8Array ? seenBytes : seenParts;
      if (seen === seenBytes) part = typeof key === 'string' ? key : byteString(key);
      else if (typeof part === 'string' && !isWellFormed(part)) part = toWellFormed(part);
      if (existing[at] !== undefined || seen.has(part)) {
        dropped++;
        continue;
      }
      seen.add(part);
      store.put(key, EMPTY);
      kept.push(row);
    }
    group.rows = kept;
  }
  ctx.metrics.custom.numDuplicatesDropped = (ctx.metrics.custom.numDuplicatesDropped ?? 0) + dropped;
  return groups;
}

/**
 * Drops rows whose `keys` were seen before (Spark's dropDuplicates). Without a watermark, or with a
 * watermark whose column is not among the keys, state grows forever (as in Spark); with the event
 * time column among the keys, keys older than the watermark are evicted.
 */
export function dropDuplicates(keys: readonly string[]): OperatorSpec {
  return { kind: 'dropDuplicates', plan: (context) => dedupOperator('dropDuplicates', keys, context) };
}

/**
 * Drops rows whose `keys` were seen within the watermark delay (Spark 3.5's
 * dropDuplicatesWithinWatermark): a key is remembered until the watermark passes its first event
 * time + delay. Needs a withWatermark upstream.
 */
export function dropDuplicatesWithinWatermark(keys: readonly string[]): OperatorSpec {
  return {
    kind: 'dropDuplicatesWithinWatermark',
    plan: (context) => dedupOperator('dropDuplicatesWithinWatermark', keys, context),
  };
}
