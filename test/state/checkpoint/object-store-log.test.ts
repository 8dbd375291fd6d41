// ObjectStoreCheckpointLog: the CheckpointLog contract on MemoryObjectStore and LocalObjectStore, the
// on-store layout and file format, torn and corrupt files, and FaultyObjectStore failures at every write.

import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeCheckpointFile, encodeCheckpointFile } from '../../../state/checkpoint/file-format.js';
import { CheckpointLease } from '../../../state/checkpoint/lease.js';
import { ObjectStoreCheckpointLog } from '../../../state/checkpoint/object-store-log.js';
import { FaultyObjectStore } from '../../../storage/faulty.js';
import { LocalObjectStore } from '../../../storage/local.js';
import { MemoryObjectStore } from '../../../storage/memory.js';
import type { ObjectStore } from '../../../storage/object-store.js';
import type { BatchPlan, Recovery } from '../../../stream/checkpoint-log.js';
import { checkpointLogContract, fault, planOf, runBatches } from '../../contracts/checkpoint-log.js';

checkpointLogContract('ObjectStoreCheckpointLog on MemoryObjectStore', async () => {
  const store = new MemoryObjectStore('checkpoint');
  return { runner: (options) => new ObjectStoreCheckpointLog(store, options), cleanup: async () => {} };
});

checkpointLogContract('ObjectStoreCheckpointLog on LocalObjectStore', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'lakestream-ckpt-'));
  const store = new LocalObjectStore(dir);
  return {
    runner: (options) => new ObjectStoreCheckpointLog(store, options),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});

async function keys(store: ObjectStore): Promise<string[]> {
  const out: string[] = [];
  for await (const meta of store.list()) out.push(meta.key);
  return out;
}

async function restart(
  store: ObjectStore,
  owner = 'restarted',
): Promise<{ log: ObjectStoreCheckpointLog; recovery: Recovery }> {
  const log = new ObjectStoreCheckpointLog(store, { owner, leaseTimeoutMs: 1 });
  await log.open();
  return { log, recovery: await log.recover() };
}

describe('ObjectStoreCheckpointLog layout and file format', () => {
  it("writes Spark's layout with v1 files carrying a checksum", async () => {
    const store = new MemoryObjectStore();
    const log = new ObjectStoreCheckpointLog(store, { owner: 'a', queryId: 'q' });
    await log.open();
    await log.recover();
    await runBatches(log, 0, 1);
    expect(await keys(store)).toEqual([
      'commits/0',
      'commits/1',
      'lease/00000000000000000001',
      'metadata',
      'offsets/0',
      'offsets/1',
    ]);
    const text = new TextDecoder().decode(await store.get('offsets/1'));
    expect(text.split('\n')[0]).toBe('v1');
    expect(text).toMatch(/\ncrc32:[0-9a-f]{8}\n$/);
    expect(JSON.parse(text.split('\n')[1]!)).toEqual(planOf(1));
  });

  it('detects truncation, bit flips and refuses newer format versions', () => {
    const bytes = encodeCheckpointFile({ a: 1, b: 'x' });
    expect(decodeCheckpointFile(bytes, 'k')).toMatchObject({ kind: 'ok', value: { a: 1, b: 'x' } });
    for (let cut = 0; cut < bytes.length; cut++) {
      expect(decodeCheckpointFile(bytes.slice(0, cut), 'k').kind, `cut at ${cut}`).toBe('corrupt');
    }
    const flipped = bytes.slice();
    flipped[5] = flipped[5]! ^ 0x01;
    expect(decodeCheckpointFile(flipped, 'k').kind).toBe('corrupt');
    const v2 = new TextEncoder().encode('v2\n{}\ncrc32:00000000\n');
    expect(() => decodeCheckpointFile(v2, 'k')).toThrow(
      expect.objectContaining({ code: 'CHECKPOINT_VERSION_UNSUPPORTED' }),
    );
  });
});

