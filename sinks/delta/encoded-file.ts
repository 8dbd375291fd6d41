// Pre-encoded Delta data files: rows encoded as Parquet data files away from the transaction that
// commits them (the ingest daemon encodes in worker threads), then stored and committed exactly like
// the files DeltaTransaction.writeFiles encodes itself. The transaction (or DeltaSink) gives out a
// DeltaEncodingPlan; encodeForPlan turns rows into DeltaEncodedFiles under it, on any thread; the
// sink's prepare hands them to DeltaTransaction.addEncodedFiles, which refuses files of a stale plan.
// No I/O here, nothing of the engine but its EncodedFile type.

import type { EncodedFile, Row } from '../../stream/types.js';
import type { ColumnBatch } from '../parquet/column-batch.js';
import { defaultEncodePool } from '../parquet/encode-pool.js';
import { batchSliceArrow } from '../parquet/encode-task.js';
import { encodeRows } from '../parquet/index.js';
import type { ParquetWriteOptions } from '../parquet/options.js';
import { arrowToParquet } from '../parquet/parquet-writer.js';
import type { ColumnStats } from '../parquet/stats.js';
import type { StructType } from '../schema.js';
import type { ParquetCompression } from './file-names.js';
import { buildStats, type StatsOptions } from './stats.js';
import {
  encodeFailure,
  firstFileRows,
  groupByPartition,
  parallelFileCount,
  planFileStats,
  planWriteOptions,
  remainingFileRows,
} from './transaction.js';

/** EncodedFile.format of Delta data files (DeltaEncodedFile); DeltaSink.acceptsEncodedFiles takes it. */
export const DELTA_PARQUET = 'delta-parquet' as const;

/**
 * How to encode a Delta table's data files, as DeltaTransaction.encodingPlan resolves it from the
 * table's schema, partition columns, properties and the write's options. Plain, structured-clonable
 * data (it is posted to worker threads); treat it as read-only.
 */
export interface DeltaEncodingPlan {
  /**
   * Identifies every other field (deterministic: equal plans have equal keys). Each file carries it
   * (DeltaEncodedFile.planKey); addEncodedFiles refuses files whose key is not the plan of the
   * transaction committing them.
   */
  key: string;
  /** The table schema the rows are written with (partition columns included). */
  tableSchema: StructType;
  /** The table's partition columns, in order. */
  partitionColumns: string[];
  /** The schema of the data files: tableSchema without the partition columns. */
  dataSchema: StructType;
  /** The Parquet codec (the write's option, else delta.parquet.compression.codec, else snappy). */
  compression: ParquetCompression;
  /** Leaf columns the encoder collects statistics of (ParquetWriteOptions.statsColumns; -1: all). */
  statsColumns: number;
  /** How add.stats is built from them (delta.dataSkippingNumIndexedCols / delta.dataSkippingStatsColumns). */
  statsOptions: StatsOptions;
  /** Target size of one data file in bytes. */
  targetFileSize: number;
}

/**
 * One Parquet data file of a Delta table, encoded under a plan: everything its add action needs but
 * the path (given when it is stored). Structured-clonable (posted back from worker threads).
 */
export interface DeltaEncodedFile extends EncodedFile {
  readonly format: typeof DELTA_PARQUET;
  /** The complete Parquet file (the data columns only). */
  readonly bytes: Uint8Array;
  /** Rows in the file (= the stats' numRecords). */
  readonly numRecords: number;
  /** add.partitionValues: every partition column's serialized value, null for null (or ''). */
  readonly partitionValues: Readonly<Record<string, string | null>>;
  /** add.stats: the Spark-compatible statistics JSON of the file. */
  readonly stats: string;
  /** DeltaEncodingPlan.key of the plan it was encoded under. */
  readonly planKey: string;
}

/**
 * Encodes `rows` (already checked against plan.tableSchema) as the data files writeFiles would write
 * for them under `plan`, on the calling thread (synchronous, no encode pool; pure: no I/O, `rows`
 * untouched): grouped by partition values in first-seen order, partition columns left out, each
 * group split into files near plan.targetFileSize by writeFiles' estimate (a group that fits one file
 * is one file: writeFiles' parallel split is not applied, the caller already encodes in parallel),
 * stats built as writeFiles builds them. The files are byte-for-byte those writeFiles writes for the
 * same rows with maxParallelFiles 1. No rows give no files.
 *
 * Throws writeFiles' DeltaErrors: INVALID_DATA for a value that does not fit (context: the index of
 * the row in `rows`, its column and partition values), UNSUPPORTED_FEATURE / INVALID_ARGUMENT for
 * other encoder failures and for partition values that cannot be serialized.
 */
export function encodeForPlan(plan: DeltaEncodingPlan, rows: readonly Row[]): DeltaEncodedFile[] {
  const options = planWriteOptions(plan);
  const files: DeltaEncodedFile[] = [];
  for (const group of groupByPartition(rows, plan.tableSchema, plan.partitionColumns)) {
    const encodeSlice = (start: number, count: number): DeltaEncodedFile => {
      const chunk = start === 0 && count === group.rows.length ? group.rows : group.rows.slice(start, start + count);
      let encoded: ReturnType<typeof encodeRows>;
      try {
        encoded = encodeRows(plan.dataSchema, chunk, options);
      } catch (error) {
        throw encodeFailure(error, group, start);
      }
      return {
        format: DELTA_PARQUET,
        bytes: encoded.bytes,
        numRecords: chunk.length,
        partitionValues: { ...group.values },
        stats: planFileStats(plan, chunk, encoded),
        planKey: plan.key,
      };
    };
    const total = group.rows.length;
    const firstCount = firstFileRows(group.rows, plan.targetFileSize);
    const first = encodeSlice(0, firstCount);
    files.push(first);
    let start = firstCount;
    for (const count of remainingFileRows(total, plan.targetFileSize, firstCount, first.bytes.byteLength)) {
      files.push(encodeSlice(start, count));
      start += count;
    }
  }
  return files;
}

