// Unit tests of commit history and time travel by timestamp: file times made strictly increasing as
// Spark does, In-Commit Timestamps, bounds, and loadSnapshot({ timestamp }).
import { describe, expect, it } from 'vitest';
import { DeltaError } from '../../../sinks/delta/errors.js';
import { history, versionAtTimestamp } from '../../../sinks/delta/history.js';
import { loadSnapshot } from '../../../sinks/delta/load-snapshot.js';
import { commitPath } from '../../../sinks/delta/log-path.js';
import { MemoryObjectStore } from '../../../storage/memory.js';
import { add, metaData, protocol, writeCommit } from './log-fixtures.js';

/** A table whose commit files get the given modification times (ms). */
async function tableWithTimes(times: readonly number[], infos: (Record<string, unknown> | undefined)[] = []) {
  let now = 0;
  const store = new MemoryObjectStore(undefined, { now: () => now });
  for (const [version, time] of times.entries()) {
    now = time;
    const info = infos[version];
    const actions: unknown[] = info ? [{ commitInfo: info }] : [];
    if (version === 0) actions.push(protocol(), metaData());
    actions.push(add(`f${version}`));
    await writeCommit(store, version, actions);
  }
  return store;
}

async function code(promise: Promise<unknown>): Promise<string | undefined> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DeltaError);
  return (error as DeltaError).code;
}

describe('history', () => {
  it('lists commits newest first with their commitInfo, up to a limit', async () => {
    const store = await tableWithTimes(
      [10, 20, 30],
      [{ timestamp: 11, operation: 'CREATE' }, undefined, { timestamp: 33 }],
    );
    const entries = await history(store);
    expect(entries.map((e) => [e.version, e.timestamp])).toEqual([
      [2, 33],
      [1, 20],
      [0, 11],
    ]);
    expect(entries[2]?.commitInfo.operation).toBe('CREATE');
    expect(entries[1]?.commitInfo).toEqual({});
    expect((await history(store, { limit: 2 })).map((e) => e.version)).toEqual([2, 1]);
    expect(await code(history(new MemoryObjectStore()))).toBe('TABLE_NOT_FOUND');
  });
});

describe('versionAtTimestamp', () => {
  it('picks the latest version committed at or before the time', async () => {
    const store = await tableWithTimes([100, 200, 300]);
    expect(await versionAtTimestamp(store, 100)).toBe(0);
    expect(await versionAtTimestamp(store, 250)).toBe(1);
    expect(await versionAtTimestamp(store, 300)).toBe(2);
    expect(await versionAtTimestamp(store, 10_000)).toBe(2);
    expect(await code(versionAtTimestamp(store, 99))).toBe('VERSION_NOT_FOUND');
    expect(await code(versionAtTimestamp(store, Number.NaN))).toBe('INVALID_ARGUMENT');
  });

  it('makes file times strictly increasing (each commit at least 1 ms after the previous)', async () => {
    // Version 1 and 2 were written with clocks behind version 0: their times become 101 and 102.
    const store = await tableWithTimes([100, 100, 90, 200]);
    expect(await versionAtTimestamp(store, 100)).toBe(0);
    expect(await versionAtTimestamp(store, 101)).toBe(1);
    expect(await versionAtTimestamp(store, 102)).toBe(2);
    expect(await versionAtTimestamp(store, 199)).toBe(2);
    expect(await versionAtTimestamp(store, 200)).toBe(3);
  });

  it('uses In-Commit Timestamps from the commit that enabled them', async () => {
    const store = await tableWithTimes(
      [100, 200, 300, 400],
      [undefined, undefined, { timestamp: 5, inCommitTimestamp: 250 }, { timestamp: 6, inCommitTimestamp: 260 }],
    );
    expect(await versionAtTimestamp(store, 249)).toBe(1);
    expect(await versionAtTimestamp(store, 255)).toBe(2);
    expect(await versionAtTimestamp(store, 260)).toBe(3);
  });

  it('only counts reconstructable versions', async () => {
    const store = await tableWithTimes([100, 200, 300]);
    await store.delete(commitPath(0));
    expect(await code(versionAtTimestamp(store, 250))).toBe('VERSION_NOT_FOUND');
  });

  it('drives loadSnapshot({ timestamp })', async () => {
    const store = await tableWithTimes([Date.UTC(2024, 0, 1), Date.UTC(2024, 0, 2), Date.UTC(2024, 0, 3)]);
    const snapshot = await loadSnapshot(store, { timestamp: new Date(Date.UTC(2024, 0, 2, 12)) });
    expect(snapshot.version).toBe(1);
    expect(snapshot.files.map((f) => f.path)).toEqual(['f0', 'f1']);
    expect((await loadSnapshot(store, { timestamp: Date.UTC(2024, 0, 1) })).version).toBe(0);
  });
});
