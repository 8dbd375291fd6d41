// MemoryObjectStore: the shared ObjectStore contract plus in-memory specifics (location, clock, copies).

import { describe, expect, it } from 'vitest';
import { MemoryObjectStore } from '../../storage/memory.js';
import { objectStoreContract } from '../contracts/object-store.js';

objectStoreContract('MemoryObjectStore', async () => ({
  store: new MemoryObjectStore('contract'),
  cleanup: async () => {},
}));

describe('MemoryObjectStore', () => {
  it('names its location memory://<name>, unique when unnamed', () => {
    expect(new MemoryObjectStore('events').location).toBe('memory://events');
    const a = new MemoryObjectStore();
    const b = new MemoryObjectStore();
    expect(a.location).toMatch(/^memory:\/\/store-\d+$/);
    expect(a.location).not.toBe(b.location);
  });

  it('uses the injected clock for lastModified', async () => {
    let now = 1_700_000_000_000;
    const store = new MemoryObjectStore('clock', { now: () => now });
    await store.put('a', new Uint8Array([1]));
    now += 5000;
    await store.putIfAbsent('b', new Uint8Array([2]));
    expect((await store.head('a')).lastModified).toBe(1_700_000_000_000);
    expect((await store.head('b')).lastModified).toBe(1_700_000_005_000);
  });

  it('stores a copy of a Buffer, not a view of its memory', async () => {
    const store = new MemoryObjectStore();
    const pool = Buffer.from('abcdef');
    await store.put('k', pool.subarray(2, 4));
    pool.fill(0);
    const stored = await store.get('k');
    expect(Buffer.from(stored).toString()).toBe('cd');
    expect(stored.byteLength).toBe(2);
    expect(store.size).toBe(1);
  });

  it('holds an object and a folder of objects under one name, as S3 does', async () => {
    const store = new MemoryObjectStore();
    await store.put('a', new Uint8Array([1]));
    await store.put('a/b', new Uint8Array([2]));
    const listed: string[] = [];
    for await (const meta of store.list()) listed.push(meta.key);
    expect(listed).toEqual(['a', 'a/b']);
  });
});
