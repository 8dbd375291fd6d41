// Tests of sinks/delta/commit.ts (with transaction.ts): lost races and retries, conflicts, the txn fence
// between racing duplicates, and fault injection (FaultyObjectStore) at each commit point, including a
// put that is durable but unacknowledged (must never produce a duplicate commit).
import { describe, expect, it } from 'vitest';
import type { Action } from '../../../sinks/delta/actions.js';
import { backoffDelay, commitWithRetries, serializeActions } from '../../../sinks/delta/commit.js';
import { loadSnapshot, readCommit } from '../../../sinks/delta/load-snapshot.js';
import { DeltaTable } from '../../../sinks/delta/table.js';
import { DeltaTransaction } from '../../../sinks/delta/transaction.js';
import type { StructType } from '../../../sinks/schema.js';
import { FaultyObjectStore } from '../../../storage/faulty.js';
import { MemoryObjectStore } from '../../../storage/memory.js';
import type { ObjectStore } from '../../../storage/object-store.js';

const schema: StructType = {
  type: 'struct',
  fields: [
    { name: 'id', type: 'long', nullable: false, metadata: {} },
    { name: 'p', type: 'string', nullable: true, metadata: {} },
  ],
};
const noSleep = { sleep: async () => {} };
const ids = (rows: Record<string, unknown>[]) => rows.map((r) => Number(r.id)).sort((a, b) => a - b);

async function versions(store: ObjectStore): Promise<number[]> {
  const out: number[] = [];
  for await (const o of store.list({ prefix: '_delta_log/' })) {
    const m = /^_delta_log\/(\d{20})\.json$/.exec(o.key);
    if (m) out.push(Number(m[1]));
  }
  return out;
}

async function newTable(partitioned = false): Promise<MemoryObjectStore> {
  const store = new MemoryObjectStore();
  await DeltaTable.create(store, { schema, ...(partitioned ? { partitionColumns: ['p'] } : {}) });
  return store;
}

describe('commitWithRetries: races between transactions', () => {
  it('retries a blind append after losing to another append, at the next version', async () => {
    const store = await newTable();
    const snapshot = await loadSnapshot(store);
    const a = new DeltaTransaction(store, snapshot, { commit: noSleep });
    const b = new DeltaTransaction(store, snapshot, { commit: noSleep });
    await a.writeFiles([{ id: 1 }]);
    await b.writeFiles([{ id: 2 }]);
    expect(await b.commit({ name: 'WRITE', parameters: {} })).toMatchObject({
      kind: 'committed',
      version: 1,
      attempts: 1,
    });
    const outcome = await a.commit({ name: 'WRITE', parameters: {} });
    expect(outcome).toMatchObject({ kind: 'committed', version: 2, attempts: 2 });
    // The committed snapshot includes the winner's file and ours.
    expect(outcome.snapshot.files).toHaveLength(2);
    expect((await readCommit(store, 2))?.find((x) => 'commitInfo' in x)).toMatchObject({
      commitInfo: { readVersion: 0 },
    });
    expect(ids(await (await DeltaTable.open(store)).scanRows())).toEqual([1, 2]);
  });

  it('fails with COMMIT_CONFLICT when a concurrent overwrite removed what an overwrite read', async () => {
    const store = await newTable();
    const table = await DeltaTable.open(store);
    await table.append([{ id: 1 }]);
    const snapshot = await loadSnapshot(store);
    const mk = () => {
      const tx = new DeltaTransaction(store, snapshot, { commit: noSleep });
      tx.readWholeTable();
      tx.removeFiles(snapshot.files);
      return tx;
    };
    const a = mk();
    const b = mk();
    await a.writeFiles([{ id: 2 }]);
    await b.writeFiles([{ id: 3 }]);
    await b.commit({ name: 'WRITE', parameters: { mode: 'Overwrite' } });
    await expect(a.commit({ name: 'WRITE', parameters: { mode: 'Overwrite' } })).rejects.toMatchObject({
      code: 'COMMIT_CONFLICT',
      retryable: false,
      context: { conflict: 'concurrent-append', winningVersion: 2, readVersion: 1 },
    });
    expect(await versions(store)).toEqual([0, 1, 2]);
  });

  it('treats a racing duplicate of the same batch (same txn) as already-committed', async () => {
    const store = await newTable();
    const snapshot = await loadSnapshot(store);
    const txs = [0, 1].map(() => {
      const tx = new DeltaTransaction(store, snapshot, { commit: noSleep });
      tx.setTransaction('query', 5);
      return tx;
    });
    await txs[0]?.writeFiles([{ id: 1 }]);
    await txs[1]?.writeFiles([{ id: 1 }]);
    expect(await txs[1]?.commit({ name: 'WRITE', parameters: {} })).toMatchObject({ kind: 'committed', version: 1 });
    expect(await txs[0]?.commit({ name: 'WRITE', parameters: {} })).toMatchObject({
      kind: 'already-committed',
      version: 1,
    });
    expect(await versions(store)).toEqual([0, 1]);
    expect(ids(await (await DeltaTable.open(store)).scanRows())).toEqual([1]);
  });

  it('gives up with COMMIT_RETRIES_EXHAUSTED (retryable) after maxAttempts lost races', async () => {
    const store = await newTable();
    const snapshot = await loadSnapshot(store);
    const other = await DeltaTable.open(store);
    await other.append([{ id: 2 }]);
    // Another writer commits during every backoff, so each attempt loses again.
    const recorder = new FaultyObjectStore(store);
    const sleep = async () => {
      await other.append([{ id: 3 }]);
    };
    const loser = new DeltaTransaction(recorder, snapshot, { commit: { sleep, maxAttempts: 3 } });
    await loser.writeFiles([{ id: 1 }]);
    await expect(loser.commit({ name: 'WRITE', parameters: {} })).rejects.toMatchObject({
      code: 'COMMIT_RETRIES_EXHAUSTED',
      retryable: true,
      context: { attempts: 3, readVersion: 0 },
    });
    expect(recorder.callsTo('putIfAbsent').map((c) => Number(c.key.slice(11, 31)))).toEqual([1, 2, 3]);
    expect(await versions(store)).toEqual([0, 1, 2, 3]);
  });

  it('many concurrent appenders on one store: every append lands once, versions contiguous', async () => {
    const store = await newTable();
    const writers = await Promise.all(
      Array.from({ length: 4 }, () =>
        DeltaTable.open(store, { commit: { maxAttempts: 50, baseDelayMs: 1, maxDelayMs: 5 } }),
      ),
    );
    await Promise.all(
      writers.map(async (table, w) => {
        for (let i = 0; i < 10; i++) {
          const id = w * 100 + i;
          const outcome = await table.append([{ id }], { txn: { appId: `writer-${w}`, version: i } });
          expect(outcome.kind).toBe('committed');
        }
      }),
    );
    expect(await versions(store)).toEqual(Array.from({ length: 41 }, (_, v) => v));
    const expected = [0, 1, 2, 3]
      .flatMap((w) => Array.from({ length: 10 }, (_, i) => w * 100 + i))
      .sort((a, b) => a - b);
    const table = await DeltaTable.open(store);
    expect(ids(await table.scanRows())).toEqual(expected);
    for (let w = 0; w < 4; w++) expect(table.snapshot().txnVersion(`writer-${w}`)).toBe(9);
  });
});

