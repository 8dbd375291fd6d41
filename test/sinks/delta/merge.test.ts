// Tests of sinks/delta/merge.ts and DeltaTable.merge on real tables (LocalObjectStore in temp dirs):
// canonical key encoding across JS representations, key validation, inserts and updates, duplicate
// keys, null-safe keys, partition and statistics pruning (only files that may hold a key are read,
// only files that do are rewritten), the MERGE commitInfo, txn exactly-once and conflict detection.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Action, AddAction, CommitInfoAction, RemoveAction } from '../../../sinks/delta/actions.js';
import { readCommit } from '../../../sinks/delta/load-snapshot.js';
import { keyEncoder, mergeByKey, resolveKeyColumns } from '../../../sinks/delta/merge.js';
import { DeltaTable } from '../../../sinks/delta/table.js';
import { DeltaTransaction } from '../../../sinks/delta/transaction.js';
import type { DataType, StructType } from '../../../sinks/schema.js';
import { LocalObjectStore } from '../../../storage/local.js';

const f = (name: string, type: DataType, nullable = true) => ({ name, type, nullable, metadata: {} });
type Row = Record<string, unknown>;

const root = mkdtempSync(join(tmpdir(), 'lakestream-merge-'));
let counter = 0;
const freshStore = () => new LocalObjectStore(join(root, `t${counter++}`));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const windowType: DataType = { type: 'struct', fields: [f('start', 'timestamp'), f('end', 'timestamp')] };
const windowSchema: StructType = {
  type: 'struct',
  fields: [f('window', windowType), f('word', 'string'), f('count', 'long')],
};
const minute = (m: number) => ({
  start: new Date(Date.UTC(2024, 0, 1, 0, m)),
  end: new Date(Date.UTC(2024, 0, 1, 0, m + 1)),
});

const iso = (micros: unknown) => new Date(Number((micros as bigint) / 1000n)).toISOString();
/** Table rows of windowSchema as plain, sorted JSON-able objects. */
function windowRows(rows: Row[]): { start: string; word: string; count: number }[] {
  return rows
    .map((r) => {
      const w = r.window as { start: bigint };
      return { start: iso(w.start), word: r.word as string, count: Number(r.count) };
    })
    .sort((a, b) => a.start.localeCompare(b.start) || a.word.localeCompare(b.word));
}

function actionsOf<K extends 'add' | 'remove' | 'commitInfo'>(actions: Action[] | undefined, kind: K) {
  return (actions ?? []).filter((a) => kind in a).map((a) => (a as Record<K, unknown>)[kind]);
}
const removesOf = (actions: Action[] | undefined) => actionsOf(actions, 'remove') as RemoveAction[];
const addsOf = (actions: Action[] | undefined) => actionsOf(actions, 'add') as AddAction[];
const infoOf = (actions: Action[] | undefined) => actionsOf(actions, 'commitInfo')[0] as CommitInfoAction;

describe('keyEncoder', () => {
  it('encodes equal keys equally across the JS representations writer and reader use', () => {
    const schema: StructType = {
      type: 'struct',
      fields: [
        f('window', windowType),
        f('n', 'long'),
        f('d', 'date'),
        f('dec', 'decimal(10,2)'),
        f('x', 'double'),
        f('fl', 'float'),
        f('s', 'string'),
      ],
    };
    const enc = keyEncoder(schema, ['window', 'n', 'd', 'dec', 'x', 'fl', 's']);
    const start = Date.UTC(2024, 0, 1, 0, 5);
    const a = {
      window: { start: new Date(start), end: new Date(start + 60_000) },
      n: 5,
      d: new Date(Date.UTC(2024, 1, 29, 13)),
      dec: '1.5',
      x: -0,
      fl: 1.1,
      s: 'k',
    };
    const b = {
      window: { start: BigInt(start) * 1000n, end: '2024-01-01T00:06:00Z' },
      n: 5n,
      d: '2024-02-29',
      dec: 150n, // a bigint decimal is the unscaled value, as the encoder takes it
      x: 0,
      fl: Math.fround(1.1),
      s: 'k',
    };
    expect(enc.encode(a)).toBe(enc.encode(b));
    expect(enc.encode({ ...a, s: 'K' })).not.toBe(enc.encode(a));
    expect(enc.encode({ ...a, window: { ...a.window, end: new Date(start + 60_001) } })).not.toBe(enc.encode(a));
    expect(enc.describe(enc.encode(a))).toContain('window={"start":"2024-01-01T00:05:00.000000Z"');
    // Null-safe: null and undefined are one key, different from any value.
    expect(enc.encode({ ...a, s: null })).toBe(enc.encode({ ...a, s: undefined }));
    expect(enc.encode({ ...a, s: null })).not.toBe(enc.encode(a));
  });

  it('refuses bad key lists and values that do not fit the key type', () => {
    const schema: StructType = {
      type: 'struct',
      fields: [f('id', 'long'), f('m', { type: 'map', keyType: 'string', valueType: 'long', valueContainsNull: true })],
    };
    expect(() => resolveKeyColumns(schema, [])).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => resolveKeyColumns(schema, ['nope'])).toThrow(/key column nope is not a column/);
    expect(() => resolveKeyColumns(schema, ['m'])).toThrow(/maps cannot be compared/);
    expect(() => resolveKeyColumns(schema, ['id', 'ID'])).toThrow(/listed twice/);
    expect(resolveKeyColumns(schema, ['ID'])).toEqual([{ name: 'id', type: 'long' }]);
    const enc = keyEncoder(schema, ['id']);
    expect(() => enc.encode({ id: 1.5 }, 3)).toThrow(expect.objectContaining({ code: 'INVALID_DATA' }));
    expect(() => enc.encode({ id: 1.5 }, 3)).toThrow(/row 3: key column id/);
  });
});

