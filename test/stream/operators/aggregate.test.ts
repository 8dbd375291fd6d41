// aggregate(): streaming aggregation semantics (Spark's output modes, watermark eviction, late rows,
// planning refusals), driven in virtual time through the StateStore seam — no engine, no sleeps.

import { describe, expect, it } from 'vitest';
import type { StructType } from '../../../sinks/schema.js';
import { decodeKey, type KeyPart } from '../../../state/codec.js';
import { MemoryStateStoreProvider } from '../../../state/memory-store.js';
import type {
  DeadLetter,
  OperatorMetrics,
  OperatorSpec,
  PlanContext,
  StreamOperator,
  WatermarkSpec,
} from '../../../stream/operator.js';
import { aggregate } from '../../../stream/operators/aggregate.js';
import { avg, count, countDistinct, max, min, sum } from '../../../stream/operators/aggregations.js';
import { window } from '../../../stream/operators/window.js';
import type { OutputMode, Row, RowGroup } from '../../../stream/types.js';
import { prng } from '../../kit/prng.js';

const MIN = 60_000;
const T0 = Date.parse('2024-01-01T12:00:00Z');
const at = (minutes: number, seconds = 0): Date => new Date(T0 + minutes * MIN + seconds * 1000);
const win = (startMin: number, endMin: number) => ({ start: at(startMin), end: at(endMin) });

interface PlanOptions {
  mode: OutputMode;
  schema?: StructType;
  watermark?: WatermarkSpec;
  aggregated?: boolean;
  index?: number;
}

function planOf(spec: OperatorSpec, options: PlanOptions): StreamOperator {
  const context: PlanContext = {
    index: options.index ?? 1,
    outputMode: options.mode,
    schema: options.schema,
    watermark: options.watermark,
    statefulUpstream: options.watermark ? ['withWatermark'] : [],
    aggregated: options.aggregated ?? false,
  };
  return spec.plan(context);
}

interface BatchResult {
  rows: Row[];
  metrics: OperatorMetrics;
  letters: Omit<DeadLetter, 'operator'>[];
}

/** Runs batches like the engine would: state opened at N−1, processed, committed as N. */
class Harness {
  readonly op: StreamOperator;
  readonly provider: MemoryStateStoreProvider;
  nextBatch = 0;

  constructor(spec: OperatorSpec, options: PlanOptions, provider = new MemoryStateStoreProvider()) {
    this.op = planOf(spec, options);
    this.provider = provider;
  }

  async run(input: Row[] | RowGroup[], watermarkMs = 0, batchId = this.nextBatch): Promise<BatchResult> {
    const groups: RowGroup[] =
      input.length > 0 && 'partition' in input[0]! && 'rows' in input[0]!
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
      proposeWatermark: () => {
        throw new Error('aggregate must not propose a watermark');
      },
    });
    await store.commit(batchId);
    this.nextBatch = batchId + 1;
    for (const group of out) expect(group.partition).toBe(this.op.id);
    return { rows: out.flatMap((g) => g.rows), metrics, letters };
  }

  /** Decoded keys of the committed state (latest version). */
  async stateKeys(): Promise<KeyPart[][]> {
    const version = await this.provider.latestVersion(this.op.id);
    const store = await this.provider.open(this.op.id, version, this.op.state!);
    const keys: KeyPart[][] = [];
    for await (const entry of store.scan(new Uint8Array(0))) keys.push(decodeKey(entry.key));
    store.abort();
    return keys;
  }
}

const ALL_AGGS = {
  events: count(),
  withAmount: count('amount'),
  total: sum('amount'),
  lo: min('amount'),
  hi: max('amount'),
  mean: avg('amount'),
  users: countDistinct('userId'),
};

// ---------------------------------------------------------------------------------------------
// An independent reference: brute-force window membership and plain folds over all rows.

interface RefConfig {
  groupBy: string[];
  window?: { column: string; size: number; slide: number };
}

function refStarts(t: number, size: number, slide: number): number[] {
  const out: number[] = [];
  for (let s = Math.floor((t - size) / slide) * slide - slide; s <= t; s += slide)
    if (s <= t && t < s + size) out.push(s);
  return out;
}

