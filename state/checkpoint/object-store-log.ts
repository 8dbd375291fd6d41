// ObjectStoreCheckpointLog: the CheckpointLog seam (stream/checkpoint-log.ts) on any ObjectStore, in
// Spark's layout (metadata, offsets/N, commits/N) with put-if-absent writes, checksummed files and a lease.

import { randomUUID } from 'node:crypto';
import type { ObjectStore } from '../../storage/object-store.js';
import type {
  BatchCommit,
  BatchPlan,
  CheckpointLog,
  CheckpointMetadata,
  CheckpointNotice,
  Recovery,
} from '../../stream/checkpoint-log.js';
import { CheckpointCorruptError, CheckpointStateError } from '../../stream/errors.js';
import { StateArgumentError } from '../errors.js';
import { canonicalJson, decodeCheckpointFile, encodeCheckpointFile } from './file-format.js';
import { COMMITS_PREFIX, commitsKey, METADATA_KEY, OFFSETS_PREFIX, offsetsKey, parseNumbered } from './layout.js';
import { CheckpointLease } from './lease.js';

export interface ObjectStoreCheckpointLogOptions {
  /** Id of this runner, named in CHECKPOINT_LOCKED errors. Default a random UUID. */
  owner?: string;
  /** Query id for a new checkpoint; an existing checkpoint with another id throws CHECKPOINT_CONFLICT. Default random. */
  queryId?: string;
  /** Keep this many newest batches in offsets/ and commits/. Default 100 (Spark's minBatchesToRetain). */
  minBatchesToRetain?: number;
  /** Lease expiry without heartbeat. Default 60 000 ms. */
  leaseTimeoutMs?: number;
  /** Clock, ms since the epoch. Default Date.now. */
  now?: () => number;
}

export const CHECKPOINT_LOG_DEFAULTS = Object.freeze({ minBatchesToRetain: 100, leaseTimeoutMs: 60_000 });

type Phase = 'new' | 'open' | 'recovered' | 'closed';

function isNotFound(error: unknown): boolean {
  return (error as { code?: unknown } | undefined)?.code === 'OBJECT_NOT_FOUND';
}

function validPlan(value: unknown, batchId: number): value is BatchPlan {
  const plan = value as Partial<BatchPlan> | null;
  return (
    plan !== null &&
    typeof plan === 'object' &&
    plan.batchId === batchId &&
    typeof plan.sources === 'object' &&
    plan.sources !== null &&
    typeof plan.watermarkMs === 'number' &&
    typeof plan.batchTimestampMs === 'number' &&
    typeof plan.conf === 'object' &&
    typeof plan.fingerprint === 'object'
  );
}

function validCommit(value: unknown, batchId: number): value is BatchCommit {
  const commit = value as Partial<BatchCommit> | null;
  return (
    commit !== null &&
    typeof commit === 'object' &&
    commit.batchId === batchId &&
    typeof commit.nextBatchWatermarkMs === 'number'
  );
}

export class ObjectStoreCheckpointLog implements CheckpointLog {
  readonly owner: string;
  private readonly options: Required<Omit<ObjectStoreCheckpointLogOptions, 'queryId' | 'owner'>> & { queryId?: string };
  private readonly lease: CheckpointLease;
  private phase: Phase = 'new';
  private metadata: CheckpointMetadata | undefined;
  /** Highest planned and committed batch ids (-1 = none); oldest retained batch id. */
  private planned = -1;
  private committed = -1;
  private oldest = 0;
  private lastPlan: BatchPlan | undefined;

  constructor(
    readonly store: ObjectStore,
    options: ObjectStoreCheckpointLogOptions = {},
  ) {
    const minBatchesToRetain = options.minBatchesToRetain ?? CHECKPOINT_LOG_DEFAULTS.minBatchesToRetain;
    const leaseTimeoutMs = options.leaseTimeoutMs ?? CHECKPOINT_LOG_DEFAULTS.leaseTimeoutMs;
    if (!Number.isSafeInteger(minBatchesToRetain) || minBatchesToRetain < 1) {
      throw new StateArgumentError(`minBatchesToRetain must be an integer >= 1, got ${minBatchesToRetain}`);
    }
    if (!(leaseTimeoutMs > 0)) throw new StateArgumentError(`leaseTimeoutMs must be > 0, got ${leaseTimeoutMs}`);
    this.owner = options.owner ?? randomUUID();
    this.options = Object.freeze({
      minBatchesToRetain,
      leaseTimeoutMs,
      now: options.now ?? Date.now,
      ...(options.queryId === undefined ? {} : { queryId: options.queryId }),
    });
    this.lease = new CheckpointLease(store, { owner: this.owner, timeoutMs: leaseTimeoutMs, now: this.options.now });
  }

