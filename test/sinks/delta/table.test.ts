// Tests of sinks/delta/table.ts on a MemoryObjectStore: create (and the race to version 0), append,
// overwrite and replaceWhere, schema enforcement and mergeSchema, partitioned layout, file splitting,
// txn exactly-once, and the commitInfo written; read back through the reader (load-snapshot, scan).
import { describe, expect, it } from 'vitest';
import type {
  Action,
  AddAction,
  CommitInfoAction,
  MetadataAction,
  RemoveAction,
} from '../../../sinks/delta/actions.js';
import { readCommit } from '../../../sinks/delta/load-snapshot.js';
import { and, eq, ge, isNull, lt } from '../../../sinks/delta/predicate.js';
import { DeltaTable } from '../../../sinks/delta/table.js';
import { ENGINE_INFO } from '../../../sinks/delta/transaction.js';
import type { DataType, StructType } from '../../../sinks/schema.js';
import { FaultyObjectStore } from '../../../storage/faulty.js';
import { MemoryObjectStore } from '../../../storage/memory.js';

const f = (name: string, type: DataType, nullable = true) => ({ name, type, nullable, metadata: {} });
const schema: StructType = { type: 'struct', fields: [f('id', 'long', false), f('name', 'string'), f('day', 'date')] };

function commitInfo(actions: Action[] | undefined): CommitInfoAction {
  const info = actions?.find((a): a is { commitInfo: CommitInfoAction } => 'commitInfo' in a);
  if (!info) throw new Error('no commitInfo');
  return info.commitInfo;
}
const addsOf = (actions: Action[] | undefined) =>
  (actions ?? []).filter((a): a is { add: AddAction } => 'add' in a).map((a) => a.add);
const ids = (rows: Record<string, unknown>[]) => rows.map((r) => Number(r.id)).sort((a, b) => a - b);

describe('DeltaTable.create', () => {
  it('writes version 0 with commitInfo, protocol (1,2) and metaData', async () => {
    const store = new MemoryObjectStore();
    const table = await DeltaTable.create(store, {
      schema,
      partitionColumns: ['day'],
      properties: { 'delta.checkpointInterval': '5' },
      name: 'events',
      description: 'test table',
    });
    const actions = await readCommit(store, 0);
    expect(actions?.map((a) => Object.keys(a)[0])).toEqual(['commitInfo', 'protocol', 'metaData']);
    expect(actions?.[1]).toEqual({ protocol: { minReaderVersion: 1, minWriterVersion: 2 } });
    const info = commitInfo(actions);
    expect(info).toMatchObject({
      operation: 'CREATE TABLE',
      operationParameters: {
        partitionBy: '["day"]',
        properties: '{"delta.checkpointInterval":"5"}',
        description: 'test table',
      },
      engineInfo: ENGINE_INFO,
      isBlindAppend: true,
    });
    expect(info.txnId).toMatch(/^[0-9a-f-]{36}$/);
    const meta = (actions?.[2] as { metaData: MetadataAction } | undefined)?.metaData as MetadataAction;
    expect(meta).toMatchObject({
      name: 'events',
      description: 'test table',
      format: { provider: 'parquet', options: {} },
      partitionColumns: ['day'],
      configuration: { 'delta.checkpointInterval': '5' },
    });
    expect(JSON.parse(meta.schemaString)).toEqual(schema);
    expect(table.snapshot().version).toBe(0);
    const reopened = await DeltaTable.open(store);
    expect(reopened.snapshot().schema).toEqual(schema);
  });

  it('fails with TABLE_EXISTS on an existing table unless ifNotExists', async () => {
    const store = new MemoryObjectStore();
    await DeltaTable.create(store, { schema });
    await expect(DeltaTable.create(store, { schema })).rejects.toMatchObject({ code: 'TABLE_EXISTS' });
    const again = await DeltaTable.create(store, { schema, ifNotExists: true });
    expect(again.snapshot().version).toBe(0);
  });

  it('lets exactly one of several racing creators win version 0', async () => {
    const store = new MemoryObjectStore();
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => DeltaTable.create(store, { schema })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'TABLE_EXISTS' });
    const shared = new MemoryObjectStore();
    const tables = await Promise.all(
      Array.from({ length: 5 }, () => DeltaTable.create(shared, { schema, ifNotExists: true })),
    );
    expect(new Set(tables.map((t) => t.snapshot().metadata.id)).size).toBe(1);
    expect(await readCommit(shared, 1)).toBeUndefined();
  });

  it('refuses bad schemas, partition columns and properties', async () => {
    const store = new MemoryObjectStore();
    await expect(DeltaTable.create(store, { schema: { type: 'struct', fields: [] } })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(
      DeltaTable.create(store, { schema: { type: 'struct', fields: [f('a', 'long'), f('A', 'long')] } }),
    ).rejects.toMatchObject({ code: 'SCHEMA_MISMATCH' });
    await expect(
      DeltaTable.create(store, { schema: { type: 'struct', fields: [f('t', 'timestamp_ntz'), f('x', 'long')] } }),
    ).rejects.toMatchObject({ code: 'UNSUPPORTED_FEATURE', context: { feature: 'timestampNtz' } });
    await expect(DeltaTable.create(store, { schema, partitionColumns: ['nope'] })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(
      DeltaTable.create(store, { schema, properties: { 'delta.enableDeletionVectors': 'true' } }),
    ).rejects.toMatchObject({ code: 'UNSUPPORTED_FEATURE', context: { feature: 'deletionVectors' } });
    await expect(
      DeltaTable.create(store, { schema, properties: { 'delta.checkpointInterval': '0' } }),
    ).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    const warnings: string[] = [];
    await DeltaTable.create(
      store,
      { schema, properties: { 'delta.setTransactionRetentionDuration': 'interval 7 days' } },
      { onWarning: (m) => warnings.push(m) },
    );
    expect(warnings.join()).toMatch(/setTransactionRetentionDuration/);
    expect(await store.head('_delta_log/00000000000000000000.json')).toBeDefined();
  });
});

