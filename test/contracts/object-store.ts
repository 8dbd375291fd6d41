// Reusable vitest suite for the ObjectStore contract (storage/object-store.ts). Every implementation
// runs it: objectStoreContract('LocalObjectStore', async () => ({ store, cleanup })).

import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LakestreamError } from '../../common/errors.js';
import { ObjectNotFoundError, StorageError } from '../../storage/errors.js';
import type { ObjectMeta, ObjectStore } from '../../storage/object-store.js';

export interface ObjectStoreFixture {
  store: ObjectStore;
  cleanup(): Promise<void>;
}

const utf8 = (text: string) => new TextEncoder().encode(text);
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

async function collect(iterable: AsyncIterable<ObjectMeta>): Promise<ObjectMeta[]> {
  const out: ObjectMeta[] = [];
  for await (const meta of iterable) out.push(meta);
  return out;
}

async function keys(store: ObjectStore, options?: Parameters<ObjectStore['list']>[0]): Promise<string[]> {
  return (await collect(store.list(options))).map((meta) => meta.key);
}

async function expectFault(promise: Promise<unknown>, code: string): Promise<LakestreamError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error, `expected a fault with code ${code}`).toBeInstanceOf(StorageError);
  expect((error as LakestreamError).code).toBe(code);
  return error as LakestreamError;
}

