// Tests of sinks/delta/vacuum.ts: what vacuum deletes (unreferenced data files older than the retention)
// and what it never deletes (live files, recent tombstones, recent orphans, _delta_log, hidden files).
import { describe, expect, it } from 'vitest';
import { DeltaTable } from '../../../sinks/delta/table.js';
import type { StructType } from '../../../sinks/schema.js';
import { MemoryObjectStore } from '../../../storage/memory.js';

const schema: StructType = {
  type: 'struct',
  fields: [
    { name: 'id', type: 'long', nullable: true, metadata: {} },
    { name: '_p', type: 'string', nullable: true, metadata: {} },
  ],
};
const DAY = 86_400_000;
const HOUR = 3_600_000;

async function setup() {
  let now = Date.UTC(2024, 0, 1);
  const clock = () => now;
  const store = new MemoryObjectStore('vacuum', { now: clock });
  const table = await DeltaTable.create(store, { schema, partitionColumns: ['_p'] }, { now: clock });
  await table.append([
    { id: 1, _p: 'a' },
    { id: 2, _p: 'b' },
  ]);
  const replaced = table.snapshot().files.map((f) => decodeURIComponent(f.path));
  await table.overwrite([{ id: 3, _p: 'a' }]);
  const live = table.snapshot().files.map((f) => decodeURIComponent(f.path));
  const bytes = new Uint8Array([1, 2, 3]);
  await store.put('_p=a/orphan-old.parquet', bytes);
  await store.put('_tmp/x.parquet', bytes);
  await store.put('.hidden', bytes);
  await store.put('_p=a/.part.crc', bytes);
  return { store, table, replaced, live, advance: (ms: number) => (now += ms), clock };
}

describe('vacuum', () => {
  it('keeps recently removed files and recent orphans within the retention period', async () => {
    const { table, advance } = await setup();
    advance(DAY);
    expect((await table.vacuum({ dryRun: true })).files).toEqual([]);
  });

  it('deletes expired tombstoned files and old orphans, never live, log or hidden files', async () => {
    const { store, table, replaced, live, advance } = await setup();
    advance(8 * DAY);
    const dry = await table.vacuum({ dryRun: true });
    const expected = [...replaced, '_p=a/orphan-old.parquet'].sort();
    expect(dry).toMatchObject({ dryRun: true, files: expected, bytes: expect.any(Number) });
    for (const key of expected) await expect(store.head(key)).resolves.toBeDefined();
    const result = await table.vacuum();
    expect(result.files).toEqual(expected);
    for (const key of expected) await expect(store.head(key)).rejects.toMatchObject({ code: 'OBJECT_NOT_FOUND' });
    for (const key of [
      ...live,
      '_tmp/x.parquet',
      '.hidden',
      '_p=a/.part.crc',
      '_delta_log/00000000000000000000.json',
    ]) {
      await expect(store.head(key)).resolves.toBeDefined();
    }
    expect((await table.scanRows()).map((r) => Number(r.id))).toEqual([3]);
    expect((await table.vacuum()).files).toEqual([]);
  });

  it('refuses a retention shorter than delta.deletedFileRetentionDuration unless forced', async () => {
    const { table, replaced, advance } = await setup();
    advance(2 * HOUR);
    await expect(table.vacuum({ retentionHours: 1 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(table.vacuum({ retentionHours: -1, force: true })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    const forced = await table.vacuum({ retentionHours: 1, force: true });
    expect(forced.files).toEqual([...replaced, '_p=a/orphan-old.parquet'].sort());
  });

  it('honours a table retention property', async () => {
    let now = Date.UTC(2024, 0, 1);
    const store = new MemoryObjectStore('short', { now: () => now });
    const table = await DeltaTable.create(
      store,
      { schema, properties: { 'delta.deletedFileRetentionDuration': 'interval 2 hours' } },
      { now: () => now },
    );
    await table.append([{ id: 1 }]);
    await table.overwrite([{ id: 2 }]);
    now += HOUR;
    expect((await table.vacuum()).files).toEqual([]);
    now += 2 * HOUR;
    expect((await table.vacuum()).files).toHaveLength(1);
  });
});
