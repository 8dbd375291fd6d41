// Public surface of sinks/parquet: encodeRows (rows → Parquet bytes + column stats) and its worker-
// thread twin encodeRowsAsync, options, errors and the lower-level halves (rows → Arrow, Arrow →
// Parquet) for benchmarks and tools.
export { type ArrowColumns, rowsToArrow } from './arrow-table.js';
export { FIELD_ID_KEY, NESTED_IDS_KEY } from './columns/create.js';
export {
  defaultEncodePool,
  ParquetEncodePool,
  type ParquetEncodePoolOptions,
  POOL_SIZE_ENV,
} from './encode-pool.js';
export { type EncodedParquet, encodeRows, encodeRowsAsync } from './encoder.js';
export {
  describeJsType,
  ParquetEncodeError,
  type ParquetEncodeErrorCode,
  type ParquetEncodeErrorOptions,
  ParquetWorkerError,
  ParquetWriterError,
} from './errors.js';
export {
  CREATED_BY,
  type IpcWriteResult,
  type IpcWriteSettings,
  ipcWriteSettings,
  writeIpcToParquet,
} from './ipc-writer.js';
export {
  PARQUET_WRITE_DEFAULTS,
  type ParquetCompression,
  type ParquetWriteOptions,
  type ResolvedParquetWriteOptions,
  resolveParquetWriteOptions,
} from './options.js';
export { arrowToParquet, unwrapIpcWrite } from './parquet-writer.js';
export { type ColumnStats, compareUtf8 } from './stats.js';