/** Sorts by UTF-8 bytes, independently of storage/key.ts, to cross-check list order. */
function byteSorted(values: readonly string[]): string[] {
  return [...values].sort((a, b) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
}

/**
 * Keys chosen so that byte order differs from naive orders: '-' (0x2D) < '.' (0x2E) < '/' (0x2F) <
 * '0' (0x30); '%' and '=' and '_' around letters; U+FB00 sorts before U+1F600 in UTF-8 but after it
 * in UTF-16 code units. No key is both an object and a folder (a filesystem cannot hold that).
 */
const ORDER_KEYS_EXPECTED = [
  '%25',
  '=eq',
  'A',
  'Z/z',
  '_delta_log/00000000000000000000.json',
  '_delta_log/00000000000000000001.json',
  '_delta_log/00000000000000000010.json',
  'a-b',
  'a.b',
  'a/b',
  'a/c/d',
  'a/c=1/e',
  'a/c_/f',
  'a0',
  'ab',
  'b',
  'é',
  '日本/x',
  'ﬀ',
  '😀',
];

export function objectStoreContract(name: string, make: () => Promise<ObjectStoreFixture>): void {
  describe(`ObjectStore contract: ${name}`, () => {
    let fixture: ObjectStoreFixture;
    let store: ObjectStore;

    beforeEach(async () => {
      fixture = await make();
      store = fixture.store;
    });
    afterEach(async () => {
      await fixture.cleanup();
    });

    it('has a non-empty location', () => {
      expect(typeof store.location).toBe('string');
      expect(store.location.length).toBeGreaterThan(0);
    });

    describe('get and head', () => {
      it('returns exactly the stored bytes, also for empty and large objects', async () => {
        const large = new Uint8Array(randomBytes(1024 * 1024 + 17));
        await store.put('large.bin', large);
        await store.put('empty', new Uint8Array(0));
        await store.put('small.txt', utf8('hello'));
        expect(await store.get('large.bin')).toEqual(large);
        expect((await store.get('empty')).byteLength).toBe(0);
        expect(text(await store.get('small.txt'))).toBe('hello');
      });

      it('returns the bytes of a range, truncated at the end, empty past the end', async () => {
        await store.put('r', utf8('0123456789'));
        expect(text(await store.get('r', { offset: 0, length: 3 }))).toBe('012');
        expect(text(await store.get('r', { offset: 4, length: 2 }))).toBe('45');
        expect(text(await store.get('r', { offset: 7 }))).toBe('789');
        expect(text(await store.get('r', { offset: 8, length: 100 }))).toBe('89');
        expect(text(await store.get('r', { offset: 3, length: 0 }))).toBe('');
        expect((await store.get('r', { offset: 10 })).byteLength).toBe(0);
        expect((await store.get('r', { offset: 11, length: 5 })).byteLength).toBe(0);
        expect((await store.get('r', { offset: 1_000_000 })).byteLength).toBe(0);
      });

      it('reads a range from the middle of a large object', async () => {
        const large = new Uint8Array(randomBytes(3 * 65536 + 5));
        await store.put('big', large);
        const range = await store.get('big', { offset: 65530, length: 70000 });
        expect(range).toEqual(large.slice(65530, 65530 + 70000));
      });

      it('rejects negative or fractional ranges with INVALID_RANGE', async () => {
        await store.put('r', utf8('abc'));
        await expectFault(store.get('r', { offset: -1 }), 'INVALID_RANGE');
        await expectFault(store.get('r', { offset: 0, length: -2 }), 'INVALID_RANGE');
        await expectFault(store.get('r', { offset: 1.5 }), 'INVALID_RANGE');
      });

      it('throws ObjectNotFoundError for missing keys, naming the key', async () => {
        await store.put('present/x', utf8('x'));
        for (const key of ['missing', 'present/y', 'nested/missing/key', 'present']) {
          const getError = await expectFault(store.get(key), 'OBJECT_NOT_FOUND');
          expect(getError).toBeInstanceOf(ObjectNotFoundError);
          expect(getError.retryable).toBe(false);
          expect(getError.context.key).toBe(key);
          expect(getError.message).toContain(key);
          const headError = await expectFault(store.head(key), 'OBJECT_NOT_FOUND');
          expect(headError).toBeInstanceOf(ObjectNotFoundError);
        }
        await expectFault(store.get('missing', { offset: 0, length: 1 }), 'OBJECT_NOT_FOUND');
      });

      it('head reports key, size and a plausible lastModified', async () => {
        const before = Date.now();
        await store.put('dir/h.bin', new Uint8Array(1234));
        const after = Date.now();
        const meta = await store.head('dir/h.bin');
        expect(meta.key).toBe('dir/h.bin');
        expect(meta.size).toBe(1234);
        // Filesystem timestamps may be coarser than Date.now(): allow 2 s either side.
        expect(meta.lastModified).toBeGreaterThanOrEqual(before - 2000);
        expect(meta.lastModified).toBeLessThanOrEqual(after + 2000);
      });

      it('isolates stored bytes from callers mutating their arrays', async () => {
        const input = utf8('abc');
        await store.put('m', input);
        input[0] = 0x7a;
        const first = await store.get('m');
        expect(text(first)).toBe('abc');
        first[1] = 0x7a;
        expect(text(await store.get('m'))).toBe('abc');
        const viaIfAbsent = utf8('def');
        await store.putIfAbsent('n', viaIfAbsent);
        viaIfAbsent[0] = 0x7a;
        expect(text(await store.get('n'))).toBe('def');
      });
    });

    describe('put', () => {
      it('creates nested keys and replaces existing objects', async () => {
        await store.put('a/b/c/d.json', utf8('v1'));
        expect(text(await store.get('a/b/c/d.json'))).toBe('v1');
        await store.put('a/b/c/d.json', utf8('version two'));
        expect(text(await store.get('a/b/c/d.json'))).toBe('version two');
        expect((await store.head('a/b/c/d.json')).size).toBe(11);
        await store.put('a/b/c/d.json', utf8('3'));
        expect(text(await store.get('a/b/c/d.json'))).toBe('3');
        expect(await keys(store)).toEqual(['a/b/c/d.json']);
      });

      it('concurrent puts of one key leave exactly one whole payload', async () => {
        const payloads = Array.from({ length: 12 }, (_, i) => new Uint8Array(50_000).fill(i + 1));
        await Promise.all(payloads.map((payload) => store.put('race', payload)));
        const stored = await store.get('race');
        expect(stored.byteLength).toBe(50_000);
        const first = stored[0]!;
        expect(first).toBeGreaterThanOrEqual(1);
        expect(first).toBeLessThanOrEqual(12);
        expect(stored.every((byte) => byte === first)).toBe(true);
        expect(await keys(store)).toEqual(['race']);
      });
    });

    describe('putIfAbsent', () => {
      it("returns 'created' for a new key and 'exists' without changing the object afterwards", async () => {
        expect(await store.putIfAbsent('_delta_log/00000000000000000000.json', utf8('first'))).toBe('created');
        expect(await store.putIfAbsent('_delta_log/00000000000000000000.json', utf8('second, longer'))).toBe('exists');
        expect(text(await store.get('_delta_log/00000000000000000000.json'))).toBe('first');
        expect((await store.head('_delta_log/00000000000000000000.json')).size).toBe(5);
        expect(await keys(store)).toEqual(['_delta_log/00000000000000000000.json']);
      });

      it("returns 'exists' for a key written by put, and put replaces a key written by putIfAbsent", async () => {
        await store.put('k', utf8('by put'));
        expect(await store.putIfAbsent('k', utf8('by putIfAbsent'))).toBe('exists');
        expect(text(await store.get('k'))).toBe('by put');
        expect(await store.putIfAbsent('j', utf8('by putIfAbsent'))).toBe('created');
        await store.put('j', utf8('replaced'));
        expect(text(await store.get('j'))).toBe('replaced');
      });

      it("exactly one of many concurrent putIfAbsent calls on one key returns 'created'", async () => {
        const attempts = 24;
        const outcomes = await Promise.all(
          Array.from({ length: attempts }, (_, i) =>
            store.putIfAbsent('commit/00000000000000000007.json', utf8(`writer-${i}`)),
          ),
        );
        const winners = outcomes.flatMap((outcome, i) => (outcome === 'created' ? [i] : []));
        expect(winners).toHaveLength(1);
        expect(outcomes.filter((outcome) => outcome === 'exists')).toHaveLength(attempts - 1);
        expect(text(await store.get('commit/00000000000000000007.json'))).toBe(`writer-${winners[0]}`);
        expect(await keys(store)).toEqual(['commit/00000000000000000007.json']);
      });

      it('works again after the key was deleted', async () => {
        expect(await store.putIfAbsent('x', utf8('1'))).toBe('created');
        await store.delete('x');
        expect(await store.putIfAbsent('x', utf8('2'))).toBe('created');
        expect(text(await store.get('x'))).toBe('2');
      });
    });

    describe('list', () => {
      beforeEach(async () => {
        // Write in an order unrelated to the expected order.
        for (const key of [...ORDER_KEYS_EXPECTED].reverse()) await store.put(key, utf8(`data of ${key}`));
      });

      it('yields every object in ascending UTF-8 byte order', async () => {
        const listed = await keys(store);
        expect(listed).toEqual(ORDER_KEYS_EXPECTED);
        expect(listed).toEqual(byteSorted(listed));
      });

      it('reports size and lastModified of each object', async () => {
        const listed = await collect(store.list());
        for (const meta of listed) {
          expect(meta.size).toBe(utf8(`data of ${meta.key}`).byteLength);
          expect(meta.lastModified).toBe((await store.head(meta.key)).lastModified);
        }
      });

      it('filters by a prefix that need not end on a folder boundary', async () => {
        expect(await keys(store, { prefix: 'a' })).toEqual([
          'a-b',
          'a.b',
          'a/b',
          'a/c/d',
          'a/c=1/e',
          'a/c_/f',
          'a0',
          'ab',
        ]);
        expect(await keys(store, { prefix: 'a/' })).toEqual(['a/b', 'a/c/d', 'a/c=1/e', 'a/c_/f']);
        expect(await keys(store, { prefix: 'a/c' })).toEqual(['a/c/d', 'a/c=1/e', 'a/c_/f']);
        expect(await keys(store, { prefix: 'a/c/' })).toEqual(['a/c/d']);
        expect(await keys(store, { prefix: 'a/c/d' })).toEqual(['a/c/d']);
        expect(await keys(store, { prefix: '_delta_log/0000000000000000000' })).toEqual([
          '_delta_log/00000000000000000000.json',
          '_delta_log/00000000000000000001.json',
        ]);
        expect(await keys(store, { prefix: '日' })).toEqual(['日本/x']);
        expect(await keys(store, { prefix: 'nothing' })).toEqual([]);
        expect(await keys(store, { prefix: 'nothing/deeper/' })).toEqual([]);
        expect(await keys(store, { prefix: '' })).toEqual(ORDER_KEYS_EXPECTED);
      });

      it('starts strictly after startAfter, whether or not that key exists', async () => {
        expect(await keys(store, { startAfter: 'a.b' })).toEqual(ORDER_KEYS_EXPECTED.slice(9));
        expect(await keys(store, { startAfter: 'a/' })).toEqual(ORDER_KEYS_EXPECTED.slice(9));
        expect(await keys(store, { startAfter: 'a/bb' })).toEqual(ORDER_KEYS_EXPECTED.slice(10));
        expect(await keys(store, { startAfter: 'a/c' })).toEqual(ORDER_KEYS_EXPECTED.slice(10));
        expect(await keys(store, { startAfter: '' })).toEqual(ORDER_KEYS_EXPECTED);
        expect(await keys(store, { startAfter: '😀' })).toEqual([]);
        expect(await keys(store, { startAfter: '\u{10FFFF}' })).toEqual([]);
        expect(await keys(store, { startAfter: 'é' })).toEqual(['日本/x', 'ﬀ', '😀']);
      });

      it('combines prefix and startAfter (reading the Delta log after a known version)', async () => {
        expect(
          await keys(store, { prefix: '_delta_log/', startAfter: '_delta_log/00000000000000000000.json' }),
        ).toEqual(['_delta_log/00000000000000000001.json', '_delta_log/00000000000000000010.json']);
        expect(await keys(store, { prefix: 'a/', startAfter: 'a/c/d' })).toEqual(['a/c=1/e', 'a/c_/f']);
        expect(await keys(store, { prefix: 'a/', startAfter: 'A' })).toEqual(['a/b', 'a/c/d', 'a/c=1/e', 'a/c_/f']);
        expect(await keys(store, { prefix: 'a/', startAfter: 'b' })).toEqual([]);
      });

      it('no longer yields deleted objects and yields objects put before listing', async () => {
        await store.delete('a/c/d');
        await store.delete('a.b');
        await store.put('a/c/new', utf8('n'));
        const expected = byteSorted([...ORDER_KEYS_EXPECTED.filter((k) => k !== 'a/c/d' && k !== 'a.b'), 'a/c/new']);
        expect(await keys(store)).toEqual(expected);
        for (const key of ORDER_KEYS_EXPECTED) await store.delete(key);
        expect(await keys(store)).toEqual(['a/c/new']);
        expect(await keys(store, { prefix: 'a/b' })).toEqual([]);
      });

      it('yields Delta-style zero-padded versions in numeric order', async () => {
        const versions = Array.from({ length: 25 }, (_, v) => `t/_delta_log/${String(v).padStart(20, '0')}.json`);
        for (const key of [...versions].reverse()) await store.putIfAbsent(key, utf8('{}'));
        expect(await keys(store, { prefix: 't/_delta_log/' })).toEqual(versions);
        expect(await keys(store, { prefix: 't/', startAfter: versions[19] })).toEqual(versions.slice(20));
      });
    });

    describe('delete', () => {
      it('removes an object and is idempotent', async () => {
        await store.put('d/x', utf8('x'));
        await store.put('d/y', utf8('y'));
        await store.delete('d/x');
        await expectFault(store.get('d/x'), 'OBJECT_NOT_FOUND');
        await store.delete('d/x');
        await store.delete('never/existed');
        expect(text(await store.get('d/y'))).toBe('y');
        expect(await keys(store)).toEqual(['d/y']);
      });

      it('deleting a folder-like prefix key removes nothing', async () => {
        await store.put('p/q', utf8('q'));
        await store.delete('p');
        expect(await keys(store)).toEqual(['p/q']);
      });
    });

    describe('key validation', () => {
      const invalid = ['', '/abs', '/', 'a/../b', '..', '../x', '.', './a', 'a/./b', 'a//b', 'a/', 'a\\b', 'x\0y'];

      it.each(invalid)('rejects %j with INVALID_KEY in every operation', async (key) => {
        for (const attempt of [
          () => store.get(key),
          () => store.head(key),
          () => store.put(key, utf8('x')),
          () => store.putIfAbsent(key, utf8('x')),
          () => store.delete(key),
        ]) {
          const error = await expectFault(attempt(), 'INVALID_KEY');
          expect(error.domain).toBe('user');
          expect(error.retryable).toBe(false);
          expect(error.context.key).toBe(key);
        }
        expect(await keys(store)).toEqual([]);
      });

      it('rejects list prefixes that escape the root', async () => {
        for (const prefix of ['../', '/etc/', 'a/../', 'a\\b']) {
          await expectFault(collect(store.list({ prefix })), 'INVALID_KEY');
        }
      });

      it('accepts keys with dots, spaces, percent signs and unicode inside segments', async () => {
        const valid = ['.hidden', 'a..b', '...', 'sp ace/x y', 'p%2Fq', 'k=v/part-0.parquet', 'ü/ß', '.a/.b'];
        for (const key of valid) await store.put(key, utf8(key));
        for (const key of valid) expect(text(await store.get(key))).toBe(key);
        expect(await keys(store)).toEqual(byteSorted(valid));
      });
    });
  });
}
