// DeltaDeadLetters: a query's dead letters appended to a Delta table, exactly once per batch — each
// batch's letters are one commit carrying txn(appId = '<queryId>-dlq', version = batchId), so a
// replayed batch (after a crash before the query's own commit) finds its txn and writes nothing.
// Columns: batch_id, operator, reason, topic, partition, offset, value, timestamp (the source record's).

import { LocalObjectStore } from '../../storage/local.js';
import type { ObjectStore } from '../../storage/object-store.js';
import type { PartitionRange } from '../../stream/checkpoint-log.js';
import type { DeadLetterRecord, DeadLetterSink } from '../../stream/dead-letters.js';
import type { StructType } from '../schema.js';
import { DeltaError } from './errors.js';
import type { ParquetCompression } from './file-names.js';
import { partitionAppId } from './partition-transactions.js';
import { checkWriteSchema } from './schema-check.js';
import { type AppTransaction, DeltaTable, type DeltaTableOptions } from './table.js';

/** Where a rejected row came from, and its raw value. */
export interface DeadLetterOrigin {
  topic: string | null;
  partition: number | null;
  offset: number | null;
  /** The raw record value as text (bytes decoded as UTF-8). */
  value: string | null;
  /** The source record's timestamp. */
  timestamp: Date | null;
}

export interface DeltaDeadLettersOptions {
  /**
   * Reads the origin of a rejected row. Default: its `topic`, `partition`, `offset`, `value` and
   * `timestamp` columns (a KafkaSource row; a value that is not text is written as JSON).
   */
  origin?: (row: Readonly<Record<string, unknown>>) => DeadLetterOrigin;
  /** Suffix of the txn appId after the query id. Default '-dlq'. */
  appIdSuffix?: string;
  targetFileSize?: number;
  compression?: ParquetCompression;
  /** Options of the table handle (clock, commit retries, warnings). */
  table?: DeltaTableOptions;
  /**
   * For queries that share partitions (scale-out), where a range may be read twice around a
   * rebalance: letters below their partition's offset of record are not written again. The offset is
   * the higher of the query's target table's (`offsetsOfRecord`: its rows and, written before them,
   * their dead letters are complete below it) and this table's own txn (appId '<appIdPrefix>-<partition
   * id>', version = range end), which a commit with letters of a partition sets when its range starts
   * at or below the known offset (so that it, too, says "complete below").
   */
  partitionTransactions?: {
    appIdPrefix: string;
    offsetsOfRecord?: (partitions: readonly string[]) => Promise<Record<string, string | undefined>>;
  };
}

/** Commit attempts of a batch whose partition offsets another writer moved meanwhile. */
const PARTITION_CONFLICT_ATTEMPTS = 8;

const column = (name: string, type: StructType['fields'][number]['type'], nullable = true) => ({
  name,
  type,
  nullable,
  metadata: {},
});

/** The columns of a dead-letter table. */
export const DEAD_LETTER_SCHEMA: StructType = {
  type: 'struct',
  fields: [
    column('batch_id', 'long', false),
    column('operator', 'string'),
    column('reason', 'string'),
    column('topic', 'string'),
    column('partition', 'integer'),
    column('offset', 'long'),
    column('value', 'string'),
    column('timestamp', 'timestamp'),
  ],
};

function jsonText(value: unknown): string {
  return JSON.stringify(value, (_key, v) => {
    if (typeof v === 'bigint') return v.toString();
    if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
    return v;
  });
}

/** The default origin: the row's topic, partition, offset, value and timestamp columns. */
export function sourceRowOrigin(row: Readonly<Record<string, unknown>>): DeadLetterOrigin {
  const num = (v: unknown) => (typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : null);
  const value = row.value;
  return {
    topic: typeof row.topic === 'string' ? row.topic : null,
    partition: num(row.partition),
    offset: num(row.offset),
    value:
      typeof value === 'string'
        ? value
        : value instanceof Uint8Array
          ? Buffer.from(value).toString('utf8')
          : value === undefined || value === null
            ? jsonText(row)
            : jsonText(value),
    timestamp: row.timestamp instanceof Date ? row.timestamp : null,
  };
}

/**
 * Dead letters in a Delta table (created at open when missing), one commit per batch with dead
 * letters, idempotent by txn(appId = `<queryId>-dlq`, version = batchId).
 *
 * ```ts
 * readStream(source).pipe(parseJson(schema)).writeStream(sink, {
 *   checkpointLocation, deadLetters: new DeltaDeadLetters('/data/dead-letters'),
 * });
 * ```
 */
export class DeltaDeadLetters implements DeadLetterSink {
  readonly description: string;
  private readonly store: ObjectStore;
  private table: DeltaTable | undefined;
  private appId: string | undefined;
  private readonly origin: (row: Readonly<Record<string, unknown>>) => DeadLetterOrigin;

