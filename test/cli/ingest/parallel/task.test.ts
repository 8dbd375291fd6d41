// runStage's columnar path (JSON bytes scanned straight into columns) against its row path (the
// serial operators: kafkaRecord → parseJson → finalize, then encodeForPlan) on the same records:
// byte-identical Parquet files and add.stats, the same dead letters (offset, reason, operator), the
// same row count — with valid events, malformed ones, tombstones and JSON edge cases mixed in.

import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../../cli/ingest/config.js';
import { splitRecords } from '../../../../cli/ingest/parallel/stage.js';
import { columnarSchema, runStage, type StageTask } from '../../../../cli/ingest/parallel/task.js';
import { buildPipeline } from '../../../../cli/ingest/pipeline.js';
import { loadSnapshot } from '../../../../sinks/delta/load-snapshot.js';
import { DeltaTable } from '../../../../sinks/delta/table.js';
import { DeltaTransaction } from '../../../../sinks/delta/transaction.js';
import { MemoryObjectStore } from '../../../../storage/memory.js';
import type { Row, RowGroup } from '../../../../stream/types.js';
import { events } from '../events.js';

const SCHEMA = {
  event_id: 'string',
  user_id: 'long',
  channel: 'string',
  amount: 'double',
  qty: 'integer',
  flag: 'boolean',
  event_time: 'timestamp',
  day: 'date',
} as const;

/** Records the columnar path must decline or decode with care; each beside valid events. */
const EDGE_CASES: (string | null)[] = [
  null, // a tombstone
  '{"event_id":"esc","channel":"a\\"b\\\\c\\/d\\n\\t\\u00e9\\ud83d\\ude00","user_id":1}',
  '{"event_id":"lone","channel":"\\ud800","user_id":1}',
  '{"event_id":"utf8","channel":"héllo wörld ✓ 😀","user_id":2}',
  '{"event_id":"num-as-string","channel":12.50,"user_id":3}',
  '{"event_id":"bool-as-string","channel":true,"user_id":4}',
  '{"event_id":"obj-as-string","channel":{"a":1},"user_id":5}',
  '{"event_id":"empty-long","user_id":"","amount":""}',
  '{"event_id":"float-long","user_id":1.0,"qty":2e1}',
  '{"event_id":"frac-long","user_id":1.5}',
  '{"event_id":"big-long","user_id":123456789012345678}',
  '{"event_id":"neg-zero","user_id":-0,"amount":-0}',
  '{"event_id":"qty-range","qty":2147483648}',
  '{"event_id":"dup","user_id":1,"user_id":2}',
  '{"event_id":"offset","event_time":"2025-01-15T10:00:00+05:30"}',
  '{"event_id":"nanos","event_time":"2025-01-15T10:00:00.123456789Z"}',
  '{"event_id":"nanos-zero","event_time":"2025-01-15T10:00:00.123456000Z"}',
  '{"event_id":"bad-day","day":"2024-02-30"}',
  '{"event_id":"day","day":"2024-02-29","flag":false}',
  '{"event_id":"flag-string","flag":"true"}',
  '  {  "event_id" : "spaces" ,\n\t"user_id" : 7 , "extra" : [1, {"x": [null, true, "\\u0041"]}] }  ',
  '{"event_id":"trailing"} x',
  '{"event_id":"truncated"',
  '["event_id"]',
  '{}',
  '{"user_id":9}',
  '{"event_id":null}',
  '{"event_id":"leading-zero","user_id":01}',
  '{"event_id":"k\\u0065y","\\u0075ser_id":5}',
  '{"event_id":"bad \u0001 control"}',
  '{"event_id":"bad-escape \\x"}',
];

/** Records per Kafka partition: test events with the edge cases spread among them. */
function records(count: number, partitions: number): (string | null)[][] {
  const out: (string | null)[][] = Array.from({ length: partitions }, () => []);
  let i = 0;
  let edge = 0;
  for (const e of events(count, partitions)) {
    const value = JSON.parse(e.malformed ? '{}' : e.value) as Record<string, unknown>;
    if (!e.malformed) {
      value.qty = i % 50;
      value.flag = i % 3 === 0;
      value.day = (value.event_time as string).slice(0, 10);
    }
    out[e.partition]!.push(e.malformed ? e.value : JSON.stringify(value));
    if (++i % 97 === 0) out[e.partition]!.push(EDGE_CASES[edge++ % EDGE_CASES.length]!);
  }
  return out;
}

