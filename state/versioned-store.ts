// VersionedStateStore: the StateStore seam (stream/state-store.ts) over any StateBackend, using the
// multi-version layout of state/layout.ts. Shared by the LevelDB and in-memory providers.

import {
  type FingerprintChange,
  StateCorruptError,
  StateIncompatibleError,
  StateStoreUsageError,
  StateVersionUnavailableError,
} from '../stream/errors.js';
import {
  EMPTY_STATE_VERSION,
  type StateEntry,
  type StateFingerprint,
  type StateKey,
  type StateStore,
  type StateStoreMetrics,
} from '../stream/state-store.js';
import type { BackendOp, StateBackend } from './backend.js';
import { prefixEnd } from './codec.js';
import {
  byteString,
  DATA_END,
  DATA_START,
  dataKey,
  decodeUndoValue,
  encodeUndoValue,
  fromByteString,
  LAYOUT_VERSION,
  metaKey,
  parseUndoKey,
  undoKey,
  undoStart,
  versionKey,
} from './layout.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

export interface VersionedOpenOptions {
  minVersionsToRetain: number;
  now: () => number;
  /** Called once when the store is committed or aborted. */
  onFinish: () => void;
}

interface StoredMeta {
  latest: number;
  oldest: number;
  fingerprint: StateFingerprint | undefined;
}

function toBytes(key: StateKey): Uint8Array {
  return typeof key === 'string' ? enc.encode(key) : key;
}

async function readMeta(backend: StateBackend, operatorId: string): Promise<StoredMeta> {
  const [layout, version, oldest, fingerprint] = await backend.getMany([
    metaKey.layout,
    metaKey.version,
    metaKey.oldest,
    metaKey.fingerprint,
  ]);
  if (layout === undefined) return { latest: EMPTY_STATE_VERSION, oldest: EMPTY_STATE_VERSION, fingerprint: undefined };
  const context = { operatorId, location: backend.location };
  if (dec.decode(layout) !== LAYOUT_VERSION) {
    throw new StateCorruptError(`state layout ${JSON.stringify(dec.decode(layout))} is not supported`, context);
  }
  const latest = Number(dec.decode(version ?? new Uint8Array()));
  const oldestVersion = Number(dec.decode(oldest ?? new Uint8Array()));
  if (
    version === undefined ||
    oldest === undefined ||
    !Number.isSafeInteger(latest) ||
    !Number.isSafeInteger(oldestVersion)
  ) {
    throw new StateCorruptError('state metadata is missing its version markers', context);
  }
  let parsed: StateFingerprint | undefined;
  if (fingerprint !== undefined) {
    try {
      parsed = JSON.parse(dec.decode(fingerprint)) as StateFingerprint;
    } catch (cause) {
      throw new StateCorruptError('stored state fingerprint is not valid JSON', context, cause);
    }
  }
  return { latest, oldest: oldestVersion, fingerprint: parsed };
}

/** Every part that differs between two fingerprints, sorted by part name. */
export function fingerprintChanges(stored: StateFingerprint, current: StateFingerprint): FingerprintChange[] {
  const parts = [...new Set([...Object.keys(stored), ...Object.keys(current)])].sort();
  return parts
    .filter((part) => stored[part] !== current[part])
    .map((part) => ({ part, stored: stored[part], current: current[part] }));
}

/** Reads the newest committed version of an operator's state (EMPTY_STATE_VERSION when none). */
export async function latestCommittedVersion(backend: StateBackend, operatorId: string): Promise<number> {
  return (await readMeta(backend, operatorId)).latest;
}

/** Opens the state of `version`; see StateStoreProvider.open for the contract. */
export async function openVersionedStore(
  backend: StateBackend,
  operatorId: string,
  version: number,
  fingerprint: StateFingerprint,
  options: VersionedOpenOptions,
): Promise<StateStore> {
  const meta = await readMeta(backend, operatorId);
  if (meta.fingerprint !== undefined) {
    const changes = fingerprintChanges(meta.fingerprint, fingerprint);
    if (changes.length > 0) throw new StateIncompatibleError(operatorId, backend.location, changes);
  }
  const unavailable = (detail: string) =>
    new StateVersionUnavailableError(operatorId, version, detail, {
      location: backend.location,
      latest: meta.latest,
      oldest: meta.oldest,
    });
  if (!Number.isSafeInteger(version) || version < EMPTY_STATE_VERSION) throw unavailable('not a version number');
  if (version > meta.latest) throw unavailable(`the newest committed version is ${meta.latest}`);
  if (version < meta.oldest) throw unavailable(`versions before ${meta.oldest} were purged by retention`);
  let rowsAtVersion = 0;
  if (version !== EMPTY_STATE_VERSION) {
    const [record] = await backend.getMany([versionKey(version)]);
    if (record === undefined) throw unavailable('it was never committed');
    rowsAtVersion = (JSON.parse(dec.decode(record)) as { rows: number }).rows;
  }
  const overlay = new Map<string, Uint8Array | null>();
  if (version < meta.latest) {
    for await (const [key, value] of backend.iterate(undoStart(version + 1), undoStart(meta.latest + 1))) {
      const id = byteString(parseUndoKey(key).userKey);
      if (!overlay.has(id)) overlay.set(id, decodeUndoValue(value));
    }
  }
  return new VersionedStateStore(backend, operatorId, version, meta, fingerprint, rowsAtVersion, overlay, options);
}

