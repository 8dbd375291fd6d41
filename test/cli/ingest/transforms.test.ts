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
import { DeltaTable } from '../../../sinks/delta/table.js';
import { LocalObjectStore } from '../../../storage/local.js';
import type { DeadLetter } from '../../../stream/operator.js';
import { planPipeline } from '../../../stream/plan.js';
import type { Row } from '../../../stream/types.js';

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
