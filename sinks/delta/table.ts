// DeltaTable: the user-facing API of lakestream's Delta writer over one ObjectStore — create/open,
// append/overwrite (replaceWhere, mergeSchema, exactly-once txn), snapshots and time travel, history,
// scans, and maintenance (checkpoint, log cleanup, vacuum, optimize). Post-commit hooks checkpoint.
import { randomUUID } from 'node:crypto';
import type { ObjectStore } from '../../storage/object-store.js';
import type { DataType, StructType } from '../schema.js';
import type { Action, MetadataAction, ProtocolAction } from './actions.js';
import { type LastCheckpointInfo, writeCheckpoint } from './checkpoint-writer.js';
import { type CommitOptions, type CommitOutcome, commitVersionZero } from './commit.js';
import { compressionFromProperties } from './compression.js';
import { DeltaError } from './errors.js';
import type { ParquetCompression } from './file-names.js';
import { type HistoryEntry, type HistoryOptions, history } from './history.js';
import { latestVersion, loadSnapshot, readCommit } from './load-snapshot.js';
import {
  checkpointInterval,
  cleanupExpiredLogs,
  type LogCleanupOptions,
  type LogCleanupResult,
  parseIntervalMs,
} from './log-cleanup.js';
import { type MergeMetrics, mergeByKey, mergeMetricsRecord, mergeOperationParameters } from './merge.js';
import { type OptimizeOptions, type OptimizeResult, optimize } from './optimize.js';
import { compilePartitionPredicate, validatePartitionColumns } from './partition-values.js';
import type { Predicate } from './predicate.js';
import { assertReadable, assertWritable } from './protocol.js';
import { advanceSnapshot, applyActions, commitTimestamp, emptyReplayState, snapshotFromState } from './replay.js';
import { type ScanBatch, type ScanOptions, scan, scanRows } from './scan.js';
import { type ArrowScanBatch, scanArrow } from './scan-arrow.js';
import { checkWriteSchema } from './schema-check.js';
import type { DeltaSnapshot } from './snapshot.js';
import { DeltaTransaction, ENGINE_INFO } from './transaction.js';
import { type VacuumOptions, type VacuumResult, vacuum } from './vacuum.js';
import type { Row } from './values.js';

/** The protocol lakestream creates tables with: no table features, readable by every Delta reader. */
export const DEFAULT_PROTOCOL: ProtocolAction = Object.freeze({ minReaderVersion: 1, minWriterVersion: 2 });

/** Options of every DeltaTable operation (injected clock, retry policy, warnings). */
export interface DeltaTableOptions {
  /** Clock (ms) for commit timestamps, retention cutoffs and file times. Default Date.now. */
  now?: () => number;
  /** Commit retry policy (default 15 attempts with exponential backoff and jitter). */
  commit?: CommitOptions;
  /** commitInfo.engineInfo. Default 'lakestream/<version>'. */
  engineInfo?: string;
  /** Receives non-fatal problems: a failed post-commit checkpoint, a risky table property. */
  onWarning?: (message: string, error?: unknown) => void;
}

export interface CreateTableOptions {
  schema: StructType;
  partitionColumns?: readonly string[];
  /** Table properties (metaData.configuration), e.g. { 'delta.checkpointInterval': '10' }. */
  properties?: Readonly<Record<string, string>>;
  name?: string;
  description?: string;
  /** Return the existing table instead of failing with TABLE_EXISTS. */
  ifNotExists?: boolean;
}

/** An application transaction (Delta `txn`): the idempotency token of exactly-once writes. */
export interface AppTransaction {
  appId: string;
  version: number;
}

export interface WriteOptions {
  /** Add new columns and nested fields from the data to the table schema (additive only). */
  mergeSchema?: boolean;
  /** The declared schema of the rows (otherwise new columns' types are inferred from values). */
  dataSchema?: StructType;
  /**
   * txn actions committed with the data. If the table already has every appId at or after the given
   * version, nothing is written and the outcome is 'already-committed'.
   */
  txn?: AppTransaction | readonly AppTransaction[];
  /** Target data file size in bytes (default 128 MiB). */
  targetFileSize?: number;
  compression?: ParquetCompression;
  /** Overrides commitInfo.operation / operationParameters (e.g. 'STREAMING UPDATE'). */
  operation?: { name: string; parameters: Record<string, unknown> };
}

