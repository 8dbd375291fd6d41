// DeltaSource: a Delta table as a streaming source, with the semantics of Spark's
// `readStream.format("delta")`: the snapshot at the start (unless startingVersion is given), then the
// files added by each later commit, version by version, rate limited by files and bytes per batch.

import { mapLimit } from '../../common/map-limit.js';
import type { AddAction, MetadataAction } from '../../sinks/delta/actions.js';
import { DeltaError } from '../../sinks/delta/errors.js';
import { latestVersion, loadSnapshot, readCommit } from '../../sinks/delta/load-snapshot.js';
import { assertNoDeletionVector, assertReadable } from '../../sinks/delta/protocol.js';
import { readDataFile } from '../../sinks/delta/scan.js';
import { parseSchema } from '../../sinks/delta/schema-json.js';
import type { StructType } from '../../sinks/schema.js';
import type { ObjectStore } from '../../storage/object-store.js';
import type { PartitionRange } from '../checkpoint-log.js';
import { SourceError, StreamArgumentError } from '../errors.js';
import type { PartitionOffsets, Source, SourceContext, SourceMetrics } from '../source.js';
import type { Row, RowGroup } from '../types.js';

export interface DeltaSourceOptions {
  /** The table's store (its root holds `_delta_log/`). */
  store: ObjectStore;
  /**
   * Read the changes from this version on, without the initial snapshot; 'latest' reads only commits
   * made after the query starts. Default: the snapshot at the start, then every later commit.
   */
  startingVersion?: number | 'latest';
  /** At most this many data files per micro-batch (at least one). Default 1000. */
  maxFilesPerTrigger?: number;
  /**
   * Soft limit of data-file bytes per micro-batch: files are taken until the total reaches it (at least
   * one file; a file is never split). With maxFilesPerTrigger, whichever is reached first ends the batch.
   */
  maxBytesPerTrigger?: number;
  /** Skip whole commits that remove data (DELETE, UPDATE, MERGE, overwrite) instead of failing. */
  skipChangeCommits?: boolean;
  /** Ignore commits that only remove files (no added data), e.g. partition deletes, instead of failing. */
  ignoreDeletes?: boolean;
}

/** The source's only partition. */
export const DELTA_SOURCE_PARTITION = 'table';

export const DELTA_SOURCE_DEFAULTS = Object.freeze({ maxFilesPerTrigger: 1000 });

/** Data files read in parallel by read(). */
const READ_CONCURRENCY = 4;

/**
 * A place in the stream of the table's data files: file `index` of the initial snapshot at `version`
 * (`snapshot`), or file `index` of the data-changing adds of commit `version`. Spark's
 * DeltaSourceOffset(reservoirVersion, index, isInitialSnapshot), pointing at the next file to read.
 */
export interface DeltaPosition {
  version: number;
  index: number;
  snapshot: boolean;
}

const OFFSET = /^(\d{1,16}):(\d{1,16})(:snapshot)?$/;

/** `<version>:<index>` for a commit, `<version>:<index>:snapshot` inside the initial snapshot. */
export function encodeDeltaOffset(position: DeltaPosition): string {
  return `${position.version}:${position.index}${position.snapshot ? ':snapshot' : ''}`;
}

export function decodeDeltaOffset(text: string): DeltaPosition {
  const m = OFFSET.exec(text);
  const version = Number(m?.[1]);
  const index = Number(m?.[2]);
  if (!m || !Number.isSafeInteger(version) || !Number.isSafeInteger(index)) {
    throw new SourceError(
      'SOURCE_OFFSET_INVALID',
      `DeltaSource: offset ${JSON.stringify(text)} is not '<version>:<index>' or '<version>:<index>:snapshot'`,
      { context: { offset: text } },
    );
  }
  return { version, index, snapshot: m[3] !== undefined };
}

