// Public surface of sinks/parquet: encodeRows (rows → Parquet bytes + column stats), its options,
// errors and the lower-level halves (rows → Arrow, Arrow → Parquet) for benchmarks and tools.
export { type ArrowColumns, rowsToArrow } from './arrow-table.js';
export { FIELD_ID_KEY, NESTED_IDS_KEY } from './columns/create.js';
export { type EncodedParquet, encodeRows } from './encoder.js';
export {
  describeJsType,
  ParquetEncodeError,
  type ParquetEncodeErrorCode,
  type ParquetEncodeErrorOptions,
  ParquetWriterError,
} from './errors.js';
export {
  PARQUET_WRITE_DEFAULTS,
  type ParquetCompression,
  type ParquetWriteOptions,
  type ResolvedParquetWriteOptions,
  resolveParquetWriteOptions,
} from './options.js';
export { arrowToParquet, CREATED_BY } from './parquet-writer.js';
export { type ColumnStats, compareUtf8 } from './stats.js';