export interface OverwriteOptions extends WriteOptions {
  /**
   * Replace only the rows matching this predicate on partition columns; every written row must
   * match it (INVALID_DATA otherwise), as Spark's replaceWhere.
   */
  replaceWhere?: Predicate;
}

/** The outcome of a write: a CommitOutcome plus what the write produced. */
export type WriteOutcome = CommitOutcome & { numFiles: number; numRows: number };

export interface MergeOptions extends WriteOptions {
  /** Columns identifying a row: a row whose key equals a table row's key replaces it (see merge.ts). */
  keys: readonly string[];
  /** Data files read in parallel. Default 4. */
  concurrency?: number;
}

/** The outcome of a merge: a WriteOutcome plus Spark's MERGE metrics (undefined when already committed). */
export type MergeOutcome = WriteOutcome & { metrics: MergeMetrics | undefined };

const UNSUPPORTED_PROPERTIES: Record<string, string> = {
  'delta.enableDeletionVectors': 'deletionVectors',
  'delta.enableChangeDataFeed': 'changeDataFeed',
  'delta.enableRowTracking': 'rowTracking',
  'delta.enableInCommitTimestamps': 'inCommitTimestamp',
  'delta.checkpointPolicy': 'v2Checkpoint',
};

function findNtz(type: DataType, path: string): string | undefined {
  if (type === 'timestamp_ntz') return path;
  if (typeof type === 'string') return undefined;
  if (type.type === 'array') return findNtz(type.elementType, `${path}.element`);
  if (type.type === 'map') return findNtz(type.keyType, `${path}.key`) ?? findNtz(type.valueType, `${path}.value`);
  for (const f of type.fields) {
    const hit = findNtz(f.type, path ? `${path}.${f.name}` : f.name);
    if (hit) return hit;
  }
  return undefined;
}

/** Refuses schemas lakestream will not write at protocol (1,2): timestamp_ntz needs a table feature. */
function assertWritableSchema(schema: StructType): void {
  const ntz = findNtz(schema, '');
  if (ntz) {
    throw new DeltaError(
      `column ${ntz} is timestamp_ntz, which needs the timestampNtz table feature; use timestamp (UTC)`,
      {
        code: 'UNSUPPORTED_FEATURE',
        context: { feature: 'timestampNtz', column: ntz },
      },
    );
  }
}

function validateProperties(properties: Readonly<Record<string, string>>, warn: (m: string) => void): void {
  for (const [key, value] of Object.entries(properties)) {
    if (typeof value !== 'string') {
      throw new DeltaError(`table property ${key} must be a string`, {
        code: 'INVALID_ARGUMENT',
        context: { property: key },
      });
    }
    const feature = UNSUPPORTED_PROPERTIES[key];
    if (feature && value.toLowerCase() !== 'false' && !(key === 'delta.checkpointPolicy' && value === 'classic')) {
      throw new DeltaError(
        `table property ${key}=${value} needs the ${feature} table feature, which lakestream does not write`,
        {
          code: 'UNSUPPORTED_FEATURE',
          context: { feature, property: key },
        },
      );
    }
    if (key === 'delta.columnMapping.mode' && value !== 'none') {
      throw new DeltaError(`column mapping (mode ${value}) is not supported`, {
        code: 'UNSUPPORTED_FEATURE',
        context: { feature: 'columnMapping', property: key },
      });
    }
    if (key === 'delta.appendOnly' && value !== 'true' && value !== 'false') {
      throw new DeltaError(`delta.appendOnly must be 'true' or 'false'`, {
        code: 'INVALID_ARGUMENT',
        context: { property: key },
      });
    }
    if (/^delta\..*(Duration)$/.test(key)) parseIntervalMs(value, 0);
  }
  compressionFromProperties(properties);
  checkpointInterval(properties);
  if (properties['delta.setTransactionRetentionDuration'] !== undefined) {
    warn(
      'delta.setTransactionRetentionDuration is set: txn entries older than it expire, and the stored offsets of idle streams are lost',
    );
  }
}

