// Tests of sinks/delta/encoded-file.ts and its seams: encodeForPlan + DeltaTransaction.addEncodedFiles
// write the very files writeFiles writes (bytes, stats, partition values, file split), the plan is
// plain clonable data whose key follows the table, stale or malformed files are refused, and the
// DeltaSink commits pre-encoded files with a batch's rows exactly once (replays, commit retries).
import { describe, expect, it } from 'vitest';
import type { LakestreamError } from '../../../common/errors.js';
import type { AddAction } from '../../../sinks/delta/actions.js';
import {
  DELTA_PARQUET,
  type DeltaEncodedFile,
  encodeForPlan,
  isDeltaEncodedFile,
} from '../../../sinks/delta/encoded-file.js';
import { logPathToKey } from '../../../sinks/delta/file-names.js';
import { loadSnapshot, readCommit } from '../../../sinks/delta/load-snapshot.js';
import { DeltaSink } from '../../../sinks/delta/stream-sink.js';
import { DeltaTable } from '../../../sinks/delta/table.js';
import { DeltaTransaction, type WriteFilesOptions } from '../../../sinks/delta/transaction.js';
import type { DataType, StructType } from '../../../sinks/schema.js';
import { FaultyObjectStore } from '../../../storage/faulty.js';
import { MemoryObjectStore } from '../../../storage/memory.js';
import type { SinkContext } from '../../../stream/sink.js';

const f = (name: string, type: DataType, nullable = true) => ({ name, type, nullable, metadata: {} });
type Row = Record<string, unknown>;

const schema: StructType = {
  type: 'struct',
  fields: [
    f('id', 'long'),
    f('p', 'string'),
    f('day', 'date'),
    f('amount', 'double'),
    f('at', 'timestamp'),
    f('s', 'string'),
    f('nested', { type: 'struct', fields: [f('a', 'integer'), f('b', 'string')] }),
  ],
};
const PARTITIONS = ['a', 'b', null, '', 'c/d=e'];
const makeRows = (n: number, from = 0): Row[] =>
  Array.from({ length: n }, (_, k) => {
    const i = from + k;
    return {
      id: i,
      p: PARTITIONS[i % PARTITIONS.length],
      day: new Date(Date.UTC(2024, 0, 1 + (i % 3))),
      amount: i % 11 === 0 ? null : i * 1.5,
      at: new Date(Date.UTC(2024, 0, 1, 0, 0, i % 60)),
      s: i % 7 === 0 ? null : `value-${i % 1000}-${'x'.repeat(i % 40)}`,
      nested: i % 5 === 0 ? null : { a: i % 100, b: `n${i}` },
    };
  });

async function newTable(partitionColumns: string[], properties?: Record<string, string>): Promise<MemoryObjectStore> {
  const store = new MemoryObjectStore();
  await DeltaTable.create(store, { schema, partitionColumns, ...(properties ? { properties } : {}) });
  return store;
}

const transaction = async (store: MemoryObjectStore) =>
  new DeltaTransaction(store, await loadSnapshot(store), { now: () => 7 });

interface Written {
  store: MemoryObjectStore;
  adds: AddAction[];
  bytes: Uint8Array[];
}

/** The rows written to a fresh table by writeFiles (no parallel split) and committed. */
async function viaWriteFiles(
  rows: Row[],
  partitionColumns: string[],
  options: WriteFilesOptions = {},
): Promise<Written> {
  const store = await newTable(partitionColumns);
  const tx = await transaction(store);
  const adds = await tx.writeFiles(rows, { maxParallelFiles: 1, ...options });
  await tx.commit({ name: 'WRITE', parameters: {} });
  return { store, adds, bytes: await bytesOf(store, adds) };
}

/** The rows encoded by encodeForPlan, added to a fresh table by addEncodedFiles and committed. */
async function viaEncodedFiles(
  rows: Row[],
  partitionColumns: string[],
  options: { targetFileSize?: number } = {},
): Promise<Written & { files: DeltaEncodedFile[] }> {
  const store = await newTable(partitionColumns);
  const tx = await transaction(store);
  // The plan crosses a thread boundary in production: encode with a structured clone of it.
  const files = encodeForPlan(structuredClone(tx.encodingPlan(options)), rows);
  const adds = await tx.addEncodedFiles(files, options);
  await tx.commit({ name: 'WRITE', parameters: {} });
  return { store, adds, files, bytes: await bytesOf(store, adds) };
}

