// The parquet-wasm writer itself: Arrow IPC stream → Parquet bytes with lakestream's writer
// properties. The only module that imports parquet-wasm, and light to load (no apache-arrow): an
// encode worker is ready for IPC tasks once this is loaded.
import * as parquetWasm from 'parquet-wasm';
import type { ParquetCompression } from './options.js';

/** The `created_by` of every file lakestream writes. */
export const CREATED_BY = 'lakestream';

/** The parts of the parquet-wasm module writeIpcToParquet uses (the module itself, in either thread). */
export type ParquetWasmModule = Pick<
  typeof parquetWasm,
  'Compression' | 'EnabledStatistics' | 'Table' | 'WriterPropertiesBuilder' | 'writeParquet'
>;

/** This thread's parquet-wasm module (each worker thread loads its own instance). */
export function parquetWasmModule(): ParquetWasmModule {
  return parquetWasm;
}

/** Plain, structured-clonable writer settings: what writeIpcToParquet needs of the options. */
export interface IpcWriteSettings {
  compression: ParquetCompression;
  rowGroupSize: number;
  dictionary: boolean | 'auto';
  /** Top-level columns dictionary-encoded under `dictionary: 'auto'`. */
  dictionaryColumns: readonly string[];
  createdBy: string;
}

/** writeIpcToParquet's outcome: the file, or which step of parquet-wasm failed and its error. */
export type IpcWriteResult = { ok: true; bytes: Uint8Array } | { ok: false; stage: 'read' | 'write'; error: unknown };

export function ipcWriteSettings(
  options: { compression: ParquetCompression; rowGroupSize: number; dictionary: boolean | 'auto' },
  dictionaryColumns: readonly string[],
): IpcWriteSettings {
  return {
    compression: options.compression,
    rowGroupSize: options.rowGroupSize,
    dictionary: options.dictionary,
    dictionaryColumns: [...dictionaryColumns],
    createdBy: CREATED_BY,
  };
}

/**
 * Writes an Arrow IPC stream as one Parquet file with `pq` (the parquet-wasm module): Parquet format
 * 1.0 data pages, the chosen codec, chunk and page statistics, `created_by`, and under
 * `dictionary: 'auto'` dictionary encoding for the listed top-level columns only. Both the
 * synchronous path (arrowToParquet) and the encode workers (encode-task.ts) run this one function;
 * the byte-identity tests in test/sinks/parquet run it both ways.
 */
export function writeIpcToParquet(pq: ParquetWasmModule, ipc: Uint8Array, settings: IpcWriteSettings): IpcWriteResult {
  let wasmTable: parquetWasm.Table;
  try {
    wasmTable = pq.Table.fromIPCStream(ipc);
  } catch (error) {
    return { ok: false, stage: 'read', error };
  }
  const codec =
    settings.compression === 'zstd'
      ? pq.Compression.ZSTD
      : settings.compression === 'snappy'
        ? pq.Compression.SNAPPY
        : pq.Compression.UNCOMPRESSED;
  let builder = new pq.WriterPropertiesBuilder()
    .setCompression(codec)
    .setCreatedBy(settings.createdBy)
    .setStatisticsEnabled(pq.EnabledStatistics.Page)
    .setDictionaryEnabled(settings.dictionary === true)
    .setMaxRowGroupSize(settings.rowGroupSize);
  if (settings.dictionary === 'auto') {
    for (const column of settings.dictionaryColumns) builder = builder.setColumnDictionaryEnabled(column, true);
  }
  const properties = builder.build();
  try {
    // writeParquet takes ownership of (and frees) both wasm objects.
    return { ok: true, bytes: pq.writeParquet(wasmTable, properties) };
  } catch (error) {
    return { ok: false, stage: 'write', error };
  }
}
