// The ingest worker thread: runs StageTasks (task.ts runStage) posted by the parallel stage's pool
// and moves the encoded files back without copying them.

import { serveWorkerTasks } from '../../../common/worker-pool.js';
import { runStage, type StageResult, type StageTask } from './task.js';

void serveWorkerTasks<StageTask, StageResult>(async (task) => {
  const result = await runStage(task);
  const transfer: ArrayBuffer[] = [];
  for (const file of result.files) {
    const buffer = file.bytes.buffer;
    const whole = file.bytes.byteOffset === 0 && file.bytes.byteLength === buffer.byteLength;
    if (whole && buffer instanceof ArrayBuffer && !transfer.includes(buffer)) transfer.push(buffer);
  }
  return { result, transfer };
});