  async open(): Promise<CheckpointMetadata> {
    this.expectPhase('open', 'new');
    await this.lease.acquire();
    const fresh: CheckpointMetadata = {
      queryId: this.options.queryId ?? randomUUID(),
      createdAtMs: this.options.now(),
    };
    const outcome = await this.store.putIfAbsent(METADATA_KEY, encodeCheckpointFile(fresh));
    let metadata = fresh;
    if (outcome === 'exists') {
      const stored = await this.readFile(METADATA_KEY);
      const value = stored?.kind === 'ok' ? (stored.value as Partial<CheckpointMetadata>) : undefined;
      if (typeof value?.queryId !== 'string' || typeof value.createdAtMs !== 'number') {
        throw this.corrupt(
          `checkpoint metadata is unreadable (${stored?.kind === 'corrupt' ? stored.reason : 'bad content'})`,
          METADATA_KEY,
        );
      }
      metadata = { queryId: value.queryId, createdAtMs: value.createdAtMs };
      if (this.options.queryId !== undefined && this.options.queryId !== metadata.queryId) {
        throw new CheckpointStateError(
          'CHECKPOINT_CONFLICT',
          `checkpoint ${this.store.location} belongs to query ${metadata.queryId}, not ${this.options.queryId}`,
          { location: this.store.location, stored: metadata.queryId, requested: this.options.queryId },
        );
      }
    }
    this.metadata = metadata;
    this.phase = 'open';
    return metadata;
  }

  async recover(): Promise<Recovery> {
    this.expectPhase('recover', 'open');
    const notices: CheckpointNotice[] = [];
    const offsets = await this.readTail(OFFSETS_PREFIX, notices, validPlan);
    const commits = await this.readTail(COMMITS_PREFIX, notices, validCommit);
    this.oldest = Math.min(offsets.ids[0] ?? 0, commits.ids[0] ?? Number.POSITIVE_INFINITY);
    this.phase = 'recovered';
    if (offsets.last === undefined) {
      if (commits.last !== undefined) throw this.corrupt('commits/ has entries but offsets/ is empty', COMMITS_PREFIX);
      return { kind: 'fresh', notices };
    }
    const plan = offsets.last.value;
    const lastPlanned = plan.batchId;
    const lastCommit = commits.last?.value;
    const lastCommitted = lastCommit?.batchId;
    if (lastCommitted !== undefined && lastCommitted > lastPlanned) {
      throw this.corrupt(
        `commits/${lastCommitted} exists but the newest plan is offsets/${lastPlanned}`,
        commitsKey(lastCommitted),
      );
    }
    this.planned = lastPlanned;
    this.lastPlan = plan;
    if (lastCommitted === lastPlanned) {
      this.committed = lastPlanned;
      await this.purge(); // finishes a purge interrupted by a crash
      return { kind: 'resume', nextBatchId: lastPlanned + 1, lastPlan: plan, lastCommit: lastCommit!, notices };
    }
    if (lastCommitted === undefined ? lastPlanned > this.oldest : lastCommitted < lastPlanned - 1) {
      notices.push({ kind: 'commit-log-behind', lastCommitted, lastPlanned });
    }
    this.committed = lastPlanned - 1;
    await this.purge();
    return { kind: 'replay', batchId: lastPlanned, plan, lastCommit, notices };
  }

  async planBatch(plan: BatchPlan): Promise<'created' | 'exists'> {
    this.expectPhase('planBatch', 'recovered');
    const { batchId } = plan;
    if (batchId !== this.committed + 1 || this.planned > batchId) {
      throw this.outOfOrder(`planBatch(${batchId}): the next batch to plan is ${this.committed + 1}`, batchId);
    }
    if (this.lastPlan !== undefined && this.lastPlan.batchId !== batchId) this.checkConf(this.lastPlan, plan);
    const key = offsetsKey(batchId);
    await this.lease.renew();
    const outcome = await this.store.putIfAbsent(key, encodeCheckpointFile(plan));
    if (outcome === 'exists') await this.expectSame(key, plan, validPlan);
    this.planned = batchId;
    this.lastPlan = plan;
    return outcome;
  }

  async markCommitted(commit: BatchCommit): Promise<'created' | 'exists'> {
    this.expectPhase('markCommitted', 'recovered');
    const { batchId } = commit;
    const key = commitsKey(batchId);
    if (batchId === this.committed && batchId >= 0) {
      await this.expectSame(key, commit, validCommit);
      await this.purge();
      return 'exists';
    }
    if (batchId !== this.planned || batchId !== this.committed + 1) {
      throw this.outOfOrder(
        `markCommitted(${batchId}): the planned, uncommitted batch is ${this.planned > this.committed ? this.planned : 'none'}`,
        batchId,
      );
    }
    await this.lease.renew();
    const outcome = await this.store.putIfAbsent(key, encodeCheckpointFile(commit));
    if (outcome === 'exists') await this.expectSame(key, commit, validCommit);
    this.committed = batchId;
    await this.purge();
    return outcome;
  }

  async getPlan(batchId: number): Promise<BatchPlan | undefined> {
    const key = offsetsKey(batchId);
    const file = await this.readFile(key);
    if (file === undefined) return undefined;
    if (file.kind === 'corrupt' || !validPlan(file.value, batchId)) {
      throw this.corrupt(`${key} is unreadable: ${file.kind === 'corrupt' ? file.reason : 'unexpected content'}`, key);
    }
    return file.value;
  }

