// DeltaSink: the streaming Sink over a Delta table, exactly-once through Delta's txn action (each commit
// carries txn(appId = queryId, version = batchId); a batch whose txn the table already has is skipped).
// append → blind append; complete → overwrite of the whole table; update → copy-on-write MERGE by the
// query's key columns (merge.ts). prepare() writes the data files, commit() makes them visible in one
// commit, recognising its own unacknowledged commits and batches another instance already committed.
// In append mode a batch may also bring data files encoded elsewhere (encoded-file.ts: encodingPlan()
// gives the plan, workers run encodeForPlan), committed with its rows as if prepare had encoded them.
// With auto compaction (auto-compact.ts) a commit that leaves a partition with many small files is
// followed by an OPTIMIZE commit of them.

import { LakestreamError } from '../../common/errors.js';
import { LocalObjectStore } from '../../storage/local.js';
import type { ObjectStore } from '../../storage/object-store.js';
import { rowsOf } from '../../stream/column-rows.js';
import { SchemaInference } from '../../stream/input/infer-schema.js';
import type { PreparedBatch, Sink, SinkBatch, SinkCommitOutcome, SinkContext } from '../../stream/sink.js';
import type { EncodedFile, OutputMode, Row } from '../../stream/types.js';
import type { ColumnBatch } from '../parquet/column-batch.js';
import { defaultEncodePool } from '../parquet/encode-pool.js';
import type { StructType } from '../schema.js';
import type { AddAction, MetadataAction } from './actions.js';
import { type AutoCompactOptions, autoCompact, autoCompactSettings } from './auto-compact.js';
import { writeCheckpoint } from './checkpoint-writer.js';
import type { ReadPredicate } from './conflict-checker.js';
import {
  DELTA_PARQUET,
  type DeltaEncodedFile,
  type DeltaEncodingPlan,
  defaultSliceWriter,
  encodeBatchForPlan,
  isDeltaEncodedFile,
  planTakesBatch,
} from './encoded-file.js';
import { DeltaError } from './errors.js';
import type { ParquetCompression } from './file-names.js';
import { checkpointInterval, cleanupExpiredLogs } from './log-cleanup.js';
import { type MergeMetrics, mergeByKey, mergeMetricsRecord, resolveKeyColumns } from './merge.js';
import type { OptimizeResult } from './optimize.js';
import { partitionAppId, planPartitionTxns, rowsAboveFloors } from './partition-transactions.js';
import { checkWriteSchema } from './schema-check.js';
import type { DeltaSnapshot } from './snapshot.js';
import { type AppTransaction, DeltaTable, type DeltaTableOptions } from './table.js';
import { DeltaTransaction, type EncodingPlanOptions, type Operation, WRITE_DEFAULTS } from './transaction.js';

export interface DeltaSinkOptions {
  /** Where the table is (its root). */
  store: ObjectStore;
  /** Partition columns of a table the sink creates (must equal an existing table's, when given). */
  partitionBy?: readonly string[];
  /**
   * Schema of a table the sink creates, and the declared schema of the rows it writes. Default: the
   * query's schema (SinkContext.schema); when neither is known, the table is created at the first
   * non-empty batch with a schema inferred from its rows (see inferTableSchema).
   */
  schema?: StructType;
  /** Create the table when it does not exist. Default true (otherwise open fails with TABLE_NOT_FOUND). */
  createIfMissing?: boolean;
  /** Add new columns of the rows to the table schema (additive schema evolution). Default false. */
  mergeSchema?: boolean;
  /** Target data file size in bytes (default 128 MiB). */
  targetFileSize?: number;
  compression?: ParquetCompression;
  /**
   * Appended/complete batches that fit one file but have at least 2 × minRowsPerFile rows (per
   * partition) are written as up to maxParallelFiles files encoded at once, so every encode worker
   * works on the batch (WriteFilesOptions.minRowsPerFile). Default 16 384.
   */
  minRowsPerFile?: number;
  /** Most files such a batch is split into; 1 writes one file. Default: the encode pool's size. */
  maxParallelFiles?: number;
  /** Table properties of a table the sink creates (e.g. { 'delta.checkpointInterval': '10' }). */
  properties?: Readonly<Record<string, string>>;
  /** Options of the table handle (clock, commit retries, engineInfo, warnings). */
  table?: DeltaTableOptions;
  /**
   * Keep source offsets of record in the table, one txn per source partition (appId
   * '<appIdPrefix>-<partition id>', version = next offset), in the same commit as the data — so
   * that several queries (members of one Kafka consumer group) can write one table while partitions
   * move between them: rows below their partition's recorded offset are dropped, a concurrent commit
   * of the same partition makes the batch re-run (retryable SINK_PARTITION_CONFLICT). Append mode
   * only; rows must carry their origin (stream/row-origin.ts). See partition-transactions.ts.
   */
  partitionTransactions?: { appIdPrefix: string };
  /**
   * Auto compaction (auto-compact.ts): after a commit, every partition with at least `minFiles`
   * (default 50) files smaller than `maxFileSize` (default 128 MiB) has them rewritten into files of
   * about that size, in an OPTIMIZE commit (dataChange=false: streaming readers pass over it) that
   * runs within commit(), after the batch's own commit is durable. Its failure is a warning, never
   * the batch's: the next commit tries again. `false` turns it off, `true` or options on; unset, the
   * table's `delta.autoOptimize.autoCompact` property decides ('true' or 'auto': on, with the
   * defaults). It decouples file size from trigger latency: batches commit small files as often as
   * the trigger says, and the table keeps few, large ones.
   */
  autoCompact?: boolean | AutoCompactOptions;
  /** Hears each auto compaction done (autoCompact). */
  onCompacted?: (compaction: AutoCompaction) => void;
}

