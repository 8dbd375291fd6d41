// The engine works out batch N+1 (plan, read, operators against state N) while batch N's files are
// written and committed: the order of the durable steps stays Spark's (offsets/N+1 only after
// commits/N, at most one planned but uncommitted batch), a batch N that fails after N+1 was worked
// out is retried with N+1 dropped (its state stores aborted), and the outcome is exactly once.

import { describe, expect, it } from 'vitest';
import { LakestreamError } from '../../common/errors.js';
import type { StructType } from '../../sinks/schema.js';
import { MemoryStateSpace, MemoryStateStoreProvider } from '../../state/memory-store.js';
import { MemoryObjectStore } from '../../storage/memory.js';
import { ManualClock } from '../../stream/clock.js';
import { MemorySink } from '../../stream/memory-sink.js';
import { dropDuplicatesWithinWatermark, parseJson, withWatermark } from '../../stream/operators/index.js';
import type { PreparedBatch, Sink, SinkBatch } from '../../stream/sink.js';
import type { PartitionOffsets } from '../../stream/source.js';
import { MemorySource } from '../../stream/sources/memory.js';
import { Trigger } from '../../stream/trigger.js';
import { readStream } from '../../stream/write-stream.js';

const EVENT: StructType = {
  type: 'struct',
  fields: [
    { name: 'id', type: 'string', nullable: true, metadata: {} },
    { name: 'ts', type: 'timestamp', nullable: true, metadata: {} },
  ],
};
const T0 = Date.parse('2024-05-01T00:00:00Z');
const event = (id: string, minutes: number) => ({
  value: JSON.stringify({ id, ts: new Date(T0 + minutes * 60_000).toISOString() }),
});

/** A MemorySink that logs prepare/commit and can fail the commit of chosen batches once (retryable). */
class LoggingSink implements Sink {
  readonly inner = new MemorySink();
  readonly description = 'logging sink';
  readonly log: string[];
  private readonly failOnce: Set<number>;

  constructor(log: string[], failOnce: number[] = []) {
    this.log = log;
    this.failOnce = new Set(failOnce);
  }
  open = (ctx: Parameters<Sink['open']>[0]) => this.inner.open(ctx);
  async prepare(batch: SinkBatch): Promise<PreparedBatch> {
    this.log.push(`prepare ${batch.batchId}`);
    return this.inner.prepare(batch);
  }
  async commit(prepared: PreparedBatch) {
    if (this.failOnce.delete(prepared.batchId)) {
      this.log.push(`commit ${prepared.batchId} failed`);
      throw new LakestreamError('injected commit fault', { code: 'SINK_IO', retryable: true });
    }
    const outcome = await this.inner.commit(prepared);
    this.log.push(`commit ${prepared.batchId}`);
    return outcome;
  }
  abort = () => this.inner.abort();
  close = () => this.inner.close();
}

/** A MemorySource whose batches are its addData calls, logging each look for new offsets. */
class LoggingSource extends MemorySource {
  private readonly ends: number[] = [];
  constructor(private readonly log: string[]) {
    super();
  }
  override addData(rows: readonly Record<string, unknown>[]): number {
    const end = super.addData(rows);
    this.ends.push(end);
    return end;
  }
  override async nextOffsets(start: PartitionOffsets): Promise<PartitionOffsets> {
    const from = Number(start['0'] ?? '0');
    const next = this.ends.find((e) => e > from);
    const end = next === undefined ? { ...start } : await super.nextOffsets(start, { 0: String(next) });
    this.log.push(`next ${end['0']}`);
    return end;
  }
}

async function runQuery(batches: Record<string, unknown>[][], failOnce: number[] = []) {
  const log: string[] = [];
  const source = new LoggingSource(log);
  for (const rows of batches) source.addData(rows);
  const sink = new LoggingSink(log, failOnce);
  const checkpoint = new MemoryObjectStore('checkpoint');
  const clock = new ManualClock(T0);
  const query = await readStream(source)
    .pipe(parseJson(EVENT), withWatermark('ts', '10 minutes'), dropDuplicatesWithinWatermark(['id']))
    .writeStream(sink, {
      checkpointLocation: checkpoint,
      stateStore: new MemoryStateStoreProvider({ space: new MemoryStateSpace() }),
      trigger: Trigger.availableNow(),
      clock,
      progressBar: false,
    });
  await query.awaitTermination();
  return { log, sink, query, checkpoint };
}

describe('pipelined batches', () => {
  const input = [
    [event('a', 0), event('b', 1), event('a', 2)],
    [event('c', 3), event('b', 4)],
    [event('d', 30), event('a', 31)],
    [event('e', 32), event('d', 33)],
  ];
  // a at minute 31 is still a duplicate: batch 2 runs with the watermark batch 1 proposed.
  const expected = ['a', 'b', 'c', 'd', 'e'];

  it("looks for batch N+1's offsets before batch N's table commit, and commits in order", async () => {
    const { log, sink } = await runQuery(input);
    expect(sink.inner.rows().map((r) => r.id)).toEqual(expected);
    // Each next batch's offsets (3 → 5 → 7 → 9, then 9 again: nothing new) are looked for before the
    // batch before it commits: it was worked out ahead, while that batch's files were written.
    expect(log.filter((l) => l.startsWith('next'))).toEqual(['next 3', 'next 5', 'next 7', 'next 9', 'next 9']);
    const nexts = log.flatMap((l, i) => (l.startsWith('next') ? [i] : []));
    for (let batch = 0; batch < 4; batch++) {
      expect(nexts[batch + 1]).toBeLessThan(log.indexOf(`commit ${batch}`));
      expect(log.indexOf(`prepare ${batch}`)).toBeLessThan(log.indexOf(`commit ${batch}`));
    }
    const commits = log.filter((l) => l.startsWith('commit'));
    expect(commits).toEqual(['commit 0', 'commit 1', 'commit 2', 'commit 3']);
  });

  it('a batch whose commit fails after the next one was worked out is retried; the outcome is exactly once', async () => {
    const { log, sink, query } = await runQuery(input, [1, 2]);
    expect(log).toContain('commit 1 failed');
    expect(log).toContain('commit 2 failed');
    expect(sink.inner.rows().map((r) => r.id)).toEqual(expected);
    expect(log.filter((l) => l.startsWith('commit') && !l.endsWith('failed'))).toEqual([
      'commit 0',
      'commit 1',
      'commit 2',
      'commit 3',
    ]);
    // The retried batches report as replays; the dedup state stood on the right versions throughout.
    expect(query.recentProgress.map((p) => [p.batchId, p.isReplay])).toEqual([
      [0, false],
      [1, true],
      [2, true],
      [3, false],
    ]);
  });
});