function toMs(v: unknown): number {
  return v instanceof Date ? v.getTime() : typeof v === 'string' ? Date.parse(v) : (v as number);
}

/** Complete-mode output for ALL_AGGS computed without the operator's code. */
function reference(rows: Row[], config: RefConfig): Row[] {
  const groups = new Map<string, { start: number | undefined; keys: unknown[]; rows: Row[] }>();
  for (const row of rows) {
    const starts = config.window
      ? refStarts(toMs(row[config.window.column]), config.window.size, config.window.slide)
      : [undefined];
    for (const start of starts) {
      const keys = config.groupBy.map((c) => row[c] ?? null);
      const id = JSON.stringify([start, keys]);
      const group = groups.get(id) ?? { start, keys, rows: [] };
      group.rows.push(row);
      groups.set(id, group);
    }
  }
  const keyOrder = (a: unknown, b: unknown): number =>
    a === b ? 0 : a === null ? -1 : b === null ? 1 : (a as string) < (b as string) ? -1 : 1;
  const sorted = [...groups.values()].sort((a, b) => {
    if (a.start !== b.start) return a.start! - b.start!;
    for (let i = 0; i < a.keys.length; i++) {
      const c = keyOrder(a.keys[i], b.keys[i]);
      if (c !== 0) return c;
    }
    return 0;
  });
  return sorted.map((g) => {
    const amounts = g.rows.map((r) => r.amount).filter((v): v is number => v !== null && v !== undefined);
    const out: Row = {};
    config.groupBy.forEach((c, i) => {
      out[c] = g.keys[i];
    });
    if (config.window && g.start !== undefined) {
      out.window = { start: new Date(g.start), end: new Date(g.start + config.window.size) };
    }
    out.events = g.rows.length;
    out.withAmount = amounts.length;
    out.total = amounts.length ? amounts.reduce((s, v) => s + v, 0) : null;
    out.lo = amounts.length ? Math.min(...amounts) : null;
    out.hi = amounts.length ? Math.max(...amounts) : null;
    out.mean = amounts.length ? amounts.reduce((s, v) => s + v, 0) / amounts.length : null;
    out.users = new Set(g.rows.map((r) => r.userId).filter((u) => u !== null && u !== undefined)).size;
    return out;
  });
}

// ---------------------------------------------------------------------------------------------

describe('aggregate: tumbling windows', () => {
  const rows: Row[] = [
    { ts: at(1), key: 'a', amount: 10, userId: 'u1' },
    { ts: at(2), key: 'a', amount: 5, userId: 'u2' },
    { ts: at(3), key: 'a', amount: null, userId: 'u1' },
    { ts: at(9, 59), key: 'b', amount: 7, userId: null },
    { ts: at(10), key: 'a', amount: -3, userId: 'u3' },
    { ts: at(14).toISOString(), key: 'a', amount: 4, userId: 'u3' },
    { ts: at(25).getTime(), key: 'b', amount: 2.5, userId: 'u1' },
  ];

  it('computes count/sum/min/max/avg/countDistinct per (window, key)', async () => {
    const h = new Harness(aggregate({ groupBy: ['key'], window: window('ts', '10 minutes'), aggs: ALL_AGGS }), {
      mode: 'complete',
    });
    const { rows: out, metrics } = await h.run(rows);
    expect(out).toEqual([
      { key: 'a', window: win(0, 10), events: 3, withAmount: 2, total: 15, lo: 5, hi: 10, mean: 7.5, users: 2 },
      { key: 'b', window: win(0, 10), events: 1, withAmount: 1, total: 7, lo: 7, hi: 7, mean: 7, users: 0 },
      { key: 'a', window: win(10, 20), events: 2, withAmount: 2, total: 1, lo: -3, hi: 4, mean: 0.5, users: 1 },
      { key: 'b', window: win(20, 30), events: 1, withAmount: 1, total: 2.5, lo: 2.5, hi: 2.5, mean: 2.5, users: 1 },
    ]);
    expect(out).toEqual(
      reference(rows, { groupBy: ['key'], window: { column: 'ts', size: 10 * MIN, slide: 10 * MIN } }),
    );
    expect(metrics.custom).toEqual({ numGroupsUpdated: 4, numWindowsEmitted: 4, numWindowsEvicted: 0 });
  });

  it('gives null sum/min/max/avg for a group with only null values, and keeps bigints and Dates', async () => {
    const h = new Harness(
      aggregate({
        window: window('ts', '10 minutes'),
        aggs: { n: count('v'), s: sum('v'), a: avg('v'), first: min('ts'), last: max('ts'), big: sum('b') },
      }),
      { mode: 'update' },
    );
    const { rows: out } = await h.run([
      { ts: at(1), v: null, b: 2n ** 60n },
      { ts: at(2), v: undefined, b: 2n ** 60n },
    ]);
    expect(out).toEqual([{ window: win(0, 10), n: 0, s: null, a: null, first: at(1), last: at(2), big: 2n ** 61n }]);
    // Restored from state in the next batch: the Date and bigint types survive the codec.
    const { rows: next } = await h.run([{ ts: at(3), v: 4, b: 1n }]);
    expect(next).toEqual([{ window: win(0, 10), n: 1, s: 4, a: 4, first: at(1), last: at(3), big: 2n ** 61n + 1n }]);
  });
});