/** An auto compaction done (DeltaSinkOptions.autoCompact): the OPTIMIZE commit's version and metrics. */
export type AutoCompaction = Omit<OptimizeResult, 'outcome'> & { version: number };

const OUTPUT_MODE_NAMES: Record<OutputMode, string> = { append: 'Append', complete: 'Complete', update: 'Update' };

/** Everything a commit of one batch consists of, so that it can be rebuilt on a fresh transaction. */
export interface DeltaCommitRecord {
  /** The snapshot prepare() read (the commit's read version). */
  readonly snapshot: DeltaSnapshot;
  readonly metadata: MetadataAction | undefined;
  readonly readWholeTable: boolean;
  readonly read: readonly AddAction[];
  readonly readPredicate: ReadPredicate | undefined;
  readonly removes: readonly AddAction[];
  readonly adds: readonly AddAction[];
  readonly txn: AppTransaction;
  /** Source-partition txns (partitionTransactions), set in the same commit. */
  readonly partitionTxns: readonly AppTransaction[];
  readonly operation: Operation;
}

/** What commit() does with a prepared batch. */
export type DeltaBatchPlan =
  | { kind: 'skip' }
  | { kind: 'already-committed'; version: number }
  | { kind: 'write'; record: DeltaCommitRecord; transaction: DeltaTransaction; metrics: MergeMetrics | undefined };

/** A prepared batch of a DeltaSink: the transaction holding the written files, not yet committed. */
export class DeltaPreparedBatch implements PreparedBatch {
  /** 'committed' after a commit returned (committed or already-committed); 'aborted' after abort(). */
  state: 'prepared' | 'committed' | 'aborted' = 'prepared';
  /** Commit attempts made (the first uses the prepared transaction, later ones a rebuilt one). */
  attempts = 0;
  /** The table version of the batch once known. */
  version: number | undefined;

  constructor(
    readonly sink: DeltaSink,
    readonly batchId: number,
    readonly numRows: number,
    readonly plan: DeltaBatchPlan,
  ) {}

  /** Data files written for the batch (empty when skipped or already committed). */
  get files(): readonly AddAction[] {
    return this.plan.kind === 'write' ? this.plan.record.adds : [];
  }

  /** The MERGE metrics of an update-mode batch. */
  get metrics(): MergeMetrics | undefined {
    return this.plan.kind === 'write' ? this.plan.metrics : undefined;
  }
}

function describeError(error: unknown): Record<string, unknown> | undefined {
  if (error === undefined) return undefined;
  return { error: error instanceof Error ? error.message : String(error) };
}

/**
 * The schema of a table created from the rows of its first batch, Spark-style (stream/input/infer-schema.ts):
 * a safe-integer number is a long, another number a double, a Date a timestamp, a bigint a long (or
 * a decimal beyond int64), a Uint8Array binary, an object a struct, an array an array; strings stay
 * strings (no date or timestamp detection); a column that is null in every row becomes a string.
 * Caveat: a column whose first batch holds only integral numbers becomes a long, and a later 2.5
 * is refused; declare `schema` (or let the query provide one) when that can happen. Maps cannot be
 * inferred. Throws INVALID_DATA when a value cannot be typed.
 */
export function inferTableSchema(rows: readonly Record<string, unknown>[]): StructType {
  const inference = new SchemaInference();
  try {
    rows.forEach((row, index) => {
      inference.addRow(row, { file: 'batch', line: index + 1 });
    });
  } catch (cause) {
    throw new DeltaError(
      `cannot infer the table schema from the first batch: ${(cause as Error).message}; declare the sink's schema`,
      { code: 'INVALID_DATA', cause },
    );
  }
  const schema = inference.schema();
  if (schema.fields.length === 0) {
    throw new DeltaError('cannot infer the table schema: the rows of the first batch have no typed column', {
      code: 'INVALID_DATA',
    });
  }
  return schema;
}

