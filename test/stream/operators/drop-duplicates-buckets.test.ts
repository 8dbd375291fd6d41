// The key log of dropDuplicates / dropDuplicatesWithinWatermark, records bucketed by expiry: eviction
// is exact per key at bucket boundaries (watermark inside a bucket, equal to an expiry, across
// batches), records with many keys, keys re-inserted after eviction, replays after a crash, a changed
// bucket width (watermark delay) on existing state, and the state fingerprint — checked against a
// reference model of Spark's semantics.

import { describe, expect, it } from 'vitest';
import { decodeKey, encodeKey, encodeKeyAfter, type KeyPart } from '../../../state/codec.js';
import { byteString } from '../../../state/layout.js';
import { MemoryStateStoreProvider } from '../../../state/memory-store.js';
import type { OperatorMetrics, OperatorSpec, StreamOperator } from '../../../stream/operator.js';
import {
  asciiMainKey,
  batchBucketWidthMs,
  bucketWidthMs,
  dropDuplicates,
  dropDuplicatesWithinWatermark,
  LOG_RECORDS_PER_BATCH,
} from '../../../stream/operators/drop-duplicates.js';
import type { StateStoreProvider } from '../../../stream/state-store.js';
import type { Row, RowGroup } from '../../../stream/types.js';
import { keyLog, type StateEntryParts } from '../../kit/dedup-log.js';

const T0 = Date.parse('2024-01-01T12:00:00Z'); // a multiple of every bucket width
const SEC = 1_000;
const MIN = 60_000;
const DELAY = 10 * MIN; // bucket width 10 s
const WIDTH = 10 * SEC;

interface Out {
  ids: unknown[];
  evicted: number | undefined;
  dropped: number;
  letters: number;
}

function plan(spec: OperatorSpec, delayMs = DELAY): StreamOperator {
  return spec.plan({
    index: 1,
    outputMode: 'append',
    schema: undefined,
    watermark: { column: 'ts', delayMs },
    statefulUpstream: ['withWatermark'],
    aggregated: false,
  });
}

/** Runs batch `batchId` against version batchId − 1; commits it unless `crash`. */
async function run(
  op: StreamOperator,
  provider: StateStoreProvider,
  batchId: number,
  rows: Row[],
  watermarkMs: number,
  crash = false,
): Promise<Out> {
  const groups: RowGroup[] = [{ partition: 'p0', rows: [...rows] }];
  const store = await provider.open(op.id, batchId - 1, op.state!);
  const metrics: OperatorMetrics = { numRowsDroppedByWatermark: 0, numDeadLetters: 0, custom: {} };
  let letters = 0;
  const out = await op.process(groups, {
    batchId,
    batchTimestampMs: batchId * SEC,
    watermarkMs,
    state: store,
    metrics,
    deadLetter: () => letters++,
    proposeWatermark: () => {},
  });
  if (crash) store.abort();
  else await store.commit(batchId);
  return {
    ids: out.flatMap((g) => g.rows.map((r) => r.id)),
    evicted: metrics.custom.numKeysEvicted,
    dropped: metrics.custom.numDuplicatesDropped ?? 0,
    letters,
  };
}

/** Per-key records (none: the keys live only in memory and the key log) and the log of the newest version. */
async function stateOf(
  op: StreamOperator,
  provider: StateStoreProvider,
): Promise<{ keys: KeyPart[]; index: [number, KeyPart][]; buckets: number }> {
  const store = await provider.open(op.id, await provider.latestVersion(op.id), op.state!);
  const keys: KeyPart[] = [];
  const entries: StateEntryParts[] = [];
  for await (const { key, value } of store.scan(new Uint8Array(0))) {
    const parts = decodeKey(key);
    if (parts[0] === 'k') {
      expect(value.length).toBe(0);
      keys.push(parts[1]!);
    } else {
      expect(['e', 'w']).toContain(parts[0]);
      entries.push({ key: parts, value });
    }
  }
  store.abort();
  keys.sort();
  const log = keyLog(entries);
  for (const entry of log.index) expect(entry).toHaveLength(2);
  return { keys, index: log.index as [number, KeyPart][], buckets: log.records };
}

