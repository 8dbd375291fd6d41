// The versioned layout's in-memory mirror of the newest version (state/mirror.ts) and packed undo blobs
// (state/layout.ts): reads from memory at the newest and older versions and after replays, the
// maxCachedRows fallback, a failed write dropping the mirror, commits by another writer, the refusal of
// layout 1, undo blob round trips and retention of whole blobs.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { LakestreamError } from '../../common/errors.js';
import type { BackendOp, StateBackend } from '../../state/backend.js';
import { StateBackendError } from '../../state/errors.js';
import {
  byteString,
  decodeUndoBlob,
  encodeUndoBlob,
  fromByteString,
  metaKey,
  readU64,
  UndoBlobError,
  undoKey,
} from '../../state/layout.js';
import { LevelDbStateStoreProvider } from '../../state/leveldb-store.js';
import { MemoryStateSpace } from '../../state/memory-store.js';
import { StateMirror } from '../../state/mirror.js';
import { type VersionedProviderOptions, VersionedStateStoreProvider } from '../../state/versioned-provider.js';
import type { StateStore, StateStoreProvider } from '../../stream/state-store.js';
import { FaultyStateStoreProvider } from '../kit/faulty-state.js';

const enc = new TextEncoder();
const dec = new TextDecoder();
const FP = Object.freeze({ operator: 'test', keySchema: 'k:string' });
const OP = 'op';

/** A backend decorator counting reads of the `d` range, with injectable write failures. */
class SpyBackend implements StateBackend {
  dataGets = 0;
  dataIterates = 0;
  writes = 0;
  /** 'before': fail without applying; 'after': apply, then report a failure. */
  failWrite: 'before' | 'after' | undefined;

  constructor(readonly inner: StateBackend) {}

  get location(): string {
    return this.inner.location;
  }

  getMany(keys: readonly Uint8Array[]): Promise<(Uint8Array | undefined)[]> {
    this.dataGets += keys.filter((k) => k[0] === 0x64).length;
    return this.inner.getMany(keys);
  }

  iterate(gte: Uint8Array, lt: Uint8Array): AsyncIterable<[Uint8Array, Uint8Array]> {
    if (gte[0] === 0x64) this.dataIterates++;
    return this.inner.iterate(gte, lt);
  }

  async write(ops: Iterable<BackendOp>): Promise<void> {
    const fail = this.failWrite;
    this.failWrite = undefined;
    if (fail === 'before') throw new StateBackendError('STATE_IO', 'injected write fault', {});
    await this.inner.write(ops);
    this.writes++;
    if (fail === 'after') throw new StateBackendError('STATE_IO', 'injected fault after the write', {});
  }

  async close(): Promise<void> {}

  /** Counters as one comparable value. */
  reads(): { gets: number; iterates: number } {
    return { gets: this.dataGets, iterates: this.dataIterates };
  }
}

/** A versioned provider over a MemoryStateSpace whose backends are spied on. */
class SpyProvider extends VersionedStateStoreProvider {
  readonly spies = new Map<string, SpyBackend>();

  constructor(
    readonly space: MemoryStateSpace,
    options: VersionedProviderOptions = {},
  ) {
    super(options);
  }

  spy(operatorId = OP): SpyBackend {
    let spy = this.spies.get(operatorId);
    if (spy === undefined) {
      spy = new SpyBackend(this.space.backend(operatorId));
      this.spies.set(operatorId, spy);
    }
    return spy;
  }

  protected async openBackend(operatorId: string): Promise<StateBackend> {
    return this.spy(operatorId);
  }
}

async function commit(
  provider: StateStoreProvider,
  base: number,
  version: number,
  changes: Record<string, string | undefined>,
): Promise<StateStore> {
  const store = await provider.open(OP, base, FP);
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) store.delete(key);
    else store.put(key, enc.encode(value));
  }
  await store.commit(version);
  return store;
}

async function dump(provider: StateStoreProvider, version: number): Promise<Record<string, string>> {
  const store = await provider.open(OP, version, FP);
  try {
    return await dumpStore(store);
  } finally {
    store.abort();
  }
}

async function dumpStore(store: StateStore): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for await (const entry of store.scan('')) out[dec.decode(entry.key)] = dec.decode(entry.value);
  return out;
}

