// Log segment selection: which checkpoint and which commit files make up version N (PROTOCOL.md
// "Checkpoints", "Last Checkpoint File"). Starts from _last_checkpoint as a hint and falls back to a
// full listing when the hint is missing, stale, corrupt or points at an incomplete checkpoint.
import type { ObjectMeta, ObjectStore } from '../../storage/object-store.js';
import { DeltaError } from './errors.js';
import { LAST_CHECKPOINT_KEY, LOG_DIR, type LogFile, parseLogFile, versionPrefix } from './log-path.js';

/** The `_last_checkpoint` content (only the fields the reader uses are validated). */
export interface LastCheckpoint {
  version: number;
  size?: number;
  parts?: number;
  sizeInBytes?: number;
  numOfAddFiles?: number;
  v2Checkpoint?: { path: string };
  checksum?: string;
}

/** A log file found by listing, with its storage metadata. */
export type ListedLogFile = LogFile & { size: number; lastModified: number };

/** A complete checkpoint: every file it is made of. */
export interface CheckpointFiles {
  version: number;
  kind: 'classic' | 'multi-part' | 'v2';
  files: ListedLogFile[];
}

/** The files to replay for one version: a checkpoint (optional) then contiguous commits. */
export interface LogSegment {
  /** The version this segment reconstructs. */
  version: number;
  checkpoint: CheckpointFiles | undefined;
  /** Commit files after the checkpoint (or from 0) up to `version`, ascending and contiguous. */
  commits: ListedLogFile[];
}

/**
 * Reads `_last_checkpoint`. Returns undefined when it is absent or unusable (not JSON, no integer
 * version): the hint is an optimisation, so a bad one must never fail a read.
 */
export async function readLastCheckpoint(store: ObjectStore): Promise<LastCheckpoint | undefined> {
  let bytes: Uint8Array;
  try {
    bytes = await store.get(LAST_CHECKPOINT_KEY);
  } catch (cause) {
    if ((cause as { code?: string }).code === 'OBJECT_NOT_FOUND') return undefined;
    throw cause;
  }
  try {
    const value = JSON.parse(new TextDecoder().decode(bytes)) as Partial<LastCheckpoint> | null;
    if (value === null || typeof value !== 'object') return undefined;
    if (typeof value.version !== 'number' || !Number.isSafeInteger(value.version) || value.version < 0)
      return undefined;
    return value as LastCheckpoint;
  } catch {
    return undefined;
  }
}

/**
 * Lists the log files (commits, checkpoints, checksums…) in version order. With `fromVersion`, only
 * files of that version and later are listed.
 */
