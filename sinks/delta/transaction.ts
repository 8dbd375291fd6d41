// DeltaTransaction: one optimistic transaction on a snapshot. It writes data files (grouped by partition,
// split near a target size or across the encode pool, with Spark-compatible stats), collects
// add/remove/metaData/txn actions and what it read, and commits them (commitInfo first) through
// commit.ts, then runs post-commit hooks. Its encoding plan (the resolved codec, data schema, stats
// settings and target size) is shared with data files encoded elsewhere (encoded-file.ts), which
// addEncodedFiles stores exactly as writeFiles stores its own.
import { randomUUID } from 'node:crypto';
import { LakestreamError } from '../../common/errors.js';
import type { ObjectStore } from '../../storage/object-store.js';
import {
  defaultEncodePool,
  type EncodedParquet,
  encodeRowsAsync,
  ParquetEncodeError,
  type ParquetEncodePool,
  type ParquetWriteOptions,
} from '../parquet/index.js';
import type { DataType, StructType } from '../schema.js';
import type { Action, AddAction, MetadataAction, ProtocolAction, RemoveAction, TxnAction } from './actions.js';
import { type CommitOptions, type CommitOutcome, commitWithRetries } from './commit.js';
import { writeCompression } from './compression.js';
import type { IsolationLevel, ReadPredicate, TransactionSummary } from './conflict-checker.js';
import type { DeltaEncodedFile, DeltaEncodingPlan } from './encoded-file.js';
import { DeltaError } from './errors.js';
import { dataFileName, encodeLogPath, type ParquetCompression, partitionDirectory } from './file-names.js';
import { serializePartitionValue, toCanonical } from './partition-values.js';
import { assertWritable } from './protocol.js';
import { canonicalPath } from './replay.js';
import { parseSchema } from './schema-json.js';
import type { DeltaSnapshot } from './snapshot.js';
import { buildStats, STATS_DEFAULTS, type StatsOptions, statsOptionsFromProperties } from './stats.js';

/** lakestream's version, written into commitInfo.engineInfo (a test keeps it equal to package.json's). */
export const ENGINE_VERSION = '0.1.0';
export const ENGINE_INFO = `lakestream/${ENGINE_VERSION}`;

/** Options of one transaction. */
export interface TransactionOptions {
  /** Retry policy of the commit loop. */
  commit?: CommitOptions;
  /** Clock for commit timestamps, modificationTime and deletionTimestamp (ms). Default Date.now. */
  now?: () => number;
  /** commitInfo.engineInfo. Default 'lakestream/<version>'. */
  engineInfo?: string;
  /** Runs after a successful commit (checkpoint, log cleanup); its failure never fails the commit. */
  postCommit?: (snapshot: DeltaSnapshot) => Promise<void>;
  /** Called with errors of post-commit hooks. Default: ignored. */
  onPostCommitError?: (error: unknown) => void;
}

/** The write settings an encoding plan depends on (DeltaTransaction.encodingPlan). */
export interface EncodingPlanOptions {
  /** Target size of one data file in bytes; rows are split into files of about this size. Default 128 MiB. */
  targetFileSize?: number;
  /** Parquet codec; default: the table property delta.parquet.compression.codec, else snappy (compression.ts). */
  compression?: ParquetCompression;
}

