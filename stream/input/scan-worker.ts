// The JSON scan worker thread: runs ScanTasks (scan-records.ts runScanTask) posted by the scan pool
// and moves the batch's arrays back without copying them.

import { serveWorkerTasks } from '../../common/worker-pool.js';
import { runScanTask, type ScannedParts, type ScanTask } from './scan-records.js';

void serveWorkerTasks<ScanTask, ScannedParts | undefined>(async (task) => {
  const scanned = await runScanTask(task);
  if (scanned === undefined) return { result: undefined };
  const { parts, transfer } = scanned.batch.parts();
  transfer.push(scanned.origin.buffer as ArrayBuffer);
  return { result: { parts, origin: scanned.origin, letters: scanned.letters }, transfer };
});