  constructor(
    storeOrPath: ObjectStore | string,
    private readonly options: DeltaDeadLettersOptions = {},
  ) {
    this.store = typeof storeOrPath === 'string' ? new LocalObjectStore(storeOrPath) : storeOrPath;
    this.description = `Delta dead-letter table at ${this.store.location}`;
    this.origin = options.origin ?? sourceRowOrigin;
  }

  /** The txn appId of the dead-letter commits (after open). */
  get transactionAppId(): string | undefined {
    return this.appId;
  }

  async open(context: { queryId: string }): Promise<void> {
    this.appId = `${context.queryId}${this.options.appIdSuffix ?? '-dlq'}`;
    const table = await DeltaTable.create(
      this.store,
      { schema: DEAD_LETTER_SCHEMA, ifNotExists: true, description: 'lakestream dead letters' },
      this.options.table ?? {},
    );
    try {
      checkWriteSchema(table.snapshot().schema, [], { dataSchema: DEAD_LETTER_SCHEMA });
    } catch (error) {
      throw new DeltaError(
        `the table at ${this.store.location} is not a dead-letter table: ${(error as Error).message}`,
        { code: 'SCHEMA_MISMATCH', cause: error, context: { location: this.store.location } },
      );
    }
    this.table = table;
  }

  async write(
    batchId: number,
    letters: readonly DeadLetterRecord[],
    sourceRanges?: Readonly<Record<string, PartitionRange>>,
  ): Promise<void> {
    if (letters.length === 0) return;
    const table = this.table;
    const appId = this.appId;
    if (!table || !appId) throw new DeltaError('the dead-letter table is not open', { code: 'INVALID_ARGUMENT' });
    const prefix = this.options.partitionTransactions?.appIdPrefix;
    if (prefix === undefined || sourceRanges === undefined) {
      await this.append(table, batchId, letters, [{ appId, version: batchId }]);
      return;
    }
    const partitions = [...new Set(letters.map((letter) => letter.partition))].filter((p) => sourceRanges[p]);
    for (let attempt = 1; ; attempt++) {
      const snapshot = await table.refresh();
      if ((snapshot.txnVersion(appId) ?? -1) >= batchId) return; // the batch is in the table
      const target = (await this.options.partitionTransactions?.offsetsOfRecord?.(partitions)) ?? {};
      const floors = new Map<string, number>();
      const txns: AppTransaction[] = [];
      for (const partition of partitions) {
        const range = sourceRanges[partition]!;
        const [start, end] = [Number(range.start), Number(range.end)];
        const own = snapshot.txnVersion(partitionAppId(prefix, partition));
        const theirs = target[partition] === undefined ? undefined : Number(target[partition]);
        const known = own === undefined ? theirs : theirs === undefined ? own : Math.max(own, theirs);
        const floor = known === undefined ? start : Math.max(start, known);
        floors.set(partition, floor);
        if ((known === undefined || start <= known) && end > floor && end > (own ?? -1)) {
          txns.push({ appId: partitionAppId(prefix, partition), version: end });
        }
      }
      const kept = letters.filter((letter) => {
        const offset = this.origin(letter.row).offset;
        const floor = floors.get(letter.partition);
        return offset === null || floor === undefined || offset >= floor;
      });
      if (kept.length === 0) return; // every letter is in the table already
      try {
        await this.append(table, batchId, kept, [{ appId, version: batchId }, ...txns]);
        return;
      } catch (error) {
        const conflict = error instanceof DeltaError && error.code === 'COMMIT_CONFLICT';
        if (!conflict || attempt >= PARTITION_CONFLICT_ATTEMPTS) throw error;
      }
    }
  }

  private async append(
    table: DeltaTable,
    batchId: number,
    letters: readonly DeadLetterRecord[],
    txn: readonly AppTransaction[],
  ): Promise<void> {
    const appId = txn[0]!.appId;
    const rows = letters.map((letter) => {
      const origin = this.origin(letter.row);
      return {
        batch_id: batchId,
        operator: letter.operator,
        reason: letter.reason,
        topic: origin.topic,
        partition: origin.partition,
        offset: origin.offset,
        value: origin.value,
        timestamp: origin.timestamp,
      };
    });
    await table.append(rows, {
      dataSchema: DEAD_LETTER_SCHEMA,
      txn,
      operation: {
        name: 'STREAMING UPDATE',
        parameters: { outputMode: 'Append', queryId: appId, epochId: String(batchId) },
      },
      ...(this.options.targetFileSize !== undefined ? { targetFileSize: this.options.targetFileSize } : {}),
      ...(this.options.compression ? { compression: this.options.compression } : {}),
    });
  }

  async close(): Promise<void> {
    this.table = undefined;
  }
}