/** How writeFiles lays out data files. */
export interface WriteFilesOptions extends EncodingPlanOptions {
  /** add.dataChange: false for rearranging data (optimize). Default true. */
  dataChange?: boolean;
  /** Expected bytes per row in the encoded files (e.g. from files being compacted); default: estimated. */
  bytesPerRowHint?: number;
  /** Called once per partition value combination before its files are written; may throw to refuse it. */
  checkPartition?: (partitionValues: Readonly<Record<string, string | null>>) => void;
  /**
   * Where the Parquet files are encoded: a ParquetEncodePool writes them in worker threads, several
   * at once (bounded by its size); null encodes them one by one on the calling thread. Default:
   * defaultEncodePool(), i.e. min(2, cores) workers, or the calling thread when the environment
   * variable LAKESTREAM_PARQUET_WORKERS=0 (the process-wide opt-out, e.g. without worker_threads).
   * The files are byte-for-byte the same either way.
   */
  encodePool?: ParquetEncodePool | null;
  /**
   * Parallel split of one file. A partition group that would be written as a single file (it fits
   * targetFileSize) but has at least 2 × minRowsPerFile rows is written instead as
   * min(maxParallelFiles, floor(rows / minRowsPerFile)) files of near-equal row counts (the first
   * ones one row larger), consecutive slices of the group's rows in order, encoded concurrently on
   * the pool — as Spark writes one file per task. So a streaming micro-batch is encoded by all
   * workers instead of one. The split depends only on the rows and these options (the default
   * maxParallelFiles: on the pool size), not on timing, so the same rows give the same files. Each
   * file is smaller than the single file would be, so targetFileSize still holds; groups already
   * written as several files are not split further. Default 16 384.
   */
  minRowsPerFile?: number;
  /**
   * Most files a single-file group is split into (see minRowsPerFile); 1 turns the split off (one
   * file, as before). Default: for data-changing writes (appends, overwrites, merges) the size of
   * the encode pool (1 without a pool); for dataChange false writes (optimize: the layout is the
   * point of the write) 1.
   */
  maxParallelFiles?: number;
}

export const WRITE_DEFAULTS = Object.freeze({
  targetFileSize: 128 * 1024 * 1024,
  minRowsPerFile: 16_384,
});

/**
 * How many files of near-equal row counts a single-file group of `rows` rows is split into: up to
 * maxParallelFiles, each of at least minRowsPerFile rows (1: not split).
 */
export function parallelFileCount(rows: number, minRowsPerFile: number, maxParallelFiles: number): number {
  return Math.max(1, Math.min(maxParallelFiles, Math.floor(rows / minRowsPerFile)));
}

function positiveIntegerOption(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new DeltaError(`${name} must be a positive integer, got ${value}`, {
      code: 'INVALID_ARGUMENT',
      context: { option: name, value },
    });
  }
  return value;
}

/** What the commit is, for commitInfo. */
export interface Operation {
  /** commitInfo.operation, e.g. 'WRITE', 'CREATE TABLE', 'OPTIMIZE', 'STREAMING UPDATE'. */
  name: string;
  parameters: Record<string, unknown>;
  /** Extra operationMetrics (numFiles, numOutputRows, numOutputBytes and removes are filled in). */
  metrics?: Record<string, string | number>;
  /** Default: Serializable for blind appends, SnapshotIsolation when no action changes data, else WriteSerializable. */
  isolationLevel?: IsolationLevel;
}

type Row = Record<string, unknown>;

function hasInvariants(type: DataType): boolean {
  if (typeof type === 'string') return false;
  if (type.type === 'array') return hasInvariants(type.elementType);
  if (type.type === 'map') return hasInvariants(type.keyType) || hasInvariants(type.valueType);
  return type.fields.some((f) => 'delta.invariants' in f.metadata || hasInvariants(f.type));
}

/** A rough in-memory size of a value, to plan file splits before the first file is encoded. */
function estimateBytes(value: unknown): number {
  switch (typeof value) {
    case 'string':
      return value.length + 4;
    case 'number':
    case 'bigint':
      return 8;
    case 'boolean':
      return 1;
    case 'object': {
      if (value === null) return 1;
      if (value instanceof Uint8Array) return value.byteLength + 4;
      if (value instanceof Date) return 8;
      if (Array.isArray(value)) return value.reduce((n: number, v) => n + estimateBytes(v), 4);
      if (value instanceof Map) {
        let n = 4;
        for (const [k, v] of value) n += estimateBytes(k) + estimateBytes(v);
        return n;
      }
      let n = 0;
      for (const v of Object.values(value as Row)) n += estimateBytes(v);
      return n;
    }
    default:
      return 1;
  }
}

function estimateRowBytes(rows: readonly Row[]): number {
  const step = Math.max(1, Math.floor(rows.length / 64));
  let total = 0;
  let sampled = 0;
  for (let i = 0; i < rows.length; i += step) {
    total += estimateBytes(rows[i]);
    sampled++;
  }
  return sampled === 0 ? 1 : Math.max(1, total / sampled);
}

/** The transaction's table schema without its partition columns (the columns stored in data files). */
export function dataSchemaOf(schema: StructType, partitionColumns: readonly string[]): StructType {
  if (partitionColumns.length === 0) return schema;
  return { type: 'struct', fields: schema.fields.filter((f) => !partitionColumns.includes(f.name)) };
}

