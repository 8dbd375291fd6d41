// The built-in sources, one per file.

export {
  compareDeltaPositions,
  DELTA_SOURCE_PARTITION,
  DeltaSource,
  type DeltaSourceOptions,
  decodeDeltaOffset,
  encodeDeltaOffset,
} from './delta.js';
export { FILE_SOURCE_PARTITION, FileSource, type FileSourceOptions } from './files.js';
export { GeneratorSource, type GeneratorSourceOptions } from './generator.js';
export {
  type KafkaDataFormat,
  KafkaSource,
  type KafkaSourceOptions,
  type KafkaStartingOffsets,
} from './kafka.js';
export { MemorySource } from './memory.js';
export { ObservableSource, type ObservableSourceOptions } from './observable.js';
