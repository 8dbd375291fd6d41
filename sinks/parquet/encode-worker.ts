// The Parquet encode worker thread: runs the EncodeTasks a ParquetEncodePool posts (encode-task.ts)
// with its own parquet-wasm instance, and moves each file's bytes (and a columns task's buffers, for
// reuse) back without copying them.
//
// It speaks the WorkerPool protocol (common/worker-pool.ts): `{ ready: true }` once its modules (and
// parquet-wasm) are loaded, then per task `{ id, task }` → `{ id, ok: true, result: EncodeResult }` or
// `{ id, ok: false, error: EncodeFailure }` (the thrown value structured-cloned, or its String() when
// it cannot be cloned), which the pool maps to the calling thread's errors.
//
// It is ready once parquet-wasm is loaded (ipc-writer.ts). The code of 'columns' tasks (apache-arrow,
// ColumnBatch: a few hundred ms) loads after its first task, or with its first 'columns' task; each
// reply says whether it is loaded, and the pool sends 'columns' tasks only then (see writeColumns),
// so a worker starts as fast as one that only writes IPC streams.
import { parentPort } from 'node:worker_threads';
import type { EncodeTask } from './encode-task.js';
import { parquetWasmModule, writeIpcToParquet } from './ipc-writer.js';

type EncodeTaskModule = typeof import('./encode-task.js');
let code: EncodeTaskModule | undefined;
let loading: Promise<EncodeTaskModule> | undefined;
/** encode-task.ts: required where this module runs as CommonJS (TypeScript under tsx), else imported. */
function loadColumns(): Promise<EncodeTaskModule> {
  if (loading === undefined) {
    const started =
      typeof require === 'function'
        ? new Promise<EncodeTaskModule>((resolve) => resolve(require('./encode-task.js') as EncodeTaskModule))
        : import('./encode-task.js');
    loading = started.then((module) => {
      code = module;
      return module;
    });
    // A failed load is tried again by the next 'columns' task (which then fails with its error).
    loading.catch(() => {
      loading = undefined;
    });
  }
  return loading;
}

type Outcome = ReturnType<EncodeTaskModule['runEncodeTask']>;

const port = parentPort;
if (!port) throw new Error('encode-worker runs only in a worker thread');
port.on('message', async ({ id, task }: { id: number; task: EncodeTask }) => {
  let outcome: Outcome;
  let spare: ArrayBuffer[] = [];
  try {
    if (task.kind === 'ipc') {
      const written = writeIpcToParquet(parquetWasmModule(), task.ipc, task.settings);
      outcome = written.ok ? { ok: true, result: { bytes: written.bytes } } : written;
    } else {
      const module = await loadColumns();
      outcome = module.runEncodeTask(task);
      // The task's column buffers go back for reuse (the batch made of them is garbage now).
      if (outcome.ok) spare = module.taskBuffers(task);
    }
  } catch (error) {
    outcome = { ok: false, stage: 'worker', error };
  }
  if (code === undefined) {
    setImmediate(() => {
      loadColumns().catch(() => {});
    });
  }
  if (outcome.ok) {
    const { bytes } = outcome.result;
    const own = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
    const result = { ...outcome.result, bytes: own, spare, columns: code !== undefined };
    port.postMessage({ id, ok: true, result }, [own.buffer as ArrayBuffer, ...spare]);
    return;
  }
  try {
    port.postMessage({ id, ok: false, error: { stage: outcome.stage, error: outcome.error } });
  } catch {
    port.postMessage({ id, ok: false, error: { stage: outcome.stage, error: String(outcome.error) } });
  }
});
port.postMessage({ ready: true });
