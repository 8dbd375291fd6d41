// MemorySink: keeps results in memory (Spark's memory sink), for tests, examples and embedding. It
// honours the Sink contract like a table would: batches are committed once per (query, batchId), append
// adds rows, complete replaces them, update merges them by the key columns.

import type { PreparedBatch, Sink, SinkBatch, SinkCommitOutcome, SinkContext } from './sink.js';
import type { OutputMode, Row } from './types.js';

interface Prepared extends PreparedBatch {
  rows: readonly Row[];
}

function keyOf(row: Row, columns: readonly string[]): string {
  return JSON.stringify(
    columns.map((c) => row[c]),
    (_k, v) => (typeof v === 'bigint' ? `${v}n` : v),
  );
}

export class MemorySink implements Sink {
  readonly description: string;
  private mode: OutputMode = 'append';
  private keys: readonly string[] = [];
  private readonly table: Row[] = [];
  private readonly byKey = new Map<string, number>();
  /** Highest committed batch id per query id (the txn of a table). */
  private readonly committed = new Map<string, number>();
  private queryId = '';
  /** Every committed batch, in commit order (for tests). */
  readonly batches: { batchId: number; rows: readonly Row[] }[] = [];

  constructor(name = 'memory') {
    this.description = `MemorySink[${name}]`;
  }

  async open(ctx: SinkContext): Promise<void> {
    this.mode = ctx.outputMode;
    this.keys = ctx.keyColumns;
    this.queryId = ctx.queryId;
  }

  async prepare(batch: SinkBatch): Promise<PreparedBatch> {
    return { batchId: batch.batchId, numRows: batch.rows.length, rows: batch.rows } as Prepared;
  }

  async commit(prepared: PreparedBatch): Promise<SinkCommitOutcome> {
    const { batchId, rows } = prepared as Prepared;
    const last = this.committed.get(this.queryId);
    if (last !== undefined && last >= batchId) return { kind: 'already-committed', batchId };
    if (rows.length === 0 && this.mode !== 'complete') return { kind: 'skipped', batchId };
    if (this.mode === 'complete') {
      this.table.length = 0;
      this.table.push(...rows);
    } else if (this.mode === 'update') {
      for (const row of rows) {
        const key = keyOf(row, this.keys);
        const at = this.byKey.get(key);
        if (at === undefined) {
          this.byKey.set(key, this.table.length);
          this.table.push(row);
        } else this.table[at] = row;
      }
    } else this.table.push(...rows);
    this.committed.set(this.queryId, batchId);
    this.batches.push({ batchId, rows });
    return { kind: 'committed', batchId, numRows: rows.length };
  }

  async abort(): Promise<void> {}

  /** The current result (a copy). */
  rows(): Row[] {
    return [...this.table];
  }

  async close(): Promise<void> {}
}
