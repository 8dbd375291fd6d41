// dropDuplicates(keys) and dropDuplicatesWithinWatermark(keys) on the state store, with Spark's
// eviction rules (SPARK-42931 for the within-watermark variant), driven by an event-time index so
// eviction is a range scan instead of a full scan of the store.

import { encodeKey, encodeKeyAfter, type KeyPart, prefixEnd, writeNumberPart } from '../../state/codec.js';
import { byteString } from '../../state/layout.js';
import { StreamArgumentError, UnsupportedOperationError } from '../errors.js';
import { type OperatorSpec, operatorBase, type PlanContext, type StreamOperator } from '../operator.js';
import type { StateStore } from '../state-store.js';
import { eventTimeMs } from '../time.js';
import type { Row } from '../types.js';

// Key layout: ['k', ...values] → expiry (8-byte float64, or empty when never evicted);
//             ['e', expiry, ...values] → '' (the eviction index).
const EMPTY = new Uint8Array(0);

function keyPart(value: unknown): KeyPart {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return Number.isNaN(value) ? 'NaN' : value;
  if (value instanceof Date) return value.getTime();
  if (value instanceof Uint8Array) return value;
  return JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
}

// ES2024 String methods (Node >= 20), not in the ES2023 lib.
type WellFormed = { isWellFormed(): boolean; toWellFormed(): string };
const isWellFormed = (text: string): boolean => (text as unknown as WellFormed).isWellFormed();
const toWellFormed = (text: string): string => (text as unknown as WellFormed).toWellFormed();

const expiryScratch = new Uint8Array(8);
const expiryView = new DataView(expiryScratch.buffer);

function encodeExpiry(ms: number): Uint8Array {
  expiryView.setFloat64(0, ms);
  return expiryScratch.slice();
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

async function evict(store: StateStore, watermarkMs: number): Promise<number> {
  let removed = 0;
  // Every index entry with expiry <= watermark: keys up to the end of the ['e', watermark] prefix.
  const upTo = prefixEnd(encodeKey(['e', watermarkMs]));
  const victims: Uint8Array[] = [];
  for await (const entry of store.range(encodeKey(['e']), upTo)) victims.push(entry.key);
  for (const key of victims) {
    store.delete(key);
    // The main key is the index key with its expiry part replaced by the 'k' tag: rebuild it.
    store.delete(mainKeyOfIndex(key));
    removed++;
  }
  return removed;
}

// Index key bytes: encodeKey(['e']) minus its terminator … we build keys as [tag, expiry, ...values],
// so the main key is encodeKey(['k']) + the bytes after the expiry part.
const TAG_E = encodeKey(['e']);
const TAG_K = encodeKey(['k']);
const EXPIRY_PART_LENGTH = 9; // FLOAT64 tag + 8 bytes

/** The index key of a main key: TAG_E + the expiry part + the key values after TAG_K. */
function indexKeyOf(mainKey: Uint8Array, expiry: number): Uint8Array {
  const values = mainKey.length - TAG_K.length;
  const out = new Uint8Array(TAG_E.length + EXPIRY_PART_LENGTH + values);
  out.set(TAG_E, 0);
  writeNumberPart(expiry, out, TAG_E.length);
  for (let from = TAG_K.length, to = TAG_E.length + EXPIRY_PART_LENGTH; from < mainKey.length; from++, to++) {
    out[to] = mainKey[from]!;
  }
  return out;
}

function mainKeyOfIndex(indexKey: Uint8Array): Uint8Array {
  const values = indexKey.subarray(TAG_E.length + EXPIRY_PART_LENGTH);
  const out = new Uint8Array(TAG_K.length + values.length);
  out.set(TAG_K, 0);
  out.set(values, TAG_K.length);
  return out;
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
  const evicting = expiryOf !== undefined;
  return {
    ...operatorBase(kind, context, keys.join(',')),
    state: {
      operator: kind,
      keys: keys.join(','),
      eviction: evicting ? (kind === 'dropDuplicates' ? 'eventTimeInKey' : 'expiresAt') : 'none',
    },
    async process(groups, ctx) {
      const store = ctx.state!;
      let count = 0;
      for (const group of groups) count += group.rows.length;
      // The main key of every row: TAG_K + the encoded key values, encoded once per row.
      const encoded = new Array<Uint8Array>(count);
      const parts = new Array<KeyPart>(keys.length);
      let n = 0;
      for (const group of groups) {
        for (const row of group.rows) {
          for (let k = 0; k < keys.length; k++) parts[k] = keyPart(row[keys[k]!]);
          encoded[n++] = encodeKeyAfter(TAG_K, parts);
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
          if (seen === seenBytes) part = byteString(key);
          else if (typeof part === 'string' && !isWellFormed(part)) part = toWellFormed(part);
          if (existing[at] !== undefined || seen.has(part)) {
            dropped++;
            continue;
          }
          seen.add(part);
          if (expiryOf) {
            const expiry = expiryOf(row);
            if (expiry === undefined) {
              ctx.deadLetter({
                partition: group.partition,
                reason: `event-time column '${watermark!.column}' is null or not a timestamp`,
                row,
              });
              continue;
            }
            store.put(key, encodeExpiry(expiry));
            store.put(indexKeyOf(key, expiry), EMPTY);
          } else store.put(key, EMPTY);
          kept.push(row);
        }
        group.rows = kept;
      }
      ctx.metrics.custom.numDuplicatesDropped = (ctx.metrics.custom.numDuplicatesDropped ?? 0) + dropped;
      if (evicting && ctx.watermarkMs > 0) {
        ctx.metrics.custom.numKeysEvicted =
          (ctx.metrics.custom.numKeysEvicted ?? 0) + (await evict(store, ctx.watermarkMs));
      }
      return groups;
    },
  };
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
