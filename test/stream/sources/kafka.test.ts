// KafkaSource against a real broker (test/kit/kafka.ts, one container for the file): exactly-once
// queries with availableNow, rate limiting and restarts; replays of a planned range; startingOffsets;
// retention loss (deleteTopicRecords) with and without failOnDataLoss; topic/partition discovery;
// missing topics and unreachable brokers; lag commits; and Kafka → parseJson → dropDuplicates → Delta
// table end to end. (Transactional topics cannot be produced to with this fixture: the broker reaches
// itself through the host-mapped advertised listener for AddPartitionsToTxn/WriteTxnMarkers.)

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Admin, Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasCode } from '../../../common/errors.js';
import { deltaSink } from '../../../sinks/delta/stream-sink.js';
import { DeltaTable } from '../../../sinks/delta/table.js';
import type { StructType } from '../../../sinks/schema.js';
import { LocalObjectStore } from '../../../storage/local.js';
import { MemoryObjectStore } from '../../../storage/memory.js';
import type { ObjectStore } from '../../../storage/object-store.js';
import type { PartitionRange } from '../../../stream/checkpoint-log.js';
import { MemorySink } from '../../../stream/memory-sink.js';
import { dropDuplicates, parseJson } from '../../../stream/operators/index.js';
import type { StreamingQueryProgress } from '../../../stream/progress.js';
import type { SourceContext } from '../../../stream/source.js';
import { KafkaSource, type KafkaSourceOptions } from '../../../stream/sources/kafka.js';
import { createKafkaClient, KafkaRangeReader } from '../../../stream/sources/kafka-client.js';
import { Trigger } from '../../../stream/trigger.js';
import type { Row } from '../../../stream/types.js';
import { readStream } from '../../../stream/write-stream.js';
import { containerRuntime } from '../../kit/capabilities.js';
import { requireCapability } from '../../kit/capability.js';
import { type StartedKafka, startKafka } from '../../kit/kafka.js';

const cap = await requireCapability(containerRuntime);

const EVENT: StructType = {
  type: 'struct',
  fields: [
    { name: 'id', type: 'long', nullable: true, metadata: {} },
    { name: 'name', type: 'string', nullable: true, metadata: {} },
  ],
};

const event = (id: number, key = `k${id % 7}`) => ({ key, value: JSON.stringify({ id, name: `e${id}` }) });
const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

function context(metadata: ObjectStore = new MemoryObjectStore(), warnings: string[] = []): SourceContext {
  return { queryId: 'kafka-test', metadata, now: Date.now, warn: (message) => warnings.push(message) };
}