describe('aggregate: sliding windows', () => {
  it('adds a row to every window containing it (Spark: 12:07 → [12:00,12:10) and [12:05,12:15))', async () => {
    const h = new Harness(
      aggregate({ window: window('ts', '10 minutes', '5 minutes'), aggs: { n: count(), total: sum('amount') } }),
      { mode: 'complete' },
    );
    const { rows: out } = await h.run([
      { ts: at(7), amount: 1 },
      { ts: at(3), amount: 10 },
      { ts: at(12), amount: 100 },
    ]);
    expect(out).toEqual([
      { window: win(-5, 5), n: 1, total: 10 },
      { window: win(0, 10), n: 2, total: 11 },
      { window: win(5, 15), n: 2, total: 101 },
      { window: win(10, 20), n: 1, total: 100 },
    ]);
  });
});

describe('aggregate: output modes', () => {
  const spec = () =>
    aggregate({ groupBy: ['key'], window: window('ts', '10 minutes'), aggs: { n: count(), total: sum('amount') } });
  const watermark = { column: 'ts', delayMs: 5 * MIN };

  it('append: writes a window once, in the first batch whose watermark >= its end, then drops its state', async () => {
    const h = new Harness(spec(), { mode: 'append', watermark });
    expect(h.op.runsOnWatermarkAdvance).toBe(true);
    const b0 = await h.run([
      { ts: at(1), key: 'a', amount: 1 },
      { ts: at(2), key: 'b', amount: 2 },
      { ts: at(12), key: 'a', amount: 3 },
    ]);
    expect(b0.rows).toEqual([]);
    // The watermark (max event time − delay, computed after batch 0) is 12:07: nothing closed yet.
    const b1 = await h.run([{ ts: at(8), key: 'a', amount: 4 }], at(7).getTime());
    expect(b1.rows).toEqual([]);
    // Watermark reaches exactly 12:10: window [12:00, 12:10) closes (end <= watermark).
    const b2 = await h.run([{ ts: at(15), key: 'b', amount: 5 }], at(10).getTime());
    expect(b2.rows).toEqual([
      { key: 'a', window: win(0, 10), n: 2, total: 5 },
      { key: 'b', window: win(0, 10), n: 1, total: 2 },
    ]);
    expect(b2.metrics.custom).toMatchObject({ numWindowsEmitted: 2, numWindowsEvicted: 2 });
    // Never again, even with a higher watermark; a row for the closed window is late.
    const b3 = await h.run([{ ts: at(9), key: 'a', amount: 100 }], at(12).getTime());
    expect(b3.rows).toEqual([]);
    expect(b3.metrics.numRowsDroppedByWatermark).toBe(1);
    // A no-data batch when only the watermark moved closes [12:10, 12:20).
    const b4 = await h.run([], at(20).getTime());
    expect(b4.rows).toEqual([
      { key: 'a', window: win(10, 20), n: 1, total: 3 },
      { key: 'b', window: win(10, 20), n: 1, total: 5 },
    ]);
    expect(await h.stateKeys()).toEqual([]);
  });

  it('update: writes only the groups changed by the batch, with their current value', async () => {
    const h = new Harness(spec(), { mode: 'update' });
    const b0 = await h.run([
      { ts: at(1), key: 'a', amount: 1 },
      { ts: at(2), key: 'b', amount: 2 },
    ]);
    expect(b0.rows).toEqual([
      { key: 'a', window: win(0, 10), n: 1, total: 1 },
      { key: 'b', window: win(0, 10), n: 1, total: 2 },
    ]);
    const b1 = await h.run([
      { ts: at(3), key: 'b', amount: 10 },
      { ts: at(11), key: 'a', amount: 7 },
    ]);
    expect(b1.rows).toEqual([
      { key: 'b', window: win(0, 10), n: 2, total: 12 },
      { key: 'a', window: win(10, 20), n: 1, total: 7 },
    ]);
    expect(b1.metrics.custom).toEqual({ numGroupsUpdated: 2, numWindowsEmitted: 2, numWindowsEvicted: 0 });
    expect((await h.run([])).rows).toEqual([]);
  });

  it('update with a watermark: evicts closed windows silently and drops late rows', async () => {
    const h = new Harness(spec(), { mode: 'update', watermark });
    await h.run([
      { ts: at(1), key: 'a', amount: 1 },
      { ts: at(11), key: 'a', amount: 2 },
    ]);
    const b1 = await h.run(
      [
        { ts: at(4), key: 'a', amount: 5 }, // window [12:00, 12:10) closed at watermark 12:10: late
        { ts: at(9, 59), key: 'b', amount: 5 }, // same window: late
        { ts: at(13), key: 'a', amount: 3 },
      ],
      at(10).getTime(),
    );
    expect(b1.rows).toEqual([{ key: 'a', window: win(10, 20), n: 2, total: 5 }]);
    expect(b1.metrics.numRowsDroppedByWatermark).toBe(2);
    expect(b1.metrics.custom).toEqual({ numGroupsUpdated: 1, numWindowsEmitted: 1, numWindowsEvicted: 1 });
    const keys = await h.stateKeys();
    expect(keys.filter((k) => k[0] === 'g')).toEqual([['g', at(10).getTime(), 'a']]);
    expect(keys.filter((k) => k[0] === 'i')).toEqual([['i', at(20).getTime(), at(10).getTime(), 'a']]);
  });

  it('complete: writes every group every batch and never evicts, even with a watermark', async () => {
    const h = new Harness(spec(), { mode: 'complete', watermark });
    expect(h.op.runsOnWatermarkAdvance).toBe(false);
    await h.run([{ ts: at(1), key: 'a', amount: 1 }]);
    const b1 = await h.run([{ ts: at(21), key: 'b', amount: 2 }], at(30).getTime());
    expect(b1.rows).toEqual([
      { key: 'a', window: win(0, 10), n: 1, total: 1 },
      { key: 'b', window: win(20, 30), n: 1, total: 2 },
    ]);
    // Spark keeps all state in complete mode, so a row behind the watermark still counts.
    const b2 = await h.run([{ ts: at(2), key: 'a', amount: 1 }], at(40).getTime());
    expect(b2.metrics.numRowsDroppedByWatermark).toBe(0);
    expect(b2.rows).toEqual([
      { key: 'a', window: win(0, 10), n: 2, total: 2 },
      { key: 'b', window: win(20, 30), n: 1, total: 2 },
    ]);
    expect(b2.metrics.custom).toEqual({ numGroupsUpdated: 1, numWindowsEmitted: 2, numWindowsEvicted: 0 });
  });

  it('complete: a non-windowed groupBy over several batches and partitions', async () => {
    const h = new Harness(aggregate({ groupBy: ['country', 'device'], aggs: { n: count(), spent: sum('amount') } }), {
      mode: 'complete',
    });
    expect(h.op.keyColumns).toEqual(['country', 'device']);
    await h.run([
      { partition: 't-0', rows: [{ country: 'fr', device: 'ios', amount: 3 }] },
      {
        partition: 't-1',
        rows: [
          { country: 'de', device: 'web', amount: 1 },
          { country: 'fr', device: 'ios', amount: 4 },
        ],
      },
    ]);
    const { rows: out } = await h.run([{ country: 'de', device: null, amount: 2 }]);
    expect(out).toEqual([
      { country: 'de', device: null, n: 1, spent: 2 },
      { country: 'de', device: 'web', n: 1, spent: 1 },
      { country: 'fr', device: 'ios', n: 2, spent: 7 },
    ]);
  });

  it('append with a non-windowed groupBy on the watermark column: a key closes when the watermark passes it', async () => {
    const h = new Harness(aggregate({ groupBy: ['minute', 'key'], aggs: { n: count() } }), {
      mode: 'append',
      watermark: { column: 'minute', delayMs: 0 },
    });
    expect(h.op.watermark).toEqual({ column: 'minute', delayMs: 0 });
    await h.run([
      { minute: at(1), key: 'a' },
      { minute: at(1), key: 'a' },
      { minute: at(2), key: 'a' },
    ]);
    const b1 = await h.run([{ minute: at(2), key: 'b' }], at(1).getTime());
    expect(b1.rows).toEqual([{ minute: at(1), key: 'a', n: 2 }]);
    const b2 = await h.run([{ minute: at(1), key: 'c' }], at(2).getTime());
    expect(b2.metrics.numRowsDroppedByWatermark).toBe(1);
    expect(b2.rows).toEqual([
      { minute: at(2), key: 'a', n: 1 },
      { minute: at(2), key: 'b', n: 1 },
    ]);
  });
});

