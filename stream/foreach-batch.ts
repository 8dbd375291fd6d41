// foreachBatch(fn): hands each batch's rows to user code (Spark's foreachBatch). At-least-once: after
// a crash a batch may be handed over again with the same batchId, so `fn` should be idempotent per
// (queryId, batchId).

import type { PreparedBatch, Sink, SinkBatch, SinkCommitOutcome, SinkContext } from './sink.js';
import type { Row } from './types.js';

export type ForeachBatchFunction = (rows: readonly Row[], batchId: number, queryId: string) => Promise<void> | void;

interface Prepared extends PreparedBatch {
  rows: readonly Row[];
}

export class ForeachBatchSink implements Sink {
  readonly description = 'ForeachBatchSink';
  private queryId = '';
  constructor(private readonly fn: ForeachBatchFunction) {}
  async open(ctx: SinkContext): Promise<void> {
    this.queryId = ctx.queryId;
  }
  async prepare(batch: SinkBatch): Promise<PreparedBatch> {
    return { batchId: batch.batchId, numRows: batch.rows.length, rows: batch.rows } as Prepared;
  }
  async commit(prepared: PreparedBatch): Promise<SinkCommitOutcome> {
    const { batchId, rows } = prepared as Prepared;
    await this.fn(rows, batchId, this.queryId);
    return { kind: 'committed', batchId, numRows: rows.length };
  }
  async abort(): Promise<void> {}
  async close(): Promise<void> {}
}

/** A sink calling `fn(rows, batchId, queryId)` for every batch (at-least-once; see ForeachBatchSink). */
export function foreachBatch(fn: ForeachBatchFunction): Sink {
  return new ForeachBatchSink(fn);
}
