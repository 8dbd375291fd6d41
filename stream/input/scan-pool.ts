// The JSON scan pool: worker threads that run parseJson's columnar scan (scan-records.ts) of large
// groups, so the calling thread goes on with other work meanwhile (the previous batch's commit, the
// next operators) and the scan of a batch overlaps the encoding of the one before. The process-wide
// default pool and its LAKESTREAM_SCAN_WORKERS switch.

import { siblingModule, WorkerPool } from '../../common/worker-pool.js';
import { ColumnBatch } from '../../sinks/parquet/column-batch.js';
import { StreamArgumentError } from '../errors.js';
import type { ScannedParts, ScannedRecords, ScanTask } from './scan-records.js';

/** Fewest records worth posting to a worker (smaller groups are scanned on the calling thread). */
export const MIN_POOLED_RECORDS = 4096;

/**
 * A WorkerPool (common/worker-pool.ts) of scan workers (scan-worker.ts). Lazy and never keeping the
 * process alive (see WorkerPool). A task's outcome is exactly runScanTask's on the calling thread; a
 * worker that dies while scanning rejects its task with the retryable WORKER_EXITED (the batch is
 * retried), one that cannot start with the non-retryable WORKER_START_FAILED.
 */
export class JsonScanPool {
  private readonly pool: WorkerPool<ScanTask, ScannedParts | undefined>;
  /** Tasks posted so far. */
  tasks = 0;

  constructor(
    readonly size: number,
    workerModule: URL = siblingModule(import.meta.url, 'scan-worker'),
  ) {
    this.pool = new WorkerPool<ScanTask, ScannedParts | undefined>(workerModule, {
      size,
      name: 'JSON scan worker',
      // A task's batch lives until it is posted back: a young generation that holds it saves promoting it.
      resourceLimits: { maxYoungGenerationSizeMb: 64 },
    });
  }

  /** Scans the task's records in a worker (the packed records' buffers are transferred). */
  async scan(task: ScanTask): Promise<ScannedRecords | undefined> {
    const { records } = task;
    const transfer = [records.bytes.buffer as ArrayBuffer, records.ends.buffer as ArrayBuffer];
    this.tasks++;
    const result = await this.pool.run(task, transfer);
    if (result === undefined) return undefined;
    return { batch: ColumnBatch.fromParts(task.schema, result.parts), origin: result.origin, letters: result.letters };
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}

/**
 * Environment switch of the default pool, read once on first use: unset or `0` → no pool, parseJson
 * scans on the calling thread; a positive integer → that many workers. Off by default: on two cores
 * (bench/engine.ts) the worker gained 2 points of throughput for parse → watermark → dedup → Delta
 * (59 % vs 57 % of the raw pipeline, less CPU) but lost 10 for parse → Delta (89 % vs 100 %), where
 * the scan thread only competes with the Parquet encode workers.
 */
export const SCAN_POOL_SIZE_ENV = 'LAKESTREAM_SCAN_WORKERS';

let shared: JsonScanPool | null | undefined;

/** The process-wide scan pool parseJson uses, or null when disabled. */
export function defaultScanPool(): JsonScanPool | null {
  if (shared === undefined) {
    const text = process.env[SCAN_POOL_SIZE_ENV]?.trim();
    let size: number;
    if (text === undefined || text === '') size = 0;
    else {
      size = Number(text);
      if (!Number.isSafeInteger(size) || size < 0) {
        throw new StreamArgumentError(`invalid ${SCAN_POOL_SIZE_ENV}=${text}: expected 0 (off) or a positive integer`, {
          option: SCAN_POOL_SIZE_ENV,
        });
      }
    }
    shared = size === 0 ? null : new JsonScanPool(size);
  }
  return shared;
}