interface Pending {
  key: Uint8Array;
  value: Uint8Array | null;
}

class VersionedStateStore implements StateStore {
  private readonly pending = new Map<string, Pending>();
  /** Values of the base version read from the backend (null = absent). */
  private readonly known = new Map<string, Uint8Array | null>();
  private finished = false;
  private readonly current: StateStoreMetrics;

  constructor(
    private readonly backend: StateBackend,
    readonly operatorId: string,
    readonly version: number,
    private readonly meta: StoredMeta,
    private readonly fingerprint: StateFingerprint,
    rowsAtVersion: number,
    /** Values at `version` of keys changed by later committed versions (null = absent). */
    private readonly overlay: ReadonlyMap<string, Uint8Array | null>,
    private readonly options: VersionedOpenOptions,
  ) {
    this.current = { numRowsTotal: rowsAtVersion, numRowsUpdated: 0, numRowsRemoved: 0, commitTimeMs: 0 };
  }

  async get(key: StateKey): Promise<Uint8Array | undefined> {
    const [value] = await this.getMany([key]);
    return value;
  }

  async getMany(keys: readonly StateKey[]): Promise<(Uint8Array | undefined)[]> {
    this.assertOpen('getMany');
    const bytes = keys.map(toBytes);
    const base = await this.readBase(bytes);
    return bytes.map((key, i) => {
      const pending = this.pending.get(byteString(key));
      const value = pending === undefined ? base[i] : pending.value;
      return value === null || value === undefined ? undefined : value.slice();
    });
  }

  put(key: StateKey, value: Uint8Array): void {
    this.assertOpen('put');
    const bytes = toBytes(key);
    this.pending.set(byteString(bytes), { key: bytes.slice(), value: value.slice() });
  }

  delete(key: StateKey): void {
    this.assertOpen('delete');
    const bytes = toBytes(key);
    this.pending.set(byteString(bytes), { key: bytes.slice(), value: null });
  }

  scan(prefix: StateKey): AsyncIterable<StateEntry> {
    const from = toBytes(prefix);
    const end = prefixEnd(from);
    return this.range(from, end);
  }

  async *range(from: StateKey | undefined, to: StateKey | undefined): AsyncIterable<StateEntry> {
    this.assertOpen('range');
    const lo = from === undefined ? undefined : byteString(toBytes(from));
    const hi = to === undefined ? undefined : byteString(toBytes(to));
    const inRange = (id: string) => (lo === undefined || id >= lo) && (hi === undefined || id < hi);
    const changes = new Map<string, Uint8Array | null>();
    for (const [id, value] of this.overlay) if (inRange(id)) changes.set(id, value);
    for (const [id, entry] of this.pending) if (inRange(id)) changes.set(id, entry.value);
    const changed = [...changes.keys()].sort();
    let next = 0;
    const gte = lo === undefined ? DATA_START : dataKey(fromByteString(lo));
    const lt = hi === undefined ? DATA_END : dataKey(fromByteString(hi));
    for await (const [rawKey, value] of this.backend.iterate(gte, lt)) {
      const key = rawKey.subarray(1);
      const id = byteString(key);
      while (next < changed.length && changed[next]! < id) {
        const cid = changed[next++]!;
        const cvalue = changes.get(cid)!;
        if (cvalue !== null) yield { key: fromByteString(cid), value: cvalue.slice() };
      }
      if (next < changed.length && changed[next] === id) {
        const cvalue = changes.get(changed[next++]!)!;
        if (cvalue !== null) yield { key: key.slice(), value: cvalue.slice() };
      } else {
        yield { key: key.slice(), value };
      }
    }
    for (; next < changed.length; next++) {
      const cid = changed[next]!;
      const cvalue = changes.get(cid)!;
      if (cvalue !== null) yield { key: fromByteString(cid), value: cvalue.slice() };
    }
  }

