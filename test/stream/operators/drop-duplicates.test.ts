// dropDuplicates / dropDuplicatesWithinWatermark driven batch by batch through the StateStore seam (no
// engine): duplicates within and across batches, key identity by value and type, replays against the
// previous version, eviction by watermark and its index, dead letters — on the mirrored state store,
// with and without the in-memory copy of the newest version.

import { describe, expect, it } from 'vitest';
import { YIELD_EVERY_ROWS } from '../../../common/yield.js';
import { decodeKey, type KeyPart } from '../../../state/codec.js';
import { MemoryStateStoreProvider } from '../../../state/memory-store.js';
import type { DeadLetter, OperatorMetrics, OperatorSpec, StreamOperator } from '../../../stream/operator.js';
import { dropDuplicates, dropDuplicatesWithinWatermark } from '../../../stream/operators/drop-duplicates.js';
import type { Row, RowGroup } from '../../../stream/types.js';
import { keyLog, type StateEntryParts } from '../../kit/dedup-log.js';
import { withTurnCount } from '../../kit/event-loop-turns.js';

const T0 = Date.parse('2024-01-01T12:00:00Z');
const MIN = 60_000;

interface BatchResult {
  rows: Row[];
  metrics: OperatorMetrics;
  letters: Omit<DeadLetter, 'operator'>[];
}

class Harness {
  readonly op: StreamOperator;
  nextBatch = 0;

  constructor(
    spec: OperatorSpec,
    watermark: { column: string; delayMs: number } | undefined,
    readonly provider = new MemoryStateStoreProvider(),
  ) {
    this.op = spec.plan({
      index: 1,
      outputMode: 'append',
      schema: undefined,
      watermark,
      statefulUpstream: watermark ? ['withWatermark'] : [],
      aggregated: false,
    });
  }

  /** Runs batch `batchId` against state batchId − 1 and commits it (a replay when it ran before). */
  async run(input: Row[] | RowGroup[], watermarkMs = 0, batchId = this.nextBatch): Promise<BatchResult> {
    const groups: RowGroup[] =
      input.length > 0 && 'rows' in input[0]!
        ? (input as RowGroup[]).map((g) => ({ partition: g.partition, rows: [...g.rows] }))
        : [{ partition: 'p0', rows: [...(input as Row[])] }];
    const store = await this.provider.open(this.op.id, batchId - 1, this.op.state!);
    const metrics: OperatorMetrics = { numRowsDroppedByWatermark: 0, numDeadLetters: 0, custom: {} };
    const letters: Omit<DeadLetter, 'operator'>[] = [];
    const out = await this.op.process(groups, {
      batchId,
      batchTimestampMs: 1_000 * batchId,
      watermarkMs,
      state: store,
      metrics,
      deadLetter: (letter) => letters.push(letter),
      proposeWatermark: () => {},
    });
    await store.commit(batchId);
    this.nextBatch = batchId + 1;
    return { rows: out.flatMap((g) => g.rows), metrics, letters };
  }

  async stateKeys(): Promise<KeyPart[][]> {
    return (await this.stateEntries()).map((e) => e.key);
  }

  async stateEntries(): Promise<{ key: KeyPart[]; value: Uint8Array }[]> {
    const version = await this.provider.latestVersion(this.op.id);
    const store = await this.provider.open(this.op.id, version, this.op.state!);
    const entries: { key: KeyPart[]; value: Uint8Array }[] = [];
    for await (const entry of store.scan(new Uint8Array(0)))
      entries.push({ key: decodeKey(entry.key), value: entry.value });
    store.abort();
    return entries;
  }
}

const ids = (rows: Row[]) => rows.map((r) => r.id);

/** The remembered keys of the key log: [expiry, ...key values], sorted. */
const indexEntries = (entries: StateEntryParts[]) => keyLog(entries).index;

