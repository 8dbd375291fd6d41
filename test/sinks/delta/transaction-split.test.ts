// Tests of DeltaTransaction.writeFiles' parallel split (minRowsPerFile / maxParallelFiles): a group
// that fits one file is written as near-equal consecutive slices encoded at once; small groups, the
// off switch, dataChange false writes and groups already split by targetFileSize are not; the files
// are the same bytes whether encoded on the pool or on the calling thread.
import { afterAll, describe, expect, it } from 'vitest';
import type { AddAction } from '../../../sinks/delta/actions.js';
import { loadSnapshot } from '../../../sinks/delta/load-snapshot.js';
import { DeltaTable } from '../../../sinks/delta/table.js';
import { DeltaTransaction, parallelFileCount, type WriteFilesOptions } from '../../../sinks/delta/transaction.js';
import { defaultEncodePool, ParquetEncodePool } from '../../../sinks/parquet/index.js';
import type { DataType, StructType } from '../../../sinks/schema.js';
import { MemoryObjectStore } from '../../../storage/memory.js';

const f = (name: string, type: DataType) => ({ name, type, nullable: true, metadata: {} });
const schema: StructType = { type: 'struct', fields: [f('id', 'long'), f('p', 'string'), f('s', 'string')] };
type Row = Record<string, unknown>;
const makeRows = (n: number, p: (i: number) => string = () => 'a'): Row[] =>
  Array.from({ length: n }, (_, i) => ({ id: i, p: p(i), s: i % 7 === 0 ? null : `v${i % 1000}` }));

const pool = new ParquetEncodePool({ size: 2 });
afterAll(() => pool.close());

interface Stats {
  numRecords: number;
  minValues: Row;
  maxValues: Row;
  nullCount: Row;
}
const statsOf = (add: AddAction) => JSON.parse(add.stats as string) as Stats;
const counts = (adds: readonly AddAction[]) => adds.map((a) => statsOf(a).numRecords);

async function write(
  rows: Row[],
  options: WriteFilesOptions,
  partitionBy: string[] = [],
): Promise<{ store: MemoryObjectStore; adds: AddAction[] }> {
  const store = new MemoryObjectStore();
  await DeltaTable.create(store, { schema, partitionColumns: partitionBy });
  const tx = new DeltaTransaction(store, await loadSnapshot(store), { now: () => 1 });
  const adds = await tx.writeFiles(rows, options);
  await tx.commit({ name: 'WRITE', parameters: {} });
  return { store, adds };
}

async function scanIds(store: MemoryObjectStore): Promise<number[]> {
  const table = await DeltaTable.open(store);
  return (await table.scanRows()).map((r) => Number(r.id));
}

describe('parallelFileCount', () => {
  it('splits into up to maxParallelFiles files of at least minRowsPerFile rows', () => {
    expect(parallelFileCount(32_767, 16_384, 2)).toBe(1);
    expect(parallelFileCount(32_768, 16_384, 2)).toBe(2);
    expect(parallelFileCount(1_000_000, 16_384, 2)).toBe(2);
    expect(parallelFileCount(50_000, 16_384, 8)).toBe(3);
    expect(parallelFileCount(50_000, 16_384, 1)).toBe(1);
    expect(parallelFileCount(0, 16_384, 4)).toBe(1);
  });
});

