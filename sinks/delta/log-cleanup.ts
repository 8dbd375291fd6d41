// Expired log cleanup (PROTOCOL.md "Metadata Cleanup") and the retention table properties it shares
// with checkpoints and vacuum: keep the newest checkpoint at or before now − delta.logRetentionDuration
// and everything after it; delete older commits, checkpoints and checksum files.
import type { ObjectStore } from '../../storage/object-store.js';
import { DeltaError } from './errors.js';
import { LOG_DIR } from './log-path.js';
import { completeCheckpoints, listLogFiles } from './log-segment.js';
import type { DeltaSnapshot } from './snapshot.js';

const DAY_MS = 86_400_000;
const MS: Record<string, number> = {
  nanosecond: 1e-6,
  microsecond: 1e-3,
  millisecond: 1,
  second: 1_000,
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
  week: 604_800_000,
};

/** Spark's defaults for the retention properties (DeltaConfig.scala). */
export const RETENTION_DEFAULTS = Object.freeze({
  /** delta.logRetentionDuration: 30 days. */
  logRetentionMs: 30 * DAY_MS,
  /** delta.deletedFileRetentionDuration: 1 week. */
  deletedFileRetentionMs: 7 * DAY_MS,
  /** delta.checkpointInterval. */
  checkpointInterval: 10,
});

/**
 * Milliseconds of a Delta interval property such as 'interval 7 days', '30 days', '1 week',
 * 'interval 2 hours 30 minutes'; `fallback` when the property is unset. Throws INVALID_ARGUMENT when
 * it does not parse.
 */
export function parseIntervalMs(text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  let rest = text.trim().toLowerCase();
  if (rest.startsWith('interval')) rest = rest.slice('interval'.length).trim();
  const part = /^(-?\d+(?:\.\d+)?)\s*([a-z]+?)s?(?:\s+|$)/;
  let total = 0;
  let matched = false;
  while (rest !== '') {
    const m = part.exec(rest);
    const unit = m ? MS[m[2] as string] : undefined;
    if (!m || unit === undefined) {
      throw new DeltaError(`cannot parse the interval ${JSON.stringify(text)}`, {
        code: 'INVALID_ARGUMENT',
        context: { interval: text },
      });
    }
    total += Number(m[1]) * unit;
    matched = true;
    rest = rest.slice(m[0].length);
  }
  if (!matched) {
    throw new DeltaError(`cannot parse the interval ${JSON.stringify(text)}`, {
      code: 'INVALID_ARGUMENT',
      context: { interval: text },
    });
  }
  return total;
}

/** delta.checkpointInterval of a snapshot (default 10); INVALID_ARGUMENT unless a positive integer. */
export function checkpointInterval(properties: Readonly<Record<string, string>>): number {
  const text = properties['delta.checkpointInterval'];
  if (text === undefined) return RETENTION_DEFAULTS.checkpointInterval;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new DeltaError(`delta.checkpointInterval must be a positive integer, got ${JSON.stringify(text)}`, {
      code: 'INVALID_ARGUMENT',
      context: { property: 'delta.checkpointInterval', value: text },
    });
  }
  return n;
}

export interface LogCleanupOptions {
  /** Clock (ms). Default Date.now. */
  now?: () => number;
  /** Overrides delta.logRetentionDuration (ms). */
  retentionMs?: number;
  /** List what would be deleted without deleting. */
  dryRun?: boolean;
}

export interface LogCleanupResult {
  /** The checkpoint version kept as the oldest restorable point, or undefined when nothing qualified. */
  cutoffCheckpoint: number | undefined;
  /** Keys deleted (or, in a dry run, that would be). */
  deleted: string[];
}

/**
 * Deletes expired log files. Following the spec: the cutoff is midnight UTC of (now − retention);
 * the newest complete checkpoint whose commit is not newer than the cutoff is kept with everything
 * after it; older commits, checkpoints, checksums and compactions go. Does nothing when
 * delta.enableExpiredLogCleanup is 'false' or no checkpoint qualifies. Never touches the snapshot's
 * own version or later.
 */
export async function cleanupExpiredLogs(
  store: ObjectStore,
  snapshot: DeltaSnapshot,
  options: LogCleanupOptions = {},
): Promise<LogCleanupResult> {
  if (snapshot.properties['delta.enableExpiredLogCleanup'] === 'false')
    return { cutoffCheckpoint: undefined, deleted: [] };
  const now = (options.now ?? Date.now)();
  const retention =
    options.retentionMs ??
    parseIntervalMs(snapshot.properties['delta.logRetentionDuration'], RETENTION_DEFAULTS.logRetentionMs);
  const cutoff = Math.floor((now - retention) / DAY_MS) * DAY_MS;
  const files = await listLogFiles(store);
  const commitTime = new Map<number, number>();
  for (const file of files) if (file.kind === 'commit') commitTime.set(file.version, file.lastModified);
  // The newest commit not newer than the cutoff, then the newest complete checkpoint at or before it.
  let cutoffCommit: number | undefined;
  for (const [version, modified] of commitTime) {
    if (modified <= cutoff && version <= snapshot.version && (cutoffCommit === undefined || version > cutoffCommit)) {
      cutoffCommit = version;
    }
  }
  if (cutoffCommit === undefined) return { cutoffCheckpoint: undefined, deleted: [] };
  const checkpoints = completeCheckpoints(files).filter((c) => c.version <= (cutoffCommit as number));
  const keep = checkpoints.reduce<number | undefined>(
    (max, c) => (max === undefined || c.version > max ? c.version : max),
    undefined,
  );
  if (keep === undefined) return { cutoffCheckpoint: undefined, deleted: [] };
  const deleted: string[] = [];
  for (const file of files) {
    if (!file.key.startsWith(LOG_DIR)) continue;
    const expired =
      file.kind === 'compaction' ? file.version <= keep : file.version < keep && file.kind !== 'uuid-checkpoint';
    if (expired) deleted.push(file.key);
  }
  if (!options.dryRun) for (const key of deleted) await store.delete(key);
  return { cutoffCheckpoint: keep, deleted };
}
