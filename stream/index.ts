// Public entry point of lakestream ("lakestream"): the micro-batch runtime — readStream(source)
// .pipe(...operators).writeStream(sink, options) — its sources, operators, triggers, and the seams
// (Source, Sink, StateStore, CheckpointLog, DeadLetterSink) with their contracts.

export { type ErrorDomain, hasCode, LakestreamError } from '../common/errors.js';
export type {
  BatchCommit,
  BatchPlan,
  CheckpointLog,
  CheckpointMetadata,
  CheckpointNotice,
  PartitionRange,
  Recovery,
  SourceRanges,
} from './checkpoint-log.js';
export { type Clock, ManualClock, SYSTEM_CLOCK } from './clock.js';
export {
  type DeadLetterRecord,
  type DeadLetterSink,
  deadLetterLine,
  ObjectStoreDeadLetters,
} from './dead-letters.js';
export {
  CheckpointCorruptError,
  CheckpointLockedError,
  CheckpointStateError,
  type FingerprintChange,
  SourceError,
  StateCorruptError,
  StateIncompatibleError,
  StateStoreUsageError,
  StateVersionUnavailableError,
  StreamArgumentError,
  StreamError,
  UnsupportedOperationError,
} from './errors.js';
export { type ForeachBatchFunction, ForeachBatchSink, foreachBatch } from './foreach-batch.js';
export { MemorySink } from './memory-sink.js';
export type {
  BatchContext,
  DeadLetter,
  OperatorMetrics,
  OperatorSpec,
  PlanContext,
  StreamOperator,
  WatermarkSpec,
} from './operator.js';
export { mapGroups, operatorBase } from './operator.js';
export {
  type AggregateFunction,
  type AggregateOptions,
  aggregate,
  avg,
  count,
  countDistinct,
  dropDuplicates,
  dropDuplicatesWithinWatermark,
  filter,
  type MapOptions,
  map,
  max,
  min,
  type ParseJsonOptions,
  parseJson,
  select,
  sum,
  type TimeWindow,
  WINDOW_COLUMN,
  type WindowSpec,
  type WithWatermarkOptions,
  window,
  withColumn,
  withWatermark,
} from './operators/index.js';
export type {
  SinkProgress,
  SourceProgress,
  StateOperatorProgress,
  StreamingQueryListener,
  StreamingQueryProgress,
} from './progress.js';
export { progressBarListener } from './progress-bar.js';
export { StreamingQuery } from './query.js';
export type { PreparedBatch, Sink, SinkBatch, SinkCommitOutcome, SinkContext } from './sink.js';
export type { PartitionOffsets, Source, SourceContext, SourceMetrics } from './source.js';
export {
  DeltaSource,
  type DeltaSourceOptions,
  FileSource,
  type FileSourceOptions,
  GeneratorSource,
  type GeneratorSourceOptions,
  KafkaSource,
  type KafkaSourceOptions,
  MemorySource,
  ObservableSource,
  type ObservableSourceOptions,
} from './sources/index.js';
export {
  EMPTY_STATE_VERSION,
  type StateEntry,
  type StateFingerprint,
  type StateKey,
  type StateStore,
  type StateStoreMetrics,
  type StateStoreProvider,
} from './state-store.js';
export { type Duration, durationMs, eventTimeMs } from './time.js';
export { DEFAULT_TRIGGER, Trigger } from './trigger.js';
export { OUTPUT_MODES, type OutputMode, type Row, type RowGroup } from './types.js';
export { DataStream, readStream, type WriteStreamOptions } from './write-stream.js';
