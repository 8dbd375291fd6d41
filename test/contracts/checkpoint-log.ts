// Reusable vitest suite for the CheckpointLog seam (stream/checkpoint-log.ts). Every implementation
// runs it: checkpointLogContract('name', async () => ({ runner: (options) => log, cleanup })).

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LakestreamError } from '../../common/errors.js';
import type { BatchPlan, CheckpointLog } from '../../stream/checkpoint-log.js';

export interface RunnerOptions {
  owner: string;
  now?: () => number;
  leaseTimeoutMs?: number;
  minBatchesToRetain?: number;
  queryId?: string;
}

export interface CheckpointLogFixture {
  /** A runner (log instance) on this fixture's checkpoint; several runners share one checkpoint. */
  runner(options: RunnerOptions): CheckpointLog;
  cleanup(): Promise<void>;
}

/** A deterministic plan of batch `id`: partition p of source 'events' reads [100·id + p, 100·(id+1) + p). */
export function planOf(id: number, conf: Record<string, string> = { 'watermark.policy': 'min' }): BatchPlan {
  return {
    batchId: id,
    sources: {
      events: {
        '0': { start: String(100 * id), end: String(100 * id + 100) },
        '1': { start: String(100 * id + 1), end: String(100 * id + 101) },
      },
    },
    watermarkMs: 1_000 * id,
    batchTimestampMs: 1_700_000_000_000 + id,
    conf,
    fingerprint: { operators: 'dropDuplicates(id)', stateSchema: 'v1' },
  };
}

export async function fault(promise: Promise<unknown>, code: string): Promise<LakestreamError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error, `expected a fault with code ${code}`).toBeDefined();
  expect((error as LakestreamError).code, (error as Error).message).toBe(code);
  return error as LakestreamError;
}

/** Plans and commits batches from..to inclusive. */
export async function runBatches(log: CheckpointLog, from: number, to: number): Promise<void> {
  for (let id = from; id <= to; id++) {
    expect(await log.planBatch(planOf(id))).toBe('created');
    expect(await log.markCommitted({ batchId: id, nextBatchWatermarkMs: 1_000 * (id + 1) })).toBe('created');
  }
}

