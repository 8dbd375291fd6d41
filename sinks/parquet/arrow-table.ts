// Rows → one Arrow table (a single record batch) built column by column from typed arrays, plus
// the column statistics gathered in the same pass. No Arrow JS builders: see performance.md §2.4.
import { makeData, RecordBatch, Schema, Struct, Table } from 'apache-arrow';
import type { StructType } from '../schema.js';
import { createColumns } from './columns/create.js';
import { dictionaryColumns } from './dictionary.js';
import { describeJsType, ParquetEncodeError } from './errors.js';
import { type ParquetWriteOptions, resolveParquetWriteOptions } from './options.js';
import { type ColumnStats, StatsPlan } from './stats.js';

/** Rows per block: small enough that a block's row objects stay in L2 across all its columns. */
const BLOCK_ROWS = 2048;

export interface ArrowColumns {
  table: Table;
  stats: ColumnStats[];
  /** Top-level columns to dictionary-encode under `dictionary: 'auto'` (pass to arrowToParquet). */
  dictionaryColumns: string[];
}

/**
 * Builds the Arrow table for `rows` under `schema` (the first half of encodeRows), with statistics
 * of the first `options.statsColumns` leaves and, under `dictionary: 'auto'`, the columns to
 * dictionary-encode. Of the options it uses `fieldIds`, `statsColumns` and `dictionary`.
 * Throws ParquetEncodeError (INVALID_DATA naming column and row, UNSUPPORTED_TYPE, INVALID_SCHEMA).
 */
export function rowsToArrow(
  schema: StructType,
  rows: readonly Record<string, unknown>[],
  options?: ParquetWriteOptions,
): ArrowColumns {
  const resolved = resolveParquetWriteOptions(options);
  const plan = new StatsPlan(resolved.statsColumns);
  const columns = createColumns(schema, resolved.fieldIds, plan);
  const n = rows.length;
  for (let i = 0; i < n; i++) {
    const row = rows[i];
    if (typeof row !== 'object' || row === null || Array.isArray(row)) {
      const jsType = describeJsType(row);
      throw new ParquetEncodeError(`row ${i}: expected an object, got ${jsType}`, {
        code: 'INVALID_DATA',
        context: { row: i, jsType },
      });
    }
  }
  // Block by block, so all columns of a block are built while its row objects are in cache.
  for (const c of columns) c.builder.begin(n);
  for (let start = 0; start < n; start += BLOCK_ROWS) {
    const end = Math.min(n, start + BLOCK_ROWS);
    for (const c of columns) c.builder.append(rows, c.name, undefined, start, end);
  }
  const children = columns.map((c) => c.builder.finish());
  const fields = columns.map((c) => c.field);
  const data = makeData({ type: new Struct(fields), length: n, nullCount: 0, children });
  const table = new Table([new RecordBatch(new Schema(fields), data)]);
  const dictionary = resolved.dictionary === 'auto' ? dictionaryColumns(schema, rows) : [];
  return { table, stats: plan.results(), dictionaryColumns: dictionary };
}
