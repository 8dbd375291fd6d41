// Reusable vitest suite for the StateStore seam (stream/state-store.ts). Every provider runs it:
// stateStoreContract('LevelDbStateStoreProvider', async () => ({ provider: (o) => ..., cleanup })).

import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LakestreamError } from '../../common/errors.js';
import { EMPTY_STATE_VERSION, type StateStore, type StateStoreProvider } from '../../stream/state-store.js';

export interface StateProviderOptions {
  minVersionsToRetain?: number;
  now?: () => number;
  /** Versioned providers: bound of the in-memory copy of the newest version (0 = always read the backend). */
  maxCachedRows?: number;
}

export interface StateStoreFixture {
  /** A provider over this fixture's storage; a new one after closing the last simulates a process restart. */
  provider(options?: StateProviderOptions): StateStoreProvider;
  cleanup(): Promise<void>;
}

const enc = new TextEncoder();
const dec = new TextDecoder();
const bytes = (text: string) => enc.encode(text);
const FP = Object.freeze({ operator: 'dropDuplicates', keySchema: 'id:string', valueSchema: 'v1' });

async function text(store: StateStore, key: string | Uint8Array): Promise<string | undefined> {
  const value = await store.get(key);
  return value === undefined ? undefined : dec.decode(value);
}

/** The whole state as key → value strings, in scan order. */
async function dump(store: StateStore, prefix: string | Uint8Array = ''): Promise<[string, string][]> {
  const out: [string, string][] = [];
  for await (const entry of store.scan(prefix)) out.push([dec.decode(entry.key), dec.decode(entry.value)]);
  return out;
}

async function fault(promise: Promise<unknown> | (() => unknown), code: string): Promise<LakestreamError> {
  let error: unknown;
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (caught) {
    error = caught;
  }
  expect(error, `expected a fault with code ${code}`).toBeDefined();
  expect((error as LakestreamError).code).toBe(code);
  return error as LakestreamError;
}

/** Commits `changes` (value undefined = delete) on top of `base` as `version`. */
async function commitVersion(
  provider: StateStoreProvider,
  op: string,
  base: number,
  version: number,
  changes: Record<string, string | undefined>,
): Promise<StateStore> {
  const store = await provider.open(op, base, FP);
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) store.delete(key);
    else store.put(key, bytes(value));
  }
  await store.commit(version);
  return store;
}

