// ParquetEncodePool: a few worker threads that run the parquet-wasm half of encoding (Arrow IPC →
// Parquet bytes), so the calling thread is free while a file is written and several files can be
// written at once. The process-wide default pool and its LAKESTREAM_PARQUET_WORKERS switch.
import { availableParallelism } from 'node:os';
import { type Table, tableToIPC } from 'apache-arrow';
import { siblingModule, WorkerPool } from '../../common/worker-pool.js';
import type { StructType } from '../schema.js';
import type { ColumnBatch } from './column-batch.js';
import { batchSliceArrow, type EncodeFailure, type EncodeResult, type EncodeTask } from './encode-task.js';
import { ParquetEncodeError, ParquetWorkerError, ParquetWriterError } from './errors.js';
import { type IpcWriteSettings, ipcWriteSettings } from './ipc-writer.js';
import { type ParquetWriteOptions, resolveParquetWriteOptions } from './options.js';
import { unwrapIpcWrite } from './parquet-writer.js';
import type { ColumnStats } from './stats.js';

export interface ParquetEncodePoolOptions {
  /** Most worker threads (and files written at once). Default min(2, os.availableParallelism()). */
  size?: number;
}

/**
 * Worker threads writing Parquet files from Arrow IPC streams or from rows of a ColumnBatch, with the
 * exact bytes (and statistics) the calling thread writes for them (both run encode-task.ts). A
 * WorkerPool (common/worker-pool.ts) of encode workers (encode-worker.ts):
 *
 * - Lazy: no thread starts before the first job; at most `size` run, each one job at a time, the
 *   rest wait in FIFO order.
 * - Never keeps the process alive: a worker is `unref()`ed while idle and `ref()`ed only while it
 *   writes a file (so a pending write is not cut short by the process exiting).
 * - Errors are those of the synchronous path: a parquet-wasm failure is the same ParquetWriterError
 *   (code WRITER_FAILED, `cause` the parquet-wasm error) and that worker is replaced, since a wasm
 *   instance is not trusted after a failure. A worker that dies while writing (crash, out of memory,
 *   terminated) rejects its job with a retryable ParquetWorkerError (code WORKER_EXITED) and is
 *   replaced by the next job; one that cannot start (parquet-wasm fails to load) rejects its job
 *   with a non-retryable ParquetWriterError.
 */
export class ParquetEncodePool {
  readonly size: number;
  private readonly pool: WorkerPool<EncodeTask, EncodeResult>;
  /** Column buffers workers sent back, reused by writeColumns' copies (fresh memory costs page faults and GC). */
  private spare: ArrayBuffer[] = [];
  private spareBytes = 0;

  constructor(
    options: ParquetEncodePoolOptions = {},
    workerModule: URL = siblingModule(import.meta.url, 'encode-worker'),
  ) {
    const size = options.size ?? Math.min(2, availableParallelism());
    if (!Number.isSafeInteger(size) || size < 1) {
      throw new ParquetEncodeError(`invalid Parquet encode pool size ${String(size)}: expected a positive integer`, {
        code: 'INVALID_OPTION',
        context: { option: 'size', value: size },
      });
    }
    this.size = size;
    this.pool = new WorkerPool<EncodeTask, EncodeResult>(workerModule, {
      size,
      name: 'Parquet encode worker',
      retireAfterError: true,
      taskError: (error, task) => writerFailure(error as EncodeFailure, task.rows),
      startError: (cause, exitCode) =>
        new ParquetWriterError(
          `the Parquet encode worker could not start: ${String(cause)} ` +
            `(set ${POOL_SIZE_ENV}=0 to encode on the calling thread)`,
          cause,
          { exitCode },
        ),
      exitError: (why, cause, exitCode, task) =>
        new ParquetWorkerError(`the Parquet encode worker ended while writing a file (${why})`, cause, {
          exitCode,
          rows: task.rows,
        }),
      sendError: (cause) =>
        new ParquetWriterError(`could not send the Arrow IPC stream to the encode worker: ${String(cause)}`, cause),
      closedError,
    });
  }

  /** Worker threads currently alive (0 before the first job and after close). */
  get threads(): number {
    return this.pool.threads;
  }

  /**
   * arrowToParquet in a worker: serialises `table` to an Arrow IPC stream on this thread and writes
   * it as Parquet in a worker. Rejects with ParquetEncodeError INVALID_OPTION, ParquetWriterError
   * or ParquetWorkerError (retryable).
   */
  async writeTable(
    table: Table,
    options?: ParquetWriteOptions,
    dictionaryColumns: readonly string[] = [],
  ): Promise<Uint8Array> {
    const resolved = resolveParquetWriteOptions(options);
    return this.writeIpc(tableToIPC(table, 'stream'), ipcWriteSettings(resolved, dictionaryColumns), table.numRows);
  }

  /**
   * Writes one Arrow IPC stream as Parquet in a worker. Takes ownership of `ipc`: its buffer is
   * transferred to the worker (not copied) when `ipc` spans all of it, so `ipc` is unusable after.
   * `rows` only goes into error context.
   */
  async writeIpc(ipc: Uint8Array, settings: IpcWriteSettings, rows: number): Promise<Uint8Array> {
    const whole = ipc.byteOffset === 0 && ipc.byteLength === ipc.buffer.byteLength && ipc.buffer instanceof ArrayBuffer;
    const own = whole ? ipc : ipc.slice();
    const result = await this.pool.run({ kind: 'ipc', ipc: own, settings, rows }, [own.buffer as ArrayBuffer]);
    if (result.columns) this.columnsInWorkers = true;
    return result.bytes;
  }