function txnList(txn: WriteOptions['txn']): readonly AppTransaction[] {
  if (txn === undefined) return [];
  return Array.isArray(txn) ? (txn as readonly AppTransaction[]) : [txn as AppTransaction];
}

/**
 * A Delta table in an ObjectStore.
 *
 * ```ts
 * const table = await DeltaTable.create(store, { schema, partitionColumns: ['day'], ifNotExists: true });
 * await table.append(rows, { txn: { appId: queryId, version: batchId } });   // exactly-once
 * await table.overwrite(rows, { replaceWhere: eq('day', '2024-01-01') });
 * const rows = await table.scanRows({ filter: gt('x', 5) });
 * await table.optimize(); await table.vacuum({ dryRun: true });
 * ```
 *
 * Operations: `DeltaTable.create(store, options)`, `DeltaTable.open(store)`, `append(rows, options)`,
 * `overwrite(rows, options)`, `snapshot()` (latest) / `snapshotAt({version | timestamp})`, `refresh()`,
 * `txnVersion(appId)`, `history(options)`, `scan(options)` / `scanRows(options)`, `checkpoint()`,
 * `cleanupLogs(options)`, `vacuum(options)`, `optimize(options)`. Writes return a WriteOutcome:
 * `{ kind: 'committed', version }` or `{ kind: 'already-committed', version }`; faults are DeltaErrors.
 */
export class DeltaTable {
  private current: DeltaSnapshot;

  private constructor(
    readonly store: ObjectStore,
    snapshot: DeltaSnapshot,
    private readonly options: DeltaTableOptions,
  ) {
    this.current = snapshot;
  }

  private get now(): () => number {
    return this.options.now ?? Date.now;
  }

  private warn(message: string, error?: unknown): void {
    this.options.onWarning?.(message, error);
  }

  /**
   * Creates a table: version 0 holds commitInfo ('CREATE TABLE'), protocol (1,2) and metaData. Throws
   * TABLE_EXISTS when a table is there (or wins the race to version 0), unless `ifNotExists`;
   * INVALID_ARGUMENT / UNSUPPORTED_FEATURE for bad schemas, partition columns and properties.
   */
  static async create(
    store: ObjectStore,
    create: CreateTableOptions,
    options: DeltaTableOptions = {},
  ): Promise<DeltaTable> {
    const { schema } = create;
    const partitionColumns = [...(create.partitionColumns ?? [])];
    const properties = { ...(create.properties ?? {}) };
    if (schema?.type !== 'struct' || schema.fields.length === 0) {
      throw new DeltaError('a table needs a struct schema with at least one column', { code: 'INVALID_ARGUMENT' });
    }
    checkWriteSchema(schema, [], { dataSchema: schema }); // unique names (case-insensitive)
    assertWritableSchema(schema);
    validatePartitionColumns(schema, partitionColumns);
    validateProperties(properties, (m) => options.onWarning?.(m));

    const exists = async (): Promise<DeltaTable> => {
      if (create.ifNotExists) return DeltaTable.open(store, options);
      throw new DeltaError(`a Delta table already exists at ${store.location}`, {
        code: 'TABLE_EXISTS',
        context: { location: store.location },
      });
    };
    if ((await latestVersion(store)) !== undefined) return exists();

    const now = (options.now ?? Date.now)();
    const txnId = randomUUID();
    const metadata: MetadataAction = {
      id: randomUUID(),
      ...(create.name !== undefined ? { name: create.name } : {}),
      ...(create.description !== undefined ? { description: create.description } : {}),
      format: { provider: 'parquet', options: {} },
      schemaString: JSON.stringify(schema),
      partitionColumns,
      configuration: properties,
      createdTime: now,
    };
    const actions: Action[] = [
      {
        commitInfo: {
          timestamp: now,
          operation: 'CREATE TABLE',
          operationParameters: {
            isManaged: 'false',
            description: create.description ?? null,
            partitionBy: JSON.stringify(partitionColumns),
            properties: JSON.stringify(properties),
          },
          isolationLevel: 'Serializable',
          isBlindAppend: true,
          operationMetrics: {},
          engineInfo: options.engineInfo ?? ENGINE_INFO,
          txnId,
        },
      },
      { protocol: { ...DEFAULT_PROTOCOL } },
      { metaData: metadata },
    ];
    if ((await commitVersionZero(store, actions, txnId, options.commit)) === 'exists') return exists();
    const snapshot = snapshotFromState(applyActions(emptyReplayState(), actions, { version: 0, timestamp: now }));
    return new DeltaTable(store, snapshot, options);
  }