describe('DeltaTable.append', () => {
  it('appends rows with WRITE commitInfo and reads them back', async () => {
    const store = new MemoryObjectStore();
    const table = await DeltaTable.create(store, { schema });
    const outcome = await table.append([
      { id: 1, name: 'a', day: '2024-01-01' },
      { id: 2n, name: null },
    ]);
    expect(outcome).toMatchObject({ kind: 'committed', version: 1, numFiles: 1, numRows: 2 });
    const actions = await readCommit(store, 1);
    const info = commitInfo(actions);
    expect(info).toMatchObject({
      operation: 'WRITE',
      operationParameters: { mode: 'Append', partitionBy: '[]' },
      readVersion: 0,
      isolationLevel: 'Serializable',
      isBlindAppend: true,
      engineInfo: ENGINE_INFO,
    });
    const add = addsOf(actions)[0] as AddAction;
    expect(info.operationMetrics).toEqual({ numFiles: '1', numOutputRows: '2', numOutputBytes: String(add.size) });
    expect(add.path).toMatch(/^part-00000-[0-9a-f-]{36}-c000\.snappy\.parquet$/);
    expect(add.dataChange).toBe(true);
    expect(JSON.parse(add.stats as string)).toEqual({
      numRecords: 2,
      minValues: { id: 1, name: 'a', day: '2024-01-01' },
      maxValues: { id: 2, name: 'a', day: '2024-01-01' },
      nullCount: { id: 0, name: 1, day: 1 },
    });
    expect((await store.head(add.path)).size).toBe(add.size);
    const rows = await (await DeltaTable.open(store)).scanRows();
    expect(rows).toEqual([
      { id: 1n, name: 'a', day: '2024-01-01' },
      { id: 2n, name: null, day: null },
    ]);
  });

  it('commits an empty append (e.g. to record a txn)', async () => {
    const table = await DeltaTable.create(new MemoryObjectStore(), { schema });
    const outcome = await table.append([], { txn: { appId: 'q', version: 0 } });
    expect(outcome).toMatchObject({ kind: 'committed', version: 1, numFiles: 0 });
    expect(await table.txnVersion('q')).toBe(0);
  });

  it('enforces the schema: extra columns and wrong types fail and write nothing', async () => {
    const store = new MemoryObjectStore();
    const table = await DeltaTable.create(store, { schema });
    await expect(table.append([{ id: 1, extra: 1 }])).rejects.toMatchObject({
      code: 'SCHEMA_MISMATCH',
      context: { column: 'extra' },
    });
    await expect(table.append([{ id: 'x' }])).rejects.toMatchObject({
      code: 'SCHEMA_MISMATCH',
      context: { column: 'id', tableType: 'long', dataType: 'string' },
    });
    await expect(table.append([{ id: 1, day: '2024-13-01' }])).rejects.toMatchObject({
      code: 'INVALID_DATA',
      context: { column: 'day', row: 0 },
    });
    await expect(table.append([{ id: 1 }, { name: 'no id' }])).rejects.toMatchObject({ code: 'INVALID_DATA' });
    expect(store.size).toBe(1); // only version 0: no data file, no commit
  });

  it('names the caller row of an invalid value in a partitioned write', async () => {
    const table = await DeltaTable.create(new MemoryObjectStore(), { schema, partitionColumns: ['name'] });
    await expect(
      table.append([
        { id: 1, name: 'a', day: '2024-01-01' },
        { id: 2, name: 'b', day: '2024-01-01' },
        { id: 3, name: 'b', day: 'not a date' },
      ]),
    ).rejects.toMatchObject({ code: 'INVALID_DATA', context: { column: 'day', row: 2 } });
  });

  it('evolves the schema with mergeSchema in the same commit', async () => {
    const store = new MemoryObjectStore();
    const table = await DeltaTable.create(store, { schema });
    await table.append([{ id: 1 }]);
    const outcome = await table.append([{ id: 2, score: 0.5, tags: ['x'] }], { mergeSchema: true });
    expect(outcome.kind).toBe('committed');
    const actions = await readCommit(store, 2);
    expect(actions?.map((a) => Object.keys(a)[0])).toEqual(['commitInfo', 'metaData', 'add']);
    const evolved = table.snapshot().schema;
    expect(
      evolved.fields.map((x) => `${x.name}:${typeof x.type === 'string' ? x.type : x.type.type}:${x.nullable}`),
    ).toEqual(['id:long:false', 'name:string:true', 'day:date:true', 'score:double:true', 'tags:array:true']);
    const rows = await (await DeltaTable.open(store)).scanRows();
    expect(rows).toEqual([
      { id: 1n, name: null, day: null, score: null, tags: null },
      { id: 2n, name: null, day: null, score: 0.5, tags: ['x'] },
    ]);
  });
});