for (const [label, maxCachedRows] of [
  ['mirrored', undefined],
  ['backend reads', 0],
] as const) {
  describe(`dropDuplicates (${label})`, () => {
    const provider = () => new MemoryStateStoreProvider({ maxCachedRows });

    it('drops duplicates within a batch, across batches and across partitions', async () => {
      const h = new Harness(dropDuplicates(['id']), undefined, provider());
      const first = await h.run([
        {
          partition: 'a',
          rows: [
            { id: 'x', n: 1 },
            { id: 'y', n: 2 },
            { id: 'x', n: 3 },
          ],
        },
        {
          partition: 'b',
          rows: [
            { id: 'y', n: 4 },
            { id: 'z', n: 5 },
          ],
        },
      ]);
      expect(first.rows.map((r) => r.n)).toEqual([1, 2, 5]);
      expect(first.metrics.custom.numDuplicatesDropped).toBe(2);
      const second = await h.run([{ id: 'z' }, { id: 'w' }, { id: 'x' }, { id: 'w' }]);
      expect(ids(second.rows)).toEqual(['w']);
      expect(second.metrics.custom.numDuplicatesDropped).toBe(3);
      expect((await h.stateKeys()).map((k) => k[1])).toEqual(['w', 'x', 'y', 'z']);
    });

    it('identifies keys by value and type: 1 ≠ "1" ≠ 1n, equal bytes and dates are equal, null is a key', async () => {
      const h = new Harness(dropDuplicates(['id']), undefined, provider());
      const rows = [
        { id: 1 },
        { id: '1' },
        { id: 1n },
        { id: 1 },
        { id: Uint8Array.of(1, 0) },
        { id: Uint8Array.of(1, 0) },
        { id: new Date(5) },
        { id: 5 },
        { id: null },
        { id: undefined },
        { id: -0 },
        { id: 0 },
        { id: { a: 1 } },
        { id: '{"a":1}' },
        { id: '\uD800' }, // lone surrogates are stored as U+FFFD: one key
        { id: '\uDFFF' },
        { id: '\uFFFD' },
        { id: ' k\u0000!\u0001\u0000\u00ff\u0000' }, // the byte string of the key of Uint8Array [1, 0]
      ];
      const out = await h.run(rows);
      expect(out.rows).toEqual([
        rows[0],
        rows[1],
        rows[2],
        rows[4],
        rows[6],
        rows[8],
        rows[10],
        rows[12],
        rows[14],
        rows[17],
      ]);
      const again = await h.run([{ id: Uint8Array.of(1, 0) }, { id: null }, { id: 2 }, { id: 1n }]);
      expect(again.rows).toEqual([{ id: 2 }]);
    });

    it('keys on several columns', async () => {
      const h = new Harness(dropDuplicates(['a', 'b']), undefined, provider());
      const out = await h.run([
        { a: 'x', b: 1 },
        { a: 'x', b: 2 },
        { a: 'x', b: 1 },
        { a: 'x\u0000', b: 1 },
        { a: 'é', b: null },
        { a: 'é', b: null },
      ]);
      expect(out.rows).toEqual([
        { a: 'x', b: 1 },
        { a: 'x', b: 2 },
        { a: 'x\u0000', b: 1 },
        { a: 'é', b: null },
      ]);
      expect(
        (
          await h.run([
            { a: 'x', b: 2 },
            { a: 'y', b: 2 },
          ])
        ).rows,
      ).toEqual([{ a: 'y', b: 2 }]);
    });

    it('replays a batch against the previous version with the same output', async () => {
      const h = new Harness(dropDuplicates(['id']), undefined, provider());
      await h.run([{ id: 'a' }, { id: 'b' }]);
      const batch = [{ id: 'b' }, { id: 'c' }, { id: 'c' }, { id: 'd' }];
      const first = await h.run(batch);
      await h.run([{ id: 'e' }]);
      const replayed = await h.run(batch, 0, 1);
      expect(ids(replayed.rows)).toEqual(ids(first.rows));
      expect(ids(replayed.rows)).toEqual(['c', 'd']);
      // Batch 2 ran before the replay; its state is gone, so 'e' is new again.
      expect(ids((await h.run([{ id: 'e' }, { id: 'a' }])).rows)).toEqual(['e']);
    });
  });

  describe(`dropDuplicatesWithinWatermark (${label})`, () => {
    const provider = () => new MemoryStateStoreProvider({ maxCachedRows });
    const wm = { column: 'ts', delayMs: 10 * MIN };

    it('remembers a key until the watermark passes its first event time + delay, via the key log', async () => {
      const h = new Harness(dropDuplicatesWithinWatermark(['id']), wm, provider());
      const at = (m: number) => new Date(T0 + m * MIN).toISOString();
      const first = await h.run([
        { id: 'a', ts: at(0) },
        { id: 'b', ts: at(5) },
        { id: 'a', ts: at(1) },
      ]);
      expect(ids(first.rows)).toEqual(['a', 'b']);
      expect(indexEntries(await h.stateEntries())).toEqual([
        [T0 + 10 * MIN, 'a'],
        [T0 + 15 * MIN, 'b'],
      ]);
      // Watermark at a's expiry: the batch still sees a (eviction runs after the batch's rows), then a
      // is evicted (both keys) while b is remembered.
      const second = await h.run(
        [
          { id: 'a', ts: at(20) },
          { id: 'b', ts: at(20) },
        ],
        T0 + 10 * MIN,
      );
      expect(ids(second.rows)).toEqual([]);
      expect(second.metrics.custom.numKeysEvicted).toBe(1);
      // The keys live only in the key log (and in the operator's memory).
      expect((await h.stateKeys()).filter((k) => k[0] !== 'e' && k[0] !== 'w')).toEqual([]);
      expect(second.metrics.stateRows).toEqual({ total: 1, updated: 0, removed: 1 });
      expect(indexEntries(await h.stateEntries())).toEqual([[T0 + 15 * MIN, 'b']]);
      const third = await h.run(
        [
          { id: 'a', ts: at(21) },
          { id: 'b', ts: at(21) },
        ],
        T0 + 15 * MIN,
      );
      expect(ids(third.rows)).toEqual(['a']);
      expect(third.metrics.custom.numKeysEvicted).toBe(1);
      const fourth = await h.run(
        [
          { id: 'b', ts: at(31) },
          { id: 'a', ts: at(31) },
        ],
        T0 + 15 * MIN,
      );
      expect(ids(fourth.rows)).toEqual(['b']);
      expect(fourth.metrics.stateRows).toEqual({ total: 2, updated: 1, removed: 0 });
      expect(indexEntries(await h.stateEntries())).toEqual([
        [T0 + 31 * MIN, 'a'],
        [T0 + 41 * MIN, 'b'],
      ]);
    });

    it('yields to the event loop between slices of a large group', async () => {
      const h = new Harness(dropDuplicatesWithinWatermark(['id']), wm, provider());
      const input = Array.from({ length: 5_000 }, (_, i) => ({ id: `k${i % 3_000}`, ts: T0 + i }));
      const { value: out, turns } = await withTurnCount(() => h.run(input));
      expect(turns).toBeGreaterThanOrEqual(Math.floor(4_999 / YIELD_EVERY_ROWS)); // 5 000 rows in slices
      expect(ids(out.rows)).toEqual(input.slice(0, 3_000).map((r) => r.id));
      expect(out.metrics.custom.numDuplicatesDropped).toBe(2_000);
    });

    it('dead-letters rows without an event time; they do not claim their key', async () => {
      const h = new Harness(dropDuplicatesWithinWatermark(['id']), wm, provider());
      const out = await h.run([
        { id: 'a', ts: null },
        { id: 'a', ts: new Date(T0).toISOString() },
        { id: 'b', ts: 'x' },
      ]);
      expect(out.rows).toEqual([{ id: 'a', ts: new Date(T0).toISOString() }]);
      expect(out.letters.map((l) => l.row)).toEqual([
        { id: 'a', ts: null },
        { id: 'b', ts: 'x' },
      ]);
    });

    it('evicts many keys across batches and replays an evicting batch identically', async () => {
      const h = new Harness(dropDuplicatesWithinWatermark(['id']), wm, provider());
      const batch = (from: number, to: number) =>
        Array.from({ length: to - from }, (_, i) => ({ id: `id-${(from + i) % 700}`, ts: T0 + (from + i) * 1000 }));
      expect((await h.run(batch(0, 1000))).rows.length).toBe(700);
      const wmMs = T0 + 1000 * 1000; // evicts the keys first seen in the first 400 s
      const second = await h.run(batch(1000, 2000), wmMs);
      const replay = await h.run(batch(1000, 2000), wmMs, 1);
      expect(ids(replay.rows)).toEqual(ids(second.rows));
      expect(replay.metrics.custom.numKeysEvicted).toBe(second.metrics.custom.numKeysEvicted);
      expect(second.metrics.custom.numKeysEvicted).toBeGreaterThan(0);
      // The state is the log: the keys first seen after the evicted 400 s, each once.
      const indexed = indexEntries(await h.stateEntries()).map((e) => e[1]);
      expect(new Set(indexed).size).toBe(indexed.length);
      expect(indexed.length).toBe(replay.metrics.stateRows?.total);
      expect(indexed.length).toBe(700 - second.metrics.custom.numKeysEvicted!);
    });
  });
}
