// The ingest pipeline's operators without a broker: Kafka-shaped rows through parse → transforms →
// dedup check → finalize, with the dead letters they produce; and the Delta dead-letter table's
// exactly-once appends.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../cli/ingest/config.js';
import { buildPipeline } from '../../../cli/ingest/pipeline.js';
import { deadLetterOrigin } from '../../../cli/ingest/transforms.js';
import { DEAD_LETTER_SCHEMA, DeltaDeadLetters } from '../../../sinks/delta/dead-letters.js';
import { deltaSink } from '../../../sinks/delta/stream-sink.js';
import { DeltaTable } from '../../../sinks/delta/table.js';
import { MemoryStateStoreProvider } from '../../../state/memory-store.js';
import { LocalObjectStore } from '../../../storage/local.js';
import { MemoryObjectStore } from '../../../storage/memory.js';
import { ManualClock } from '../../../stream/clock.js';
import { ObjectStoreDeadLetters } from '../../../stream/dead-letters.js';
import type { DeadLetter } from '../../../stream/operator.js';
import { planPipeline } from '../../../stream/plan.js';
import { GeneratorSource } from '../../../stream/sources/generator.js';
import { Trigger } from '../../../stream/trigger.js';
import type { Row } from '../../../stream/types.js';
import { readStream } from '../../../stream/write-stream.js';
import { countingColumns } from '../../kit/counting-sink.js';
import { prng } from '../../kit/prng.js';