describe('aggregate: countDistinct', () => {
  it('counts distinct values across batches, one state key per value, freed on eviction', async () => {
    const h = new Harness(
      aggregate({ groupBy: ['page'], window: window('ts', '1 hour'), aggs: { users: countDistinct('user') } }),
      { mode: 'append', watermark: { column: 'ts', delayMs: 0 } },
    );
    await h.run([
      { ts: at(1), page: '/', user: 'u1' },
      { ts: at(2), page: '/', user: 'u2' },
      { ts: at(3), page: '/', user: 'u1' },
      { ts: at(3), page: '/x', user: null },
    ]);
    await h.run([
      { ts: at(4), page: '/', user: 'u2' },
      { ts: at(5), page: '/', user: 'u3' },
      { ts: at(6), page: '/x', user: 'u1' },
    ]);
    const distinctKeys = (await h.stateKeys()).filter((k) => k[0] === 'd');
    expect(distinctKeys.map((k) => [k[2], k[4]])).toEqual([
      ['/', 'u1'],
      ['/', 'u2'],
      ['/', 'u3'],
      ['/x', 'u1'],
    ]);
    const b2 = await h.run([], at(60).getTime());
    expect(b2.rows).toEqual([
      { page: '/', window: win(0, 60), users: 3 },
      { page: '/x', window: win(0, 60), users: 1 },
    ]);
    expect(await h.stateKeys()).toEqual([]);
  });

  it('treats a Date and its epoch ms as one value', async () => {
    const h = new Harness(aggregate({ aggs: { n: countDistinct('v') } }), { mode: 'update' });
    const { rows: out } = await h.run([{ v: new Date(5) }, { v: 5 }, { v: 6 }]);
    expect(out).toEqual([{ n: 2 }]);
  });
});

