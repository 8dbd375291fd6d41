// Scan to Arrow: the rows of a snapshot (projected, pruned, skipped and filtered as scan.ts does)
// as one Apache Arrow table per data file, typed by the table schema (timestamps as UTC µs).
import type { ObjectStore } from '../../storage/object-store.js';
import { type ArrowColumns, rowsToArrow } from '../parquet/index.js';
import { planScan, type ScanOptions, scan } from './scan.js';
import type { DeltaSnapshot } from './snapshot.js';

/** One data file's matching rows as an Arrow table (schema: the requested columns, in order). */
export interface ArrowScanBatch {
  path: string;
  table: ArrowColumns['table'];
}

/**
 * Streams the scan as Arrow tables, one per data file that has matching rows. Same options, errors
 * and file skipping as `scan`; partition columns are materialised as typed Arrow columns.
 */
export async function* scanArrow(
  store: ObjectStore,
  snapshot: DeltaSnapshot,
  options: ScanOptions = {},
): AsyncGenerator<ArrowScanBatch> {
  const { schema } = planScan(snapshot, options);
  for await (const batch of scan(store, snapshot, options)) {
    if (batch.rows.length === 0) continue;
    yield { path: batch.file.path, table: rowsToArrow(schema, batch.rows, { statsColumns: 0 }).table };
  }
}
