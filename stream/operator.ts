// The operator seam. A pipeline is a list of OperatorSpecs (what the user wrote: filter(fn),
// withWatermark('ts', '10 minutes'), …); when a query starts each spec is planned into a
// StreamOperator, in order, seeing what is known upstream (schema, event-time column, output mode).
// Planning is where Spark's unsupported combinations are refused.

import type { StructType } from '../sinks/schema.js';
import type { StateFingerprint, StateStore } from './state-store.js';
import type { OutputMode, Row, RowGroup } from './types.js';

/** The event-time column and delay declared by an upstream withWatermark. */
export interface WatermarkSpec {
  column: string;
  delayMs: number;
}

/** What an operator learns about its input when the query is planned. */
export interface PlanContext {
  /** Position in the pipeline (0-based); the operator id is `<index>-<kind>`. */
  index: number;
  outputMode: OutputMode;
  /** The schema of the rows reaching this operator, when known. */
  schema: StructType | undefined;
  /** Set by an upstream withWatermark. */
  watermark: WatermarkSpec | undefined;
  /** Kinds of the stateful operators upstream, in order. */
  statefulUpstream: readonly string[];
  /** True when an aggregation is upstream. */
  aggregated: boolean;
}

/** A row that could not be processed, routed to the query's dead-letter destination. */
export interface DeadLetter {
  /** The operator id that rejected the row, e.g. '0-parseJson'. */
  operator: string;
  /** The source partition the row came from. */
  partition: string;
  /** Why it was rejected (one line, names the field). */
  reason: string;
  /** The rejected row as received by the operator. */
  row: Row;
}

/** Counters an operator increments while processing a batch (reported in the progress). */
export interface OperatorMetrics {
  numRowsDroppedByWatermark: number;
  numDeadLetters: number;
  /** Operator-specific counters, e.g. numDuplicatesDropped, numWindowsEmitted. */
  custom: Record<string, number>;
  /**
   * Stateful operators whose state rows are not their store's records (dropDuplicates with eviction
   * stores buckets of keys): the rows as Spark counts them, reported instead of the store's metrics.
   */
  stateRows?: { total: number; updated: number; removed: number };
}

/** What an operator gets for one batch. */
export interface BatchContext {
  batchId: number;
  /** Processing time of the batch (from offsets/N: identical on replay). */
  batchTimestampMs: number;
  /** The watermark the batch runs with (0 until one is set, as in Spark). Identical on replay. */
  watermarkMs: number;
  /** Stateful operators only: their state as of batch N−1; changes are committed as version N. */
  state: StateStore | undefined;
  metrics: OperatorMetrics;
  /**
   * Sends a row to the dead letters (counted in this operator's metrics). `operator` names an inner
   * operator when this one runs others (the ingest daemon's parallel stage); default: this one.
   */
  deadLetter(letter: Omit<DeadLetter, 'operator'> & { operator?: string }): void;
  /**
   * withWatermark only: the watermark this operator proposes for the next batch (max event time −
   * delay over its active partitions). The engine takes the min over all proposals and never moves
   * the watermark back.
   */
  proposeWatermark(ms: number): void;
}

/**
 * A planned operator.
 *
 * Contract:
 * - `process` returns the output groups; it may reuse or mutate the input arrays and rows it owns.
 *   It must be deterministic given (input, state, batchTimestampMs, watermarkMs), so that a replay
 *   of batch N against state N−1 gives the same output.
 * - Stateful operators (`state` set) read and write only through `ctx.state`; the engine opens the
 *   store at version N−1 before the batch and commits it as N after the sink commit.
 * - Rows it cannot process go to `ctx.deadLetter` (counted), never silently dropped; rows dropped
 *   because they are late are counted in `metrics.numRowsDroppedByWatermark`.
 */
export interface StreamOperator {
  /** `<index>-<kind>`, stable across restarts while the pipeline is unchanged. */
  readonly id: string;
  readonly kind: string;
  /** The operator's configuration as text; part of the query fingerprint stored in offsets/N. */
  readonly fingerprint: string;
  /** Present for stateful operators: the fingerprint of their state (key/value layout). */
  readonly state?: StateFingerprint;
  /** The schema of the rows it outputs, when known. */
  readonly schema: StructType | undefined;
  /** The watermark spec visible downstream. */
  readonly watermark: WatermarkSpec | undefined;
  /** Aggregations: the columns identifying an output row (for update mode merges). */
  readonly keyColumns?: readonly string[];
  readonly aggregation?: boolean;
  /** Whether the operator needs a batch when the watermark moved even with no new data. */
  readonly runsOnWatermarkAdvance?: boolean;
  /**
   * Operators that can give their output as typed columns (RowGroup.columns): the same operator doing
   * so, with the same outcome (rows, dead letters, metrics). Used by planning only when every operator
   * after it takes columns and the sink does (planColumnar in plan.ts).
   */
  readonly columnar?: () => StreamOperator;
  /**
   * The columns of the batches this (columnar) operator outputs, when fewer than `schema`'s: columns
   * it keeps on its rows only (parseJson's `keep`). Planning takes its columnar variant only where the
   * pipeline's output columns are exactly these (an operator after it drops the others).
   */
  readonly columnSchema?: StructType;
  /**
   * Whether process() takes groups holding columns: it keeps them as columns (or turns them into
   * rows), with the outcome it gives for the same rows as objects.
   */
  readonly takesColumns?: boolean;
  process(groups: RowGroup[], ctx: BatchContext): Promise<RowGroup[]> | RowGroup[];
}

/** What `query.pipe(...)` takes: a function of the plan context giving the planned operator. */
export interface OperatorSpec {
  readonly kind: string;
  plan(context: PlanContext): StreamOperator;
}

/** The common fields of a planned operator. */
export function operatorBase(
  kind: string,
  context: PlanContext,
  fingerprint: string,
): Pick<StreamOperator, 'id' | 'kind' | 'fingerprint' | 'schema' | 'watermark'> {
  return { id: `${context.index}-${kind}`, kind, fingerprint, schema: context.schema, watermark: context.watermark };
}

/** Applies `fn` to the rows of every group, keeping the groups. */
export function mapGroups(groups: RowGroup[], fn: (rows: Row[], partition: string) => Row[]): RowGroup[] {
  for (const group of groups) group.rows = fn(group.rows, group.partition);
  return groups;
}
