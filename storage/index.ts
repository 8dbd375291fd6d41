// Public entry point of lakestream/storage: the ObjectStore seam, its errors and implementations.

export { ObjectNotFoundError, StorageError } from './errors.js';
export type {
  FaultAction,
  FaultRule,
  FaultyObjectStoreOptions,
  RecordedCall,
  StoreOp,
} from './faulty.js';
export { FaultyObjectStore } from './faulty.js';
export { compareKeys, keyProblem, RESERVED_SEGMENT_PREFIX, validateKey } from './key.js';
export { LocalObjectStore } from './local.js';
export type { MemoryObjectStoreOptions } from './memory.js';
export { MemoryObjectStore } from './memory.js';
export type { ByteRange, ListOptions, ObjectMeta, ObjectStore } from './object-store.js';
export { PrefixedObjectStore } from './prefixed.js';
