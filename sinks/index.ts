// Public entry point "lakestream/sinks": table formats and their shared schema types.
// Delta Lake lives under "lakestream/sinks/delta".
export { DeltaError, type DeltaErrorCode } from './delta/errors.js';
export { DeltaTable } from './delta/table.js';
export type { ArrayType, DataType, MapType, PrimitiveType, StructField, StructType } from './schema.js';