/** Stream order: by version; the snapshot at V before commit V (never both are read); then by index. */
export function compareDeltaPositions(a: DeltaPosition, b: DeltaPosition): number {
  if (a.version !== b.version) return a.version - b.version;
  if (a.snapshot !== b.snapshot) return a.snapshot ? -1 : 1;
  return a.index - b.index;
}

/** The data files of one position's version, in stream order, and the metadata to decode them. */
interface VersionFiles {
  files: readonly AddAction[];
  /** Metadata in effect at the version (undefined for a commit: resolved lazily, see metadataAt). */
  metadata: MetadataAction | undefined;
}

/** What the source keeps of a commit file. */
interface CommitChanges {
  /** add actions with dataChange=true, in commit order (empty when the commit is skipped). */
  adds: AddAction[];
  /** The commit's metaData action, if it has one. */
  metadata: MetadataAction | undefined;
}

const isNotFound = (error: unknown) => (error as { code?: string } | null)?.code === 'OBJECT_NOT_FOUND';

/**
 * A Delta table as a stream (Spark's Delta streaming source).
 *
 * **What it reads.** Without `startingVersion`, a fresh query first reads every live file of the
 * snapshot at the version current when it starts (files ordered by modification time, then path, as Spark), then the `add` actions with
 * dataChange=true of each later commit, in version order and in the order of the commit file. With
 * `startingVersion: n` it reads the adds of commits n, n+1, …; with 'latest', those of commits made after
 * the start. Rows are the data files' rows decoded as the table scan does (partition columns typed from
 * the partition values), with the table metadata in effect at the version the file was added in; a
 * schema change (metaData) is simply followed, even an incompatible one — downstream operators see
 * the new columns.
 *
 * **Offsets.** One partition, `table`. An offset points at the next data file to read:
 * `<version>:<index>:snapshot` is file `index` of the initial snapshot at `version`, `<version>:<index>`
 * file `index` of commit `version`'s data-changing adds (after a version's last file the offset moves to
 * `<version+1>:0`). Rate limits (maxFilesPerTrigger, maxBytesPerTrigger) can thus split a big snapshot
 * or commit across batches, and replaying a range reads exactly the same files. The start of a fresh
 * query (initialOffsets) fixes the snapshot version; the engine stores it in offsets/0. Commits without
 * data (OPTIMIZE and other dataChange=false commits, metadata-only commits) are passed over: the offset
 * moves past them, which can give an empty batch.
 *
 * **Changes.** A commit that removes data (remove with dataChange=true: DELETE, UPDATE, MERGE,
 * overwrite) fails with SOURCE_CHANGE_DETECTED, as Spark does, unless `skipChangeCommits` (skip the whole
 * commit, its adds included) or, for commits that only remove files, `ignoreDeletes`.
 *
 * **Faults.** SOURCE_NOT_FOUND: no table at the store. SOURCE_DATA_LOST: a commit, snapshot version or
 * data file the stream still needs was removed by log cleanup or VACUUM (or the table was replaced).
 * Delta kernel faults (UNSUPPORTED_FEATURE, LOG_CORRUPT, INVALID_DATA) and storage faults propagate.
 */
export class DeltaSource implements Source {
  readonly description: string;
  private readonly store: ObjectStore;
  private readonly startingVersion: number | 'latest' | undefined;
  private readonly maxFiles: number;
  private readonly maxBytes: number;
  private readonly skipChangeCommits: boolean;
  private readonly ignoreDeletes: boolean;
  private ctx: SourceContext | undefined;
  private closed = false;
  private snapshotCache: { version: number; files: AddAction[]; metadata: MetadataAction } | undefined;
  private readonly commits = new Map<number, CommitChanges>();
  private readonly metadataCache = new Map<number, MetadataAction>();
  private readonly schemas = new WeakMap<MetadataAction, StructType>();
  /** Latest version seen by availableNow() before initialOffsets(): bounds the initial snapshot. */
  private availableBound: number | undefined;
  private latestSeen: number | undefined;