describe('aggregate: bad rows', () => {
  it('sends rows with a null or unparseable event time, or unusable values, to the dead letters', async () => {
    const h = new Harness(
      aggregate({ groupBy: ['key'], window: window('ts', '10 minutes'), aggs: { total: sum('amount') } }),
      { mode: 'update' },
    );
    const bad1 = { ts: null, key: 'a', amount: 1 };
    const bad2 = { ts: 'yesterday', key: 'a', amount: 1 };
    const bad3 = { ts: at(1), key: { nested: true }, amount: 1 };
    const bad4 = { ts: at(1), key: 'a', amount: '12' };
    const { rows: out, letters } = await h.run([
      { partition: 'k-3', rows: [bad1, bad2, { ts: at(1), key: 'a', amount: 1 }, bad3, bad4] },
    ]);
    expect(out).toEqual([{ key: 'a', window: win(0, 10), total: 1 }]);
    expect(letters).toEqual([
      { partition: 'k-3', reason: "window column 'ts' is null", row: bad1 },
      { partition: 'k-3', reason: "window column 'ts' is not a timestamp: yesterday", row: bad2 },
      { partition: 'k-3', reason: expect.stringContaining("groupBy column 'key'"), row: bad3 },
      {
        partition: 'k-3',
        reason: "column 'amount' of aggs.total = sum(amount): expected a number or bigint, got string",
        row: bad4,
      },
    ]);
  });
});