/** Rows of one file of a group with `remaining` rows left, for files near `target` bytes. */
function fileRows(target: number, bytesPerRow: number, remaining: number): number {
  return Math.max(1, Math.min(remaining, Math.floor(target / bytesPerRow)));
}

/**
 * The row count of the first data file of a partition group of `rows`, for files near `target`
 * bytes: from `bytesPerRowHint` when positive, else from an estimate of the rows' in-memory size
 * (sampled). Equal to rows.length when the group fits one file. The file split of writeFiles and of
 * encodeForPlan (encoded-file.ts): first this, then, once the first file is encoded, remainingFileRows.
 */
export function firstFileRows(rows: readonly Row[], target: number, bytesPerRowHint?: number): number {
  const hint = bytesPerRowHint && bytesPerRowHint > 0 ? bytesPerRowHint : undefined;
  return fileRows(target, hint ?? estimateRowBytes(rows), rows.length);
}

/**
 * The row counts of the files after the first of a group of `total` rows, in order: the first file
 * (`firstCount` rows, `firstBytes` bytes once encoded) calibrates the bytes per row, the remaining
 * rows are cut with that ratio into files near `target` bytes. Empty when the first file holds them all.
 */
export function remainingFileRows(total: number, target: number, firstCount: number, firstBytes: number): number[] {
  const bytesPerRow = Math.max(1, firstBytes / firstCount);
  const counts: number[] = [];
  for (let start = firstCount; start < total; ) {
    const count = fileRows(target, bytesPerRow, total - start);
    counts.push(count);
    start += count;
  }
  return counts;
}

/**
 * The encoding plan of a table: its schema, partition columns and properties (metaData.configuration)
 * and the write's settings resolved into what the Parquet encoder and the stats need. Throws
 * UNSUPPORTED_FEATURE for column invariants (lakestream cannot enforce them), INVALID_ARGUMENT for a
 * targetFileSize that is not a positive number or a compression property lakestream cannot write.
 */
function planEncoding(
  schema: StructType,
  partitionColumns: readonly string[],
  configuration: Readonly<Record<string, string>>,
  options: EncodingPlanOptions,
): DeltaEncodingPlan {
  if (hasInvariants(schema)) {
    throw new DeltaError('the table schema has column invariants (delta.invariants), which lakestream cannot enforce', {
      code: 'UNSUPPORTED_FEATURE',
      context: { feature: 'invariants' },
    });
  }
  const targetFileSize = options.targetFileSize ?? WRITE_DEFAULTS.targetFileSize;
  if (!(Number.isFinite(targetFileSize) && targetFileSize > 0)) {
    throw new DeltaError(`targetFileSize must be a positive number, got ${targetFileSize}`, {
      code: 'INVALID_ARGUMENT',
    });
  }
  const compression = writeCompression(options.compression, configuration);
  const statsOptions: StatsOptions = statsOptionsFromProperties(configuration);
  // With dataSkippingStatsColumns the encoder collects every leaf and buildStats picks the listed ones.
  const statsColumns =
    statsOptions.statsColumns !== undefined ? -1 : (statsOptions.numIndexedCols ?? STATS_DEFAULTS.numIndexedCols);
  const fields = {
    tableSchema: schema,
    partitionColumns: [...partitionColumns],
    dataSchema: dataSchemaOf(schema, partitionColumns),
    compression,
    statsColumns,
    statsOptions,
    targetFileSize,
  };
  return { key: JSON.stringify(fields), ...fields };
}

/** The Parquet encoder options of a plan's data files. */
export function planWriteOptions(plan: DeltaEncodingPlan): ParquetWriteOptions {
  return { compression: plan.compression, statsColumns: plan.statsColumns };
}

/** add.stats of a data file of `plan` holding `rows` (partition columns removed), from the encoder's statistics. */
export function planFileStats(plan: DeltaEncodingPlan, rows: readonly Row[], encoded: EncodedParquet): string {
  return buildStats(plan.dataSchema, rows, encoded.stats, plan.statsOptions);
}

/**
 * One optimistic transaction. Typical use: `txnVersion` / `alreadyCommitted` to fence, `writeFiles`,
 * `removeFiles`, `updateMetadata`, `setTransaction`, then `commit(operation)` once.
 */
