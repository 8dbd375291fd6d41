// dropDuplicates(keys) and dropDuplicatesWithinWatermark(keys) on the state store, with Spark's
// eviction rules (SPARK-42931 for the within-watermark variant). Operators that evict keep the keys in
// memory (dedup-key-index.ts) and in the store an append-only log of them, so eviction reads no keys
// back; dropDuplicates without eviction keeps one store record per key.

import { isWellFormed, toWellFormed } from '../../common/strings.js';
import { YIELD_EVERY_ROWS, yieldToEventLoop } from '../../common/yield.js';
import type { ColumnBatch } from '../../sinks/parquet/column-batch.js';
import { encodeKey, encodeKeyAfter, type KeyPart, prefixEnd } from '../../state/codec.js';
import { byteString } from '../../state/layout.js';
import { StateCorruptError, StreamArgumentError, UnsupportedOperationError } from '../errors.js';
import {
  type BatchContext,
  type OperatorSpec,
  operatorBase,
  type PlanContext,
  type StreamOperator,
} from '../operator.js';
import type { StateStore } from '../state-store.js';
import { eventTimeMs } from '../time.js';
import type { Row, RowGroup } from '../types.js';
import { type AddKey, DedupKeyIndex } from './dedup-key-index.js';
import { columnEventTimeMs } from './with-watermark.js';

// Key layout without eviction: ['k', ...values] → '' (one per remembered key). With eviction: the
// key log described below (['e', …] records and ['w']), only.
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

// ---- The key log ------------------------------------------------------------------------------------
//
// An evicting operator keeps its keys in memory (dedup-key-index.ts, each with its expiry) and in the
// store only a log of them, append-only per batch:
//
// ['e', maxExpiry, batchId] → the packed (expiry, key) entries of keys batch `batchId` added whose
//                             expiry falls in one bucket of `width` ms; maxExpiry is the greatest
//                             expiry among them, so every key is unique and sorts by when the whole
//                             record expires.
// ['w']                     → float64: the watermark of the newest eviction.
//
// Entry value: byte 0 = LOG_FORMAT, then per entry: float64 expiry (8 bytes big-endian), varint length,
// the key's encoding: encodeKey(key values), the main key's bytes after TAG_K. Entries are unordered.
//
// A batch writes one new record per bucket its new keys fall in, and never rewrites a record: no read of
// older state, and no prior values in the version's undo blob. Eviction at watermark W forgets the keys
// with expiry <= W in memory, stores W as ['w'], and deletes the records with maxExpiry <= W (a range
// scan up to W). A record that straddles W stays until a later eviction passes its maxExpiry; loading
// the keys skips its entries with expiry <= ['w'] (as the watermark only rises, a key evicted and added
// again later has its newer entry above ['w'] and its older one at or below it).
//
// Width: the watermark delay / 60, in whole seconds, between 1 s and 1 min (10 s for a 10-minute
// delay): about 60 records per delay span and batch that adds to them, each deleted by the first
// eviction past its newest key. A batch whose keys' expiries span more than LOG_RECORDS_PER_BATCH
// widths (a backfill, a large trigger) uses a multiple of the width that gives at most that many
// records plus one: each record costs a key, a store entry and an undo entry of its own, which for
// thousands of small records per batch cost more than the keys they hold (bench/engine.ts: ~15 % of
// the engine's CPU at 1 250 records per 50 000-row batch). The keys such a record keeps past their
// expiry are fewer than one record's. The width only groups entries (records carry their own
// maxExpiry), so it is not part of the state fingerprint: records written with another width evict
// just as exactly.

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
const LOG_FORMAT = 2;
const MIN_BUCKET_MS = 1_000;
const MAX_BUCKET_MS = 60_000;
const WATERMARK_KEY = encodeKey(['w']);
/** admitKey's verdicts on a row. */
const KEPT = 0;
const DUPLICATE = 1;
const NO_TIME = 2;

/** The rows of a column group dedupColumnRows admits, and what it found so far. */
interface ColumnSlice {
  batch: ColumnBatch;
  index: DedupKeyIndex;
  /** The key columns, and the (timestamp) event-time column. */
  keyColumns: readonly number[];
  time: number;
  /** A single string key column (its bytes go to the index as they are, addTagged), else -1; its bytes. */
  stringKey: number;
  keyBytes: Uint8Array | undefined;
  delayMs: number;
  /** keep[i] = 1 for the rows kept. */
  keep: Uint8Array;
  /** Scratch for writeColumnKey. */
  parts: KeyPart[];
  /** Rows dropped as duplicates (TALLY_DROPPED) and keys added (TALLY_INSERTED). */
  tally: Float64Array;
  /** Rows without event time whose key the index does not hold: dead letters, in row order. */
  noTime: number[];
}
const TALLY_DROPPED = 0;
const TALLY_INSERTED = 1;