  async heartbeat(): Promise<void> {
    if (this.phase === 'new' || this.phase === 'closed')
      throw this.outOfOrder(`heartbeat while ${this.phase}`, undefined);
    await this.lease.renew();
  }

  async close(): Promise<void> {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    await this.lease.release();
  }

  /** The query metadata once open. */
  get queryId(): string | undefined {
    return this.metadata?.queryId;
  }

  /**
   * Lists one log folder and validates its newest entry: a damaged newest file is removed and reported
   * (it was never fully written); the entry before it, and the numbering, must then be intact.
   */
  private async readTail<T>(
    prefix: string,
    notices: CheckpointNotice[],
    valid: (value: unknown, id: number) => value is T,
  ): Promise<{ ids: number[]; last: { id: number; value: T } | undefined }> {
    const ids: number[] = [];
    for await (const meta of this.store.list({ prefix })) {
      const id = parseNumbered(meta.key, prefix);
      if (id !== undefined) ids.push(id);
    }
    ids.sort((a, b) => a - b);
    for (let i = 1; i < ids.length; i++) {
      if (ids[i] !== ids[i - 1]! + 1)
        throw this.corrupt(`${prefix} has a gap between ${ids[i - 1]} and ${ids[i]}`, prefix);
    }
    for (let attempt = 0; attempt < 2 && ids.length > 0; attempt++) {
      const id = ids[ids.length - 1]!;
      const key = `${prefix}${id}`;
      const file = await this.readFile(key);
      if (file?.kind === 'ok' && valid(file.value, id)) return { ids, last: { id, value: file.value } };
      const reason =
        file === undefined ? 'vanished while reading' : file.kind === 'corrupt' ? file.reason : 'unexpected content';
      if (attempt > 0) throw this.corrupt(`${key} is unreadable (${reason}) and is not the newest entry`, key);
      notices.push({ kind: 'torn-tail', key, reason });
      await this.lease.renew();
      await this.store.delete(key);
      ids.pop();
    }
    return { ids, last: undefined };
  }

  private async purge(): Promise<void> {
    const keepFrom = this.committed - this.options.minBatchesToRetain + 1;
    for (; this.oldest < keepFrom; this.oldest++) {
      await this.store.delete(offsetsKey(this.oldest));
      await this.store.delete(commitsKey(this.oldest));
    }
  }

  private async expectSame<T>(
    key: string,
    wanted: T,
    valid: (value: unknown, id: number) => value is T,
  ): Promise<void> {
    const file = await this.readFile(key);
    const id = parseNumbered(key, key.startsWith(OFFSETS_PREFIX) ? OFFSETS_PREFIX : COMMITS_PREFIX)!;
    if (file?.kind !== 'ok' || !valid(file.value, id)) {
      throw this.corrupt(
        `${key} exists but is unreadable (${file?.kind === 'corrupt' ? file.reason : 'unexpected content'})`,
        key,
      );
    }
    if (file.json !== canonicalJson(wanted)) {
      throw new CheckpointStateError(
        'CHECKPOINT_CONFLICT',
        `${key} in ${this.store.location} already holds a different entry; another runner or a non-deterministic planner wrote it`,
        { location: this.store.location, key, stored: file.json, wanted: canonicalJson(wanted) },
      );
    }
  }

  private checkConf(previous: BatchPlan, plan: BatchPlan): void {
    const changed: string[] = [];
    for (const field of ['conf', 'fingerprint'] as const) {
      const names = new Set([...Object.keys(previous[field]), ...Object.keys(plan[field])]);
      for (const name of [...names].sort()) {
        if (previous[field][name] !== plan[field][name]) {
          changed.push(
            `${field}.${name}: ${JSON.stringify(previous[field][name])} -> ${JSON.stringify(plan[field][name])}`,
          );
        }
      }
    }
    if (changed.length > 0) {
      throw new CheckpointStateError(
        'CHECKPOINT_CONF_CHANGED',
        `state-affecting settings changed since batch ${previous.batchId}: ${changed.join('; ')}. ` +
          'Restore them or start from a new checkpoint.',
        { location: this.store.location, batchId: plan.batchId, changed },
      );
    }
  }

  private async readFile(key: string): Promise<ReturnType<typeof decodeCheckpointFile> | undefined> {
    let bytes: Uint8Array;
    try {
      bytes = await this.store.get(key);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
    return decodeCheckpointFile(bytes, key);
  }

  private corrupt(message: string, key: string): CheckpointCorruptError {
    return new CheckpointCorruptError(`checkpoint ${this.store.location}: ${message}`, {
      location: this.store.location,
      key,
    });
  }

  private outOfOrder(message: string, batchId: number | undefined): CheckpointStateError {
    return new CheckpointStateError('CHECKPOINT_OUT_OF_ORDER', message, {
      location: this.store.location,
      batchId,
      planned: this.planned,
      committed: this.committed,
      phase: this.phase,
    });
  }

  private expectPhase(operation: string, phase: Phase): void {
    if (this.phase !== phase)
      throw this.outOfOrder(`${operation} requires the log to be ${phase}, it is ${this.phase}`, undefined);
  }
}