describe('DeltaTable.merge', () => {
  it('inserts into an empty table, then updates and inserts by a struct + string key', async () => {
    const store = freshStore();
    const table = await DeltaTable.create(store, { schema: windowSchema });
    const first = await table.merge(
      [
        { window: minute(0), word: 'a', count: 1 },
        { window: minute(0), word: 'b', count: 2 },
      ],
      { keys: ['window', 'word'] },
    );
    expect(first).toMatchObject({ kind: 'committed', version: 1, numRows: 2, numFiles: 1 });
    expect(first.metrics).toMatchObject({
      numTargetRowsInserted: 2,
      numTargetRowsUpdated: 0,
      numTargetFilesRemoved: 0,
    });

    const second = await table.merge(
      [
        { window: minute(0), word: 'a', count: 10 },
        { window: minute(1), word: 'a', count: 1 },
      ],
      { keys: ['window', 'word'] },
    );
    expect(second.metrics).toMatchObject({
      numSourceRows: 2,
      numTargetRowsInserted: 1,
      numTargetRowsUpdated: 1,
      numTargetRowsCopied: 1,
      numTargetFilesRemoved: 1,
      numTargetFilesAdded: 1,
    });
    expect(windowRows(await table.scanRows())).toEqual([
      { start: '2024-01-01T00:00:00.000Z', word: 'a', count: 10 },
      { start: '2024-01-01T00:00:00.000Z', word: 'b', count: 2 },
      { start: '2024-01-01T00:01:00.000Z', word: 'a', count: 1 },
    ]);

    const actions = await readCommit(store, 2);
    const info = infoOf(actions);
    expect(info.operation).toBe('MERGE');
    expect(info.operationParameters).toMatchObject({
      predicate: JSON.stringify(['(target.window <=> source.window) AND (target.word <=> source.word)']),
      matchedPredicates: '[{"actionType":"update"}]',
      notMatchedPredicates: '[{"actionType":"insert"}]',
    });
    expect(info.operationMetrics).toMatchObject({ numTargetRowsUpdated: '1', numTargetRowsInserted: '1' });
    expect(info.isBlindAppend).toBe(false);
    expect(info.isolationLevel).toBe('WriteSerializable');
    expect(removesOf(actions)).toHaveLength(1);
    expect(removesOf(actions)[0]?.path).toBe(addsOf(await readCommit(store, 1))[0]?.path);
  });

  it('refuses two source rows with one key, naming the key, and commits nothing', async () => {
    const store = freshStore();
    const table = await DeltaTable.create(store, { schema: windowSchema });
    const error = await table
      .merge(
        [
          { window: minute(3), word: 'x', count: 1 },
          { window: minute(4), word: 'x', count: 1 },
          { window: minute(3), word: 'x', count: 2 },
        ],
        { keys: ['window', 'word'] },
      )
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'INVALID_DATA', context: { rows: [0, 2] } });
    expect((error as Error).message).toContain('2024-01-01T00:03:00.000000Z');
    expect((error as Error).message).toContain('word="x"');
    expect(await table.history()).toHaveLength(1);
  });

  it('matches null keys null-safely and replaces every target row with the key', async () => {
    const schema: StructType = { type: 'struct', fields: [f('k', 'string'), f('v', 'long')] };
    const store = freshStore();
    const table = await DeltaTable.create(store, { schema });
    await table.append([
      { k: null, v: 1 },
      { k: 'a', v: 1 },
      { k: 'a', v: 2 }, // duplicates in the target: MERGE updates every match
    ]);
    const outcome = await table.merge(
      [
        { k: null, v: 9 },
        { k: 'a', v: 7 },
      ],
      { keys: ['k'] },
    );
    expect(outcome.metrics).toMatchObject({ numTargetRowsUpdated: 3, numTargetRowsInserted: 0 });
    const rows = (await table.scanRows()).map((r) => `${r.k}:${r.v}`).sort();
    expect(rows).toEqual(['a:7', 'a:7', 'null:9']);
  });

  it('rewrites only the files of the touched partitions when the key has the partition column', async () => {
    const schema: StructType = { type: 'struct', fields: [f('day', 'date'), f('key', 'string'), f('n', 'long')] };
    const store = freshStore();
    const table = await DeltaTable.create(store, { schema, partitionColumns: ['day'] });
    const days = ['2024-01-01', '2024-01-02', '2024-01-03'];
    await table.append(days.flatMap((day) => ['a', 'b'].map((key) => ({ day, key, n: 1 }))));
    const before = table.snapshot().files;
    expect(before).toHaveLength(3);

    const outcome = await table.merge(
      [
        { day: new Date(Date.UTC(2024, 0, 2)), key: 'a', n: 5 }, // a Date matches the 'YYYY-MM-DD' partition
        { day: '2024-01-04', key: 'z', n: 1 },
      ],
      { keys: ['day', 'key'] },
    );
    expect(outcome.metrics).toMatchObject({
      numTargetFilesBeforeSkipping: 3,
      numTargetFilesAfterSkipping: 1,
      numTargetFilesRemoved: 1,
      numTargetRowsUpdated: 1,
      numTargetRowsCopied: 1,
      numTargetRowsInserted: 1,
    });
    const actions = await readCommit(store, outcome.version);
    const removed = removesOf(actions);
    expect(removed.map((r) => r.partitionValues)).toEqual([{ day: '2024-01-02' }]);
    expect(removed[0]?.path).toBe(before.find((a) => a.partitionValues.day === '2024-01-02')?.path);
    expect(
      addsOf(actions)
        .map((a) => a.partitionValues.day)
        .sort(),
    ).toEqual(['2024-01-02', '2024-01-04']);
    const rows = (await table.scanRows()).map((r) => `${r.day}/${r.key}=${r.n}`).sort();
    expect(rows).toEqual([
      '2024-01-01/a=1',
      '2024-01-01/b=1',
      '2024-01-02/a=5',
      '2024-01-02/b=1',
      '2024-01-03/a=1',
      '2024-01-03/b=1',
      '2024-01-04/z=1',
    ]);
  });

  it('skips files by min/max statistics, nested window fields included, and keeps unmatched candidates', async () => {
    const store = freshStore();
    const table = await DeltaTable.create(store, { schema: windowSchema });
    // Three files, one per window range: minutes 0-1, 10-11, 20-21.
    for (const base of [0, 10, 20]) {
      await table.append([
        { window: minute(base), word: 'a', count: 1 },
        { window: minute(base + 1), word: 'a', count: 1 },
      ]);
    }
    const outcome = await table.merge([{ window: minute(11), word: 'a', count: 2 }], { keys: ['window', 'word'] });
    expect(outcome.metrics).toMatchObject({ numTargetFilesAfterSkipping: 1, numTargetFilesRemoved: 1 });

    // A word between the file's min and max: the file is read but holds no match, so it stays.
    const words = await DeltaTable.create(freshStore(), {
      schema: { type: 'struct', fields: [f('id', 'long'), f('v', 'string')] },
    });
    await words.append([
      { id: 1, v: 'x' },
      { id: 3, v: 'x' },
    ]);
    await words.append([
      { id: 10, v: 'x' },
      { id: 12, v: 'x' },
    ]);
    const kept = await words.merge([{ id: 2, v: 'y' }], { keys: ['id'] });
    expect(kept.metrics).toMatchObject({
      numTargetFilesAfterSkipping: 1,
      numTargetFilesRemoved: 0,
      numTargetRowsInserted: 1,
    });
    expect(removesOf(await readCommit(words.store, kept.version))).toEqual([]);
    expect((await words.scanRows()).map((r) => Number(r.id)).sort((a, b) => a - b)).toEqual([1, 2, 3, 10, 12]);
  });

  it('is exactly-once with a txn and conflicts with a concurrent commit that removed a file it read', async () => {
    const store = freshStore();
    const schema: StructType = { type: 'struct', fields: [f('id', 'long'), f('v', 'string')] };
    const table = await DeltaTable.create(store, { schema });
    await table.append([
      { id: 1, v: 'a' },
      { id: 2, v: 'b' },
    ]);
    const txn = { appId: 'q', version: 0 };
    expect((await table.merge([{ id: 1, v: 'A' }], { keys: ['id'], txn })).kind).toBe('committed');
    const replay = await table.merge([{ id: 1, v: 'A' }], { keys: ['id'], txn });
    expect(replay).toMatchObject({ kind: 'already-committed', numFiles: 0, metrics: undefined });

    // A merge reads the file holding id 2; meanwhile another writer replaces the table.
    const snapshot = await table.refresh();
    const tx = new DeltaTransaction(store, snapshot);
    await mergeByKey(tx, [{ id: 2, v: 'B' }], { keys: ['id'] });
    const other = await DeltaTable.open(new LocalObjectStore(store.rootDir));
    await other.overwrite([{ id: 2, v: 'other' }]);
    await expect(tx.commit({ name: 'MERGE', parameters: {} })).rejects.toMatchObject({ code: 'COMMIT_CONFLICT' });
    expect((await table.refresh()).files).toHaveLength(1);
    expect(await table.scanRows()).toEqual([{ id: 2n, v: 'other' }]);
  });
});
