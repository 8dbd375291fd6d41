// MemoryStateStoreProvider: the shared StateStore contract plus in-memory specifics (shared spaces).

import { describe, expect, it } from 'vitest';
import { MemoryStateSpace, MemoryStateStoreProvider } from '../../state/memory-store.js';
import { stateStoreContract } from '../contracts/state-store.js';

stateStoreContract('MemoryStateStoreProvider', async () => {
  const space = new MemoryStateSpace('contract');
  return { provider: (options) => new MemoryStateStoreProvider({ ...options, space }), cleanup: async () => {} };
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