describe('partitioned writes', () => {
  const pschema: StructType = {
    type: 'struct',
    fields: [f('id', 'long'), f('region', 'string'), f('day', 'date'), f('n', 'integer')],
  };

  it('writes one file per partition under escaped Hive folders, without partition columns in the file', async () => {
    const store = new MemoryObjectStore();
    const table = await DeltaTable.create(store, { schema: pschema, partitionColumns: ['region', 'day'] });
    await table.append([
      { id: 1, region: 'eu/west', day: '2024-01-01', n: 1 },
      { id: 2, region: 'eu/west', day: '2024-01-01', n: 2 },
      { id: 3, region: null, day: '2024-01-02', n: 3 },
      { id: 4, region: 'a b:c', day: new Date(Date.UTC(2024, 0, 2, 12)), n: 4 },
    ]);
    const adds = addsOf(await readCommit(store, 1));
    expect(adds.map((a) => a.partitionValues)).toEqual([
      { region: 'eu/west', day: '2024-01-01' },
      { region: null, day: '2024-01-02' },
      { region: 'a b:c', day: '2024-01-02' },
    ]);
    expect(adds.map((a) => a.path.replace(/part-.*$/, ''))).toEqual([
      'region=eu%252Fwest/day=2024-01-01/',
      'region=__HIVE_DEFAULT_PARTITION__/day=2024-01-02/',
      'region=a%20b%253Ac/day=2024-01-02/',
    ]);
    const keys: string[] = [];
    for await (const o of store.list()) keys.push(o.key);
    expect(keys.filter((k) => k.endsWith('.parquet')).map((k) => k.replace(/part-.*$/, ''))).toEqual([
      'region=__HIVE_DEFAULT_PARTITION__/day=2024-01-02/',
      'region=a b%3Ac/day=2024-01-02/',
      'region=eu%2Fwest/day=2024-01-01/',
    ]);
    // Stats cover data columns only.
    expect(Object.keys(JSON.parse(adds[0]?.stats as string).nullCount)).toEqual(['id', 'n']);
    const rows = await (await DeltaTable.open(store)).scanRows();
    expect(rows.map((r) => [Number(r.id), r.region, r.day]).sort()).toEqual([
      [1, 'eu/west', '2024-01-01'],
      [2, 'eu/west', '2024-01-01'],
      [3, null, '2024-01-02'],
      [4, 'a b:c', '2024-01-02'],
    ]);
  });

  it('splits a partition into several files near targetFileSize', async () => {
    const store = new MemoryObjectStore();
    const table = await DeltaTable.create(store, { schema: pschema, partitionColumns: ['region'] });
    const rows = Array.from({ length: 4000 }, (_, i) => ({
      id: i,
      region: i % 2 ? 'a' : 'b',
      n: i,
      day: '2024-01-01',
    }));
    const outcome = await table.append(rows, { targetFileSize: 4096, compression: 'uncompressed' });
    const adds = addsOf(await readCommit(store, 1));
    expect(outcome.numFiles).toBe(adds.length);
    expect(adds.length).toBeGreaterThan(4);
    const sizes = adds.map((a) => a.size);
    // After the first file calibrates the estimate, files land near the target.
    for (const size of sizes.slice(1, -1)) expect(size).toBeGreaterThan(1024);
    for (const size of sizes) expect(size).toBeLessThan(4096 * 4);
    expect(adds.reduce((n, a) => n + JSON.parse(a.stats as string).numRecords, 0)).toBe(4000);
    expect(ids(await table.scanRows())).toEqual(rows.map((r) => r.id));
  });
});