describe('ObjectStoreCheckpointLog torn and corrupt files', () => {
  async function committed(batches: number, plannedExtra: boolean): Promise<MemoryObjectStore> {
    const store = new MemoryObjectStore();
    const log = new ObjectStoreCheckpointLog(store, { owner: 'writer' });
    await log.open();
    await log.recover();
    await runBatches(log, 0, batches - 1);
    if (plannedExtra) await log.planBatch(planOf(batches));
    await log.close();
    return store;
  }
  const tear = async (store: ObjectStore, key: string) => {
    const bytes = await store.get(key);
    await store.put(key, bytes.slice(0, Math.floor(bytes.length / 2)));
  };

  it('treats a torn newest offsets file as never written, removes it and reports it', async () => {
    const store = await committed(3, true);
    await tear(store, 'offsets/3');
    const { log, recovery } = await restart(store);
    expect(recovery).toMatchObject({ kind: 'resume', nextBatchId: 3, lastPlan: planOf(2) });
    expect(recovery.notices).toEqual([{ kind: 'torn-tail', key: 'offsets/3', reason: expect.any(String) }]);
    expect(await log.planBatch(planOf(3))).toBe('created'); // the slot is free again
  });

  it('treats a torn newest commits file as not committed: replay that batch', async () => {
    const store = await committed(3, false);
    await tear(store, 'commits/2');
    const { recovery } = await restart(store);
    expect(recovery).toMatchObject({ kind: 'replay', batchId: 2, plan: planOf(2), lastCommit: { batchId: 1 } });
    expect(recovery.notices).toMatchObject([{ kind: 'torn-tail', key: 'commits/2' }]);
  });

  it('fails with CHECKPOINT_CORRUPT for a damaged file in the middle or a gap', async () => {
    const middle = await committed(4, false);
    await tear(middle, 'offsets/1');
    const log = new ObjectStoreCheckpointLog(middle, { owner: 'x', leaseTimeoutMs: 1 });
    await log.open();
    await log.recover(); // recovery reads only the tail
    await fault(log.getPlan(1), 'CHECKPOINT_CORRUPT');

    const twoTorn = await committed(4, false);
    await tear(twoTorn, 'offsets/3');
    await tear(twoTorn, 'offsets/2');
    const second = new ObjectStoreCheckpointLog(twoTorn, { owner: 'y', leaseTimeoutMs: 1 });
    await second.open();
    await fault(second.recover(), 'CHECKPOINT_CORRUPT');

    const gap = await committed(4, false);
    await gap.delete('offsets/2');
    const third = new ObjectStoreCheckpointLog(gap, { owner: 'z', leaseTimeoutMs: 1 });
    await third.open();
    const error = await fault(third.recover(), 'CHECKPOINT_CORRUPT');
    expect(error.message).toContain('gap between 1 and 3');
  });
});

