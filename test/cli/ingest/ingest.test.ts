// `lakestream ingest` against a real broker (one container for the file), the daemon as a real child
// process: 200 000 JSON events with 5 % duplicates and malformed records end to end (delta-rs reads
// exactly the distinct valid events, the dead-letter table exactly the malformed ones with their
// coordinates); a missing topic; SIGTERM with the example config (the batch in flight commits, exit 0)
// and the HTTP endpoints; dead letters to a Kafka topic; --check.

import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Admin, Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeltaTable } from '../../../sinks/delta/table.js';
import { LocalObjectStore } from '../../../storage/local.js';
import { containerRuntime, pythonReaders } from '../../kit/capabilities.js';
import { requireCapability } from '../../kit/capability.js';
import { type StartedKafka, startKafka } from '../../kit/kafka.js';
import { PROJECT_ROOT } from '../../kit/paths.js';
import { runPython } from '../../kit/python.js';
import { compileCli, filesUnder, type LogLine, runDaemon, spawnDaemon, txnCounts } from './daemon-process.js';
import { EVENT_SCHEMA, events, produce } from './events.js';

const cap = await requireCapability(containerRuntime);
const readers = await requireCapability(pythonReaders);

const EVENTS = 200_000;
const PARTITIONS = 4;

/** Prometheus text → 'name{k="v",…}' (labels sorted) → value. */
function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels = (m[2] ?? '')
      .split(/,(?=[a-zA-Z_]\w*=")/)
      .filter(Boolean)
      .sort()
      .join(',');
    out.set(labels ? `${m[1]}{${labels}}` : m[1]!, Number(m[3]));
  }
  return out;
}

