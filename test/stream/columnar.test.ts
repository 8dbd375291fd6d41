// The columnar path of the engine (parseJson straight into typed columns, withWatermark and
// dropDuplicatesWithinWatermark on the columns, the Delta sink encoding them) against the row path of
// the same query (writeStream's `columnar: false`): for a corpus of ordinary records mixed with every
// kind of edge case, over several partitions and many batches, the tables hold the same rows in
// byte-identical data files with the same statistics, the dead letters are the same (reasons and
// rows), and every batch's progress is the same.

import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { deltaSink } from '../../sinks/delta/stream-sink.js';
import { DeltaTable } from '../../sinks/delta/table.js';
import { MemoryStateStoreProvider } from '../../state/memory-store.js';
import { MemoryObjectStore } from '../../storage/memory.js';
import { ManualClock } from '../../stream/clock.js';
import { ObjectStoreDeadLetters } from '../../stream/dead-letters.js';
import type { OperatorSpec } from '../../stream/operator.js';
import { dropDuplicatesWithinWatermark, parseJson, withWatermark } from '../../stream/operators/index.js';
import type { StreamingQueryProgress } from '../../stream/progress.js';
import { GeneratorSource } from '../../stream/sources/generator.js';
import { Trigger } from '../../stream/trigger.js';
import type { Row } from '../../stream/types.js';
import { readStream } from '../../stream/write-stream.js';
import { countingColumns } from '../kit/counting-sink.js';
import { FLAT_SCHEMA, field } from '../kit/flat-schema.js';
import { prng } from '../kit/prng.js';

const SCHEMA = FLAT_SCHEMA;
const T0 = Date.parse('2024-05-01T00:00:00Z');
const PARTITIONS = 3;
const PER_PARTITION = 1_500;

/** Edge-case records (text, or bytes for the Uint8Array cases): each one declines the scanner or tests a value. */
function edgeCases(ts: string): (string | Uint8Array | null)[] {
  return [
    '{"id":"a-1"', // not JSON
    '[1,2]',
    '"text"',
    `{"id":"nots","ts":null}`, // null event time: a dead letter of withWatermark
    `{"id":"nots2"}`,
    `{"id":"badts","ts":"yesterday"}`,
    `{"id":"off","ts":"2024-05-01T02:00:00.5+02:00","n":1}`, // zone offset: the string path
    `{"id":"é-ü","ts":"${ts}"}`, // non-ASCII key
    `{"id":"nul\\u0000x","ts":"${ts}"}`, // an escaped NUL in a key
    `{"id":"esc\\"q","ts":"${ts}","score":1e300}`,
    `{"i\\u0064":"escaped-key","ts":"${ts}"}`, // an escaped field name: declined
    `{"id":"dup","id":"dup2","ts":"${ts}"}`, // a duplicate key: declined, the row path decides
    `{"id":7,"ts":"${ts}"}`, // a number for a string column
    `{"id":"num","n":"5","ts":"${ts}"}`,
    `{"id":"frac","n":1.5,"ts":"${ts}"}`,
    `{"id":"big","n":9007199254740993,"ts":"${ts}"}`,
    `{"id":"int","small":2147483648,"ts":"${ts}"}`,
    `{"id":"neg","n":-0,"score":-0.0,"ts":"${ts}"}`,
    `{"id":"bool","ok":"true","ts":"${ts}"}`,
    `{"id":"nest","extra":{"a":[1,{"b":null}]},"ts":"${ts}"}`,
    `  {"ts":"${ts}" , "id" : "ws" }  `,
    `{"id":"day","day":"2024-02-29","ts":"${ts}"}`,
    `{"id":"badday","day":"2024-02-30","ts":"${ts}"}`,
    `{"id":"old","ts":"1969-12-31T23:59:59.9995Z"}`, // before the epoch: a late row
    `{"id":"surrogate-pair-🙂","ts":"${ts}"}`,
    null, // a null value: a dead letter of parseJson
    new Uint8Array([0x7b, 0x22, 0x69, 0x64, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]), // invalid UTF-8
    new TextEncoder().encode(`{"id":"bytes","ts":"${ts}","n":42}`),
  ];
}