export async function listLogFiles(store: ObjectStore, fromVersion?: number): Promise<ListedLogFile[]> {
  const files: ListedLogFile[] = [];
  const options =
    fromVersion === undefined || fromVersion === 0
      ? { prefix: LOG_DIR }
      : { prefix: LOG_DIR, startAfter: `${LOG_DIR}${versionPrefix(fromVersion)}` };
  for await (const meta of store.list(options) as AsyncIterable<ObjectMeta>) {
    const file = parseLogFile(meta.key);
    if (file) files.push({ ...file, size: meta.size, lastModified: meta.lastModified });
  }
  files.sort((a, b) => a.version - b.version || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return files;
}

/** The complete checkpoints among `files`, ascending by version (one per version, v2 preferred). */
export function completeCheckpoints(files: readonly ListedLogFile[]): CheckpointFiles[] {
  const byVersion = new Map<number, CheckpointFiles>();
  const multipart = new Map<string, ListedLogFile[]>();
  for (const file of files) {
    if (file.kind === 'checkpoint') {
      if (!byVersion.has(file.version))
        byVersion.set(file.version, { version: file.version, kind: 'classic', files: [file] });
    } else if (file.kind === 'uuid-checkpoint') {
      byVersion.set(file.version, { version: file.version, kind: 'v2', files: [file] });
    } else if (file.kind === 'multipart-checkpoint') {
      const group = `${file.version}/${file.parts}`;
      const list = multipart.get(group) ?? [];
      list.push(file);
      multipart.set(group, list);
    }
  }
  for (const list of multipart.values()) {
    const first = list[0] as ListedLogFile & { kind: 'multipart-checkpoint' };
    const seen = new Set(list.map((f) => (f as { part: number }).part));
    if (seen.size !== first.parts || byVersion.has(first.version)) continue;
    const ordered = [...list].sort((a, b) => (a as { part: number }).part - (b as { part: number }).part);
    byVersion.set(first.version, { version: first.version, kind: 'multi-part', files: ordered });
  }
  return [...byVersion.values()].sort((a, b) => a.version - b.version);
}

/**
 * Picks the segment for `version` (default: the latest) from listed files. Pure.
 * - No commit and no checkpoint: TABLE_NOT_FOUND.
 * - `version` beyond the latest, or before the earliest reconstructable version: VERSION_NOT_FOUND.
 * - A missing commit between the checkpoint and `version`: LOG_CORRUPT.
 */
export function selectLogSegment(files: readonly ListedLogFile[], version?: number): LogSegment {
  const commits = new Map<number, ListedLogFile>();
  for (const file of files) if (file.kind === 'commit') commits.set(file.version, file);
  const checkpoints = completeCheckpoints(files);
  if (commits.size === 0 && checkpoints.length === 0) {
    throw new DeltaError('no Delta log: _delta_log holds no commit or checkpoint', { code: 'TABLE_NOT_FOUND' });
  }
  let latest = -1;
  for (const v of commits.keys()) latest = Math.max(latest, v);
  for (const c of checkpoints) latest = Math.max(latest, c.version);
  const target = version ?? latest;
  if (!Number.isSafeInteger(target) || target < 0 || target > latest) {
    throw new DeltaError(`version ${target} does not exist (latest is ${latest})`, {
      code: 'VERSION_NOT_FOUND',
      context: { version: target, latest },
    });
  }
  const checkpoint = checkpoints.filter((c) => c.version <= target).at(-1);
  const start = checkpoint ? checkpoint.version + 1 : 0;
  if (!checkpoint && !commits.has(0)) {
    throw new DeltaError(`version ${target} cannot be reconstructed: no checkpoint at or before it and no version 0`, {
      code: 'VERSION_NOT_FOUND',
      context: { version: target },
    });
  }
  const segment: ListedLogFile[] = [];
  for (let v = start; v <= target; v++) {
    const commit = commits.get(v);
    if (!commit) {
      throw new DeltaError(`the Delta log is not contiguous: commit ${v} is missing (needed for version ${target})`, {
        code: 'LOG_CORRUPT',
        context: { missingVersion: v, version: target },
      });
    }
    segment.push(commit);
  }
  return { version: target, checkpoint, commits: segment };
}

/**
 * Finds the log segment for `version` (default: latest). Uses `_last_checkpoint` to list only from
 * the hinted checkpoint; if the hint is absent, beyond `version`, or its checkpoint is not complete
 * in the listing, it lists the whole log instead.
 */
export async function findLogSegment(store: ObjectStore, version?: number): Promise<LogSegment> {
  const hint = await readLastCheckpoint(store);
  if (hint && (version === undefined || hint.version <= version)) {
    const files = await listLogFiles(store, hint.version);
    const hinted = completeCheckpoints(files).find((c) => c.version === hint.version);
    if (hinted) return selectLogSegment(files, version);
  }
  try {
    return selectLogSegment(await listLogFiles(store), version);
  } catch (error) {
    if (!(error instanceof DeltaError) || error.code !== 'TABLE_NOT_FOUND') throw error;
    throw new DeltaError(`no Delta table at ${store.location}: _delta_log holds no commit or checkpoint`, {
      code: 'TABLE_NOT_FOUND',
      cause: error,
      context: { location: store.location },
    });
  }
}