export class DeltaTransaction {
  /** commitInfo.txnId: recognises our own commit after an unacknowledged put. */
  readonly txnId: string = randomUUID();
  private readonly now: () => number;
  private readonly adds: AddAction[] = [];
  private readonly removes: RemoveAction[] = [];
  private readonly txns = new Map<string, TxnAction>();
  private newMetadata: MetadataAction | undefined;
  private newProtocol: ProtocolAction | undefined;
  private readPredicate: ReadPredicate = { kind: 'none' };
  private readonly readPaths = new Set<string>();
  private fileCounter = 0;
  private committed = false;

  constructor(
    readonly store: ObjectStore,
    readonly snapshot: DeltaSnapshot,
    private readonly options: TransactionOptions = {},
  ) {
    assertWritable(snapshot.protocol, snapshot.metadata);
    this.now = options.now ?? Date.now;
  }

  get readVersion(): number {
    return this.snapshot.version;
  }

  /** The table metadata this transaction writes with (updated by updateMetadata). */
  get metadata(): MetadataAction {
    return this.newMetadata ?? this.snapshot.metadata;
  }

  private schemaCache: { text: string; schema: StructType } | undefined;
  /** The table schema this transaction writes with. */
  get schema(): StructType {
    if (!this.newMetadata) return this.snapshot.schema;
    const text = this.newMetadata.schemaString;
    if (this.schemaCache?.text !== text) this.schemaCache = { text, schema: parseSchema(text) };
    return this.schemaCache.schema;
  }

  get partitionColumns(): readonly string[] {
    return this.metadata.partitionColumns;
  }

  /** The last committed version of an application transaction in the read snapshot. */
  txnVersion(appId: string): number | undefined {
    return this.snapshot.txnVersion(appId);
  }

  /**
   * True when every txn is already at or after the requested version in the read snapshot (the
   * batch is in the table); false when none is. A mix means two writers share an appId: COMMIT_CONFLICT.
   */
  alreadyCommitted(txns: readonly { appId: string; version: number }[]): boolean {
    if (txns.length === 0) return false;
    const done = txns.filter((t) => {
      const current = this.snapshot.txnVersion(t.appId);
      return current !== undefined && current >= t.version;
    });
    if (done.length === txns.length) return true;
    if (done.length === 0) return false;
    throw new DeltaError(
      `application transactions are inconsistent at version ${this.readVersion}: ${done.map((t) => `${t.appId}@${this.snapshot.txnVersion(t.appId)}`).join(', ')} already reached the requested versions but ${txns
        .filter((t) => !done.includes(t))
        .map((t) => t.appId)
        .join(', ')} did not`,
      { code: 'COMMIT_CONFLICT', context: { conflict: 'concurrent-transaction', readVersion: this.readVersion } },
    );
  }

  /** Records a txn action (Delta's idempotency token) to commit with this transaction. */
  setTransaction(appId: string, version: number): void {
    if (typeof appId !== 'string' || appId === '') {
      throw new DeltaError('a transaction appId must be a non-empty string', { code: 'INVALID_ARGUMENT' });
    }
    if (!Number.isSafeInteger(version) || version < 0) {
      throw new DeltaError(`transaction version of ${appId} must be a non-negative integer, got ${version}`, {
        code: 'INVALID_ARGUMENT',
        context: { appId, version },
      });
    }
    this.txns.set(appId, { appId, version, lastUpdated: this.now() });
  }

  /** Replaces the table metadata (schema evolution, properties) in this commit. */
  updateMetadata(metadata: MetadataAction): void {
    this.newMetadata = metadata;
  }

  /** Replaces the protocol in this commit. */
  updateProtocol(protocol: ProtocolAction): void {
    this.newProtocol = protocol;
  }

  /** Declares that this transaction depends on the whole table (full overwrite). */
  readWholeTable(): void {
    this.readPredicate = { kind: 'all' };
    for (const file of this.snapshot.files) this.readPaths.add(canonicalPath(file.path));
  }

  /** Declares that this transaction read `files`, selected by `predicate` (replaceWhere, optimize). */
  readFiles(files: readonly AddAction[], predicate?: ReadPredicate): void {
    for (const file of files) this.readPaths.add(canonicalPath(file.path));
    if (predicate && this.readPredicate.kind !== 'all') this.readPredicate = predicate;
  }