  constructor(options: DeltaSourceOptions) {
    if (typeof options?.store?.get !== 'function') {
      throw new StreamArgumentError('DeltaSource store: give the ObjectStore of the table', { option: 'store' });
    }
    const { startingVersion } = options;
    if (
      startingVersion !== undefined &&
      startingVersion !== 'latest' &&
      !(Number.isSafeInteger(startingVersion) && startingVersion >= 0)
    ) {
      throw new StreamArgumentError(
        `DeltaSource startingVersion: must be a version (integer >= 0) or 'latest', got ${JSON.stringify(startingVersion)}`,
        { option: 'startingVersion' },
      );
    }
    const maxFiles = options.maxFilesPerTrigger ?? DELTA_SOURCE_DEFAULTS.maxFilesPerTrigger;
    if (!Number.isSafeInteger(maxFiles) || maxFiles < 1) {
      throw new StreamArgumentError(`DeltaSource maxFilesPerTrigger: must be an integer >= 1, got ${maxFiles}`, {
        option: 'maxFilesPerTrigger',
      });
    }
    const maxBytes = options.maxBytesPerTrigger ?? Number.POSITIVE_INFINITY;
    if (typeof maxBytes !== 'number' || !(maxBytes > 0)) {
      throw new StreamArgumentError(`DeltaSource maxBytesPerTrigger: must be a positive number, got ${maxBytes}`, {
        option: 'maxBytesPerTrigger',
      });
    }
    this.store = options.store;
    this.startingVersion = startingVersion;
    this.maxFiles = maxFiles;
    this.maxBytes = maxBytes;
    this.skipChangeCommits = options.skipChangeCommits ?? false;
    this.ignoreDeletes = options.ignoreDeletes ?? false;
    this.description = `DeltaSource[${this.store.location}]`;
  }

  /** The table's schema at the latest version seen by open() (the schema operators are planned with). */
  schema: StructType | undefined;

  async open(ctx: SourceContext): Promise<void> {
    this.ctx = ctx;
    this.closed = false;
    const latest = await this.latest();
    try {
      this.schema = (await loadSnapshot(this.store, { version: latest })).schema;
    } catch (cause) {
      throw this.kernelError(cause, latest, 'snapshot');
    }
  }

  async initialOffsets(): Promise<PartitionOffsets> {
    this.requireOpen();
    const latest = await this.latest();
    let position: DeltaPosition;
    if (this.startingVersion === 'latest') {
      position = { version: latest + 1, index: 0, snapshot: false };
    } else if (this.startingVersion !== undefined) {
      const n = this.startingVersion;
      if (n > latest) {
        throw new StreamArgumentError(
          `${this.description}: startingVersion ${n} is after the latest version ${latest} of the table`,
          { option: 'startingVersion', startingVersion: n, latestVersion: latest },
        );
      }
      if ((await readCommit(this.store, n)) === undefined) throw this.commitLost(n);
      position = { version: n, index: 0, snapshot: false };
    } else {
      const version = Math.min(latest, this.availableBound ?? latest);
      const snapshot = await this.snapshotAt(version);
      position =
        snapshot.files.length === 0
          ? { version: version + 1, index: 0, snapshot: false }
          : { version, index: 0, snapshot: true };
    }
    return { [DELTA_SOURCE_PARTITION]: encodeDeltaOffset(position) };
  }

