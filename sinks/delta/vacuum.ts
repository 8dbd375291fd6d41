// Vacuum: deletes data files that no version within the retention period references (PROTOCOL.md
// "Data Files"; Spark's VacuumCommand): never live files, recent tombstones, recent files (in-flight
// writes), `_delta_log` or other hidden paths. Refuses retentions shorter than the table's unless forced.
import type { ObjectStore } from '../../storage/object-store.js';
import { DeltaError } from './errors.js';
import { isHiddenPath, logPathToKey } from './file-names.js';
import { parseIntervalMs, RETENTION_DEFAULTS } from './log-cleanup.js';
import type { DeltaSnapshot } from './snapshot.js';

export interface VacuumOptions {
  /** Keep files deleted (or written) less than this many hours ago. Default delta.deletedFileRetentionDuration (7 days). */
  retentionHours?: number;
  /** Only list the files that would be deleted. */
  dryRun?: boolean;
  /** Allow a retention shorter than delta.deletedFileRetentionDuration (Spark's retentionDurationCheck). */
  force?: boolean;
  /** Clock (ms). Default Date.now. */
  now?: () => number;
  /** Deletes in flight at once. Default 8. */
  concurrency?: number;
}

export interface VacuumResult {
  dryRun: boolean;
  /** Keys deleted (or, in a dry run, that would be), sorted. */
  files: string[];
  /** Their total size in bytes. */
  bytes: number;
  /** Files younger than this (ms since the epoch) were kept. */
  cutoff: number;
}

/**
 * Vacuums `snapshot`'s table. Throws INVALID_ARGUMENT for a negative retention, or a retention
 * shorter than the table's delta.deletedFileRetentionDuration without `force`.
 */
export async function vacuum(
  store: ObjectStore,
  snapshot: DeltaSnapshot,
  options: VacuumOptions = {},
): Promise<VacuumResult> {
  const configured = parseIntervalMs(
    snapshot.properties['delta.deletedFileRetentionDuration'],
    RETENTION_DEFAULTS.deletedFileRetentionMs,
  );
  const retentionMs = options.retentionHours === undefined ? configured : options.retentionHours * 3_600_000;
  if (!Number.isFinite(retentionMs) || retentionMs < 0) {
    throw new DeltaError(`vacuum retention must be a non-negative number of hours, got ${options.retentionHours}`, {
      code: 'INVALID_ARGUMENT',
      context: { retentionHours: options.retentionHours },
    });
  }
  if (retentionMs < configured && !options.force) {
    throw new DeltaError(
      `vacuum retention of ${retentionMs / 3_600_000} hours is shorter than delta.deletedFileRetentionDuration (${configured / 3_600_000} hours): concurrent readers and writers may lose files; pass force: true to vacuum anyway`,
      {
        code: 'INVALID_ARGUMENT',
        context: { retentionHours: retentionMs / 3_600_000, configuredHours: configured / 3_600_000 },
      },
    );
  }
  const cutoff = (options.now ?? Date.now)() - retentionMs;
  const keep = new Set<string>();
  for (const add of snapshot.files) {
    const key = logPathToKey(add.path);
    if (key !== undefined) keep.add(key);
  }
  for (const remove of snapshot.tombstones) {
    if ((remove.deletionTimestamp ?? 0) <= cutoff) continue;
    const key = logPathToKey(remove.path);
    if (key !== undefined) keep.add(key);
  }
  const files: string[] = [];
  let bytes = 0;
  for await (const object of store.list()) {
    if (isHiddenPath(object.key, snapshot.partitionColumns)) continue;
    if (keep.has(object.key)) continue;
    if (object.lastModified > cutoff) continue;
    files.push(object.key);
    bytes += object.size;
  }
  files.sort();
  if (!options.dryRun) {
    const limit = Math.max(1, options.concurrency ?? 8);
    let next = 0;
    const worker = async () => {
      while (next < files.length) await store.delete(files[next++] as string);
    };
    await Promise.all(Array.from({ length: Math.min(limit, files.length) }, worker));
  }
  return { dryRun: options.dryRun === true, files, bytes, cutoff };
}
