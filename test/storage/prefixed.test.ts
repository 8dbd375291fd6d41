// PrefixedObjectStore: the shared ObjectStore contract on a subfolder view, plus isolation from the rest.

import { describe, expect, it } from 'vitest';
import { MemoryObjectStore } from '../../storage/memory.js';
import { PrefixedObjectStore } from '../../storage/prefixed.js';
import { objectStoreContract } from '../contracts/object-store.js';

objectStoreContract('PrefixedObjectStore', async () => {
  const inner = new MemoryObjectStore('prefixed-contract');
  await inner.put('sources/0', new Uint8Array([1])); // a sibling key the view must not see
  await inner.put('sources/1/x', new Uint8Array([1]));
  return { store: new PrefixedObjectStore(inner, 'sources/0/'), cleanup: async () => {} };
});

describe('PrefixedObjectStore', () => {
  it('stores under the prefix and lists keys relative to it', async () => {
    const inner = new MemoryObjectStore('prefixed');
    const view = new PrefixedObjectStore(inner, 'a/b/');
    await view.put('k1', new Uint8Array([1]));
    expect(await inner.get('a/b/k1')).toEqual(new Uint8Array([1]));
    await inner.put('a/c', new Uint8Array([2]));
    const keys: string[] = [];
    for await (const meta of view.list()) keys.push(meta.key);
    expect(keys).toEqual(['k1']);
    expect((await view.head('k1')).key).toBe('k1');
    expect(view.location).toBe('memory://prefixed/a/b');
  });

  it('refuses a prefix that is not a folder', () => {
    expect(() => new PrefixedObjectStore(new MemoryObjectStore(), 'a')).toThrow(/must end with/);
  });
});