describe('overwrite', () => {
  const pschema: StructType = { type: 'struct', fields: [f('id', 'long'), f('day', 'date'), f('p', 'integer')] };

  it('full overwrite removes every live file in the same commit', async () => {
    const store = new MemoryObjectStore();
    const table = await DeltaTable.create(store, { schema: pschema, partitionColumns: ['day'] });
    await table.append([
      { id: 1, day: '2024-01-01' },
      { id: 2, day: '2024-01-02' },
    ]);
    const before = table.snapshot().files;
    const outcome = await table.overwrite([{ id: 3, day: '2024-01-03' }]);
    expect(outcome).toMatchObject({ kind: 'committed', version: 2 });
    const actions = await readCommit(store, 2);
    const removes = (actions ?? []).filter((a): a is { remove: RemoveAction } => 'remove' in a);
    expect(removes.map((r) => r.remove.path).sort()).toEqual(before.map((a) => a.path).sort());
    expect(removes[0]?.remove).toMatchObject({ dataChange: true, extendedFileMetadata: true });
    expect(commitInfo(actions)).toMatchObject({
      operationParameters: { mode: 'Overwrite', partitionBy: '["day"]' },
      isBlindAppend: false,
      isolationLevel: 'WriteSerializable',
    });
    expect(ids(await table.scanRows())).toEqual([3]);
  });

  it('replaceWhere replaces only matching partitions and refuses rows outside the predicate', async () => {
    const store = new MemoryObjectStore();
    const table = await DeltaTable.create(store, { schema: pschema, partitionColumns: ['day', 'p'] });
    await table.append([
      { id: 1, day: '2024-01-01', p: 1 },
      { id: 2, day: '2024-01-15', p: 1 },
      { id: 3, day: '2024-02-01', p: 1 },
      { id: 4, day: '2024-01-20', p: null },
    ]);
    const jan = and(ge('day', '2024-01-01'), lt('day', '2024-02-01'), eq('p', 1));
    await expect(table.overwrite([{ id: 9, day: '2024-03-01', p: 1 }], { replaceWhere: jan })).rejects.toMatchObject({
      code: 'INVALID_DATA',
    });
    await expect(
      table.overwrite([{ id: 9, day: '2024-01-05', p: 1 }], { replaceWhere: eq('id', 1) }),
    ).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    const outcome = await table.overwrite([{ id: 10, day: '2024-01-05', p: 1 }], { replaceWhere: jan });
    expect(outcome.version).toBe(2);
    expect(commitInfo(await readCommit(store, 2)).operationParameters).toEqual({
      mode: 'Overwrite',
      partitionBy: '["day","p"]',
      predicate: JSON.stringify(["((day >= DATE'2024-01-01') AND (day < DATE'2024-02-01') AND (p = 1))"]),
    });
    expect(ids(await table.scanRows())).toEqual([3, 4, 10]);
    await table.overwrite([], { replaceWhere: isNull('p') });
    expect(ids(await table.scanRows())).toEqual([3, 10]);
  });

  it('refuses removes on an append-only table', async () => {
    const table = await DeltaTable.create(new MemoryObjectStore(), {
      schema,
      properties: { 'delta.appendOnly': 'true' },
    });
    await table.append([{ id: 1 }]);
    await expect(table.overwrite([{ id: 2 }])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(ids(await table.scanRows())).toEqual([1]);
  });
});

describe('exactly-once txn', () => {
  it('records txn actions and skips a batch whose txn is already committed, writing nothing', async () => {
    const store = new MemoryObjectStore();
    const table = await DeltaTable.create(store, { schema });
    const first = await table.append([{ id: 1 }], {
      txn: [
        { appId: 'query-1', version: 7 },
        { appId: 'query-1-p0', version: 1234 },
      ],
    });
    expect(first).toMatchObject({ kind: 'committed', version: 1 });
    const txns = (await readCommit(store, 1))?.filter((a) => 'txn' in a);
    expect(txns).toEqual([
      { txn: { appId: 'query-1', version: 7, lastUpdated: expect.any(Number) } },
      { txn: { appId: 'query-1-p0', version: 1234, lastUpdated: expect.any(Number) } },
    ]);
    const objects = store.size;
    const replay = await table.append([{ id: 1 }], { txn: { appId: 'query-1', version: 7 } });
    expect(replay).toMatchObject({ kind: 'already-committed', version: 1, numFiles: 0 });
    const older = await (await DeltaTable.open(store)).append([{ id: 1 }], { txn: { appId: 'query-1', version: 3 } });
    expect(older.kind).toBe('already-committed');
    expect(store.size).toBe(objects);
    expect(await table.txnVersion('query-1')).toBe(7);
    expect(await table.txnVersion('other')).toBeUndefined();
    const next = await table.append([{ id: 2 }], { txn: { appId: 'query-1', version: 8 } });
    expect(next).toMatchObject({ kind: 'committed', version: 2 });
    expect(ids(await table.scanRows())).toEqual([1, 2]);
  });

  it('refuses a txn set that is only partly committed and invalid txn arguments', async () => {
    const table = await DeltaTable.create(new MemoryObjectStore(), { schema });
    await table.append([], { txn: { appId: 'a', version: 5 } });
    await expect(
      table.append([{ id: 1 }], {
        txn: [
          { appId: 'a', version: 5 },
          { appId: 'b', version: 1 },
        ],
      }),
    ).rejects.toMatchObject({ code: 'COMMIT_CONFLICT', context: { conflict: 'concurrent-transaction' } });
    await expect(table.append([{ id: 1 }], { txn: { appId: '', version: 1 } })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(table.append([{ id: 1 }], { txn: { appId: 'c', version: -1 } })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
  });

  it('records a custom operation for streaming writes', async () => {
    const store = new MemoryObjectStore();
    const table = await DeltaTable.create(store, { schema });
    await table.append([{ id: 1 }], {
      txn: { appId: 'q', version: 0 },
      operation: { name: 'STREAMING UPDATE', parameters: { outputMode: 'Append', queryId: 'q', epochId: '0' } },
    });
    expect(commitInfo(await readCommit(store, 1))).toMatchObject({
      operation: 'STREAMING UPDATE',
      operationParameters: { outputMode: 'Append', queryId: 'q', epochId: '0' },
    });
  });
});

describe('history and time travel', () => {
  it('lists commits and loads older versions', async () => {
    const table = await DeltaTable.create(new MemoryObjectStore(), { schema });
    await table.append([{ id: 1 }]);
    await table.append([{ id: 2 }]);
    const history = await table.history();
    expect(history.map((h) => [h.version, h.commitInfo.operation])).toEqual([
      [2, 'WRITE'],
      [1, 'WRITE'],
      [0, 'CREATE TABLE'],
    ]);
    const v1 = await table.snapshotAt({ version: 1 });
    expect(ids(await table.scanRows({ snapshot: v1 }))).toEqual([1]);
  });
});

describe('refresh', () => {
  it('concurrent refreshes of one handle: each advances the snapshot it started from, the newest is kept', async () => {
    const inner = new MemoryObjectStore();
    await DeltaTable.create(inner, { schema });
    const store = new FaultyObjectStore(inner);
    const handle = await DeltaTable.open(store);
    const other = await DeltaTable.open(inner);
    await other.append([{ id: 1, name: 'a', day: '2024-01-01' }]);
    await other.append([{ id: 2, name: 'b', day: '2024-01-01' }]);
    // The first refresh's read of version 1 is slow: the second one, started later, finishes first.
    store.inject({ op: 'get', key: /0+1\.json$/, action: 'delay', delayMs: 100 });
    const slow = handle.refresh();
    const fast = handle.refresh();
    expect((await fast).version).toBe(2);
    expect((await slow).version).toBe(2);
    expect(handle.snapshot().version).toBe(2);
    await other.append([{ id: 3, name: 'c', day: '2024-01-02' }]);
    expect((await handle.refresh()).version).toBe(3);
    expect((await handle.scanRows()).map((r) => r.id).sort()).toEqual([1n, 2n, 3n]);
  });
});