describe.skipIf(!cap.available)('KafkaSource on a real broker', () => {
  let kafka: StartedKafka;
  let producer: Producer;
  let admin: Admin;
  const root = mkdtempSync(join(tmpdir(), 'lakestream-kafka-source-'));

  beforeAll(async () => {
    kafka = await startKafka();
    const client = kafka.client('kafka-source-test');
    producer = client.producer();
    admin = client.admin();
    await Promise.all([producer.connect(), admin.connect()]);
  });
  afterAll(async () => {
    await producer?.disconnect().catch(() => {});
    await admin?.disconnect().catch(() => {});
    await kafka?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  const source = (options: Partial<KafkaSourceOptions>) => new KafkaSource({ brokers: kafka.brokers, ...options });

  /** Runs a query to completion with Trigger.availableNow: parseJson keeping topic/partition/offset. */
  async function runQuery(src: KafkaSource, sink: MemorySink, checkpoint: ObjectStore, warnings: string[] = []) {
    const progress: StreamingQueryProgress[] = [];
    const query = await readStream(src)
      .pipe(parseJson(EVENT, { keep: ['topic', 'partition', 'offset'] }))
      .writeStream(sink, {
        checkpointLocation: checkpoint,
        trigger: Trigger.availableNow(),
        progressBar: false,
        onProgress: (p) => progress.push(p),
        onWarning: (message) => warnings.push(message),
      });
    await query.awaitTermination();
    return { query, progress };
  }

  const ids = (rows: readonly Row[]) => rows.map((r) => Number(r.id)).sort((a, b) => a - b);

  it('reads every message once, rate-limited into several batches, resumes after a restart, replays exactly', async () => {
    const topic = 'events-exactly-once';
    await kafka.createTopic(topic, 3);
    await producer.send({ topic, messages: range(0, 60).map((i) => event(i)) });

    const sink = new MemorySink();
    const checkpoint = new MemoryObjectStore('checkpoint-1');
    const opts = {
      topics: [topic],
      startingOffsets: 'earliest',
      maxOffsetsPerTrigger: 25,
      groupId: 'lag-monitor',
    } as const;
    const first = await runQuery(source(opts), sink, checkpoint);
    expect(ids(sink.rows())).toEqual(range(0, 60));
    expect(sink.batches.length).toBeGreaterThanOrEqual(3);
    for (const batch of sink.batches) expect(batch.rows.length).toBeLessThanOrEqual(25);
    // Rows carry their coordinates, offsets ascending within a partition of a batch.
    const row = sink.rows()[0]!;
    expect(row).toMatchObject({ topic, partition: expect.any(Number), offset: expect.any(Number) });
    for (const batch of sink.batches) {
      for (const p of [0, 1, 2]) {
        const offsets = batch.rows.filter((r) => r.partition === p).map((r) => r.offset as number);
        expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
      }
    }
    const last = first.progress[first.progress.length - 1]!;
    expect(last.sources[0]!.metrics).toMatchObject({
      numRecordsLost: 0,
      minOffsetsBehindLatest: 0,
      maxOffsetsBehindLatest: 0,
      avgOffsetsBehindLatest: 0,
    });
    const highs = await admin.fetchTopicOffsets(topic);
    expect(last.sources[0]!.latestOffset).toEqual(
      Object.fromEntries(highs.map((h) => [`${topic}-${h.partition}`, h.high])),
    );
    // Offsets were committed to the monitoring group (after close, which flushes them).
    const committed = await admin.fetchOffsets({ groupId: 'lag-monitor', topics: [topic] });
    expect(
      committed[0]!.partitions.map((p) => [p.partition, p.offset]).sort((a, b) => Number(a[0]) - Number(b[0])),
    ).toEqual(highs.map((h) => [h.partition, h.high]).sort((a, b) => Number(a[0]) - Number(b[0])));

    // Restart on the same checkpoint after more data: only the new messages.
    await producer.send({ topic, messages: range(60, 30).map((i) => event(i)) });
    const batchesBefore = sink.batches.length;
    const second = await runQuery(source(opts), sink, checkpoint);
    expect(second.query.id).toBe(first.query.id);
    expect(ids(sink.rows())).toEqual(range(0, 90));
    expect(ids(sink.batches.slice(batchesBefore).flatMap((b) => b.rows))).toEqual(range(60, 30));

    // A planned range read twice through a reopened source gives identical rows.
    const planned = second.progress[0]!.sources[0]!;
    const ranges: Record<string, PartitionRange> = {};
    for (const [p, start] of Object.entries(planned.startOffset ?? {})) {
      ranges[p] = { start, end: planned.endOffset[p]! };
    }
    const replay = source({ topics: [topic] });
    await replay.open(context());
    try {
      const a = await replay.read(ranges);
      const b = await replay.read(ranges);
      expect(b).toEqual(a);
      expect(a.map((g) => g.partition)).toEqual(Object.keys(ranges));
      for (const group of a) {
        const r = ranges[group.partition]!;
        expect(group.rows.map((x) => x.offset)).toEqual(range(Number(r.start), Number(r.end) - Number(r.start)));
        for (const x of group.rows) {
          expect(x).toMatchObject({ topic, key: expect.stringMatching(/^k\d$/), headers: {} });
          expect(x.timestamp).toBeInstanceOf(Date);
        }
      }
      expect(a.reduce((n, g) => n + g.rows.length, 0)).toBe(second.progress[0]!.numInputRows);
      // A sub-range starting inside a broker batch, and bytes formats.
      const p0 = `${topic}-0`;
      const inner = await replay.read({ [p0]: { start: '3', end: '6' } });
      expect(inner[0]!.rows.map((x) => x.offset)).toEqual([3, 4, 5]);
    } finally {
      await replay.close();
      await replay.close();
    }
    const bytes = source({ topics: [topic], keyFormat: 'bytes', valueFormat: 'bytes' });
    await bytes.open(context());
    try {
      const [group] = await bytes.read({ [`${topic}-1`]: { start: '0', end: '2' } });
      expect(group!.rows[0]!.value).toBeInstanceOf(Uint8Array);
      expect(JSON.parse(Buffer.from(group!.rows[0]!.value as Uint8Array).toString('utf8'))).toHaveProperty('id');
      expect(bytes.schema.fields.find((f) => f.name === 'value')?.type).toBe('binary');
    } finally {
      await bytes.close();
    }
  });

  it('range reader: converts each record once on arrival, reads ahead within its bound, next range exact', async () => {
    const topic = 'reader-read-ahead';
    await kafka.createTopic(topic, 1);
    const payload = 'x'.repeat(1000);
    for (let from = 0; from < 600; from += 200) {
      await producer.send({ topic, messages: range(from, 200).map((i) => ({ value: `${i}:${payload}` })) });
    }
    const converted: number[] = [];
    const readAheadBytes = 64 * 1024;
    const reader = new KafkaRangeReader<{ offset: number; value: string }>(
      createKafkaClient({ brokers: kafka.brokers, clientId: 'reader-test' }),
      {
        groupId: `reader-test-${Date.now()}`,
        brokers: kafka.brokers.join(','),
        readAheadBytes,
        maxBytesPerPartition: 16 * 1024,
      },
      {
        record: (_topic, _partition, m) => {
          converted.push(Number(m.offset));
          return { offset: Number(m.offset), value: m.value!.toString('utf8') };
        },
        lowWatermark: async () => 0,
        onLoss: () => {
          throw new Error('no loss expected');
        },
      },
    );
    try {
      const partitions = new Map([[topic, 1]]);
      const first = await reader.read([{ topic, partition: 0, start: 0, end: 100 }], partitions);
      expect(first.get(`${topic}-0`)!.map((r) => r.offset)).toEqual(range(0, 100));
      // Between reads the partition is fetched ahead, up to the bound (plus at most one fetch).
      const deadline = Date.now() + 10_000;
      while (reader.bufferedBytes < readAheadBytes && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      expect(reader.bufferedBytes).toBeGreaterThanOrEqual(readAheadBytes);
      expect(reader.bufferedBytes).toBeLessThan(readAheadBytes + 2 * 16 * 1024 + 64 * 1024);
      const aheadOf = Math.max(...converted);
      expect(aheadOf).toBeGreaterThan(150);
      expect(aheadOf).toBeLessThan(599); // bounded: not the whole topic
      // The next range takes the read-ahead records and fetches the rest; every record converted once.
      const second = await reader.read([{ topic, partition: 0, start: 100, end: 600 }], partitions);
      const rows = second.get(`${topic}-0`)!;
      expect(rows.map((r) => r.offset)).toEqual(range(100, 500));
      expect(rows.every((r) => r.value.startsWith(`${r.offset}:`))).toBe(true);
      const counts = new Map<number, number>();
      for (const o of converted) counts.set(o, (counts.get(o) ?? 0) + 1);
      expect([...counts.values()].every((n) => n === 1)).toBe(true);
      expect(range(0, 600).every((o) => counts.has(o))).toBe(true);
    } finally {
      await reader.close();
    }
  });

  it("startingOffsets 'latest' (resolved once) and specific per-partition offsets", async () => {
    const topic = 'events-starting';
    await kafka.createTopic(topic, 2);
    const to = (partition: number, from: number, n: number) =>
      producer.send({ topic, messages: range(from, n).map((i) => ({ ...event(i), partition })) });
    await to(0, 0, 10);
    await to(1, 100, 10);

    const sink = new MemorySink();
    const checkpoint = new MemoryObjectStore('checkpoint-latest');
    await runQuery(source({ topics: [topic] }), sink, checkpoint);
    expect(sink.rows()).toEqual([]);
    await to(0, 10, 2);
    await to(1, 110, 2);
    await runQuery(source({ topics: [topic] }), sink, checkpoint);
    expect(ids(sink.rows())).toEqual([10, 11, 110, 111]);

    const specific = new MemorySink();
    // A KafkaJS client in place of broker addresses.
    await runQuery(
      new KafkaSource({
        brokers: kafka.client('custom-client'),
        topics: [topic],
        startingOffsets: { [topic]: { 0: 7, 1: -2 } },
      }),
      specific,
      new MemoryObjectStore('checkpoint-specific'),
    );
    expect(ids(specific.rows())).toEqual([...range(7, 5), ...range(100, 12)]);

    const partial = source({ topics: [topic], startingOffsets: { [topic]: { 0: 1 } } });
    await partial.open(context());
    await expect(partial.initialOffsets()).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/every partition.*missing: events-starting-1/),
    });
    await partial.close();
    expect(() => source({ topics: [topic], topicPattern: /x/ })).toThrow(/exactly one of topics and topicPattern/);
    expect(() => source({ topics: [topic], maxOffsetsPerTrigger: 0 })).toThrow(/maxOffsetsPerTrigger/);
  });

  it('minOffsetsPerTrigger waits for enough records, at most maxTriggerDelay (Spark delayed trigger)', async () => {
    const topic = 'events-min-offsets';
    await kafka.createTopic(topic, 1);
    const p0 = `${topic}-0`;
    const send = (from: number, n: number) =>
      producer.send({ topic, messages: range(from, n).map((i) => ({ ...event(i), partition: 0 })) });
    let now = 1_000_000;
    const src = source({
      topics: [topic],
      startingOffsets: 'earliest',
      minOffsetsPerTrigger: 10,
      maxTriggerDelayMs: 60_000,
    });
    await src.open({ ...context(), now: () => now });
    try {
      await send(0, 5);
      expect(await src.nextOffsets({ [p0]: '0' })).toEqual({ [p0]: '5' }); // the first trigger is never delayed
      await send(5, 3);
      expect(await src.nextOffsets({ [p0]: '5' })).toEqual({ [p0]: '5' }); // 3 < 10: wait
      now += 59_999;
      expect(await src.nextOffsets({ [p0]: '5' })).toEqual({ [p0]: '5' });
      now += 1;
      expect(await src.nextOffsets({ [p0]: '5' })).toEqual({ [p0]: '8' }); // maxTriggerDelay passed
      await send(8, 12);
      expect(await src.nextOffsets({ [p0]: '8' })).toEqual({ [p0]: '20' }); // 12 >= 10: at once
      await send(20, 2);
      expect(await src.nextOffsets({ [p0]: '20' })).toEqual({ [p0]: '20' });
      expect(await src.nextOffsets({ [p0]: '20' }, { [p0]: '22' })).toEqual({ [p0]: '22' }); // availableNow ignores it
    } finally {
      await src.close();
    }
    expect(() => source({ topics: [topic], minOffsetsPerTrigger: 10, maxOffsetsPerTrigger: 5 })).toThrow(
      /must not exceed maxOffsetsPerTrigger/,
    );
  });

  it('transactions: committed records once, aborted ones and markers skipped, ranges ending anywhere finish', async () => {
    const topic = 'events-transactional';
    await kafka.createTopic(topic, 1);
    const p0 = `${topic}-0`;
    const tx = kafka.client('kafka-source-tx').producer({
      transactionalId: 'lakestream-test-tx',
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await tx.connect();
    try {
      const batch = async (from: number, n: number, commit: boolean) => {
        const t = await tx.transaction();
        await t.send({ topic, messages: range(from, n).map((i) => ({ ...event(i), partition: 0 })) });
        await (commit ? t.commit() : t.abort());
      };
      // Offsets: 0-9 data, 10 commit marker, 11-15 aborted, 16 abort marker, 17-26 data, 27 marker,
      // then 28-29 aborted, 30 abort marker: the log ends with records that are not data.
      await batch(0, 10, true);
      await batch(100, 5, false);
      await batch(200, 10, true);
      await batch(300, 2, false);
    } finally {
      await tx.disconnect();
    }
    for (const maxOffsetsPerTrigger of [3, 7, 100]) {
      const src = source({ topics: [topic], startingOffsets: 'earliest', maxOffsetsPerTrigger });
      await src.open(context());
      try {
        let start = await src.initialOffsets();
        const seen: number[] = [];
        for (let n = 0; n < 50; n++) {
          const end = await src.nextOffsets(start);
          if (end[p0] === start[p0]) break;
          const [group] = await src.read({ [p0]: { start: start[p0]!, end: end[p0]! } });
          seen.push(...group!.rows.map((r) => JSON.parse(String(r.value)).id as number));
          start = end;
        }
        expect(start[p0]).toBe('31');
        expect(seen).toEqual([...range(0, 10), ...range(200, 10)]);
      } finally {
        await src.close();
      }
    }
  });

  it('retention loss: SOURCE_DATA_LOST with failOnDataLoss, skip and count without', async () => {
    const topic = 'events-retention';
    await kafka.createTopic(topic, 1);
    await producer.send({ topic, messages: range(0, 20).map((i) => event(i)) });
    await admin.fetchTopicOffsets(topic); // loads the topic's leader into the test admin's metadata
    await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: '8' }] });
    const p0 = `${topic}-0`;

    const strict = source({ topics: [topic] });
    await strict.open(context());
    try {
      const lost = await strict.nextOffsets({ [p0]: '2' }).catch((e: unknown) => e);
      expect(hasCode(lost, 'SOURCE_DATA_LOST')).toBe(true);
      const message = (lost as Error).message;
      expect(message).toContain(`'${topic}' partition 0`);
      expect(message).toContain('offset 2');
      expect(message).toContain('earliest available offset is 8');
      expect(message).toContain('failOnDataLoss: false');
      await expect(strict.read({ [p0]: { start: '2', end: '12' } })).rejects.toMatchObject({
        code: 'SOURCE_DATA_LOST',
        context: { topic, partition: 0, requestedOffset: 2, earliestOffset: 8 },
      });
      // Ranges after the low watermark are unaffected.
      const [ok] = await strict.read({ [p0]: { start: '8', end: '10' } });
      expect(ok!.rows.map((r) => r.offset)).toEqual([8, 9]);
    } finally {
      await strict.close();
    }

    const warnings: string[] = [];
    const lenient = source({ topics: [topic], failOnDataLoss: false });
    await lenient.open(context(new MemoryObjectStore(), warnings));
    try {
      expect(await lenient.nextOffsets({ [p0]: '2' })).toEqual({ [p0]: '20' });
      const [group] = await lenient.read({ [p0]: { start: '2', end: '12' } });
      expect(group!.rows.map((r) => r.offset)).toEqual([8, 9, 10, 11]);
      expect(lenient.metrics().numRecordsLost).toBe(6);
      expect(warnings.join('\n')).toMatch(/offsets 2\.\.7 were deleted by retention.*skipped 6 records/);
    } finally {
      await lenient.close();
    }

    // A query started at offset 0 with failOnDataLoss: false reads what is left and reports the loss.
    const sink = new MemorySink();
    const { progress } = await runQuery(
      source({ topics: [topic], startingOffsets: { [topic]: { 0: 0 } }, failOnDataLoss: false }),
      sink,
      new MemoryObjectStore('checkpoint-retention'),
    );
    expect(ids(sink.rows())).toEqual(range(8, 12));
    expect(progress[progress.length - 1]!.sources[0]!.metrics).toMatchObject({ numRecordsLost: 8 });
    // The same query with failOnDataLoss (default) fails.
    const failing = await readStream(source({ topics: [topic], startingOffsets: { [topic]: { 0: 0 } } }))
      .pipe(parseJson(EVENT))
      .writeStream(new MemorySink(), {
        checkpointLocation: new MemoryObjectStore('checkpoint-retention-strict'),
        trigger: Trigger.availableNow(),
        progressBar: false,
      });
    await expect(failing.awaitTermination()).rejects.toMatchObject({ code: 'SOURCE_DATA_LOST' });
  });

  it('discovers new partitions and pattern-matched topics; new ones start at earliest', async () => {
    await kafka.createTopic('pat-a', 1);
    await producer.send({ topic: 'pat-a', messages: range(0, 3).map((i) => event(i)) });
    const src = source({ topicPattern: /pat-.*/ });
    const metadata = new MemoryObjectStore();
    await src.open(context(metadata));
    try {
      const initial = await src.initialOffsets();
      expect(initial).toEqual({ 'pat-a-0': '3' }); // latest
      expect(await src.nextOffsets(initial)).toEqual(initial);
      const [before] = await src.read({ 'pat-a-0': { start: '0', end: '3' } });
      expect(before!.rows.map((r) => r.offset)).toEqual([0, 1, 2]);

      await admin.createPartitions({ topicPartitions: [{ topic: 'pat-a', count: 2 }] });
      await kafka.createTopic('pat-b', 1);
      // A new producer: KafkaJS's shared one would drop a record for a partition its metadata lacks.
      const fresh = kafka.client('kafka-source-test-grown').producer();
      await fresh.connect();
      await fresh.send({ topic: 'pat-a', messages: [{ ...event(3), partition: 1 }] });
      await fresh.send({ topic: 'pat-b', messages: range(10, 2).map((i) => event(i)) });
      await fresh.send({ topic: 'pat-a', messages: [{ ...event(4), partition: 0 }] });
      await fresh.disconnect();

      const end = await src.nextOffsets(initial);
      expect(end).toEqual({ 'pat-a-0': '4', 'pat-a-1': '1', 'pat-b-0': '2' });
      const starts = await src.initialOffsets();
      expect(starts).toMatchObject({ 'pat-a-0': '3', 'pat-a-1': '0', 'pat-b-0': '0' });
      const ranges: Record<string, PartitionRange> = {};
      for (const [p, e] of Object.entries(end)) ranges[p] = { start: initial[p] ?? starts[p]!, end: e };
      const groups = await src.read(ranges);
      expect(
        Object.fromEntries(groups.map((g) => [g.partition, ids(g.rows.map((r) => JSON.parse(String(r.value))))])),
      ).toEqual({
        'pat-a-0': [4],
        'pat-a-1': [3],
        'pat-b-0': [10, 11],
      });
    } finally {
      await src.close();
    }
  });

  it('missing topic: SOURCE_NOT_FOUND; unreachable broker: SOURCE_UNAVAILABLE, quickly', async () => {
    let t0 = Date.now();
    const missing = source({ topics: ['no-such-topic'] });
    const notFound = await missing.open(context()).catch((e: unknown) => e);
    await missing.close();
    expect(notFound).toMatchObject({ code: 'SOURCE_NOT_FOUND', retryable: false });
    expect((notFound as Error).message).toContain("'no-such-topic'");
    expect(Date.now() - t0).toBeLessThan(5_000);

    t0 = Date.now();
    const down = new KafkaSource({ brokers: ['127.0.0.1:1'], topics: ['x'] });
    const unavailable = await readStream(down)
      .writeStream(new MemorySink(), {
        checkpointLocation: new MemoryObjectStore('checkpoint-down'),
        trigger: Trigger.availableNow(),
        progressBar: false,
      })
      .catch((e: unknown) => e);
    expect(unavailable).toMatchObject({ code: 'SOURCE_UNAVAILABLE', retryable: true });
    expect((unavailable as Error).message).toContain('127.0.0.1:1');
    expect(Date.now() - t0).toBeLessThan(15_000);
    await down.close();
  });

  it('Kafka → parseJson → dropDuplicates → Delta table, exactly the distinct ids, across a restart', async () => {
    const topic = 'events-delta';
    await kafka.createTopic(topic, 3);
    // ids 0..29, ids 0..9 sent twice (different keys, so they land on other partitions too).
    await producer.send({
      topic,
      messages: [...range(0, 30).map((i) => event(i)), ...range(0, 10).map((i) => event(i, `dup${i}`))],
    });
    const dir = join(root, 'delta-table');
    const checkpoint = join(root, 'delta-checkpoint');
    const run = async () => {
      const query = await readStream(source({ topics: [topic], startingOffsets: 'earliest', maxOffsetsPerTrigger: 15 }))
        .pipe(parseJson(EVENT, { keep: ['topic', 'partition', 'offset'] }), dropDuplicates(['id']))
        .writeStream(deltaSink(dir), {
          checkpointLocation: checkpoint,
          trigger: Trigger.availableNow(),
          progressBar: false,
        });
      await query.awaitTermination();
      return query;
    };
    const tableRows = async () => (await DeltaTable.open(new LocalObjectStore(dir))).scanRows();

    await run();
    let rows = await tableRows();
    expect(ids(rows)).toEqual(range(0, 30));
    expect(rows[0]).toMatchObject({ topic, name: expect.stringMatching(/^e\d+$/) });

    await producer.send({ topic, messages: [event(5, 'again'), event(30), event(31)] });
    await run();
    rows = await tableRows();
    expect(ids(rows)).toEqual(range(0, 32));
    const coordinates = new Set(rows.map((r) => `${r.partition}/${r.offset}`));
    expect(coordinates.size).toBe(32);
  });
});
