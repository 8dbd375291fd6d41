// CheckpointLease: single-runner ownership of a checkpoint folder on an ObjectStore. Epoch-numbered
// lease files are created with putIfAbsent (so exactly one runner wins a takeover); the highest epoch rules.

import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { ObjectStore } from '../../storage/object-store.js';
import { CheckpointLockedError } from '../../stream/errors.js';
import { decodeCheckpointFile, encodeCheckpointFile } from './file-format.js';
import { LEASE_PREFIX, leaseKey, parseNumbered } from './layout.js';

export interface LeaseOptions {
  /** Unique id of this runner (host, pid, uuid), named in CHECKPOINT_LOCKED errors. */
  owner: string;
  /** A lease whose last heartbeat is older than this is expired and may be taken over. */
  timeoutMs: number;
  /** Clock, ms since the epoch. Runners sharing a checkpoint must have roughly synchronised clocks. */
  now: () => number;
  /** This runner's host and process id, recorded so a runner on the same host can see its predecessor died. */
  host?: string;
  pid?: number;
}

/**
 * Whether the process that wrote a lease on this host is gone (killed or crashed), so its lease can be
 * taken over at once instead of after the timeout. Only a definite "no such process" counts; a pid
 * reused by another process makes us wait for the timeout (the safe direction).
 */
function ownerIsDead(record: LeaseRecord, self: { host: string; pid: number }): boolean {
  if (record.host !== self.host || record.pid === undefined) return false;
  if (record.pid === self.pid) return false; // this very process (another runner in it, or a reused pid)
  try {
    process.kill(record.pid, 0);
  } catch (error) {
    return (error as { code?: string }).code === 'ESRCH';
  }
  // Killed but not yet reaped (a zombie, e.g. orphaned in a container without an init): dead too.
  try {
    const stat = readFileSync(`/proc/${record.pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return false;
  }
}

interface LeaseRecord {
  owner: string;
  epoch: number;
  heartbeatMs: number;
  released: boolean;
  host?: string;
  pid?: number;
}

/**
 * Protocol: the current lease is the highest `lease/<epoch>`. Acquire = putIfAbsent of epoch+1, allowed
 * when there is none or the current one is released or expired. Only the owner rewrites its own file
 * (heartbeats, release). Fencing = before every write-ahead step the owner checks that the highest epoch
 * is still its own; a runner that was paused past the timeout then finds the newer epoch and stops.
 */
export class CheckpointLease {
  private epoch: number | undefined;

  constructor(
    private readonly store: ObjectStore,
    private readonly options: LeaseOptions,
  ) {}

  get held(): boolean {
    return this.epoch !== undefined;
  }

  async acquire(): Promise<void> {
    if (this.epoch !== undefined) return;
    const current = await this.current();
    if (current !== undefined && current.record !== undefined && !current.record.released) {
      const age = this.options.now() - current.record.heartbeatMs;
      const self = { host: this.options.host ?? hostname(), pid: this.options.pid ?? process.pid };
      if (age < this.options.timeoutMs && !ownerIsDead(current.record, self)) {
        throw new CheckpointLockedError(
          this.store.location,
          current.record.owner,
          `its lease (epoch ${current.epoch}) was renewed ${age} ms ago and expires in ${this.options.timeoutMs - age} ms`,
          { epoch: current.epoch, heartbeatMs: current.record.heartbeatMs },
        );
      }
    }
    const epoch = (current?.epoch ?? 0) + 1;
    const outcome = await this.store.putIfAbsent(leaseKey(epoch), this.encode(epoch, false));
    if (outcome === 'exists') {
      const winner = await this.read(epoch);
      throw new CheckpointLockedError(
        this.store.location,
        winner?.owner ?? 'unknown',
        `it took over epoch ${epoch} first`,
        {
          epoch,
        },
      );
    }
    this.epoch = epoch;
    // Keep the previous lease for diagnostics; drop the one before it (best effort).
    if (current !== undefined && current.epoch > 1)
      await this.store.delete(leaseKey(current.epoch - 1)).catch(() => undefined);
  }

  /** Fencing check: throws CHECKPOINT_LOCKED unless this runner still holds the newest lease. */
  async verify(): Promise<void> {
    const current = await this.current();
    if (
      this.epoch === undefined ||
      current === undefined ||
      current.epoch !== this.epoch ||
      current.record?.owner !== this.options.owner
    ) {
      throw new CheckpointLockedError(
        this.store.location,
        current?.record?.owner ?? 'nobody',
        this.epoch === undefined
          ? 'this runner does not hold the lease'
          : `the lease was taken over (epoch ${current?.epoch} > own epoch ${this.epoch})`,
        { ownEpoch: this.epoch, currentEpoch: current?.epoch, owner: this.options.owner },
      );
    }
  }

  /** Fences, then renews the heartbeat. */
  async renew(): Promise<void> {
    await this.verify();
    await this.store.put(leaseKey(this.epoch!), this.encode(this.epoch!, false));
  }

  /** Marks the lease released so the next runner need not wait for the timeout. Idempotent. */
  async release(): Promise<void> {
    const epoch = this.epoch;
    if (epoch === undefined) return;
    this.epoch = undefined;
    const current = await this.current();
    if (current?.epoch === epoch) await this.store.put(leaseKey(epoch), this.encode(epoch, true));
  }

  private encode(epoch: number, released: boolean): Uint8Array {
    const record: LeaseRecord = {
      owner: this.options.owner,
      epoch,
      heartbeatMs: this.options.now(),
      released,
      host: this.options.host ?? hostname(),
      pid: this.options.pid ?? process.pid,
    };
    return encodeCheckpointFile(record);
  }

  /** The highest epoch and its record (undefined record = unreadable file: treated as expired). */
  private async current(): Promise<{ epoch: number; record: LeaseRecord | undefined } | undefined> {
    let epoch: number | undefined;
    for await (const meta of this.store.list({ prefix: LEASE_PREFIX })) {
      const n = parseNumbered(meta.key, LEASE_PREFIX);
      if (n !== undefined && (epoch === undefined || n > epoch)) epoch = n;
    }
    if (epoch === undefined) return undefined;
    return { epoch, record: await this.read(epoch) };
  }

  private async read(epoch: number): Promise<LeaseRecord | undefined> {
    const key = leaseKey(epoch);
    const bytes = await this.store.get(key).catch((error: unknown) => {
      if ((error as { code?: string }).code === 'OBJECT_NOT_FOUND') return undefined;
      throw error;
    });
    if (bytes === undefined) return undefined;
    const decoded = decodeCheckpointFile(bytes, key);
    if (decoded.kind !== 'ok') return undefined;
    const record = decoded.value as Partial<LeaseRecord>;
    if (typeof record.owner !== 'string' || typeof record.heartbeatMs !== 'number') return undefined;
    return {
      owner: record.owner,
      epoch,
      heartbeatMs: record.heartbeatMs,
      released: record.released === true,
      ...(typeof record.host === 'string' ? { host: record.host } : {}),
      ...(typeof record.pid === 'number' ? { pid: record.pid } : {}),
    };
  }
}
