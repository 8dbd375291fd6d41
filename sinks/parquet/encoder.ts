// encodeRows: the Parquet encoding shared by the Delta and Iceberg writers. Rows (plain JS objects)
// in, one Parquet file's bytes and per-leaf column statistics out; pure, no I/O. encodeRowsAsync is
// the same with the parquet-wasm half in a worker thread (encode-pool.ts).
import type { StructType } from '../schema.js';
import { rowsToArrow } from './arrow-table.js';
import { defaultEncodePool, type ParquetEncodePool } from './encode-pool.js';
import { type ParquetWriteOptions, resolveParquetWriteOptions } from './options.js';
import { arrowToParquet } from './parquet-writer.js';
import type { ColumnStats } from './stats.js';

export interface EncodedParquet {
  /** The complete Parquet file. */
  bytes: Uint8Array;
  /** Number of rows in the file (= rows.length). */
  numRecords: number;
  /** Statistics of the first `statsColumns` leaf columns, in schema order (see ColumnStats). */
  stats: ColumnStats[];
}

/**
 * Encodes `rows` as one Parquet file with the physical layout of `schema`.
 *
 * Each row is an object whose properties are the top-level columns; values follow the accepted JS
 * inputs listed in values.ts (undefined and null are null; properties not in the schema are
 * ignored). Logical types map to Parquet as Spark/Delta expect: byte/short → INT32 INT(8/16),
 * long → INT64, date → INT32 DATE, timestamp → INT64 TIMESTAMP(MICROS, isAdjustedToUTC=true),
 * decimal(p,s) → DECIMAL(p,s), string → BYTE_ARRAY STRING, arrays/maps → LIST/MAP groups.
 *
 * Throws ParquetEncodeError: INVALID_DATA (a value does not fit; context names `column` and `row`),
 * UNSUPPORTED_TYPE (e.g. timestamp_ntz), INVALID_SCHEMA, INVALID_OPTION, BATCH_TOO_LARGE; and
 * ParquetWriterError (internal) if parquet-wasm fails. Nothing is returned partially.
 */
export function encodeRows(
  schema: StructType,
  rows: readonly Record<string, unknown>[],
  options?: ParquetWriteOptions,
): EncodedParquet {
  const resolved = resolveParquetWriteOptions(options);
  const { table, stats, dictionaryColumns } = rowsToArrow(schema, rows, resolved);
  const bytes = arrowToParquet(table, resolved, dictionaryColumns);
  return { bytes, numRecords: rows.length, stats };
}

/**
 * encodeRows with the Parquet write (Arrow IPC → parquet-wasm, ~80 % of the time) in a worker of
 * `pool`; building the Arrow columns and statistics (rowsToArrow) stays on the calling thread. The
 * bytes are identical to encodeRows'. With `pool` null it is encodeRows on the calling thread.
 * Default pool: defaultEncodePool() (LAKESTREAM_PARQUET_WORKERS=0 turns it off).
 *
 * Rejects with encodeRows' errors, plus ParquetWorkerError (code WORKER_EXITED, retryable) when the
 * worker died while writing.
 */
export async function encodeRowsAsync(
  schema: StructType,
  rows: readonly Record<string, unknown>[],
  options?: ParquetWriteOptions,
  pool: ParquetEncodePool | null = defaultEncodePool(),
): Promise<EncodedParquet> {
  if (pool === null) return encodeRows(schema, rows, options);
  const resolved = resolveParquetWriteOptions(options);
  const { table, stats, dictionaryColumns } = rowsToArrow(schema, rows, resolved);
  const bytes = await pool.writeTable(table, resolved, dictionaryColumns);
  return { bytes, numRecords: rows.length, stats };
}
