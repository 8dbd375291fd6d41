// Unit tests of snapshot loading through an ObjectStore: replay of commits, checkpoint equivalence on
// golden tables, time travel by version, missing/corrupt logs, refused features and the cheap look-ups.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DeltaError } from '../../../sinks/delta/errors.js';
import { latestVersion, loadSnapshot, readCommit } from '../../../sinks/delta/load-snapshot.js';
import { commitPath, LAST_CHECKPOINT_KEY, parseLogFile } from '../../../sinks/delta/log-path.js';
import type { DeltaSnapshot } from '../../../sinks/delta/snapshot.js';
import { MemoryObjectStore } from '../../../storage/memory.js';
import type { ObjectStore } from '../../../storage/object-store.js';
import { GOLDEN_ROOT } from './golden-kit.js';
import { add, commitInfo, copyToMemory, metaData, protocol, remove, txn, writeCommit } from './log-fixtures.js';

async function failure(promise: Promise<unknown>): Promise<DeltaError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DeltaError);
  return error as DeltaError;
}

async function simpleTable(): Promise<MemoryObjectStore> {
  const store = new MemoryObjectStore();
  await writeCommit(store, 0, [commitInfo(1000), protocol(), metaData(), add('a'), txn('q', 0)]);
  await writeCommit(store, 1, [commitInfo(2000), add('b'), txn('q', 1)]);
  await writeCommit(store, 2, [commitInfo(3000), remove('a'), add('c')]);
  return store;
}

/** Deletes every checkpoint and _last_checkpoint, leaving only the JSON commits. */
async function dropCheckpoints(store: ObjectStore): Promise<void> {
  const keys: string[] = [];
  for await (const meta of store.list({ prefix: '_delta_log/' })) {
    const file = parseLogFile(meta.key);
    if (meta.key === LAST_CHECKPOINT_KEY || meta.key.includes('_sidecars/') || (file && file.kind !== 'commit')) {
      keys.push(meta.key);
    }
  }
  for (const key of keys) await store.delete(key);
}

const summary = (s: DeltaSnapshot) => ({
  version: s.version,
  protocol: s.protocol,
  metadata: s.metadata,
  files: s.files.map((f) => f.path).sort(),
  txns: [...s.txns].sort(),
});