async function values(store: StateStore, keys: string[]): Promise<(string | undefined)[]> {
  return (await store.getMany(keys)).map((v) => (v === undefined ? undefined : dec.decode(v)));
}

async function fault(promise: Promise<unknown>, code: string): Promise<LakestreamError> {
  const error = (await promise.then(
    () => undefined,
    (e: unknown) => e,
  )) as LakestreamError | undefined;
  expect(error, `expected ${code}`).toBeDefined();
  expect(error!.code).toBe(code);
  return error!;
}

/** Every key of a backend as [tag, version or user key]. */
async function rawKeys(backend: StateBackend): Promise<string[]> {
  const out: string[] = [];
  for await (const [key] of backend.iterate(new Uint8Array([0]), new Uint8Array([0xff]))) {
    const tag = String.fromCharCode(key[0]!);
    out.push(tag === 'u' || tag === 'v' ? `${tag}${readU64(key, 1)}` : `${tag}${dec.decode(key.subarray(1))}`);
  }
  return out;
}

const providers: StateStoreProvider[] = [];
function track<P extends StateStoreProvider>(provider: P): P {
  providers.push(provider);
  return provider;
}
afterEach(async () => {
  for (const p of providers.splice(0)) await p.close();
});

describe('versioned state: mirror of the newest version', () => {
  it('serves point reads and ranges of the newest version from memory', async () => {
    const provider = track(new SpyProvider(new MemoryStateSpace()));
    await commit(provider, -1, 0, { a: '1', b: '2', c: '3' });
    await commit(provider, 0, 1, { b: '20', d: '4', c: undefined });
    const spy = provider.spy();
    const before = spy.reads();
    const store = await provider.open(OP, 1, FP);
    expect(await values(store, ['a', 'b', 'c', 'd', 'zz'])).toEqual(['1', '20', undefined, '4', undefined]);
    expect(await dumpStore(store)).toEqual({ a: '1', b: '20', d: '4' });
    store.put('e', enc.encode('5'));
    store.delete('a');
    expect(await dumpStore(store)).toEqual({ b: '20', d: '4', e: '5' });
    await store.commit(2);
    expect(store.metrics()).toMatchObject({ numRowsTotal: 3, numRowsUpdated: 1, numRowsRemoved: 1 });
    expect(await dump(provider, 2)).toEqual({ b: '20', d: '4', e: '5' });
    expect(spy.reads(), 'no backend read of the d range').toEqual(before);
  });

  it('reads older versions through the overlay and replays over newer versions without backend reads', async () => {
    const space = new MemoryStateSpace();
    const provider = track(new SpyProvider(space));
    await commit(provider, -1, 0, { a: '0', b: '0' });
    await commit(provider, 0, 1, { a: '1', c: '1', b: undefined });
    await commit(provider, 1, 2, { a: '2', d: '2', c: undefined, b: '2' });
    const spy = provider.spy();
    const before = spy.reads();
    const expected: Record<number, Record<string, string>> = {
      [-1]: {},
      0: { a: '0', b: '0' },
      1: { a: '1', c: '1' },
      2: { a: '2', b: '2', d: '2' },
    };
    for (const version of [-1, 0, 1, 2]) {
      expect(await dump(provider, version), `version ${version}`).toEqual(expected[version]);
      const store = await provider.open(OP, version, FP);
      expect(await values(store, ['a', 'b', 'c', 'd'])).toEqual(['a', 'b', 'c', 'd'].map((k) => expected[version]![k]));
      store.abort();
    }
    // Replay of version 1 over 0 (discarding 1 and 2), then 2 over the replayed 1.
    const replay = await commit(provider, 0, 1, { e: 'r', a: undefined });
    expect(replay.metrics().numRowsTotal).toBe(2);
    await commit(provider, 1, 2, { b: 'x' });
    expect(await dump(provider, 2)).toEqual({ b: 'x', e: 'r' });
    expect(await dump(provider, 1)).toEqual({ b: '0', e: 'r' });
    expect(await dump(provider, 0)).toEqual(expected[0]);
    expect(spy.reads(), 'no backend read of the d range').toEqual(before);
    // A provider without a mirror reads the same from the backend.
    await provider.close();
    const plain = track(new SpyProvider(space, { maxCachedRows: 0 }));
    expect(await dump(plain, 2)).toEqual({ b: 'x', e: 'r' });
    expect(await dump(plain, 1)).toEqual({ b: '0', e: 'r' });
    expect(await dump(plain, 0)).toEqual(expected[0]);
    expect(plain.spy().dataIterates).toBeGreaterThan(0);
  });

  it('falls back to backend reads above maxCachedRows and rebuilds once the state is at most half of it', async () => {
    const provider = track(new SpyProvider(new MemoryStateSpace(), { maxCachedRows: 4 }));
    const spy = provider.spy();
    await commit(provider, -1, 0, { a: '1', b: '2', c: '3' });
    let before = spy.reads();
    let store = await provider.open(OP, 0, FP);
    expect(await values(store, ['a', 'c'])).toEqual(['1', '3']);
    store.abort();
    expect(spy.reads(), 'mirrored').toEqual(before);

    await commit(provider, 0, 1, { d: '4', e: '5' }); // 5 rows > 4: mirror dropped
    before = spy.reads();
    store = await provider.open(OP, 1, FP);
    expect(await values(store, ['a', 'e', 'x'])).toEqual(['1', '5', undefined]);
    expect(await dumpStore(store)).toEqual({ a: '1', b: '2', c: '3', d: '4', e: '5' });
    store.abort();
    expect(spy.dataGets).toBe(before.gets + 3);
    expect(spy.dataIterates).toBe(before.iterates + 1);

    await commit(provider, 1, 2, { a: undefined, b: undefined }); // 3 rows: above half the bound, still unmirrored
    before = spy.reads();
    store = await provider.open(OP, 2, FP);
    expect(await values(store, ['c'])).toEqual(['3']);
    store.abort();
    expect(spy.dataGets).toBe(before.gets + 1);

    await commit(provider, 2, 3, { c: undefined }); // 2 rows: rebuilt on the next open
    before = spy.reads();
    store = await provider.open(OP, 3, FP);
    expect(spy.dataIterates).toBe(before.iterates + 1);
    before = spy.reads();
    expect(await values(store, ['d', 'e', 'c'])).toEqual(['4', '5', undefined]);
    expect(await dumpStore(store)).toEqual({ d: '4', e: '5' });
    store.abort();
    expect(spy.reads()).toEqual(before);
    // Older versions stay readable across the transitions.
    expect(await dump(provider, 1)).toEqual({ a: '1', b: '2', c: '3', d: '4', e: '5' });
  });

  it('refuses a negative maxCachedRows', () => {
    expect(() => new SpyProvider(new MemoryStateSpace(), { maxCachedRows: -1 })).toThrow(
      expect.objectContaining({ code: 'STATE_INVALID_ARGUMENT' }),
    );
  });

  for (const when of ['before', 'after'] as const) {
    it(`drops the mirror when a backend write fails (${when} applying it) and rebuilds it from the backend`, async () => {
      const provider = track(new SpyProvider(new MemoryStateSpace()));
      const spy = provider.spy();
      await commit(provider, -1, 0, { a: '1', b: '2' });
      const store = await provider.open(OP, 0, FP);
      store.put('a', enc.encode('10'));
      store.delete('b');
      store.put('c', enc.encode('3'));
      spy.failWrite = when;
      await fault(store.commit(1), 'STATE_IO');
      const latest = await provider.latestVersion(OP);
      expect(latest).toBe(when === 'before' ? 0 : 1);
      const iterates = spy.dataIterates;
      const reopened = await provider.open(OP, latest, FP);
      expect(spy.dataIterates, 'mirror rebuilt').toBe(iterates + 1);
      const expected = when === 'before' ? { a: '1', b: '2' } : { a: '10', c: '3' };
      expect(await dumpStore(reopened)).toEqual(expected);
      expect(await values(reopened, ['a', 'b', 'c'])).toEqual([
        expected.a,
        (expected as { b?: string }).b,
        (expected as { c?: string }).c,
      ]);
      reopened.put('d', enc.encode('4'));
      await reopened.commit(latest + 1);
      expect(await dump(provider, latest + 1)).toEqual({ ...expected, d: '4' });
      expect(await dump(provider, 0)).toEqual({ a: '1', b: '2' });
    });
  }

  it('notices commits made by another provider over the same state, including a replay of the same version', async () => {
    const space = new MemoryStateSpace();
    const a = track(new SpyProvider(space));
    const b = track(new SpyProvider(space));
    await commit(a, -1, 0, { k: 'a0' });
    await commit(a, 0, 1, { k: 'a1' });
    expect(await dump(a, 1)).toEqual({ k: 'a1' });
    await commit(b, 0, 1, { k: 'b1', other: 'b' }); // same version number, different content
    expect(await dump(a, 1)).toEqual({ k: 'b1', other: 'b' });
    await commit(b, 1, 2, { k: undefined });
    expect(await a.latestVersion(OP)).toBe(2);
    expect(await dump(a, 2)).toEqual({ other: 'b' });
    await commit(a, 2, 3, { x: '1' });
    expect(await dump(b, 3)).toEqual({ other: 'b', x: '1' });
  });

  it('restarts after an injected crash around the state commit with the committed state', async () => {
    const root = await mkdtemp(join(tmpdir(), 'lakestream-mirror-'));
    try {
      for (const before of [true, false]) {
        const first = new FaultyStateStoreProvider(new LevelDbStateStoreProvider({ rootDir: root, sync: false }));
        const base = await first.latestVersion(OP);
        await commit(first, base, base + 1, { [`k${base + 1}`]: 'v' });
        first.crashAtCommit({ before });
        await fault(commit(first, base + 1, base + 2, { crashed: 'x' }), 'INJECTED_CRASH');
        await first.close();
        const restarted = track(new LevelDbStateStoreProvider({ rootDir: root, sync: false }));
        const latest = await restarted.latestVersion(OP);
        expect(latest).toBe(before ? base + 1 : base + 2);
        const state = await dump(restarted, latest);
        expect('crashed' in state).toBe(!before);
        expect(state[`k${base + 1}`]).toBe('v');
        await restarted.close();
      }
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe('versioned state: mirrored and unmirrored stores agree (property)', () => {
  it('reads, ranges and commits the same under random batches, replays and ranges', async () => {
    const keySpace = [
      'a',
      'ab',
      'abc',
      'abcd',
      'abd',
      'b',
      'b\u0000',
      'ba',
      'é',
      'éa',
      'k1',
      'k2',
      'e1',
      'e2',
      'e10',
      '',
    ];
    const key = fc.constantFrom(...keySpace);
    const step = fc.record({
      changes: fc.array(fc.tuple(key, fc.option(fc.string({ maxLength: 3 }), { nil: undefined })), { maxLength: 8 }),
      ranges: fc.array(fc.tuple(fc.option(key, { nil: undefined }), fc.option(key, { nil: undefined })), {
        maxLength: 3,
      }),
      replayBack: fc.nat({ max: 2 }),
    });
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 10 }), async (steps) => {
        const op = `diff-${run++}`;
        const mirrored = track(new SpyProvider(new MemoryStateSpace(), { minVersionsToRetain: 3, maxCachedRows: 6 }));
        const plain = track(new SpyProvider(new MemoryStateSpace(), { minVersionsToRetain: 3, maxCachedRows: 0 }));
        let latest = -1;
        let oldest = -1;
        for (const { changes, ranges, replayBack } of steps) {
          const base = Math.max(oldest, latest - replayBack);
          const stores = [await mirrored.open(op, base, FP), await plain.open(op, base, FP)];
          const observe = async (store: StateStore) => {
            const seen: unknown[] = [await values(store, keySpace)];
            for (const [lo, hi] of ranges) {
              const entries: string[] = [];
              for await (const e of store.range(lo, hi)) entries.push(`${dec.decode(e.key)}=${dec.decode(e.value)}`);
              seen.push(entries);
            }
            return seen;
          };
          expect(await observe(stores[0]!)).toEqual(await observe(stores[1]!));
          for (const store of stores) {
            for (const [k, v] of changes) {
              if (v === undefined) store.delete(k);
              else store.put(k, enc.encode(v));
            }
          }
          expect(await observe(stores[0]!)).toEqual(await observe(stores[1]!));
          for (const store of stores) await store.commit(base + 1);
          expect(stores[0]!.metrics()).toMatchObject({ ...stores[1]!.metrics(), commitTimeMs: expect.any(Number) });
          latest = base + 1;
          oldest = Math.max(oldest, latest - 2);
        }
        for (let v = oldest; v <= latest; v++) {
          const a = await mirrored.open(op, v, FP);
          const b = await plain.open(op, v, FP);
          expect(await dumpStore(a)).toEqual(await dumpStore(b));
          a.abort();
          b.abort();
        }
      }),
      { numRuns: 60 },
    );
  });
});

describe('StateMirror ordered index', () => {
  it('ranges like a sorted model under random inserts, deletes and bounds (property)', () => {
    const id = fc
      .array(fc.constantFrom(0x00, 0x01, 0x61, 0x62, 0x7f, 0x80, 0xff), { maxLength: 5 })
      .map((codes) => String.fromCharCode(...codes));
    const step = fc.oneof(
      fc.record({ op: fc.constant('set' as const), id, value: fc.string({ maxLength: 2 }) }),
      fc.record({ op: fc.constant('delete' as const), id }),
      fc.record({ op: fc.constant('range' as const), lo: fc.option(id), hi: fc.option(id) }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 120 }), (steps) => {
        const mirror = new StateMirror(0, undefined);
        const model = new Map<string, string>();
        for (const s of steps) {
          if (s.op === 'set') {
            mirror.set(s.id, s.value);
            model.set(s.id, s.value);
          } else if (s.op === 'delete') {
            mirror.delete(s.id);
            model.delete(s.id);
          } else {
            const lo = s.lo ?? undefined;
            const hi = s.hi ?? undefined;
            const expected = [...model]
              .filter(([k]) => (lo === undefined || k >= lo) && (hi === undefined || k < hi))
              .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
            const { ids, values } = mirror.entriesIn(lo, hi);
            expect(ids.map((k, i) => [k, values[i]])).toEqual(expected);
          }
          expect(mirror.size).toBe(model.size);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('keeps many deletes and re-inserts of unranged keys bounded and ordered', () => {
    const mirror = new StateMirror(0, undefined);
    for (let i = 0; i < 3000; i++) mirror.set(`e${String(i).padStart(5, '0')}`, '');
    expect(mirror.entriesIn('e', 'f').ids.length).toBe(3000);
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 3000; i++) mirror.set(`k${round % 3}-${i}`, 'v');
      for (let i = 0; i < 3000; i++) mirror.delete(`k${(round + 2) % 3}-${i}`);
      for (let i = 0; i < 1000; i++) mirror.delete(`e${String(round * 100 + i).padStart(5, '0')}`);
    }
    const { ids } = mirror.entriesIn(undefined, undefined);
    expect(ids.length).toBe(mirror.size);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('versioned state: packed undo blobs', () => {
  const byteText = (maxLength: number) =>
    fc.array(fc.integer({ min: 0, max: 255 }), { maxLength }).map((codes) => String.fromCharCode(...codes));

  it('round-trips (key, prior) pairs, including long and empty keys and values (property)', () => {
    const pair = fc.tuple(
      fc.oneof(byteText(40), byteText(400)),
      fc.option(fc.oneof(byteText(30), byteText(300)), { nil: null }),
    );
    fc.assert(
      fc.property(fc.array(pair, { maxLength: 30 }), (pairs) => {
        const blob = encodeUndoBlob(
          pairs.map(([id]) => id),
          pairs.map(([, prior]) => prior),
        );
        const decoded: [string, string | null][] = [];
        decodeUndoBlob(blob, (id, prior) => decoded.push([id, prior]));
        expect(decoded).toEqual(pairs);
      }),
    );
  });

  it('converts byte strings exactly', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    for (const bytes of [all, all.subarray(250), new Uint8Array(1000).fill(0xff), new Uint8Array(0)]) {
      const text = byteString(bytes);
      expect(text.length).toBe(bytes.length);
      expect([...fromByteString(text)]).toEqual([...bytes]);
    }
    expect(byteString(all, 65, 68)).toBe('ABC');
  });

  it('refuses malformed blobs', () => {
    const blob = encodeUndoBlob(['key'], ['value']);
    for (const bad of [
      new Uint8Array(0),
      Uint8Array.of(9),
      blob.subarray(0, blob.length - 1),
      Uint8Array.of(1, 1, 0x61, 7),
    ]) {
      expect(() => decodeUndoBlob(bad, () => {})).toThrow(UndoBlobError);
    }
  });

  it('writes one undo record per version, purges whole records by retention and deletes replayed ones', async () => {
    const space = new MemoryStateSpace();
    const provider = track(new SpyProvider(space, { minVersionsToRetain: 3 }));
    for (let v = 0; v < 10; v++) {
      const changes: Record<string, string | undefined> = { [`k${v}`]: `${v}`, shared: `${v}` };
      for (let i = 0; i < 20; i++) changes[`bulk${i}`] = `${v}.${i}`;
      if (v >= 2) changes[`k${v - 2}`] = undefined;
      await commit(provider, v - 1, v, changes);
    }
    const keys = await rawKeys(space.backend(OP));
    expect(keys.filter((k) => k.startsWith('u'))).toEqual(['u8', 'u9']);
    expect(keys.filter((k) => k.startsWith('v'))).toEqual(['v7', 'v8', 'v9']);
    expect((await dump(provider, 7)).shared).toBe('7');
    expect((await dump(provider, 8)).bulk3).toBe('8.3');
    // Replay 9 over 8: the discarded version's record is replaced by the new one.
    await commit(provider, 8, 9, { replayed: 'yes' });
    expect((await rawKeys(space.backend(OP))).filter((k) => k.startsWith('u'))).toEqual(['u8', 'u9']);
    expect(await dump(provider, 9)).toEqual({ ...(await dump(provider, 8)), replayed: 'yes' });
    await commit(provider, 9, 10, { k10: '10' });
    expect((await rawKeys(space.backend(OP))).filter((k) => k.startsWith('u'))).toEqual(['u9', 'u10']);
    await fault(provider.open(OP, 7, FP), 'STATE_VERSION_UNAVAILABLE');
    expect((await dump(provider, 8)).shared).toBe('8');
  });

  it('reports a malformed undo record as STATE_CORRUPT when an older version is opened', async () => {
    const space = new MemoryStateSpace();
    const provider = track(new SpyProvider(space));
    await commit(provider, -1, 0, { a: '1' });
    await commit(provider, 0, 1, { a: '2' });
    await space.backend(OP).write([{ type: 'put', key: undoKey(1), value: Uint8Array.of(1, 5, 0x61) }]);
    const error = await fault(provider.open(OP, 0, FP), 'STATE_CORRUPT');
    expect(error.message).toContain('undo record of state version 1');
    expect(await dump(provider, 1)).toEqual({ a: '2' });
  });
});

describe('versioned state: layout versions', () => {
  const layout1: BackendOp[] = [
    { type: 'put', key: metaKey.layout, value: enc.encode('1') },
    { type: 'put', key: metaKey.version, value: enc.encode('3') },
    { type: 'put', key: metaKey.oldest, value: enc.encode('-1') },
  ];

  it('refuses state written with the pre-release layout 1 (memory)', async () => {
    const space = new MemoryStateSpace();
    await space.backend(OP).write(layout1);
    const provider = track(new SpyProvider(space));
    const error = await fault(provider.open(OP, 3, FP), 'STATE_CORRUPT');
    expect(error.message).toMatch(/layout 1.*pre-release.*new checkpoint location/);
    await fault(provider.latestVersion(OP), 'STATE_CORRUPT');
  });

  it('refuses state written with the pre-release layout 1 (LevelDB)', async () => {
    const root = await mkdtemp(join(tmpdir(), 'lakestream-layout-'));
    class RawLevel extends LevelDbStateStoreProvider {
      raw(operatorId: string): Promise<StateBackend> {
        return this.openBackend(operatorId);
      }
    }
    try {
      const raw = new RawLevel({ rootDir: root, sync: false });
      const backend = await raw.raw(OP);
      await backend.write(layout1);
      await backend.close();
      const provider = track(new LevelDbStateStoreProvider({ rootDir: root, sync: false }));
      const error = await fault(provider.open(OP, 3, FP), 'STATE_CORRUPT');
      expect(error.message).toContain('start the query from a new checkpoint location');
      expect(error.context).toMatchObject({ layout: '1', expected: '2' });
      await provider.close();
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('writes layout 2', async () => {
    const space = new MemoryStateSpace();
    const provider = track(new SpyProvider(space));
    await commit(provider, -1, 0, { a: '1' });
    const [layout] = await space.backend(OP).getMany([metaKey.layout]);
    expect(dec.decode(layout)).toBe('2');
  });
});
