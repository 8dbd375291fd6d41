// Tests of the streaming DeltaSink on real tables (LocalObjectStore in temp dirs): append, complete and
// update (MERGE by a window struct + string key) with replays, txn in the log, empty batches, schema
// inference for deferred creation, partition pruning of update commits, crash/replay with
// FaultyObjectStore (before the log put, after a durable but unacknowledged put, commit retried on
// the same prepared batch), and delta-rs reading an update-mode table.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Action, AddAction, CommitInfoAction, RemoveAction } from '../../../sinks/delta/actions.js';
import { readCommit } from '../../../sinks/delta/load-snapshot.js';
import { DeltaSink, deltaSink, inferTableSchema } from '../../../sinks/delta/stream-sink.js';
import { DeltaTable } from '../../../sinks/delta/table.js';
import { ColumnBatch } from '../../../sinks/parquet/column-batch.js';
import type { DataType, StructType } from '../../../sinks/schema.js';
import { FaultyObjectStore } from '../../../storage/faulty.js';
import { LocalObjectStore } from '../../../storage/local.js';
import type { SinkCommitOutcome, SinkContext } from '../../../stream/sink.js';
import { pythonReaders } from '../../kit/capabilities.js';
import { requireCapability } from '../../kit/capability.js';
import { PythonSession } from '../../kit/python.js';

const cap = await requireCapability(pythonReaders);

const f = (name: string, type: DataType, nullable = true) => ({ name, type, nullable, metadata: {} });
type Row = Record<string, unknown>;

const root = mkdtempSync(join(tmpdir(), 'lakestream-delta-sink-'));
let counter = 0;
const freshDir = () => join(root, `t${counter++}`);
afterAll(() => rmSync(root, { recursive: true, force: true }));

function context(over: Partial<SinkContext> = {}): SinkContext {
  return {
    queryId: 'query-1',
    outputMode: 'append',
    keyColumns: [],
    schema: undefined,
    now: Date.now,
    warn: () => {},
    ...over,
  };
}

/** prepare + commit of one batch. */
async function run(sink: DeltaSink, batchId: number, rows: Row[]): Promise<SinkCommitOutcome> {
  return sink.commit(await sink.prepare({ batchId, rows }));
}

const infoOf = (actions: Action[] | undefined) =>
  (actions ?? []).flatMap((a) => ('commitInfo' in a ? [a.commitInfo] : []))[0] as CommitInfoAction;
const removesOf = (actions: Action[] | undefined): RemoveAction[] =>
  (actions ?? []).flatMap((a) => ('remove' in a ? [a.remove] : []));
const addsOf = (actions: Action[] | undefined): AddAction[] =>
  (actions ?? []).flatMap((a) => ('add' in a ? [a.add] : []));
const txnsOf = (actions: Action[] | undefined) => (actions ?? []).flatMap((a) => ('txn' in a ? [a.txn] : []));

const eventSchema: StructType = { type: 'struct', fields: [f('id', 'long'), f('name', 'string')] };
const events = (from: number, n: number) =>
  Array.from({ length: n }, (_, i) => ({ id: from + i, name: `e${from + i}` }));
async function ids(dir: string): Promise<number[]> {
  const table = await DeltaTable.open(new LocalObjectStore(dir));
  return (await table.scanRows()).map((r) => Number(r.id)).sort((a, b) => a - b);
}
const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

const windowType: DataType = { type: 'struct', fields: [f('start', 'timestamp'), f('end', 'timestamp')] };
const countSchema: StructType = {
  type: 'struct',
  fields: [f('window', windowType), f('word', 'string'), f('count', 'long')],
};
const minute = (m: number) => ({
  start: new Date(Date.UTC(2024, 0, 1, 0, m)),
  end: new Date(Date.UTC(2024, 0, 1, 0, m + 1)),
});
const count = (m: number, word: string, n: number) => ({ window: minute(m), word, count: n });
const updateContext = (over: Partial<SinkContext> = {}) =>
  context({ outputMode: 'update', keyColumns: ['window', 'word'], schema: countSchema, ...over });

