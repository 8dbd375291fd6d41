// MemoryStateStoreProvider: the StateStoreProvider seam held in sorted in-process maps (tests and
// examples). Same versioned layout and contract as LevelDB; state survives provider restarts via a shared MemoryStateSpace.

import type { BackendOp, StateBackend } from './backend.js';
import { byteString, fromByteString, lowerBound } from './layout.js';
import { type VersionedProviderOptions, VersionedStateStoreProvider } from './versioned-provider.js';

/** A sorted byte-keyed map; writes apply synchronously, so a batch is atomic within the process. */
class MemoryBackend implements StateBackend {
  private readonly values = new Map<string, Uint8Array>();
  private sorted: string[] = [];
  private sortedValid = true;

  constructor(readonly location: string) {}

  async getMany(keys: readonly Uint8Array[]): Promise<(Uint8Array | undefined)[]> {
    return keys.map((key) => this.values.get(byteString(key))?.slice());
  }

  async *iterate(gte: Uint8Array, lt: Uint8Array): AsyncIterable<[Uint8Array, Uint8Array]> {
    const ids = this.orderedIds();
    const lo = byteString(gte);
    const hi = byteString(lt);
    for (let i = lowerBound(ids, lo); i < ids.length && ids[i]! < hi; i++) {
      const value = this.values.get(ids[i]!);
      if (value !== undefined) yield [fromByteString(ids[i]!), value.slice()];
    }
  }

  async write(ops: Iterable<BackendOp>): Promise<void> {
    for (const op of ops) {
      const id = byteString(op.key);
      if (op.type === 'put') {
        if (!this.values.has(id)) this.sortedValid = false;
        this.values.set(id, op.value.slice());
      } else if (this.values.delete(id)) {
        this.sortedValid = false;
      }
    }
  }

  async close(): Promise<void> {}

  private orderedIds(): string[] {
    if (!this.sortedValid) {
      this.sorted = [...this.values.keys()].sort();
      this.sortedValid = true;
    }
    return this.sorted;
  }
}

/** The "disk" of in-memory state: pass the same space to a new provider to simulate a process restart. */
export class MemoryStateSpace {
  private readonly backends = new Map<string, MemoryBackend>();
  constructor(readonly name = 'state') {}

  /** @internal */
  backend(operatorId: string): StateBackend {
    let backend = this.backends.get(operatorId);
    if (backend === undefined) {
      backend = new MemoryBackend(`memory://${this.name}/${operatorId}`);
      this.backends.set(operatorId, backend);
    }
    return backend;
  }
}

export interface MemoryStateStoreOptions extends VersionedProviderOptions {
  /** Where state lives; default a fresh space owned by this provider. */
  space?: MemoryStateSpace;
}

export class MemoryStateStoreProvider extends VersionedStateStoreProvider {
  readonly space: MemoryStateSpace;

  constructor(options: MemoryStateStoreOptions = {}) {
    super(options);
    this.space = options.space ?? new MemoryStateSpace();
  }

  protected async openBackend(operatorId: string): Promise<StateBackend> {
    return this.space.backend(operatorId);
  }
}
