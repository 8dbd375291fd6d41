// Public entry point of lakestream ("lakestream"): the engine's seams. The micro-batch runtime
// (readStream/writeStream, sources, operators) lands here as it is built.

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
export {
  CheckpointCorruptError,
  CheckpointLockedError,
  CheckpointStateError,
  type FingerprintChange,
  StateCorruptError,
  StateIncompatibleError,
  StateStoreUsageError,
  StateVersionUnavailableError,
  StreamError,
} from './errors.js';
export {
  EMPTY_STATE_VERSION,
  type StateEntry,
  type StateFingerprint,
  type StateKey,
  type StateStore,
  type StateStoreMetrics,
  type StateStoreProvider,
} from './state-store.js';
