// Public entry point of lakestream's Delta Lake kernel: the DeltaTable API (writes, exactly-once txn,
// maintenance), the reader (snapshots, time travel, history, scans with filters) and their types.
// Explicit named re-exports only; everything else in sinks/delta/ is internal.

export type {
  Action,
  AddAction,
  CommitInfoAction,
  MetadataAction,
  ProtocolAction,
  RemoveAction,
  TxnAction,
} from './actions.js';
export {
  AUTO_COMPACT_DEFAULTS,
  AUTO_COMPACT_PROPERTY,
  type AutoCompactOptions,
  autoCompactSettings,
} from './auto-compact.js';
export { type LastCheckpointInfo, writeCheckpoint } from './checkpoint-writer.js';
export { COMMIT_DEFAULTS, type CommitOptions, type CommitOutcome } from './commit.js';
export type { ConflictCheck, IsolationLevel } from './conflict-checker.js';
export {
  DEAD_LETTER_SCHEMA,
  type DeadLetterOrigin,
  DeltaDeadLetters,
  type DeltaDeadLettersOptions,
  sourceRowOrigin,
} from './dead-letters.js';
export { DeltaError, type DeltaErrorCode } from './errors.js';
export type { ParquetCompression } from './file-names.js';
export { type HistoryEntry, type HistoryOptions, history } from './history.js';
export { type LoadSnapshotOptions, latestVersion, loadSnapshot } from './load-snapshot.js';
export {
  cleanupExpiredLogs,
  type LogCleanupOptions,
  type LogCleanupResult,
  RETENTION_DEFAULTS,
} from './log-cleanup.js';
export {
  type KeyColumn,
  type KeyEncoder,
  keyEncoder,
  type MergeByKeyOptions,
  type MergeByKeyResult,
  type MergeMetrics,
  mergeByKey,
  mergeOperationParameters,
} from './merge.js';
export { OPTIMIZE_DEFAULTS, type OptimizeOptions, type OptimizeResult } from './optimize.js';
export {
  and,
  eq,
  ge,
  gt,
  isIn,
  isNotNull,
  isNull,
  le,
  lt,
  ne,
  not,
  or,
  type Predicate,
} from './predicate.js';
export { type ScanBatch, type ScanOptions, scan, scanRows } from './scan.js';
export { type ArrowScanBatch, scanArrow } from './scan-arrow.js';
export type { DeltaSnapshot } from './snapshot.js';
export {
  type AutoCompaction,
  type DeltaBatchPlan,
  type DeltaCommitRecord,
  DeltaPreparedBatch,
  DeltaSink,
  type DeltaSinkOptions,
  deltaSink,
  inferTableSchema,
} from './stream-sink.js';
export {
  type AppTransaction,
  type CreateTableOptions,
  DEFAULT_PROTOCOL,
  DeltaTable,
  type DeltaTableOptions,
  type MergeOptions,
  type MergeOutcome,
  type OverwriteOptions,
  type WriteOptions,
  type WriteOutcome,
} from './table.js';
export {
  DeltaTransaction,
  ENGINE_INFO,
  type Operation,
  type TransactionOptions,
  WRITE_DEFAULTS,
  type WriteFilesOptions,
} from './transaction.js';
export { type VacuumOptions, type VacuumResult, vacuum } from './vacuum.js';
export type { DeltaValue, Row } from './values.js';