describe('aggregate: planning', () => {
  const spec = () => aggregate({ groupBy: ['key'], window: window('ts', '10 minutes'), aggs: { n: count() } });
  const refused = (fn: () => unknown, code: string, message: RegExp): void => {
    expect(fn).toThrow(expect.objectContaining({ code, message: expect.stringMatching(message) }));
  };

  it('refuses append mode without a watermark', () => {
    refused(
      () => planOf(spec(), { mode: 'append' }),
      'UNSUPPORTED_OPERATION',
      /^Append output mode not supported when there are streaming aggregations on streaming DataFrames\/DataSets without watermark/,
    );
    refused(
      () => planOf(aggregate({ groupBy: ['key'], aggs: { n: count() } }), { mode: 'append' }),
      'UNSUPPORTED_OPERATION',
      /without watermark/,
    );
  });

  it('refuses append mode when the watermark is on neither the window column nor a groupBy column', () => {
    refused(
      () => planOf(spec(), { mode: 'append', watermark: { column: 'other', delayMs: 0 } }),
      'UNSUPPORTED_OPERATION',
      /watermark column 'other' is neither the window column 'ts' nor a groupBy column/,
    );
  });

  it('refuses an aggregation after an aggregation, in every mode', () => {
    for (const mode of ['append', 'update', 'complete'] as const) {
      refused(
        () => planOf(spec(), { mode, aggregated: true, watermark: { column: 'ts', delayMs: 0 } }),
        'UNSUPPORTED_OPERATION',
        /^Multiple streaming aggregations are not supported/,
      );
    }
  });

  it('refuses columns missing from a known input schema, and sums of non-numeric columns', () => {
    const schema: StructType = {
      type: 'struct',
      fields: [
        { name: 'key', type: 'string', nullable: true, metadata: {} },
        { name: 'event_time', type: 'timestamp', nullable: true, metadata: {} },
        { name: 'price', type: 'decimal(10,2)', nullable: true, metadata: {} },
      ],
    };
    refused(
      () => planOf(spec(), { mode: 'update', schema }),
      'INVALID_ARGUMENT',
      /window column 'ts' is not in the input/,
    );
    refused(
      () => planOf(aggregate({ groupBy: ['nope'], aggs: { n: count() } }), { mode: 'update', schema }),
      'INVALID_ARGUMENT',
      /groupBy column 'nope' is not in the input/,
    );
    refused(
      () => planOf(aggregate({ aggs: { s: sum('key') } }), { mode: 'update', schema }),
      'INVALID_ARGUMENT',
      /sum needs a numeric column/,
    );
    refused(
      () => planOf(aggregate({ aggs: { s: sum('price') } }), { mode: 'update', schema }),
      'UNSUPPORTED_OPERATION',
      /sum over a decimal\(10,2\) column is not supported yet/,
    );
    refused(
      () =>
        planOf(aggregate({ window: window('key', '1 hour'), aggs: {} }), {
          mode: 'update',
          schema: { type: 'struct', fields: [{ name: 'key', type: 'boolean', nullable: true, metadata: {} }] },
        }),
      'INVALID_ARGUMENT',
      /needs a timestamp column/,
    );
  });

  it('refuses bad windows and clashing output names', () => {
    refused(
      () => aggregate({ window: { column: 'ts', sizeMs: 5, slideMs: 10, startMs: 0 }, aggs: { n: count() } }),
      'INVALID_ARGUMENT',
      /slide duration .* must be less than or equal to the window duration/,
    );
    refused(
      () => aggregate({ window: { column: 'ts', sizeMs: 0, slideMs: 0, startMs: 0 }, aggs: { n: count() } }),
      'INVALID_ARGUMENT',
      /size must be a positive/,
    );
    refused(() => aggregate({ groupBy: ['n'], aggs: { n: count() } }), 'INVALID_ARGUMENT', /'n' appears twice/);
    refused(
      () => aggregate({ window: window('ts', 1000), aggs: { window: count() } }),
      'INVALID_ARGUMENT',
      /'window' appears twice/,
    );
    refused(
      () => aggregate({ aggs: { n: 'count' as unknown as ReturnType<typeof count> } }),
      'INVALID_ARGUMENT',
      /aggs.n is not an aggregate function/,
    );
  });

  it('allows update and complete modes with or without a watermark', () => {
    for (const mode of ['update', 'complete'] as const) {
      for (const watermark of [undefined, { column: 'ts', delayMs: 0 }, { column: 'other', delayMs: 0 }]) {
        const op = planOf(spec(), { mode, watermark });
        expect(op.kind).toBe('aggregate');
        expect(op.id).toBe('1-aggregate');
        expect(op.aggregation).toBe(true);
        expect(op.keyColumns).toEqual(['key', 'window']);
      }
    }
    expect(planOf(spec(), { mode: 'update', watermark: { column: 'other', delayMs: 0 } }).runsOnWatermarkAdvance).toBe(
      false,
    );
  });

  it("computes Spark's output schema when the input types are known", () => {
    const schema: StructType = {
      type: 'struct',
      fields: [
        { name: 'key', type: 'string', nullable: false, metadata: { comment: 'k' } },
        { name: 'ts', type: 'timestamp', nullable: true, metadata: {} },
        { name: 'qty', type: 'integer', nullable: true, metadata: {} },
        { name: 'price', type: 'double', nullable: true, metadata: {} },
        { name: 'user', type: 'string', nullable: true, metadata: {} },
      ],
    };
    const op = planOf(
      aggregate({
        groupBy: ['key'],
        window: window('ts', '10 minutes'),
        aggs: {
          n: count(),
          q: sum('qty'),
          p: sum('price'),
          lo: min('ts'),
          hi: max('user'),
          mean: avg('qty'),
          users: countDistinct('user'),
        },
      }),
      { mode: 'update', schema },
    );
    const field = (name: string, type: unknown, nullable: boolean) => ({ name, type, nullable, metadata: {} });
    expect(op.schema).toEqual({
      type: 'struct',
      fields: [
        { name: 'key', type: 'string', nullable: false, metadata: { comment: 'k' } },
        field(
          'window',
          { type: 'struct', fields: [field('start', 'timestamp', true), field('end', 'timestamp', true)] },
          false,
        ),
        field('n', 'long', false),
        field('q', 'long', true),
        field('p', 'double', true),
        field('lo', 'timestamp', true),
        field('hi', 'string', true),
        field('mean', 'double', true),
        field('users', 'long', false),
      ],
    });
    // Unknown input: no schema unless nothing depends on input types.
    expect(planOf(aggregate({ groupBy: ['key'], aggs: { n: count() } }), { mode: 'update' }).schema).toBeUndefined();
    expect(planOf(aggregate({ aggs: { m: min('x') } }), { mode: 'update' }).schema).toBeUndefined();
    expect(
      planOf(aggregate({ window: window('ts', 1000), aggs: { n: count(), d: countDistinct('u') } }), {
        mode: 'update',
      }).schema?.fields.map((f) => f.name),
    ).toEqual(['window', 'n', 'd']);
  });

  it('refuses to reuse state written by a different aggregation', async () => {
    const provider = new MemoryStateStoreProvider();
    const first = new Harness(spec(), { mode: 'update' }, provider);
    await first.run([{ ts: at(1), key: 'a' }]);
    const changed = new Harness(
      aggregate({ groupBy: ['key'], window: window('ts', '10 minutes'), aggs: { n: count(), s: sum('x') } }),
      { mode: 'update' },
      provider,
    );
    await expect(changed.run([{ ts: at(1), key: 'a' }], 0, 1)).rejects.toMatchObject({ code: 'STATE_INCOMPATIBLE' });
  });
});