describe('DeltaTransaction.writeFiles parallel split', () => {
  it('splits a one-file group into near-equal consecutive slices, in order, with per-file stats', async () => {
    const rows = makeRows(40_000);
    const { store, adds } = await write(rows, { encodePool: pool, minRowsPerFile: 10_000, maxParallelFiles: 3 });
    expect(counts(adds)).toEqual([13_334, 13_333, 13_333]);
    expect(adds.map((a) => a.path)).toEqual([...adds.map((a) => a.path)].sort());
    let start = 0;
    for (const add of adds) {
      const stats = statsOf(add);
      const end = start + stats.numRecords;
      expect(stats.minValues).toMatchObject({ id: start });
      expect(stats.maxValues).toMatchObject({ id: end - 1 });
      const nulls = rows.slice(start, end).filter((r) => r.s === null).length;
      expect(stats.nullCount).toEqual({ id: 0, p: 0, s: nulls });
      start = end;
    }
    // Rows read back file after file equal the input order.
    expect(await scanIds(store)).toEqual(rows.map((r) => r.id));
    const table = await DeltaTable.open(store);
    expect(table.snapshot().files.length).toBe(3);
  });

  it('defaults to the pool size and 16 384 rows per file; small batches stay one file', async () => {
    expect(counts((await write(makeRows(40_000), { encodePool: pool })).adds)).toEqual([20_000, 20_000]);
    expect(counts((await write(makeRows(32_767), { encodePool: pool })).adds)).toEqual([32_767]);
    expect(counts((await write(makeRows(100), { encodePool: pool })).adds)).toEqual([100]);
    // No pool: one file (nothing to encode it in parallel on).
    expect(counts((await write(makeRows(40_000), { encodePool: null })).adds)).toEqual([40_000]);
  });

  it('is off with maxParallelFiles 1, and by default for dataChange false writes (optimize)', async () => {
    const rows = makeRows(40_000);
    expect(counts((await write(rows, { encodePool: pool, maxParallelFiles: 1 })).adds)).toEqual([40_000]);
    const rearranged = (await write(rows, { encodePool: pool, dataChange: false })).adds;
    expect(counts(rearranged)).toEqual([40_000]);
    const forced = (await write(rows, { encodePool: pool, dataChange: false, maxParallelFiles: 2 })).adds;
    expect(counts(forced)).toEqual([20_000, 20_000]);
  });

  it('splits each large partition group on its own, adds in group order', async () => {
    // Group a: 40 000 rows (split in 2), group b: 1 000 rows (one file), interleaved in the input.
    const rows = makeRows(41_000, (i) => (i % 41 === 40 ? 'b' : 'a'));
    const { store, adds } = await write(rows, { encodePool: pool }, ['p']);
    expect(adds.map((a) => a.partitionValues)).toEqual([{ p: 'a' }, { p: 'a' }, { p: 'b' }]);
    expect(counts(adds)).toEqual([20_000, 20_000, 1_000]);
    const groupA = rows.filter((r) => r.p === 'a').map((r) => r.id);
    expect(statsOf(adds[0] as AddAction).minValues).toMatchObject({ id: groupA[0] });
    expect(statsOf(adds[0] as AddAction).maxValues).toMatchObject({ id: groupA[19_999] });
    expect(statsOf(adds[1] as AddAction).minValues).toMatchObject({ id: groupA[20_000] });
    const scanned = await scanIds(store);
    expect(scanned).toEqual([...groupA, ...rows.filter((r) => r.p === 'b').map((r) => r.id)]);
  });

  it('does not split groups that targetFileSize already splits, and never writes larger files', async () => {
    const rows = makeRows(40_000);
    const options = { encodePool: pool, targetFileSize: 64 * 1024 };
    const off = (await write(rows, { ...options, maxParallelFiles: 1 })).adds;
    const on = (await write(rows, { ...options, maxParallelFiles: 4, minRowsPerFile: 1_000 })).adds;
    expect(off.length).toBeGreaterThan(1);
    expect(counts(on)).toEqual(counts(off));
    expect(on.map((a) => a.size)).toEqual(off.map((a) => a.size));
  });

  it('writes the same bytes and stats on the pool and on the calling thread', async () => {
    const rows = makeRows(36_000, (i) => (i % 3 === 0 ? 'b' : 'a'));
    const options = { minRowsPerFile: 5_000, maxParallelFiles: 3 };
    const onPool = await write(rows, { ...options, encodePool: pool }, ['p']);
    const inline = await write(rows, { ...options, encodePool: null }, ['p']);
    expect(counts(onPool.adds)).toEqual([6_000, 6_000, 8_000, 8_000, 8_000]);
    const withoutUuid = (adds: AddAction[]) =>
      adds.map((a) => ({ ...a, path: a.path.replace(/-[0-9a-f-]{36}-/, '-') }));
    expect(withoutUuid(inline.adds)).toEqual(withoutUuid(onPool.adds));
    for (let i = 0; i < onPool.adds.length; i++) {
      const a = await onPool.store.get(decodeURIComponent((onPool.adds[i] as AddAction).path));
      const b = await inline.store.get(decodeURIComponent((inline.adds[i] as AddAction).path));
      expect(Buffer.from(b).equals(Buffer.from(a))).toBe(true);
    }
  });

  it('refuses invalid options', async () => {
    for (const bad of [{ minRowsPerFile: 0 }, { maxParallelFiles: 1.5 }, { maxParallelFiles: -1 }]) {
      await expect(write(makeRows(10), { encodePool: null, ...bad })).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
      });
    }
  });

  it('DeltaTable.append splits a large batch across the default pool', async () => {
    const store = new MemoryObjectStore();
    const table = await DeltaTable.create(store, { schema });
    const outcome = await table.append(makeRows(40_000));
    const size = defaultEncodePool()?.size ?? 1;
    expect(outcome.numFiles).toBe(Math.min(size, 2));
    expect(await scanIds(store)).toEqual(makeRows(40_000).map((r) => r.id));
  });
});
