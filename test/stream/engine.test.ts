// The micro-batch loop end to end on in-memory parts with a manual clock: batches and progress,
// dead letters, restart/resume, replay of a planned batch, refusal of a changed query, triggers.

import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { StructType } from '../../sinks/schema.js';
import { MemoryStateSpace, MemoryStateStoreProvider } from '../../state/memory-store.js';
import { MemoryObjectStore } from '../../storage/memory.js';
import { ManualClock } from '../../stream/clock.js';
import { ObjectStoreDeadLetters } from '../../stream/dead-letters.js';
import { foreachBatch } from '../../stream/foreach-batch.js';
import { MemorySink } from '../../stream/memory-sink.js';
import {
  aggregate,
  count,
  dropDuplicates,
  dropDuplicatesWithinWatermark,
  filter,
  map,
  parseJson,
  sum,
  window,
  withWatermark,
} from '../../stream/operators/index.js';
import type { StreamingQueryProgress } from '../../stream/progress.js';
import { MemorySource } from '../../stream/sources/memory.js';
import { ObservableSource } from '../../stream/sources/observable.js';
import { Trigger } from '../../stream/trigger.js';
import { readStream } from '../../stream/write-stream.js';

const EVENT: StructType = {
  type: 'struct',
  fields: [
    { name: 'id', type: 'string', nullable: true, metadata: {} },
    { name: 'n', type: 'long', nullable: true, metadata: {} },
    { name: 'ts', type: 'timestamp', nullable: true, metadata: {} },
  ],
};

const T0 = Date.parse('2024-05-01T00:00:00Z');
const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();
const json = (id: string, n: number, seconds: number) => ({ value: JSON.stringify({ id, n, ts: at(seconds) }) });

function setup() {
  return {
    checkpoint: new MemoryObjectStore('checkpoint'),
    space: new MemoryStateSpace(),
    clock: new ManualClock(T0),
    sink: new MemorySink(),
  };
}