function sameColumns(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((c, i) => c.toLowerCase() === b[i]?.toLowerCase());
}

/**
 * A streaming sink writing a Delta table, exactly-once per (queryId, batchId).
 *
 * ```ts
 * const sink = deltaSink('/data/tables/counts', { partitionBy: ['day'] });
 * ```
 *
 * - append: the batch's rows are appended (commitInfo 'STREAMING UPDATE', outputMode 'Append');
 *   an empty batch commits nothing ('skipped').
 * - complete: the table's rows are replaced by the batch's (even by none: an empty result).
 * - update: rows are merged by SinkContext.keyColumns (merge.ts): matching rows are replaced, the
 *   others inserted, in one commit that removes and rewrites the files holding matched keys.
 *
 * Every commit carries txn(queryId, batchId): prepare() and the commit both detect a batch the table
 * already has ('already-committed'), including one whose commit was durable but not acknowledged.
 */
export class DeltaSink implements Sink {
  readonly description: string;
  private readonly store: ObjectStore;
  private context: SinkContext | undefined;
  private tableOptions: DeltaTableOptions = {};
  private handle: DeltaTable | undefined;
  private closed = false;

  constructor(private readonly options: DeltaSinkOptions) {
    if (typeof options !== 'object' || options === null || typeof options.store !== 'object' || !options.store) {
      throw new DeltaError('DeltaSink needs an ObjectStore (options.store)', { code: 'INVALID_ARGUMENT' });
    }
    this.store = options.store;
    this.description = `Delta table at ${this.store.location}`;
  }

  /** The table handle once the table exists (after open, or after the first batch when creation was deferred). */
  get table(): DeltaTable | undefined {
    return this.handle;
  }

  private get createIfMissing(): boolean {
    return this.options.createIfMissing ?? true;
  }

  async open(ctx: SinkContext): Promise<void> {
    if (this.closed) throw new DeltaError('the Delta sink is closed', { code: 'INVALID_ARGUMENT' });
    if (this.context) throw new DeltaError('the Delta sink is already open', { code: 'INVALID_ARGUMENT' });
    if (typeof ctx.queryId !== 'string' || ctx.queryId === '') {
      throw new DeltaError('the query id (txn appId) must be a non-empty string', { code: 'INVALID_ARGUMENT' });
    }
    if (!(ctx.outputMode in OUTPUT_MODE_NAMES)) {
      throw new DeltaError(`unknown output mode ${JSON.stringify(ctx.outputMode)}`, {
        code: 'INVALID_ARGUMENT',
        context: { outputMode: ctx.outputMode },
      });
    }
    if (ctx.outputMode === 'update' && (!Array.isArray(ctx.keyColumns) || ctx.keyColumns.length === 0)) {
      throw new DeltaError(
        'update mode merges rows by the key columns of the query, but keyColumns is empty: update mode needs an aggregation (or declared keys)',
        { code: 'INVALID_ARGUMENT', context: { outputMode: 'update' } },
      );
    }
    const table = this.options.table ?? {};
    this.tableOptions = {
      ...table,
      now: table.now ?? ctx.now,
      onWarning: table.onWarning ?? ((message, error) => ctx.warn(message, describeError(error))),
    };

    let handle: DeltaTable | undefined;
    try {
      handle = await DeltaTable.open(this.store, this.tableOptions);
    } catch (error) {
      if (!(error instanceof DeltaError && error.code === 'TABLE_NOT_FOUND') || !this.createIfMissing) throw error;
    }
    if (!handle) {
      const schema = this.options.schema ?? ctx.schema;
      if (schema) handle = await this.create(schema);
    } else {
      this.checkPartitioning(handle);
    }
    const partitionTxns = this.options.partitionTransactions;
    if (partitionTxns !== undefined) {
      if (typeof partitionTxns.appIdPrefix !== 'string' || partitionTxns.appIdPrefix === '') {
        throw new DeltaError('partitionTransactions.appIdPrefix must be a non-empty string', {
          code: 'INVALID_ARGUMENT',
        });
      }
      if (ctx.outputMode !== 'append') {
        throw new DeltaError(`partitionTransactions need append mode, not ${ctx.outputMode} mode`, {
          code: 'INVALID_ARGUMENT',
          context: { outputMode: ctx.outputMode },
        });
      }
    }
    if (handle && ctx.outputMode === 'update' && !this.options.mergeSchema) {
      resolveKeyColumns(handle.snapshot().schema, ctx.keyColumns);
    }
    // Refuses invalid auto compaction options now rather than after the first commit.
    autoCompactSettings(this.options.autoCompact, handle?.snapshot().properties ?? this.options.properties ?? {});
    this.handle = handle;
    this.context = ctx;
  }