/** Each partition's records: ordinary events (ids reused, event times jittered, some late) with edge cases mixed in. */
function corpus(): (string | Uint8Array | null)[][] {
  const rand = prng(99);
  const parts: (string | Uint8Array | null)[][] = [];
  for (let p = 0; p < PARTITIONS; p++) {
    const out: (string | Uint8Array | null)[] = [];
    let clock = T0;
    while (out.length < PER_PARTITION) {
      clock += Math.floor(rand() * 4_000);
      const jitter = rand() < 0.05 ? Math.floor(rand() * 600_000) : Math.floor(rand() * 5_000);
      // Half with microseconds: event time truncates them to ms (the watermark shows it).
      const ms = new Date(clock - jitter).toISOString();
      const ts = rand() < 0.5 ? ms.replace('Z', `${String(Math.floor(rand() * 1000)).padStart(3, '0')}Z`) : ms;
      if (rand() < 0.04) {
        const cases = edgeCases(ts);
        out.push(cases[Math.floor(rand() * cases.length)]!);
        continue;
      }
      // Partition 2's later half writes zone offsets: mostly declined, so its groups take the row path.
      const tsText = p === 2 && out.length > PER_PARTITION / 2 ? ts.replace('Z', '+00:00') : ts;
      const event: Record<string, unknown> = {
        id: `e${Math.floor(rand() * 900)}`,
        n: Math.floor(rand() * 1e6),
        score: rand() * 100,
        ok: rand() < 0.5,
        small: Math.floor(rand() * 1000) - 500,
        ts: tsText,
        day: tsText.slice(0, 10),
      };
      if (rand() < 0.1) event.score = null;
      if (rand() < 0.05) delete event.n;
      out.push(JSON.stringify(event));
    }
    parts.push(out);
  }
  return parts;
}

interface Outcome {
  rows: Row[];
  /** The data files of each commit (the SHA-256 of their bytes, their stats), in commit order. */
  files: { sha256: string; stats: string | undefined; records: number }[][];
  letters: unknown[];
  progress: unknown[];
  columnBatches: number;
}

async function run(operators: OperatorSpec[], columnar: boolean, records = corpus()): Promise<Outcome> {
  const table = new MemoryObjectStore('table');
  const checkpoint = new MemoryObjectStore('checkpoint');
  const source = new GeneratorSource({
    partitions: PARTITIONS,
    rowsPerPartition: PER_PARTITION,
    maxRowsPerTrigger: 700,
    generate: (partition, offset) => ({ value: records[partition]![offset] }),
    name: 'corpus',
  });
  const delta = deltaSink(table, { maxParallelFiles: 2, minRowsPerFile: 64 });
  const counting = countingColumns(delta);
  const sink = counting.sink;
  const progress: StreamingQueryProgress[] = [];
  const query = await readStream(source, { schema: { type: 'struct', fields: [field('value', 'string')] } })
    .pipe(...operators)
    .writeStream(sink, {
      checkpointLocation: checkpoint,
      stateStore: new MemoryStateStoreProvider(),
      trigger: Trigger.availableNow(),
      clock: new ManualClock(T0),
      progressBar: false,
      columnar,
      onProgress: (p) => progress.push(p),
    });
  await query.awaitTermination();
  const opened = await DeltaTable.open(table);
  const snapshot = opened.snapshot();
  const files: Outcome['files'] = [];
  for (let version = 1; version <= snapshot.version; version++) {
    const log = new TextDecoder().decode(await table.get(`_delta_log/${String(version).padStart(20, '0')}.json`));
    const adds = log
      .split('\n')
      .filter((line) => line.startsWith('{"add"'))
      .map((line) => (JSON.parse(line) as { add: { path: string; stats?: string } }).add);
    files.push(
      await Promise.all(
        adds.map(async (add) => ({
          sha256: createHash('sha256')
            .update(await table.get(add.path))
            .digest('hex'),
          stats: add.stats,
          records: JSON.parse(add.stats ?? '{}').numRecords as number,
        })),
      ),
    );
  }
  const rows = await opened.scanRows();
  const key = (r: Row) => JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v));
  rows.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  const letters = await new ObjectStoreDeadLetters(checkpoint, 'dead-letters/').readAll();
  return {
    rows,
    files,
    letters: letters.map((l) => ({ ...l, queryId: undefined })),
    progress: progress.map((p) => ({
      batchId: p.batchId,
      numInputRows: p.numInputRows,
      watermark: p.eventTime,
      numDeadLetters: p.numDeadLetters,
      sink: { numOutputRows: p.sink.numOutputRows, outcome: p.sink.outcome, tableVersion: p.sink.tableVersion },
      state: p.stateOperators.map((s) => ({ ...s, commitTimeMs: undefined })),
    })),
    columnBatches: counting.columnBatches(),
  };
}

