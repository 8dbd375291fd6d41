// Which columns get Parquet dictionary encoding when `dictionary: 'auto'`: top-level primitive
// columns whose leading values repeat enough for a dictionary to pay (decided from a sample).
import type { StructType } from '../schema.js';

/** Leading rows sampled per column. */
const SAMPLE_ROWS = 1024;
/** A column gets a dictionary when its sample has at most this fraction of distinct values. */
const MAX_DISTINCT_RATIO = 0.25;

/**
 * Names of the top-level columns of `schema` that should be dictionary-encoded.
 *
 * Dictionary encoding shrinks low-cardinality columns (enums, codes, dates) and lets readers
 * filter on the dictionary, but on high-cardinality columns (ids, payloads, timestamps) arrow-rs
 * builds a dictionary up to its 1 MiB page limit and then falls back to plain encoding: time spent
 * for a larger file (bench/parquet-encode.ts). Booleans, binary and nested columns never get one
 * (nested leaves cannot be addressed through parquet-wasm's per-column settings).
 */
export function dictionaryColumns(schema: StructType, rows: readonly Record<string, unknown>[]): string[] {
  const sampled = Math.min(rows.length, SAMPLE_ROWS);
  const chosen: string[] = [];
  for (const field of schema.fields) {
    if (typeof field.type !== 'string' || field.type === 'boolean' || field.type === 'binary') continue;
    const seen = new Set<unknown>();
    let values = 0;
    for (let i = 0; i < sampled; i++) {
      const v = rows[i]?.[field.name];
      if (v == null) continue;
      values++;
      seen.add(v instanceof Date ? v.getTime() : v);
    }
    if (values > 0 && seen.size <= values * MAX_DISTINCT_RATIO) chosen.push(field.name);
  }
  return chosen;
}
