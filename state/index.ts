// Public entry point of lakestream/state: state store providers, key/value codecs and the checkpoint log.

export type { BackendOp, StateBackend } from './backend.js';
export type { LeaseOptions } from './checkpoint/lease.js';
export { CheckpointLease } from './checkpoint/lease.js';
export type { ObjectStoreCheckpointLogOptions } from './checkpoint/object-store-log.js';
export { CHECKPOINT_LOG_DEFAULTS, ObjectStoreCheckpointLog } from './checkpoint/object-store-log.js';
export type { JsonValueCodecOptions, KeyPart, ValueCodec } from './codec.js';
export { decodeKey, encodeKey, jsonValueCodec, prefixEnd } from './codec.js';
export { StateArgumentError, StateBackendError, StateCodecError, StateError } from './errors.js';
export type { LevelDbStateStoreOptions } from './leveldb-store.js';
export { LevelDbStateStoreProvider } from './leveldb-store.js';
export type { MemoryStateStoreOptions } from './memory-store.js';
export { MemoryStateSpace, MemoryStateStoreProvider } from './memory-store.js';
export type { VersionedProviderOptions } from './versioned-provider.js';
export { VERSIONED_PROVIDER_DEFAULTS } from './versioned-provider.js';
