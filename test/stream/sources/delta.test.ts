// DeltaSource on real Delta tables (DeltaTable over MemoryObjectStore / LocalObjectStore): the initial
// snapshot split by rate limits, later commits version by version, startingVersion, partition values,
// exact replays through a fresh instance, OPTIMIZE skipped, change commits refused or skipped, lost
// log files and data files.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { commitPath } from '../../../sinks/delta/log-path.js';
import { dataFileKey } from '../../../sinks/delta/scan.js';
import { DeltaTable } from '../../../sinks/delta/table.js';
import type { StructType } from '../../../sinks/schema.js';
import { LocalObjectStore } from '../../../storage/local.js';
import { MemoryObjectStore } from '../../../storage/memory.js';
import type { ObjectStore } from '../../../storage/object-store.js';
import { SourceError } from '../../../stream/errors.js';
import type { PartitionOffsets, SourceContext } from '../../../stream/source.js';
import {
  compareDeltaPositions,
  DeltaSource,
  type DeltaSourceOptions,
  decodeDeltaOffset,
  encodeDeltaOffset,
} from '../../../stream/sources/delta.js';
import type { Row } from '../../../stream/types.js';

const P = 'table';

const schema: StructType = {
  type: 'struct',
  fields: [
    { name: 'id', type: 'long', nullable: true, metadata: {} },
    { name: 'p', type: 'string', nullable: true, metadata: {} },
    { name: 'v', type: 'double', nullable: true, metadata: {} },
  ],
};

function context(): SourceContext {
  return { queryId: 'q1', metadata: new MemoryObjectStore(), now: Date.now, warn: () => {} };
}

async function opened(store: ObjectStore, options: Omit<DeltaSourceOptions, 'store'> = {}): Promise<DeltaSource> {
  const source = new DeltaSource({ store, ...options });
  await source.open(context());
  return source;
}

interface Batch {
  start: string;
  end: string;
  rows: Row[];
}

/** Plans and reads batches like the engine until the source has nothing new. */
async function drain(source: DeltaSource, from: PartitionOffsets, limit?: PartitionOffsets): Promise<Batch[]> {
  const batches: Batch[] = [];
  let start = from;
  for (;;) {
    const end = await source.nextOffsets(start, limit);
    if (end[P] === start[P]) return batches;
    const groups = await source.read({ [P]: { start: start[P]!, end: end[P]! } });
    expect(groups.map((g) => g.partition)).toEqual([P]);
    batches.push({ start: start[P]!, end: end[P]!, rows: groups.flatMap((g) => g.rows) });
    await source.commit(end);
    start = end;
  }
}

const ids = (rows: Row[]) => rows.map((r) => Number(r.id)).sort((a, b) => a - b);
const rowsOf = (batches: Batch[]) => batches.flatMap((b) => b.rows);

/** A table with `appends` commits (versions 1..appends), each adding one file in partition a and one in b. */
async function table(appends: number, store: ObjectStore = new MemoryObjectStore()) {
  const t = await DeltaTable.create(store, { schema, partitionColumns: ['p'] });
  for (let i = 0; i < appends; i++) await appendTwo(t, i);
  return { store, table: t };
}

async function appendTwo(t: DeltaTable, i: number) {
  await t.append([
    { id: i * 10, p: 'a', v: i },
    { id: i * 10 + 1, p: 'b', v: i + 0.5 },
  ]);
}

async function errorOf(promise: Promise<unknown>): Promise<SourceError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(SourceError);
    return error as SourceError;
  }
  throw new Error('expected the call to fail');
}

describe('Delta offsets', () => {
  it('encode and decode snapshot and commit positions, ordered snapshot-first within a version', () => {
    for (const position of [
      { version: 3, index: 0, snapshot: true },
      { version: 12, index: 7, snapshot: false },
    ]) {
      expect(decodeDeltaOffset(encodeDeltaOffset(position))).toEqual(position);
    }
    expect(encodeDeltaOffset({ version: 3, index: 2, snapshot: true })).toBe('3:2:snapshot');
    expect(
      compareDeltaPositions({ version: 3, index: 9, snapshot: true }, { version: 3, index: 0, snapshot: false }),
    ).toBeLessThan(0);
    expect(() => decodeDeltaOffset('x:1')).toThrow(SourceError);
  });
});

