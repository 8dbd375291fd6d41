// Tests of sinks/delta/auto-compact.ts and the DeltaSink's autoCompact option: the settings (option,
// table property, refusals naming the option), when a compaction is due (per partition, small files
// only), the OPTIMIZE commits a streaming sink makes (rows unchanged, dataChange=false, txns kept,
// only due partitions), a failed compaction (a warning, the batch committed, the next commit
// compacts), and delta-rs reading the compacted table, at its latest version and before compaction.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AddAction, CommitInfoAction, RemoveAction } from '../../../sinks/delta/actions.js';
import {
  AUTO_COMPACT_DEFAULTS,
  AUTO_COMPACT_PROPERTY,
  autoCompactSettings,
  compactionDue,
} from '../../../sinks/delta/auto-compact.js';
import { readCommit } from '../../../sinks/delta/load-snapshot.js';
import { type AutoCompaction, DeltaSink, type DeltaSinkOptions } from '../../../sinks/delta/stream-sink.js';
import { DeltaTable } from '../../../sinks/delta/table.js';
import type { DataType, StructType } from '../../../sinks/schema.js';
import { FaultyObjectStore } from '../../../storage/faulty.js';
import { LocalObjectStore } from '../../../storage/local.js';
import type { ObjectStore } from '../../../storage/object-store.js';
import type { SinkContext } from '../../../stream/sink.js';
import { pythonReaders } from '../../kit/capabilities.js';
import { requireCapability } from '../../kit/capability.js';
import { PythonSession } from '../../kit/python.js';

const cap = await requireCapability(pythonReaders);

const f = (name: string, type: DataType) => ({ name, type, nullable: true, metadata: {} });
const schema: StructType = { type: 'struct', fields: [f('id', 'long'), f('day', 'string')] };
type Row = { id: number; day: string };

const root = mkdtempSync(join(tmpdir(), 'lakestream-auto-compact-'));
let counter = 0;
const freshDir = () => join(root, `t${counter++}`);
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Opened {
  sink: DeltaSink;
  warnings: string[];
  compactions: AutoCompaction[];
}

async function openSink(
  store: ObjectStore,
  autoCompact: DeltaSinkOptions['autoCompact'],
  options: Partial<DeltaSinkOptions> = {},
): Promise<Opened> {
  const warnings: string[] = [];
  const compactions: AutoCompaction[] = [];
  const sink = new DeltaSink({
    store,
    schema,
    ...options,
    ...(autoCompact === undefined ? {} : { autoCompact }),
    onCompacted: (c) => compactions.push(c),
  });
  const ctx: SinkContext = {
    queryId: 'q',
    outputMode: 'append',
    keyColumns: [],
    schema,
    now: Date.now,
    warn: (message, context) => warnings.push(`${message}${context?.error ? `: ${context.error}` : ''}`),
  };
  await sink.open(ctx);
  return { sink, warnings, compactions };
}

const rowsOf = (batchId: number, day = '2024-01-01'): Row[] => [
  { id: batchId * 2, day },
  { id: batchId * 2 + 1, day },
];

async function append(sink: DeltaSink, batchId: number, rows: Row[] = rowsOf(batchId)) {
  return sink.commit(await sink.prepare({ batchId, rows }));
}

async function tableState(store: ObjectStore): Promise<{ ids: number[]; files: number; version: number }> {
  const table = await DeltaTable.open(store);
  const ids = (await table.scanRows()).map((r) => Number(r.id)).sort((a, b) => a - b);
  return { ids, files: table.snapshot().files.length, version: table.snapshot().version };
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const info = (actions: Awaited<ReturnType<typeof readCommit>>) =>
  (actions ?? []).flatMap((a) => ('commitInfo' in a ? [a.commitInfo] : []))[0] as CommitInfoAction;

describe('autoCompactSettings', () => {
  it('follows the option, else the table property, else is off', () => {
    expect(autoCompactSettings(undefined, {})).toBeUndefined();
    expect(autoCompactSettings(undefined, { [AUTO_COMPACT_PROPERTY]: 'true' })).toEqual(AUTO_COMPACT_DEFAULTS);
    expect(autoCompactSettings(undefined, { [AUTO_COMPACT_PROPERTY]: ' Auto ' })).toEqual(AUTO_COMPACT_DEFAULTS);
    expect(autoCompactSettings(undefined, { [AUTO_COMPACT_PROPERTY]: 'false' })).toBeUndefined();
    expect(autoCompactSettings(false, { [AUTO_COMPACT_PROPERTY]: 'true' })).toBeUndefined();
    expect(autoCompactSettings(true, {})).toEqual(AUTO_COMPACT_DEFAULTS);
    expect(autoCompactSettings({ minFiles: 3 }, { [AUTO_COMPACT_PROPERTY]: 'false' })).toEqual({
      minFiles: 3,
      maxFileSize: AUTO_COMPACT_DEFAULTS.maxFileSize,
    });
  });

  it('refuses minFiles below 2 and a maxFileSize that is not a positive integer, naming the option', () => {
    expect(() => autoCompactSettings({ minFiles: 1 }, {})).toThrow(/autoCompact\.minFiles must be .* got 1/);
    expect(() => autoCompactSettings({ minFiles: 2.5 }, {})).toThrow(/autoCompact\.minFiles/);
    expect(() => autoCompactSettings({ maxFileSize: 0 }, {})).toThrow(/autoCompact\.maxFileSize .* got 0/);
    expect(() => autoCompactSettings({ maxFileSize: Number.NaN }, {})).toThrow(/autoCompact\.maxFileSize/);
  });

  it('is checked when the sink opens', async () => {
    await expect(openSink(new LocalObjectStore(freshDir()), { minFiles: 0 })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('autoCompact.minFiles'),
    });
  });
});