/** Table rows of countSchema as sorted "minute/word=count" strings. */
async function counts(dir: string): Promise<string[]> {
  const table = await DeltaTable.open(new LocalObjectStore(dir));
  return (await table.scanRows())
    .map((r) => {
      const w = r.window as { start: bigint; end: bigint };
      const start = new Date(Number(w.start / 1000n));
      expect(w.end - w.start).toBe(60_000_000n);
      return `${String(start.getUTCMinutes()).padStart(2, '0')}/${r.word}=${r.count}`;
    })
    .sort();
}

describe('DeltaSink append', () => {
  it('appends batches once, skips replays and empty batches, records txn(queryId, batchId)', async () => {
    const dir = freshDir();
    const sink = deltaSink(dir, { schema: eventSchema });
    await sink.open(context());
    expect(sink.description).toContain('Delta table at file://');

    expect(await run(sink, 0, events(0, 3))).toEqual({
      kind: 'committed',
      batchId: 0,
      version: 1,
      numRows: 3,
      numFiles: 1,
    });
    expect(await run(sink, 1, events(3, 2))).toMatchObject({ kind: 'committed', version: 2, numRows: 2 });
    expect(await run(sink, 2, [])).toEqual({ kind: 'skipped', batchId: 2 });
    expect(await run(sink, 3, events(5, 1))).toMatchObject({ kind: 'committed', version: 3 });

    // Replay of batch 1 (e.g. after a restart from an older checkpoint): nothing written.
    expect(await run(sink, 1, events(3, 2))).toEqual({ kind: 'already-committed', batchId: 1, version: 3 });
    expect(await ids(dir)).toEqual(range(0, 6));

    const store = new LocalObjectStore(dir);
    const table = await DeltaTable.open(store);
    expect(await table.txnVersion('query-1')).toBe(3);
    expect(table.snapshot().version).toBe(3);
    const actions = await readCommit(store, 2);
    expect(txnsOf(actions)).toMatchObject([{ appId: 'query-1', version: 1 }]);
    expect(infoOf(actions)).toMatchObject({
      operation: 'STREAMING UPDATE',
      operationParameters: { outputMode: 'Append', queryId: 'query-1', epochId: '1' },
      isBlindAppend: true,
    });
    await sink.close();
    await sink.close();
    await expect(sink.prepare({ batchId: 4, rows: [] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('creates the table from the query schema, or from the first rows when no schema is known', async () => {
    const declared = freshDir();
    const a = deltaSink(declared, { partitionBy: ['name'] });
    await a.open(context({ schema: eventSchema }));
    expect(a.table?.snapshot().schema).toEqual(eventSchema);
    expect(a.table?.snapshot().partitionColumns).toEqual(['name']);

    const inferred = freshDir();
    const b = deltaSink(inferred);
    await b.open(context());
    expect(b.table).toBeUndefined();
    expect(await run(b, 0, [])).toEqual({ kind: 'skipped', batchId: 0 });
    expect(b.table).toBeUndefined();
    await run(b, 1, [
      { id: 1, name: 'x', at: new Date(0), score: null, nested: { n: 1.5 } },
      { id: 2, name: null, at: null, score: null, nested: { n: 2 } },
    ]);
    expect(b.table?.snapshot().schema).toEqual({
      type: 'struct',
      fields: [
        f('id', 'long'),
        f('name', 'string'),
        f('at', 'timestamp'),
        f('score', 'string'),
        f('nested', { type: 'struct', fields: [f('n', 'double')] }),
      ],
    });
    expect(await ids(inferred)).toEqual([1, 2]);
    expect(() => inferTableSchema([{ m: new Map() }])).toThrow(expect.objectContaining({ code: 'INVALID_DATA' }));

    // An existing table with other partition columns is refused; createIfMissing: false needs a table.
    await expect(deltaSink(declared, { partitionBy: ['id'] }).open(context())).rejects.toThrow(
      /partitioned by \[name\]/,
    );
    await expect(deltaSink(freshDir(), { createIfMissing: false }).open(context())).rejects.toMatchObject({
      code: 'TABLE_NOT_FOUND',
    });
  });

  it('checkpoints every delta.checkpointInterval commits, as DeltaTable does', async () => {
    const dir = freshDir();
    const warnings: string[] = [];
    const sink = deltaSink(dir, { schema: eventSchema, properties: { 'delta.checkpointInterval': '2' } });
    await sink.open(context({ warn: (m) => warnings.push(m) }));
    for (let batch = 0; batch < 4; batch++) await run(sink, batch, events(batch, 1));
    const store = new LocalObjectStore(dir);
    const keys: string[] = [];
    for await (const meta of store.list({ prefix: '_delta_log/' })) keys.push(meta.key);
    expect(keys.filter((k) => k.endsWith('.checkpoint.parquet'))).toEqual([
      '_delta_log/00000000000000000002.checkpoint.parquet',
      '_delta_log/00000000000000000004.checkpoint.parquet',
    ]);
    expect(warnings).toEqual([]);
    expect(await ids(dir)).toEqual([0, 1, 2, 3]);
  });

  it('splits a large batch into files encoded in parallel (minRowsPerFile / maxParallelFiles)', async () => {
    const split = freshDir();
    const sink = deltaSink(split, { schema: eventSchema, minRowsPerFile: 100, maxParallelFiles: 3 });
    await sink.open(context());
    expect(await run(sink, 0, events(0, 1000))).toMatchObject({ kind: 'committed', numRows: 1000, numFiles: 3 });
    expect(await run(sink, 1, events(1000, 150))).toMatchObject({ kind: 'committed', numRows: 150, numFiles: 1 });
    const adds = addsOf(await readCommit(new LocalObjectStore(split), 1));
    expect(adds.map((a) => JSON.parse(a.stats as string).numRecords)).toEqual([334, 333, 333]);
    expect(await ids(split)).toEqual(range(0, 1150));
    await sink.close();

    const one = freshDir();
    const off = deltaSink(one, { schema: eventSchema, minRowsPerFile: 100, maxParallelFiles: 1 });
    await off.open(context());
    expect(await run(off, 0, events(0, 1000))).toMatchObject({ kind: 'committed', numFiles: 1 });
    await off.close();
  });

  it('refuses rows that do not fit the table, and evolves the schema with mergeSchema', async () => {
    const dir = freshDir();
    const strict = deltaSink(dir, { schema: eventSchema });
    await strict.open(context());
    await expect(strict.prepare({ batchId: 0, rows: [{ id: 'x', name: 'a' }] })).rejects.toMatchObject({
      code: 'SCHEMA_MISMATCH',
    });
    await expect(strict.prepare({ batchId: 0, rows: [{ id: 1, extra: true }] })).rejects.toMatchObject({
      code: 'SCHEMA_MISMATCH',
    });
    const evolving = deltaSink(dir, { mergeSchema: true });
    await evolving.open(context());
    await run(evolving, 0, [{ id: 1, name: 'a', extra: true }]);
    const table = await DeltaTable.open(new LocalObjectStore(dir));
    expect(table.snapshot().schema.fields.map((x) => x.name)).toEqual(['id', 'name', 'extra']);
  });
});

describe('DeltaSink append: rows in columns (SinkBatch.columns)', () => {
  /** The rows in a ColumnBatch of `schema`, as the engine hands them over (rowAt: the rows themselves). */
  const columnsOf = (schema: StructType, rows: Row[]) => {
    const batch = new ColumnBatch(schema, rows.length);
    for (const row of rows) batch.appendRow(row);
    return { batch, rowAt: (i: number) => rows[i]! };
  };
  const dataFiles = async (dir: string) => {
    const table = await DeltaTable.open(new LocalObjectStore(dir));
    return table.snapshot().files.length;
  };

  it('encodes columns of the table schema into the same files as the same rows; counts them', async () => {
    const rows = events(0, 300);
    const fromRows = freshDir();
    const sinkR = deltaSink(fromRows, { schema: eventSchema, minRowsPerFile: 100, maxParallelFiles: 2 });
    await sinkR.open(context());
    await run(sinkR, 0, rows);
    const fromColumns = freshDir();
    const sinkC = deltaSink(fromColumns, { schema: eventSchema, minRowsPerFile: 100, maxParallelFiles: 2 });
    await sinkC.open(context({ schema: eventSchema }));
    expect(sinkC.acceptsColumns(eventSchema)).toBe(true);
    const outcome = await sinkC.commit(
      await sinkC.prepare({ batchId: 0, rows: events(300, 2), columns: [columnsOf(eventSchema, rows)] }),
    );
    expect(outcome).toMatchObject({ kind: 'committed', numRows: 302 });
    expect(await ids(fromColumns)).toEqual(range(0, 302));
    // The columns' two parallel files, as writeFiles cuts the same rows, plus one file of the rows.
    expect(await dataFiles(fromRows)).toBe(2);
    expect(await dataFiles(fromColumns)).toBe(3);
    const statsOf = async (dir: string) =>
      (await DeltaTable.open(new LocalObjectStore(dir)))
        .snapshot()
        .files.map((a) => a.stats)
        .sort();
    for (const stats of await statsOf(fromRows)) expect(await statsOf(fromColumns)).toContain(stats);
    // A replay of the batch is already committed.
    const replay = await sinkC.prepare({ batchId: 0, rows: [], columns: [columnsOf(eventSchema, rows)] });
    expect(await sinkC.commit(replay)).toMatchObject({ kind: 'already-committed' });
  });

  it('writes the rows of columns that do not fit the table (another nullability), or with rows evolving it', async () => {
    const dir = freshDir();
    const sink = deltaSink(dir, { schema: eventSchema, mergeSchema: true });
    await sink.open(context({ schema: eventSchema }));
    const strict: StructType = { type: 'struct', fields: [f('id', 'long', false), f('name', 'string')] };
    expect(sink.acceptsColumns(strict)).toBe(false);
    await sink.commit(await sink.prepare({ batchId: 0, rows: [], columns: [columnsOf(strict, events(0, 5))] }));
    expect(await ids(dir)).toEqual(range(0, 5));
    // Rows that add a column (mergeSchema) with columns of the old schema: all written as rows.
    const outcome = await sink.commit(
      await sink.prepare({
        batchId: 1,
        rows: [{ id: 100, name: 'x', extra: true }],
        columns: [columnsOf(eventSchema, events(5, 5))],
      }),
    );
    expect(outcome).toMatchObject({ kind: 'committed', numRows: 6 });
    expect(await ids(dir)).toEqual([...range(0, 10), 100]);
    const table = await DeltaTable.open(new LocalObjectStore(dir));
    expect(table.snapshot().schema.fields.map((x) => x.name)).toEqual(['id', 'name', 'extra']);
  });

  it('takes no columns in complete mode, into a partitioned table, or before the table exists', async () => {
    const replaced = freshDir();
    const complete = deltaSink(replaced, { schema: eventSchema });
    await complete.open(context({ outputMode: 'complete', schema: eventSchema }));
    expect(complete.acceptsColumns(eventSchema)).toBe(false);
    // Columns handed over anyway are written as their rows.
    await complete.commit(
      await complete.prepare({ batchId: 0, rows: [], columns: [columnsOf(eventSchema, events(0, 3))] }),
    );
    expect(await ids(replaced)).toEqual(range(0, 3));
    const partitioned = freshDir();
    const byName = deltaSink(partitioned, { schema: eventSchema, partitionBy: ['name'] });
    await byName.open(context({ schema: eventSchema }));
    expect(byName.acceptsColumns(eventSchema)).toBe(false);
    const later = freshDir();
    const deferred = deltaSink(later);
    await deferred.open(context());
    expect(deferred.acceptsColumns(eventSchema)).toBe(false);
    await deferred.commit(
      await deferred.prepare({ batchId: 0, rows: [], columns: [columnsOf(eventSchema, events(0, 4))] }),
    );
    expect(await ids(later)).toEqual(range(0, 4));
  });
});

describe('DeltaSink complete', () => {
  it('replaces the table every batch (an empty result too) and skips replays', async () => {
    const dir = freshDir();
    const sink = deltaSink(dir, { schema: eventSchema });
    await sink.open(context({ outputMode: 'complete' }));
    expect(await run(sink, 0, events(0, 3))).toMatchObject({ kind: 'committed', version: 1, numRows: 3 });
    expect(await ids(dir)).toEqual([0, 1, 2]);
    expect(await run(sink, 1, events(10, 2))).toMatchObject({ kind: 'committed', version: 2 });
    expect(await ids(dir)).toEqual([10, 11]);
    expect(await run(sink, 1, events(99, 1))).toEqual({ kind: 'already-committed', batchId: 1, version: 2 });
    expect(await ids(dir)).toEqual([10, 11]);

    const store = new LocalObjectStore(dir);
    const actions = await readCommit(store, 2);
    expect(infoOf(actions)).toMatchObject({
      operation: 'STREAMING UPDATE',
      operationParameters: { outputMode: 'Complete', queryId: 'query-1', epochId: '1' },
      isBlindAppend: false,
    });
    expect(removesOf(actions)).toHaveLength(1);

    expect(await run(sink, 2, [])).toMatchObject({ kind: 'committed', version: 3, numRows: 0, numFiles: 0 });
    expect(await ids(dir)).toEqual([]);
    expect(await (await DeltaTable.open(store)).txnVersion('query-1')).toBe(2);
  });
});

describe('DeltaSink update', () => {
  it('merges by a window struct + string key, batch after batch', async () => {
    const dir = freshDir();
    const sink = deltaSink(dir);
    await sink.open(updateContext());

    expect(await run(sink, 0, [count(0, 'a', 1), count(0, 'b', 2)])).toMatchObject({
      kind: 'committed',
      version: 1,
      numRows: 2,
      numFiles: 1,
    });
    expect(await counts(dir)).toEqual(['00/a=1', '00/b=2']);

    await run(sink, 1, [count(0, 'a', 3), count(1, 'a', 1)]);
    expect(await counts(dir)).toEqual(['00/a=3', '00/b=2', '01/a=1']);

    await run(sink, 2, [count(1, 'a', 5), count(0, 'c', 1), count(0, 'b', 7)]);
    expect(await counts(dir)).toEqual(['00/a=3', '00/b=7', '00/c=1', '01/a=5']);

    expect(await run(sink, 3, [])).toEqual({ kind: 'skipped', batchId: 3 });
    expect(await run(sink, 2, [count(1, 'a', 99)])).toMatchObject({ kind: 'already-committed', batchId: 2 });
    expect(await counts(dir)).toEqual(['00/a=3', '00/b=7', '00/c=1', '01/a=5']);

    const store = new LocalObjectStore(dir);
    const info = infoOf(await readCommit(store, 3));
    expect(info).toMatchObject({
      operation: 'STREAMING UPDATE',
      operationParameters: { outputMode: 'Update', queryId: 'query-1', epochId: '2' },
      operationMetrics: { numSourceRows: '3', numTargetRowsUpdated: '2', numTargetRowsInserted: '1' },
    });
    expect(await (await DeltaTable.open(store)).txnVersion('query-1')).toBe(2);

    // Two rows with one key in a batch: INVALID_DATA naming the key; nothing is committed.
    const error = await sink.prepare({ batchId: 4, rows: [count(5, 'z', 1), count(5, 'z', 2)] }).catch((e) => e);
    expect(error).toMatchObject({ code: 'INVALID_DATA' });
    expect((error as Error).message).toMatch(/window=\{"start":"2024-01-01T00:05:00.000000Z".*word="z"/);
    expect((await DeltaTable.open(store)).snapshot().version).toBe(3);
  });

  it('needs key columns that the table has', async () => {
    await expect(deltaSink(freshDir()).open(updateContext({ keyColumns: [] }))).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/keyColumns is empty/),
    });
    await expect(deltaSink(freshDir()).open(updateContext({ keyColumns: ['nope'] }))).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/key column nope/),
    });
  });

  it('rewrites only the files of the touched partitions when the key contains the partition column', async () => {
    const schema: StructType = { type: 'struct', fields: [f('day', 'date'), f('key', 'string'), f('n', 'long')] };
    const dir = freshDir();
    const sink = deltaSink(dir, { schema, partitionBy: ['day'] });
    await sink.open(context({ outputMode: 'update', keyColumns: ['day', 'key'] }));
    const days = ['2024-03-01', '2024-03-02', '2024-03-03'];
    await run(
      sink,
      0,
      days.flatMap((day) => ['a', 'b'].map((key) => ({ day, key, n: 1 }))),
    );
    const store = new LocalObjectStore(dir);
    const firstAdds = addsOf(await readCommit(store, 1));
    expect(firstAdds).toHaveLength(3);

    const outcome = await run(sink, 1, [
      { day: '2024-03-02', key: 'b', n: 2 },
      { day: '2024-03-02', key: 'c', n: 1 },
    ]);
    expect(outcome).toMatchObject({ kind: 'committed', version: 2, numRows: 2, numFiles: 1 });
    const actions = await readCommit(store, 2);
    expect(removesOf(actions).map((r) => r.path)).toEqual(
      firstAdds.filter((a) => a.partitionValues.day === '2024-03-02').map((a) => a.path),
    );
    expect(addsOf(actions).map((a) => a.partitionValues)).toEqual([{ day: '2024-03-02' }]);
    expect(infoOf(actions).operationMetrics).toMatchObject({
      numTargetFilesBeforeSkipping: '3',
      numTargetFilesAfterSkipping: '1',
      numTargetFilesRemoved: '1',
      numTargetRowsCopied: '1',
    });
    const rows = (await (await DeltaTable.open(store)).scanRows()).map((r) => `${r.day}/${r.key}=${r.n}`).sort();
    expect(rows).toEqual([
      '2024-03-01/a=1',
      '2024-03-01/b=1',
      '2024-03-02/a=1',
      '2024-03-02/b=2',
      '2024-03-02/c=1',
      '2024-03-03/a=1',
      '2024-03-03/b=1',
    ]);
  });
});

