// Tests of sinks/delta/optimize.ts: bin-packing plans, the OPTIMIZE commit (dataChange=false removes and
// adds, same rows), partition filters, and its concurrency: appends never conflict, deletes of the files
// it compacts do.
import { describe, expect, it } from 'vitest';
import type { Action, AddAction, CommitInfoAction } from '../../../sinks/delta/actions.js';
import { loadSnapshot, readCommit } from '../../../sinks/delta/load-snapshot.js';
import { optimize, planBins } from '../../../sinks/delta/optimize.js';
import { eq } from '../../../sinks/delta/predicate.js';
import { DeltaTable } from '../../../sinks/delta/table.js';
import { DeltaTransaction } from '../../../sinks/delta/transaction.js';
import type { StructType } from '../../../sinks/schema.js';
import { MemoryObjectStore } from '../../../storage/memory.js';

const schema: StructType = {
  type: 'struct',
  fields: [
    { name: 'id', type: 'long', nullable: true, metadata: {} },
    { name: 'p', type: 'string', nullable: true, metadata: {} },
    { name: 'v', type: 'double', nullable: true, metadata: {} },
  ],
};
const ids = (rows: Record<string, unknown>[]) => rows.map((r) => Number(r.id)).sort((a, b) => a - b);
const add = (path: string, size: number, p: string | null = 'x'): AddAction => ({
  path,
  size,
  partitionValues: { p },
  modificationTime: 0,
  dataChange: true,
});

async function smallFiles(count = 6): Promise<{ store: MemoryObjectStore; table: DeltaTable }> {
  const store = new MemoryObjectStore();
  const table = await DeltaTable.create(store, { schema, partitionColumns: ['p'] });
  for (let i = 0; i < count; i++) {
    await table.append([
      { id: i * 10, p: 'a', v: i },
      { id: i * 10 + 1, p: 'b', v: i },
    ]);
  }
  return { store, table };
}

describe('planBins', () => {
  it('packs small files per partition into bins up to the target, dropping single-file bins', () => {
    const files = [
      add('a1', 10),
      add('a2', 30),
      add('a3', 50),
      add('a4', 200),
      add('b1', 5, 'y'),
      add('c1', 5, null),
      add('c2', 5, null),
    ];
    const bins = planBins(files, ['p'], 100, 100);
    expect(bins.map((b) => b.map((f) => f.path))).toEqual([
      ['a1', 'a2', 'a3'],
      ['c1', 'c2'],
    ]);
    expect(planBins(files, ['p'], 60, 60).map((b) => b.map((f) => f.path))).toEqual([
      ['a1', 'a2'],
      ['c1', 'c2'],
    ]);
  });
});

describe('optimize', () => {
  it('compacts each partition into one file with dataChange=false and keeps every row', async () => {
    const { store, table } = await smallFiles();
    const before = table.snapshot();
    const result = await table.optimize();
    expect(result).toMatchObject({ filesRemoved: 12, filesAdded: 2, partitionsOptimized: 2 });
    expect(result.outcome).toMatchObject({ kind: 'committed', version: 7 });
    const actions = (await readCommit(store, 7)) as Action[];
    const info = actions.find((a): a is { commitInfo: CommitInfoAction } => 'commitInfo' in a)?.commitInfo;
    expect(info).toMatchObject({
      operation: 'OPTIMIZE',
      isolationLevel: 'SnapshotIsolation',
      isBlindAppend: false,
      operationParameters: { predicate: '[]', zOrderBy: '[]', auto: false },
      operationMetrics: { numRemovedFiles: '12', numAddedFiles: '2' },
    });
    const removes = actions.filter((a) => 'remove' in a).map((a) => (a as { remove: { dataChange: boolean } }).remove);
    const adds = actions.filter((a): a is { add: AddAction } => 'add' in a).map((a) => a.add);
    expect(removes.every((r) => r.dataChange === false)).toBe(true);
    expect(adds.every((a) => a.dataChange === false && typeof a.stats === 'string')).toBe(true);
    expect(adds.map((a) => JSON.parse(a.stats as string).numRecords)).toEqual([6, 6]);
    expect(ids(await table.scanRows())).toEqual(ids(await table.scanRows({ snapshot: before })));
    expect(table.snapshot().files).toHaveLength(2);
    // Nothing left to compact: no commit.
    expect((await table.optimize()).outcome).toBeUndefined();
    expect(await readCommit(store, 8)).toBeUndefined();
  });

  it('honours targetFileSize and a partition filter', async () => {
    const { store, table } = await smallFiles();
    const result = await table.optimize({ partitionFilter: eq('p', 'b') });
    expect(result).toMatchObject({ filesRemoved: 6, filesAdded: 1, partitionsOptimized: 1 });
    const info = (await readCommit(store, 7))?.find((a): a is { commitInfo: CommitInfoAction } => 'commitInfo' in a);
    expect(info?.commitInfo.operationParameters).toMatchObject({ predicate: JSON.stringify(["(p = 'b')"]) });
    const sizes = table
      .snapshot()
      .files.filter((f) => f.partitionValues.p === 'a')
      .map((f) => f.size);
    expect(sizes).toHaveLength(6);
    const small = await table.optimize({ targetFileSize: (sizes[0] as number) * 2 + 1 });
    expect(small.filesRemoved).toBe(6);
    expect(small.filesAdded).toBeGreaterThanOrEqual(2);
    expect(ids(await table.scanRows())).toEqual([0, 1, 10, 11, 20, 21, 30, 31, 40, 41, 50, 51]);
  });

  it('commits after a concurrent append, and conflicts with a concurrent delete of its files', async () => {
    const { store } = await smallFiles(3);
    const snapshot = await loadSnapshot(store);
    const tx = new DeltaTransaction(store, snapshot);
    await (await DeltaTable.open(store)).append([{ id: 99, p: 'a', v: 0 }]);
    const result = await optimize(store, tx);
    expect(result.outcome).toMatchObject({ kind: 'committed', version: 5 });
    expect(ids(await (await DeltaTable.open(store)).scanRows())).toEqual([0, 1, 10, 11, 20, 21, 99]);

    const { store: s2 } = await smallFiles(3);
    const tx2 = new DeltaTransaction(s2, await loadSnapshot(s2));
    await (await DeltaTable.open(s2)).overwrite([{ id: 7, p: 'a', v: 0 }]);
    await expect(optimize(s2, tx2)).rejects.toMatchObject({
      code: 'COMMIT_CONFLICT',
      context: { conflict: 'concurrent-delete-read' },
    });
  });

  it('is allowed on an append-only table (it changes no data)', async () => {
    const table = await DeltaTable.create(new MemoryObjectStore(), {
      schema,
      properties: { 'delta.appendOnly': 'true' },
    });
    await table.append([{ id: 1 }]);
    await table.append([{ id: 2 }]);
    expect((await table.optimize()).filesRemoved).toBe(2);
  });
});
