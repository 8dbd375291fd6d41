// The Source seam: a replayable, partitioned log of rows addressed by offsets. The engine plans each
// micro-batch as an offset range per partition (written to offsets/N before the batch runs) and, after
// a crash, reads the identical range again.

import type { StructType } from '../sinks/schema.js';
import type { ObjectStore } from '../storage/object-store.js';
import type { PartitionRange } from './checkpoint-log.js';
import type { RowGroup } from './types.js';

/**
 * Per partition: the offset to read next (the exclusive end of what was planned so far). Offsets are
 * strings the source alone interprets (Kafka and Observable sources: decimal integers; the file
 * source: a position in its file log; the Delta source: a table version). The engine only stores
 * them and compares them for equality.
 */
export type PartitionOffsets = Readonly<Record<string, string>>;

/** What the engine gives a source when a query starts. */
export interface SourceContext {
  /** The query id (stable across restarts, from the checkpoint's metadata). */
  queryId: string;
  /**
   * A private, durable area of the checkpoint (`<checkpoint>/sources/<n>/`) for metadata the source
   * must keep to replay ranges identically, such as the file source's log of discovered files.
   */
  metadata: ObjectStore;
  /** The query's clock (ms since epoch); injected by tests. */
  now: () => number;
  /** Non-fatal problems worth logging. */
  warn: (message: string, context?: Record<string, unknown>) => void;
}

/** One partition's progress, as StreamingQueryProgress.sources[] reports it. */
export interface SourceMetrics {
  /** The newest offsets the source knows of, per partition (if it can tell). */
  latestOffset?: PartitionOffsets;
  /** Records lost to retention and skipped (failOnDataLoss = false). */
  numRecordsLost?: number;
  [name: string]: unknown;
}

/**
 * A streaming source.
 *
 * Contract:
 * - `open(ctx)` is called once before any other method; `close()` last (idempotent).
 * - `initialOffsets()` gives the start of a query that has never run, per known partition.
 * - `nextOffsets(start, limit)` returns where the next batch should end, per partition: at or after
 *   `start`, bounded by the source's own rate limit (maxOffsetsPerTrigger, maxFilesPerTrigger…) and,
 *   when `limit` is given (Trigger.availableNow), never beyond `limit`. It may add partitions that
 *   appeared since (their range starts at their initial offset). Returning offsets equal to `start`
 *   means no new data. Any metadata needed to read the range later is made durable before it returns.
 * - `read(ranges)` returns exactly the rows of the ranges, in offset order within a partition. Reading
 *   a range that was planned before must return the same rows (this is what makes replays exact); a
 *   source that cannot guarantee it says so in its documentation.
 * - `commit(end)` tells the source that every row before `end` is durably processed (commits/N
 *   written); it may release buffers or commit offsets to an external system for monitoring only.
 * - `availableNow()` returns the end offsets of everything available at the call (the bound of a
 *   Trigger.availableNow run).
 * - Faults are LakestreamErrors with a stable code and `retryable`.
 */
export interface Source {
  /** A description for progress reports, e.g. 'DeltaSource[/data/bronze]'. */
  readonly description: string;
  /** The schema of the rows, when the source knows it (set by open(), e.g. a Delta table's schema). */
  readonly schema?: StructType | undefined;
  open(ctx: SourceContext): Promise<void>;
  initialOffsets(): Promise<PartitionOffsets>;
  nextOffsets(start: PartitionOffsets, limit?: PartitionOffsets): Promise<PartitionOffsets>;
  availableNow(): Promise<PartitionOffsets>;
  read(ranges: Readonly<Record<string, PartitionRange>>): Promise<RowGroup[]>;
  commit(end: PartitionOffsets): Promise<void>;
  metrics?(): SourceMetrics;
  close(): Promise<void>;
}
