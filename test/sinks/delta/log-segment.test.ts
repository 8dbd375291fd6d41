// Unit tests of log segment selection: checkpoints (classic, multi-part, incomplete), contiguity, time
// travel bounds, and _last_checkpoint hints that are missing, stale, corrupt or ahead of the request.
import { describe, expect, it } from 'vitest';
import { DeltaError } from '../../../sinks/delta/errors.js';
import { checkpointPath, commitPath, LAST_CHECKPOINT_KEY, parseLogFile } from '../../../sinks/delta/log-path.js';
import {
  findLogSegment,
  type ListedLogFile,
  listLogFiles,
  readLastCheckpoint,
  selectLogSegment,
} from '../../../sinks/delta/log-segment.js';
import { MemoryObjectStore } from '../../../storage/memory.js';
import type { ListOptions, ObjectMeta, ObjectStore } from '../../../storage/object-store.js';

function listed(...keys: string[]): ListedLogFile[] {
  return keys.map((key) => ({
    ...(parseLogFile(key) as NonNullable<ReturnType<typeof parseLogFile>>),
    size: 1,
    lastModified: 1,
  }));
}
const commits = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => commitPath(from + i));

function errorCode(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(DeltaError);
    return (error as DeltaError).code;
  }
  return undefined;
}

/** Counts list() calls and their startAfter, to check that a hint narrows the listing. */
class ListSpy implements ObjectStore {
  readonly listings: (string | undefined)[] = [];
  constructor(private readonly inner: ObjectStore) {}
  get location() {
    return this.inner.location;
  }
  get(key: string) {
    return this.inner.get(key);
  }
  head(key: string) {
    return this.inner.head(key);
  }
  put(key: string, data: Uint8Array) {
    return this.inner.put(key, data);
  }
  putIfAbsent(key: string, data: Uint8Array) {
    return this.inner.putIfAbsent(key, data);
  }
  list(options?: ListOptions): AsyncIterable<ObjectMeta> {
    this.listings.push(options?.startAfter);
    return this.inner.list(options);
  }
  delete(key: string) {
    return this.inner.delete(key);
  }
}

async function storeWith(keys: string[], lastCheckpoint?: string): Promise<ListSpy> {
  const store = new MemoryObjectStore();
  for (const key of keys) await store.put(key, new Uint8Array([1]));
  if (lastCheckpoint !== undefined) await store.put(LAST_CHECKPOINT_KEY, new TextEncoder().encode(lastCheckpoint));
  return new ListSpy(store);
}

describe('selectLogSegment', () => {
  it('uses the newest complete checkpoint at or before the version, then the commits after it', () => {
    const files = listed(...commits(0, 25), checkpointPath(10), checkpointPath(20));
    const latest = selectLogSegment(files);
    expect(latest.version).toBe(25);
    expect(latest.checkpoint?.version).toBe(20);
    expect(latest.commits.map((c) => c.version)).toEqual([21, 22, 23, 24, 25]);
    const v15 = selectLogSegment(files, 15);
    expect(v15.checkpoint?.version).toBe(10);
    expect(v15.commits.map((c) => c.version)).toEqual([11, 12, 13, 14, 15]);
    const v5 = selectLogSegment(files, 5);
    expect(v5.checkpoint).toBeUndefined();
    expect(v5.commits.map((c) => c.version)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(selectLogSegment(files, 20).commits).toEqual([]);
  });

  it('uses a multi-part checkpoint only when every part is present', () => {
    const complete = listed(...commits(0, 6), checkpointPath(5, 2, 2), checkpointPath(5, 1, 2));
    const segment = selectLogSegment(complete);
    expect(segment.checkpoint?.kind).toBe('multi-part');
    expect(segment.checkpoint?.files.map((f) => f.key)).toEqual([checkpointPath(5, 1, 2), checkpointPath(5, 2, 2)]);
    const incomplete = listed(...commits(0, 6), checkpointPath(5, 1, 3), checkpointPath(5, 3, 3));
    expect(selectLogSegment(incomplete).checkpoint).toBeUndefined();
    expect(selectLogSegment(incomplete).commits).toHaveLength(7);
  });

  it('reconstructs from a checkpoint when early commits were cleaned up', () => {
    const files = listed(...commits(8, 12), checkpointPath(10));
    expect(selectLogSegment(files).checkpoint?.version).toBe(10);
    expect(errorCode(() => selectLogSegment(files, 9))).toBe('VERSION_NOT_FOUND');
  });

  it('reports missing tables, versions out of range and gaps', () => {
    expect(errorCode(() => selectLogSegment([]))).toBe('TABLE_NOT_FOUND');
    expect(errorCode(() => selectLogSegment(listed(...commits(0, 3)), 4))).toBe('VERSION_NOT_FOUND');
    expect(errorCode(() => selectLogSegment(listed(...commits(0, 3)), -1))).toBe('VERSION_NOT_FOUND');
    const gap = listed(commitPath(0), commitPath(2), commitPath(3));
    expect(errorCode(() => selectLogSegment(gap))).toBe('LOG_CORRUPT');
    expect(selectLogSegment(gap, 0).version).toBe(0);
    const gapAfterCheckpoint = listed(...commits(0, 5), checkpointPath(5), commitPath(7));
    expect(errorCode(() => selectLogSegment(gapAfterCheckpoint))).toBe('LOG_CORRUPT');
  });
});

describe('findLogSegment', () => {
  const table = [...commits(0, 14), checkpointPath(10)];

  it('lists only from the version named by _last_checkpoint', async () => {
    const store = await storeWith(table, JSON.stringify({ version: 10, size: 3 }));
    const segment = await findLogSegment(store);
    expect(segment.checkpoint?.version).toBe(10);
    expect(segment.commits.map((c) => c.version)).toEqual([11, 12, 13, 14]);
    expect(store.listings).toEqual(['_delta_log/00000000000000000010']);
  });

  it.each([
    ['missing', undefined],
    ['not JSON', '{"version":'],
    ['without a version', '{"size":3}'],
    ['pointing at a checkpoint that does not exist', JSON.stringify({ version: 12, size: 3 })],
    ['pointing beyond the log', JSON.stringify({ version: 99, size: 3 })],
    ['pointing at an older checkpoint', JSON.stringify({ version: 0, size: 3 })],
  ])('falls back to a full listing when the hint is %s', async (_, hint) => {
    const store = await storeWith(table, hint);
    const segment = await findLogSegment(store);
    expect(segment.version).toBe(14);
    expect(segment.checkpoint?.version).toBe(10);
    expect(segment.commits.map((c) => c.version)).toEqual([11, 12, 13, 14]);
  });

  it('ignores a hint beyond the requested version', async () => {
    const store = await storeWith(table, JSON.stringify({ version: 10, size: 3 }));
    const segment = await findLogSegment(store, 7);
    expect(segment.checkpoint).toBeUndefined();
    expect(segment.commits.map((c) => c.version)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(store.listings).toEqual([undefined]);
  });

  it('reads _last_checkpoint leniently and lists log files in version order', async () => {
    const store = await storeWith(
      [commitPath(1), commitPath(0), 'part-0.parquet', '_delta_log/_sidecars/x.parquet'],
      '[]',
    );
    expect(await readLastCheckpoint(store)).toBeUndefined();
    expect((await listLogFiles(store)).map((f) => f.key)).toEqual([commitPath(0), commitPath(1)]);
  });
});