describe('micro-batch engine', () => {
  it('runs stateless operators batch by batch and reports Spark-shaped progress', async () => {
    const env = setup();
    const source = new MemorySource();
    source.addData([{ n: 1 }, { n: 2 }, { n: 3 }]);
    const progress: StreamingQueryProgress[] = [];
    const query = await readStream(source)
      .pipe(
        filter((r) => (r.n as number) % 2 === 1),
        map((r) => ({ n: (r.n as number) * 10 })),
      )
      .writeStream(env.sink, {
        checkpointLocation: env.checkpoint,
        trigger: Trigger.availableNow(),
        clock: env.clock,
        onProgress: (p) => progress.push(p),
        progressBar: false,
      });
    await query.awaitTermination();
    expect(env.sink.rows()).toEqual([{ n: 10 }, { n: 30 }]);
    expect(progress).toHaveLength(1);
    const p = progress[0]!;
    expect(p).toMatchObject({ batchId: 0, numInputRows: 3, isReplay: false, id: query.id, numDeadLetters: 0 });
    expect(p.sources[0]).toMatchObject({ startOffset: { 0: '0' }, endOffset: { 0: '3' } });
    expect(p.sink).toMatchObject({ numOutputRows: 2, outcome: 'committed' });
    for (const phase of ['walCommit', 'getBatch', 'addBatch', 'sinkCommit', 'commitOffsets', 'triggerExecution']) {
      expect(p.durationMs[phase]).toBeGreaterThanOrEqual(0);
    }
    expect(query.isActive).toBe(false);
  });

  it('routes malformed JSON and schema misfits to the dead-letter destination, counted', async () => {
    const env = setup();
    const source = new MemorySource();
    source.addData([json('a', 1, 0), { value: '{not json' }, { value: '{"id":"b","n":"many"}' }, json('c', 3, 1)]);
    const query = await readStream(source).pipe(parseJson(EVENT)).writeStream(env.sink, {
      checkpointLocation: env.checkpoint,
      trigger: Trigger.availableNow(),
      clock: env.clock,
      progressBar: false,
    });
    await query.awaitTermination();
    expect(env.sink.rows().map((r) => r.id)).toEqual(['a', 'c']);
    expect(query.lastProgress?.numDeadLetters).toBe(2);
    const letters = await new ObjectStoreDeadLetters(env.checkpoint, 'dead-letters/').readAll();
    expect(letters).toHaveLength(2);
    expect(letters[0]).toMatchObject({ batchId: 0, operator: '0-parseJson', partition: '0' });
    expect(String(letters[0]!.reason)).toMatch(/not valid JSON/);
    expect(String(letters[1]!.reason)).toMatch(/field 'n'.*does not fit type long/);
  });

  it('resumes after a restart from the committed offsets and keeps dedup state', async () => {
    const env = setup();
    const run = async (rows: Record<string, unknown>[][]) => {
      const source = new MemorySource();
      for (const batch of rows) source.addData(batch);
      const query = await readStream(source)
        .pipe(parseJson(EVENT), dropDuplicates(['id']))
        .writeStream(env.sink, {
          checkpointLocation: env.checkpoint,
          stateStore: new MemoryStateStoreProvider({ space: env.space }),
          trigger: Trigger.availableNow(),
          clock: env.clock,
          progressBar: false,
        });
      await query.awaitTermination();
      return query;
    };
    const first = [json('a', 1, 0), json('b', 2, 1), json('a', 3, 2)];
    const q1 = await run([first]);
    expect(env.sink.rows().map((r) => r.id)).toEqual(['a', 'b']);
    // The restarted process re-adds the same data plus new rows (Spark's MemoryStream semantics).
    const q2 = await run([first, [json('b', 4, 3), json('c', 5, 4)]]);
    expect(q2.id).toBe(q1.id);
    expect(env.sink.rows().map((r) => r.id)).toEqual(['a', 'b', 'c']);
    expect(q2.lastProgress).toMatchObject({ batchId: 1, numInputRows: 2 });
    expect(q2.lastProgress?.stateOperators[0]).toMatchObject({ operatorName: '0-dropDuplicates', numRowsTotal: 3 });
  });

  it('re-runs a planned but uncommitted batch with the identical range after a crash in the sink', async () => {
    const env = setup();
    const source = new MemorySource();
    source.addData([{ n: 1 }, { n: 2 }]);
    let failures = 1;
    const flaky = new MemorySink();
    const commit = flaky.commit.bind(flaky);
    flaky.commit = async (prepared) => {
      if (failures-- > 0) throw new Error('simulated crash in the sink commit');
      return commit(prepared);
    };
    const options = {
      checkpointLocation: env.checkpoint,
      trigger: Trigger.availableNow(),
      clock: env.clock,
      progressBar: false,
    };
    const q1 = await readStream(source).writeStream(flaky, options);
    await expect(q1.awaitTermination()).rejects.toThrow(/simulated crash/);
    source.addData([{ n: 3 }]); // arrives after the crash: must not join the replayed batch 0
    const q2 = await readStream(source).writeStream(flaky, options);
    await q2.awaitTermination();
    expect(flaky.batches).toEqual([
      { batchId: 0, rows: [{ n: 1 }, { n: 2 }] },
      { batchId: 1, rows: [{ n: 3 }] },
    ]);
    expect(q2.recentProgress[0]).toMatchObject({ batchId: 0, isReplay: true });
  });

  it('refuses to restart with a changed stateful operator, naming the change', async () => {
    const env = setup();
    const source = new MemorySource();
    source.addData([json('a', 1, 0)]);
    const options = {
      checkpointLocation: env.checkpoint,
      stateStore: new MemoryStateStoreProvider({ space: env.space }),
      trigger: Trigger.availableNow(),
      clock: env.clock,
      progressBar: false,
    };
    await (
      await readStream(source)
        .pipe(parseJson(EVENT), dropDuplicates(['id']))
        .writeStream(env.sink, options)
    ).awaitTermination();
    source.addData([json('b', 2, 1)]);
    const q = await readStream(source)
      .pipe(parseJson(EVENT), dropDuplicates(['id', 'n']))
      .writeStream(env.sink, { ...options, stateStore: new MemoryStateStoreProvider({ space: env.space }) });
    const error = await q.awaitTermination().then(
      () => undefined,
      (e: unknown) => e as { code: string; message: string },
    );
    expect(error?.code).toBe('CHECKPOINT_CONF_CHANGED');
    expect(error?.message).toMatch(/0-dropDuplicates.*"id" → "id,n"/);
  });

  it('refuses a second runner on the same checkpoint', async () => {
    const env = setup();
    const source = new MemorySource();
    const q1 = await readStream(source).writeStream(env.sink, { checkpointLocation: env.checkpoint, clock: env.clock });
    await expect(
      readStream(new MemorySource()).writeStream(new MemorySink(), {
        checkpointLocation: env.checkpoint,
        clock: env.clock,
      }),
    ).rejects.toMatchObject({ code: 'CHECKPOINT_LOCKED' });
    await q1.stop();
  });

  it('processing-time trigger: batches as data arrives, stop() finishes cleanly', async () => {
    const env = setup();
    const source = new MemorySource();
    const query = await readStream(source).writeStream(env.sink, {
      checkpointLocation: env.checkpoint,
      trigger: Trigger.processingTime('1 second'),
      clock: env.clock,
    });
    source.addData([{ n: 1 }]);
    await query.processAllAvailable();
    source.addData([{ n: 2 }, { n: 3 }]);
    await query.processAllAvailable();
    await query.stop();
    expect(env.sink.rows()).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect(query.isActive).toBe(false);
    const ids = query.recentProgress.map((p) => p.batchId);
    expect(ids).toEqual([...ids.keys()]);
  });

  it('watermark: late rows are dropped and counted; dropDuplicatesWithinWatermark evicts expired keys', async () => {
    const env = setup();
    const source = new MemorySource();
    const query = await readStream(source)
      .pipe(parseJson(EVENT), withWatermark('ts', '10 seconds'), dropDuplicatesWithinWatermark(['id']))
      .writeStream(env.sink, {
        checkpointLocation: env.checkpoint,
        stateStore: new MemoryStateStoreProvider({ space: env.space }),
        trigger: Trigger.processingTime(0),
        clock: env.clock,
      });
    source.addData([json('a', 1, 100), json('b', 2, 105)]);
    await query.processAllAvailable(); // batch 0, watermark 0 → next 95 s
    source.addData([json('a', 3, 106), json('late', 4, 90), json('c', 5, 120)]);
    await query.processAllAvailable(); // batch 1 runs at watermark 95: 'late' (90) dropped, 'a' duplicate
    source.addData([json('a', 6, 121)]);
    await query.processAllAvailable(); // batch 2 at watermark 110: 'a' expired at 110 (100+10) → evicted after batch 2? no: a is still in state during batch 2
    await query.stop();
    const ids = env.sink.rows().map((r) => `${r.id}:${r.n}`);
    expect(ids).toEqual(['a:1', 'b:2', 'c:5']);
    const batch1 = query.recentProgress.find((p) => p.batchId === 1)!;
    expect(batch1.eventTime.watermark).toBe(at(95));
    expect(batch1.stateOperators.find((s) => s.operatorName === '0-withWatermark')?.numRowsDroppedByWatermark).toBe(1);
    expect(
      batch1.stateOperators.find((s) => s.operatorName === '1-dropDuplicatesWithinWatermark')?.customMetrics,
    ).toMatchObject({
      numDuplicatesDropped: 1,
    });
  });
});

