// The encode worker thread: plain-JS source that loads its own parquet-wasm instance and runs
// writeIpcToParquet (parquet-writer.ts, shipped as source text) on Arrow IPC streams it is sent.
//
// The worker is started from source (`eval: true`), not from a file, because one file cannot serve
// every way lakestream runs: under tsx the sources are .ts, under vitest a .ts worker entry would not
// be transformed by vite, and tsc emits .js into dist/. The main thread resolves parquet-wasm's
// absolute path (createRequire from this module), so the worker `require`s the same package build.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { writeIpcToParquet } from './parquet-writer.js';

/**
 * How a worker answers a job it could not write (the error of a WorkerPool reply): `stage` is
 * writeIpcToParquet's ('read', 'write') or 'worker' (anything else threw); `error` is the thrown
 * value, structured-cloned (or its String() when it cannot be cloned). The worker speaks the
 * WorkerPool protocol (common/worker-pool.ts): `{ ready: true }` once parquet-wasm is loaded, then
 * per task `{ id, task: { ipc, settings } }` → `{ id, ok: true, result: bytes }` or
 * `{ id, ok: false, error: EncodeFailure }`.
 */
export interface EncodeFailure {
  stage: 'read' | 'write' | 'worker';
  error: unknown;
}

/** The worker's program (CommonJS, as eval'd worker code is). */
function workerSource(): string {
  return `'use strict';
const { parentPort, workerData } = require('node:worker_threads');
// esbuild's keepNames helper, in case a name-keeping transform reached the shipped function.
const __name = (fn) => fn;
const writeIpcToParquet = (${writeIpcToParquet.toString()});
const pq = require(workerData.parquetWasm);
parentPort.on('message', ({ id, task }) => {
  let result;
  try {
    result = writeIpcToParquet(pq, task.ipc, task.settings);
  } catch (error) {
    result = { ok: false, stage: 'worker', error };
  }
  if (result.ok) {
    const bytes = result.bytes;
    const own = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
    parentPort.postMessage({ id, ok: true, result: own }, [own.buffer]);
    return;
  }
  try {
    parentPort.postMessage({ id, ok: false, error: { stage: result.stage, error: result.error } });
  } catch {
    parentPort.postMessage({ id, ok: false, error: { stage: result.stage, error: String(result.error) } });
  }
});
parentPort.postMessage({ ready: true });
`;
}

let cached: { source: string; parquetWasm: string } | undefined;

/**
 * Starts one encode worker (it posts `{ ready: true }` once it can take jobs; jobs posted earlier
 * wait in its queue). The caller (a WorkerPool) owns the Worker: listeners, ref/unref, terminate.
 */
export function startEncodeWorker(): Worker {
  cached ??= {
    source: workerSource(),
    parquetWasm: createRequire(import.meta.url).resolve('parquet-wasm'),
  };
  return new Worker(cached.source, { eval: true, workerData: { parquetWasm: cached.parquetWasm } });
}