/** Spark's semantics, in memory: key → expiry; eviction after the batch's rows. */
class Model {
  state = new Map<unknown, number>();
  constructor(private readonly expiryOf: (ts: number) => number) {}
  run(rows: Row[], watermarkMs: number): Out {
    const seen = new Set<unknown>();
    const ids: unknown[] = [];
    let dropped = 0;
    for (const row of rows) {
      if (this.state.has(row.id) || seen.has(row.id)) {
        dropped++;
        continue;
      }
      seen.add(row.id);
      this.state.set(row.id, this.expiryOf(row.ts as number));
      ids.push(row.id);
    }
    let evicted: number | undefined;
    if (watermarkMs > 0) {
      evicted = 0;
      for (const [id, expiry] of this.state) {
        if (expiry <= watermarkMs) {
          this.state.delete(id);
          evicted++;
        }
      }
    }
    return { ids, evicted, dropped, letters: 0 };
  }
  clone(): Model {
    const copy = new Model(this.expiryOf);
    copy.state = new Map(this.state);
    return copy;
  }
  index(): [number, unknown][] {
    return [...this.state]
      .map(([id, e]) => [e, id] as [number, unknown])
      .sort((a, b) => a[0] - b[0] || String(a[1]).localeCompare(String(b[1])));
  }
}

const row = (id: string, ts: number): Row => ({ id, ts });