  /** Adds files written elsewhere. */
  addFiles(adds: readonly AddAction[]): void {
    this.adds.push(...adds);
  }

  /** Removes live files; with dataChange (the default) this is refused on delta.appendOnly tables. */
  removeFiles(files: readonly AddAction[], options: { dataChange?: boolean } = {}): void {
    const dataChange = options.dataChange ?? true;
    if (dataChange && this.metadata.configuration['delta.appendOnly'] === 'true') {
      throw new DeltaError('this table is append-only (delta.appendOnly=true): data cannot be removed', {
        code: 'INVALID_ARGUMENT',
        context: { property: 'delta.appendOnly' },
      });
    }
    const deletionTimestamp = this.now();
    for (const file of files) {
      this.removes.push({
        path: file.path,
        deletionTimestamp,
        dataChange,
        extendedFileMetadata: true,
        partitionValues: file.partitionValues,
        size: file.size,
        ...(file.tags ? { tags: file.tags } : {}),
      });
    }
  }

  /**
   * Writes `rows` (already checked against `this.schema`) as Parquet data files: one group per
   * partition value combination under its Hive-style folder, split into files near targetFileSize
   * (and a group that fits one file into up to maxParallelFiles files encoded at once, see
   * minRowsPerFile), partition columns left out of the files. Records and returns the add actions.
   */
  async writeFiles(rows: readonly Row[], options: WriteFilesOptions = {}): Promise<AddAction[]> {
    const plan = this.encodingPlan(options);
    const target = plan.targetFileSize;
    const dataChange = options.dataChange ?? true;
    const groups = groupByPartition(rows, plan.tableSchema, plan.partitionColumns);
    if (options.checkPartition) for (const group of groups) options.checkPartition(group.values);
    const pool = options.encodePool === undefined ? defaultEncodePool() : options.encodePool;
    const minRowsPerFile = positiveIntegerOption(
      'minRowsPerFile',
      options.minRowsPerFile,
      WRITE_DEFAULTS.minRowsPerFile,
    );
    const maxParallelFiles = positiveIntegerOption(
      'maxParallelFiles',
      options.maxParallelFiles,
      dataChange ? (pool?.size ?? 1) : 1,
    );
    // Files are encoded concurrently (one being built on this thread while each worker writes one)
    // but put, numbered and recorded strictly in plan order, so the adds and names are deterministic.
    const limit = new Limiter(pool === null ? 1 : pool.size + 1);
    const encodeOptions = planWriteOptions(plan);
    let stopped = false;
    const planFile = (group: PartitionGroup, start: number, count: number): PlannedFile => {
      const chunk = start === 0 && count === group.rows.length ? group.rows : group.rows.slice(start, start + count);
      const encoded = limit.run(async () => {
        if (stopped) throw new Error('writeFiles stopped after an earlier failure');
        try {
          return await encodeRowsAsync(plan.dataSchema, chunk, encodeOptions, pool);
        } catch (error) {
          throw encodeFailure(error, group, start);
        }
      });
      encoded.catch(() => {}); // awaited in order below; unawaited only when an earlier file failed
      return { chunk, encoded };
    };
    // A group that fits one file (by the estimate or bytesPerRowHint) is written as one file, or as
    // up to maxParallelFiles near-equal consecutive slices encoded at once (minRowsPerFile). A larger
    // group's first file calibrates bytes per row; its remaining rows are then split with that ratio
    // into files encoded concurrently.
    const planGroup = async (group: PartitionGroup): Promise<PlannedFile[]> => {
      const total = group.rows.length;
      const firstCount = firstFileRows(group.rows, target, options.bytesPerRowHint);
      if (firstCount === total) {
        const parts = parallelFileCount(total, minRowsPerFile, maxParallelFiles);
        const files: PlannedFile[] = [];
        for (let i = 0, start = 0; i < parts; i++) {
          const count = Math.floor(total / parts) + (i < total % parts ? 1 : 0);
          files.push(planFile(group, start, count));
          start += count;
        }
        return files;
      }
      const files = [planFile(group, 0, firstCount)];
      const first = await (files[0] as PlannedFile).encoded;
      let start = firstCount;
      for (const count of remainingFileRows(total, target, firstCount, first.bytes.byteLength)) {
        files.push(planFile(group, start, count));
        start += count;
      }
      return files;
    };
    const plans = groups.map((group) => {
      const files = planGroup(group);
      files.catch(() => {});
      return files;
    });
    const written: AddAction[] = [];
    try {
      for (let g = 0; g < groups.length; g++) {
        const group = groups[g] as PartitionGroup;
        for (const file of await (plans[g] as Promise<PlannedFile[]>)) {
          const encoded = await file.encoded;
          const stats = planFileStats(plan, file.chunk, encoded);
          written.push(await this.putDataFile(plan, group.values, encoded.bytes, stats, dataChange));
        }
      }
    } catch (error) {
      stopped = true;
      throw error;
    }
    this.adds.push(...written);
    return written;
  }