/**
 * Admits rows [from, to) of `slice`'s batch: a row whose key the index does not hold is kept and its
 * key remembered until its event time + delay; a held key is a duplicate; a row without event time
 * does not claim its key (a dead letter, unless its key is held: then a duplicate). A single string key
 * goes to the index straight from the column's bytes (addTagged). A synchronous function of its own,
 * called per slice of YIELD_EVERY_ROWS rows: V8 optimizes it once and keeps it, where a hot loop in the
 * operator's once-per-batch async process was compiled again whenever that function's code was dropped.
 */
function dedupColumnRows(slice: ColumnSlice, from: number, to: number): void {
  const { batch, index, keyColumns, time, stringKey, keyBytes, delayMs, keep, parts, tally } = slice;
  for (let i = from; i < to; i++) {
    const t = columnEventTimeMs(batch, time, i);
    const expiry = t === undefined ? undefined : t + delayMs;
    if (keyBytes !== undefined && expiry !== undefined && batch.isValid(stringKey, i)) {
      const end = batch.utf8Start(stringKey, i + 1);
      const entry = index.addTagged(STRING_TAG, keyBytes, batch.utf8Start(stringKey, i), end, expiry);
      if (entry >= 0) {
        tally[TALLY_INSERTED]!++;
        keep[i] = 1;
        continue;
      }
      if (entry === -1) {
        tally[TALLY_DROPPED]!++;
        continue;
      }
    }
    const verdict = admitKey(index, writeColumnKey(batch, keyColumns, i, parts), expiry, tally);
    if (verdict === KEPT) keep[i] = 1;
    else if (verdict === NO_TIME) slice.noTime.push(i);
  }
}

/**
 * Whether the row whose key is in keyScratch[0, length) is kept (KEPT): a new key, remembered until
 * `expiry`. A key the index holds (version N−1's, or added earlier in this batch) is a DUPLICATE; a
 * row without event time (`expiry` undefined) is a NO_TIME dead letter and does not claim its key.
 * Counted in `tally`.
 */
function admitKey(index: DedupKeyIndex, length: number, expiry: number | undefined, tally: Float64Array): number {
  if (expiry === undefined) {
    if (index.has(keyScratch, 0, length)) {
      tally[TALLY_DROPPED]!++;
      return DUPLICATE;
    }
    return NO_TIME;
  }
  if (index.add(keyScratch, 0, length, expiry) < 0) {
    tally[TALLY_DROPPED]!++;
    return DUPLICATE;
  }
  tally[TALLY_INSERTED]!++;
  return KEPT;
}

/** The bucket width of an operator whose watermark delay is `delayMs`; see above. */
export function bucketWidthMs(delayMs: number): number {
  const width = Math.floor(delayMs / 60 / 1_000) * 1_000;
  return Math.min(MAX_BUCKET_MS, Math.max(MIN_BUCKET_MS, Number.isFinite(width) ? width : MIN_BUCKET_MS));
}

/** Most records a batch writes, plus one (see the key log above). */
export const LOG_RECORDS_PER_BATCH = 16;

/**
 * The width a batch groups its keys by: `width`, or the least multiple of it that puts expiries from
 * `least` to `greatest` into at most LOG_RECORDS_PER_BATCH + 1 buckets.
 */
export function batchBucketWidthMs(width: number, least: number, greatest: number): number {
  const span = greatest - least;
  if (!(span > width * LOG_RECORDS_PER_BATCH) || !Number.isFinite(span)) return width;
  return Math.ceil(span / LOG_RECORDS_PER_BATCH / width) * width;
}

/** The start of the bucket of `expiry`: a multiple of `width`, never above `expiry`. */
function bucketStartOf(expiry: number, width: number): number {
  const start = expiry - (((expiry % width) + width) % width);
  return Number.isFinite(start) && start <= expiry ? start : expiry;
}

