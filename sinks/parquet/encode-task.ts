// What a Parquet encode worker (encode-worker.ts) runs: one EncodeTask at a time, with the outcome
// the calling thread would get for the same input. Two kinds:
// - 'ipc': an Arrow IPC stream → Parquet bytes (arrowToParquet's wasm half; the table was built and
//   serialised by the caller);
// - 'columns': rows of a ColumnBatch, as copied parts → Arrow table + statistics → Parquet bytes, so
//   the caller only copies the rows' arrays and the worker does the rest.
import { tableToIPC } from 'apache-arrow';
import type { StructType } from '../schema.js';
import type { ArrowColumns } from './arrow-table.js';
import { ColumnBatch, type ColumnBatchParts } from './column-batch.js';
import { type IpcWriteSettings, ipcWriteSettings, parquetWasmModule, writeIpcToParquet } from './ipc-writer.js';
import { type ParquetWriteOptions, resolveParquetWriteOptions } from './options.js';
import type { ColumnStats } from './stats.js';

export type EncodeTask =
  | { kind: 'ipc'; ipc: Uint8Array; settings: IpcWriteSettings; rows: number }
  | {
      kind: 'columns';
      /** The batch's own schema (its column order), and `parts` its rows to write. */
      batchSchema: StructType;
      parts: ColumnBatchParts;
      /** The file's schema (the batch's columns by name, see ColumnBatch.toArrow). */
      dataSchema: StructType;
      options: ParquetWriteOptions;
      rows: number;
    };

/**
 * A written file: its bytes and ('columns' tasks) the statistics of every leaf; from a worker also the
 * task's column buffers, sent back for the pool to reuse (`spare`).
 */
export interface EncodeResult {
  bytes: Uint8Array;
  stats?: ColumnStats[];
  spare?: ArrayBuffer[];
  /** From a worker: whether it has loaded the code of 'columns' tasks (it loads it after its first task). */
  columns?: boolean;
}

/** The buffers of a 'columns' task's arrays (each once). */
export function taskBuffers(task: EncodeTask): ArrayBuffer[] {
  if (task.kind !== 'columns') return [];
  const buffers = new Set<ArrayBuffer>();
  for (const c of task.parts.columns) {
    for (const array of [c.valid, c.numbers, c.offsets, c.bytes, c.forms]) {
      if (array !== undefined && array.buffer instanceof ArrayBuffer && array.buffer.byteLength > 0)
        buffers.add(array.buffer);
    }
  }
  return [...buffers];
}

/**
 * How a task failed: `stage` is writeIpcToParquet's ('read', 'write') or 'worker' (anything else threw,
 * e.g. batch parts that do not fit their schema); `error` is the thrown value.
 */
export interface EncodeFailure {
  stage: 'read' | 'write' | 'worker';
  error: unknown;
}

/**
 * Rows [start, end) of `batch` as an Arrow table under `schema` (ColumnBatch.toArrow), with the null
 * counts of the leaves past the statistics' limit added to its statistics (which buildStats would
 * otherwise count in rows): every leaf has a null count.
 */
export function batchSliceArrow(
  batch: ColumnBatch,
  schema: StructType,
  start: number,
  end: number,
  options: ParquetWriteOptions,
): ArrowColumns {
  const arrow = batch.toArrow(schema, start, end, options);
  const covered = new Set(arrow.stats.map((s) => s.path.join('.')));
  const stats: ColumnStats[] = [...arrow.stats];
  for (const s of batch.nullCounts(start, end)) if (!covered.has(s.path.join('.'))) stats.push(s);
  return { ...arrow, stats };
}

/** Runs `task` on this thread: the file, or the failure. */
export function runEncodeTask(task: EncodeTask): { ok: true; result: EncodeResult } | ({ ok: false } & EncodeFailure) {
  let ipc: Uint8Array;
  let settings: IpcWriteSettings;
  let stats: ColumnStats[] | undefined;
  try {
    if (task.kind === 'ipc') {
      ipc = task.ipc;
      settings = task.settings;
    } else {
      const batch = ColumnBatch.fromParts(task.batchSchema, task.parts);
      const arrow = batchSliceArrow(batch, task.dataSchema, 0, batch.length, task.options);
      ipc = tableToIPC(arrow.table, 'stream');
      settings = ipcWriteSettings(resolveParquetWriteOptions(task.options), arrow.dictionaryColumns);
      stats = arrow.stats;
    }
  } catch (error) {
    return { ok: false, stage: 'worker', error };
  }
  const written = writeIpcToParquet(parquetWasmModule(), ipc, settings);
  if (!written.ok) return written;
  return { ok: true, result: stats === undefined ? { bytes: written.bytes } : { bytes: written.bytes, stats } };
}
