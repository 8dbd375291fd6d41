// Tests of sinks/delta/checkpoint-writer.ts: the checkpoint content (read back by the reader), the
// _last_checkpoint file and its checksum (the spec's test vector), expiry of tombstones and txns, and
// the automatic checkpoint every delta.checkpointInterval commits.
import { describe, expect, it } from 'vitest';
import {
  canonicalizeJson,
  checkpointRows,
  jsonChecksum,
  writeCheckpoint,
} from '../../../sinks/delta/checkpoint-writer.js';
import { loadSnapshot } from '../../../sinks/delta/load-snapshot.js';
import { checkpointPath, commitPath, LAST_CHECKPOINT_KEY } from '../../../sinks/delta/log-path.js';
import { DeltaTable } from '../../../sinks/delta/table.js';
import type { StructType } from '../../../sinks/schema.js';
import { MemoryObjectStore } from '../../../storage/memory.js';

const schema: StructType = {
  type: 'struct',
  fields: [
    { name: 'id', type: 'long', nullable: true, metadata: {} },
    { name: 'p', type: 'string', nullable: true, metadata: {} },
  ],
};
const DAY = 86_400_000;

async function lastCheckpoint(store: MemoryObjectStore): Promise<Record<string, unknown>> {
  return JSON.parse(new TextDecoder().decode(await store.get(LAST_CHECKPOINT_KEY)));
}

describe('JSON checksum of _last_checkpoint', () => {
  it('matches the canonical form and MD5 of the PROTOCOL.md test vector', () => {
    const json = {
      k0: "'v 0'",
      checksum: 'adsaskfljadfkjadfkj',
      k1: { k2: 2, k3: ['v3', [1, 2], { k4: 'v4', k5: ['v5', 'v6', 'v7'] }] },
    };
    expect(canonicalizeJson(json)).toBe(
      '"k0"="%27v%200%27","k1"+"k2"=2,"k1"+"k3"+0="v3","k1"+"k3"+1+0=1,"k1"+"k3"+1+1=2,"k1"+"k3"+2+"k4"="v4","k1"+"k3"+2+"k5"+0="v5","k1"+"k3"+2+"k5"+1="v6","k1"+"k3"+2+"k5"+2="v7"',
    );
    expect(jsonChecksum(json)).toBe('6a92d155a59bf2eecbd4b4ec7fd1f875');
  });
});

describe('writeCheckpoint', () => {
  it('writes a checkpoint the reader loads into the same snapshot, and _last_checkpoint', async () => {
    let now = Date.UTC(2024, 0, 1);
    const store = new MemoryObjectStore('cp', { now: () => now });
    const table = await DeltaTable.create(store, { schema, partitionColumns: ['p'] }, { now: () => now });
    await table.append(
      [
        { id: 1, p: 'a' },
        { id: 2, p: 'b' },
      ],
      { txn: { appId: 'q', version: 1 } },
    );
    await table.overwrite([{ id: 3, p: 'c' }], { txn: { appId: 'q', version: 2 } });
    await table.append([{ id: 4, p: null }], { txn: { appId: 'other', version: 7 } });
    now += 1000;
    const snapshot = await table.refresh();
    const info = await writeCheckpoint(store, snapshot, { now: () => now });
    expect(info).toMatchObject({ version: 3, numOfAddFiles: 2, size: 2 + 2 + 2 + 2 });
    const hint = await lastCheckpoint(store);
    expect(hint).toEqual(info);
    expect(hint.checksum).toBe(jsonChecksum({ version: 3, size: 8, sizeInBytes: info.sizeInBytes, numOfAddFiles: 2 }));
    expect((await store.head(checkpointPath(3))).size).toBe(info.sizeInBytes);

    // Without the commits before it, the checkpoint alone reconstructs version 3.
    for (let v = 0; v <= 3; v++) await store.delete(commitPath(v));
    const loaded = await loadSnapshot(store);
    expect(loaded.version).toBe(3);
    expect(loaded.protocol).toEqual(snapshot.protocol);
    expect(loaded.metadata).toEqual(snapshot.metadata);
    expect([...loaded.txns]).toEqual([...snapshot.txns]);
    const strip = (files: readonly { path: string }[]) =>
      files.map((f) => ({ ...f, dataChange: false })).sort((a, b) => a.path.localeCompare(b.path));
    expect(strip(loaded.files)).toEqual(strip(snapshot.files));
    expect(loaded.tombstones.map((t) => t.path).sort()).toEqual(snapshot.tombstones.map((t) => t.path).sort());
    expect((await DeltaTable.open(store)).snapshot().version).toBe(3);
  });

  it('drops expired tombstones and, when configured, expired txns', async () => {
    const now = Date.UTC(2024, 0, 1);
    const store = new MemoryObjectStore();
    const table = await DeltaTable.create(
      store,
      { schema, properties: { 'delta.setTransactionRetentionDuration': 'interval 1 day' } },
      { now: () => now },
    );
    await table.append([{ id: 1 }], { txn: { appId: 'old', version: 1 } });
    await table.overwrite([{ id: 2 }]);
    const snapshot = table.snapshot();
    const kinds = (rows: Record<string, unknown>[]) => rows.map((r) => Object.keys(r).find((k) => r[k] !== undefined));
    expect(kinds(checkpointRows(snapshot, now + 1000))).toEqual(['protocol', 'metaData', 'txn', 'add', 'remove']);
    // After 8 days the tombstone (7-day retention) and the txn (1 day) have expired.
    expect(kinds(checkpointRows(snapshot, now + 8 * DAY))).toEqual(['protocol', 'metaData', 'add']);
  });

  it('never moves _last_checkpoint back to an older version', async () => {
    const store = new MemoryObjectStore();
    const table = await DeltaTable.create(store, { schema });
    await table.append([{ id: 1 }]);
    const v1 = table.snapshot();
    await table.append([{ id: 2 }]);
    await writeCheckpoint(store, table.snapshot());
    await writeCheckpoint(store, v1);
    expect((await lastCheckpoint(store)).version).toBe(2);
    await expect(store.head(checkpointPath(1))).resolves.toBeDefined();
  });

  it('is written automatically every delta.checkpointInterval commits (default 10)', async () => {
    const store = new MemoryObjectStore();
    const table = await DeltaTable.create(store, { schema });
    for (let i = 0; i < 9; i++) await table.append([{ id: i }]);
    await expect(store.head(checkpointPath(9))).rejects.toMatchObject({ code: 'OBJECT_NOT_FOUND' });
    await table.append([{ id: 9 }]);
    await expect(store.head(checkpointPath(10))).resolves.toBeDefined();
    expect((await lastCheckpoint(store)).version).toBe(10);
    const custom = new MemoryObjectStore();
    const t2 = await DeltaTable.create(custom, { schema, properties: { 'delta.checkpointInterval': '2' } });
    for (let i = 0; i < 4; i++) await t2.append([{ id: i }]);
    const checkpoints: string[] = [];
    for await (const o of custom.list({ prefix: '_delta_log/' }))
      if (o.key.includes('checkpoint.parquet')) checkpoints.push(o.key);
    expect(checkpoints).toEqual([checkpointPath(2), checkpointPath(4)]);
    expect((await (await DeltaTable.open(custom)).scanRows()).map((r) => Number(r.id)).sort()).toEqual([0, 1, 2, 3]);
  });
});
