// Tests of sinks/delta/log-cleanup.ts: retention property parsing and expired log cleanup, which keeps
// the newest checkpoint at or before the cutoff and everything after it (PROTOCOL.md "Metadata Cleanup").
import { describe, expect, it } from 'vitest';
import { loadSnapshot } from '../../../sinks/delta/load-snapshot.js';
import { checkpointInterval, cleanupExpiredLogs, parseIntervalMs } from '../../../sinks/delta/log-cleanup.js';
import { DeltaTable } from '../../../sinks/delta/table.js';
import type { StructType } from '../../../sinks/schema.js';
import { MemoryObjectStore } from '../../../storage/memory.js';

const schema: StructType = { type: 'struct', fields: [{ name: 'id', type: 'long', nullable: true, metadata: {} }] };
const DAY = 86_400_000;

describe('parseIntervalMs / checkpointInterval', () => {
  it('parses Delta interval strings', () => {
    expect(parseIntervalMs('interval 7 days', 0)).toBe(7 * DAY);
    expect(parseIntervalMs('30 days', 0)).toBe(30 * DAY);
    expect(parseIntervalMs('interval 1 week', 0)).toBe(7 * DAY);
    expect(parseIntervalMs('INTERVAL 2 hours 30 minutes', 0)).toBe(2.5 * 3_600_000);
    expect(parseIntervalMs('1 day', 0)).toBe(DAY);
    expect(parseIntervalMs(undefined, 42)).toBe(42);
    expect(() => parseIntervalMs('soon', 0)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => parseIntervalMs('interval', 0)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => parseIntervalMs('3 fortnights', 0)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
  it('reads delta.checkpointInterval', () => {
    expect(checkpointInterval({})).toBe(10);
    expect(checkpointInterval({ 'delta.checkpointInterval': '25' })).toBe(25);
    expect(() => checkpointInterval({ 'delta.checkpointInterval': 'x' })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });
});

describe('cleanupExpiredLogs', () => {
  async function build(properties: Record<string, string> = {}) {
    let now = Date.UTC(2024, 0, 1, 12);
    const clock = () => now;
    const store = new MemoryObjectStore('cleanup', { now: clock });
    const table = await DeltaTable.create(
      store,
      { schema, properties: { 'delta.checkpointInterval': '2', ...properties } },
      { now: clock },
    );
    await table.append([{ id: 1 }]); // v1
    await table.append([{ id: 2 }]); // v2 + checkpoint 2
    now += 5 * DAY;
    await table.append([{ id: 3 }]); // v3
    await table.append([{ id: 4 }]); // v4 + checkpoint 4
    now += 15 * DAY;
    await table.append([{ id: 5 }]); // v5
    await table.append([{ id: 6 }]); // v6 + checkpoint 6
    now += 20 * DAY; // 40 days after the start: the cutoff (30 days) falls between v4 and v5
    return { store, table, clock };
  }
  const logKeys = async (store: MemoryObjectStore) => {
    const keys: string[] = [];
    for await (const o of store.list({ prefix: '_delta_log/' })) keys.push(o.key.slice('_delta_log/'.length));
    return keys;
  };

  it('deletes commits and checkpoints older than the newest checkpoint before the cutoff', async () => {
    const { store, table } = await build();
    const before = await logKeys(store);
    expect(before.filter((k) => k.endsWith('.json'))).toHaveLength(7);
    const dry = await table.cleanupLogs({ dryRun: true });
    expect(dry.cutoffCheckpoint).toBe(4);
    expect(await logKeys(store)).toEqual(before);
    const result = await table.cleanupLogs();
    expect(result.deleted.map((k) => k.slice('_delta_log/'.length))).toEqual([
      '00000000000000000000.json',
      '00000000000000000001.json',
      '00000000000000000002.checkpoint.parquet',
      '00000000000000000002.json',
      '00000000000000000003.json',
    ]);
    expect(await logKeys(store)).toEqual(before.filter((k) => !result.deleted.includes(`_delta_log/${k}`)));
    // The table still loads, time travel back to the kept checkpoint works, older versions are gone.
    const latest = await DeltaTable.open(store);
    expect((await latest.scanRows()).map((r) => Number(r.id)).sort()).toEqual([1, 2, 3, 4, 5, 6]);
    expect((await loadSnapshot(store, { version: 4 })).files).toHaveLength(4);
    await expect(loadSnapshot(store, { version: 3 })).rejects.toMatchObject({ code: 'VERSION_NOT_FOUND' });
  });

  it('does nothing when delta.enableExpiredLogCleanup is false or nothing is old enough', async () => {
    const { table } = await build({ 'delta.enableExpiredLogCleanup': 'false' });
    expect(await table.cleanupLogs()).toEqual({ cutoffCheckpoint: undefined, deleted: [] });
    const { store: s2, table: t2, clock } = await build();
    const snapshot = await t2.refresh();
    expect(await cleanupExpiredLogs(s2, snapshot, { now: clock, retentionMs: 100 * DAY })).toEqual({
      cutoffCheckpoint: undefined,
      deleted: [],
    });
  });

  it('runs after automatic checkpoints once commits expire', async () => {
    const { store, table } = await build();
    await table.append([{ id: 7 }]); // v7
    await table.append([{ id: 8 }]); // v8 + checkpoint 8, then cleanup with the same clock
    const keys = await logKeys(store);
    expect(keys).not.toContain('00000000000000000003.json');
    expect(keys).toContain('00000000000000000004.checkpoint.parquet');
    expect(keys).toContain('00000000000000000004.json');
  });
});