  /**
   * The encoding plan of this transaction's writes with `options`: what writeFiles encodes its rows
   * with, and what pre-encoded files must have been encoded with to be added (addEncodedFiles). Reads
   * the schema, partition columns and metaData.configuration this transaction writes with (so a
   * metadata update in it changes the plan and its key). Plain, structured-clonable data for worker
   * threads (encodeForPlan). Throws UNSUPPORTED_FEATURE for column invariants and INVALID_ARGUMENT for
   * a bad targetFileSize or compression property, as writeFiles does.
   */
  encodingPlan(options: EncodingPlanOptions = {}): DeltaEncodingPlan {
    return planEncoding(this.schema, this.partitionColumns, this.metadata.configuration, options);
  }

  /**
   * Stores data files encoded elsewhere (encodeForPlan, e.g. in a worker thread) exactly as writeFiles
   * stores its own: under the partition folder with the next file name of this transaction, add
   * actions with their partition values, size, modificationTime now, dataChange true and their stats.
   * Records and returns the add actions, in the order of `files`.
   *
   * Every file must carry the key of `this.encodingPlan(options)`: a different key means the table's
   * schema, partitioning or write settings changed since the plan was taken, and the files no longer
   * match what writeFiles would write — a retryable SINK_PLAN_CHANGED (the batch re-runs with a fresh
   * plan). A file whose partition values do not name exactly the partition columns, or whose stats
   * disagree with its numRecords, is INVALID_ARGUMENT. Nothing is stored unless every file passes.
   */
  async addEncodedFiles(files: readonly DeltaEncodedFile[], options: EncodingPlanOptions = {}): Promise<AddAction[]> {
    const plan = this.encodingPlan(options);
    const stale = files.filter((file) => file.planKey !== plan.key).length;
    if (stale > 0) {
      throw new LakestreamError(
        `${stale} of ${files.length} pre-encoded data files were encoded with another plan: the table's schema, partitioning or write settings changed while the batch was being encoded; the batch runs again`,
        {
          code: 'SINK_PLAN_CHANGED',
          domain: 'external',
          retryable: true,
          context: { stale, files: files.length, readVersion: this.readVersion },
        },
      );
    }
    for (const [index, file] of files.entries()) checkEncodedFile(file, index, plan.partitionColumns);
    const written: AddAction[] = [];
    for (const file of files) {
      written.push(await this.putDataFile(plan, file.partitionValues, file.bytes, file.stats, true));
    }
    this.adds.push(...written);
    return written;
  }

  /** Puts one encoded data file of `plan` under its partition folder with the next file name; its add action. */
  private async putDataFile(
    plan: DeltaEncodingPlan,
    partitionValues: Readonly<Record<string, string | null>>,
    bytes: Uint8Array,
    stats: string,
    dataChange: boolean,
  ): Promise<AddAction> {
    const dir = partitionDirectory(plan.partitionColumns, partitionValues);
    const key = `${dir}${dataFileName(this.fileCounter++, plan.compression)}`;
    await this.store.put(key, bytes);
    return {
      path: encodeLogPath(key),
      partitionValues: { ...partitionValues },
      size: bytes.byteLength,
      modificationTime: this.now(),
      dataChange,
      stats,
    };
  }