  async nextOffsets(start: PartitionOffsets, limit?: PartitionOffsets): Promise<PartitionOffsets> {
    this.requireOpen();
    const from = this.startOf(start);
    const limitText = limit?.[DELTA_SOURCE_PARTITION];
    const bound = limitText === undefined ? undefined : decodeDeltaOffset(limitText);
    if (bound !== undefined && compareDeltaPositions(from, bound) >= 0) {
      return { [DELTA_SOURCE_PARTITION]: encodeDeltaOffset(from) };
    }
    let cursor = { ...from };
    let taken = 0;
    let filesLeft = this.maxFiles;
    let bytesLeft = this.maxBytes;
    for (;;) {
      if (bound !== undefined && compareDeltaPositions(cursor, bound) >= 0) {
        cursor = bound;
        break;
      }
      if (taken > 0 && (filesLeft <= 0 || bytesLeft <= 0)) break;
      const version = await this.versionFiles(cursor);
      if (version === undefined) break; // not committed yet
      const file = version.files[cursor.index];
      if (file === undefined) {
        cursor = { version: cursor.version + 1, index: 0, snapshot: false };
        continue;
      }
      taken += 1;
      filesLeft -= 1;
      bytesLeft -= Math.max(0, file.size);
      cursor = { ...cursor, index: cursor.index + 1 };
      if (cursor.index >= version.files.length) cursor = { version: cursor.version + 1, index: 0, snapshot: false };
    }
    return { [DELTA_SOURCE_PARTITION]: encodeDeltaOffset(cursor) };
  }

  async availableNow(): Promise<PartitionOffsets> {
    this.requireOpen();
    const latest = await this.latest();
    this.availableBound ??= latest;
    let end: DeltaPosition = { version: latest + 1, index: 0, snapshot: false };
    const snapshot = this.snapshotCache;
    if (snapshot !== undefined && snapshot.version > latest)
      end = { version: snapshot.version + 1, index: 0, snapshot: false };
    return { [DELTA_SOURCE_PARTITION]: encodeDeltaOffset(end) };
  }

  async read(ranges: Readonly<Record<string, PartitionRange>>): Promise<RowGroup[]> {
    this.requireOpen();
    const groups: RowGroup[] = [];
    for (const [partition, range] of Object.entries(ranges)) {
      if (partition !== DELTA_SOURCE_PARTITION) {
        throw new StreamArgumentError(`${this.description} has no partition '${partition}' (only 'table')`, {
          partition,
        });
      }
      const start = decodeDeltaOffset(range.start);
      const end = decodeDeltaOffset(range.end);
      const planned: { file: AddAction; version: number; metadata: MetadataAction }[] = [];
      let cursor = start;
      while (compareDeltaPositions(cursor, end) < 0) {
        const version = await this.versionFiles(cursor);
        if (version === undefined) throw this.commitLost(cursor.version);
        const file = version.files[cursor.index];
        if (file === undefined) {
          cursor = { version: cursor.version + 1, index: 0, snapshot: false };
          continue;
        }
        const metadata = version.metadata ?? (await this.metadataAt(cursor.version));
        planned.push({ file, version: cursor.version, metadata });
        cursor = { ...cursor, index: cursor.index + 1 };
      }
      const perFile = await mapLimit(planned, READ_CONCURRENCY, (item) =>
        this.readFile(item.file, item.version, item.metadata),
      );
      const rows: Row[] = [];
      for (const fileRows of perFile) for (const row of fileRows) rows.push(row);
      groups.push({ partition: DELTA_SOURCE_PARTITION, rows });
    }
    return groups;
  }

  async commit(end: PartitionOffsets): Promise<void> {
    const text = end[DELTA_SOURCE_PARTITION];
    if (text === undefined) return;
    const position = decodeDeltaOffset(text);
    // Batches before `end` are durable: drop what only they needed (keep version-1 for metadataAt).
    for (const version of this.commits.keys()) if (version < position.version) this.commits.delete(version);
    for (const version of this.metadataCache.keys()) {
      if (version < position.version - 1) this.metadataCache.delete(version);
    }
    if (this.snapshotCache !== undefined && !position.snapshot && position.version > this.snapshotCache.version) {
      this.snapshotCache = undefined;
    }
  }

  metrics(): SourceMetrics {
    return this.latestSeen === undefined
      ? {}
      : { latestOffset: { [DELTA_SOURCE_PARTITION]: `${this.latestSeen + 1}:0` }, latestVersion: this.latestSeen };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.commits.clear();
    this.metadataCache.clear();
    this.snapshotCache = undefined;
  }

  // --- the table's log -----------------------------------------------------------------------------

