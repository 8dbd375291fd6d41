// The Sink seam: a two-phase, idempotent writer of micro-batch results. prepare() writes data that no
// reader can see yet; commit() makes the batch visible in one atomic step tagged with (queryId,
// batchId), so that a replayed batch the sink already has is recognised and skipped.

import type { StructType } from '../sinks/schema.js';
import type { PartitionRange } from './checkpoint-log.js';
import type { ColumnRowsView, EncodedFile, OutputMode, Row } from './types.js';

/** What the engine tells a sink when a query starts. */
export interface SinkContext {
  /** The idempotency id of the query's commits (Delta: txn appId). */
  queryId: string;
  outputMode: OutputMode;
  /**
   * Columns that identify a result row, for update mode (the aggregation's grouping columns and
   * window). The sink merges update-mode rows by them.
   */
  keyColumns: readonly string[];
  /** The schema of the rows the query produces, when the operators know it. */
  schema: StructType | undefined;
  now: () => number;
  warn: (message: string, context?: Record<string, unknown>) => void;
}

/** The rows of one batch for the sink. */
export interface SinkBatch {
  batchId: number;
  rows: readonly Row[];
  /**
   * The batch's planned source ranges (partition id → [start, end)), for sinks that record source
   * offsets per partition in the target (rows carry their origin: stream/row-origin.ts).
   */
  sourceRanges?: Readonly<Record<string, PartitionRange>>;
  /** Output the operators already encoded as data files (only in a format `acceptsEncodedFiles` accepts). */
  files?: readonly EncodedFile[];
  /** More rows of the batch, in typed columns (only for a sink with `acceptsColumns`). */
  columns?: readonly ColumnRowsView[];
}

/** A batch whose data is written but not yet visible. Opaque to the engine. */
export interface PreparedBatch {
  readonly batchId: number;
  readonly numRows: number;
}

/** The sink-side outcome of a batch: expected results are values, faults are errors. */
export type SinkCommitOutcome =
  | { kind: 'committed'; batchId: number; version?: number; numRows: number; numFiles?: number }
  | { kind: 'already-committed'; batchId: number; version?: number }
  /** Nothing to write (an empty batch in append or update mode). */
  | { kind: 'skipped'; batchId: number };

/**
 * A transactional streaming sink.
 *
 * Contract:
 * - `open(ctx)` once before anything else (it may create the target); `close()` last, idempotent.
 * - `prepare(batch)` writes what it can ahead of the commit; nothing becomes visible to readers.
 *   It may throw UNSUPPORTED_OUTPUT_MODE-style user errors for rows it cannot take.
 * - `commit(prepared)` atomically makes the batch visible exactly once: if the target already holds
 *   batch `batchId` of this query (or a later one), it returns 'already-committed' and writes nothing.
 *   After an unacknowledged commit (crash or lost response), calling commit again for the same
 *   batch must not duplicate it.
 * - `abort(prepared)` releases resources of a prepared batch that will not be committed; data already
 *   written stays unreferenced (removed later by maintenance such as Delta's vacuum). Never throws.
 * - Faults are LakestreamErrors with `retryable` set; the engine may retry prepare+commit.
 */
export interface Sink {
  readonly description: string;
  open(ctx: SinkContext): Promise<void>;
  prepare(batch: SinkBatch): Promise<PreparedBatch>;
  /**
   * Whether `prepare` takes pre-encoded files of `format` (SinkBatch.files). Absent: it takes none,
   * and the engine fails a batch that produced some (never drops them).
   */
  acceptsEncodedFiles?(format: string): boolean;
  /**
   * Whether the sink takes rows of `schema` in typed columns (SinkBatch.columns) in the mode it was
   * opened with, asked once after open. Absent: it takes rows only. A sink that takes columns but
   * cannot write a batch's columns as they are (say, the table changed since) writes their rows
   * (ColumnRows.rowAt), with the same outcome.
   */
  acceptsColumns?(schema: StructType): boolean;
  commit(prepared: PreparedBatch): Promise<SinkCommitOutcome>;
  abort(prepared: PreparedBatch): Promise<void>;
  close(): Promise<void>;
}