async function taskOf(values: (string | null)[][], targetFileSize?: string): Promise<StageTask> {
  const config = resolveConfig(
    {
      name: 'columnar',
      checkpoint: './checkpoint',
      kafka: { brokers: ['127.0.0.1:1'], topics: ['t'] },
      format: { type: 'json', schema: SCHEMA },
      target: { delta: { path: './table' } },
      workers: 2,
    },
    { file: '/tmp/columnar/pipeline.json', baseDir: '/tmp/columnar', env: {} },
  );
  const pipeline = buildPipeline(config);
  expect(pipeline.sourceOptions.undecodedText).toBe(true);
  const store = new MemoryObjectStore();
  if (config.format.type !== 'json') throw new Error('json expected');
  await DeltaTable.create(store, { schema: config.format.schema });
  const tx = new DeltaTransaction(store, await loadSnapshot(store));
  const plan = tx.encodingPlan(targetFileSize ? { targetFileSize: Number(targetFileSize) } : {});
  const groups: RowGroup[] = values.map((list, p) => ({
    partition: `t-${p}`,
    rows: list.map(
      (v, offset): Row => ({
        key: offset % 5 === 0 ? Buffer.from(`k${offset}`) : null,
        value: v === null ? null : Buffer.from(v, 'utf8'),
        topic: 't',
        partition: p,
        offset,
        timestamp: new Date(Date.UTC(2025, 0, 15) + offset),
        headers: {},
      }),
    ),
  }));
  const [chunks] = splitRecords(groups, 1);
  await pipeline.close();
  return {
    stage: { format: config.format, transforms: [], sourceSchema: pipeline.source.schema },
    plan,
    batchId: 3,
    batchTimestampMs: Date.UTC(2025, 0, 16),
    watermarkMs: 0,
    chunks: chunks!,
  };
}

describe('runStage columnar path', () => {
  it('writes the files, stats and dead letters of the row path, taking most records by the scanner', async () => {
    const task = await taskOf(records(4000, 3));
    expect(columnarSchema(task)).toBeDefined();
    const columnar = await runStage(task);
    const rows = await runStage(task, { columnar: false });
    const total = task.chunks.reduce((n, c) => n + c.offsets.length, 0);
    expect(rows.scanned).toBe(0);
    expect(columnar.scanned).toBeGreaterThan(total * 0.95);
    expect(columnar.numRows).toBe(rows.numRows);
    // Letters come in record order from the columnar path, operator by operator from the row path.
    const sorted = (letters: typeof rows.letters) =>
      [...letters].sort((a, b) => a.partition.localeCompare(b.partition) || a.offset - b.offset);
    expect(sorted(columnar.letters)).toEqual(sorted(rows.letters));
    expect(columnar.letters.length).toBeGreaterThan(30);
    expect(columnar.files.length).toBe(1);
    expect(columnar.files.map((f) => f.stats)).toEqual(rows.files.map((f) => f.stats));
    expect(columnar.files.map((f) => f.numRecords)).toEqual(rows.files.map((f) => f.numRecords));
    expect(Buffer.from(columnar.files[0]!.bytes).equals(Buffer.from(rows.files[0]!.bytes))).toBe(true);
  });

  it('cuts files near the target size', async () => {
    const task = await taskOf(records(3000, 2), String(64 * 1024));
    const columnar = await runStage(task);
    const rows = await runStage(task, { columnar: false });
    expect(columnar.files.length).toBeGreaterThan(1);
    const sum = (files: typeof rows.files) => files.reduce((n, f) => n + f.numRecords, 0);
    expect(sum(columnar.files)).toBe(sum(rows.files));
    expect(sum(columnar.files)).toBe(columnar.numRows);
    for (const f of columnar.files) expect(JSON.parse(f.stats).numRecords).toBe(f.numRecords);
  });

  it('gives way to the row path when most records need it', async () => {
    const task = await taskOf([Array.from({ length: 2000 }, (_, i) => `{"event_id":"e${i}","user_id":"${i}"}`)]);
    const columnar = await runStage(task);
    expect(columnar.scanned).toBe(0);
    expect(columnar.letters.length).toBe(2000);
    expect(columnar).toEqual(await runStage(task, { columnar: false }));
  });
});
