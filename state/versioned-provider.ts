// VersionedStateStoreProvider: the StateStoreProvider seam (stream/state-store.ts) over one StateBackend
// per operator; subclasses say how a backend is opened (LevelDB folder, in-memory map).

import { StateStoreUsageError } from '../stream/errors.js';
import type { StateFingerprint, StateStore, StateStoreProvider } from '../stream/state-store.js';
import type { StateBackend } from './backend.js';
import { StateArgumentError } from './errors.js';
import type { MirrorCell } from './mirror.js';
import { latestCommittedVersion, openVersionedStore } from './versioned-store.js';

/** Options shared by every versioned provider. */
export interface VersionedProviderOptions {
  /** How many of the newest committed versions stay openable (Spark's minVersionsToRetain). Default 100. */
  minVersionsToRetain?: number;
  /** Clock for commit timing and version records, ms since the epoch. Default Date.now. */
  now?: () => number;
  /**
   * Bound of the in-memory copy of each operator's newest committed version, in state rows (keys).
   * Reads of the newest version and commits are served from that copy without backend reads; above
   * the bound the copy is dropped and reads go to the backend (rebuilt once the state shrinks below
   * half the bound). Costs roughly 150 bytes plus key and value length per row. 0 disables it.
   * Default 2,000,000.
   */
  maxCachedRows?: number;
}

export const VERSIONED_PROVIDER_DEFAULTS = Object.freeze({
  minVersionsToRetain: 100,
  now: Date.now,
  maxCachedRows: 2_000_000,
});

const OPERATOR_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Validates an operator id: it names a folder, so 1-128 of [A-Za-z0-9._-], not starting with '.', '_' or '-'. */
export function validateOperatorId(operatorId: string): void {
  if (typeof operatorId !== 'string' || !OPERATOR_ID.test(operatorId)) {
    throw new StateArgumentError(`invalid state operator id ${JSON.stringify(operatorId)}`, { operatorId });
  }
}

export abstract class VersionedStateStoreProvider implements StateStoreProvider {
  protected readonly minVersionsToRetain: number;
  protected readonly now: () => number;
  protected readonly maxCachedRows: number;
  private readonly backends = new Map<string, Promise<StateBackend>>();
  /** Per operator: the in-memory copy of its newest committed version (see state/mirror.ts). */
  private readonly mirrors = new Map<string, MirrorCell>();
  private readonly active = new Map<string, StateStore>();
  private closed = false;

  protected constructor(options: VersionedProviderOptions) {
    const minVersionsToRetain = options.minVersionsToRetain ?? VERSIONED_PROVIDER_DEFAULTS.minVersionsToRetain;
    if (!Number.isSafeInteger(minVersionsToRetain) || minVersionsToRetain < 1) {
      throw new StateArgumentError(`minVersionsToRetain must be an integer >= 1, got ${minVersionsToRetain}`, {
        minVersionsToRetain,
      });
    }
    this.minVersionsToRetain = minVersionsToRetain;
    this.now = options.now ?? VERSIONED_PROVIDER_DEFAULTS.now;
    const maxCachedRows = options.maxCachedRows ?? VERSIONED_PROVIDER_DEFAULTS.maxCachedRows;
    if (!Number.isSafeInteger(maxCachedRows) || maxCachedRows < 0) {
      throw new StateArgumentError(`maxCachedRows must be an integer >= 0, got ${maxCachedRows}`, { maxCachedRows });
    }
    this.maxCachedRows = maxCachedRows;
  }

  /** Opens (or creates) the backend holding one operator's state. Called once per operator. */
  protected abstract openBackend(operatorId: string): Promise<StateBackend>;

  async open(operatorId: string, version: number, fingerprint: StateFingerprint): Promise<StateStore> {
    const backend = await this.backend(operatorId);
    if (this.active.has(operatorId)) {
      throw new StateStoreUsageError(
        'STATE_STORE_IN_USE',
        `operator '${operatorId}' already has an open state store (version ${this.active.get(operatorId)!.version}); commit or abort it first`,
        { operatorId },
      );
    }
    const placeholder = { version } as StateStore;
    this.active.set(operatorId, placeholder);
    try {
      const store = await openVersionedStore(backend, operatorId, version, fingerprint, {
        minVersionsToRetain: this.minVersionsToRetain,
        now: this.now,
        onFinish: () => {
          if (this.active.get(operatorId) === store) this.active.delete(operatorId);
        },
        mirror: this.mirrorCell(operatorId),
      });
      this.active.set(operatorId, store);
      return store;
    } catch (error) {
      this.active.delete(operatorId);
      throw error;
    }
  }

  async latestVersion(operatorId: string): Promise<number> {
    return latestCommittedVersion(await this.backend(operatorId), operatorId);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const store of [...this.active.values()]) if (typeof store.abort === 'function') store.abort();
    this.active.clear();
    this.mirrors.clear();
    const backends = await Promise.allSettled(this.backends.values());
    this.backends.clear();
    await Promise.all(backends.map((b) => (b.status === 'fulfilled' ? b.value.close() : undefined)));
  }

  private mirrorCell(operatorId: string): MirrorCell | undefined {
    if (this.maxCachedRows === 0) return undefined;
    let cell = this.mirrors.get(operatorId);
    if (cell === undefined) {
      cell = { mirror: undefined, tooLarge: false, maxRows: this.maxCachedRows };
      this.mirrors.set(operatorId, cell);
    }
    return cell;
  }

  private backend(operatorId: string): Promise<StateBackend> {
    if (this.closed) {
      return Promise.reject(
        new StateStoreUsageError(
          'STATE_STORE_CLOSED',
          `state provider was closed; cannot use operator '${operatorId}'`,
          {
            operatorId,
          },
        ),
      );
    }
    validateOperatorId(operatorId);
    let backend = this.backends.get(operatorId);
    if (backend === undefined) {
      backend = this.openBackend(operatorId);
      this.backends.set(operatorId, backend);
      backend.catch(() => this.backends.delete(operatorId));
    }
    return backend;
  }
}
