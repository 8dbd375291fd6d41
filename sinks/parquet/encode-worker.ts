// The Parquet encode worker thread: runs the EncodeTasks a ParquetEncodePool posts (encode-task.ts)
// with its own parquet-wasm instance, and moves each file's bytes (and a columns task's buffers, for
// reuse) back without copying them.
//
// It speaks the WorkerPool protocol (common/worker-pool.ts): `{ ready: true }` once its modules (and
// parquet-wasm) are loaded, then per task `{ id, task }` → `{ id, ok: true, result: EncodeResult }` or
// `{ id, ok: false, error: EncodeFailure }` (the thrown value structured-cloned, or its String() when
// it cannot be cloned), which the pool maps to the calling thread's errors.
import { parentPort } from 'node:worker_threads';
import { type EncodeTask, runEncodeTask, taskBuffers } from './encode-task.js';

const port = parentPort;
if (!port) throw new Error('encode-worker runs only in a worker thread');
port.on('message', ({ id, task }: { id: number; task: EncodeTask }) => {
  let outcome: ReturnType<typeof runEncodeTask>;
  try {
    outcome = runEncodeTask(task);
  } catch (error) {
    outcome = { ok: false, stage: 'worker', error };
  }
  if (outcome.ok) {
    const { bytes } = outcome.result;
    const own = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
    // The task's column buffers go back for reuse (the batch made of them is garbage now).
    const spare = taskBuffers(task);
    port.postMessage({ id, ok: true, result: { ...outcome.result, bytes: own, spare } }, [
      own.buffer as ArrayBuffer,
      ...spare,
    ]);
    return;
  }
  try {
    port.postMessage({ id, ok: false, error: { stage: outcome.stage, error: outcome.error } });
  } catch {
    port.postMessage({ id, ok: false, error: { stage: outcome.stage, error: String(outcome.error) } });
  }
});
port.postMessage({ ready: true });