  /** Opens an existing table at its latest version. Throws TABLE_NOT_FOUND, UNSUPPORTED_FEATURE, LOG_CORRUPT. */
  static async open(store: ObjectStore, options: DeltaTableOptions = {}): Promise<DeltaTable> {
    const snapshot = await loadSnapshot(store);
    const table = new DeltaTable(store, snapshot, options);
    if (snapshot.properties['delta.setTransactionRetentionDuration'] !== undefined) {
      table.warn('delta.setTransactionRetentionDuration is set: txn entries older than it expire with their offsets');
    }
    return table;
  }

  /** The latest snapshot this handle has seen (call refresh() to catch up with other writers). */
  snapshot(): DeltaSnapshot {
    return this.current;
  }

  /** A snapshot at a version or timestamp (time travel). */
  snapshotAt(at: { version?: number; timestamp?: number | Date }): Promise<DeltaSnapshot> {
    return loadSnapshot(this.store, at);
  }

  /**
   * Catches up with commits made since the current snapshot (reading only the new commit files), or
   * reloads the table when they are gone. Returns the new latest snapshot. Concurrent calls (a sink's
   * prepare and its partition offsets, say) are safe: each advances the snapshot it started from, and
   * the handle keeps the newest one any of them reached.
   */
  async refresh(): Promise<DeltaSnapshot> {
    const base = this.current;
    const commits: { version: number; actions: Action[]; timestamp: number }[] = [];
    for (let version = base.version + 1; ; version++) {
      const actions = await readCommit(this.store, version);
      if (!actions) break;
      commits.push({ version, actions, timestamp: commitTimestamp(actions, this.now()) });
    }
    if (commits.length === 0) {
      const latest = await latestVersion(this.store);
      if (latest === undefined || latest <= base.version) return this.adopt(base);
      return this.adopt(await loadSnapshot(this.store));
    }
    const next = advanceSnapshot(base, commits);
    assertReadable(next.protocol, next.metadata);
    return this.adopt(next);
  }

  /** Makes `snapshot` the current one unless the handle already holds a newer one; returns the current. */
  private adopt(snapshot: DeltaSnapshot): DeltaSnapshot {
    if (snapshot.version >= this.current.version) this.current = snapshot;
    return this.current;
  }

  /** The latest committed version of an application transaction (after refreshing), or undefined. */
  async txnVersion(appId: string): Promise<number | undefined> {
    return (await this.refresh()).txnVersion(appId);
  }

  /** Commits, newest first (see history.ts). */
  history(options: HistoryOptions = {}): Promise<HistoryEntry[]> {
    return history(this.store, options);
  }

  /** Streams the rows of the latest known snapshot (or of `options.snapshot`). */
  scan(options: ScanOptions & { snapshot?: DeltaSnapshot } = {}): AsyncIterable<ScanBatch> {
    return scan(this.store, options.snapshot ?? this.current, options);
  }

  /** Streams the matching rows as Arrow tables, one per data file (see scan-arrow.ts). */
  scanArrow(options: ScanOptions & { snapshot?: DeltaSnapshot } = {}): AsyncIterable<ArrowScanBatch> {
    return scanArrow(this.store, options.snapshot ?? this.current, options);
  }

  /** All rows of the latest known snapshot (or of `options.snapshot`) matching the options. */
  scanRows(options: ScanOptions & { snapshot?: DeltaSnapshot } = {}): Promise<Row[]> {
    return scanRows(this.store, options.snapshot ?? this.current, options);
  }

