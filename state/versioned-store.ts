// VersionedStateStore: the StateStore seam (stream/state-store.ts) over any StateBackend, using the
// multi-version layout of state/layout.ts. Shared by the LevelDB and in-memory providers.
//
// Reads of the base version (get, getMany, scan, range) come from the provider's in-memory mirror of
// the newest committed version (state/mirror.ts) when there is one, with the overlay of later-changed
// keys in front for an older base; otherwise from the backend (one getMany per batch of unknown keys,
// iterators for ranges). A commit is one backend
// write: the `d` changes, one packed undo blob (priors taken from the mirror or from the reads) and the
// version marker; on success the mirror is brought to the new version, on any failure it is dropped.
//
// Ownership: put() copies key and value (as byte strings), so callers may reuse their arrays; every
// array returned by get/getMany/scan/range is a fresh one owned by the caller.

import { randomUUID } from 'node:crypto';
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
  DATA_TAG,
  dataKeyOfId,
  decodeUndoBlob,
  encodeUndoBlob,
  fromByteString,
  LAYOUT_VERSION,
  metaKey,
  RETIRED_LAYOUT_VERSION,
  readU64,
  UndoBlobError,
  undoKey,
  versionKey,
  writeByteString,
} from './layout.js';
import { buildMirror, type MirrorCell, type StateMirror, shouldBuild } from './mirror.js';

const enc = new TextEncoder();
const dec = new TextDecoder();
/** Version spans up to this size are purged key by key without listing them first. */
const DIRECT_PURGE_SPAN = 4096;

export interface VersionedOpenOptions {
  minVersionsToRetain: number;
  now: () => number;
  /** Called once when the store is committed or aborted. */
  onFinish: () => void;
  /** The operator's mirror slot in the provider; undefined to always read the backend. */
  mirror?: MirrorCell;
}

interface StoredMeta {
  latest: number;
  oldest: number;
  fingerprint: StateFingerprint | undefined;
  /** Token written by the newest commit (undefined when there is none). */
  token: string | undefined;
}

function toBytes(key: StateKey): Uint8Array {
  return typeof key === 'string' ? enc.encode(key) : key;
}

/** The byte string of a key's bytes (an ASCII string key is its own byte string). */
function idOf(key: StateKey): string {
  if (typeof key !== 'string') return byteString(key);
  for (let i = 0; i < key.length; i++) if (key.charCodeAt(i) >= 0x80) return byteString(enc.encode(key));
  return key;
}