describe('micro-batch engine: windowed aggregation', () => {
  const run = async (outputMode: 'append' | 'update' | 'complete') => {
    const env = setup();
    const source = new MemorySource();
    const query = await readStream(source)
      .pipe(
        parseJson(EVENT),
        withWatermark('ts', '5 seconds'),
        aggregate({ window: window('ts', '10 seconds'), aggs: { events: count(), total: sum('n') } }),
      )
      .writeStream(env.sink, {
        checkpointLocation: env.checkpoint,
        stateStore: new MemoryStateStoreProvider({ space: env.space }),
        outputMode,
        clock: env.clock,
      });
    source.addData([json('a', 1, 1), json('b', 2, 3), json('c', 4, 12)]);
    await query.processAllAvailable();
    source.addData([json('d', 8, 14), json('e', 16, 27)]);
    await query.processAllAvailable();
    // Give the loop a chance to run the no-data batch that the moved watermark needs.
    await query.processAllAvailable();
    await query.stop();
    const rows = env.sink.rows().map((r) => ({
      start: ((r.window as { start: Date }).start.getTime() - T0) / 1000,
      events: r.events,
      total: r.total,
    }));
    return { rows, query, sink: env.sink };
  };

  it('append: a window is written once, after the watermark passes its end (with a no-data batch)', async () => {
    const { rows, query } = await run('append');
    // Watermark after batch 1 is 27 − 5 = 22: windows [0,10) and [10,20) are final; [20,30) is not.
    expect(rows).toEqual([
      { start: 0, events: 2, total: 3 },
      { start: 10, events: 2, total: 12 },
    ]);
    // Spark's rule: a no-data batch runs whenever the watermark moved (after batch 0 too: 12 − 5 = 7).
    expect(query.recentProgress.map((p) => p.numInputRows)).toEqual([3, 0, 2, 0]);
  });

  it('update: changed windows are merged by key each batch', async () => {
    const { rows } = await run('update');
    expect(rows).toEqual([
      { start: 0, events: 2, total: 3 },
      { start: 10, events: 2, total: 12 },
      { start: 20, events: 1, total: 16 },
    ]);
  });

  it('complete: the whole result is rewritten every batch', async () => {
    const { rows, sink } = await run('complete');
    expect(rows).toEqual([
      { start: 0, events: 2, total: 3 },
      { start: 10, events: 2, total: 12 },
      { start: 20, events: 1, total: 16 },
    ]);
    expect(sink.batches.map((b) => b.rows.length)).toEqual([2, 3]);
  });

  it('refuses append mode without a watermark, like Spark', async () => {
    await expect(
      readStream(new MemorySource())
        .pipe(parseJson(EVENT), aggregate({ window: window('ts', '10 seconds'), aggs: { n: count() } }))
        .writeStream(new MemorySink(), { checkpointLocation: new MemoryObjectStore() }),
    ).rejects.toMatchObject({ code: 'UNSUPPORTED_OPERATION', message: expect.stringMatching(/without watermark/) });
  });
});