  private transaction(snapshot: DeltaSnapshot): DeltaTransaction {
    return new DeltaTransaction(this.store, snapshot, {
      now: this.now,
      ...(this.options.commit ? { commit: this.options.commit } : {}),
      ...(this.options.engineInfo ? { engineInfo: this.options.engineInfo } : {}),
      postCommit: (s) => this.postCommit(s),
      onPostCommitError: (error) => this.warn('post-commit hook (checkpoint / log cleanup) failed', error),
    });
  }

  /** Checkpoints every delta.checkpointInterval versions, then cleans up expired log files. */
  private async postCommit(snapshot: DeltaSnapshot): Promise<void> {
    this.adopt(snapshot);
    const interval = checkpointInterval(snapshot.properties);
    if (snapshot.version === 0 || snapshot.version % interval !== 0) return;
    await writeCheckpoint(this.store, snapshot, { now: this.now });
    await cleanupExpiredLogs(this.store, snapshot, { now: this.now });
  }

  private async write(
    rows: readonly Record<string, unknown>[],
    mode: 'Append' | 'Overwrite',
    options: OverwriteOptions,
  ): Promise<WriteOutcome> {
    if (!Array.isArray(rows)) throw new DeltaError('rows must be an array of objects', { code: 'INVALID_ARGUMENT' });
    if (options.replaceWhere !== undefined && mode !== 'Overwrite') {
      throw new DeltaError('replaceWhere applies to overwrite only', { code: 'INVALID_ARGUMENT' });
    }
    const snapshot = await this.refresh();
    const tx = this.transaction(snapshot);
    const txns = txnList(options.txn);
    if (tx.alreadyCommitted(txns))
      return { kind: 'already-committed', version: snapshot.version, snapshot, numFiles: 0, numRows: 0 };

    const { schema, changed } = checkWriteSchema(tx.schema, rows, {
      ...(options.mergeSchema !== undefined ? { mergeSchema: options.mergeSchema } : {}),
      ...(options.dataSchema ? { dataSchema: options.dataSchema } : {}),
    });
    if (changed) {
      assertWritableSchema(schema);
      tx.updateMetadata({ ...tx.metadata, schemaString: JSON.stringify(schema) });
    }
    for (const t of txns) tx.setTransaction(t.appId, t.version);

    const partitionColumns = tx.partitionColumns;
    const parameters: Record<string, unknown> = { mode, partitionBy: JSON.stringify(partitionColumns) };
    let checkPartition: ((values: Readonly<Record<string, string | null>>) => void) | undefined;
    if (mode === 'Overwrite') {
      if (options.replaceWhere === undefined) {
        tx.readWholeTable();
        tx.removeFiles(snapshot.files);
      } else {
        const predicate = compilePartitionPredicate(schema, partitionColumns, options.replaceWhere);
        const matching = snapshot.files.filter((f) => predicate.matches(f.partitionValues));
        tx.readFiles(matching, {
          kind: 'partitions',
          description: predicate.sql,
          matches: (pv) => predicate.matches(pv),
        });
        tx.removeFiles(matching);
        parameters.predicate = JSON.stringify([predicate.sql]);
        checkPartition = (values) => {
          if (!predicate.matches(values)) {
            throw new DeltaError(
              `written data does not match replaceWhere ${predicate.sql}: partition ${JSON.stringify(values)}`,
              { code: 'INVALID_DATA', context: { replaceWhere: predicate.sql, partitionValues: { ...values } } },
            );
          }
        };
      }
    }
    const adds = await tx.writeFiles(rows, {
      ...(options.targetFileSize !== undefined ? { targetFileSize: options.targetFileSize } : {}),
      ...(options.compression ? { compression: options.compression } : {}),
      ...(checkPartition ? { checkPartition } : {}),
    });
    const operation = options.operation ?? { name: 'WRITE', parameters };
    const outcome = await tx.commit({ name: operation.name, parameters: operation.parameters });
    this.adopt(outcome.snapshot);
    return {
      ...outcome,
      numFiles: outcome.kind === 'committed' ? adds.length : 0,
      numRows: outcome.kind === 'committed' ? rows.length : 0,
    };
  }