describe('DeltaSink crash and replay (FaultyObjectStore)', () => {
  const commitKey = /_delta_log\/\d+\.json$/;

  it('a crash after the data files, before the log put: a fresh sink replays the batch once', async () => {
    const dir = freshDir();
    const inner = new LocalObjectStore(dir);
    const first = new DeltaSink({ store: inner, schema: eventSchema });
    await first.open(context());
    await run(first, 0, events(0, 2));

    const faulty = new FaultyObjectStore(inner).crashAt('putIfAbsent', { key: commitKey, before: true });
    const crashing = new DeltaSink({ store: faulty, schema: eventSchema });
    await crashing.open(context());
    const prepared = await crashing.prepare({ batchId: 1, rows: events(2, 3) });
    expect(faulty.callsTo('put').some((c) => c.key.endsWith('.parquet'))).toBe(true);
    await expect(crashing.commit(prepared)).rejects.toMatchObject({ code: 'INJECTED_CRASH' });
    expect(await ids(dir)).toEqual([0, 1]);

    const restarted = new DeltaSink({ store: new LocalObjectStore(dir), schema: eventSchema });
    await restarted.open(context());
    expect(await run(restarted, 1, events(2, 3))).toMatchObject({ kind: 'committed', version: 2, numRows: 3 });
    expect(await run(restarted, 1, events(2, 3))).toMatchObject({ kind: 'already-committed', version: 2 });
    expect(await ids(dir)).toEqual(range(0, 5));
  });

  it('a crash after a durable but unacknowledged commit: the replay is already-committed', async () => {
    const dir = freshDir();
    const inner = new LocalObjectStore(dir);
    const first = new DeltaSink({ store: inner });
    await first.open(updateContext());
    await run(first, 0, [count(0, 'a', 1)]);

    const faulty = new FaultyObjectStore(inner).crashAt('putIfAbsent', { key: commitKey, before: false });
    const crashing = new DeltaSink({ store: faulty });
    await crashing.open(updateContext());
    const prepared = await crashing.prepare({ batchId: 1, rows: [count(0, 'a', 2), count(1, 'b', 1)] });
    await expect(crashing.commit(prepared)).rejects.toMatchObject({ code: 'INJECTED_CRASH' });
    expect(await counts(dir)).toEqual(['00/a=2', '01/b=1']); // durable

    const restarted = new DeltaSink({ store: new LocalObjectStore(dir) });
    await restarted.open(updateContext());
    const again = await restarted.prepare({ batchId: 1, rows: [count(0, 'a', 2), count(1, 'b', 1)] });
    expect(await restarted.commit(again)).toEqual({ kind: 'already-committed', batchId: 1, version: 2 });
    expect(await counts(dir)).toEqual(['00/a=2', '01/b=1']);
    expect(await run(restarted, 2, [count(1, 'b', 4)])).toMatchObject({ kind: 'committed', version: 3 });
    expect(await counts(dir)).toEqual(['00/a=2', '01/b=4']);
  });

  it('an unacknowledged put that reads back as ours is committed once by the same call', async () => {
    const dir = freshDir();
    const inner = new LocalObjectStore(dir);
    const faulty = new FaultyObjectStore(inner);
    const sink = new DeltaSink({ store: faulty, schema: eventSchema });
    await sink.open(context());
    faulty.inject({ op: 'putIfAbsent', key: commitKey, action: 'fail-after' });
    expect(await run(sink, 0, events(0, 2))).toMatchObject({ kind: 'committed', version: 1, numRows: 2 });
    expect(faulty.callsTo('putIfAbsent').at(-1)?.injected).toEqual(['fail-after']);
    expect(await run(sink, 1, events(2, 1))).toMatchObject({ kind: 'committed', version: 2 });
    expect(await ids(dir)).toEqual([0, 1, 2]);
  });

  it('commit called again after it threw (outcome unknown) does not duplicate the batch', async () => {
    const dir = freshDir();
    const faulty = new FaultyObjectStore(new LocalObjectStore(dir));
    const sink = new DeltaSink({ store: faulty, schema: eventSchema });
    await sink.open(context({ outputMode: 'complete' }));
    await run(sink, 0, events(0, 2));

    // Batch 1 lands, but the put fails afterwards and the read-back fails too: the outcome is unknown.
    const prepared = await sink.prepare({ batchId: 1, rows: events(5, 2) });
    faulty.inject({ op: 'putIfAbsent', key: commitKey, action: 'fail-after' });
    faulty.inject({ op: 'get', key: /_delta_log\/0+2\.json$/, action: 'fail-before' });
    await expect(sink.commit(prepared)).rejects.toMatchObject({ code: 'INJECTED_FAULT', retryable: true });
    expect(await sink.commit(prepared)).toEqual({ kind: 'already-committed', batchId: 1, version: 2 });
    expect(await ids(dir)).toEqual([5, 6]);

    // Batch 2's put fails before anything is written: the retried commit writes it once.
    const next = await sink.prepare({ batchId: 2, rows: events(8, 1) });
    faulty.inject({ op: 'putIfAbsent', key: commitKey, action: 'fail-before' });
    faulty.inject({ op: 'get', key: /_delta_log\/0+3\.json$/, action: 'fail-before' });
    await expect(sink.commit(next)).rejects.toMatchObject({ code: 'INJECTED_FAULT' });
    expect(await sink.commit(next)).toMatchObject({ kind: 'committed', batchId: 2, version: 3 });
    expect(await sink.commit(next)).toEqual({ kind: 'already-committed', batchId: 2, version: 3 });
    expect(await ids(dir)).toEqual([8]);

    // An aborted batch cannot be committed; abort never throws.
    const aborted = await sink.prepare({ batchId: 3, rows: events(9, 1) });
    await sink.abort(aborted);
    await sink.abort(aborted);
    await expect(sink.commit(aborted)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await ids(dir)).toEqual([8]);
  });
});

