// The CheckpointLog seam: the engine's write-ahead log of planned batches (offsets/N) and finished
// batches (commits/N), with Spark's recovery rule and a single-runner lease. Implemented by state/checkpoint/object-store-log.ts.

/** Offsets of one source partition read by a batch: `start` inclusive, `end` exclusive (opaque strings the source interprets). */
export interface PartitionRange {
  start: string;
  end: string;
}

/** Per source id, per partition id: the planned range. */
export type SourceRanges = Readonly<Record<string, Readonly<Record<string, PartitionRange>>>>;

/** The content of offsets/N: everything needed to re-run batch N identically. */
export interface BatchPlan {
  batchId: number;
  sources: SourceRanges;
  /** Watermark the batch runs with (ms since epoch). */
  watermarkMs: number;
  /** Processing time of the batch (ms since epoch). */
  batchTimestampMs: number;
  /** State-affecting confs (watermark policy, state provider, ...); frozen once the query has run. */
  conf: Readonly<Record<string, string>>;
  /** Fingerprint of the operators and state schema; frozen like `conf`. */
  fingerprint: Readonly<Record<string, string>>;
}

/** The content of commits/N, written after the sink commit of batch N. */
export interface BatchCommit {
  batchId: number;
  /** Watermark for batch N+1, computed after batch N. */
  nextBatchWatermarkMs: number;
}

export interface CheckpointMetadata {
  /** Stable across restarts: the sink's idempotency app id. */
  queryId: string;
  createdAtMs: number;
}

/** Something recovery repaired or tolerated; the engine should log it. */
export type CheckpointNotice =
  | { kind: 'torn-tail'; key: string; reason: string }
  | { kind: 'commit-log-behind'; lastCommitted: number | undefined; lastPlanned: number };

/** What the engine does on (re)start. */
export type Recovery = (
  | { kind: 'fresh' }
  /** offsets/N exists, commits/N does not: re-run N with exactly `plan`, against state version N−1. */
  | { kind: 'replay'; batchId: number; plan: BatchPlan; lastCommit: BatchCommit | undefined }
  /** commits/N exists for the last plan: plan `nextBatchId` = N+1, continuing from `lastPlan`'s ends. */
  | { kind: 'resume'; nextBatchId: number; lastPlan: BatchPlan; lastCommit: BatchCommit }
) & { notices: readonly CheckpointNotice[] };

/**
 * One query's checkpoint, used by exactly one runner at a time.
 *
 * Contract (every implementation runs test/contracts/checkpoint-log.ts):
 * - `open()` first acquires the lease; a live lease of another runner throws CHECKPOINT_LOCKED naming
 *   it; an expired or released lease is taken over. Then it returns the metadata, created once.
 * - `recover()` (after open, before planning) applies Spark's rule: last plan N committed ⇒ resume
 *   N+1; N not committed ⇒ replay N; no plan ⇒ fresh. A torn/corrupt newest offsets or commits file
 *   counts as not written (removed and reported as a notice); any other unreadable file or a gap in
 *   the log throws CHECKPOINT_CORRUPT.
 * - `planBatch(plan)` is the write-ahead step before batch N runs. N must be the batch after the last
 *   committed one (else CHECKPOINT_OUT_OF_ORDER). The plan is never rewritten: an identical existing
 *   plan returns 'exists', a different one throws CHECKPOINT_CONFLICT. conf/fingerprint differing from
 *   the previous plan throws CHECKPOINT_CONF_CHANGED. Before writing, the runner verifies it still
 *   holds the lease (fencing), else CHECKPOINT_LOCKED.
 * - `markCommitted(commit)` requires commit.batchId to be the planned, uncommitted batch (a retry of
 *   the last committed one returns 'exists'); it fences like planBatch, then purges entries older than
 *   the newest `minBatchesToRetain` batches.
 * - Storage faults propagate with their `retryable` flag; every step can be retried after a fault.
 * - `close()` releases the lease (idempotent).
 */
export interface CheckpointLog {
  open(): Promise<CheckpointMetadata>;
  recover(): Promise<Recovery>;
  planBatch(plan: BatchPlan): Promise<'created' | 'exists'>;
  markCommitted(commit: BatchCommit): Promise<'created' | 'exists'>;
  /** The plan of a retained batch, undefined if never planned or purged. */
  getPlan(batchId: number): Promise<BatchPlan | undefined>;
  /** Renews the lease; throws CHECKPOINT_LOCKED if another runner took it over. */
  heartbeat(): Promise<void>;
  close(): Promise<void>;
}