describe('micro-batch engine: partitions that appear later', () => {
  it('reads a new partition from its initial offset (no row of it is skipped)', async () => {
    const env = setup();
    const source = new MemorySource();
    source.addData([{ n: 1 }], 'a');
    const query = await readStream(source).writeStream(env.sink, {
      checkpointLocation: env.checkpoint,
      clock: env.clock,
    });
    await query.processAllAvailable();
    source.addData([{ n: 2 }, { n: 3 }], 'b'); // a partition the first batch did not know
    source.addData([{ n: 4 }], 'a');
    await query.processAllAvailable();
    await query.stop();
    expect(
      env.sink
        .rows()
        .map((r) => r.n)
        .sort(),
    ).toEqual([1, 2, 3, 4]);
    expect(query.lastProgress?.sources[0]?.startOffset).toEqual({ a: '1', b: '0' });
  });

  it('an ObservableSource partitioned by key picks up new keys from their first value', async () => {
    const env = setup();
    const subject = new Subject<{ k: string; n: number }>();
    const source = new ObservableSource(subject, { partitionBy: (v) => v.k });
    const query = await readStream(source).writeStream(env.sink, {
      checkpointLocation: env.checkpoint,
      clock: env.clock,
    });
    await query.processAllAvailable();
    subject.next({ k: 'x', n: 1 });
    await query.processAllAvailable();
    subject.next({ k: 'y', n: 2 });
    subject.next({ k: 'x', n: 3 });
    await query.processAllAvailable();
    await query.stop();
    expect(
      env.sink
        .rows()
        .map((r) => r.n)
        .sort(),
    ).toEqual([1, 2, 3]);
  });
});

describe('micro-batch engine: per-partition watermarks', () => {
  const run = async (idleTimeout?: string) => {
    const env = setup();
    const source = new MemorySource();
    const query = await readStream(source)
      .pipe(parseJson(EVENT), withWatermark('ts', '10 seconds', idleTimeout ? { idleTimeout } : {}))
      .writeStream(env.sink, {
        checkpointLocation: env.checkpoint,
        stateStore: new MemoryStateStoreProvider({ space: env.space }),
        trigger: Trigger.processingTime('1 second'),
        clock: env.clock,
      });
    source.addData([json('a1', 1, 100)], 'a');
    source.addData([json('b1', 1, 50)], 'b');
    await query.processAllAvailable(); // next watermark: min(100, 50) − 10 = 40: partition b holds it back
    for (let i = 0; i < 5; i++) {
      env.clock.advance(30_000); // partition b stays silent
      source.addData([json(`a${i + 2}`, 1, 200 + i * 100)], 'a');
      await query.processAllAvailable();
    }
    await query.stop();
    return query.recentProgress.map((p) => p.eventTime.watermark);
  };

  it('the global watermark is the minimum over partitions: a lagging partition holds it back', async () => {
    const marks = await run();
    expect(marks.at(-1)).toBe(at(40));
  });

  it('an idle partition stops holding the watermark back after idleTimeout', async () => {
    const marks = await run('1 minute');
    // After b has been silent for over a minute, only a counts: its max (500 s) − 10 s.
    expect(marks.at(-1)).toBe(at(490));
    expect(marks[1]).toBe(at(40));
  });
});

describe('micro-batch engine: stop()', () => {
  it('finishes the batch in flight (sink commit and commits/N) before resolving', async () => {
    const env = setup();
    const source = new MemorySource();
    source.addData([{ n: 1 }, { n: 2 }]);
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let entered: () => void = () => {};
    const inFlight = new Promise<void>((resolve) => {
      entered = resolve;
    });
    const seen: number[] = [];
    const query = await readStream(source).writeStream(
      foreachBatch(async (rows, batchId) => {
        entered();
        await gate;
        seen.push(batchId, rows.length);
      }),
      { checkpointLocation: env.checkpoint, clock: env.clock },
    );
    await inFlight;
    const stopped = query.stop();
    release();
    await stopped;
    expect(seen).toEqual([0, 2]);
    expect(query.isActive).toBe(false);
    expect(query.lastProgress?.batchId).toBe(0);
    const committed: string[] = [];
    for await (const meta of env.checkpoint.list({ prefix: 'commits/' })) committed.push(meta.key);
    expect(committed).toHaveLength(1);
  });
});
