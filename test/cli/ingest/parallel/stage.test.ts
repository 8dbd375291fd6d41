// The ingest daemon's parallel stage without a broker: Kafka-shaped rows (MemorySource) through the
// real engine, Delta sink and Delta dead-letter table, once with the stage in real worker threads and
// once with the serial operators on this thread — the same table rows and the same dead letters
// (origin, reason, inner operator), over two runs on one checkpoint. A worker that dies in the middle
// of a task fails the batch with the retryable WORKER_EXITED; the engine re-runs the batch and the
// table is exact. And splitRecords, which cuts a batch into tasks.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../../cli/ingest/config.js';
import { splitRecords } from '../../../../cli/ingest/parallel/stage.js';
import { type PackedBytes, type RecordChunk, unpack } from '../../../../cli/ingest/parallel/task.js';
import { buildPipeline } from '../../../../cli/ingest/pipeline.js';
import { DeltaTable } from '../../../../sinks/delta/table.js';
import { LocalObjectStore } from '../../../../storage/local.js';
import type { StreamingQueryProgress } from '../../../../stream/progress.js';
import { MemorySource } from '../../../../stream/sources/memory.js';
import { Trigger } from '../../../../stream/trigger.js';
import type { Row, RowGroup } from '../../../../stream/types.js';
import { readStream } from '../../../../stream/write-stream.js';
import { EVENT_SCHEMA, events } from '../events.js';