describe.skipIf(!cap.available)('lakestream ingest on a real broker', () => {
  let kafka: StartedKafka;
  let producer: Producer;
  let admin: Admin;
  const root = mkdtempSync(join(tmpdir(), 'lakestream-ingest-'));

  beforeAll(async () => {
    kafka = await startKafka();
    const client = kafka.client('ingest-test');
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

  function writeConfig(name: string, config: Record<string, unknown>): { file: string; folder: string } {
    const folder = join(root, name);
    mkdirSync(folder, { recursive: true });
    const file = join(folder, 'pipeline.json');
    writeFileSync(file, JSON.stringify(config, null, 2));
    return { file, folder };
  }

  const eventsConfig = (topic: string, extra: Record<string, unknown> = {}) => ({
    name: topic,
    checkpoint: './checkpoint',
    kafka: { brokers: kafka.brokers, topics: [topic], startingOffsets: 'earliest', maxOffsetsPerTrigger: 50_000 },
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
          'kafka.partition as source_partition',
          'kafka.offset as source_offset',
        ],
      },
    ],
    dedup: { keys: ['event_id'], watermark: { column: 'event_time', delay: '10 minutes' } },
    target: { delta: { path: './table', partitionBy: ['event_date'] } },
    deadLetters: { delta: { path: './dead-letters' } },
    trigger: { availableNow: true },
    metrics: { port: 0, host: '127.0.0.1' },
    ...extra,
  });

  it('a missing topic: one clear line and a hint, exit 1, nothing written', async () => {
    const { file, folder } = writeConfig('missing-topic', eventsConfig('no-such-topic'));
    const { code, stderr } = await runDaemon(['--config', file]);
    expect(stderr).toEqual([
      `lakestream: KafkaSource[no-such-topic]: Kafka topic 'no-such-topic' not found on brokers ${kafka.brokers[0]} [SOURCE_NOT_FOUND]`,
      'hint: create the topic, or fix kafka.topics / kafka.topicPattern',
    ]);
    expect(code).toBe(1);
    expect(filesUnder(folder)).toEqual(['pipeline.json']);
  }, 30_000);

  it(`${EVENTS} events with 5 % duplicates and malformed records: delta-rs reads exactly the distinct valid ones`, async () => {
    await kafka.createTopic('events', PARTITIONS);
    // The expected outcome, and the coordinates of every record (explicit partitions, so offsets follow).
    const nextOffset = new Array<number>(PARTITIONS).fill(0);
    const validIds = new Set<string>();
    const malformed = new Map<string, string>(); // 'partition:offset' → raw value
    let duplicates = 0;
    for (const e of events(EVENTS, PARTITIONS)) {
      const offset = nextOffset[e.partition]!++;
      if (e.malformed) malformed.set(`${e.partition}:${offset}`, e.value);
      else if (e.duplicate) duplicates++;
      else validIds.add(e.id!);
    }
    expect(duplicates / EVENTS).toBeGreaterThan(0.045);
    expect(malformed.size).toBeGreaterThan(900);

    const produced = Date.now();
    expect(await produce(producer, 'events', events(EVENTS, PARTITIONS))).toBe(EVENTS);
    const produceMs = Date.now() - produced;

    const { file, folder } = writeConfig('e2e', eventsConfig('events'));
    const run = await runDaemon(['--config', file]);
    expect(run.stderr).toEqual([]);
    expect(run.code).toBe(0);
    const batches = run.logs.filter((l) => l.msg === 'batch');
    expect(batches.reduce((n, l) => n + Number(l.rows), 0)).toBe(EVENTS);
    expect(batches.reduce((n, l) => n + Number(l.outputRows), 0)).toBe(validIds.size);
    expect(batches.reduce((n, l) => n + Number(l.deadLetters), 0)).toBe(malformed.size);
    expect(batches.reduce((n, l) => n + Number(l.duplicates), 0)).toBe(duplicates);
    expect(batches.at(-1)).toMatchObject({ lag: 0, outcome: 'committed' });
    const started = run.logs.find((l) => l.msg === 'query started')!;
    const stopped = run.logs.find((l) => l.msg === 'stopped')!;
    expect(stopped).toMatchObject({ reason: 'finished', rows: EVENTS, deadLetters: malformed.size });
    const runMs = Date.parse(stopped.time) - Date.parse(started.time);
    console.info(
      `ingest e2e: produced ${EVENTS} records in ${produceMs} ms; daemon ingested them in ${runMs} ms ` +
        `(${Math.round((EVENTS * 1000) / runMs)} events/s, ${batches.length} batches)`,
    );

    const table = join(folder, 'table');
    const dlq = join(folder, 'dead-letters');
    for (const [txn, n] of txnCounts(table)) expect(n, `${txn} committed ${n} times`).toBe(1);
    for (const [txn, n] of txnCounts(dlq)) expect(n, `${txn} committed ${n} times`).toBe(1);

    type DlqRow = { topic: string; partition: number; offset: number; value: string; reason: string; operator: string };
    let rows: { ids: string[]; partitions: string[] };
    let letters: DlqRow[];
    if (readers.available) {
      const result = await runPython<{ ids: string[]; partitions: string[]; letters: DlqRow[] }>(
        `
table = readers.delta_rs_rows(args["table"], columns=["event_id", "event_date"])
result = {
  "ids": [r["event_id"] for r in table],
  "partitions": sorted({str(r["event_date"]) for r in table}),
  "letters": readers.delta_rs_rows(args["dlq"], columns=["topic", "partition", "offset", "value", "reason", "operator"]),
}`,
        { table, dlq },
      );
      rows = result;
      letters = result.letters;
    } else {
      const scanned = await (await DeltaTable.open(new LocalObjectStore(table))).scanRows();
      rows = { ids: scanned.map((r) => String(r.event_id)), partitions: [] };
      letters = (await (await DeltaTable.open(new LocalObjectStore(dlq))).scanRows()).map((r) => ({
        ...(r as unknown as DlqRow),
        offset: Number(r.offset),
      }));
    }
    expect(rows.ids.length).toBe(validIds.size);
    expect(new Set(rows.ids).size).toBe(validIds.size);
    expect(rows.ids.every((id) => validIds.has(id))).toBe(true);
    if (readers.available) expect(rows.partitions).toEqual(['2025-01-15', '2025-01-16']);
    expect(letters.length).toBe(malformed.size);
    for (const l of letters) {
      expect(l.topic).toBe('events');
      expect(malformed.get(`${l.partition}:${l.offset}`), `dead letter at ${l.partition}:${l.offset}`).toBe(l.value);
    }
    expect(new Set(letters.map((l) => `${l.partition}:${l.offset}`)).size).toBe(malformed.size);
    expect(new Set(letters.map((l) => l.operator))).toEqual(new Set(['1-parseJson', '0-withWatermark']));

    // A second run finds nothing new and writes nothing.
    const versions = () => readdirSync(join(table, '_delta_log')).filter((n) => n.endsWith('.json')).length;
    const before = versions();
    const again = await runDaemon(['--config', file]);
    expect(again.code).toBe(0);
    expect(again.logs.filter((l) => l.msg === 'batch')).toEqual([]);
    expect(versions()).toBe(before);
  }, 180_000);

  it('without dedup, the parallel stage (worker threads) writes what the serial pipeline writes', async () => {
    // The worker threads as users run them: the compiled daemon (worker.js), not the tsx sources.
    const compiled = await compileCli();
    const count = 30_000;
    await kafka.createTopic('events-parallel', PARTITIONS);
    expect(await produce(producer, 'events-parallel', events(count, PARTITIONS))).toBe(count);
    const noDedup = (workers: number) =>
      eventsConfig('events-parallel', {
        dedup: undefined,
        workers,
        kafka: {
          brokers: kafka.brokers,
          topics: ['events-parallel'],
          startingOffsets: 'earliest',
          maxOffsetsPerTrigger: 7_000,
        },
      });
    type Letter = { topic: string; partition: number; offset: number; value: string; reason: string; operator: string };
    const outcome = async (name: string, workers: number, build?: string) => {
      const { file, folder } = writeConfig(name, noDedup(workers));
      const run = await runDaemon(['--config', file], {}, build);
      expect(run.stderr).toEqual([]);
      expect(run.code).toBe(0);
      expect(run.logs.find((l) => l.msg === 'kafka and tables checked')).toMatchObject({ workers });
      for (const t of ['table', 'dead-letters']) {
        for (const [txn, n] of txnCounts(join(folder, t))) expect(n, `${t}: ${txn} committed ${n} times`).toBe(1);
      }
      const key = (r: Record<string, unknown>) => `${r.source_partition}:${r.source_offset}`;
      const rows = (await (await DeltaTable.open(new LocalObjectStore(join(folder, 'table')))).scanRows()).sort(
        (a, b) => (key(a) < key(b) ? -1 : 1),
      );
      const letters = (await (await DeltaTable.open(new LocalObjectStore(join(folder, 'dead-letters')))).scanRows())
        .map((r) => {
          const { topic, partition, offset, value, reason, operator } = r as unknown as Letter;
          return { topic, partition, offset: Number(offset), value, reason, operator };
        })
        .sort((a, b) => a.partition - b.partition || a.offset - b.offset);
      return { rows, letters, table: join(folder, 'table'), batches: run.logs.filter((l) => l.msg === 'batch') };
    };
    let parallel: Awaited<ReturnType<typeof outcome>>;
    try {
      parallel = await outcome('parallel', 2, compiled);
    } finally {
      rmSync(compiled, { recursive: true, force: true });
    }
    const serial = await outcome('serial', 0);
    // Every record is a row or a dead letter, exactly once.
    expect(parallel.rows.length + parallel.letters.length).toBe(count);
    expect(new Set(parallel.rows.map((r) => `${r.source_partition}:${r.source_offset}`)).size).toBe(
      parallel.rows.length,
    );
    expect(parallel.batches.reduce((n, l) => n + Number(l.outputRows), 0)).toBe(parallel.rows.length);
    expect(parallel.batches.reduce((n, l) => n + Number(l.deadLetters), 0)).toBe(parallel.letters.length);
    expect(parallel.letters.length).toBeGreaterThan(100);
    expect(parallel.rows).toEqual(serial.rows);
    expect(parallel.letters).toEqual(serial.letters);
    if (readers.available) {
      const read = await runPython<{ n: number; offsets: number }>(
        `
rows = readers.delta_rs_rows(args["table"], columns=["source_partition", "source_offset"])
result = {"n": len(rows), "offsets": len({(r["source_partition"], r["source_offset"]) for r in rows})}`,
        { table: parallel.table },
      );
      expect(read).toEqual({ n: parallel.rows.length, offsets: parallel.rows.length });
    }
  }, 180_000);

  it('JSON straight into columns (no transforms: worker threads, or the main thread with workers 0) writes what the row path writes', async () => {
    const compiled = await compileCli();
    const count = 30_000;
    await kafka.createTopic('events-columnar', PARTITIONS);
    expect(await produce(producer, 'events-columnar', events(count, PARTITIONS))).toBe(count);
    const columns = ['event_id', 'user_id', 'channel', 'amount', 'event_time'];
    const config = (workers: number, rowPath: boolean) =>
      eventsConfig('events-columnar', {
        dedup: undefined,
        workers,
        // An identity select is a transform: it keeps the records on the row path.
        transforms: rowPath ? [{ select: columns }] : [],
        target: { delta: { path: './table' } },
        kafka: {
          brokers: kafka.brokers,
          topics: ['events-columnar'],
          startingOffsets: 'earliest',
          maxOffsetsPerTrigger: 7_000,
        },
      });
    type Letter = { topic: string; partition: number; offset: number; value: string; reason: string; operator: string };
    const outcome = async (name: string, workers: number, rowPath: boolean, build?: string) => {
      const { file, folder } = writeConfig(name, config(workers, rowPath));
      const run = await runDaemon(['--config', file], {}, build);
      expect(run.stderr).toEqual([]);
      expect(run.code).toBe(0);
      for (const t of ['table', 'dead-letters']) {
        for (const [txn, n] of txnCounts(join(folder, t))) expect(n, `${t}: ${txn} committed ${n} times`).toBe(1);
      }
      const text = (r: Record<string, unknown>) =>
        JSON.stringify(columns.map((c) => (typeof r[c] === 'bigint' ? String(r[c]) : r[c])));
      const rows = (await (await DeltaTable.open(new LocalObjectStore(join(folder, 'table')))).scanRows())
        .map(text)
        .sort();
      const letters = (await (await DeltaTable.open(new LocalObjectStore(join(folder, 'dead-letters')))).scanRows())
        .map((r) => {
          const { topic, partition, offset, value, reason, operator } = r as unknown as Letter;
          // The row path names its parseJson after the select's place; the columnar path has none.
          return { topic, partition, offset: Number(offset), value, reason, operator: operator.replace(/^\d+-/, '') };
        })
        .sort((a, b) => a.partition - b.partition || a.offset - b.offset);
      return { rows, letters, table: join(folder, 'table'), batches: run.logs.filter((l) => l.msg === 'batch') };
    };
    let workerThreads: Awaited<ReturnType<typeof outcome>>;
    let mainThread: Awaited<ReturnType<typeof outcome>>;
    try {
      workerThreads = await outcome('columnar-workers', 2, false, compiled);
      mainThread = await outcome('columnar-main', 0, false, compiled);
    } finally {
      rmSync(compiled, { recursive: true, force: true });
    }
    const rowPath = await outcome('row-path', 0, true);
    expect(rowPath.rows.length + rowPath.letters.length).toBe(count);
    expect(rowPath.letters.length).toBeGreaterThan(100);
    for (const columnar of [workerThreads, mainThread]) {
      expect(columnar.rows).toEqual(rowPath.rows);
      expect(columnar.letters).toEqual(rowPath.letters);
      expect(columnar.batches.reduce((n, l) => n + Number(l.outputRows), 0)).toBe(rowPath.rows.length);
    }
    if (readers.available) {
      const read = await runPython<{ n: number; ids: number }>(
        `
rows = readers.delta_rs_rows(args["table"], columns=["event_id"])
result = {"n": len(rows), "ids": len({r["event_id"] for r in rows})}`,
        { table: mainThread.table },
      );
      expect(read).toEqual({ n: rowPath.rows.length, ids: new Set(rowPath.rows.map((r) => JSON.parse(r)[0])).size });
    }
  }, 240_000);

  it('SIGTERM commits the batch in flight and exits 0; /metrics, /healthz and /readyz answer', async () => {
    await kafka.createTopic('orders', PARTITIONS);
    const order = (i: number) => ({
      partition: i % PARTITIONS,
      value:
        i % 500 === 3
          ? `{"order_id": "o${i}", "amount": "lots"}`
          : JSON.stringify({
              order_id: `o${i}`,
              customer_id: i % 97,
              amount: Math.round(i * 13.7) / 100,
              currency: i % 2 ? 'eur' : 'usd',
              status: 'paid',
              event_time: Date.UTC(2025, 5, 1) + i * 1000,
            }),
    });
    const orders = (from: number, n: number) => Array.from({ length: n }, (_, k) => order(from + k));
    const FIRST = 5_000;
    await produce(producer, 'orders', orders(0, FIRST));

    // The example config, as the README shows it, in a folder of its own (its paths are relative).
    const folder = join(root, 'example');
    mkdirSync(folder);
    const file = join(folder, 'pipeline.yaml');
    cpSync(join(PROJECT_ROOT, 'examples/ingest/pipeline.yaml'), file);
    const daemon = spawnDaemon(['--config', file], {
      KAFKA_BROKERS: kafka.brokers.join(','),
      ORDERS_TOPIC: 'orders',
      METRICS_PORT: '0',
      METRICS_HOST: '127.0.0.1',
      TRIGGER_INTERVAL: '300 ms',
    });
    try {
      const serving = await daemon.waitFor((l) => l.msg.startsWith('serving'));
      const base = `http://127.0.0.1:${serving.port}`;
      let seen = 0;
      await daemon.waitFor((l) => {
        if (l.msg === 'batch') seen += Number(l.rows);
        return seen === FIRST;
      });
      const health = await fetch(`${base}/healthz`);
      expect([health.status, await health.text()]).toEqual([200, 'ok\n']);
      const ready = await fetch(`${base}/readyz`);
      expect([ready.status, await ready.text()]).toEqual([200, 'ready\n']);
      expect((await fetch(`${base}/nope`)).status).toBe(404);
      const metricsResponse = await fetch(`${base}/metrics`);
      expect(metricsResponse.headers.get('content-type')).toContain('text/plain');
      const metrics = parseMetrics(await metricsResponse.text());
      const bad = orders(0, FIRST).filter((o) => o.value.includes('"lots"')).length;
      expect(metrics.get('lakestream_ingest_records_in_total{pipeline="orders"}')).toBe(FIRST);
      expect(metrics.get('lakestream_ingest_records_out_total{pipeline="orders"}')).toBe(FIRST - bad);
      expect(metrics.get('lakestream_ingest_dead_letters_total{pipeline="orders"}')).toBe(bad);
      expect(metrics.get('lakestream_ingest_kafka_lag{partition="0",pipeline="orders",topic="orders"}')).toBe(0);
      expect(metrics.get('lakestream_ingest_kafka_offset{partition="3",pipeline="orders",topic="orders"}')).toBe(
        FIRST / PARTITIONS,
      );
      expect(metrics.get('lakestream_ingest_commit_latency_seconds_count{pipeline="orders"}')).toBeGreaterThan(0);
      expect(metrics.get('lakestream_ingest_batches_total{outcome="committed",pipeline="orders"}')).toBeGreaterThan(0);
      expect(metrics.get('lakestream_ingest_ready{pipeline="orders"}')).toBe(1);
      expect(metrics.get('lakestream_ingest_table_version{pipeline="orders"}')).toBeGreaterThan(0);
      // The watermark a batch ran with (0 until one is set: the first batch runs without one).
      expect(metrics.get('lakestream_ingest_watermark_seconds{pipeline="orders"}')).toBeGreaterThanOrEqual(0);
      expect(metrics.has('process_resident_memory_bytes{pipeline="orders"}')).toBe(true);

      // A large batch, and SIGTERM while it runs: offsets/N is written, commits/N not yet.
      const checkpoint = join(folder, 'data/checkpoints/orders');
      const inFlight = () => {
        const planned = readdirSync(join(checkpoint, 'offsets')).map(Number);
        const committed = new Set(readdirSync(join(checkpoint, 'commits')).map(Number));
        return planned.find((n) => !committed.has(n));
      };
      await produce(producer, 'orders', orders(FIRST, 60_000), 5_000);
      let batch: number | undefined;
      for (let i = 0; i < 1500 && batch === undefined; i++) {
        batch = inFlight();
        if (batch === undefined) await new Promise((r) => setTimeout(r, 10));
      }
      expect(batch, 'a batch was seen in flight').toBeDefined();
      daemon.child.kill('SIGTERM');
      const { code, signal } = await daemon.exited;
      expect(daemon.stderr).toEqual([]);
      expect([code, signal]).toEqual([0, null]);
      const msgs = daemon.logs.map((l) => l.msg);
      const stopping = msgs.indexOf('stopping: finishing the batch in flight');
      expect(stopping).toBeGreaterThan(0);
      const after = daemon.logs.slice(stopping).filter((l) => l.msg === 'batch');
      expect(after.map((l) => l.batchId)).toEqual([batch]);
      expect(after[0]).toMatchObject({ outcome: 'committed' });
      expect(daemon.logs.at(-1)).toMatchObject({ msg: 'stopped', reason: 'signal' });
      expect(inFlight()).toBeUndefined();
      // The table holds exactly what the batches committed, each order once.
      const rows = await (await DeltaTable.open(new LocalObjectStore(join(folder, 'data/tables/orders')))).scanRows();
      const committed = daemon.logs.filter((l) => l.msg === 'batch').reduce((n, l) => n + Number(l.outputRows), 0);
      expect(rows.length).toBe(committed);
      expect(new Set(rows.map((r) => r.order_id)).size).toBe(committed);
      expect(rows.find((r) => r.order_id === 'o1')).toMatchObject({
        customer: 1n,
        amount: '0.14',
        currency: 'EUR',
        order_date: '2025-06-01',
        source_partition: 1,
        source_offset: 0n,
      });
      expect(existsSync(join(folder, 'data/tables/orders_dead_letters/_delta_log'))).toBe(true);
    } finally {
      if (daemon.child.exitCode === null) daemon.child.kill('SIGKILL');
    }
  }, 120_000);

  it('dead letters to a Kafka topic, keyed <queryId>/<batchId>/<index>; --check creates nothing', async () => {
    await kafka.createTopic('small', PARTITIONS);
    await kafka.createTopic('small-dlq', 1);
    const COUNT = 3_000;
    await produce(producer, 'small', events(COUNT, PARTITIONS));
    const expectedLetters = [...events(COUNT, PARTITIONS)].filter((e) => e.malformed).length;
    const { file, folder } = writeConfig('kafka-dlq', {
      ...eventsConfig('small', { deadLetters: { kafka: { topic: 'small-dlq' } } }),
      kafka: { brokers: kafka.brokers, topics: ['small'], startingOffsets: 'earliest', maxOffsetsPerTrigger: 1_000 },
    });

    const check = await runDaemon(['--config', file, '--check']);
    expect(check.code).toBe(0);
    expect(filesUnder(folder)).toEqual(['pipeline.json']);

    const run = await runDaemon(['--config', file]);
    expect(run.stderr).toEqual([]);
    expect(run.code).toBe(0);
    const queryId = run.logs.find((l: LogLine) => l.msg === 'query started')!.queryId as string;
    const [offsets] = await admin.fetchTopicOffsets('small-dlq');
    expect(Number(offsets!.high)).toBe(expectedLetters);

    const consumer = kafka.client('ingest-dlq-reader').consumer({ groupId: `dlq-reader-${Date.now()}` });
    const messages: { key: string; headers: Record<string, string>; value: string }[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic: 'small-dlq', fromBeginning: true });
    await new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: async ({ message }) => {
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
          messages.push({ key: String(message.key), headers, value: String(message.value) });
          if (messages.length === expectedLetters) resolve();
        },
      });
    });
    await consumer.disconnect();
    expect(new Set(messages.map((m) => m.key)).size).toBe(expectedLetters);
    for (const m of messages) {
      const [q, batchId, index] = m.key.split('/');
      expect(q).toBe(queryId);
      expect(m.headers['lakestream.batch_id']).toBe(batchId);
      expect(m.headers['lakestream.index']).toBe(index);
      expect(m.headers['lakestream.source.topic']).toBe('small');
      expect(m.headers['lakestream.reason']).toBeTruthy();
      expect(Number(m.headers['lakestream.source.offset'])).toBeGreaterThanOrEqual(0);
      expect(m.value).toMatch(/"m\d+"/);
    }
  }, 90_000);
});