async function readMeta(backend: StateBackend, operatorId: string): Promise<StoredMeta> {
  const [layout, version, oldest, fingerprint, token] = await backend.getMany([
    metaKey.layout,
    metaKey.version,
    metaKey.oldest,
    metaKey.fingerprint,
    metaKey.commit,
  ]);
  if (layout === undefined) {
    return { latest: EMPTY_STATE_VERSION, oldest: EMPTY_STATE_VERSION, fingerprint: undefined, token: undefined };
  }
  const context = { operatorId, location: backend.location };
  const layoutVersion = dec.decode(layout);
  if (layoutVersion === RETIRED_LAYOUT_VERSION) {
    throw new StateCorruptError(
      `state of operator '${operatorId}' at ${backend.location} uses state layout ${RETIRED_LAYOUT_VERSION}, ` +
        `a pre-release format this version cannot read (it reads layout ${LAYOUT_VERSION}); ` +
        'start the query from a new checkpoint location',
      { ...context, layout: layoutVersion, expected: LAYOUT_VERSION },
    );
  }
  if (layoutVersion !== LAYOUT_VERSION) {
    throw new StateCorruptError(`state layout ${JSON.stringify(layoutVersion)} is not supported`, context);
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
  return {
    latest,
    oldest: oldestVersion,
    fingerprint: parsed,
    token: token === undefined ? undefined : dec.decode(token),
  };
}

function rowsOf(record: Uint8Array, version: number, context: Record<string, unknown>): number {
  let rows: unknown;
  try {
    rows = (JSON.parse(dec.decode(record)) as { rows?: unknown }).rows;
  } catch (cause) {
    throw new StateCorruptError(`the record of state version ${version} is not valid JSON`, context, cause);
  }
  if (!Number.isSafeInteger(rows) || (rows as number) < 0) {
    throw new StateCorruptError(`the record of state version ${version} has no row count`, context);
  }
  return rows as number;
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
  const context = { operatorId, location: backend.location };

  // The mirror is valid only if it is of the newest version, written by the newest commit.
  const cell = options.mirror;
  let mirror = cell?.mirror;
  if (cell !== undefined && mirror !== undefined && (mirror.version !== meta.latest || mirror.token !== meta.token)) {
    cell.mirror = mirror = undefined;
  }
  const build = cell !== undefined && mirror === undefined;
  // The `v` records of `version` (its row count) and, when a mirror may be built, of the newest version.
  const records: Uint8Array[] = [];
  if (version !== EMPTY_STATE_VERSION) records.push(versionKey(version));
  const latestAt = build && meta.latest !== version ? records.push(versionKey(meta.latest)) - 1 : -1;
  const found = records.length > 0 ? await backend.getMany(records) : [];
  let rowsAtVersion = 0;
  if (version !== EMPTY_STATE_VERSION) {
    if (found[0] === undefined) throw unavailable('it was never committed');
    rowsAtVersion = rowsOf(found[0], version, context);
  }
  if (build) {
    let latestRows = rowsAtVersion;
    if (latestAt >= 0) {
      const record = found[latestAt];
      if (record === undefined) {
        throw new StateCorruptError(`the record of the newest state version ${meta.latest} is missing`, context);
      }
      latestRows = rowsOf(record, meta.latest, context);
    }
    if (shouldBuild(cell, latestRows)) {
      mirror = await buildMirror(backend, cell, meta.latest, meta.token);
      // Another writer of the same backend (possible with shared in-memory spaces) may have committed
      // while the range was read: then the copy is of no known version.
      if (mirror !== undefined) {
        const [token] = await backend.getMany([metaKey.commit]);
        if ((token === undefined ? undefined : dec.decode(token)) !== meta.token) mirror = undefined;
      }
      cell.mirror = mirror;
    }
  }

  const overlay = new Map<string, string | null>();
  if (version < meta.latest) {
    for await (const [key, blob] of backend.iterate(undoKey(version + 1), undoKey(meta.latest + 1))) {
      try {
        decodeUndoBlob(blob, (id, prior) => {
          if (!overlay.has(id)) overlay.set(id, prior);
        });
      } catch (error) {
        if (!(error instanceof UndoBlobError)) throw error;
        throw new StateCorruptError(
          `the undo record of state version ${readU64(key, 1)} is malformed: ${error.message}`,
          context,
          error,
        );
      }
    }
  }
  return new VersionedStateStore(
    backend,
    operatorId,
    version,
    meta,
    fingerprint,
    rowsAtVersion,
    overlay,
    options,
    mirror,
  );
}

class VersionedStateStore implements StateStore {
  /** Uncommitted changes: key → value, both as byte strings (immutable copies); null = deleted. */
  private readonly pending = new Map<string, string | null>();
  /** Without a mirror: values of the base version read from the backend, as byte strings (null = absent). */
  private readonly known = new Map<string, string | null>();
  private finished = false;
  committed = false;
  /** While commit() runs, a concurrent abort() finishes the store but leaves the commit's inputs intact. */
  private committing = false;
  private readonly current: StateStoreMetrics;

  constructor(
    private readonly backend: StateBackend,
    readonly operatorId: string,
    readonly version: number,
    private readonly meta: StoredMeta,
    private readonly fingerprint: StateFingerprint,
    rowsAtVersion: number,
    /** Values at `version` of keys changed by later committed versions (null = absent). */
    private readonly overlay: ReadonlyMap<string, string | null>,
    private readonly options: VersionedOpenOptions,
    /** The newest committed version in memory, or undefined to read the backend. */
    private readonly mirror: StateMirror | undefined,
  ) {
    this.current = { numRowsTotal: rowsAtVersion, numRowsUpdated: 0, numRowsRemoved: 0, commitTimeMs: 0 };
  }

  async get(key: StateKey): Promise<Uint8Array | undefined> {
    const [value] = await this.getMany([key]);
    return value;
  }

  async getMany(keys: readonly StateKey[]): Promise<(Uint8Array | undefined)[]> {
    this.assertOpen('getMany');
    const count = keys.length;
    const ids = new Array<string>(count);
    for (let i = 0; i < count; i++) ids[i] = idOf(keys[i]!);
    if (this.mirror === undefined) await this.fetchBase(ids);
    const out = new Array<Uint8Array | undefined>(count);
    const { pending } = this;
    for (let i = 0; i < count; i++) {
      const id = ids[i]!;
      let value = pending.size === 0 ? undefined : pending.get(id);
      if (value === undefined) value = this.baseValue(id);
      out[i] = value === null ? undefined : fromByteString(value);
    }
    return out;
  }

  put(key: StateKey, value: Uint8Array): void {
    this.assertOpen('put');
    this.pending.set(idOf(key), byteString(value));
  }

  delete(key: StateKey): void {
    this.assertOpen('delete');
    this.pending.set(idOf(key), null);
  }

  scan(prefix: StateKey): AsyncIterable<StateEntry> {
    const from = toBytes(prefix);
    const end = prefixEnd(from);
    return this.range(from, end);
  }

  async *range(from: StateKey | undefined, to: StateKey | undefined): AsyncIterable<StateEntry> {
    this.assertOpen('range');
    const lo = from === undefined ? undefined : idOf(from);
    const hi = to === undefined ? undefined : idOf(to);
    // Keys whose value at this store differs from the newest committed version, in range and order.
    const inRange = (id: string) => (lo === undefined || id >= lo) && (hi === undefined || id < hi);
    const changes = new Map<string, string | null>();
    for (const [id, value] of this.overlay) if (inRange(id)) changes.set(id, value);
    for (const [id, value] of this.pending) if (inRange(id)) changes.set(id, value);
    const changed = [...changes.keys()].sort();
    let next = 0;
    // Merges the newest version's entries (ascending) with the changes; yields the result.
    const mirror = this.mirror;
    if (mirror !== undefined) {
      const { ids, values } = mirror.entriesIn(lo, hi);
      for (let i = 0; i < ids.length; i++) {
        const id = ids[i]!;
        while (next < changed.length && changed[next]! < id) {
          const cid = changed[next++]!;
          const cvalue = changes.get(cid)!;
          if (cvalue !== null) yield { key: fromByteString(cid), value: fromByteString(cvalue) };
        }
        let value: string | null = values[i]!;
        if (next < changed.length && changed[next] === id) value = changes.get(changed[next++]!)!;
        if (value !== null) yield { key: fromByteString(id), value: fromByteString(value) };
      }
    } else {
      const gte = lo === undefined ? DATA_START : dataKeyOfId(lo);
      const lt = hi === undefined ? DATA_END : dataKeyOfId(hi);
      for await (const [rawKey, value] of this.backend.iterate(gte, lt)) {
        // Backend arrays are owned by us (StateBackend contract), so they are handed on without a copy.
        const key = rawKey.subarray(1);
        if (next < changed.length) {
          const id = byteString(key);
          while (next < changed.length && changed[next]! < id) {
            const cid = changed[next++]!;
            const cvalue = changes.get(cid)!;
            if (cvalue !== null) yield { key: fromByteString(cid), value: fromByteString(cvalue) };
          }
          if (next < changed.length && changed[next] === id) {
            const cvalue = changes.get(changed[next++]!)!;
            if (cvalue !== null) yield { key, value: fromByteString(cvalue) };
            continue;
          }
        }
        yield { key, value };
      }
    }
    for (; next < changed.length; next++) {
      const cid = changed[next]!;
      const cvalue = changes.get(cid)!;
      if (cvalue !== null) yield { key: fromByteString(cid), value: fromByteString(cvalue) };
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
    const cell = this.options.mirror;
    this.committing = true;
    try {
      const plan = await this.planCommit(newVersion);
      await this.backend.write(plan.ops);
      if (cell !== undefined && this.mirror !== undefined && cell.mirror === this.mirror) {
        this.advanceMirror(cell, this.mirror, plan, newVersion);
      }
      Object.assign(this.current, plan.metrics);
      this.current.commitTimeMs = Math.max(0, this.options.now() - started);
      this.committed = true;
    } catch (error) {
      // Whether a failed write left anything behind is unknown: rebuild the mirror from the backend.
      if (cell !== undefined) cell.mirror = undefined;
      throw error;
    } finally {
      this.committing = false;
      this.finish();
    }
  }

  abort(): void {
    if (!this.finished) this.finish();
  }

  metrics(): StateStoreMetrics {
    return { ...this.current };
  }

  /** The value of a key at the base version, as a byte string (null = absent); fetchBase first without a mirror. */
  private baseValue(id: string): string | null {
    const changedLater = this.overlay.size === 0 ? undefined : this.overlay.get(id);
    if (changedLater !== undefined) return changedLater;
    if (this.mirror !== undefined) return this.mirror.get(id) ?? null;
    return this.known.get(id) ?? null;
  }

  /** Without a mirror: reads the base values of keys not yet known, in one backend getMany. */
  private async fetchBase(ids: Iterable<string>): Promise<void> {
    const misses = new Set<string>();
    for (const id of ids) if (!this.overlay.has(id) && !this.known.has(id)) misses.add(id);
    if (misses.size === 0) return;
    const wanted = [...misses];
    const values = await this.backend.getMany(wanted.map(dataKeyOfId));
    for (let i = 0; i < wanted.length; i++) {
      const value = values[i];
      this.known.set(wanted[i]!, value === undefined ? null : byteString(value));
    }
  }

  private async planCommit(newVersion: number): Promise<CommitPlan> {
    const { meta, pending } = this;
    if (this.mirror === undefined) await this.fetchBase(pending.keys());
    const ops: BackendOp[] = [];
    // 1. Replay over newer versions: roll `d` back to the base version and drop their records.
    const replay = meta.latest > this.version;
    if (replay) {
      for (const [id, value] of this.overlay) {
        const key = dataKeyOfId(id);
        ops.push(value === null ? { type: 'del', key } : { type: 'put', key, value: fromByteString(value) });
      }
      for (const v of await this.versionsIn(this.version + 1, meta.latest)) {
        ops.push({ type: 'del', key: versionKey(v) }, { type: 'del', key: undoKey(v) });
      }
    }
    // 2. Retention: purge the `v` records of versions before the retained window and the undo blobs
    //    only needed to reach them (those of versions up to and including the oldest retained one).
    const previousOldest = Math.min(meta.oldest, this.version);
    const oldest = Math.max(previousOldest, newVersion - this.options.minVersionsToRetain + 1);
    if (oldest > previousOldest) {
      for (const v of await this.versionsIn(Math.max(0, previousOldest), oldest)) {
        if (v < oldest) ops.push({ type: 'del', key: versionKey(v) });
        if (v > previousOldest) ops.push({ type: 'del', key: undoKey(v) });
      }
    }
    // 3. The new version's changes, with the priors of the changed keys in one undo blob. Keys and
    //    values are written into one arena (the backend gets views of it, no array per key).
    let rows = this.current.numRowsTotal;
    let updated = 0;
    let removed = 0;
    const ids: string[] = [];
    const values: (string | null)[] = [];
    const priors: (string | null)[] = [];
    let size = 0;
    pending.forEach((value, id) => {
      const prior = this.baseValue(id);
      if (value === null) {
        if (prior === null) return;
        removed++;
        rows--;
      } else {
        updated++;
        if (prior === null) rows++;
        size += value.length;
      }
      size += id.length + 1;
      ids.push(id);
      values.push(value);
      priors.push(prior);
    });
    const keepUndo = newVersion > oldest && ids.length > 0;
    // 4. The version marker, in the same batch.
    const token = randomUUID();
    const record = JSON.stringify({ rows, at: this.options.now() });
    const tail: BackendOp[] = [
      { type: 'put', key: versionKey(newVersion), value: enc.encode(record) },
      { type: 'put', key: metaKey.layout, value: enc.encode(LAYOUT_VERSION) },
      { type: 'put', key: metaKey.fingerprint, value: enc.encode(JSON.stringify(this.fingerprint)) },
      { type: 'put', key: metaKey.oldest, value: enc.encode(String(oldest)) },
      { type: 'put', key: metaKey.commit, value: enc.encode(token) },
      { type: 'put', key: metaKey.version, value: enc.encode(String(newVersion)) },
    ];
    if (keepUndo) tail.unshift({ type: 'put', key: undoKey(newVersion), value: encodeUndoBlob(ids, priors) });
    // The ops of the changes are made as the backend consumes them (views of one arena holding every
    // key and value), so none of them outlives its copy into the backend's batch.
    const arena = new Uint8Array(size);
    function* changeOps(): Generator<BackendOp> {
      let at = 0;
      for (let i = 0; i < ids.length; i++) {
        const start = at;
        arena[at++] = DATA_TAG;
        at = writeByteString(arena, at, ids[i]!);
        const key = arena.subarray(start, at);
        const value = values[i]!;
        if (value === null) yield { type: 'del', key };
        else {
          const valueStart = at;
          at = writeByteString(arena, at, value);
          yield { type: 'put', key, value: arena.subarray(valueStart, at) };
        }
      }
    }
    const head = ops;
    return {
      ops: {
        *[Symbol.iterator]() {
          yield* head;
          yield* changeOps();
          yield* tail;
        },
      },
      replay,
      token,
      ids,
      values,
      metrics: { numRowsTotal: rows, numRowsUpdated: updated, numRowsRemoved: removed },
    };
  }

  /** Brings the mirror from the newest version to the one just written (rolling back a replay first). */
  private advanceMirror(cell: MirrorCell, mirror: StateMirror, plan: CommitPlan, newVersion: number): void {
    if (plan.replay) {
      for (const [id, value] of this.overlay) {
        if (value === null) mirror.delete(id);
        else mirror.set(id, value);
      }
    }
    const { ids, values } = plan;
    for (let i = 0; i < ids.length; i++) {
      const value = values[i]!;
      if (value === null) mirror.delete(ids[i]!);
      else mirror.set(ids[i]!, value);
    }
    mirror.version = newVersion;
    mirror.token = plan.token;
    if (mirror.size > cell.maxRows) {
      cell.mirror = undefined;
      cell.tooLarge = true;
    }
  }

  /** Versions in [from, to] that may have records: all of them for a short span, else the committed ones. */
  private async versionsIn(from: number, to: number): Promise<number[]> {
    const out: number[] = [];
    if (to < from) return out;
    if (to - from < DIRECT_PURGE_SPAN) {
      for (let v = from; v <= to; v++) out.push(v);
      return out;
    }
    // An undo blob never outlives its version's `v` record, so listing the `v` records finds both.
    for await (const [key] of this.backend.iterate(versionKey(from), versionKey(to + 1))) out.push(readU64(key, 1));
    return out;
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
    if (!this.committing) {
      this.pending.clear();
      this.known.clear();
    }
    if (this.finished) return;
    this.finished = true;
    this.options.onFinish();
  }
}

interface CommitPlan {
  /** Iterable more than once; see StateBackend.write. */
  ops: Iterable<BackendOp>;
  replay: boolean;
  token: string;
  /** Keys whose value the commit changes and their new values (null = deleted), as byte strings. */
  ids: string[];
  values: (string | null)[];
  metrics: Pick<StateStoreMetrics, 'numRowsTotal' | 'numRowsUpdated' | 'numRowsRemoved'>;
}