  async commit(newVersion: number): Promise<void> {
    this.assertOpen('commit');
    if (!Number.isSafeInteger(newVersion) || newVersion <= this.version) {
      throw new StateStoreUsageError(
        'STATE_VERSION_ORDER',
        `commit version ${newVersion} of operator '${this.operatorId}' must be an integer above the base version ${this.version}`,
        { operatorId: this.operatorId, version: this.version, newVersion },
      );
    }
    const started = this.options.now();
    try {
      const ops = await this.planCommit(newVersion);
      await this.backend.write(ops);
      this.current.commitTimeMs = Math.max(0, this.options.now() - started);
    } finally {
      this.finish();
    }
  }

  abort(): void {
    if (!this.finished) this.finish();
  }

  metrics(): StateStoreMetrics {
    return { ...this.current };
  }

  private async planCommit(newVersion: number): Promise<BackendOp[]> {
    const { meta } = this;
    const entries = [...this.pending.values()];
    const before = await this.readBase(entries.map((e) => e.key));
    const ops: BackendOp[] = [];
    // 1. Replay over newer versions: roll `d` back to the base version and drop their records.
    if (meta.latest > this.version) {
      for (const [id, value] of this.overlay) {
        const key = dataKey(fromByteString(id));
        ops.push(value === null ? { type: 'del', key } : { type: 'put', key, value });
      }
      await this.deleteRange(ops, undoStart(this.version + 1), undoStart(meta.latest + 1));
      for (let v = this.version + 1; v <= meta.latest; v++) ops.push({ type: 'del', key: versionKey(v) });
    }
    // 2. Retention: purge records only needed to reach versions older than the retained window.
    const previousOldest = Math.min(meta.oldest, this.version);
    const oldest = Math.max(previousOldest, newVersion - this.options.minVersionsToRetain + 1);
    if (oldest > previousOldest) {
      await this.deleteRange(ops, undoStart(Math.max(0, previousOldest + 1)), undoStart(oldest + 1));
      for (let v = Math.max(0, previousOldest); v < oldest; v++) ops.push({ type: 'del', key: versionKey(v) });
    }
    // 3. The new version's changes and their undo records.
    let rows = this.current.numRowsTotal;
    let updated = 0;
    let removed = 0;
    entries.forEach((entry, i) => {
      const prior = before[i] ?? null;
      if (entry.value === null && prior === null) return;
      if (entry.value === null) {
        removed++;
        rows--;
        ops.push({ type: 'del', key: dataKey(entry.key) });
      } else {
        updated++;
        if (prior === null) rows++;
        ops.push({ type: 'put', key: dataKey(entry.key), value: entry.value });
      }
      if (newVersion > oldest)
        ops.push({ type: 'put', key: undoKey(newVersion, entry.key), value: encodeUndoValue(prior) });
    });
    // 4. The version marker, in the same batch.
    const record = JSON.stringify({ rows, at: this.options.now() });
    ops.push({ type: 'put', key: versionKey(newVersion), value: enc.encode(record) });
    ops.push({ type: 'put', key: metaKey.layout, value: enc.encode(LAYOUT_VERSION) });
    ops.push({ type: 'put', key: metaKey.fingerprint, value: enc.encode(JSON.stringify(this.fingerprint)) });
    ops.push({ type: 'put', key: metaKey.oldest, value: enc.encode(String(oldest)) });
    ops.push({ type: 'put', key: metaKey.version, value: enc.encode(String(newVersion)) });
    Object.assign(this.current, { numRowsTotal: rows, numRowsUpdated: updated, numRowsRemoved: removed });
    return ops;
  }

  private async deleteRange(ops: BackendOp[], gte: Uint8Array, lt: Uint8Array): Promise<void> {
    for await (const [key] of this.backend.iterate(gte, lt)) ops.push({ type: 'del', key });
  }

  /** Values at the base version (null = absent), one backend getMany for keys not yet known. */
  private async readBase(keys: readonly Uint8Array[]): Promise<(Uint8Array | null)[]> {
    const ids = keys.map(byteString);
    const misses = [...new Set(ids.filter((id) => !this.overlay.has(id) && !this.known.has(id)))];
    if (misses.length > 0) {
      const values = await this.backend.getMany(misses.map((id) => dataKey(fromByteString(id))));
      misses.forEach((id, i) => {
        this.known.set(id, values[i] ?? null);
      });
    }
    return ids.map((id) => (this.overlay.has(id) ? this.overlay.get(id)! : this.known.get(id)!));
  }

  private assertOpen(operation: string): void {
    if (this.finished) {
      throw new StateStoreUsageError(
        'STATE_STORE_CLOSED',
        `${operation} on the state store of operator '${this.operatorId}' (version ${this.version}) after commit or abort`,
        { operatorId: this.operatorId, version: this.version },
      );
    }
  }

  private finish(): void {
    this.finished = true;
    this.pending.clear();
    this.known.clear();
    this.options.onFinish();
  }
}