  private async create(schema: StructType): Promise<DeltaTable> {
    const table = await DeltaTable.create(
      this.store,
      {
        schema,
        partitionColumns: this.options.partitionBy ?? [],
        ...(this.options.properties ? { properties: this.options.properties } : {}),
        ifNotExists: true,
      },
      this.tableOptions,
    );
    this.checkPartitioning(table);
    return table;
  }

  private checkPartitioning(table: DeltaTable): void {
    const wanted = this.options.partitionBy;
    const actual = table.snapshot().partitionColumns;
    if (wanted !== undefined && !sameColumns(wanted, actual)) {
      throw new DeltaError(
        `the table at ${this.store.location} is partitioned by [${actual.join(', ')}], not by [${wanted.join(', ')}]`,
        { code: 'INVALID_ARGUMENT', context: { partitionBy: [...wanted], partitionColumns: [...actual] } },
      );
    }
  }

  /** Pre-encoded data files this sink takes in prepare (SinkBatch.files): Delta's 'delta-parquet' files. */
  acceptsEncodedFiles(format: string): boolean {
    return format === DELTA_PARQUET;
  }

  /**
   * Rows in typed columns (SinkBatch.columns): in append mode without partitionTransactions, into an
   * existing (or just created) unpartitioned table whose columns are exactly `schema`'s
   * (planTakesBatch). Batches whose columns no longer fit the table when they come are written as rows.
   */
  acceptsColumns(schema: StructType): boolean {
    const ctx = this.context;
    if (ctx === undefined || this.handle === undefined) return false;
    if (this.encodedFilesRefusal(ctx.outputMode) !== undefined) return false;
    try {
      return planTakesBatch(this.transaction(this.handle.snapshot()).encodingPlan(this.planOptions), schema);
    } catch {
      return false;
    }
  }

  /** The write settings of the sink's own writes (targetFileSize, compression), for writeFiles and plans. */
  private get planOptions(): EncodingPlanOptions {
    return {
      ...(this.options.targetFileSize !== undefined ? { targetFileSize: this.options.targetFileSize } : {}),
      ...(this.options.compression ? { compression: this.options.compression } : {}),
    };
  }

  /**
   * Why this sink cannot take pre-encoded files, or undefined when it can: only append mode writes
   * rows as they come (complete replaces the table, update merges by key), and partitionTransactions
   * drop rows below their partition's recorded offset, which cannot be done to encoded rows.
   */
  private encodedFilesRefusal(mode: OutputMode): string | undefined {
    if (mode !== 'append') return `pre-encoded data files are written in append mode only, not in ${mode} mode`;
    if (this.options.partitionTransactions !== undefined) {
      return 'pre-encoded data files cannot be written with partitionTransactions (rows below their source partition offset cannot be dropped from encoded files)';
    }
    return undefined;
  }

  /**
   * The plan data files for this sink must be encoded with (encodeForPlan, e.g. in worker threads)
   * for prepare to take them (SinkBatch.files): the latest table version's schema, partitioning and
   * properties with this sink's targetFileSize and compression — what prepare would encode rows with.
   * Taken from the newest snapshot the sink has seen, without reading the log: prepare refreshes the
   * table anyway, and when the table changed meanwhile (schema, partitioning, codec or stats
   * properties) it fails the batch with retryable SINK_PLAN_CHANGED; the re-run's plan is then fresh.
   *
   * Throws INVALID_ARGUMENT when the sink is not open, its output mode is not append or it keeps
   * partitionTransactions (prepare refuses files then); TABLE_NOT_FOUND while the table does not exist
   * (creation deferred to the first batch because no schema was declared); and the plan's own
   * UNSUPPORTED_FEATURE / INVALID_ARGUMENT faults (DeltaTransaction.encodingPlan).
   */
  async encodingPlan(): Promise<DeltaEncodingPlan> {
    const ctx = this.requireOpen();
    const refusal = this.encodedFilesRefusal(ctx.outputMode);
    if (refusal !== undefined) {
      throw new DeltaError(`no encoding plan: ${refusal}`, {
        code: 'INVALID_ARGUMENT',
        context: { outputMode: ctx.outputMode },
      });
    }
    if (!this.handle) {
      throw new DeltaError(
        `the Delta table at ${this.store.location} does not exist yet (it is created from the first batch's rows because no schema was declared), so there is no encoding plan; declare the sink's schema to encode ahead of the sink`,
        { code: 'TABLE_NOT_FOUND' },
      );
    }
    return this.transaction(this.handle.snapshot()).encodingPlan(this.planOptions);
  }

