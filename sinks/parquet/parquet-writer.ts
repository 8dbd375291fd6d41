// The parquet-wasm seam: writes an Arrow table as Parquet bytes (IPC stream → wasm → ArrowWriter)
// with lakestream's writer properties (ipc-writer.ts, also what the encode workers run).
import { type Table, tableToIPC } from 'apache-arrow';
import { ParquetWriterError } from './errors.js';
import { type IpcWriteResult, ipcWriteSettings, parquetWasmModule, writeIpcToParquet } from './ipc-writer.js';
import { type ParquetWriteOptions, resolveParquetWriteOptions } from './options.js';

/** The file of a writeIpcToParquet result, or the ParquetWriterError arrowToParquet throws for it. */
export function unwrapIpcWrite(result: IpcWriteResult, rows: number): Uint8Array {
  if (result.ok) return result.bytes;
  const { error } = result;
  if (result.stage === 'read') {
    throw new ParquetWriterError(`parquet-wasm could not read the Arrow IPC stream: ${String(error)}`, error);
  }
  throw new ParquetWriterError(`parquet-wasm failed to write the file: ${String(error)}`, error, { rows });
}

/**
 * Writes `table` as one Parquet file: Parquet format 1.0 data pages, the chosen codec, chunk and
 * page statistics, `created_by` 'lakestream', the Arrow schema in the footer (`ARROW:schema`), and
 * `PARQUET:field_id` field metadata as Parquet field ids. Under `dictionary: 'auto'` only the
 * top-level columns named in `dictionaryColumns` (from rowsToArrow) are dictionary-encoded.
 * Runs on the calling thread; ParquetEncodePool.writeTable is the same in a worker thread.
 */
export function arrowToParquet(
  table: Table,
  options?: ParquetWriteOptions,
  dictionaryColumns: readonly string[] = [],
): Uint8Array {
  const resolved = resolveParquetWriteOptions(options);
  const ipc = tableToIPC(table, 'stream');
  return unwrapIpcWrite(
    writeIpcToParquet(parquetWasmModule(), ipc, ipcWriteSettings(resolved, dictionaryColumns)),
    table.numRows,
  );
}