  private startOf(start: PartitionOffsets): DeltaPosition {
    const text = start[DELTA_SOURCE_PARTITION];
    if (text === undefined) {
      throw new SourceError('SOURCE_OFFSET_INVALID', `${this.description}: no start offset for partition 'table'`, {
        context: { start },
      });
    }
    return decodeDeltaOffset(text);
  }

  /** The latest version of the table; SOURCE_NOT_FOUND when there is none. */
  private async latest(): Promise<number> {
    const version = await latestVersion(this.store);
    if (version === undefined) {
      throw new SourceError('SOURCE_NOT_FOUND', `${this.description}: no Delta table at ${this.store.location}`, {
        context: { location: this.store.location },
      });
    }
    this.latestSeen = Math.max(this.latestSeen ?? version, version);
    return version;
  }

  /** The live files of the snapshot at `version`, in Spark's order: modificationTime, then path (loaded once). */
  private async snapshotAt(version: number): Promise<{ files: AddAction[]; metadata: MetadataAction }> {
    if (this.snapshotCache?.version === version) return this.snapshotCache;
    let snapshot: Awaited<ReturnType<typeof loadSnapshot>>;
    try {
      snapshot = await loadSnapshot(this.store, { version });
    } catch (cause) {
      throw this.kernelError(cause, version, 'snapshot');
    }
    const files = [...snapshot.files].sort(
      (a, b) => a.modificationTime - b.modificationTime || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0),
    );
    this.snapshotCache = { version, files, metadata: snapshot.metadata };
    this.metadataCache.set(version, snapshot.metadata);
    return this.snapshotCache;
  }

  /**
   * The data-changing adds of commit `version` (empty for skipped commits), or undefined when the
   * commit does not exist yet. Throws SOURCE_CHANGE_DETECTED for a commit that removes data.
   */
  private async commitChanges(version: number): Promise<CommitChanges | undefined> {
    const cached = this.commits.get(version);
    if (cached !== undefined) return cached;
    const actions = await readCommit(this.store, version);
    if (actions === undefined) {
      const latest = await this.latest();
      if (latest >= version) throw this.commitLost(version);
      if (latest < version - 1) {
        // Offsets at `version` exist only once version-1 was committed: the table went back in time.
        throw new SourceError(
          'SOURCE_DATA_LOST',
          `${this.description}: the table at ${this.store.location} is at version ${latest}, but the stream ` +
            `already read up to version ${version - 1}; the table was deleted or replaced. ` +
            'Restart from a new checkpoint.',
          { context: { location: this.store.location, version, latestVersion: latest } },
        );
      }
      return undefined;
    }
    const adds: AddAction[] = [];
    let removes = 0;
    let metadata: MetadataAction | undefined;
    let protocol: Parameters<typeof assertReadable>[0] | undefined;
    for (const action of actions) {
      if ('add' in action && action.add.dataChange) adds.push(action.add);
      else if ('remove' in action && action.remove.dataChange) removes += 1;
      else if ('metaData' in action) metadata = action.metaData;
      else if ('protocol' in action) protocol = action.protocol;
    }
    if (protocol !== undefined) assertReadable(protocol, metadata);
    let changes: CommitChanges = { adds, metadata };
    if (removes > 0) {
      if (this.skipChangeCommits) {
        changes = { adds: [], metadata };
      } else if (!(this.ignoreDeletes && adds.length === 0)) {
        throw new SourceError(
          'SOURCE_CHANGE_DETECTED',
          `${this.description}: version ${version} of the table removes data (${removes} files removed, ` +
            `${adds.length} added: a DELETE, UPDATE, MERGE or overwrite), which a streaming read cannot apply. ` +
            'Set skipChangeCommits: true to skip such commits' +
            (adds.length === 0 ? ', or ignoreDeletes: true to ignore commits that only delete' : '') +
            ', or restart from a new checkpoint.',
          { context: { location: this.store.location, version, removedFiles: removes, addedFiles: adds.length } },
        );
      }
    }
    for (const add of changes.adds) assertNoDeletionVector(add);
    this.commits.set(version, changes);
    if (version > (this.latestSeen ?? -1)) this.latestSeen = version;
    if (metadata !== undefined) this.metadataCache.set(version, metadata);
    else {
      const previous = this.metadataCache.get(version - 1);
      if (previous !== undefined) this.metadataCache.set(version, previous);
    }
    return changes;
  }

  /** The files at a position's version; undefined for a commit not made yet. */
  private async versionFiles(position: DeltaPosition): Promise<VersionFiles | undefined> {
    if (position.snapshot) {
      const snapshot = await this.snapshotAt(position.version);
      return { files: snapshot.files, metadata: snapshot.metadata };
    }
    const changes = await this.commitChanges(position.version);
    if (changes === undefined) return undefined;
    return { files: changes.adds, metadata: changes.metadata ?? this.metadataCache.get(position.version) };
  }

  /** The table metadata in effect at `version` (its commit's metaData, else the previous version's). */
  private async metadataAt(version: number): Promise<MetadataAction> {
    const cached = this.metadataCache.get(version);
    if (cached !== undefined) return cached;
    const previous = this.metadataCache.get(version - 1);
    if (previous !== undefined) {
      this.metadataCache.set(version, previous);
      return previous;
    }
    let metadata: MetadataAction;
    try {
      metadata = (await loadSnapshot(this.store, { version })).metadata;
    } catch (cause) {
      throw this.kernelError(cause, version, 'metadata');
    }
    this.metadataCache.set(version, metadata);
    return metadata;
  }

  private async readFile(file: AddAction, version: number, metadata: MetadataAction): Promise<Row[]> {
    let schema = this.schemas.get(metadata);
    if (schema === undefined) {
      schema = parseSchema(metadata.schemaString);
      this.schemas.set(metadata, schema);
    }
    try {
      return await readDataFile(this.store, { schema, partitionColumns: metadata.partitionColumns }, file);
    } catch (cause) {
      if (!isNotFound(cause)) throw cause;
      throw new SourceError(
        'SOURCE_DATA_LOST',
        `${this.description}: data file ${file.path} (added in version ${version}) no longer exists; ` +
          'it was probably removed by VACUUM while the stream still needed it. Restart from a new checkpoint.',
        { context: { location: this.store.location, version, path: file.path }, cause },
      );
    }
  }

  // --- errors --------------------------------------------------------------------------------------

  private requireOpen(): void {
    if (this.ctx === undefined || this.closed) {
      throw new SourceError('SOURCE_NOT_OPEN', `${this.description} is ${this.closed ? 'closed' : 'not open'}`);
    }
  }

  private commitLost(version: number): SourceError {
    return new SourceError(
      'SOURCE_DATA_LOST',
      `${this.description}: commit version ${version} is no longer in the log of ${this.store.location} ` +
        '(removed by log cleanup, delta.logRetentionDuration, or the table was replaced) but the stream still ' +
        'needs it. Restart from a new checkpoint, possibly with a later startingVersion.',
      { context: { location: this.store.location, version } },
    );
  }

  /** Maps the kernel's "no table" / "version not reconstructable" to source faults. */
  private kernelError(cause: unknown, version: number, what: string): unknown {
    if (cause instanceof DeltaError && cause.code === 'TABLE_NOT_FOUND') {
      return new SourceError('SOURCE_NOT_FOUND', `${this.description}: no Delta table at ${this.store.location}`, {
        context: { location: this.store.location },
        cause,
      });
    }
    if (cause instanceof DeltaError && cause.code === 'VERSION_NOT_FOUND') {
      return new SourceError(
        'SOURCE_DATA_LOST',
        `${this.description}: the ${what} of version ${version} cannot be rebuilt from the log of ` +
          `${this.store.location} (log files removed by cleanup) but the stream still needs it. ` +
          'Restart from a new checkpoint.',
        { context: { location: this.store.location, version }, cause },
      );
    }
    return cause;
  }
}