describe('loadSnapshot', () => {
  it('replays commits to the latest version and travels back by version', async () => {
    const store = await simpleTable();
    const latest = await loadSnapshot(store);
    expect(latest.version).toBe(2);
    expect(latest.files.map((f) => f.path)).toEqual(['b', 'c']);
    expect(latest.tombstones.map((f) => f.path)).toEqual(['a']);
    expect(latest.txnVersion('q')).toBe(1);
    expect(latest.timestamp).toBe(3000);
    const v0 = await loadSnapshot(store, { version: 0 });
    expect(v0.files.map((f) => f.path)).toEqual(['a']);
    expect(v0.txnVersion('q')).toBe(0);
    expect(v0.timestamp).toBe(1000);
    expect((await failure(loadSnapshot(store, { version: 3 }))).code).toBe('VERSION_NOT_FOUND');
    expect((await failure(loadSnapshot(store, { version: 1, timestamp: 5 }))).code).toBe('INVALID_ARGUMENT');
    expect((await failure(loadSnapshot(store, { version: -2 }))).code).toBe('INVALID_ARGUMENT');
  });

  it('reports TABLE_NOT_FOUND for a store without a log', async () => {
    const store = new MemoryObjectStore();
    await store.put('part-0.parquet', new Uint8Array([1]));
    expect((await failure(loadSnapshot(store))).code).toBe('TABLE_NOT_FOUND');
    expect(await latestVersion(store)).toBeUndefined();
  });

  it('names the file and line of a corrupt commit', async () => {
    const store = await simpleTable();
    await store.put(commitPath(3), new TextEncoder().encode('{"commitInfo":{}}\n{"add":{"path":"x"}}\n'));
    const error = await failure(loadSnapshot(store));
    expect(error.code).toBe('LOG_CORRUPT');
    expect(error.context).toEqual({ file: commitPath(3), line: 2 });
    // Earlier versions stay readable.
    expect((await loadSnapshot(store, { version: 2 })).version).toBe(2);
  });

  it('refuses unsupported reader features and deletion vectors on files', async () => {
    const store = await simpleTable();
    await writeCommit(store, 3, [
      protocol({ minReaderVersion: 3, minWriterVersion: 7, readerFeatures: ['deletionVectors'] }),
    ]);
    expect(await failure(loadSnapshot(store))).toMatchObject({
      code: 'UNSUPPORTED_FEATURE',
      context: { feature: 'deletionVectors' },
    });
    expect((await loadSnapshot(store, { version: 2 })).version).toBe(2);

    const dv = await simpleTable();
    await writeCommit(dv, 3, [
      add('d', { deletionVector: { storageType: 'i', pathOrInlineDv: 'x', sizeInBytes: 1, cardinality: 1 } }),
    ]);
    expect(await failure(loadSnapshot(dv))).toMatchObject({
      code: 'UNSUPPORTED_FEATURE',
      context: { feature: 'deletionVectors' },
    });
  });

  it.each([
    '125-iterator-bug',
    'basic-with-inserts-deletes-checkpoint',
    'basic-with-inserts-overwrite-restore',
    'checkpoint',
    'corrupted-last-checkpoint-kernel',
    'multi-part-checkpoint',
    'v2-checkpoint-json',
    'v2-checkpoint-parquet',
  ])('%s: the checkpoint gives the same snapshot as replaying every commit', async (table) => {
    const store = await copyToMemory(join(GOLDEN_ROOT, table));
    const fromCheckpoint = await loadSnapshot(store);
    await dropCheckpoints(store);
    const fromCommits = await loadSnapshot(store);
    expect(summary(fromCheckpoint)).toEqual(summary(fromCommits));
    // A checkpoint may drop expired tombstones, never invent them.
    const tombstones = new Set(fromCommits.tombstones.map((t) => t.path));
    for (const t of fromCheckpoint.tombstones) expect(tombstones.has(t.path)).toBe(true);
  });

  it('ignores an incomplete multi-part checkpoint and replays the commits instead', async () => {
    const store = await copyToMemory(join(GOLDEN_ROOT, 'multi-part-checkpoint'));
    const complete = await loadSnapshot(store);
    await store.delete('_delta_log/00000000000000000001.checkpoint.0000000002.0000000002.parquet');
    expect(summary(await loadSnapshot(store))).toEqual(summary(complete));
  });

  it('fails with LOG_CORRUPT when the checkpoint it must use is unreadable (never silently skips it)', async () => {
    const store = await copyToMemory(join(GOLDEN_ROOT, 'checkpoint'));
    await store.put('_delta_log/00000000000000000010.checkpoint.parquet', new Uint8Array([1, 2, 3, 4]));
    expect((await failure(loadSnapshot(store))).code).toBe('LOG_CORRUPT');
  });
});

describe('latestVersion and readCommit', () => {
  it('finds the latest version from the _last_checkpoint hint and without it', async () => {
    const store = await copyToMemory(join(GOLDEN_ROOT, 'basic-with-inserts-deletes-checkpoint'));
    const expected = (await loadSnapshot(store)).version;
    expect(await latestVersion(store)).toBe(expected);
    await store.put(LAST_CHECKPOINT_KEY, new TextEncoder().encode('{"version": 999}'));
    expect(await latestVersion(store)).toBe(expected);
    await store.delete(LAST_CHECKPOINT_KEY);
    expect(await latestVersion(store)).toBe(expected);
  });

  it('reads one commit, or undefined when it does not exist', async () => {
    const store = await simpleTable();
    expect(await readCommit(store, 1)).toEqual([commitInfo(2000), add('b'), txn('q', 1)]);
    expect(await readCommit(store, 7)).toBeUndefined();
  });
});