  /**
   * The batch's pre-encoded files, checked to be Delta files this sink takes now (INVALID_ARGUMENT
   * otherwise, naming why); empty without files.
   */
  private encodedFilesOf(files: readonly EncodedFile[] | undefined, mode: OutputMode): readonly DeltaEncodedFile[] {
    if (files === undefined) return [];
    if (!Array.isArray(files)) {
      throw new DeltaError('batch files must be an array', { code: 'INVALID_ARGUMENT' });
    }
    if (files.length === 0) return [];
    const refusal = this.encodedFilesRefusal(mode);
    if (refusal !== undefined) {
      throw new DeltaError(refusal, { code: 'INVALID_ARGUMENT', context: { outputMode: mode, files: files.length } });
    }
    files.forEach((file: EncodedFile, index) => {
      if (!isDeltaEncodedFile(file)) {
        const format = typeof file === 'object' && file !== null ? file.format : undefined;
        throw new DeltaError(
          `batch file ${index} is not a Delta data file (format ${JSON.stringify(format)}; the Delta sink takes '${DELTA_PARQUET}' files made by encodeForPlan)`,
          { code: 'INVALID_ARGUMENT', context: { file: index, format } },
        );
      }
    });
    return files as readonly DeltaEncodedFile[];
  }

  private requireOpen(): SinkContext {
    if (this.closed) throw new DeltaError('the Delta sink is closed', { code: 'INVALID_ARGUMENT' });
    if (!this.context) throw new DeltaError('the Delta sink is not open', { code: 'INVALID_ARGUMENT' });
    return this.context;
  }

  /** Checkpoints every delta.checkpointInterval versions and cleans up expired logs (as DeltaTable does). */
  private async checkpointIfDue(snapshot: DeltaSnapshot): Promise<void> {
    const interval = checkpointInterval(snapshot.properties);
    if (snapshot.version === 0 || snapshot.version % interval !== 0) return;
    const now = this.tableOptions.now ?? Date.now;
    await writeCheckpoint(this.store, snapshot, { now });
    await cleanupExpiredLogs(this.store, snapshot, { now });
  }

  /** After a batch's commit: the checkpoint when due, then auto compaction when on and due. */
  private async postCommit(snapshot: DeltaSnapshot): Promise<void> {
    let failure: unknown;
    try {
      await this.checkpointIfDue(snapshot);
    } catch (error) {
      failure = error;
    }
    await this.compactIfDue(snapshot);
    if (failure !== undefined) throw failure;
  }

  /** Auto compaction (DeltaSinkOptions.autoCompact) of the table at `snapshot`; a failure is a warning. */
  private async compactIfDue(snapshot: DeltaSnapshot): Promise<void> {
    try {
      const settings = autoCompactSettings(this.options.autoCompact, snapshot.properties);
      if (settings === undefined) return;
      const tx = this.transaction(snapshot, false);
      const result = await autoCompact(this.store, tx, settings, this.options.compression);
      if (result?.outcome === undefined) return;
      const { outcome, ...metrics } = result;
      this.options.onCompacted?.({ ...metrics, version: outcome.version });
    } catch (error) {
      this.tableOptions.onWarning?.(
        `auto compaction of ${this.store.location} after version ${snapshot.version} failed (the committed data is unaffected; the next commit tries again)`,
        error,
      );
    }
  }

  /** A transaction on `snapshot`; after its commit, postCommit (with auto compaction) or only checkpointIfDue. */
  private transaction(snapshot: DeltaSnapshot, compact = true): DeltaTransaction {
    const options = this.tableOptions;
    return new DeltaTransaction(this.store, snapshot, {
      now: options.now ?? Date.now,
      ...(options.commit ? { commit: options.commit } : {}),
      ...(options.engineInfo ? { engineInfo: options.engineInfo } : {}),
      postCommit: (s) => (compact ? this.postCommit(s) : this.checkpointIfDue(s)),
      onPostCommitError: (error) => options.onWarning?.('post-commit hook (checkpoint / log cleanup) failed', error),
    });
  }

  /** A fresh transaction on the prepared read snapshot with the same actions (a commit retry). */
  private rebuild(record: DeltaCommitRecord): DeltaTransaction {
    const tx = this.transaction(record.snapshot);
    if (record.metadata) tx.updateMetadata(record.metadata);
    if (record.readWholeTable) tx.readWholeTable();
    if (record.read.length > 0 || record.readPredicate) tx.readFiles(record.read, record.readPredicate);
    if (record.removes.length > 0) tx.removeFiles(record.removes);
    tx.addFiles(record.adds);
    tx.setTransaction(record.txn.appId, record.txn.version);
    for (const t of record.partitionTxns) tx.setTransaction(t.appId, t.version);
    return tx;
  }