const dir = mkdtempSync(join(tmpdir(), 'lakestream-ingest-transforms-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function pipelineOf(extra: Record<string, unknown>, schema: Record<string, unknown>) {
  const config = resolveConfig(
    {
      name: 't',
      checkpoint: './cp',
      kafka: { brokers: ['127.0.0.1:1'], topics: ['t'] },
      format: { type: 'json', schema },
      target: { delta: { path: './table' } },
      // The serial operators (the parallel stage runs these same specs: test/cli/ingest/parallel).
      workers: 0,
      ...extra,
    },
    { file: 't.json', baseDir: dir, env: {} },
  );
  return buildPipeline(config);
}

/** Runs the stateless part of a pipeline (no dedup) over Kafka rows with the given values. */
async function runRows(extra: Record<string, unknown>, schema: Record<string, unknown>, values: string[]) {
  const pipeline = pipelineOf(extra, schema);
  const planned = planPipeline(pipeline.stream.operators, 'append', pipeline.source.schema);
  let groups = [
    {
      partition: 't-0',
      rows: values.map(
        (value, offset): Row => ({
          key: null,
          value,
          topic: 't',
          partition: 0,
          offset,
          timestamp: new Date(1_700_000_000_000 + offset),
          headers: {},
        }),
      ),
    },
  ];
  const letters: (DeadLetter & { operator: string })[] = [];
  for (const op of planned.operators) {
    groups = await op.process(groups, {
      batchId: 0,
      batchTimestampMs: 0,
      watermarkMs: 0,
      state: undefined,
      metrics: { numRowsDroppedByWatermark: 0, numDeadLetters: 0, custom: {} },
      deadLetter: (l) => letters.push({ ...l, operator: op.id }),
      proposeWatermark: () => {},
    });
  }
  return { rows: groups.flatMap((g) => g.rows), letters, schema: planned.schema! };
}

describe('ingest transforms', () => {
  it('cast, rename, derive and select, with the coordinates selectable', async () => {
    const { rows, letters, schema } = await runRows(
      {
        transforms: [
          { cast: { ts: 'timestamp', qty: 'integer', price: 'decimal(6,2)', flag: 'boolean' } },
          { rename: { name: 'customer' } },
          { derive: { name: 'day', fn: 'date', column: 'ts' } },
          { derive: { name: 'hour', fn: 'hour', column: 'ts' } },
          { derive: { name: 'loud', fn: 'upper', column: 'customer' } },
          { derive: { name: 'ref', fn: 'concat', columns: ['customer', 'qty'], separator: '#' } },
          {
            select: [
              'customer',
              'qty',
              'price',
              'flag',
              'ts',
              'day',
              'hour',
              'loud',
              'ref',
              'kafka.offset as src_offset',
              'kafka.topic as src_topic',
            ],
          },
        ],
      },
      { name: 'string', ts: 'long', qty: 'string', price: 'string', flag: 'string' },
      [
        JSON.stringify({ name: 'ann', ts: Date.UTC(2025, 2, 1, 23, 30), qty: '7', price: '12.5', flag: 'yes' }),
        JSON.stringify({ name: 'bob', ts: Date.UTC(2025, 2, 2, 1, 0), qty: 'seven', price: '1', flag: 'no' }),
        JSON.stringify({ name: 'cy', ts: Date.UTC(2025, 2, 2, 1, 0), qty: '1', price: '1.234', flag: 'no' }),
        JSON.stringify({ name: null, ts: null, qty: null, price: null, flag: null }),
        'not json',
      ],
    );
    expect(schema.fields.map((f) => `${f.name}:${String(f.type)}`)).toEqual([
      'customer:string',
      'qty:integer',
      'price:decimal(6,2)',
      'flag:boolean',
      'ts:timestamp',
      'day:date',
      'hour:integer',
      'loud:string',
      'ref:string',
      'src_offset:long',
      'src_topic:string',
    ]);
    expect(rows).toEqual([
      {
        customer: 'ann',
        qty: 7,
        price: '12.5',
        flag: true,
        ts: new Date(Date.UTC(2025, 2, 1, 23, 30)),
        day: '2025-03-01',
        hour: 23,
        loud: 'ANN',
        ref: 'ann#7',
        src_offset: 0,
        src_topic: 't',
      },
      {
        customer: null,
        qty: null,
        price: null,
        flag: null,
        ts: null,
        day: null,
        hour: null,
        loud: null,
        ref: '',
        src_offset: 3,
        src_topic: 't',
      },
    ]);
    expect(letters.map((l) => [l.operator, l.reason, deadLetterOrigin(l.row).offset])).toEqual([
      [
        '1-parseJson',
        "column 'value' is not valid JSON (Unexpected token 'o', \"not json\" is not valid JSON): not json",
        4,
      ],
      ['2-cast', 'transforms[0].cast: column \'qty\': "seven" is not an integer (cast to integer)', 1],
      ['2-cast', 'transforms[0].cast: column \'price\': "1.234" is not a decimal(6,2) (cast to decimal(6,2))', 2],
    ]);
    // Every dead letter keeps its source coordinates and raw value.
    expect(deadLetterOrigin(letters[1]!.row)).toMatchObject({
      topic: 't',
      partition: 0,
      offset: 1,
      value: expect.stringContaining('"seven"'),
    });
  });

  it('finalize turns values the writer would refuse into dead letters', async () => {
    const { rows, letters } = await runRows(
      {
        format: {
          type: 'json',
          schema: {
            type: 'struct',
            fields: [
              { name: 'id', type: 'string', nullable: false, metadata: {} },
              { name: 'price', type: 'decimal(4,2)', nullable: true, metadata: {} },
            ],
          },
        },
      },
      {},
      [
        JSON.stringify({ id: 'a', price: 12.5 }),
        JSON.stringify({ price: 1 }),
        JSON.stringify({ id: 'c', price: '1.234' }),
      ],
    );
    expect(rows).toEqual([{ id: 'a', price: '12.5' }]);
    expect(letters.map((l) => [l.operator, l.reason.split(':')[0]])).toEqual([
      ['2-finalize', "column 'id' is null, but the schema declares it non-nullable"],
      ['2-finalize', "column 'price' cannot be written"],
    ]);
  });

  it('format string keeps the value as a column', async () => {
    const pipeline = pipelineOf({ format: { type: 'string' } }, {});
    expect(pipeline.outputSchema.fields.map((f) => f.name)).toEqual(['value']);
  });
});

describe('the dedup pipeline on columns', () => {
  // The serial pipeline with dedup and no transforms (kafkaRecord → parseJson keeping the coordinates →
  // dedup check → withWatermark → dropDuplicatesWithinWatermark → finalize) run by the engine over
  // Kafka-shaped rows, with columns (parseJson scanning into typed columns, the coordinates only on
  // rows made for dead letters) and without (writeStream's `columnar: false`).
  const SCHEMA = { event_id: 'string', user_id: 'long', amount: 'double', ok: 'boolean', ts: 'timestamp' };
  const PER_PARTITION = 1_200;

  /** Each partition's values: events (ids reused, some late) with malformed and edge-case records mixed in. */
  function values(): (string | null)[][] {
    const rand = prng(5);
    const t0 = Date.UTC(2025, 4, 1);
    return [0, 1].map((p) => {
      const out: (string | null)[] = [];
      for (let i = 0; i < PER_PARTITION; i++) {
        const at = new Date(t0 + i * 2_000 - (rand() < 0.05 ? 400_000 : 0)).toISOString();
        const id = `e${Math.floor(rand() * 700)}`;
        const r = rand();
        if (r < 0.01) out.push('not json');
        else if (r < 0.02) out.push(null);
        // No event time: a dead letter of withWatermark.
        else if (r < 0.03) out.push(JSON.stringify({ event_id: id, ts: null }));
        // A zone offset: the scanner declines it, the row path takes it.
        else if (r < 0.04) out.push(JSON.stringify({ event_id: id, ts: at.replace('Z', '+00:00') }));
        // A lone surrogate: finalize refuses it (on columns, its group takes the row path).
        else if (r < 0.042) out.push(`{"event_id":"lone\\ud800","ts":"${at}"}`);
        else out.push(JSON.stringify({ event_id: id, user_id: i * 7 + p, amount: rand() * 100, ok: r < 0.5, ts: at }));
      }
      return out;
    });
  }

  async function run(columnar: boolean) {
    const pipeline = pipelineOf(
      { dedup: { keys: ['event_id'], watermark: { column: 'ts', delay: '2 minutes' } } },
      SCHEMA,
    );
    const records = values();
    const source = new GeneratorSource({
      partitions: 2,
      rowsPerPartition: PER_PARTITION,
      maxRowsPerTrigger: 500,
      generate: (partition, offset): Row => ({
        key: null,
        value: records[partition]![offset]!,
        topic: 't',
        partition,
        offset,
        timestamp: new Date(1_700_000_000_000 + offset),
        headers: {},
      }),
      name: 'kafka-shaped',
    });
    const table = new MemoryObjectStore('table');
    const checkpoint = new MemoryObjectStore('checkpoint');
    const delta = deltaSink(table, { schema: pipeline.outputSchema });
    const counting = countingColumns(delta);
    const sink = counting.sink;
    const query = await readStream(source, { schema: pipeline.source.schema })
      .pipe(...pipeline.stream.operators)
      .writeStream(sink, {
        checkpointLocation: checkpoint,
        stateStore: new MemoryStateStoreProvider(),
        trigger: Trigger.availableNow(),
        clock: new ManualClock(Date.UTC(2025, 4, 1)),
        progressBar: false,
        columnar,
      });
    await query.awaitTermination();
    await pipeline.close();
    const text = (r: Row) => JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? String(v) : v));
    const rows = (await (await DeltaTable.open(table)).scanRows()).map(text).sort();
    const letters = (await new ObjectStoreDeadLetters(checkpoint, 'dead-letters/').readAll()).map((l) => ({
      ...l,
      queryId: undefined,
      origin: deadLetterOrigin(l.row as Row),
    }));
    return { rows, letters, columnBatches: counting.columnBatches() };
  }

  it('writes the rows and dead letters (with their source coordinates) of the row path', async () => {
    const rows = await run(false);
    const columns = await run(true);
    expect(rows.columnBatches).toBe(0);
    expect(columns.columnBatches).toBeGreaterThan(0);
    expect(columns.rows.length).toBeGreaterThan(500);
    expect(columns.rows).toEqual(rows.rows);
    expect(
      new Set(columns.letters.map((l) => String((l as Record<string, unknown>).operator).replace(/^\d+-/, ''))),
    ).toEqual(new Set(['parseJson', 'withWatermark', 'finalize']));
    expect(columns.letters).toEqual(rows.letters);
    for (const l of columns.letters) expect([l.origin.topic, typeof l.origin.offset]).toEqual(['t', 'number']);
  });
});

