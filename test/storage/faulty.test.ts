// FaultyObjectStore: rule matching (op, key, nth, times), fail-before/after, delay, crash, call log.

import { describe, expect, it } from 'vitest';
import type { LakestreamError } from '../../common/errors.js';
import { StorageError } from '../../storage/errors.js';
import { FaultyObjectStore } from '../../storage/faulty.js';
import { MemoryObjectStore } from '../../storage/memory.js';
import type { ObjectStore } from '../../storage/object-store.js';
import { objectStoreContract } from '../contracts/object-store.js';

const utf8 = (text: string) => new TextEncoder().encode(text);
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

async function caught(promise: Promise<unknown>): Promise<LakestreamError | Error> {
  return promise.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (error: Error) => error,
  );
}

async function listKeys(store: ObjectStore, prefix?: string): Promise<string[]> {
  const out: string[] = [];
  for await (const meta of store.list(prefix === undefined ? {} : { prefix })) out.push(meta.key);
  return out;
}

// Without rules the decorator is transparent: it must satisfy the whole contract.
objectStoreContract('FaultyObjectStore (no rules) over MemoryObjectStore', async () => ({
  store: new FaultyObjectStore(new MemoryObjectStore()),
  cleanup: async () => {},
}));

describe('FaultyObjectStore', () => {
  it('fail-before throws a retryable INJECTED_FAULT and does not perform the operation', async () => {
    const inner = new MemoryObjectStore();
    const store = new FaultyObjectStore(inner, [{ op: 'putIfAbsent', action: 'fail-before' }]);
    const error = await caught(store.putIfAbsent('k', utf8('v')));
    expect(error).toBeInstanceOf(StorageError);
    expect((error as StorageError).code).toBe('INJECTED_FAULT');
    expect((error as StorageError).retryable).toBe(true);
    expect((error as StorageError).context).toMatchObject({ key: 'k', op: 'putIfAbsent', action: 'fail-before' });
    expect(inner.size).toBe(0);
    // times defaults to 1: the retry goes through.
    expect(await store.putIfAbsent('k', utf8('v'))).toBe('created');
  });

  it('fail-after performs the operation, then throws (durable but not acknowledged)', async () => {
    const inner = new MemoryObjectStore();
    const store = new FaultyObjectStore(inner, [{ op: 'putIfAbsent', action: 'fail-after' }]);
    await caught(store.putIfAbsent('_delta_log/00000000000000000003.json', utf8('mine')));
    expect(text(await inner.get('_delta_log/00000000000000000003.json'))).toBe('mine');
    // A retry sees its own commit as existing: exactly the case a commit protocol must handle.
    expect(await store.putIfAbsent('_delta_log/00000000000000000003.json', utf8('mine'))).toBe('exists');
  });

  it('fires on the nth matching call for `times` calls, counting only matching op and key', async () => {
    const store = new FaultyObjectStore(new MemoryObjectStore(), [
      { op: 'put', key: /\.json$/, nth: 2, times: 2, action: 'fail-before' },
    ]);
    const results: string[] = [];
    for (const key of ['a.json', 'b.txt', 'c.json', 'd.json', 'e.txt', 'f.json']) {
      results.push(
        await store.put(key, utf8(key)).then(
          () => 'ok',
          () => 'fail',
        ),
      );
    }
    // Matching calls: a.json (1st), c.json (2nd, fails), d.json (3rd, fails), f.json (4th).
    expect(results).toEqual(['ok', 'ok', 'fail', 'fail', 'ok', 'ok']);
    expect(await listKeys(store)).toEqual(['a.json', 'b.txt', 'e.txt', 'f.json']);
  });

  it('matches a string key exactly and an op list', async () => {
    const store = new FaultyObjectStore(new MemoryObjectStore(), [
      { op: ['get', 'head'], key: 'x', times: Number.POSITIVE_INFINITY, action: 'fail-before' },
    ]);
    await store.put('x', utf8('1'));
    await store.put('xy', utf8('2'));
    await caught(store.get('x'));
    await caught(store.head('x'));
    await caught(store.get('x'));
    expect(text(await store.get('xy'))).toBe('2');
    expect((await store.head('xy')).size).toBe(1);
  });

  it('uses a rule-specific error when given', async () => {
    const store = new FaultyObjectStore(new MemoryObjectStore(), [
      { op: 'delete', action: 'fail-before', error: () => new TypeError('custom') },
    ]);
    const error = await caught(store.delete('k'));
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toBe('custom');
  });

  it('a /g pattern matches every call (lastIndex is reset)', async () => {
    const store = new FaultyObjectStore(new MemoryObjectStore(), [
      { op: 'put', key: /k/g, times: 3, action: 'fail-before' },
    ]);
    const outcomes = await Promise.all(
      ['k', 'k', 'k', 'k'].map((key) =>
        store.put(key, utf8('v')).then(
          () => 'ok',
          () => 'fail',
        ),
      ),
    );
    expect(outcomes).toEqual(['fail', 'fail', 'fail', 'ok']);
  });

  it('delay waits with the injected sleep before performing the call', async () => {
    const sleeps: number[] = [];
    let release: () => void = () => {};
    const store = new FaultyObjectStore(new MemoryObjectStore(), [{ op: 'put', action: 'delay', delayMs: 250 }], {
      sleep: (ms) => {
        sleeps.push(ms);
        return new Promise<void>((resolve) => {
          release = resolve;
        });
      },
    });
    const pending = store.put('slow', utf8('v'));
    await Promise.resolve();
    expect(sleeps).toEqual([250]);
    expect(await listKeys(store.inner)).toEqual([]);
    release();
    await pending;
    expect(await listKeys(store.inner)).toEqual(['slow']);
    expect(store.calls[0]?.injected).toEqual(['delay']);
  });

  it('list faults fire before iteration or after the last item', async () => {
    const inner = new MemoryObjectStore();
    await inner.put('p/a', utf8('a'));
    await inner.put('p/b', utf8('b'));
    const before = new FaultyObjectStore(inner, [{ op: 'list', key: 'p/', action: 'fail-before' }]);
    const seenBefore: string[] = [];
    await caught(
      (async () => {
        for await (const meta of before.list({ prefix: 'p/' })) seenBefore.push(meta.key);
      })(),
    );
    expect(seenBefore).toEqual([]);
    const after = new FaultyObjectStore(inner, [{ op: 'list', action: 'fail-after' }]);
    const seenAfter: string[] = [];
    await caught(
      (async () => {
        for await (const meta of after.list()) seenAfter.push(meta.key);
      })(),
    );
    expect(seenAfter).toEqual(['p/a', 'p/b']);
  });

  it('crashAt performs the call, then refuses every later call until reset', async () => {
    const inner = new MemoryObjectStore();
    const store = new FaultyObjectStore(inner).crashAt('putIfAbsent', { key: /_delta_log/, nth: 2 });
    expect(await store.putIfAbsent('_delta_log/0.json', utf8('0'))).toBe('created');
    await store.put('data/part-1.parquet', utf8('p'));
    const crash = await caught(store.putIfAbsent('_delta_log/1.json', utf8('1')));
    expect((crash as StorageError).code).toBe('INJECTED_CRASH');
    expect((crash as StorageError).retryable).toBe(false);
    expect(store.crashed).toBe(true);
    expect(text(await inner.get('_delta_log/1.json'))).toBe('1');
    const later = await caught(store.get('_delta_log/0.json'));
    expect((later as StorageError).code).toBe('INJECTED_CRASH');
    expect(later.message).toContain('putIfAbsent _delta_log/1.json');
    // "Restart": a fresh decorator over the same durable store sees everything written before the crash.
    const restarted = new FaultyObjectStore(inner);
    expect(await listKeys(restarted)).toEqual(['_delta_log/0.json', '_delta_log/1.json', 'data/part-1.parquet']);
    store.reset();
    expect(store.crashed).toBe(false);
    expect(text(await store.get('_delta_log/0.json'))).toBe('0');
  });

  it('crash-before does not perform the call', async () => {
    const inner = new MemoryObjectStore();
    const store = new FaultyObjectStore(inner).crashAt('put', { before: true });
    await caught(store.put('k', utf8('v')));
    expect(inner.size).toBe(0);
    expect(store.crashed).toBe(true);
  });

  it('records every call with its key and injected faults', async () => {
    const store = new FaultyObjectStore(new MemoryObjectStore(), [{ op: 'head', action: 'fail-before' }]);
    await store.put('a', utf8('a'));
    await caught(store.head('a'));
    await store.get('a', { offset: 0, length: 1 });
    await listKeys(store, 'a');
    await store.delete('a');
    await caught(store.get('a'));
    expect(store.calls).toEqual([
      { op: 'put', key: 'a', injected: [] },
      { op: 'head', key: 'a', injected: ['fail-before'] },
      { op: 'get', key: 'a', injected: [] },
      { op: 'list', key: 'a', injected: [] },
      { op: 'delete', key: 'a', injected: [] },
      { op: 'get', key: 'a', injected: [] },
    ]);
    expect(store.callsTo('get').map((call) => call.key)).toEqual(['a', 'a']);
    expect(store.location).toBe(store.inner.location);
  });

  it('rejects invalid nth and times', () => {
    const store = new FaultyObjectStore(new MemoryObjectStore());
    expect(() => store.inject({ op: 'get', nth: 0, action: 'fail-before' })).toThrow(/nth/);
    expect(() => store.inject({ op: 'get', times: 0, action: 'fail-before' })).toThrow(/times/);
    expect(() => store.inject({ op: 'get', times: 1.5, action: 'fail-before' })).toThrow(/times/);
  });
});