const dir = mkdtempSync(join(tmpdir(), 'lakestream-parallel-stage-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PARTITIONS = 3;
const T0 = Date.UTC(2025, 0, 15, 12, 0, 0);

/** Record values per partition: the test events (valid, duplicate, malformed) plus a few edge cases. */
function values(count: number): string[][] {
  const out: (string | null)[][] = Array.from({ length: PARTITIONS }, () => []);
  let i = 0;
  for (const e of events(count, PARTITIONS)) {
    out[e.partition]!.push(e.value);
    if (++i % 997 === 0) {
      // A lone surrogate: parses, but the Delta writer refuses it (finalize's dead letter).
      out[e.partition]!.push('{"event_id":"s","user_id":1,"channel":"\\ud800","event_time":"2025-01-15T00:00:00Z"}');
      out[e.partition]!.push(null as unknown as string); // a tombstone: no value
    }
  }
  return out as string[][];
}

/** Kafka-shaped rows; `undecoded`: keys and values as their UTF-8 bytes (KafkaSourceOptions.undecodedText). */
function kafkaRows(partition: number, list: readonly string[], undecoded: boolean): Row[] {
  const text = (v: string | null) => (undecoded && v !== null ? Buffer.from(v, 'utf8') : v);
  return list.map((value, offset) => ({
    key: text(offset % 7 === 0 ? `k${offset}` : null),
    value: text(value),
    topic: 't',
    partition,
    offset,
    timestamp: new Date(T0 + offset * 1000),
    headers: {},
  }));
}

function configOf(name: string, workers: number) {
  return resolveConfig(
    {
      name,
      checkpoint: './checkpoint',
      kafka: { brokers: ['127.0.0.1:1'], topics: ['t'] },
      format: { type: 'json', schema: EVENT_SCHEMA },
      transforms: [
        { derive: { name: 'event_date', fn: 'date', column: 'event_time' } },
        { derive: { name: 'channel', fn: 'upper', column: 'channel' } },
        {
          select: [
            'event_id',
            'user_id',
            'channel',
            'amount',
            'event_time',
            'event_date',
            'kafka.key as source_key',
            'kafka.partition as source_partition',
            'kafka.offset as source_offset',
            'kafka.timestamp as source_time',
          ],
        },
      ],
      target: { delta: { path: './table', partitionBy: ['event_date'] }, targetFileSize: '2 MiB' },
      deadLetters: { delta: { path: './dead-letters' } },
      workers,
    },
    { file: join(dir, name, 'pipeline.json'), baseDir: join(dir, name), env: {} },
  );
}

/**
 * Runs the pipeline on `rounds` (each round: per partition, the records seen so far), one query per
 * round, with rows as its Kafka source would give them (text undecoded for the parallel stage), or with
 * `decoded` as strings anyway.
 */
async function ingest(name: string, workers: number, rounds: string[][][], workerModule?: URL, decoded = false) {
  const progress: StreamingQueryProgress[] = [];
  const warnings: string[] = [];
  for (const round of rounds) {
    const config = configOf(name, workers);
    const pipeline = buildPipeline(config);
    expect(pipeline.parallel).toBe(workers > 0);
    expect(pipeline.sourceOptions.undecodedText === true).toBe(workers > 0);
    const undecoded = pipeline.sourceOptions.undecodedText === true && !decoded;
    let operators = pipeline.stream.operators;
    if (workerModule) {
      const { parallelIngest } = await import('../../../../cli/ingest/parallel/stage.js');
      operators = [parallelIngest(config, { workers, target: pipeline.sink, workerModule })];
    }
    const source = new MemorySource('t');
    round.forEach((list, p) => {
      source.addData(kafkaRows(p, list, undecoded), `t-${p}`);
    });
    const query = await readStream(source, { schema: pipeline.source.schema })
      .pipe(...operators)
      .writeStream(pipeline.sink, {
        checkpointLocation: config.checkpoint,
        trigger: Trigger.availableNow(),
        outputMode: 'append',
        ...(pipeline.deadLetters ? { deadLetters: pipeline.deadLetters } : {}),
        onProgress: (p) => progress.push(p),
        onWarning: (message) => warnings.push(message),
      });
    await query.awaitTermination();
    for (const op of operators) await (op as { close?: () => Promise<void> }).close?.();
    await pipeline.close();
  }
  const key = (r: Row) => `${r.source_partition}:${String(r.source_offset).padStart(8, '0')}`;
  const table = await DeltaTable.open(new LocalObjectStore(join(dir, name, 'table')));
  const rows = (await table.scanRows()).sort((a, b) => (key(a) < key(b) ? -1 : 1));
  const letters = (await (await DeltaTable.open(new LocalObjectStore(join(dir, name, 'dead-letters')))).scanRows())
    .map(({ topic, partition, offset, value, reason, operator }) => ({
      topic,
      partition,
      offset: Number(offset),
      value,
      reason,
      operator,
    }))
    .sort((a, b) => Number(a.partition) - Number(b.partition) || a.offset - b.offset);
  const files = table.snapshot().files;
  return { rows, letters, progress, warnings, files };
}

describe('parallelIngest', () => {
  const all = values(12_000);
  const half = all.map((list) => list.slice(0, Math.floor(list.length / 2)));

  it('writes the rows and dead letters the serial operators write, run after run', async () => {
    const parallel = await ingest('parallel', 2, [half, all]);
    const serial = await ingest('serial', 0, [half, all]);
    const total = all.reduce((n, l) => n + l.length, 0);
    expect(parallel.rows.length + parallel.letters.length).toBe(total);
    expect(parallel.rows.length).toBeGreaterThan(11_000);
    expect(new Set(parallel.letters.map((l) => l.operator))).toEqual(new Set(['1-parseJson', '5-finalize']));
    expect(parallel.letters.some((l) => l.reason === "column 'value' is null")).toBe(true);
    expect(parallel.rows).toEqual(serial.rows);
    expect(parallel.letters).toEqual(serial.letters);
    // Both runs committed, with the sink's counts; the parallel stage cut each batch into tasks and
    // files of about the target size.
    expect(parallel.progress.map((p) => p.sink.outcome)).toEqual(['committed', 'committed']);
    expect(parallel.progress.map((p) => p.sink.numOutputRows)).toEqual(
      serial.progress.map((p) => p.sink.numOutputRows),
    );
    expect(parallel.progress.reduce((n, p) => n + p.numDeadLetters, 0)).toBe(parallel.letters.length);
    expect(parallel.files.length).toBeGreaterThanOrEqual(4);
  }, 120_000);

  it('re-runs a batch whose worker died mid-task (WORKER_EXITED is retryable): the table is exact', async () => {
    const marker = join(dir, 'crashed');
    process.env.LAKESTREAM_TEST_CRASH_MARKER = marker;
    process.env.LAKESTREAM_TEST_CRASH_BATCH = '1';
    try {
      const crashing = new URL('./fixtures/crashing-worker.ts', import.meta.url);
      // Decoded text here (the stage's other input form: values cloned rather than packed).
      const run = await ingest('crash', 2, [half, all], crashing, true);
      const serial = await ingest('crash-serial', 0, [half, all]);
      expect(run.warnings.some((w) => /^batch 1 failed \(attempt 1\), retrying/.test(w))).toBe(true);
      expect(run.rows).toEqual(serial.rows);
      expect(run.letters).toEqual(serial.letters);
    } finally {
      delete process.env.LAKESTREAM_TEST_CRASH_MARKER;
      delete process.env.LAKESTREAM_TEST_CRASH_BATCH;
    }
  }, 120_000);
});

describe('splitRecords', () => {
  const group = (partition: string, n: number): RowGroup => ({
    partition,
    rows: Array.from({ length: n }, (_, i) => ({
      key: null,
      value: `${partition}:${i}`,
      topic: 't',
      partition: Number(partition.slice(2)),
      offset: 100 + i,
      timestamp: new Date(i),
      headers: {},
    })),
  });

  it('cuts the records into near-equal tasks, each partition at most once per task, in order', () => {
    const tasks = splitRecords([group('t-0', 5), group('t-1', 2), group('t-2', 6)], 3);
    expect(tasks.map((t) => t.map((c) => [c.partition, c.offsets[0], c.offsets.length]))).toEqual([
      [['t-0', 100, 5]],
      [
        ['t-1', 100, 2],
        ['t-2', 100, 3],
      ],
      [['t-2', 103, 3]],
    ]);
    const chunk = tasks[0]![0]!;
    expect(chunk).toMatchObject({ topic: 't', kafkaPartition: 0 });
    expect([...chunk.timestamps]).toEqual([0, 1, 2, 3, 4]);
    // Strings are handed on as they are (cloned to the worker); keys, all null, are packed (nothing to copy).
    expect(chunk.values).toEqual(['t-0:0', 't-0:1', 't-0:2', 't-0:3', 't-0:4']);
    expect(unpack(chunk.keys, 5, true)).toEqual([null, null, null, null, null]);
  });

  it('packs byte keys and values (undecoded text) into one array per column; the worker decodes them', () => {
    const rows = group('t-0', 4).rows.map((r, i) => ({
      ...r,
      key: i === 1 ? null : Buffer.from(`ключ-${i}`, 'utf8'),
      value: i === 2 ? Buffer.alloc(0) : Buffer.from(`{"n":${i},"s":"é🙂"}`, 'utf8'),
    }));
    const [[chunk]] = splitRecords([{ partition: 't-0', rows }], 1) as [[RecordChunk]];
    expect(Array.isArray(chunk.values)).toBe(false);
    const packed = chunk.values as PackedBytes;
    expect(packed.bytes.length).toBe(rows.reduce((n, r) => n + (r.value as Buffer).length, 0));
    // A copy: the rows' buffers are not transferred away.
    expect(packed.bytes.buffer).not.toBe((rows[0]!.value as Buffer).buffer);
    expect(unpack(chunk.values, 4, true)).toEqual(['{"n":0,"s":"é🙂"}', '{"n":1,"s":"é🙂"}', '', '{"n":3,"s":"é🙂"}']);
    expect(unpack(chunk.keys, 4, true)).toEqual(['ключ-0', null, 'ключ-2', 'ключ-3']);
    // Binary columns come out as bytes, each its own copy.
    const bytes = unpack(chunk.keys, 4, false) as (Uint8Array | null)[];
    expect(bytes.map((b) => (b === null ? null : Buffer.from(b).toString('utf8')))).toEqual([
      'ключ-0',
      null,
      'ключ-2',
      'ключ-3',
    ]);
    expect(bytes[0]!.buffer).not.toBe(bytes[2]!.buffer);
  });

  it('gives one task for fewer records than tasks, and none for no records', () => {
    expect(splitRecords([group('t-0', 1)], 4)).toHaveLength(1);
    expect(splitRecords([group('t-0', 0)], 4)).toEqual([]);
  });
});
