// Commit history and timestamp → version resolution (time travel by timestamp). A commit's time is its
// file modification time made strictly increasing (each commit at least 1 ms after the previous, as
// Spark's DeltaHistoryManager does), or its In-Commit Timestamp where that feature is on.
import type { ObjectStore } from '../../storage/object-store.js';
import type { Action, CommitInfoAction } from './actions.js';
import { DeltaError } from './errors.js';
import { parseCommitFile } from './log-codec.js';
import { completeCheckpoints, type ListedLogFile, listLogFiles } from './log-segment.js';
import { commitTimestamp } from './replay.js';

export interface HistoryEntry {
  version: number;
  /** inCommitTimestamp, else commitInfo.timestamp, else the file modification time (ms). */
  timestamp: number;
  /** The commit's commitInfo action ({} when the commit has none). */
  commitInfo: CommitInfoAction;
}

export interface HistoryOptions {
  /** Return at most this many entries (the newest). Default: all. */
  limit?: number;
}

async function readActions(store: ObjectStore, file: ListedLogFile): Promise<Action[]> {
  return parseCommitFile(await store.get(file.key), file.key);
}

function commitFiles(files: readonly ListedLogFile[]): ListedLogFile[] {
  return files.filter((f) => f.kind === 'commit');
}

/**
 * The table's commits, newest first: version, timestamp and commitInfo. Commits removed by log
 * cleanup are absent. Throws TABLE_NOT_FOUND when there is no commit at all.
 */
export async function history(store: ObjectStore, options: HistoryOptions = {}): Promise<HistoryEntry[]> {
  const commits = commitFiles(await listLogFiles(store)).reverse();
  if (commits.length === 0)
    throw new DeltaError(`no Delta table at ${store.location}: no commit files`, {
      code: 'TABLE_NOT_FOUND',
      context: { location: store.location },
    });
  const chosen = options.limit === undefined ? commits : commits.slice(0, Math.max(0, options.limit));
  return Promise.all(
    chosen.map(async (file) => {
      const actions = await readActions(store, file);
      const info = actions.find((a): a is { commitInfo: CommitInfoAction } => 'commitInfo' in a);
      return {
        version: file.version,
        timestamp: commitTimestamp(actions, file.lastModified),
        commitInfo: info?.commitInfo ?? {},
      };
    }),
  );
}

/**
 * Resolves time travel by timestamp: the latest version whose commit time is ≤ `timestamp` (ms).
 * Only reconstructable versions count (from version 0, or from the earliest complete checkpoint).
 * Throws VERSION_NOT_FOUND when `timestamp` is before the earliest such commit, TABLE_NOT_FOUND
 * without a log.
 */
export async function versionAtTimestamp(store: ObjectStore, timestamp: number): Promise<number> {
  if (!Number.isFinite(timestamp)) {
    throw new DeltaError(`invalid timestamp ${timestamp}`, { code: 'INVALID_ARGUMENT', context: { timestamp } });
  }
  const files = await listLogFiles(store);
  const all = commitFiles(files);
  if (all.length === 0)
    throw new DeltaError(`no Delta table at ${store.location}: no commit files`, {
      code: 'TABLE_NOT_FOUND',
      context: { location: store.location },
    });
  const firstCheckpoint = completeCheckpoints(files)[0]?.version;
  const earliest = all[0]?.version === 0 ? 0 : (firstCheckpoint ?? Number.POSITIVE_INFINITY);
  const commits = all.filter((f) => f.version >= earliest);

  const times = await commitTimes(store, commits);
  let found: number | undefined;
  for (let i = 0; i < commits.length; i++) {
    if ((times[i] as number) <= timestamp) found = (commits[i] as ListedLogFile).version;
    else break;
  }
  if (found === undefined) {
    throw new DeltaError(`no version committed at or before ${new Date(timestamp).toISOString()}`, {
      code: 'VERSION_NOT_FOUND',
      context: { timestamp, earliest: commits[0]?.version },
    });
  }
  return found;
}

/**
 * Commit times of ascending, contiguous commit files: modification times adjusted to increase
 * strictly; from the first commit carrying an inCommitTimestamp on (found by binary search, since
 * the feature stays on once enabled), the inCommitTimestamps.
 */
async function commitTimes(store: ObjectStore, commits: readonly ListedLogFile[]): Promise<number[]> {
  const cache = new Map<number, number | undefined>();
  const ict = async (index: number): Promise<number | undefined> => {
    if (!cache.has(index)) {
      const actions = await readActions(store, commits[index] as ListedLogFile);
      const info = actions.find((a): a is { commitInfo: CommitInfoAction } => 'commitInfo' in a)?.commitInfo;
      cache.set(index, typeof info?.inCommitTimestamp === 'number' ? info.inCommitTimestamp : undefined);
    }
    return cache.get(index);
  };
  let ictStart = commits.length;
  if (commits.length > 0 && (await ict(commits.length - 1)) !== undefined) {
    let lo = 0;
    let hi = commits.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((await ict(mid)) !== undefined) hi = mid;
      else lo = mid + 1;
    }
    ictStart = lo;
  }
  const times: number[] = [];
  let previous = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < commits.length; i++) {
    const inCommit = i >= ictStart ? await ict(i) : undefined;
    if (inCommit !== undefined) {
      times.push(inCommit);
      previous = inCommit;
      continue;
    }
    const modified = (commits[i] as ListedLogFile).lastModified;
    const adjusted = modified > previous ? modified : previous + 1;
    times.push(adjusted);
    previous = adjusted;
  }
  return times;
}