/** The live entries a batch adds to one record: entries[start, end) of the batch's grouping (bucketsOf). */
interface Bucket {
  entries: Int32Array;
  start: number;
  end: number;
  maxExpiry: number;
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

/** The record of `bucket`'s entries (their keys and expiries from `index`). */
function encodeRecord(bucket: Bucket, index: DedupKeyIndex): Uint8Array {
  const out = new Uint8Array(1 + bucket.bytes);
  const view = new DataView(out.buffer);
  out[0] = LOG_FORMAT;
  let at = 1;
  for (let k = bucket.start; k < bucket.end; k++) {
    const entry = bucket.entries[k]!;
    view.setFloat64(at, index.expiryOf(entry));
    at += 8;
    let length = index.lengthOf(entry);
    while (length >= 0x80) {
      out[at++] = (length & 0x7f) | 0x80;
      length >>>= 7;
    }
    out[at++] = length;
    at = index.copyTo(entry, out, at);
  }
  return out;
}

function corruptLog(key: Uint8Array, why: string): never {
  throw new StateCorruptError(`a key log record of dropDuplicates state is malformed: ${why}`, {
    key: Buffer.from(key).toString('hex'),
  });
}

/** Adds every key of the log the version `store` reads holds (those above its eviction watermark). */
async function loadLoggedKeys(store: StateStore, add: AddKey): Promise<void> {
  const stored = await store.get(WATERMARK_KEY);
  if (stored !== undefined && stored.length !== 8) corruptLog(WATERMARK_KEY, `watermark of ${stored.length} bytes`);
  const evicted =
    stored === undefined
      ? Number.NEGATIVE_INFINITY
      : new DataView(stored.buffer, stored.byteOffset, stored.length).getFloat64(0);
  for await (const { key, value } of store.range(TAG_E, prefixEnd(TAG_E))) {
    if (value.length === 0 || value[0] !== LOG_FORMAT) corruptLog(key, `unknown format ${value[0]}`);
    const view = new DataView(value.buffer, value.byteOffset, value.length);
    let at = 1;
    while (at < value.length) {
      if (at + 9 > value.length) corruptLog(key, `truncated at byte ${at}`);
      const expiry = view.getFloat64(at);
      at += 8;
      let length = 0;
      let shift = 0;
      for (;;) {
        if (at >= value.length || shift > 28) corruptLog(key, `bad length at byte ${at}`);
        const byte = value[at++]!;
        length |= (byte & 0x7f) << shift;
        if (byte < 0x80) break;
        shift += 7;
      }
      if (at + length > value.length) corruptLog(key, `truncated at byte ${at}`);
      if (expiry > evicted) add(value, at, at + length, expiry);
      at += length;
    }
  }
}

/** bucketsOf's scratch, kept from batch to batch: each added entry's bucket, then the entries by bucket. */
let bucketOfScratch = new Int32Array(1024);
let byBucketScratch = new Int32Array(1024);

/**
 * The batch's keys still remembered (index.addedEntries) grouped into buckets of their expiry, of
 * `width` or the wider one batchBucketWidthMs gives; the buckets' entries are views of one scratch
 * array, valid until the next call. Synchronous (see dedupColumnRows).
 */
function bucketsOf(index: DedupKeyIndex, width: number): Bucket[] {
  const added = index.addedEntries();
  let least = Number.POSITIVE_INFINITY;
  let greatest = Number.NEGATIVE_INFINITY;
  for (let k = 0; k < added.length; k++) {
    const entry = added[k]!;
    if (!index.isLive(entry)) continue;
    const expiry = index.expiryOf(entry);
    if (expiry < least) least = expiry;
    if (expiry > greatest) greatest = expiry;
  }
  const batchWidth = batchBucketWidthMs(width, least, greatest);
  if (bucketOfScratch.length < added.length) bucketOfScratch = new Int32Array(added.length * 2);
  const bucketOf = bucketOfScratch;
  const buckets: Bucket[] = [];
  const byStart = new Map<number, number>();
  // Keys mostly arrive in event-time order: the previous entry's bucket is looked up first.
  let lastStart = Number.NaN;
  let last = -1;
  let live = 0;
  for (let k = 0; k < added.length; k++) {
    const entry = added[k]!;
    if (!index.isLive(entry)) {
      bucketOf[k] = -1;
      continue;
    }
    const expiry = index.expiryOf(entry);
    const start = bucketStartOf(expiry, batchWidth);
    let b = start === lastStart ? last : (byStart.get(start) ?? -1);
    if (b < 0) {
      b = buckets.length;
      byStart.set(start, b);
      buckets.push({ entries: byBucketScratch, start: 0, end: 0, maxExpiry: expiry, bytes: 0 });
    }
    lastStart = start;
    last = b;
    bucketOf[k] = b;
    live++;
    const bucket = buckets[b]!;
    bucket.end++; // a count until the entries are placed below
    if (expiry > bucket.maxExpiry) bucket.maxExpiry = expiry;
    const length = index.lengthOf(entry);
    bucket.bytes += 8 + varintLength(length) + length;
  }
  if (byBucketScratch.length < live) byBucketScratch = new Int32Array(live * 2);
  let at = 0;
  for (const bucket of buckets) {
    bucket.entries = byBucketScratch;
    bucket.start = at;
    at += bucket.end;
    bucket.end = bucket.start;
  }
  for (let k = 0; k < added.length; k++) {
    const b = bucketOf[k]!;
    if (b < 0) continue;
    const bucket = buckets[b]!;
    byBucketScratch[bucket.end++] = added[k]!;
  }
  return buckets;
}

/**
 * After the batch's rows: when `watermarkMs` is given, evicts every key with expiry <= watermarkMs and
 * deletes the records that held only such keys; then logs the batch's keys still remembered, one record
 * per bucket. Returns the number of evicted keys.
 */
async function updateLog(
  store: StateStore,
  index: DedupKeyIndex,
  batchId: number,
  width: number,
  watermarkMs: number | undefined,
): Promise<number> {
  let removed = 0;
  if (watermarkMs !== undefined) {
    removed = index.evict(watermarkMs);
    const expired: Uint8Array[] = [];
    for await (const { key } of store.range(TAG_E, prefixEnd(encodeKey(['e', watermarkMs])))) expired.push(key);
    for (const key of expired) store.delete(key);
    const value = new Uint8Array(8);
    new DataView(value.buffer).setFloat64(0, watermarkMs);
    store.put(WATERMARK_KEY, value);
  }
  for (const bucket of bucketsOf(index, width)) {
    store.put(encodeKey(['e', bucket.maxExpiry, batchId]), encodeRecord(bucket, index));
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
      // The …Log layouts keep the keys only in the key log (earlier layouts kept expiry buckets rewritten
      // per batch, or one record per key, and are refused as incompatible state).
      eviction: kind === 'dropDuplicates' ? 'eventTimeInKeyLog' : 'expiresAtLog',
    },
    async process(groups, ctx) {
      const store = ctx.state!;
      await index.begin(store, ctx.batchId, loadLoggedKeys);
      const parts = new Array<KeyPart>(keys.length);
      const tally = new Float64Array(2);
      const lateReason = `event-time column '${watermark!.column}' is null or not a timestamp`;
      for (const group of groups) {
        const columns = group.columns;
        if (columns !== undefined) {
          const { batch } = columns;
          const keyColumns = keys.map((k) => batch.indexOf(k));
          const stringKey = keyColumns.length === 1 && batch.typeOf(keyColumns[0]!) === 'string' ? keyColumns[0]! : -1;
          const slice: ColumnSlice = {
            batch,
            index,
            keyColumns,
            time: batch.indexOf(watermark!.column),
            stringKey,
            keyBytes: stringKey >= 0 ? batch.utf8Bytes(stringKey) : undefined,
            delayMs: watermark!.delayMs,
            keep: new Uint8Array(batch.length),
            parts,
            tally,
            noTime: [],
          };
          for (let from = 0; from < batch.length; from += YIELD_EVERY_ROWS) {
            if (from > 0) await yieldToEventLoop();
            dedupColumnRows(slice, from, Math.min(batch.length, from + YIELD_EVERY_ROWS));
          }
          for (const i of slice.noTime) {
            ctx.deadLetter({ partition: group.partition, reason: lateReason, row: columns.rowAt(i) });
          }
          columns.retain(slice.keep);
        }
        const kept: Row[] = [];
        const rows = group.rows;
        for (let i = 0; i < rows.length; i++) {
          if (i > 0 && i % YIELD_EVERY_ROWS === 0) await yieldToEventLoop();
          const row = rows[i]!;
          for (let k = 0; k < keys.length; k++) parts[k] = keyPart(row[keys[k]!]);
          const verdict = admitKey(index, writeRowKey(parts), expiryOf(row), tally);
          if (verdict === KEPT) kept.push(row);
          else if (verdict === NO_TIME) ctx.deadLetter({ partition: group.partition, reason: lateReason, row });
        }
        group.rows = kept;
      }
      const dropped = tally[TALLY_DROPPED]!;
      const inserted = tally[TALLY_INSERTED]!;
      ctx.metrics.custom.numDuplicatesDropped = (ctx.metrics.custom.numDuplicatesDropped ?? 0) + dropped;
      const evictAt = ctx.watermarkMs > 0 ? ctx.watermarkMs : undefined;
      const evicted = await updateLog(store, index, ctx.batchId, width, evictAt);
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