  /**
   * Writes the batch's data files (append, complete) or rewrites the files holding its keys (update)
   * on a transaction of the latest snapshot; nothing is visible until commit(). Returns a batch to
   * skip when it is empty (append, update) and an already-committed batch when the table's txn of
   * the query is at or after batchId. Throws SCHEMA_MISMATCH / INVALID_DATA for rows that do not fit.
   *
   * `batch.files` (pre-encoded under encodingPlan(), append mode without partitionTransactions only,
   * else INVALID_ARGUMENT) are stored and committed with the rows' files, as if prepare had encoded
   * them (DeltaTransaction.addEncodedFiles); a batch with files is not empty, and numRows counts
   * their records. Files of a stale plan fail with retryable SINK_PLAN_CHANGED; rows that would
   * evolve the schema (mergeSchema) together with files are INVALID_ARGUMENT, as the files were
   * encoded with the schema before the change.
   */
  async prepare(batch: SinkBatch): Promise<PreparedBatch> {
    const ctx = this.requireOpen();
    const { batchId } = batch;
    let { rows } = batch;
    if (!Number.isSafeInteger(batchId) || batchId < 0) {
      throw new DeltaError(`batchId must be a non-negative integer, got ${batchId}`, { code: 'INVALID_ARGUMENT' });
    }
    if (!Array.isArray(rows)) throw new DeltaError('batch rows must be an array', { code: 'INVALID_ARGUMENT' });
    const mode = ctx.outputMode;
    const files = this.encodedFilesOf(batch.files, mode);
    const encodedRows = files.reduce((n, file) => n + file.numRecords, 0);
    // Rows in columns: encoded straight from the columns in append mode (when they fit the table, see
    // below), else written as the rows they hold.
    let columns = batch.columns ?? [];
    const columnsAsRows = () => {
      rows = [...rows, ...columns.flatMap((c) => rowsOf(c))];
      columns = [];
    };
    if (columns.length > 0 && (this.encodedFilesRefusal(mode) !== undefined || !this.handle)) columnsAsRows();
    // Rows of `columns` (each fallback below moves columns into `rows`, so recount where needed).
    const columnRowsOf = () => columns.reduce((n, c) => n + c.batch.length, 0);
    const columnRows = columnRowsOf();
    const skip = () => new DeltaPreparedBatch(this, batchId, rows.length, { kind: 'skip' });
    const byPartition = this.options.partitionTransactions !== undefined && batch.sourceRanges !== undefined;
    if (rows.length === 0 && files.length === 0 && columnRows === 0 && mode !== 'complete' && !byPartition)
      return skip();
    if (!this.handle) {
      if (files.length > 0) {
        // encodingPlan() refuses to plan for a table that does not exist: these files have no plan.
        throw new DeltaError(
          `the batch brings pre-encoded data files but the Delta table at ${this.store.location} does not exist yet`,
          { code: 'INVALID_ARGUMENT', context: { files: files.length } },
        );
      }
      // Deferred creation: neither the options nor the query declared a schema.
      if (rows.length === 0) return skip(); // complete mode, no table yet: nothing to replace
      this.handle = await this.create(inferTableSchema(rows));
    }
    const snapshot = await this.handle.refresh();
    const txn: AppTransaction = { appId: ctx.queryId, version: batchId };
    const tx = this.transaction(snapshot);
    if (tx.alreadyCommitted([txn])) {
      return new DeltaPreparedBatch(this, batchId, rows.length + encodedRows + columnRows, {
        kind: 'already-committed',
        version: snapshot.version,
      });
    }
    let partitionTxns: readonly AppTransaction[] = [];
    if (byPartition) {
      const plan = planPartitionTxns(this.options.partitionTransactions!.appIdPrefix, batch.sourceRanges!, (appId) =>
        snapshot.txnVersion(appId),
      );
      rows = rowsAboveFloors(rows, plan.floors);
      partitionTxns = plan.txns;
      // Nothing new for the table: neither rows nor offsets to advance.
      if (rows.length === 0 && partitionTxns.length === 0) return skip();
    }

    const dataSchema = this.options.schema ?? ctx.schema;
    const writeSchemaOf = (data: readonly Row[]) =>
      checkWriteSchema(tx.schema, data, {
        ...(this.options.mergeSchema !== undefined ? { mergeSchema: this.options.mergeSchema } : {}),
        ...(dataSchema ? { dataSchema } : {}),
      });
    if (columns.some((c) => !planTakesBatch(tx.encodingPlan(this.planOptions), c.batch.schema))) columnsAsRows();
    let { schema, changed } = writeSchemaOf(rows);
    if (changed && columns.length > 0) {
      // The rows evolve the schema: the columns' rows are written as rows under the new one.
      columnsAsRows();
      ({ schema, changed } = writeSchemaOf(rows));
    }
    if (changed && files.length > 0) {
      // The files hold the old schema's columns; a plan check after the change would fail every re-run.
      throw new DeltaError(
        "the batch's rows change the table schema (mergeSchema) but it also brings pre-encoded data files, encoded with the schema before the change; write such rows without pre-encoded files",
        { code: 'INVALID_ARGUMENT', context: { files: files.length } },
      );
    }
    if (changed) tx.updateMetadata({ ...tx.metadata, schemaString: JSON.stringify(schema) });
    const writeOptions = this.planOptions;

    const fileOptions = {
      ...writeOptions,
      ...(this.options.minRowsPerFile !== undefined ? { minRowsPerFile: this.options.minRowsPerFile } : {}),
      ...(this.options.maxParallelFiles !== undefined ? { maxParallelFiles: this.options.maxParallelFiles } : {}),
    };

    let readWholeTable = false;
    let read: readonly AddAction[] = [];
    let readPredicate: ReadPredicate | undefined;
    let removes: readonly AddAction[] = [];
    let adds: readonly AddAction[];
    let metrics: MergeMetrics | undefined;
    switch (mode) {
      case 'append':
        // The encoded files first: a stale plan (SINK_PLAN_CHANGED) fails before the rows are encoded.
        // A commit retry (rebuild) re-adds them with the rows' files from record.adds.
        adds = files.length > 0 ? await tx.addEncodedFiles(files, writeOptions) : [];
        for (const c of columns) adds = [...adds, ...(await this.writeColumns(tx, c.batch, writeOptions))];
        adds = [...adds, ...(await tx.writeFiles(rows, fileOptions))];
        break;
      case 'complete':
        readWholeTable = true;
        tx.readWholeTable();
        removes = snapshot.files;
        tx.removeFiles(removes);
        adds = await tx.writeFiles(rows, fileOptions);
        break;
      case 'update': {
        const result = await mergeByKey(tx, rows, { keys: ctx.keyColumns, ...writeOptions });
        read = result.read;
        readPredicate = result.readPredicate;
        removes = result.removed;
        adds = result.added;
        metrics = result.metrics;
        break;
      }
    }
    tx.setTransaction(txn.appId, txn.version);
    for (const t of partitionTxns) tx.setTransaction(t.appId, t.version);
    const operation: Operation = {
      name: 'STREAMING UPDATE',
      parameters: { outputMode: OUTPUT_MODE_NAMES[mode], queryId: ctx.queryId, epochId: String(batchId) },
      ...(metrics ? { metrics: mergeMetricsRecord(metrics) } : {}),
    };
    const record: DeltaCommitRecord = {
      snapshot,
      metadata: changed ? tx.metadata : undefined,
      readWholeTable,
      read,
      readPredicate,
      removes,
      adds,
      txn,
      partitionTxns,
      operation,
    };
    return new DeltaPreparedBatch(this, batchId, rows.length + encodedRows + columnRowsOf(), {
      kind: 'write',
      record,
      transaction: tx,
      metrics,
    });
  }