  /**
   * Appends rows (commitInfo WRITE, mode Append; a blind append that never conflicts with other
   * appends). Throws SCHEMA_MISMATCH / INVALID_DATA for rows that do not fit, COMMIT_CONFLICT and
   * COMMIT_RETRIES_EXHAUSTED from the commit.
   */
  append(rows: readonly Record<string, unknown>[], options: WriteOptions = {}): Promise<WriteOutcome> {
    return this.write(rows, 'Append', options);
  }

  /**
   * Replaces the table's rows (every live file is removed) or, with `replaceWhere`, the rows of the
   * matching partitions, with `rows` in one commit (mode Overwrite).
   */
  overwrite(rows: readonly Record<string, unknown>[], options: OverwriteOptions = {}): Promise<WriteOutcome> {
    return this.write(rows, 'Overwrite', options);
  }

  /**
   * Upserts rows by key, copy-on-write (see merge.ts): rows whose key matches table rows replace
   * them, the others are inserted; the files holding a matched key are rewritten, all in one commit
   * (commitInfo MERGE, WriteSerializable). Throws INVALID_ARGUMENT for bad keys, INVALID_DATA for two
   * rows with one key, plus the faults of append.
   */
  async merge(rows: readonly Record<string, unknown>[], options: MergeOptions): Promise<MergeOutcome> {
    if (!Array.isArray(rows)) throw new DeltaError('rows must be an array of objects', { code: 'INVALID_ARGUMENT' });
    const snapshot = await this.refresh();
    const tx = this.transaction(snapshot);
    const txns = txnList(options.txn);
    if (tx.alreadyCommitted(txns)) {
      return {
        kind: 'already-committed',
        version: snapshot.version,
        snapshot,
        numFiles: 0,
        numRows: 0,
        metrics: undefined,
      };
    }
    const { schema, changed } = checkWriteSchema(tx.schema, rows, {
      ...(options.mergeSchema !== undefined ? { mergeSchema: options.mergeSchema } : {}),
      ...(options.dataSchema ? { dataSchema: options.dataSchema } : {}),
    });
    if (changed) {
      assertWritableSchema(schema);
      tx.updateMetadata({ ...tx.metadata, schemaString: JSON.stringify(schema) });
    }
    for (const t of txns) tx.setTransaction(t.appId, t.version);
    const result = await mergeByKey(tx, rows, {
      keys: options.keys,
      ...(options.targetFileSize !== undefined ? { targetFileSize: options.targetFileSize } : {}),
      ...(options.compression ? { compression: options.compression } : {}),
      ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
    });
    const operation = options.operation ?? { name: 'MERGE', parameters: mergeOperationParameters(options.keys) };
    const outcome = await tx.commit({
      name: operation.name,
      parameters: operation.parameters,
      metrics: mergeMetricsRecord(result.metrics),
    });
    this.adopt(outcome.snapshot);
    const committed = outcome.kind === 'committed';
    return {
      ...outcome,
      numFiles: committed ? result.added.length : 0,
      numRows: committed ? rows.length : 0,
      metrics: committed ? result.metrics : undefined,
    };
  }

  /** Writes a checkpoint of the latest snapshot now (normally done every delta.checkpointInterval commits). */
  async checkpoint(): Promise<LastCheckpointInfo> {
    return writeCheckpoint(this.store, await this.refresh(), { now: this.now });
  }

  /** Deletes log files older than delta.logRetentionDuration that no checkpoint needs. */
  async cleanupLogs(options: LogCleanupOptions = {}): Promise<LogCleanupResult> {
    return cleanupExpiredLogs(this.store, await this.refresh(), { now: this.now, ...options });
  }

  /** Deletes unreferenced data files older than the retention period (see vacuum.ts). */
  async vacuum(options: VacuumOptions = {}): Promise<VacuumResult> {
    const snapshot = await this.refresh();
    assertWritable(snapshot.protocol, snapshot.metadata);
    return vacuum(this.store, snapshot, { now: this.now, ...options });
  }

  /** Compacts small files per partition (see optimize.ts); commits OPTIMIZE with dataChange=false. */
  async optimize(options: OptimizeOptions = {}): Promise<OptimizeResult> {
    const snapshot = await this.refresh();
    const result = await optimize(this.store, this.transaction(snapshot), options);
    if (result.outcome) this.adopt(result.outcome.snapshot);
    return result;
  }
}