const bytesOf = (store: MemoryObjectStore, adds: readonly AddAction[]) =>
  Promise.all(adds.map((a) => store.get(logPathToKey(a.path) as string)));
/** add.path without the file name's random uuid. */
const shape = (add: AddAction) => add.path.replace(/-[0-9a-f-]{36}-/, '-<uuid>-');
const recordsOf = (add: AddAction) => (JSON.parse(add.stats as string) as { numRecords: number }).numRecords;
const byId = (rows: Row[]) => [...rows].sort((a, b) => Number(a.id) - Number(b.id));

async function scanned(store: MemoryObjectStore): Promise<Row[]> {
  return byId(await (await DeltaTable.open(store)).scanRows());
}

/**
 * What the table reads back for written rows: longs as bigint, dates as yyyy-MM-dd, timestamps as
 * microseconds; an empty partition value as null (Spark's rule), an empty data value as itself.
 */
const expected = (rows: Row[], partitioned: boolean) =>
  byId(
    rows.map((r) => ({
      ...r,
      id: BigInt(r.id as number),
      day: (r.day as Date).toISOString().slice(0, 10),
      at: BigInt((r.at as Date).getTime()) * 1000n,
      p: partitioned && r.p === '' ? null : r.p,
    })),
  );

function expectSameFiles(a: Written, b: Written): void {
  expect(b.adds.length).toBe(a.adds.length);
  expect(b.adds.map(shape)).toEqual(a.adds.map(shape));
  expect(b.adds.map((x) => x.partitionValues)).toEqual(a.adds.map((x) => x.partitionValues));
  expect(b.adds.map((x) => x.stats)).toEqual(a.adds.map((x) => x.stats));
  expect(b.adds.map((x) => x.size)).toEqual(a.adds.map((x) => x.size));
  expect(b.adds.map((x) => x.dataChange)).toEqual(a.adds.map((x) => x.dataChange));
  expect(b.adds.map((x) => x.modificationTime)).toEqual(a.adds.map((x) => x.modificationTime));
  expect(b.bytes.map((x) => Buffer.from(x).toString('base64'))).toEqual(
    a.bytes.map((x) => Buffer.from(x).toString('base64')),
  );
}

