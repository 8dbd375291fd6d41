// Loading a DeltaSnapshot through an ObjectStore: find the log segment, read its checkpoint and
// commits, replay them and apply the feature gate. Also the cheap look-ups writers need: the latest
// version and one parsed commit file.

import { mapLimit } from '../../common/map-limit.js';
import type { ObjectStore } from '../../storage/object-store.js';
import type { Action } from './actions.js';
import { readCheckpoint } from './checkpoint-reader.js';
import { DeltaError } from './errors.js';
import { versionAtTimestamp } from './history.js';
import { parseCommitFile } from './log-codec.js';
import { commitPath } from './log-path.js';
import { findLogSegment, type ListedLogFile, listLogFiles, readLastCheckpoint } from './log-segment.js';
import { assertNoDeletionVector, assertReadable } from './protocol.js';
import {
  type ActionSource,
  applyBatches,
  commitTimestamp,
  emptyReplayState,
  type ReplayedSnapshot,
  snapshotFromState,
} from './replay.js';

export interface LoadSnapshotOptions {
  /** Load this version (time travel); default the latest. */
  version?: number;
  /**
   * Load the latest version committed at or before this time (ms since the epoch, or a Date). Commit
   * times are the commit files' modification times made strictly increasing (Spark's rule), or
   * In-Commit Timestamps where enabled. Exclusive with `version`.
   */
  timestamp?: number | Date;
  /** Commit files read in parallel. Default 8. */
  concurrency?: number;
}

const isNotFound = (error: unknown) => (error as { code?: string } | null)?.code === 'OBJECT_NOT_FOUND';

/** Reads and parses `_delta_log/<version>.json`; undefined when the commit does not exist. */
export async function readCommit(store: ObjectStore, version: number): Promise<Action[] | undefined> {
  const key = commitPath(version);
  let bytes: Uint8Array;
  try {
    bytes = await store.get(key);
  } catch (cause) {
    if (isNotFound(cause)) return undefined;
    throw cause;
  }
  return parseCommitFile(bytes, key);
}

async function readListedCommit(store: ObjectStore, file: ListedLogFile): Promise<Action[]> {
  try {
    return parseCommitFile(await store.get(file.key), file.key);
  } catch (cause) {
    if (!isNotFound(cause)) throw cause;
    throw new DeltaError(`commit file ${file.key} disappeared while reading the log`, {
      code: 'LOG_CORRUPT',
      cause,
      context: { file: file.key },
    });
  }
}

/**
 * The latest version of the table, or undefined when there is no log. Reads `_last_checkpoint` and
 * lists only from the hinted version (the whole log when the hint is absent or lists nothing).
 */
export async function latestVersion(store: ObjectStore): Promise<number | undefined> {
  const hint = await readLastCheckpoint(store);
  let files = hint ? await listLogFiles(store, hint.version) : [];
  if (files.length === 0) files = await listLogFiles(store);
  let latest: number | undefined;
  for (const file of files) {
    if (
      file.kind === 'commit' ||
      file.kind === 'checkpoint' ||
      file.kind === 'multipart-checkpoint' ||
      file.kind === 'uuid-checkpoint'
    ) {
      latest = latest === undefined ? file.version : Math.max(latest, file.version);
    }
  }
  return latest;
}

/**
 * Loads the snapshot of the table at the latest version, at `version`, or as of `timestamp`.
 *
 * Throws DeltaError:
 * - TABLE_NOT_FOUND: no commit or checkpoint in `_delta_log/`;
 * - VERSION_NOT_FOUND: the version/timestamp is outside the reconstructable range;
 * - UNSUPPORTED_FEATURE: the protocol needs a reader feature lakestream lacks, or a file has a
 *   deletion vector (context.feature names it);
 * - LOG_CORRUPT: unparsable file, missing commit in the segment, no protocol/metaData.
 */
export async function loadSnapshot(store: ObjectStore, options: LoadSnapshotOptions = {}): Promise<ReplayedSnapshot> {
  if (options.version !== undefined && options.timestamp !== undefined) {
    throw new DeltaError('give either version or timestamp, not both', { code: 'INVALID_ARGUMENT' });
  }
  let version = options.version;
  if (options.timestamp !== undefined) {
    const ms = options.timestamp instanceof Date ? options.timestamp.getTime() : options.timestamp;
    version = await versionAtTimestamp(store, ms);
  }
  if (version !== undefined && (!Number.isSafeInteger(version) || version < 0)) {
    throw new DeltaError(`invalid version ${version}`, { code: 'INVALID_ARGUMENT', context: { version } });
  }
  const segment = await findLogSegment(store, version);
  const concurrency = options.concurrency ?? 8;
  const [checkpointActions, commits] = await Promise.all([
    segment.checkpoint
      ? readCheckpoint(
          store,
          segment.checkpoint.files.map((f) => f.key),
        )
      : Promise.resolve([]),
    mapLimit(segment.commits, concurrency, (file) => readListedCommit(store, file)),
  ]);
  const batches: { actions: readonly Action[]; source: ActionSource }[] = [];
  if (segment.checkpoint) {
    const cp = segment.checkpoint;
    batches.push({
      actions: checkpointActions,
      source: { version: cp.version, timestamp: await checkpointTimestamp(store, cp.version, cp.files) },
    });
  }
  segment.commits.forEach((file, i) => {
    const actions = commits[i] as Action[];
    batches.push({
      actions,
      source: { version: file.version, timestamp: commitTimestamp(actions, file.lastModified) },
    });
  });
  const state = applyBatches(emptyReplayState(), batches);
  if (state.protocol && state.metadata) assertReadable(state.protocol, state.metadata);
  const snapshot = snapshotFromState(state);
  for (const add of snapshot.files) assertNoDeletionVector(add);
  return snapshot;
}

/** The timestamp of a checkpoint's version: from its commit file when still present, else the checkpoint's mtime. */
async function checkpointTimestamp(
  store: ObjectStore,
  version: number,
  files: readonly ListedLogFile[],
): Promise<number> {
  const actions = await readCommit(store, version).catch(() => undefined);
  const fallback = Math.max(...files.map((f) => f.lastModified));
  if (!actions) return fallback;
  try {
    return commitTimestamp(actions, (await store.head(commitPath(version))).lastModified);
  } catch {
    return commitTimestamp(actions, fallback);
  }
}