describe('DeltaDeadLetters', () => {
  it('appends each batch once (txn <queryId>-dlq, batchId), with the source coordinates', async () => {
    const path = join(dir, 'dlq');
    const letter = (offset: number) => ({
      batchId: 3,
      queryId: 'q',
      operator: '1-parseJson',
      partition: 't-0',
      reason: 'bad',
      row: { value: `raw-${offset}`, topic: 't', partition: 0, offset, timestamp: new Date(1000), key: null },
    });
    const sink = new DeltaDeadLetters(path);
    await sink.open({ queryId: 'q' });
    await sink.write(3, [letter(10), letter(11)]);
    await sink.write(3, [letter(10), letter(11)]); // a replay
    await sink.write(4, []);
    await sink.close();
    const reopened = new DeltaDeadLetters(path);
    await reopened.open({ queryId: 'q' });
    await reopened.write(3, [letter(10), letter(11)]); // a replay after a restart
    const table = await DeltaTable.open(new LocalObjectStore(path));
    expect(table.snapshot().schema).toEqual(DEAD_LETTER_SCHEMA);
    expect(await table.txnVersion('q-dlq')).toBe(3);
    expect(table.snapshot().version).toBe(1);
    const rows = (await table.scanRows()).sort((a, b) => Number(a.offset) - Number(b.offset));
    expect(rows).toEqual([
      {
        batch_id: 3n,
        operator: '1-parseJson',
        reason: 'bad',
        topic: 't',
        partition: 0,
        offset: 10n,
        value: 'raw-10',
        timestamp: 1_000_000n,
      },
      {
        batch_id: 3n,
        operator: '1-parseJson',
        reason: 'bad',
        topic: 't',
        partition: 0,
        offset: 11n,
        value: 'raw-11',
        timestamp: 1_000_000n,
      },
    ]);
  });
});