/**
 * Whether rows of a ColumnBatch with `schema` can be encoded under `plan` by encodeBatchForPlan: an
 * unpartitioned table whose data columns are exactly the batch's (names, types and nullability).
 */
export function planTakesBatch(plan: DeltaEncodingPlan, schema: StructType): boolean {
  if (plan.partitionColumns.length > 0 || plan.dataSchema.fields.length !== schema.fields.length) return false;
  return plan.dataSchema.fields.every((f) => {
    const mine = schema.fields.find((g) => g.name === f.name);
    return mine !== undefined && mine.type === f.type && mine.nullable === f.nullable;
  });
}

/**
 * Writes rows [start, end) of a ColumnBatch under `schema` as one Parquet file: its bytes, and the
 * statistics of every leaf (batchSliceArrow's). encodeSliceHere does it on the calling thread,
 * ParquetEncodePool.writeColumns in a worker, with the same bytes and statistics.
 */
export type BatchSliceWriter = (
  batch: ColumnBatch,
  schema: StructType,
  start: number,
  end: number,
  options: ParquetWriteOptions,
) => EncodedSlice | Promise<EncodedSlice>;

/** A BatchSliceWriter's file. */
export interface EncodedSlice {
  bytes: Uint8Array;
  stats: ColumnStats[];
}

/** The BatchSliceWriter of this thread: batchSliceArrow, then arrowToParquet. */
export function encodeSliceHere(
  batch: ColumnBatch,
  schema: StructType,
  start: number,
  end: number,
  options: ParquetWriteOptions,
): EncodedSlice {
  const arrow = batchSliceArrow(batch, schema, start, end, options);
  return { bytes: arrowToParquet(arrow.table, options, arrow.dictionaryColumns), stats: arrow.stats };
}

/** The slice writer of the process-wide encode pool (defaultEncodePool), or encodeSliceHere without one. */
export function defaultSliceWriter(): BatchSliceWriter {
  const pool = defaultEncodePool();
  return pool
    ? (batch, schema, start, end, options) => pool.writeColumns(batch, schema, start, end, options)
    : encodeSliceHere;
}

/**
 * encodeForPlan for the rows of a ColumnBatch (planTakesBatch): the same files, cut into files near
 * plan.targetFileSize from the batch's size estimate, each written by `write` (default: on the calling
 * thread). The Parquet bytes and add.stats of a file are those encodeForPlan writes for the same rows.
 */
export async function encodeBatchForPlan(
  plan: DeltaEncodingPlan,
  batch: ColumnBatch,
  write: BatchSliceWriter = encodeSliceHere,
  split?: { minRowsPerFile: number; maxParallelFiles: number },
): Promise<DeltaEncodedFile[]> {
  const total = batch.length;
  if (total === 0) return [];
  const options = planWriteOptions(plan);
  const encodeSlice = async (start: number, count: number): Promise<DeltaEncodedFile> => {
    const { bytes, stats } = await write(batch, plan.dataSchema, start, start + count, options);
    return {
      format: DELTA_PARQUET,
      bytes,
      numRecords: count,
      partitionValues: {},
      // buildStats reads rows only for their count and for null counts missing from `stats` (none are).
      stats: buildStats(plan.dataSchema, new Array<Row>(count), stats, plan.statsOptions),
      planKey: plan.key,
    };
  };
  const firstCount = Math.max(1, Math.min(total, Math.floor(plan.targetFileSize / batch.bytesPerRow())));
  if (firstCount === total && split !== undefined) {
    // A batch that fits one file: near-equal consecutive slices encoded at once, as writeFiles cuts them.
    const parts = parallelFileCount(total, split.minRowsPerFile, split.maxParallelFiles);
    const slices: Promise<DeltaEncodedFile>[] = [];
    for (let i = 0, start = 0; i < parts; i++) {
      const count = Math.floor(total / parts) + (i < total % parts ? 1 : 0);
      slices.push(encodeSlice(start, count));
      start += count;
    }
    return Promise.all(slices);
  }
  const first = await encodeSlice(0, firstCount);
  const counts = remainingFileRows(total, plan.targetFileSize, firstCount, first.bytes.byteLength);
  const starts: number[] = [];
  let start = firstCount;
  for (const count of counts) {
    starts.push(start);
    start += count;
  }
  // The other files at once (a pool writes them in parallel).
  return [first, ...(await Promise.all(counts.map((count, i) => encodeSlice(starts[i]!, count))))];
}

/**
 * Whether `file` is a Delta data file (format 'delta-parquet' with the DeltaEncodedFile fields). Only
 * the shape: addEncodedFiles checks that it belongs to the table's current plan.
 */
export function isDeltaEncodedFile(file: EncodedFile): file is DeltaEncodedFile {
  const f = file as Partial<DeltaEncodedFile> | null;
  return (
    typeof f === 'object' &&
    f !== null &&
    f.format === DELTA_PARQUET &&
    f.bytes instanceof Uint8Array &&
    typeof f.numRecords === 'number' &&
    typeof f.stats === 'string' &&
    typeof f.planKey === 'string' &&
    typeof f.partitionValues === 'object' &&
    f.partitionValues !== null
  );
}
