// MemoryStateStoreProvider: the shared StateStore contract plus in-memory specifics (shared spaces).

import { describe, expect, it } from 'vitest';
import { MemoryStateSpace, MemoryStateStoreProvider } from '../../state/memory-store.js';
import { stateStoreContract } from '../contracts/state-store.js';

stateStoreContract('MemoryStateStoreProvider', async () => {
  const space = new MemoryStateSpace('contract');
  return { provider: (options) => new MemoryStateStoreProvider({ ...options, space }), cleanup: async () => {} };
});

stateStoreContract('MemoryStateStoreProvider (backend reads, maxCachedRows 0)', async () => {
  const space = new MemoryStateSpace('contract-uncached');
  return {
    provider: (options) => new MemoryStateStoreProvider({ maxCachedRows: 0, ...options, space }),
    cleanup: async () => {},
  };
});

// A bound of 3 rows: the mirror is dropped and rebuilt as the state grows and shrinks across it.
stateStoreContract('MemoryStateStoreProvider (mirror bound of 3 rows)', async () => {
  const space = new MemoryStateSpace('contract-bounded');
  return {
    provider: (options) => new MemoryStateStoreProvider({ maxCachedRows: 3, ...options, space }),
    cleanup: async () => {},
  };
});

describe('MemoryStateStoreProvider', () => {
  it('keeps state of separate spaces apart', async () => {
    const a = new MemoryStateStoreProvider();
    const b = new MemoryStateStoreProvider();
    const store = await a.open('op', -1, {});
    store.put('k', Uint8Array.of(1));
    await store.commit(0);
    expect(await a.latestVersion('op')).toBe(0);
    expect(await b.latestVersion('op')).toBe(-1);
  });

  it('refuses minVersionsToRetain below 1', () => {
    expect(() => new MemoryStateStoreProvider({ minVersionsToRetain: 0 })).toThrow(
      expect.objectContaining({ code: 'STATE_INVALID_ARGUMENT' }),
    );
  });
});