describe('DeltaSink update conflicts', () => {
  it('a concurrent commit removing a file the merge read makes the commit (and its retry) conflict', async () => {
    const dir = freshDir();
    const faulty = new FaultyObjectStore(new LocalObjectStore(dir));
    const sink = new DeltaSink({ store: faulty });
    await sink.open(updateContext());
    await run(sink, 0, [count(0, 'a', 1), count(0, 'b', 1)]);
    const other = await DeltaTable.open(new LocalObjectStore(dir));

    // First attempt: the concurrent overwrite lands between prepare and commit.
    const prepared = await sink.prepare({ batchId: 1, rows: [count(0, 'a', 2)] });
    await other.overwrite([count(0, 'a', 100)]);
    await expect(sink.commit(prepared)).rejects.toMatchObject({ code: 'COMMIT_CONFLICT' });

    // A retry (rebuilt transaction) keeps what the merge read: it conflicts too.
    const retried = await sink.prepare({ batchId: 1, rows: [count(0, 'a', 3)] });
    faulty.inject({
      op: 'putIfAbsent',
      key: /_delta_log\/\d+\.json$/,
      action: 'fail-before',
      error: () => new Error('down'),
    });
    await expect(sink.commit(retried)).rejects.toThrow('down');
    await other.overwrite([count(0, 'a', 200)]);
    await expect(sink.commit(retried)).rejects.toMatchObject({ code: 'COMMIT_CONFLICT' });
    expect(await counts(dir)).toEqual(['00/a=200']);
    expect(await other.txnVersion('query-1')).toBe(0);
  });
});