export function stateStoreContract(name: string, makeFixture: () => Promise<StateStoreFixture>): void {
  describe(`StateStore contract: ${name}`, () => {
    let fixture: StateStoreFixture;
    let provider: StateStoreProvider;
    const providers: StateStoreProvider[] = [];
    const open = (options?: StateProviderOptions) => {
      const created = fixture.provider(options);
      providers.push(created);
      return created;
    };

    beforeEach(async () => {
      fixture = await makeFixture();
      provider = open();
    });
    afterEach(async () => {
      for (const p of providers.splice(0)) await p.close();
      await fixture.cleanup();
    });

    it('starts empty at EMPTY_STATE_VERSION and reads its own uncommitted writes', async () => {
      expect(await provider.latestVersion('dedup')).toBe(EMPTY_STATE_VERSION);
      const store = await provider.open('dedup', EMPTY_STATE_VERSION, FP);
      expect(store.version).toBe(EMPTY_STATE_VERSION);
      expect(await store.get('a')).toBeUndefined();
      store.put('a', bytes('1'));
      store.put(bytes('b'), bytes('2'));
      store.put('a', bytes('3'));
      store.delete('b');
      expect(await text(store, 'a')).toBe('3');
      expect(await store.get('b')).toBeUndefined();
      expect((await store.getMany(['b', 'a', 'zz', 'a'])).map((v) => v && dec.decode(v))).toEqual([
        undefined,
        '3',
        undefined,
        '3',
      ]);
      store.abort();
    });

    it('commits atomically and the next version reads it; metrics count rows', async () => {
      const first = await commitVersion(provider, 'dedup', -1, 0, { a: '1', b: '2', c: '3' });
      expect(first.metrics()).toMatchObject({ numRowsTotal: 3, numRowsUpdated: 3, numRowsRemoved: 0 });
      expect(await provider.latestVersion('dedup')).toBe(0);
      const second = await commitVersion(provider, 'dedup', 0, 1, { a: '10', b: undefined, d: '4', nope: undefined });
      expect(second.metrics()).toMatchObject({ numRowsTotal: 3, numRowsUpdated: 2, numRowsRemoved: 1 });
      const store = await provider.open('dedup', 1, FP);
      expect(store.metrics().numRowsTotal).toBe(3);
      expect(await dump(store)).toEqual([
        ['a', '10'],
        ['c', '3'],
        ['d', '4'],
      ]);
      store.abort();
    });

    it('scans and ranges in unsigned byte order, merging committed, deleted and pending keys', async () => {
      const keys = [Uint8Array.of(0x61), Uint8Array.of(0x61, 0x00), Uint8Array.of(0x61, 0xff), Uint8Array.of(0x62)];
      const base = await provider.open('order', -1, FP);
      for (const [i, key] of [...keys].reverse().entries()) base.put(key, Uint8Array.of(i));
      base.put('é', bytes('e-acute')); // 0xC3 0xA9: after every ASCII key
      base.put('Z', bytes('upper')); // 0x5A: before lowercase
      await base.commit(0);
      const store = await provider.open('order', 0, FP);
      store.delete(Uint8Array.of(0x61, 0x00));
      store.put(Uint8Array.of(0x61, 0x80), Uint8Array.of(99));
      const scanned: number[][] = [];
      for await (const entry of store.scan(Uint8Array.of(0x61))) scanned.push([...entry.key]);
      expect(scanned).toEqual([[0x61], [0x61, 0x80], [0x61, 0xff]]);
      const all: string[] = [];
      for await (const entry of store.range(undefined, undefined)) all.push(Buffer.from(entry.key).toString('hex'));
      expect(all).toEqual(['5a', '61', '6180', '61ff', '62', 'c3a9']);
      const ranged: string[] = [];
      for await (const entry of store.range(Uint8Array.of(0x61, 0x01), 'b'))
        ranged.push(Buffer.from(entry.key).toString('hex'));
      expect(ranged).toEqual(['6180', '61ff']);
      expect(await dump(store, Uint8Array.of(0xff))).toEqual([]);
      store.abort();
    });

    it('loses uncommitted writes on abort and on close without commit (a crash)', async () => {
      await commitVersion(provider, 'dedup', -1, 0, { kept: 'yes' });
      const aborted = await provider.open('dedup', 0, FP);
      aborted.put('lost', bytes('1'));
      aborted.abort();
      aborted.abort();
      await fault(() => aborted.get('kept'), 'STATE_STORE_CLOSED');
      const crashed = await provider.open('dedup', 0, FP);
      crashed.put('lost', bytes('2'));
      crashed.delete('kept');
      await provider.close();
      const restarted = open();
      expect(await restarted.latestVersion('dedup')).toBe(0);
      const store = await restarted.open('dedup', 0, FP);
      expect(await dump(store)).toEqual([['kept', 'yes']]);
      store.abort();
    });

    it('finishes the store on commit and refuses misuse with stable codes', async () => {
      const store = await commitVersion(provider, 'dedup', -1, 0, { a: '1' });
      expect(store.committed).toBe(true);
      await fault(() => store.put('b', bytes('2')), 'STATE_STORE_CLOSED');
      await fault(store.commit(1), 'STATE_STORE_CLOSED');
      expect(store.committed).toBe(true);
      const next = await provider.open('dedup', 0, FP);
      expect(next.committed).toBe(false);
      await fault(provider.open('dedup', 0, FP), 'STATE_STORE_IN_USE');
      await fault(next.commit(0), 'STATE_VERSION_ORDER');
      await fault(provider.open('dedup', 0, FP), 'STATE_STORE_IN_USE'); // a refused commit leaves the store open
      next.abort();
      expect(next.committed).toBe(false);
      (await provider.open('dedup', 0, FP)).abort();
      const other = await provider.open('other-op', -1, FP); // operators are independent
      other.abort();
      await fault(provider.open('../escape', -1, FP), 'STATE_INVALID_ARGUMENT');
    });

    it('replays: opening V after V+1 and V+2 were committed sees exactly V, and re-committing V+1 discards them', async () => {
      await commitVersion(provider, 'dedup', -1, 0, { a: '0', b: '0' });
      await commitVersion(provider, 'dedup', 0, 1, { a: '1', c: '1', b: undefined });
      await commitVersion(provider, 'dedup', 1, 2, { a: '2', d: '2', c: undefined, b: '2' });
      const expected: Record<number, [string, string][]> = {
        [-1]: [],
        0: [
          ['a', '0'],
          ['b', '0'],
        ],
        1: [
          ['a', '1'],
          ['c', '1'],
        ],
        2: [
          ['a', '2'],
          ['b', '2'],
          ['d', '2'],
        ],
      };
      for (const version of [-1, 0, 1, 2]) {
        const store = await provider.open('dedup', version, FP);
        expect(await dump(store), `version ${version}`).toEqual(expected[version]);
        expect((await store.getMany(['a', 'b', 'c', 'd'])).filter((v) => v !== undefined).length).toBe(
          expected[version]!.length,
        );
        expect(store.metrics().numRowsTotal).toBe(expected[version]!.length);
        store.abort();
      }
      // Replay of batch 1 against version 0 (crash after the sink commit, before commits/1).
      const replay = await provider.open('dedup', 0, FP);
      expect(await text(replay, 'c')).toBeUndefined();
      replay.put('e', bytes('replayed'));
      await replay.commit(1);
      expect(replay.metrics().numRowsTotal).toBe(3);
      expect(await provider.latestVersion('dedup')).toBe(1);
      await fault(provider.open('dedup', 2, FP), 'STATE_VERSION_UNAVAILABLE');
      const after = await provider.open('dedup', 1, FP);
      expect(await dump(after)).toEqual([
        ['a', '0'],
        ['b', '0'],
        ['e', 'replayed'],
      ]);
      after.abort();
      const zero = await provider.open('dedup', 0, FP);
      expect(await dump(zero)).toEqual(expected[0]);
      zero.abort();
    });

    it('retains the newest minVersionsToRetain versions and purges older ones', async () => {
      await provider.close();
      const retaining = open({ minVersionsToRetain: 3 });
      for (let v = 0; v < 10; v++)
        await commitVersion(retaining, 'win', v - 1, v, { [`k${v}`]: `${v}`, [`k${v - 2}`]: undefined });
      for (const v of [7, 8, 9]) {
        const store = await retaining.open('win', v, FP);
        expect(await dump(store)).toEqual([
          [`k${v - 1}`, `${v - 1}`],
          [`k${v}`, `${v}`],
        ]);
        store.abort();
      }
      const purged = await fault(retaining.open('win', 6, FP), 'STATE_VERSION_UNAVAILABLE');
      expect(purged.context).toMatchObject({ oldest: 7, latest: 9 });
      await fault(retaining.open('win', -1, FP), 'STATE_VERSION_UNAVAILABLE');
      await fault(retaining.open('win', 10, FP), 'STATE_VERSION_UNAVAILABLE');
    });

    it('refuses a different fingerprint with STATE_INCOMPATIBLE naming every changed part', async () => {
      await commitVersion(provider, 'dedup', -1, 0, { a: '1' });
      const changed = { operator: 'dropDuplicates', keySchema: 'id:long', watermark: 'ts' };
      const error = await fault(provider.open('dedup', 0, changed), 'STATE_INCOMPATIBLE');
      expect(error.domain).toBe('user');
      expect(error.context.changes).toEqual([
        { part: 'keySchema', stored: 'id:string', current: 'id:long' },
        { part: 'valueSchema', stored: 'v1', current: undefined },
        { part: 'watermark', stored: undefined, current: 'ts' },
      ]);
      expect(error.message).toContain('\'keySchema\' changed from "id:string" to "id:long"');
      const same = await provider.open('dedup', 0, { ...FP });
      expect(await text(same, 'a')).toBe('1');
      same.abort();
    });

    it('reopens committed state after a restart', async () => {
      await commitVersion(provider, 'dedup', -1, 0, { a: '1' });
      await commitVersion(provider, 'dedup', 0, 1, { b: '2' });
      await provider.close();
      const restarted = open();
      expect(await restarted.latestVersion('dedup')).toBe(1);
      const store = await restarted.open('dedup', 1, FP);
      expect(await dump(store)).toEqual([
        ['a', '1'],
        ['b', '2'],
      ]);
      store.abort();
      await fault(provider.open('dedup', 1, FP), 'STATE_STORE_CLOSED');
    });

    it('measures commit time with the injected clock', async () => {
      await provider.close();
      let now = 1_000;
      const timed = open({ now: () => (now += 7) });
      const store = await commitVersion(timed, 'dedup', -1, 0, { a: '1' });
      expect(store.metrics().commitTimeMs).toBeGreaterThan(0);
      expect(store.metrics().commitTimeMs % 7).toBe(0);
    });

    it('matches a model under random batches, replays and retention (property)', async () => {
      const keySpace = ['a', 'b', 'c', 'd', 'e', 'f'];
      const change = fc.tuple(fc.constantFrom(...keySpace), fc.option(fc.string({ maxLength: 3 }), { nil: undefined }));
      const step = fc.record({
        changes: fc.array(change, { maxLength: 5 }),
        replayBack: fc.nat({ max: 3 }),
      });
      let run = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.array(step, { minLength: 1, maxLength: 12 }),
          fc.integer({ min: 1, max: 4 }),
          async (steps, keep) => {
            const op = `prop-${run++}`;
            const p = open({ minVersionsToRetain: keep });
            const model = new Map<number, Map<string, string>>([[-1, new Map()]]);
            let latest = -1;
            let oldest = -1;
            for (const { changes, replayBack } of steps) {
              const base = Math.max(oldest, latest - replayBack);
              const next = new Map(model.get(base)!);
              const store = await p.open(op, base, FP);
              for (const [key, value] of changes) {
                if (value === undefined) {
                  store.delete(key);
                  next.delete(key);
                } else {
                  store.put(key, bytes(value));
                  next.set(key, value);
                }
              }
              await store.commit(base + 1);
              for (const v of [...model.keys()]) if (v > base) model.delete(v);
              latest = base + 1;
              model.set(latest, next);
              oldest = Math.max(oldest, latest - keep + 1);
              expect(await p.latestVersion(op)).toBe(latest);
            }
            for (const [version, expected] of model) {
              if (version < oldest) {
                await fault(p.open(op, version, FP), 'STATE_VERSION_UNAVAILABLE');
                continue;
              }
              const store = await p.open(op, version, FP);
              expect(await dump(store)).toEqual([...expected].sort(([a], [b]) => (a < b ? -1 : 1)));
              store.abort();
            }
          },
        ),
        { numRuns: 40 },
      );
    });
  });
}