describe('dropDuplicates key log', () => {
  it('derives the bucket width from the watermark delay: delay / 60 in whole seconds, 1 s to 1 min', () => {
    expect(bucketWidthMs(10 * MIN)).toBe(10 * SEC);
    expect(bucketWidthMs(0)).toBe(SEC);
    expect(bucketWidthMs(59 * SEC)).toBe(SEC);
    expect(bucketWidthMs(3 * MIN)).toBe(3 * SEC);
    expect(bucketWidthMs(24 * 60 * MIN)).toBe(MIN);
  });

  it('writes a single ASCII string key as the byte string of its generic encoding', () => {
    const tag = encodeKey(['k']);
    for (const id of ['a', '', 'evt-0001', ' ~\u007f', 'x'.repeat(1000)]) {
      expect(asciiMainKey(id)).toBe(byteString(encodeKeyAfter(tag, [id])));
    }
    // Not ASCII, or with a NUL (escaped by the generic encoding): the generic encoding is used.
    for (const id of ['é', 'a\u0000b', '\u0080', '🙂']) expect(asciiMainKey(id)).toBeUndefined();
  });

  it('changes the state fingerprint, so state of earlier layouts (per-key records, buckets) is refused', async () => {
    const op = plan(dropDuplicatesWithinWatermark(['id']));
    expect(op.state).toEqual({ operator: 'dropDuplicatesWithinWatermark', keys: 'id', eviction: 'expiresAtLog' });
    expect(plan(dropDuplicates(['id', 'ts'])).state?.eviction).toBe('eventTimeInKeyLog');
    expect(plan(dropDuplicates(['id'])).state?.eviction).toBe('none');
    const provider = new MemoryStateStoreProvider();
    const old = await provider.open(op.id, -1, { ...op.state!, eviction: 'expiresAtIndex' });
    old.put('x', new Uint8Array(1));
    await old.commit(0);
    await expect(run(op, provider, 1, [row('a', T0)], 0)).rejects.toMatchObject({ code: 'STATE_INCOMPATIBLE' });
  });

  for (const [label, maxCachedRows] of [
    ['mirrored', undefined],
    ['backend reads', 0],
  ] as const) {
    describe(label, () => {
      const provider = () => new MemoryStateStoreProvider({ maxCachedRows });

      it('evicts exactly at bucket boundaries: watermark inside a bucket, equal to an expiry, across batches', async () => {
        const p = provider();
        const op = plan(dropDuplicatesWithinWatermark(['id']));
        const base = T0 + 5 * MIN; // expiry of ts = T0 + 5 min + o is base + DELAY + o
        const E = base + DELAY;
        // Offsets of the expiries from a bucket start E: the start itself, inside, the last ms, the next start.
        const offsets = [0, 1, 4_999, 5_000, 5_001, WIDTH - 1, WIDTH, WIDTH + 1, 2 * WIDTH - 1, 2 * WIDTH];
        const rows = offsets.map((o) => row(`o${o}`, base + o));
        expect((await run(op, p, 0, rows, 0)).ids).toEqual(rows.map((r) => r.id));
        expect((await stateOf(op, p)).buckets).toBe(3);
        const steps: [number, string[]][] = [
          [E - 1, []],
          [E, ['o0']], // equal to an expiry and a bucket start
          [E + 5_000, ['o1', 'o4999', 'o5000']], // inside a bucket, equal to an expiry
          [E + 5_000, []], // the same watermark again
          [E + WIDTH - 1, ['o5001', 'o9999']], // the last ms of the bucket
          [E + WIDTH + 1, ['o10000', 'o10001']], // one ms into the next bucket
          [E + 3 * WIDTH, ['o19999', 'o20000']],
        ];
        let batch = 1;
        let left = rows.map((r) => r.id as string);
        for (const [wm, gone] of steps) {
          // Every key in the batch is still a duplicate: eviction runs after the batch's rows.
          const out = await run(
            op,
            p,
            batch++,
            left.map((id) => row(id, wm)),
            wm,
          );
          expect(out.ids).toEqual([]);
          expect(out.evicted).toBe(gone.length);
          left = left.filter((id) => !gone.includes(id));
          const state = await stateOf(op, p);
          expect(state.keys).toEqual([]);
          expect(state.index.map((e) => e[1]).sort()).toEqual([...left].sort());
        }
        expect(await stateOf(op, p)).toEqual({ keys: [], index: [], buckets: 0 });
      });

      it('keys of every kind (ASCII as byte strings, non-ASCII, NUL, empty) dedup and evict alike', async () => {
        const p = provider();
        const op = plan(dropDuplicatesWithinWatermark(['id']));
        const ids = ['a', 'é', 'a\u0000b', '', '\u007f~', '🙂', 'A'.repeat(300)];
        const first = await run(
          op,
          p,
          0,
          [...ids, ...ids].map((id) => row(id, T0)),
          0,
        );
        expect(first).toMatchObject({ ids, dropped: ids.length });
        expect((await stateOf(op, p)).keys).toEqual([]);
        expect((await stateOf(op, p)).index.map((e) => e[1]).sort()).toEqual([...ids].sort());
        // Below the expiry: all still duplicates; at it: all evicted, and new again afterwards.
        expect(
          await run(
            op,
            p,
            1,
            ids.map((id) => row(id, T0 + MIN)),
            T0 + DELAY - 1,
          ),
        ).toMatchObject({
          ids: [],
          evicted: 0,
        });
        expect(await run(op, p, 2, [], T0 + DELAY)).toMatchObject({ evicted: ids.length });
        expect(await stateOf(op, p)).toEqual({ keys: [], index: [], buckets: 0 });
        expect(
          (
            await run(
              op,
              p,
              3,
              ids.map((id) => row(id, T0 + 20 * MIN)),
              T0 + DELAY,
            )
          ).ids,
        ).toEqual(ids);
      });

      it('a restarted operator reads the keys back from the index: every kind of key, one and two columns', async () => {
        const kinds: unknown[] = ['a', 'é', 'a\u0000b', '', ' x', '\u0001', '🙂', 'A'.repeat(300), 7, 7n, true, null];
        const rowsOf = (ts: number) => kinds.map((id, i) => ({ id, n: i % 2, ts }));
        for (const keys of [['id'], ['id', 'n']]) {
          const first = plan(dropDuplicatesWithinWatermark(keys));
          const p = provider();
          const out = await run(first, p, 0, [...rowsOf(T0), ...rowsOf(T0 + 1)], 0);
          expect(out.ids).toEqual(kinds);
          expect(out.dropped).toBe(kinds.length);
          // A new operator instance (a restart): every key is a duplicate, read back from the buckets.
          const restarted = plan(dropDuplicatesWithinWatermark(keys));
          expect(await run(restarted, p, 1, rowsOf(T0 + MIN), 0)).toMatchObject({ ids: [], dropped: kinds.length });
          // And evicted exactly once the watermark passes their expiry.
          const again = plan(dropDuplicatesWithinWatermark(keys));
          expect(await run(again, p, 2, [], T0 + DELAY)).toMatchObject({ evicted: kinds.length });
          expect((await run(again, p, 3, rowsOf(T0 + 20 * MIN), T0 + DELAY)).ids).toEqual(kinds);
        }
      });

      it('state committed but the batch retried (the table commit failed): the retry sees version N − 1', async () => {
        const p = provider();
        const op = plan(dropDuplicatesWithinWatermark(['id']));
        await run(op, p, 0, [row('a', T0)], 0);
        const ran = await run(op, p, 1, [row('b', T0 + 1), row('a', T0 + 2)], T0 + DELAY);
        expect(ran).toMatchObject({ ids: ['b'], evicted: 1, dropped: 1 });
        // Batch 1 again against version 0 (its state commit stood): the same result, b is new again.
        expect(await run(op, p, 1, [row('b', T0 + 1), row('a', T0 + 2)], T0 + DELAY)).toEqual(ran);
        expect(await run(op, p, 2, [row('a', T0 + MIN), row('b', T0 + MIN)], T0 + DELAY)).toMatchObject({
          ids: ['a'],
          dropped: 1,
        });
        // A crashed batch 3 (state not committed), then batch 3 again: nothing of the crash is seen.
        await run(op, p, 3, [row('c', T0 + 2 * MIN)], T0 + DELAY, true);
        expect(await run(op, p, 3, [row('c', T0 + 2 * MIN), row('d', T0 + 2 * MIN)], T0 + DELAY)).toMatchObject({
          ids: ['c', 'd'],
        });
      });

      it('re-inserts a key after its eviction, in a new bucket, and evicts it again at its new expiry', async () => {
        const p = provider();
        const op = plan(dropDuplicatesWithinWatermark(['id']));
        await run(op, p, 0, [row('a', T0), row('b', T0 + 3)], 0);
        const first = await run(op, p, 1, [row('a', T0 + MIN)], T0 + DELAY);
        expect(first).toMatchObject({ ids: [], evicted: 1, dropped: 1 });
        // a is gone: seen again it is new, with the expiry of this row.
        const again = await run(op, p, 2, [row('a', T0 + 20 * MIN), row('a', T0 + 21 * MIN)], T0 + DELAY);
        expect(again).toMatchObject({ ids: ['a'], evicted: 0, dropped: 1 });
        expect((await stateOf(op, p)).index).toEqual([
          [T0 + 3 + DELAY, 'b'],
          [T0 + 30 * MIN, 'a'],
        ]);
        expect(await run(op, p, 3, [], T0 + 30 * MIN - 1)).toMatchObject({ evicted: 1 });
        expect(await run(op, p, 4, [row('a', T0)], T0 + 30 * MIN)).toMatchObject({ ids: [], evicted: 1 });
        expect(await stateOf(op, p)).toEqual({ keys: [], index: [], buckets: 0 });
        // A row inserted below the watermark is emitted, then evicted by the same batch (as before).
        expect(await run(op, p, 5, [row('c', T0)], T0 + 40 * MIN)).toMatchObject({ ids: ['c'], evicted: 1 });
        expect(await stateOf(op, p)).toEqual({ keys: [], index: [], buckets: 0 });
      });

      it('a restart skips the evicted entries of a straddling record: a key evicted and added again keeps its new expiry', async () => {
        const p = provider();
        const first = plan(dropDuplicatesWithinWatermark(['id']));
        await run(first, p, 0, [row('a', T0), row('b', T0 + 3)], 0); // one record, maxExpiry T0 + 3 + DELAY
        expect(await run(first, p, 1, [], T0 + DELAY)).toMatchObject({ evicted: 1 }); // a evicted, record kept
        expect((await run(first, p, 2, [row('a', T0 + 20 * MIN)], T0 + DELAY)).ids).toEqual(['a']);
        expect((await stateOf(first, p)).buckets).toBe(2);
        const restarted = plan(dropDuplicatesWithinWatermark(['id']));
        // a is remembered until T0 + 30 min (not its stale entry's T0 + DELAY): a duplicate, and only b evicts.
        expect(await run(restarted, p, 3, [row('a', T0 + 21 * MIN)], T0 + DELAY + 3)).toMatchObject({
          ids: [],
          dropped: 1,
          evicted: 1,
        });
        expect((await stateOf(restarted, p)).index).toEqual([[T0 + 30 * MIN, 'a']]);
        expect((await stateOf(restarted, p)).buckets).toBe(1);
      });

      it('keeps many keys per record; a record straddling the watermark keeps exactly its remaining keys', async () => {
        const p = provider();
        const op = plan(dropDuplicatesWithinWatermark(['id']));
        // 4000 keys with expiries 3 ms apart: 3334 in one bucket, the rest in the next; in 3 batches, so
        // four records: the first bucket's keys of each batch and the second bucket's of the last.
        const all = Array.from({ length: 4000 }, (_, i) => row(`k${i}`, T0 + i * 3));
        const model = new Model((ts) => ts + DELAY);
        for (let b = 0; b < 3; b++) {
          const rows = all.slice(b * 1350, (b + 1) * 1350 + 300); // overlapping: duplicates across batches
          expect(await run(op, p, b, rows, 0)).toEqual(model.run(rows, 0));
        }
        expect((await stateOf(op, p)).buckets).toBe(4);
        let batch = 3;
        for (const wm of [T0 + DELAY + 4_500, T0 + DELAY + 4_500 + 3 * 777, T0 + DELAY + 9_999, T0 + DELAY + 10_002]) {
          const rows = all.filter((_, i) => i % 7 === 0);
          expect(await run(op, p, batch++, rows, wm)).toEqual(model.run(rows, wm));
          const state = await stateOf(op, p);
          expect(state.index).toEqual(model.index());
          expect(state.keys).toEqual([]);
        }
      });

      it('a batch spanning many widths writes at most LOG_RECORDS_PER_BATCH + 1 records, evicted exactly', async () => {
        const p = provider();
        const op = plan(dropDuplicatesWithinWatermark(['id']));
        // 3000 keys 0.7 s apart: 2100 s of expiries, 210 widths of 10 s, so wider buckets for this batch.
        const all = Array.from({ length: 3000 }, (_, i) => row(`k${i}`, T0 + i * 700));
        const model = new Model((ts) => ts + DELAY);
        expect(await run(op, p, 0, all, 0)).toEqual(model.run(all, 0));
        const records = (await stateOf(op, p)).buckets;
        expect(records).toBeGreaterThan(1);
        expect(records).toBeLessThanOrEqual(LOG_RECORDS_PER_BATCH + 1);
        // A small batch after it keeps the operator's width.
        const small = [row('s1', T0 + 5 * MIN), row('s2', T0 + 5 * MIN + WIDTH)];
        expect(await run(op, p, 1, small, 0)).toEqual(model.run(small, 0));
        expect((await stateOf(op, p)).buckets).toBe(records + 2);
        let batch = 2;
        for (const wm of [
          T0 + DELAY + 77_777,
          T0 + DELAY + 5 * MIN + 1,
          T0 + DELAY + 1_000_003,
          T0 + DELAY + 2_100_000,
        ]) {
          const rows = all.filter((_, i) => i % 11 === 0);
          expect(await run(op, p, batch++, rows, wm)).toEqual(model.run(rows, wm));
          expect((await stateOf(op, p)).index).toEqual(model.index());
          // A restart reads the same keys back from the log.
          const restarted = plan(dropDuplicatesWithinWatermark(['id']));
          const probe = all.filter((_, i) => i % 13 === 0);
          expect(await run(restarted, p, batch, probe, wm, true)).toEqual(model.clone().run(probe, wm));
        }
        expect(batchBucketWidthMs(WIDTH, 0, LOG_RECORDS_PER_BATCH * WIDTH)).toBe(WIDTH);
        expect(batchBucketWidthMs(WIDTH, 0, LOG_RECORDS_PER_BATCH * WIDTH + 1)).toBe(2 * WIDTH);
        expect(batchBucketWidthMs(WIDTH, 5, 5 + 100 * LOG_RECORDS_PER_BATCH * WIDTH)).toBe(100 * WIDTH);
        expect(batchBucketWidthMs(WIDTH, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY)).toBe(WIDTH);
      });

      it('dropDuplicates with the event time in the keys evicts keys with event time <= watermark', async () => {
        const p = provider();
        const op = plan(dropDuplicates(['id', 'ts']));
        const rows = [row('a', T0), row('b', T0 + 1), row('c', T0 + WIDTH), row('a', T0)];
        expect((await run(op, p, 0, rows, 0)).ids).toEqual(['a', 'b', 'c']);
        expect(await run(op, p, 1, [row('a', T0)], T0)).toMatchObject({ ids: [], evicted: 1 });
        expect(await run(op, p, 2, [row('b', T0 + 1)], T0 + WIDTH - 1)).toMatchObject({ ids: [], evicted: 1 });
        expect(await run(op, p, 3, [], T0 + WIDTH)).toMatchObject({ evicted: 1 });
        expect((await stateOf(op, p)).buckets).toBe(0);
      });

      it('replays a batch after a crash, and a committed batch, with the same result (random batches vs the model)', async () => {
        let seed = 12345;
        const rand = () => {
          seed = (seed * 1103515245 + 12345) % 2 ** 31;
          return seed / 2 ** 31;
        };
        const p = provider();
        const op = plan(dropDuplicatesWithinWatermark(['id']));
        const model = new Model((ts) => ts + DELAY);
        const models: Model[] = [model.clone()]; // models[b] = state before batch b
        const results: Out[] = [];
        const inputs: { rows: Row[]; wm: number }[] = [];
        let wm = 0;
        let now = T0;
        for (let b = 0; b < 30; b++) {
          const rows: Row[] = [];
          const n = Math.floor(rand() * 200);
          for (let i = 0; i < n; i++) {
            now += Math.floor(rand() * 700);
            // Event times jittered backwards; keys recur from a small pool, so duplicates and re-inserts abound.
            rows.push(row(`id${Math.floor(rand() * 400)}`, now - Math.floor(rand() * 2 * MIN)));
          }
          // The watermark: sometimes unchanged, sometimes exactly a stored expiry, else just behind event time.
          const expiries = [...models[b]!.state.values()];
          const pick = rand();
          if (b > 0 && pick < 0.3 && expiries.length > 0)
            wm = Math.max(wm, expiries[Math.floor(rand() * expiries.length)]!);
          else if (b > 0 && pick < 0.8) wm = Math.max(wm, now - DELAY + Math.floor(rand() * 5 * SEC));
          inputs.push({ rows, wm });
          // A crash before the commit of this batch: the rerun must not see anything of it.
          if (rand() < 0.3) await run(op, p, b, rows, wm, true);
          const out = await run(op, p, b, rows, wm);
          const expected = model.run(rows, wm);
          expect(out).toEqual(expected);
          results.push(out);
          models.push(model.clone());
          const state = await stateOf(op, p);
          expect(state.index).toEqual(model.index());
          expect(state.keys).toEqual([]);
        }
        expect(results.reduce((sum, r) => sum + (r.evicted ?? 0), 0)).toBeGreaterThan(500);
        // Replays of committed batches (the engine reruns batch N against version N − 1): identical.
        for (const b of [29, 20, 7, 1]) {
          const { rows, wm } = inputs[b]!;
          expect(await run(op, p, b, rows, wm)).toEqual(results[b]);
          const state = await stateOf(op, p);
          expect(state.index).toEqual(models[b + 1]!.index());
        }
      });

      it('reads buckets written with another width (a changed watermark delay) exactly', async () => {
        const p = provider();
        const wide = plan(dropDuplicatesWithinWatermark(['id']), 60 * MIN); // 1-min buckets
        const rows = Array.from({ length: 50 }, (_, i) => row(`k${i}`, T0 + i * 1_700));
        await run(wide, p, 0, rows, 0);
        const narrow = plan(dropDuplicatesWithinWatermark(['id']), 2 * MIN); // 2-s buckets, same state
        expect(narrow.id).toBe(wide.id);
        const wideModel = new Model((ts) => ts + 60 * MIN);
        wideModel.run(rows, 0);
        // New keys expire 2 min after their event time; keys already stored keep their expiry.
        const model = new Model((ts) => ts + 2 * MIN);
        model.state = new Map(wideModel.state);
        const more = Array.from({ length: 50 }, (_, i) => row(`m${i}`, T0 + 58 * MIN + i * 900));
        let batch = 1;
        for (const wm of [T0 + 60 * MIN + 20_000, T0 + 60 * MIN + 40_000 + 850, T0 + 60 * MIN + 70_000]) {
          const input = [...rows.slice(0, 10), ...more.slice((batch - 1) * 10, batch * 10)];
          expect(await run(narrow, p, batch++, input, wm)).toEqual(model.run(input, wm));
          const state = await stateOf(narrow, p);
          expect(state.index).toEqual(model.index());
          expect(state.keys).toEqual([]);
        }
        expect(model.state.size).toBeGreaterThan(0);
        expect(batch).toBe(4);
      });
    });
  }
});
