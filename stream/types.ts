// Values that flow through the engine: rows grouped by the source partition they came from (the unit
// per-partition watermarks track), and the output modes of a query.

import type { ColumnBatch } from '../sinks/parquet/column-batch.js';

/** One record as the operators see it: a plain object of column values. */
export type Row = Record<string, unknown>;

/**
 * The rows of one source partition inside a micro-batch. Operators keep rows in their group so that
 * withWatermark can track event time per partition (Flink-style per-split watermarks).
 */
export interface RowGroup {
  /** The partition id as the source names it (Kafka: '<topic>-<partition>', files: 'files'). */
  partition: string;
  rows: Row[];
  /**
   * Output already encoded as the sink's data files by the last operator (the ingest daemon's parallel
   * stage encodes in worker threads); the engine hands them to the sink with the batch's rows.
   */
  files?: EncodedFile[];
  /**
   * The group's rows held in typed columns instead of `rows` (which is then empty): set by an operator
   * planned for columnar output (parseJson, when every operator after it takes columns and the sink
   * does: see StreamOperator.columnar) and kept by those operators. Exactly the rows the row path
   * would hold, in the same order.
   */
  columns?: ColumnRows;
}

/** Rows in a ColumnBatch, with the way back to each row as the row path makes it. */
export interface ColumnRowsView {
  readonly batch: ColumnBatch;
  /** Row i exactly as the row path holds it (for a dead letter, or a consumer without columns). */
  rowAt(i: number): Row;
}

/** The ColumnRowsView of a group, which operators may filter. */
export interface ColumnRows extends ColumnRowsView {
  /** Keeps the rows whose `keep` byte is 1, in order (ColumnBatch.retain). */
  retain(keep: Uint8Array): void;
}

/**
 * A data file an operator encoded for the sink: the sink stores it and commits it with the batch
 * exactly as it would files it encodes itself. `format` names the sink-specific shape (Delta:
 * 'delta-parquet', sinks/delta/encoded-file.ts); the engine fails a batch whose files the sink does not
 * take, before the sink writes anything, so no output is ever dropped.
 */
export interface EncodedFile {
  readonly format: string;
  /** Rows in the file. */
  readonly numRecords: number;
}

/**
 * Spark's output modes: `append` writes only rows that will never change (for windowed aggregations:
 * windows whose end the watermark has passed); `update` writes the rows changed in the batch (the
 * sink merges them by key); `complete` writes the whole result every batch (the sink overwrites).
 */
export type OutputMode = 'append' | 'update' | 'complete';

export const OUTPUT_MODES: readonly OutputMode[] = ['append', 'update', 'complete'];