  /** The actions this transaction would commit now, commitInfo first. */
  private buildActions(operation: Operation, isolationLevel: IsolationLevel, isBlindAppend: boolean): Action[] {
    const metrics: Record<string, string> = {};
    if (this.adds.length > 0 || this.removes.length === 0) {
      metrics.numFiles = String(this.adds.length);
      metrics.numOutputRows = String(this.adds.reduce((n, a) => n + statsRecords(a), 0));
      metrics.numOutputBytes = String(this.adds.reduce((n, a) => n + a.size, 0));
    }
    if (this.removes.length > 0) {
      metrics.numRemovedFiles = String(this.removes.length);
      metrics.numRemovedBytes = String(this.removes.reduce((n, r) => n + (r.size ?? 0), 0));
    }
    for (const [k, v] of Object.entries(operation.metrics ?? {})) metrics[k] = String(v);
    const actions: Action[] = [
      {
        commitInfo: {
          timestamp: this.now(),
          operation: operation.name,
          operationParameters: operation.parameters,
          readVersion: this.readVersion,
          isolationLevel,
          isBlindAppend,
          operationMetrics: metrics,
          engineInfo: this.options.engineInfo ?? ENGINE_INFO,
          txnId: this.txnId,
        },
      },
    ];
    if (this.newProtocol) actions.push({ protocol: this.newProtocol });
    if (this.newMetadata) actions.push({ metaData: this.newMetadata });
    for (const txn of this.txns.values()) actions.push({ txn });
    for (const remove of this.removes) actions.push({ remove });
    for (const add of this.adds) actions.push({ add });
    return actions;
  }

  /**
   * Commits once. If the txns set are already in the read snapshot, returns 'already-committed'
   * without writing. Otherwise see commitWithRetries; post-commit hooks run after 'committed'.
   */
  async commit(operation: Operation): Promise<CommitOutcome> {
    if (this.committed) throw new DeltaError('a transaction commits only once', { code: 'INVALID_ARGUMENT' });
    this.committed = true;
    const txns = [...this.txns.values()];
    if (this.alreadyCommitted(txns))
      return { kind: 'already-committed', version: this.readVersion, snapshot: this.snapshot };
    const onlyAdds = this.removes.length === 0;
    const isBlindAppend = onlyAdds && this.readPredicate.kind === 'none' && this.readPaths.size === 0;
    const changesData = this.adds.some((a) => a.dataChange) || this.removes.some((r) => r.dataChange);
    const isolationLevel: IsolationLevel =
      operation.isolationLevel ??
      (isBlindAppend ? 'Serializable' : changesData || this.newMetadata ? 'WriteSerializable' : 'SnapshotIsolation');
    const actions = this.buildActions(operation, isolationLevel, isBlindAppend);
    const summary: TransactionSummary = {
      txnId: this.txnId,
      isolationLevel,
      changesProtocol: this.newProtocol !== undefined,
      changesMetadata: this.newMetadata !== undefined,
      txns,
      readPredicate: this.readPredicate,
      readPaths: this.readPaths,
      removedPaths: new Set(this.removes.map((r) => canonicalPath(r.path))),
    };
    const outcome = await commitWithRetries(
      this.store,
      { snapshot: this.snapshot, actions, summary },
      this.options.commit,
    );
    if (outcome.kind === 'committed' && this.options.postCommit) {
      try {
        await this.options.postCommit(outcome.snapshot);
      } catch (error) {
        this.options.onPostCommitError?.(error);
      }
    }
    return outcome;
  }
}

function statsRecords(add: AddAction): number {
  return add.stats ? (numRecordsOf(add.stats) ?? 0) : 0;
}

/** The numRecords of an add.stats JSON text, undefined when it has none. */
function numRecordsOf(stats: string): number | undefined {
  const m = /"numRecords":(\d+)/.exec(stats);
  return m ? Number(m[1]) : undefined;
}

/**
 * Checks the shape of a pre-encoded file beyond its plan key: partition values naming exactly the
 * partition columns (string or null), bytes, and stats whose numRecords is the file's. INVALID_ARGUMENT.
 */
