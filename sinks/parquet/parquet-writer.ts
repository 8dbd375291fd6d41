// The parquet-wasm seam: writes an Arrow table as Parquet bytes (IPC stream → wasm → ArrowWriter)
// with lakestream's writer properties. The only file that imports parquet-wasm's writer.
import { type Table, tableToIPC } from 'apache-arrow';
import {
  Compression,
  EnabledStatistics,
  Table as WasmTable,
  WriterPropertiesBuilder,
  writeParquet,
} from 'parquet-wasm';
import { ParquetWriterError } from './errors.js';
import { type ParquetCompression, type ParquetWriteOptions, resolveParquetWriteOptions } from './options.js';

/** The `created_by` of every file lakestream writes. */
export const CREATED_BY = 'lakestream';

const CODECS: Record<ParquetCompression, Compression> = {
  zstd: Compression.ZSTD,
  snappy: Compression.SNAPPY,
  uncompressed: Compression.UNCOMPRESSED,
};

/**
 * Writes `table` as one Parquet file: Parquet format 1.0 data pages, the chosen codec, chunk and
 * page statistics, `created_by` 'lakestream', the Arrow schema in the footer (`ARROW:schema`), and
 * `PARQUET:field_id` field metadata as Parquet field ids. Under `dictionary: 'auto'` only the
 * top-level columns named in `dictionaryColumns` (from rowsToArrow) are dictionary-encoded.
 */
export function arrowToParquet(
  table: Table,
  options?: ParquetWriteOptions,
  dictionaryColumns: readonly string[] = [],
): Uint8Array {
  const resolved = resolveParquetWriteOptions(options);
  const ipc = tableToIPC(table, 'stream');
  let wasmTable: WasmTable;
  try {
    wasmTable = WasmTable.fromIPCStream(ipc);
  } catch (error) {
    throw new ParquetWriterError(`parquet-wasm could not read the Arrow IPC stream: ${String(error)}`, error);
  }
  let builder = new WriterPropertiesBuilder()
    .setCompression(CODECS[resolved.compression])
    .setCreatedBy(CREATED_BY)
    .setStatisticsEnabled(EnabledStatistics.Page)
    .setDictionaryEnabled(resolved.dictionary === true)
    .setMaxRowGroupSize(resolved.rowGroupSize);
  if (resolved.dictionary === 'auto') {
    for (const column of dictionaryColumns) builder = builder.setColumnDictionaryEnabled(column, true);
  }
  const properties = builder.build();
  try {
    // writeParquet takes ownership of (and frees) both wasm objects.
    return writeParquet(wasmTable, properties);
  } catch (error) {
    throw new ParquetWriterError(`parquet-wasm failed to write the file: ${String(error)}`, error, {
      rows: table.numRows,
    });
  }
}