describe('aggregate: determinism', () => {
  it('replaying batch N from state N−1 gives identical output', async () => {
    const h = new Harness(
      aggregate({ groupBy: ['key'], window: window('ts', '10 minutes', '5 minutes'), aggs: ALL_AGGS }),
      { mode: 'update', watermark: { column: 'ts', delayMs: 0 } },
    );
    await h.run([
      { ts: at(1), key: 'b', amount: 1, userId: 'x' },
      { ts: at(6), key: 'a', amount: 2, userId: 'y' },
    ]);
    const batch1: RowGroup[] = [
      {
        partition: 'p1',
        rows: [
          { ts: at(7), key: 'a', amount: 3, userId: 'x' },
          { ts: at(2), key: 'b', amount: null, userId: 'z' },
        ],
      },
      { partition: 'p0', rows: [{ ts: at(16), key: 'c', amount: 5, userId: 'y' }] },
    ];
    const first = await h.run(batch1, at(5).getTime(), 1);
    const replay = await h.run(batch1, at(5).getTime(), 1);
    expect(replay.rows).toEqual(first.rows);
    expect(replay.metrics).toEqual(first.metrics);
    // And the state after the replay equals the state after the first run: the next batch agrees.
    const next = await h.run([{ ts: at(8), key: 'a', amount: 1, userId: 'x' }], at(5).getTime(), 2);
    expect(next.rows).toEqual([
      { key: 'a', window: win(0, 10), events: 3, withAmount: 3, total: 6, lo: 1, hi: 3, mean: 2, users: 2 },
      { key: 'a', window: win(5, 15), events: 3, withAmount: 3, total: 6, lo: 1, hi: 3, mean: 2, users: 2 },
    ]);
  });

  it('randomized: complete-mode output equals an independent computation over all rows so far', async () => {
    for (const seed of [1, 2, 3]) {
      const random = prng(seed);
      const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)]!;
      const sliding = seed !== 1;
      const size = 10 * MIN;
      const slide = sliding ? 5 * MIN : size;
      const h = new Harness(
        aggregate({
          groupBy: ['key'],
          window: window('ts', size, sliding ? slide : undefined),
          aggs: ALL_AGGS,
        }),
        { mode: 'complete' },
      );
      const all: Row[] = [];
      for (let batch = 0; batch < 8; batch++) {
        const groups: RowGroup[] = [];
        for (const partition of ['p0', 'p1']) {
          const rows: Row[] = [];
          const n = Math.floor(random() * 12);
          for (let i = 0; i < n; i++) {
            const ms = T0 + Math.floor(random() * 90 * MIN);
            rows.push({
              ts:
                pick(['date', 'ms', 'iso'] as const) === 'date'
                  ? new Date(ms)
                  : random() < 0.5
                    ? ms
                    : new Date(ms).toISOString(),
              key: pick(['a', 'b', 'c', null]),
              amount: random() < 0.2 ? null : Math.floor(random() * 201) - 100,
              userId: pick(['u1', 'u2', 'u3', 'u4', null]),
            });
          }
          groups.push({ partition, rows });
          all.push(...rows);
        }
        const { rows: out } = await h.run(groups);
        expect(out, `seed ${seed}, batch ${batch}`).toEqual(
          reference(all, { groupBy: ['key'], window: { column: 'ts', size, slide } }),
        );
      }
    }
  });
});