describe('encodeForPlan + DeltaTransaction.addEncodedFiles', () => {
  it('write the same files as writeFiles into an unpartitioned table, and the table reads back the rows', async () => {
    const rows = makeRows(2_000);
    const direct = await viaWriteFiles(rows, []);
    const encoded = await viaEncodedFiles(rows, []);
    expect(encoded.adds.length).toBe(1);
    expectSameFiles(direct, encoded);
    expect(encoded.files.map((x) => x.numRecords)).toEqual([2_000]);
    expect(encoded.files[0]?.partitionValues).toEqual({});
    expect(await scanned(encoded.store)).toEqual(expected(rows, false));
  });

  it('write the same files as writeFiles into a partitioned table, null and empty partition values too', async () => {
    const rows = makeRows(1_000);
    for (const partitionBy of [['p'], ['p', 'day']]) {
      const direct = await viaWriteFiles(rows, partitionBy);
      const encoded = await viaEncodedFiles(rows, partitionBy);
      expectSameFiles(direct, encoded);
      expect(encoded.adds.length).toBe(partitionBy.length === 1 ? 4 : 12);
      const values = encoded.adds.map((a) => a.partitionValues.p);
      expect(new Set(values)).toEqual(new Set(['a', 'b', null, 'c/d=e']));
      // null and '' share the __HIVE_DEFAULT_PARTITION__ group, as Spark writes them.
      const nullFile = encoded.files.filter((x) => x.partitionValues.p === null);
      expect(nullFile.reduce((n, x) => n + x.numRecords, 0)).toBe(400);
      expect(encoded.adds.find((a) => a.partitionValues.p === null)?.path).toMatch(/^p=__HIVE_DEFAULT_PARTITION__\//);
      expect(encoded.adds.find((a) => a.partitionValues.p === 'c/d=e')?.path).toMatch(/^p=c%252Fd%253De\//);
      expect(await scanned(encoded.store)).toEqual(expected(rows, true));
      expect(await scanned(direct.store)).toEqual(expected(rows, true));
    }
  });

  it('split a group larger than targetFileSize into the same several files as writeFiles', async () => {
    const rows = makeRows(6_000);
    const targetFileSize = 16 * 1024;
    for (const partitionBy of [[], ['p']]) {
      const direct = await viaWriteFiles(rows, partitionBy, { targetFileSize });
      const encoded = await viaEncodedFiles(rows, partitionBy, { targetFileSize });
      expect(encoded.files.length).toBeGreaterThan(partitionBy.length === 0 ? 2 : 5);
      expectSameFiles(direct, encoded);
      expect(encoded.files.map((x) => x.numRecords)).toEqual(encoded.adds.map(recordsOf));
      expect(encoded.files.reduce((n, x) => n + x.numRecords, 0)).toBe(rows.length);
      expect(await scanned(encoded.store)).toEqual(expected(rows, partitionBy.length > 0));
    }
  });

  it('keeps a group that fits one file as one file, where writeFiles would split it for its pool', async () => {
    const rows = makeRows(40_000).map((r) => ({ id: r.id, p: 'a' }));
    const store = await newTable([]);
    const tx = await transaction(store);
    const files = encodeForPlan(tx.encodingPlan(), rows);
    expect(files.map((x) => x.numRecords)).toEqual([40_000]);
    const split = await tx.writeFiles(rows, { minRowsPerFile: 10_000, maxParallelFiles: 4, encodePool: null });
    expect(split.map(recordsOf)).toEqual([10_000, 10_000, 10_000, 10_000]);
  });

  it('gives no files for no rows, and leaves the rows untouched', async () => {
    const plan = (await transaction(await newTable(['p']))).encodingPlan();
    expect(encodeForPlan(plan, [])).toEqual([]);
    const rows = makeRows(10);
    const copy = structuredClone(rows);
    encodeForPlan(plan, rows);
    expect(rows).toEqual(copy);
  });

  it('fails with the DeltaErrors writeFiles throws, naming the caller row', async () => {
    const rows: Row[] = [...makeRows(5), { id: 'not a number', p: 'b' }];
    const store = await newTable(['p']);
    const tx = await transaction(store);
    let direct: unknown;
    await tx.writeFiles(rows, { maxParallelFiles: 1 }).catch((error: unknown) => {
      direct = error;
    });
    let encoded: unknown;
    try {
      encodeForPlan(tx.encodingPlan(), rows);
    } catch (error) {
      encoded = error;
    }
    expect(direct).toMatchObject({ name: 'DeltaError', code: 'INVALID_DATA', context: { row: 5 } });
    expect(encoded).toMatchObject({ name: 'DeltaError', code: 'INVALID_DATA', context: { row: 5 } });
    expect((encoded as Error).message).toBe((direct as Error).message);
    expect((encoded as LakestreamError).context).toEqual((direct as LakestreamError).context);
    // A partition value that cannot be serialized.
    const badDay = [{ id: 1, p: 'a', day: 'not a date' }];
    const dayStore = await newTable(['day']);
    const dayTx = await transaction(dayStore);
    expect(() => encodeForPlan(dayTx.encodingPlan(), badDay)).toThrow(
      expect.objectContaining({ code: 'INVALID_DATA', context: expect.objectContaining({ column: 'day', row: 0 }) }),
    );
  });
});

describe('DeltaTransaction.encodingPlan', () => {
  it('is plain structured-clonable data with a deterministic key', async () => {
    const store = await newTable(['p'], {
      'delta.parquet.compression.codec': 'zstd',
      'delta.dataSkippingNumIndexedCols': '3',
    });
    const plan = (await transaction(store)).encodingPlan();
    expect(structuredClone(plan)).toEqual(plan);
    expect(plan).toMatchObject({
      partitionColumns: ['p'],
      compression: 'zstd',
      statsColumns: 3,
      statsOptions: { numIndexedCols: 3 },
      targetFileSize: 128 * 1024 * 1024,
    });
    expect(plan.tableSchema).toEqual(schema);
    expect(plan.dataSchema.fields.map((x) => x.name)).toEqual(['id', 'day', 'amount', 'at', 's', 'nested']);
    expect((await transaction(store)).encodingPlan().key).toBe(plan.key);
    expect(new DeltaTransaction(store, await loadSnapshot(store)).encodingPlan().key).toBe(plan.key);
    // Every setting is in the key.
    const tx = await transaction(store);
    expect(tx.encodingPlan({ compression: 'snappy' }).key).not.toBe(plan.key);
    expect(tx.encodingPlan({ targetFileSize: 1024 }).key).not.toBe(plan.key);
    tx.updateMetadata({
      ...tx.metadata,
      configuration: { ...tx.metadata.configuration, 'delta.dataSkippingStatsColumns': 'id,s' },
    });
    expect(tx.encodingPlan()).toMatchObject({ statsColumns: -1, statsOptions: { statsColumns: 'id,s' } });
    expect(tx.encodingPlan().key).not.toBe(plan.key);
  });

  it('refuses what writeFiles refuses, with the same errors', async () => {
    const store = await newTable([]);
    const tx = await transaction(store);
    expect(() => tx.encodingPlan({ targetFileSize: 0 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    await expect(tx.writeFiles([{ id: 1 }], { targetFileSize: 0 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    tx.updateMetadata({ ...tx.metadata, configuration: { 'delta.parquet.compression.codec': 'lz4' } });
    expect(() => tx.encodingPlan()).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    await expect(tx.writeFiles([{ id: 1 }])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    const withInvariant: StructType = {
      type: 'struct',
      fields: [{ ...f('id', 'long'), metadata: { 'delta.invariants': '{"expression":{"expression":"id > 0"}}' } }],
    };
    tx.updateMetadata({ ...tx.metadata, configuration: {}, schemaString: JSON.stringify(withInvariant) });
    const invariants = { code: 'UNSUPPORTED_FEATURE', context: { feature: 'invariants' } };
    expect(() => tx.encodingPlan()).toThrow(expect.objectContaining(invariants));
    await expect(tx.writeFiles([{ id: 1 }])).rejects.toMatchObject(invariants);
  });
});

describe('DeltaTransaction.addEncodedFiles refusals', () => {
  it('refuses files of another plan (retryable SINK_PLAN_CHANGED) and malformed files, storing nothing', async () => {
    const store = await newTable(['p']);
    const tx = await transaction(store);
    const files = encodeForPlan(tx.encodingPlan(), makeRows(20));
    const keys = async () => {
      let n = 0;
      for await (const _ of store.list()) n++;
      return n;
    };
    const before = await keys();

    const forged = files.map((x, i) => (i === 1 ? { ...x, planKey: `${x.planKey} ` } : x));
    const stale = await tx.addEncodedFiles(forged).catch((error: unknown) => error as LakestreamError);
    expect(stale).toMatchObject({ code: 'SINK_PLAN_CHANGED', retryable: true, context: { stale: 1 } });
    expect((stale as Error).message).toMatch(/schema, partitioning or write settings changed/);
    // The same files under other write options are stale too.
    await expect(tx.addEncodedFiles(files, { compression: 'uncompressed' })).rejects.toMatchObject({
      code: 'SINK_PLAN_CHANGED',
    });

    const first = files[0] as DeltaEncodedFile;
    for (const bad of [
      { ...first, partitionValues: {} },
      { ...first, partitionValues: { p: 'a', q: 'b' } },
      { ...first, numRecords: first.numRecords + 1 },
      { ...first, bytes: new Uint8Array(0) },
    ]) {
      await expect(tx.addEncodedFiles([bad])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    }
    expect(await keys()).toBe(before);
    // Nothing was recorded: the commit adds only what a later valid call adds.
    await tx.addEncodedFiles(files);
    await tx.commit({ name: 'WRITE', parameters: {} });
    const adds = (await readCommit(store, 1))?.flatMap((a) => ('add' in a ? [a.add] : [])) ?? [];
    expect(adds.length).toBe(files.length);
  });

  it('isDeltaEncodedFile checks the format and the shape', async () => {
    const store = await newTable([]);
    const [file] = encodeForPlan((await transaction(store)).encodingPlan(), makeRows(3));
    expect(isDeltaEncodedFile(file as DeltaEncodedFile)).toBe(true);
    expect(isDeltaEncodedFile(structuredClone(file) as DeltaEncodedFile)).toBe(true);
    expect(isDeltaEncodedFile({ format: 'iceberg-parquet', numRecords: 3 })).toBe(false);
    expect(isDeltaEncodedFile({ format: DELTA_PARQUET, numRecords: 3 })).toBe(false);
  });
});

const eventSchema: StructType = { type: 'struct', fields: [f('id', 'long'), f('name', 'string'), f('p', 'string')] };
const events = (from: number, n: number): Row[] =>
  Array.from({ length: n }, (_, i) => ({
    id: from + i,
    name: `e${from + i}`,
    p: (from + i) % 2 === 0 ? 'even' : 'odd',
  }));

function context(over: Partial<SinkContext> = {}): SinkContext {
  return {
    queryId: 'q',
    outputMode: 'append',
    keyColumns: [],
    schema: undefined,
    now: Date.now,
    warn: () => {},
    ...over,
  };
}

async function openSink(
  store: MemoryObjectStore | FaultyObjectStore,
  over: Partial<SinkContext> = {},
  options: Partial<ConstructorParameters<typeof DeltaSink>[0]> = {},
): Promise<DeltaSink> {
  const sink = new DeltaSink({ store, schema: eventSchema, partitionBy: ['p'], ...options });
  await sink.open(context(over));
  return sink;
}

async function eventIds(store: MemoryObjectStore): Promise<number[]> {
  return (await (await DeltaTable.open(store)).scanRows()).map((r) => Number(r.id)).sort((a, b) => a - b);
}
const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

describe('DeltaSink with pre-encoded files', () => {
  it('commits encoded files with the batch rows once; a replay is already-committed', async () => {
    const store = new MemoryObjectStore();
    const sink = await openSink(store);
    expect(sink.acceptsEncodedFiles(DELTA_PARQUET)).toBe(true);
    expect(sink.acceptsEncodedFiles('iceberg-parquet')).toBe(false);

    const plan = await sink.encodingPlan();
    expect(structuredClone(plan)).toEqual(plan);
    const files = encodeForPlan(structuredClone(plan), events(100, 30));
    expect(files.length).toBe(2);
    const prepared = await sink.prepare({ batchId: 0, rows: events(0, 5), files });
    expect(prepared.numRows).toBe(35);
    expect(await sink.commit(prepared)).toEqual({
      kind: 'committed',
      batchId: 0,
      version: 1,
      numRows: 35,
      numFiles: 4,
    });
    expect(await eventIds(store)).toEqual([...range(0, 5), ...range(100, 30)]);
    const actions = (await readCommit(store, 1)) ?? [];
    const info = actions.flatMap((a) => ('commitInfo' in a ? [a.commitInfo] : []))[0];
    expect(info?.operationMetrics).toMatchObject({ numFiles: '4', numOutputRows: '35' });
    expect(actions.flatMap((a) => ('txn' in a ? [a.txn.version] : []))).toEqual([0]);

    const replay = await sink.prepare({ batchId: 0, rows: events(0, 5), files });
    expect(replay.numRows).toBe(35);
    expect(await sink.commit(replay)).toEqual({ kind: 'already-committed', batchId: 0, version: 1 });
    expect(await eventIds(store)).toEqual([...range(0, 5), ...range(100, 30)]);
  });

  it('commits a batch of files only (no rows), and skips a batch of neither', async () => {
    const store = new MemoryObjectStore();
    const sink = await openSink(store);
    const files = encodeForPlan(await sink.encodingPlan(), events(0, 10));
    const prepared = await sink.prepare({ batchId: 0, rows: [], files });
    expect(prepared.numRows).toBe(10);
    expect(await sink.commit(prepared)).toMatchObject({ kind: 'committed', numRows: 10, numFiles: 2 });
    expect(await sink.commit(await sink.prepare({ batchId: 1, rows: [], files: [] }))).toEqual({
      kind: 'skipped',
      batchId: 1,
    });
    expect(await eventIds(store)).toEqual(range(0, 10));
  });

  it('keeps the encoded files when the commit is retried after it threw', async () => {
    const inner = new MemoryObjectStore();
    const faulty = new FaultyObjectStore(inner);
    const sink = await openSink(faulty);
    const files = encodeForPlan(await sink.encodingPlan(), events(10, 4));
    const prepared = await sink.prepare({ batchId: 0, rows: events(0, 2), files });
    faulty.inject({ op: 'putIfAbsent', key: /_delta_log\/0+1\.json$/, action: 'fail-before' });
    faulty.inject({ op: 'get', key: /_delta_log\/0+1\.json$/, action: 'fail-before' });
    await expect(sink.commit(prepared)).rejects.toMatchObject({ code: 'INJECTED_FAULT' });
    expect(await sink.commit(prepared)).toMatchObject({ kind: 'committed', version: 1, numRows: 6, numFiles: 4 });
    expect(await eventIds(inner)).toEqual([0, 1, 10, 11, 12, 13]);
  });

  it('fails files of a stale plan with retryable SINK_PLAN_CHANGED; the re-run with a fresh plan commits', async () => {
    const store = new MemoryObjectStore();
    const sink = await openSink(store);
    const stalePlan = await sink.encodingPlan();
    // The table's codec changes after the plan was taken.
    const snapshot = await loadSnapshot(store);
    const tx = new DeltaTransaction(store, snapshot);
    tx.updateMetadata({
      ...snapshot.metadata,
      configuration: { ...snapshot.metadata.configuration, 'delta.parquet.compression.codec': 'zstd' },
    });
    await tx.commit({ name: 'SET TBLPROPERTIES', parameters: {} });

    const stale = encodeForPlan(stalePlan, events(0, 4));
    const dataFiles = async () => {
      const keys: string[] = [];
      for await (const meta of store.list()) if (meta.key.endsWith('.parquet')) keys.push(meta.key);
      return keys;
    };
    const error = await sink.prepare({ batchId: 0, rows: events(50, 1), files: stale }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'SINK_PLAN_CHANGED', retryable: true });
    // Refused before anything was stored, the batch's rows included.
    expect(await dataFiles()).toEqual([]);
    // A forged key is stale as well.
    const fresh = await sink.encodingPlan();
    expect(fresh.key).not.toBe(stalePlan.key);
    expect(fresh.compression).toBe('zstd');
    const forged = encodeForPlan({ ...fresh, key: 'forged' }, events(0, 4));
    await expect(sink.prepare({ batchId: 0, rows: [], files: forged })).rejects.toMatchObject({
      code: 'SINK_PLAN_CHANGED',
      retryable: true,
    });

    const files = encodeForPlan(fresh, events(0, 4));
    expect(await sink.commit(await sink.prepare({ batchId: 0, rows: events(50, 1), files }))).toMatchObject({
      kind: 'committed',
      numRows: 5,
    });
    expect(await eventIds(store)).toEqual([0, 1, 2, 3, 50]);
    const adds = ((await readCommit(store, 2)) ?? []).flatMap((a) => ('add' in a ? [a.add] : []));
    expect(adds.every((a) => a.path.endsWith('.zstd.parquet'))).toBe(true);
  });

  it('refuses files outside append mode, with partitionTransactions, of another format, or with schema evolution', async () => {
    const store = new MemoryObjectStore();
    const appendSink = await openSink(store);
    const files = encodeForPlan(await appendSink.encodingPlan(), events(0, 4));

    const complete = await openSink(store, { outputMode: 'complete' });
    await expect(complete.prepare({ batchId: 0, rows: [], files })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/append mode only, not in complete mode/),
    });
    await expect(complete.encodingPlan()).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });

    const byPartition = await openSink(store, {}, { partitionTransactions: { appIdPrefix: 'ingest' } });
    await expect(byPartition.prepare({ batchId: 0, rows: [], files })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/partitionTransactions/),
    });
    await expect(byPartition.encodingPlan()).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });

    const other = { format: 'iceberg-parquet', numRecords: 4 };
    await expect(appendSink.prepare({ batchId: 0, rows: [], files: [...files, other] })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      context: { file: 2, format: 'iceberg-parquet' },
    });

    const evolving = await openSink(store, {}, { mergeSchema: true });
    await expect(
      evolving.prepare({ batchId: 0, rows: [{ id: 9, name: 'x', p: 'odd', extra: 1 }], files }),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/mergeSchema/) });
    // With rows that fit, the same sink takes the files.
    expect(await evolving.commit(await evolving.prepare({ batchId: 0, rows: [], files }))).toMatchObject({
      kind: 'committed',
      numRows: 4,
    });
    expect(await eventIds(store)).toEqual(range(0, 4));
  });

  it('has no plan before the table exists (deferred creation) or before open', async () => {
    const store = new MemoryObjectStore();
    const sink = new DeltaSink({ store });
    await expect(sink.encodingPlan()).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await sink.open(context());
    await expect(sink.encodingPlan()).rejects.toMatchObject({ code: 'TABLE_NOT_FOUND' });
    const other = await newTable([]);
    const foreign = encodeForPlan((await transaction(other)).encodingPlan(), makeRows(2));
    await expect(sink.prepare({ batchId: 0, rows: [], files: foreign })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    // The first rows create the table; then there is a plan.
    await sink.commit(await sink.prepare({ batchId: 0, rows: [{ id: 1, name: 'a' }] }));
    expect((await sink.encodingPlan()).tableSchema.fields.map((x) => x.name)).toEqual(['id', 'name']);
  });
});