  /**
   * Writes the rows of a ColumnBatch (planTakesBatch) as data files of `tx`, each encoded in the
   * encode pool. A batch that fits one file is cut as writeFiles cuts the same rows (into up to
   * maxParallelFiles slices), so the files are the same; a larger one near targetFileSize by the
   * batch's size estimate.
   */
  private async writeColumns(
    tx: DeltaTransaction,
    batch: ColumnBatch,
    writeOptions: EncodingPlanOptions,
  ): Promise<AddAction[]> {
    const files = await encodeBatchForPlan(tx.encodingPlan(writeOptions), batch, defaultSliceWriter(), {
      minRowsPerFile: this.options.minRowsPerFile ?? WRITE_DEFAULTS.minRowsPerFile,
      maxParallelFiles: this.options.maxParallelFiles ?? defaultEncodePool()?.size ?? 1,
    });
    return tx.addEncodedFiles(files, writeOptions);
  }

  private own(prepared: PreparedBatch): DeltaPreparedBatch {
    if (!(prepared instanceof DeltaPreparedBatch) || prepared.sink !== this) {
      throw new DeltaError('this prepared batch was not prepared by this Delta sink', { code: 'INVALID_ARGUMENT' });
    }
    return prepared;
  }

  /**
   * Commits a prepared batch: 'committed' with the new version, 'already-committed' when the table
   * got the batch's txn meanwhile (another instance, or an earlier attempt of this one whose commit
   * landed without an acknowledgement), 'skipped' for an empty batch. May be called again after it
   * threw: the retry commits the same actions on a fresh transaction of the same read snapshot, so
   * the conflict checks see every commit made since prepare().
   */
  async commit(prepared: PreparedBatch): Promise<SinkCommitOutcome> {
    this.requireOpen();
    const batch = this.own(prepared);
    const { batchId, plan } = batch;
    if (batch.state === 'aborted') {
      throw new DeltaError(`batch ${batchId} was aborted and cannot be committed`, { code: 'INVALID_ARGUMENT' });
    }
    if (plan.kind === 'skip') {
      batch.state = 'committed';
      return { kind: 'skipped', batchId };
    }
    if (plan.kind === 'already-committed') {
      batch.state = 'committed';
      batch.version = plan.version;
      return { kind: 'already-committed', batchId, version: plan.version };
    }
    if (batch.state === 'committed') {
      return { kind: 'already-committed', batchId, ...(batch.version !== undefined ? { version: batch.version } : {}) };
    }
    const tx = batch.attempts === 0 ? plan.transaction : this.rebuild(plan.record);
    batch.attempts++;
    let outcome: Awaited<ReturnType<DeltaTransaction['commit']>>;
    try {
      outcome = await tx.commit(plan.record.operation);
    } catch (error) {
      throw this.partitionConflict(error, plan.record) ?? error;
    }
    batch.state = 'committed';
    batch.version = outcome.version;
    if (outcome.kind === 'already-committed') return { kind: 'already-committed', batchId, version: outcome.version };
    return {
      kind: 'committed',
      batchId,
      version: outcome.version,
      numRows: batch.numRows,
      numFiles: plan.record.adds.length,
    };
  }