describe('the columnar path', () => {
  it('parseJson → withWatermark → dropDuplicatesWithinWatermark → Delta: the same table, files, dead letters and progress as rows', async () => {
    const ops = () => [parseJson(SCHEMA), withWatermark('ts', '2 minutes'), dropDuplicatesWithinWatermark(['id'])];
    const rows = await run(ops(), false);
    const columns = await run(ops(), true);
    expect(rows.columnBatches).toBe(0);
    expect(columns.columnBatches).toBe(columns.progress.length);
    expect(columns.rows.length).toBeGreaterThan(1_000);
    expect(columns.rows).toEqual(rows.rows);
    expect(columns.letters.length).toBeGreaterThan(20);
    expect(columns.letters).toEqual(rows.letters);
    expect(columns.progress).toEqual(rows.progress);
    // Late rows and duplicates were dropped, keys evicted: the run covers the operators' paths.
    const custom = (o: Outcome) =>
      (o.progress as { state: { customMetrics: Record<string, number> }[] }[]).flatMap((p) => p.state);
    expect(custom(columns).some((s) => (s.customMetrics.numKeysEvicted ?? 0) > 0)).toBe(true);
    expect(custom(columns).some((s) => (s.customMetrics.numDuplicatesDropped ?? 0) > 0)).toBe(true);
    expect(columns.files).toEqual(rows.files);
  });

  it('keys on two columns, and parseJson alone: the same outcome as rows', async () => {
    for (const ops of [
      () => [parseJson(SCHEMA), withWatermark('ts', '1 minute'), dropDuplicatesWithinWatermark(['id', 'ok'])],
      () => [parseJson(SCHEMA)],
    ]) {
      const rows = await run(ops(), false);
      const columns = await run(ops(), true);
      expect(columns.columnBatches).toBe(columns.progress.length);
      expect(columns.rows).toEqual(rows.rows);
      expect(columns.letters).toEqual(rows.letters);
      expect(columns.progress).toEqual(rows.progress);
      expect(columns.files).toEqual(rows.files);
    }
  });

  it('a value the writer refuses (a lone surrogate) fails the batch as on the row path', async () => {
    for (const bad of [
      '{"id":"lone\\ud800","ts":"2024-05-01T00:00:00Z"}',
      '{"id":"lone\ud800raw","ts":"2024-05-01T00:00:00Z"}',
    ]) {
      const records = corpus();
      records[1]![5] = bad;
      for (const columnar of [false, true]) {
        await expect(run([parseJson(SCHEMA)], columnar, records)).rejects.toMatchObject({ code: 'INVALID_DATA' });
      }
    }
  });

  it('parseJson keeping a source column hands the sink rows when nothing after it drops that column', async () => {
    // Its batches hold the parsed columns only (the kept ones are on rows): planning must not take them.
    const text = corpus().map((part) => part.map((v) => (v instanceof Uint8Array ? new TextDecoder().decode(v) : v)));
    const outcome = await run([parseJson(SCHEMA, { keep: ['value'] })], true, text);
    expect(outcome.columnBatches).toBe(0);
    expect(outcome.rows.length).toBeGreaterThan(1_000);
    expect(outcome.rows.every((r) => typeof r.value === 'string')).toBe(true);
  });

  it('keeps rows where an operator after parseJson does not take columns (a timestamp key)', async () => {
    const ops = [parseJson(SCHEMA), withWatermark('ts', '1 minute'), dropDuplicatesWithinWatermark(['id', 'ts'])];
    const outcome = await run(ops, true);
    expect(outcome.columnBatches).toBe(0);
  });
});