describe.skipIf(!cap.available)('DeltaSink interop: delta-rs reads an update-mode table', () => {
  let py: PythonSession;
  beforeAll(() => {
    py = new PythonSession();
  });
  afterAll(async () => {
    await py?.close();
  });

  it('reads exactly the merged rows, partitioned and not', async () => {
    const plain = freshDir();
    const sink = deltaSink(plain, { properties: { 'delta.checkpointInterval': '2' } });
    await sink.open(updateContext());
    await run(sink, 0, [count(0, 'a', 1), count(0, 'b', 2)]);
    await run(sink, 1, [count(0, 'a', 3), count(1, 'a', 1)]); // version 2: a checkpoint too
    await run(sink, 2, [count(1, 'a', 5), count(0, 'c', 1)]);
    const expected = await counts(plain);
    expect(expected).toEqual(['00/a=3', '00/b=2', '00/c=1', '01/a=5']);

    const rows = await py.run<{ window: { start: string; end: string }; word: string; count: number }[]>(
      'result = readers.delta_rs_rows(args["path"])',
      { path: plain },
    );
    const seen = rows
      .map((r) => {
        expect(Date.parse(r.window.end) - Date.parse(r.window.start)).toBe(60_000);
        return `${r.window.start.slice(14, 16)}/${r.word}=${r.count}`;
      })
      .sort();
    expect(seen).toEqual(expected);
    expect(rows.find((r) => r.word === 'c')?.window.start).toBe('2024-01-01T00:00:00.000000Z');

    const partitioned = freshDir();
    const schema: StructType = { type: 'struct', fields: [f('day', 'date'), f('key', 'string'), f('n', 'long')] };
    const p = deltaSink(partitioned, { schema, partitionBy: ['day'] });
    await p.open(context({ outputMode: 'update', keyColumns: ['day', 'key'] }));
    await run(p, 0, [
      { day: '2024-03-01', key: 'a', n: 1 },
      { day: '2024-03-02', key: 'a', n: 1 },
    ]);
    await run(p, 1, [
      { day: '2024-03-02', key: 'a', n: 2 },
      { day: '2024-03-02', key: 'b', n: 1 },
    ]);
    const prow = await py.run<{ day: string; key: string; n: number }[]>(
      'result = readers.delta_rs_rows(args["path"])',
      { path: partitioned },
    );
    expect(prow.map((r) => `${r.day}/${r.key}=${r.n}`).sort()).toEqual([
      '2024-03-01/a=1',
      '2024-03-02/a=2',
      '2024-03-02/b=1',
    ]);
  });
});