  /** Whether a worker said it has loaded the code of 'columns' tasks (writeColumns posts them from then on). */
  columnsInWorkers = false;

  /**
   * Writes rows [start, end) of `batch` under `schema` as one Parquet file in a worker: the bytes and
   * statistics batchSliceArrow + arrowToParquet give on this thread. This thread only copies the rows'
   * arrays (ColumnBatch.sliceParts); `batch` is left as it is. Rejects as writeTable does, and with a
   * ParquetWriterError when the batch has no column of the schema's type.
   */
  async writeColumns(
    batch: ColumnBatch,
    schema: StructType,
    start: number,
    end: number,
    options: ParquetWriteOptions = {},
  ): Promise<{ bytes: Uint8Array; stats: ColumnStats[] }> {
    resolveParquetWriteOptions(options);
    if (!this.columnsInWorkers) {
      // Until a worker has the code loaded: the table on this thread, written as writeTable writes it.
      const arrow = batchSliceArrow(batch, schema, start, end, options);
      return { bytes: await this.writeTable(arrow.table, options, arrow.dictionaryColumns), stats: arrow.stats };
    }
    const { parts, transfer } = batch.sliceParts(start, end, (bytes) => this.allocate(bytes));
    const task: EncodeTask = {
      kind: 'columns',
      batchSchema: batch.schema,
      parts,
      dataSchema: schema,
      options,
      rows: end - start,
    };
    const result = await this.pool.run(task, transfer);
    for (const buffer of result.spare ?? []) this.keep(buffer);
    return { bytes: result.bytes, stats: result.stats ?? [] };
  }

  /** A buffer of at least `bytes`: the smallest spare one that is not more than twice as large, or a new one. */
  private allocate(bytes: number): ArrayBuffer {
    if (bytes >= MIN_SPARE_BYTES) {
      let best = -1;
      for (let i = 0; i < this.spare.length; i++) {
        const size = this.spare[i]!.byteLength;
        if (size >= bytes && size <= 2 * bytes && (best < 0 || size < this.spare[best]!.byteLength)) best = i;
      }
      if (best >= 0) {
        const [buffer] = this.spare.splice(best, 1);
        this.spareBytes -= buffer!.byteLength;
        return buffer!;
      }
    }
    return new ArrayBuffer(bytes);
  }

  /** Keeps a buffer sent back for reuse, dropping the oldest ones past MAX_SPARE_BYTES. */
  private keep(buffer: ArrayBuffer): void {
    if (buffer.byteLength < MIN_SPARE_BYTES) return;
    this.spare.push(buffer);
    this.spareBytes += buffer.byteLength;
    while (this.spareBytes > MAX_SPARE_BYTES) this.spareBytes -= this.spare.shift()!.byteLength;
  }

  /** Bytes held for reuse (tests). */
  get spareBytesHeld(): number {
    return this.spareBytes;
  }

  /** Ends every worker; jobs waiting or in flight reject (non-retryable). Later jobs reject at once. */
  async close(): Promise<void> {
    await this.pool.close();
  }

  /** Test seam: terminates every worker as a crash would (their jobs reject with ParquetWorkerError). */
  async terminateWorkersForTesting(): Promise<void> {
    await this.pool.terminateWorkersForTesting();
  }
}

/** Buffers below this size are not worth reusing. */
const MIN_SPARE_BYTES = 64 * 1024;
/** Most bytes held for reuse (about two batches of 50 000 rows of ~400 bytes). */
const MAX_SPARE_BYTES = 64 * 1024 * 1024;

function closedError(): ParquetWriterError {
  return new ParquetWriterError('the Parquet encode pool is closed', undefined);
}

function writerFailure(reply: EncodeFailure, rows: number): unknown {
  if (reply.stage === 'worker') {
    return new ParquetWriterError(`the Parquet encode worker failed: ${String(reply.error)}`, reply.error, { rows });
  }
  try {
    unwrapIpcWrite({ ok: false, stage: reply.stage, error: reply.error }, rows);
  } catch (error) {
    return error;
  }
  return new ParquetWriterError('parquet-wasm failed without an error', undefined, { rows });
}

/**
 * Environment switch of the default pool, read once on first use: unset → a pool of
 * min(2, os.availableParallelism()) workers; a positive integer → that many; `0` → no pool, Parquet
 * is encoded on the calling thread (e.g. where worker_threads are unavailable or unwanted).
 */
export const POOL_SIZE_ENV = 'LAKESTREAM_PARQUET_WORKERS';

let shared: ParquetEncodePool | null | undefined;

/** The process-wide pool encodeRowsAsync and DeltaTransaction.writeFiles use, or null when disabled. */
export function defaultEncodePool(): ParquetEncodePool | null {
  if (shared === undefined) {
    const text = process.env[POOL_SIZE_ENV]?.trim();
    if (text === undefined || text === '') shared = new ParquetEncodePool();
    else {
      const size = Number(text);
      if (!Number.isSafeInteger(size) || size < 0) {
        throw new ParquetEncodeError(`invalid ${POOL_SIZE_ENV}=${text}: expected 0 (off) or a positive integer`, {
          code: 'INVALID_OPTION',
          context: { option: POOL_SIZE_ENV, value: text },
        });
      }
      shared = size === 0 ? null : new ParquetEncodePool({ size });
    }
  }
  return shared;
}