describe('ObjectStoreCheckpointLog under storage faults', () => {
  it.each(['fail-before', 'fail-after'] as const)('retries planBatch and markCommitted after %s', async (action) => {
    const store = new FaultyObjectStore(new MemoryObjectStore());
    store.inject({ op: 'putIfAbsent', key: 'offsets/1', action });
    store.inject({ op: 'putIfAbsent', key: 'commits/1', action });
    const log = new ObjectStoreCheckpointLog(store, { owner: 'a' });
    await log.open();
    await log.recover();
    await runBatches(log, 0, 0);
    const planFault = await fault(log.planBatch(planOf(1)), 'INJECTED_FAULT');
    expect(planFault.retryable).toBe(true);
    expect(await log.planBatch(planOf(1))).toBe(action === 'fail-before' ? 'created' : 'exists');
    await fault(log.markCommitted({ batchId: 1, nextBatchWatermarkMs: 2_000 }), 'INJECTED_FAULT');
    expect(await log.markCommitted({ batchId: 1, nextBatchWatermarkMs: 2_000 })).toBe(
      action === 'fail-before' ? 'created' : 'exists',
    );
    expect(await log.recover().catch((e: { code: string }) => e.code)).toBe('CHECKPOINT_OUT_OF_ORDER');
  });

  it('recovers correctly from a crash at every checkpoint write: each batch commits once with its first plan', async () => {
    const BATCHES = 5;
    // Count the writes of a clean run to crash at each one in turn.
    const probe = new FaultyObjectStore(new MemoryObjectStore());
    const clean = new ObjectStoreCheckpointLog(probe, { owner: 'probe', minBatchesToRetain: 2 });
    await clean.open();
    await clean.recover();
    await runBatches(clean, 0, BATCHES - 1);
    const writeOps = ['put', 'putIfAbsent', 'delete'] as const;
    const writes = probe.calls.filter((call) => (writeOps as readonly string[]).includes(call.op)).length;
    expect(writes).toBeGreaterThan(BATCHES * 2);

    for (let nth = 1; nth <= writes; nth++) {
      for (const before of [true, false]) {
        const inner = new MemoryObjectStore();
        const crashing = new FaultyObjectStore(inner).inject({
          op: [...writeOps],
          nth,
          action: before ? 'crash-before' : 'crash-after',
        });
        let now = 0;
        const planned = new Map<number, BatchPlan>();
        let log = new ObjectStoreCheckpointLog(crashing, { owner: 'first', minBatchesToRetain: 2, now: () => now });
        let recovery: Recovery | undefined;
        let crashes = 0;
        for (;;) {
          try {
            if (recovery === undefined) {
              await log.open();
              recovery = await log.recover();
            }
            let next =
              recovery.kind === 'fresh' ? 0 : recovery.kind === 'resume' ? recovery.nextBatchId : recovery.batchId;
            if (recovery.kind === 'replay') {
              expect(recovery.plan, `replayed plan of ${next}`).toEqual(planned.get(next));
              await log.markCommitted({ batchId: next, nextBatchWatermarkMs: 1_000 * (next + 1) });
              next += 1;
            }
            for (; next < BATCHES; next++) {
              const plan = planOf(next);
              if (!planned.has(next)) planned.set(next, plan);
              await log.planBatch(plan);
              await log.markCommitted({ batchId: next, nextBatchWatermarkMs: 1_000 * (next + 1) });
            }
            break;
          } catch (error) {
            if ((error as { code?: string }).code !== 'INJECTED_CRASH') throw error;
            expect(++crashes).toBe(1);
            now += 120_000; // the crashed runner's lease expires
            log = new ObjectStoreCheckpointLog(inner, { owner: 'second', minBatchesToRetain: 2, now: () => now });
            recovery = undefined;
          }
        }
        const final = await restart(inner);
        expect(final.recovery, `crash ${before ? 'before' : 'after'} write ${nth}`).toMatchObject({
          kind: 'resume',
          nextBatchId: BATCHES,
          lastPlan: planOf(BATCHES - 1),
        });
        const stored = (await keys(inner)).filter((key) => !key.startsWith('lease/'));
        expect(stored).toEqual(['commits/3', 'commits/4', 'metadata', 'offsets/3', 'offsets/4']);
      }
    }
  });
});

describe('checkpoint lease of a killed process', () => {
  it('is taken over at once when its owner process on this host is gone, and kept while it lives', async () => {
    const store = new MemoryObjectStore('lease-dead-owner');
    // A process that has exited: its pid is free (ESRCH).
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    const ghost = new CheckpointLease(store, { owner: 'ghost', timeoutMs: 60_000, now: Date.now, pid: dead });
    await ghost.acquire();
    const next = new ObjectStoreCheckpointLog(store, { owner: 'successor' });
    await next.open();
    await next.close();
    // A live process elsewhere on this host: its lease is respected until the timeout.
    const alive = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)']);
    try {
      const holder = new CheckpointLease(store, { owner: 'alive', timeoutMs: 60_000, now: Date.now, pid: alive.pid! });
      await holder.acquire();
      await expect(new ObjectStoreCheckpointLog(store, { owner: 'third' }).open()).rejects.toMatchObject({
        code: 'CHECKPOINT_LOCKED',
      });
    } finally {
      alive.kill('SIGKILL');
    }
  });
});