function checkEncodedFile(file: DeltaEncodedFile, index: number, partitionColumns: readonly string[]): void {
  const fail = (why: string) =>
    new DeltaError(`pre-encoded data file ${index} ${why}`, { code: 'INVALID_ARGUMENT', context: { file: index } });
  if (!(file.bytes instanceof Uint8Array) || file.bytes.byteLength === 0) throw fail('has no Parquet bytes');
  const values = file.partitionValues;
  const keys = typeof values === 'object' && values !== null ? Object.keys(values) : undefined;
  if (
    keys === undefined ||
    keys.length !== partitionColumns.length ||
    !partitionColumns.every((c) => c in values && (values[c] === null || typeof values[c] === 'string'))
  ) {
    throw fail(`has partition values ${JSON.stringify(values)}, not values of [${partitionColumns.join(', ')}]`);
  }
  if (!Number.isSafeInteger(file.numRecords) || file.numRecords < 1) {
    throw fail(`has numRecords ${file.numRecords}, not a positive integer`);
  }
  if (typeof file.stats !== 'string' || numRecordsOf(file.stats) !== file.numRecords) {
    throw fail(`has stats that do not count its ${file.numRecords} records`);
  }
}

/** One data file of writeFiles: its rows and their encoding (started, maybe still running). */
interface PlannedFile {
  chunk: Row[];
  encoded: Promise<EncodedParquet>;
}

/** Runs at most `limit` async tasks at once, starting them in call order. */
class Limiter {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running++;
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}

/** The rows of one partition value combination (groupByPartition). */
export interface PartitionGroup {
  /** Partition values as add.partitionValues holds them (serialized; null for null or ''). */
  values: Record<string, string | null>;
  /** The rows without their partition columns. */
  rows: Row[];
  /** Index in the caller's rows of each row of the group (undefined: the same index). */
  indices?: number[];
}

/**
 * A ParquetEncodeError about one row of a group, re-thrown as INVALID_DATA naming the caller's row
 * (`offset`: where the encoded slice starts in the group); other encoder codes become
 * UNSUPPORTED_FEATURE / INVALID_ARGUMENT DeltaErrors, any other error is returned unchanged.
 */
export function encodeFailure(error: unknown, group: PartitionGroup, offset: number): unknown {
  if (!(error instanceof ParquetEncodeError)) return error;
  if (error.code !== 'INVALID_DATA') {
    const code = error.code === 'UNSUPPORTED_TYPE' ? 'UNSUPPORTED_FEATURE' : 'INVALID_ARGUMENT';
    return new DeltaError(error.message, { code, cause: error, context: { ...error.context } });
  }
  const local = typeof error.context.row === 'number' ? offset + error.context.row : undefined;
  const row = local === undefined ? undefined : (group.indices?.[local] ?? local);
  const message = error.message.replace(/row \d+/, `row ${row}`);
  return new DeltaError(message, {
    code: 'INVALID_DATA',
    cause: error,
    context: { ...error.context, row, partitionValues: group.values },
  });
}

/**
 * Groups rows by their partition values (log-encoded), in first-seen order, with the partition
 * columns removed from the rows. Unpartitioned tables give one group holding `rows` itself.
 */
export function groupByPartition(
  rows: readonly Row[],
  schema: StructType,
  partitionColumns: readonly string[],
): PartitionGroup[] {
  if (partitionColumns.length === 0) return rows.length === 0 ? [] : [{ values: {}, rows: rows as Row[] }];
  const types = partitionColumns.map((c) => schema.fields.find((f) => f.name === c)?.type as DataType);
  const groups = new Map<string, PartitionGroup>();
  for (let index = 0; index < rows.length; index++) {
    const row = rows[index] as Row;
    const values: Record<string, string | null> = {};
    let key = '';
    for (let i = 0; i < partitionColumns.length; i++) {
      const column = partitionColumns[i] as string;
      const type = types[i] as DataType;
      let text: string | null;
      try {
        text = serializePartitionValue(type, toCanonical(type, row[column], column));
      } catch (error) {
        if (!(error instanceof DeltaError)) throw error;
        throw new DeltaError(`row ${index}: ${error.message}`, {
          code: error.code,
          cause: error,
          context: { ...error.context, row: index },
        });
      }
      // Spark stores an empty string partition value as null.
      values[column] = text === '' ? null : text;
      key += text === null || text === '' ? '\u0001' : `\u0002${text}`;
      key += '\u0000';
    }
    let group = groups.get(key);
    if (!group) {
      group = { values, rows: [], indices: [] };
      groups.set(key, group);
    }
    const data: Row = {};
    for (const k of Object.keys(row)) if (!partitionColumns.includes(k)) data[k] = row[k];
    group.rows.push(data);
    group.indices?.push(index);
  }
  return [...groups.values()];
}