export function checkpointLogContract(name: string, makeFixture: () => Promise<CheckpointLogFixture>): void {
  describe(`CheckpointLog contract: ${name}`, () => {
    let fixture: CheckpointLogFixture;
    let now: number;
    const clock = () => now;
    const logs: CheckpointLog[] = [];
    const runner = (options: Omit<RunnerOptions, 'now'> & { now?: () => number }) => {
      const log = fixture.runner({ now: clock, leaseTimeoutMs: 10_000, ...options });
      logs.push(log);
      return log;
    };

    beforeEach(async () => {
      now = 1_700_000_000_000;
      fixture = await makeFixture();
    });
    afterEach(async () => {
      for (const log of logs.splice(0)) await log.close().catch(() => undefined);
      await fixture.cleanup();
    });

    it('starts fresh, then resumes after the last committed batch with a stable query id', async () => {
      const first = runner({ owner: 'a' });
      const meta = await first.open();
      expect(await first.recover()).toEqual({ kind: 'fresh', notices: [] });
      await runBatches(first, 0, 2);
      await first.close();
      const second = runner({ owner: 'b' });
      expect((await second.open()).queryId).toBe(meta.queryId);
      expect(await second.recover()).toEqual({
        kind: 'resume',
        nextBatchId: 3,
        lastPlan: planOf(2),
        lastCommit: { batchId: 2, nextBatchWatermarkMs: 3_000 },
        notices: [],
      });
      await runBatches(second, 3, 3);
      expect(await second.getPlan(1)).toEqual(planOf(1));
      expect(await second.getPlan(9)).toBeUndefined();
    });

    it('replays a planned but uncommitted batch with the identical plan', async () => {
      const first = runner({ owner: 'a' });
      await first.open();
      await first.recover();
      await runBatches(first, 0, 0);
      await first.planBatch(planOf(1));
      await first.close(); // crash after offsets/1, before commits/1
      const second = runner({ owner: 'b' });
      await second.open();
      const recovery = await second.recover();
      expect(recovery).toEqual({
        kind: 'replay',
        batchId: 1,
        plan: planOf(1),
        lastCommit: { batchId: 0, nextBatchWatermarkMs: 1_000 },
        notices: [],
      });
      expect(await second.planBatch(planOf(1))).toBe('exists'); // idempotent re-plan of the same range
      const changed = planOf(1);
      await fault(
        second.planBatch({ ...changed, sources: { events: { '0': { start: '100', end: '150' } } } }),
        'CHECKPOINT_CONFLICT',
      );
      expect(await second.markCommitted({ batchId: 1, nextBatchWatermarkMs: 2_000 })).toBe('created');
      expect(await second.markCommitted({ batchId: 1, nextBatchWatermarkMs: 2_000 })).toBe('exists');
      await fault(second.markCommitted({ batchId: 1, nextBatchWatermarkMs: 9 }), 'CHECKPOINT_CONFLICT');
    });

    it('enforces the write-ahead order', async () => {
      const log = runner({ owner: 'a' });
      await fault(log.planBatch(planOf(0)), 'CHECKPOINT_OUT_OF_ORDER');
      await log.open();
      await log.recover();
      await fault(log.planBatch(planOf(1)), 'CHECKPOINT_OUT_OF_ORDER');
      await fault(log.markCommitted({ batchId: 0, nextBatchWatermarkMs: 0 }), 'CHECKPOINT_OUT_OF_ORDER');
      await log.planBatch(planOf(0));
      await fault(log.planBatch(planOf(1)), 'CHECKPOINT_OUT_OF_ORDER');
      await log.markCommitted({ batchId: 0, nextBatchWatermarkMs: 0 });
      await fault(log.markCommitted({ batchId: 1, nextBatchWatermarkMs: 0 }), 'CHECKPOINT_OUT_OF_ORDER');
    });

    it('refuses a change of state-affecting conf or fingerprint between batches', async () => {
      const log = runner({ owner: 'a' });
      await log.open();
      await log.recover();
      await runBatches(log, 0, 0);
      const error = await fault(log.planBatch(planOf(1, { 'watermark.policy': 'max' })), 'CHECKPOINT_CONF_CHANGED');
      expect(error.message).toContain('conf.watermark.policy: "min" -> "max"');
      await fault(
        log.planBatch({ ...planOf(1), fingerprint: { operators: 'window', stateSchema: 'v1' } }),
        'CHECKPOINT_CONF_CHANGED',
      );
    });

    it('refuses a second runner while the lease is live, naming the owner; takes over an expired lease', async () => {
      const first = runner({ owner: 'runner-A' });
      await first.open();
      await first.recover();
      await runBatches(first, 0, 0);
      const second = runner({ owner: 'runner-B' });
      const locked = await fault(second.open(), 'CHECKPOINT_LOCKED');
      expect(locked.message).toContain('runner-A');
      now += 9_000;
      await first.heartbeat();
      now += 9_000; // 18 s after open, 9 s after the heartbeat: still live
      await fault(runner({ owner: 'runner-B' }).open(), 'CHECKPOINT_LOCKED');
      now += 2_000; // heartbeat now 11 s old: expired
      const third = runner({ owner: 'runner-C' });
      await third.open();
      expect(await third.recover()).toMatchObject({ kind: 'resume', nextBatchId: 1 });
      // Fencing: the paused first runner wakes up and must not write offsets/1.
      const fenced = await fault(first.planBatch(planOf(1)), 'CHECKPOINT_LOCKED');
      expect(fenced.message).toContain('runner-C');
      await fault(first.heartbeat(), 'CHECKPOINT_LOCKED');
      await runBatches(third, 1, 1);
    });

    it('lets the next runner in immediately after a clean close', async () => {
      const first = runner({ owner: 'a' });
      await first.open();
      await first.close();
      await first.close();
      const second = runner({ owner: 'b' });
      await second.open();
      expect(await second.recover()).toMatchObject({ kind: 'fresh' });
    });

    it('refuses to open a checkpoint of another query id', async () => {
      const first = runner({ owner: 'a', queryId: 'q-1' });
      expect((await first.open()).queryId).toBe('q-1');
      await first.close();
      await fault(runner({ owner: 'b', queryId: 'q-2' }).open(), 'CHECKPOINT_CONFLICT');
    });

    it('purges entries beyond minBatchesToRetain and still recovers', async () => {
      const first = runner({ owner: 'a', minBatchesToRetain: 3 });
      await first.open();
      await first.recover();
      await runBatches(first, 0, 9);
      expect(await first.getPlan(6)).toBeUndefined();
      expect(await first.getPlan(7)).toEqual(planOf(7));
      await first.close();
      const second = runner({ owner: 'b', minBatchesToRetain: 3 });
      await second.open();
      expect(await second.recover()).toMatchObject({ kind: 'resume', nextBatchId: 10, lastPlan: planOf(9) });
    });
  });
}