describe('fault injection at each commit point', () => {
  it('data file write fails before the commit: nothing committed; the retry commits once', async () => {
    const inner = await newTable(true);
    const store = new FaultyObjectStore(inner, [{ op: 'put', key: /^p=b\//, action: 'fail-before' }]);
    const table = await DeltaTable.open(store);
    const rows = [
      { id: 1, p: 'a' },
      { id: 2, p: 'b' },
    ];
    await expect(table.append(rows, { txn: { appId: 'q', version: 1 } })).rejects.toMatchObject({
      code: 'INJECTED_FAULT',
    });
    expect(await versions(inner)).toEqual([0]);
    const outcome = await table.append(rows, { txn: { appId: 'q', version: 1 } });
    expect(outcome).toMatchObject({ kind: 'committed', version: 1 });
    expect(ids(await (await DeltaTable.open(inner)).scanRows())).toEqual([1, 2]);
  });

  it('crash after the data files, before the commit: the table reads correctly without the orphans', async () => {
    const inner = await newTable();
    const crashing = new FaultyObjectStore(inner).crashAt('putIfAbsent', { before: true });
    await expect((await DeltaTable.open(crashing)).append([{ id: 1 }])).rejects.toMatchObject({
      code: 'INJECTED_CRASH',
    });
    let parquet = 0;
    for await (const o of inner.list()) if (o.key.endsWith('.parquet')) parquet++;
    expect(parquet).toBe(1); // the orphan exists…
    const table = await DeltaTable.open(inner);
    expect(table.snapshot().version).toBe(0);
    expect(await table.scanRows()).toEqual([]); // …but is not part of the table
  });

  it('putIfAbsent fails before writing (retryable): retried at the same version', async () => {
    const inner = await newTable();
    const store = new FaultyObjectStore(inner, [{ op: 'putIfAbsent', action: 'fail-before' }]);
    const outcome = await (await DeltaTable.open(store, { commit: noSleep })).append([{ id: 1 }]);
    expect(outcome).toMatchObject({ kind: 'committed', version: 1, attempts: 2 });
    expect(await versions(inner)).toEqual([0, 1]);
  });

  it('putIfAbsent durable but unacknowledged: recognised as our own commit, never duplicated', async () => {
    const inner = await newTable();
    const store = new FaultyObjectStore(inner, [{ op: 'putIfAbsent', action: 'fail-after' }]);
    const table = await DeltaTable.open(store, { commit: noSleep });
    const outcome = await table.append([{ id: 1 }], { txn: { appId: 'q', version: 0 } });
    expect(outcome).toMatchObject({ kind: 'committed', version: 1 });
    expect(store.callsTo('putIfAbsent')).toHaveLength(1);
    expect(await versions(inner)).toEqual([0, 1]);
    // A caller retry of the same batch is a no-op.
    expect(await table.append([{ id: 1 }], { txn: { appId: 'q', version: 0 } })).toMatchObject({
      kind: 'already-committed',
    });
    expect(ids(await (await DeltaTable.open(inner)).scanRows())).toEqual([1]);
  });

  it('unacknowledged put whose outcome cannot be read back: the error surfaces, the retry reports already-committed', async () => {
    const inner = await newTable();
    const store = new FaultyObjectStore(inner, [
      { op: 'putIfAbsent', action: 'fail-after' },
      // The first get of version 1 is the refresh probe before the commit; the second is the read-back.
      { op: 'get', key: '_delta_log/00000000000000000001.json', nth: 2, action: 'fail-before' },
    ]);
    const table = await DeltaTable.open(store, { commit: noSleep });
    await expect(table.append([{ id: 1 }], { txn: { appId: 'q', version: 0 } })).rejects.toMatchObject({
      code: 'INJECTED_FAULT',
      context: { op: 'putIfAbsent' },
    });
    const retry = await table.append([{ id: 1 }], { txn: { appId: 'q', version: 0 } });
    expect(retry).toMatchObject({ kind: 'already-committed', version: 1 });
    expect(await versions(inner)).toEqual([0, 1]);
    expect(ids(await (await DeltaTable.open(inner)).scanRows())).toEqual([1]);
  });

  it('a non-retryable put failure with no commit file surfaces and commits nothing', async () => {
    const inner = await newTable();
    const fatal = () => Object.assign(new Error('disk on fire'), { retryable: false });
    const store = new FaultyObjectStore(inner, [{ op: 'putIfAbsent', action: 'fail-before', error: fatal }]);
    await expect((await DeltaTable.open(store, { commit: noSleep })).append([{ id: 1 }])).rejects.toThrow(
      'disk on fire',
    );
    expect(await versions(inner)).toEqual([0]);
  });

  it('a failed checkpoint never fails the commit', async () => {
    const inner = new MemoryObjectStore();
    await DeltaTable.create(inner, { schema, properties: { 'delta.checkpointInterval': '2' } });
    const store = new FaultyObjectStore(inner, [{ op: 'put', key: /checkpoint\.parquet$/, action: 'fail-before' }]);
    const warnings: unknown[] = [];
    const table = await DeltaTable.open(store, { onWarning: (_, e) => warnings.push(e) });
    await table.append([{ id: 1 }]);
    const outcome = await table.append([{ id: 2 }]);
    expect(outcome).toMatchObject({ kind: 'committed', version: 2 });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ code: 'INJECTED_FAULT' });
    await expect(inner.head('_delta_log/00000000000000000002.checkpoint.parquet')).rejects.toMatchObject({
      code: 'OBJECT_NOT_FOUND',
    });
    expect(ids(await (await DeltaTable.open(inner)).scanRows())).toEqual([1, 2]);
  });

  it('an already-committed txn writes no data file at all', async () => {
    const inner = await newTable();
    await (await DeltaTable.open(inner)).append([{ id: 1 }], { txn: { appId: 'q', version: 3 } });
    const store = new FaultyObjectStore(inner);
    const outcome = await (await DeltaTable.open(store)).append([{ id: 1 }], { txn: { appId: 'q', version: 3 } });
    expect(outcome.kind).toBe('already-committed');
    expect(store.callsTo('put')).toHaveLength(0);
    expect(store.callsTo('putIfAbsent')).toHaveLength(0);
  });
});

describe('helpers', () => {
  it('backoffDelay grows exponentially with jitter and is capped', () => {
    const opts = { baseDelayMs: 10, maxDelayMs: 100 };
    expect(backoffDelay(1, { ...opts, random: () => 0 })).toBe(5);
    expect(backoffDelay(1, { ...opts, random: () => 1 })).toBe(10);
    expect(backoffDelay(3, { ...opts, random: () => 1 })).toBe(40);
    expect(backoffDelay(10, { ...opts, random: () => 0.5 })).toBe(75);
  });
  it('serializes one action per line', () => {
    const actions: Action[] = [{ commitInfo: { operation: 'WRITE' } }, { txn: { appId: 'a', version: 1 } }];
    expect(new TextDecoder().decode(serializeActions(actions))).toBe(
      '{"commitInfo":{"operation":"WRITE"}}\n{"txn":{"appId":"a","version":1}}',
    );
  });
  it('commitWithRetries reports LOG_CORRUPT when the winning commit cannot be parsed', async () => {
    const store = await newTable();
    const snapshot = await loadSnapshot(store);
    await store.putIfAbsent('_delta_log/00000000000000000001.json', new TextEncoder().encode('{not json'));
    await expect(
      commitWithRetries(store, {
        snapshot,
        actions: [{ commitInfo: { txnId: 't' } }],
        summary: {
          txnId: 't',
          isolationLevel: 'Serializable',
          changesProtocol: false,
          changesMetadata: false,
          txns: [],
          readPredicate: { kind: 'none' },
          readPaths: new Set(),
          removedPaths: new Set(),
        },
      }),
    ).rejects.toMatchObject({ code: 'LOG_CORRUPT' });
    expect(await versions(store)).toEqual([0, 1]);
  });
});
