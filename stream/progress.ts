// StreamingQueryProgress: one report per micro-batch, with Spark's field names so Spark users
// recognise them (sql/api/.../streaming/progress.scala).

import type { PartitionOffsets } from './source.js';

export interface StateOperatorProgress {
  operatorName: string;
  numRowsTotal: number;
  numRowsUpdated: number;
  numRowsRemoved: number;
  numRowsDroppedByWatermark: number;
  commitTimeMs: number;
  customMetrics: Record<string, number>;
}

export interface SourceProgress {
  description: string;
  startOffset: PartitionOffsets | null;
  endOffset: PartitionOffsets;
  latestOffset: PartitionOffsets | null;
  numInputRows: number;
  inputRowsPerSecond: number;
  processedRowsPerSecond: number;
  metrics: Record<string, unknown>;
}

export interface SinkProgress {
  description: string;
  numOutputRows: number;
  /** 'committed' | 'already-committed' (a replay the table had) | 'skipped' (nothing to write). */
  outcome: string;
  /** The table version the batch committed (or found). */
  tableVersion: number | null;
}

export interface StreamingQueryProgress {
  id: string;
  runId: string;
  name: string | null;
  /** ISO-8601 processing time when the trigger fired. */
  timestamp: string;
  batchId: number;
  /** Whether the batch re-ran a planned but uncommitted batch after a restart. */
  isReplay: boolean;
  numInputRows: number;
  inputRowsPerSecond: number;
  processedRowsPerSecond: number;
  /** Phases: latestOffset, walCommit, getBatch, addBatch (operators), sinkPrepare, sinkCommit, stateCommit, commitOffsets, triggerExecution. */
  durationMs: Record<string, number>;
  eventTime: { watermark: string; [key: string]: string };
  stateOperators: StateOperatorProgress[];
  sources: SourceProgress[];
  sink: SinkProgress;
  /** Rows routed to the dead-letter destination in this batch. */
  numDeadLetters: number;
}

/** The lifecycle events of a query (Spark's StreamingQueryListener). */
export interface StreamingQueryListener {
  onQueryStarted?(event: { id: string; runId: string; name: string | null; timestamp: string }): void;
  onQueryProgress?(progress: StreamingQueryProgress): void;
  onQueryIdle?(event: { id: string; runId: string; timestamp: string }): void;
  onQueryTerminated?(event: { id: string; runId: string; exception: Error | null }): void;
}