describe('compactionDue', () => {
  const file = (size: number, day: string | null): AddAction => ({
    path: `f${size}-${day}`,
    size,
    partitionValues: { day },
    modificationTime: 0,
    dataChange: true,
  });
  const settings = { minFiles: 3, maxFileSize: 100 };

  it('counts the files smaller than maxFileSize per partition', () => {
    expect(compactionDue([file(10, 'a'), file(20, 'a'), file(30, 'b')], ['day'], settings)).toBe(false);
    expect(compactionDue([file(10, 'a'), file(20, 'a'), file(30, 'a')], ['day'], settings)).toBe(true);
    expect(compactionDue([file(10, 'a'), file(20, 'a'), file(100, 'a')], ['day'], settings)).toBe(false);
    expect(compactionDue([file(10, null), file(20, null), file(30, null)], ['day'], settings)).toBe(true);
    expect(compactionDue([file(10, 'a'), file(20, 'b'), file(30, 'c')], [], settings)).toBe(true);
  });
});

describe('DeltaSink autoCompact', () => {
  it('compacts once minFiles small files gathered: same rows, dataChange=false, txns kept', async () => {
    const store = new LocalObjectStore(freshDir());
    const { sink, warnings, compactions } = await openSink(store, { minFiles: 4 });
    for (let b = 0; b < 3; b++) expect(await append(sink, b)).toMatchObject({ kind: 'committed', version: b + 1 });
    expect(compactions).toEqual([]);
    expect((await tableState(store)).files).toBe(3);

    expect(await append(sink, 3)).toMatchObject({ kind: 'committed', version: 4 });
    const state = await tableState(store);
    expect(state).toEqual({ ids: range(8), files: 1, version: 5 });
    const actions = (await readCommit(store, 5))!;
    expect(info(actions)).toMatchObject({
      operation: 'OPTIMIZE',
      operationParameters: { auto: true },
      operationMetrics: { numRemovedFiles: '4', numAddedFiles: '1' },
    });
    const adds = actions.flatMap((a) => ('add' in a ? [a.add] : []));
    const removes = actions.flatMap((a) => ('remove' in a ? [a.remove as RemoveAction] : []));
    expect(adds.map((a) => a.dataChange)).toEqual([false]);
    expect(removes.map((r) => r.dataChange)).toEqual([false, false, false, false]);
    expect(compactions).toEqual([expect.objectContaining({ version: 5, filesRemoved: 4, filesAdded: 1 })]);
    expect(warnings).toEqual([]);

    // The batches stay committed (their txn is in the table): a replay is skipped.
    expect(await append(sink, 3)).toMatchObject({ kind: 'already-committed' });
    // Time travel to before the compaction reads the same rows from the small files.
    const table = await DeltaTable.open(store);
    const before = await table.scanRows({ snapshot: await table.snapshotAt({ version: 4 }) });
    expect(before.map((r) => Number(r.id)).sort((a, b) => a - b)).toEqual(range(8));

    // The compacted file is small too: three more batches make four small files again.
    for (let b = 4; b < 7; b++) await append(sink, b);
    expect(compactions.map((c) => c.version)).toEqual([5, 9]);
    expect(await tableState(store)).toEqual({ ids: range(14), files: 1, version: 9 });
  });

  it('leaves files of maxFileSize and more alone, and compacts only the partitions that are due', async () => {
    const store = new LocalObjectStore(freshDir());
    const { sink, compactions } = await openSink(store, { minFiles: 3 }, { partitionBy: ['day'] });
    await append(sink, 0, rowsOf(0, 'a'));
    await append(sink, 1, rowsOf(1, 'b'));
    await append(sink, 2, rowsOf(2, 'a'));
    await append(sink, 3, rowsOf(3, 'b'));
    expect(compactions).toEqual([]);
    await append(sink, 4, rowsOf(4, 'a'));
    expect(compactions).toEqual([expect.objectContaining({ filesRemoved: 3, filesAdded: 1, partitionsOptimized: 1 })]);
    const table = await DeltaTable.open(store);
    const byDay = (day: string) => table.snapshot().files.filter((x) => x.partitionValues.day === day).length;
    expect([byDay('a'), byDay('b')]).toEqual([1, 2]);

    // maxFileSize below every file's size: nothing is small, nothing is compacted.
    const big = new LocalObjectStore(freshDir());
    const opened = await openSink(big, { minFiles: 2, maxFileSize: 10 });
    for (let b = 0; b < 4; b++) await append(opened.sink, b);
    expect(opened.compactions).toEqual([]);
    expect((await tableState(big)).files).toBe(4);
  });

  it('follows the table property delta.autoOptimize.autoCompact (50 files by default); false turns it off', async () => {
    const on = new LocalObjectStore(freshDir());
    const opened = await openSink(on, undefined, { properties: { [AUTO_COMPACT_PROPERTY]: 'true' } });
    for (let b = 0; b < 49; b++) await append(opened.sink, b);
    expect((await tableState(on)).files).toBe(49);
    await append(opened.sink, 49);
    expect(await tableState(on)).toEqual({ ids: range(100), files: 1, version: 51 });

    const off = new LocalObjectStore(freshDir());
    const disabled = await openSink(off, false, { properties: { [AUTO_COMPACT_PROPERTY]: 'true' } });
    for (let b = 0; b < 3; b++) await append(disabled.sink, b);
    // Neither option nor property: off.
    const unset = new LocalObjectStore(freshDir());
    const plain = await openSink(unset, undefined);
    for (let b = 0; b < 3; b++) await append(plain.sink, b);
    expect((await tableState(unset)).files).toBe(3);
    expect((await tableState(off)).files).toBe(3);
  });

  it('a failed compaction is a warning: the batch is committed, the table unchanged, the next commit compacts', async () => {
    const inner = new LocalObjectStore(freshDir());
    const store = new FaultyObjectStore(inner);
    const { sink, warnings, compactions } = await openSink(store, { minFiles: 2 });
    await append(sink, 0);
    // The compaction after batch 1 fails writing its file (the 2nd data file from here: batch 1 writes one).
    store.inject({ op: 'put', key: /part-[^/]*\.parquet$/, nth: 2, action: 'fail-before' });
    expect(await append(sink, 1)).toMatchObject({ kind: 'committed', version: 2 });
    expect(warnings).toEqual([
      expect.stringMatching(/^auto compaction of .* after version 2 failed \(.*\): .*inject/i),
    ]);
    expect(compactions).toEqual([]);
    expect(await tableState(inner)).toEqual({ ids: range(4), files: 2, version: 2 });

    expect(await append(sink, 2)).toMatchObject({ kind: 'committed', version: 3 });
    expect(compactions).toEqual([expect.objectContaining({ version: 4, filesRemoved: 3, filesAdded: 1 })]);
    expect(await tableState(inner)).toEqual({ ids: range(6), files: 1, version: 4 });
  });
});

describe.skipIf(!cap.available)('DeltaSink autoCompact: delta-rs reads the compacted table', () => {
  let py: PythonSession;
  beforeAll(() => {
    py = new PythonSession();
  });
  afterAll(async () => {
    await py?.close();
  });

  it('reads the same rows at the latest version (one file) and before the compaction', async () => {
    const dir = freshDir();
    const store = new LocalObjectStore(dir);
    const { sink, compactions } = await openSink(store, { minFiles: 3 });
    for (let b = 0; b < 3; b++) await append(sink, b);
    expect(compactions.map((c) => c.version)).toEqual([4]);
    const read = async (version?: number) =>
      (
        await py.run<{ id: number; day: string }[]>(
          'result = readers.delta_rs_rows(args["path"], args.get("version"))',
          {
            path: dir,
            ...(version === undefined ? {} : { version }),
          },
        )
      )
        .map((r) => r.id)
        .sort((a, b) => a - b);
    expect(await read()).toEqual(range(6));
    expect(await read(3)).toEqual(range(6));
    const files = await py.run<number>(
      'from deltalake import DeltaTable\nresult = len(DeltaTable(args["path"]).file_uris())',
      {
        path: dir,
      },
    );
    expect(files).toBe(1);
  });
});