describe('DeltaSource', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lakestream-delta-source-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('splits the initial snapshot by maxFilesPerTrigger, then streams later commits version by version', async () => {
    const { store, table: t } = await table(3, new LocalObjectStore(join(dir, 'table')));
    const source = await opened(store, { maxFilesPerTrigger: 4 });
    const start = await source.initialOffsets();
    expect(start).toEqual({ [P]: '3:0:snapshot' });

    const initial = await drain(source, start);
    expect(initial.map((b) => [b.start, b.end, b.rows.length])).toEqual([
      ['3:0:snapshot', '3:4:snapshot', 4],
      ['3:4:snapshot', '4:0', 2],
    ]);
    expect(ids(rowsOf(initial))).toEqual([0, 1, 10, 11, 20, 21]);
    // Partition values come back typed, next to the data columns.
    expect(rowsOf(initial).find((r) => Number(r.id) === 11)).toEqual({ id: expect.anything(), p: 'b', v: 1.5 });

    await appendTwo(t, 3); // version 4
    await appendTwo(t, 4); // version 5
    await appendTwo(t, 5); // version 6
    const later = await drain(source, { [P]: '4:0' });
    expect(later.map((b) => [b.start, b.end])).toEqual([
      ['4:0', '6:0'],
      ['6:0', '7:0'],
    ]);
    expect(later.map((b) => ids(b.rows))).toEqual([
      [30, 31, 40, 41],
      [50, 51],
    ]);
    expect(await source.nextOffsets({ [P]: '7:0' })).toEqual({ [P]: '7:0' });
    expect(source.metrics()).toMatchObject({ latestOffset: { [P]: '7:0' } });
    await source.close();
    await source.close();
  });

  it('limits batches by maxBytesPerTrigger (at least one file) and can split one commit', async () => {
    const { store, table: t } = await table(0);
    await t.append([
      { id: 1, p: 'a', v: 1 },
      { id: 2, p: 'b', v: 2 },
      { id: 3, p: 'c', v: 3 },
    ]);
    const source = await opened(store, { startingVersion: 1, maxBytesPerTrigger: 1 });
    const batches = await drain(source, await source.initialOffsets());
    expect(batches.map((b) => [b.start, b.end, b.rows.map((r) => r.p)])).toEqual([
      ['1:0', '1:1', ['a']],
      ['1:1', '1:2', ['b']],
      ['1:2', '2:0', ['c']],
    ]);
  });

  it('reads from startingVersion without a snapshot, or only new commits with latest', async () => {
    const { store, table: t } = await table(3);
    const fromTwo = await opened(store, { startingVersion: 2 });
    const start = await fromTwo.initialOffsets();
    expect(start).toEqual({ [P]: '2:0' });
    expect(ids(rowsOf(await drain(fromTwo, start)))).toEqual([10, 11, 20, 21]);

    const latest = await opened(store, { startingVersion: 'latest' });
    const latestStart = await latest.initialOffsets();
    expect(latestStart).toEqual({ [P]: '4:0' });
    expect(await drain(latest, latestStart)).toEqual([]);
    await appendTwo(t, 7);
    expect(ids(rowsOf(await drain(latest, latestStart)))).toEqual([70, 71]);

    const tooFar = await opened(store, { startingVersion: 99 });
    await expect(tooFar.initialOffsets()).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('starts after an empty snapshot without an empty batch', async () => {
    const { store, table: t } = await table(0);
    const source = await opened(store);
    const start = await source.initialOffsets();
    expect(start).toEqual({ [P]: '1:0' });
    expect(await source.nextOffsets(start)).toEqual(start);
    await appendTwo(t, 1);
    expect(ids(rowsOf(await drain(source, start)))).toEqual([10, 11]);
  });

  it('replays a planned range identically through a fresh instance (schema changes included)', async () => {
    const { store, table: t } = await table(2, new LocalObjectStore(join(dir, 'table')));
    const first = await opened(store, { maxFilesPerTrigger: 3 });
    const start = await first.initialOffsets();
    const end1 = await first.nextOffsets(start);
    const rows1 = await first.read({ [P]: { start: start[P]!, end: end1[P]! } });
    await appendTwo(t, 2);
    const end2 = await first.nextOffsets(end1);
    const rows2 = await first.read({ [P]: { start: end1[P]!, end: end2[P]! } });
    await first.close();

    // The table moves on (new column, a checkpoint, compaction) before the restart.
    await t.append([{ id: 100, p: 'a', v: 1, extra: 'new' }], { mergeSchema: true });
    await t.checkpoint();
    await t.optimize();

    const second = await opened(store, { maxFilesPerTrigger: 3 });
    expect(await second.read({ [P]: { start: end1[P]!, end: end2[P]! } })).toEqual(rows2);
    expect(await second.read({ [P]: { start: start[P]!, end: end1[P]! } })).toEqual(rows1);
    const rest = rowsOf(await drain(second, end2));
    expect(ids(rest)).toEqual([100]);
    expect(rest[0]).toMatchObject({ p: 'a', extra: 'new' });
    expect(Object.keys(rows2[0]!.rows[0]!)).toEqual(['id', 'p', 'v']);
  });

  it('passes over OPTIMIZE commits (dataChange=false) without re-reading compacted rows', async () => {
    const { store, table: t } = await table(3);
    const source = await opened(store);
    const start = await source.initialOffsets();
    const initial = await drain(source, start);
    const end = { [P]: initial.at(-1)!.end };
    const optimized = await t.optimize();
    expect(optimized.filesRemoved).toBeGreaterThan(0);
    const afterOptimize = await drain(source, end);
    expect(rowsOf(afterOptimize)).toEqual([]);
    await appendTwo(t, 9);
    const afterAppend = await drain(source, { [P]: afterOptimize.at(-1)?.end ?? end[P]! });
    expect(ids(rowsOf(afterAppend))).toEqual([90, 91]);
  });

  it('refuses a commit that removes data, and skips it with skipChangeCommits', async () => {
    const { store, table: t } = await table(2);
    await t.overwrite([{ id: 500, p: 'z', v: 0 }]); // version 3
    await appendTwo(t, 6); // version 4

    const strict = await opened(store, { startingVersion: 1, maxFilesPerTrigger: 4 });
    const start = await strict.initialOffsets();
    const firstBatch = await strict.nextOffsets(start);
    // The batch that fills the rate limit before the change is still planned; the next one fails.
    expect(firstBatch).toEqual({ [P]: '3:0' });
    const error = await errorOf(strict.nextOffsets(firstBatch));
    expect(error.code).toBe('SOURCE_CHANGE_DETECTED');
    expect(error.context).toMatchObject({ version: 3 });
    expect(error.message).toContain('version 3');
    expect(error.message).toContain('skipChangeCommits');

    const skipping = await opened(store, { startingVersion: 1, skipChangeCommits: true });
    const rows = rowsOf(await drain(skipping, await skipping.initialOffsets()));
    expect(ids(rows)).toEqual([0, 1, 10, 11, 60, 61]);
  });

  it('ignoreDeletes passes over commits that only delete, not rewrites', async () => {
    const { store, table: t } = await table(1);
    await t.overwrite([]); // version 2: removes only
    await appendTwo(t, 3); // version 3
    const ignoring = await opened(store, { startingVersion: 1, ignoreDeletes: true });
    expect(ids(rowsOf(await drain(ignoring, await ignoring.initialOffsets())))).toEqual([0, 1, 30, 31]);

    await t.overwrite([{ id: 9, p: 'a', v: 0 }]); // version 4: removes and adds
    const error = await errorOf(drain(ignoring, { [P]: '4:0' }));
    expect(error.code).toBe('SOURCE_CHANGE_DETECTED');
  });

  it('bounds a Trigger.availableNow run by the version current when it was called', async () => {
    const { store, table: t } = await table(2);
    const source = await opened(store, { maxFilesPerTrigger: 1 });
    const limit = await source.availableNow();
    expect(limit).toEqual({ [P]: '3:0' });
    await appendTwo(t, 5); // version 3, after the bound
    const start = await source.initialOffsets();
    expect(start).toEqual({ [P]: '2:0:snapshot' }); // the snapshot is pinned to the bound
    const batches = await drain(source, start, limit);
    expect(batches).toHaveLength(4);
    expect(ids(rowsOf(batches))).toEqual([0, 1, 10, 11]);
    expect(batches.at(-1)!.end).toBe('3:0');
  });

  it('fails with SOURCE_NOT_FOUND for a missing table', async () => {
    const source = new DeltaSource({ store: new MemoryObjectStore('nothing-here') });
    const error = await errorOf(source.open(context()));
    expect(error.code).toBe('SOURCE_NOT_FOUND');
    expect(error.message).toContain('memory://nothing-here');
  });

  it('fails with SOURCE_DATA_LOST when a needed commit file or data file is gone', async () => {
    const { store, table: t } = await table(3);
    const source = await opened(store, { startingVersion: 1, maxFilesPerTrigger: 2 });
    const start = await source.initialOffsets();
    const end = await source.nextOffsets(start);
    // Log cleanup: a checkpoint at version 3 makes commits 0-2 removable, and they are removed.
    await t.checkpoint();
    for (const version of [0, 1, 2]) await store.delete(commitPath(version));
    const fresh = await opened(store, { startingVersion: 1 });
    const lost = await errorOf(fresh.read({ [P]: { start: start[P]!, end: end[P]! } }));
    expect(lost.code).toBe('SOURCE_DATA_LOST');
    expect(lost.context).toMatchObject({ version: 1 });

    const snapshot = (await DeltaTable.open(store)).snapshot();
    const victim = snapshot.files.find((f) => f.partitionValues.p === 'a')!;
    await store.delete(dataFileKey(victim.path, store.location)); // vacuumed
    const reader = await opened(store);
    const initial = await reader.initialOffsets();
    const missing = await errorOf(drain(reader, initial));
    expect(missing.code).toBe('SOURCE_DATA_LOST');
    expect(missing.message).toContain(victim.path);
  });

  it('refuses bad options', () => {
    const store = new MemoryObjectStore();
    expect(() => new DeltaSource({ store, maxFilesPerTrigger: 0 })).toThrow(/maxFilesPerTrigger/);
    expect(() => new DeltaSource({ store, maxBytesPerTrigger: -1 })).toThrow(/maxBytesPerTrigger/);
    expect(() => new DeltaSource({ store, startingVersion: -2 })).toThrow(/startingVersion/);
  });
});