  /**
   * A commit conflict on a source-partition txn: another writer committed the partition since
   * prepare() read the table, so the batch must be prepared again against the new offsets (retryable).
   */
  private partitionConflict(error: unknown, record: DeltaCommitRecord): LakestreamError | undefined {
    if (record.partitionTxns.length === 0) return undefined;
    if (!(error instanceof DeltaError) || error.code !== 'COMMIT_CONFLICT') return undefined;
    const appIds = (error.context as { appIds?: unknown } | undefined)?.appIds;
    const ours = new Set(record.partitionTxns.map((t) => t.appId));
    const moved = Array.isArray(appIds) ? appIds.filter((a): a is string => typeof a === 'string' && ours.has(a)) : [];
    if (moved.length === 0) return undefined;
    return new LakestreamError(
      `another writer committed source partition offsets [${moved.join(', ')}] to ${this.store.location} concurrently (a consumer-group rebalance); the batch is prepared again`,
      {
        code: 'SINK_PARTITION_CONFLICT',
        domain: 'external',
        retryable: true,
        cause: error,
        context: { appIds: moved },
      },
    );
  }

  /**
   * The source offsets of record of `partitions` (partitionTransactions): the next offset the table
   * expects per partition id, undefined for a partition it has none of. Reads the latest table version.
   */
  async partitionOffsets(partitions: readonly string[]): Promise<Record<string, string | undefined>> {
    const prefix = this.options.partitionTransactions?.appIdPrefix;
    if (prefix === undefined) {
      throw new DeltaError('partitionOffsets needs the partitionTransactions option', { code: 'INVALID_ARGUMENT' });
    }
    let snapshot: DeltaSnapshot | undefined;
    if (this.handle) snapshot = await this.handle.refresh();
    else {
      try {
        snapshot = (await DeltaTable.open(this.store, this.tableOptions)).snapshot();
      } catch (error) {
        if (!(error instanceof DeltaError && error.code === 'TABLE_NOT_FOUND')) throw error;
      }
    }
    const out: Record<string, string | undefined> = {};
    for (const partition of partitions) {
      const version = snapshot?.txnVersion(partitionAppId(prefix, partition));
      out[partition] = version === undefined ? undefined : String(version);
    }
    return out;
  }

  /** Forgets a prepared batch; its data files stay unreferenced until vacuum removes them. Never throws. */
  async abort(prepared: PreparedBatch): Promise<void> {
    if (prepared instanceof DeltaPreparedBatch && prepared.sink === this && prepared.state === 'prepared') {
      prepared.state = 'aborted';
    }
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/**
 * A DeltaSink on `storeOrPath`: an ObjectStore, or a local folder path (a LocalObjectStore there).
 */
export function deltaSink(storeOrPath: ObjectStore | string, options: Omit<DeltaSinkOptions, 'store'> = {}): DeltaSink {
  const store = typeof storeOrPath === 'string' ? new LocalObjectStore(storeOrPath) : storeOrPath;
  return new DeltaSink({ ...options, store });
}
