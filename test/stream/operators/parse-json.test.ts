// parseJson(schema): rows out, dead letters with the field path, kept columns, and values that are
// already parsed objects (never aliased or mutated).

import { afterAll, describe, expect, it } from 'vitest';
import { YIELD_EVERY_ROWS } from '../../../common/yield.js';
import type { DataType, StructType } from '../../../sinks/schema.js';
import { rowsOf } from '../../../stream/column-rows.js';
import { jsonValueConformer } from '../../../stream/input/conform-json.js';
import { defaultScanPool, SCAN_POOL_SIZE_ENV } from '../../../stream/input/scan-pool.js';
import type { BatchContext, DeadLetter } from '../../../stream/operator.js';
import { parseJson } from '../../../stream/operators/parse-json.js';
import type { Row } from '../../../stream/types.js';
import { withTurnCount } from '../../kit/event-loop-turns.js';
import { prng } from '../../kit/prng.js';

const field = (name: string, type: DataType) => ({ name, type, nullable: true, metadata: {} });
const SCHEMA: StructType = {
  type: 'struct',
  fields: [
    field('id', 'string'),
    field('n', 'long'),
    field('q', 'integer'),
    field('price', 'double'),
    field('ok', 'boolean'),
    field('ts', 'timestamp'),
    field('day', 'date'),
    field('tags', { type: 'array', elementType: 'long', containsNull: true }),
  ],
};

async function run(
  rows: Row[],
  options: Parameters<typeof parseJson>[1] = {},
  schema = SCHEMA,
  columnar = false,
): Promise<{ rows: Row[]; deadLetters: Omit<DeadLetter, 'operator'>[]; columns?: number }> {
  const planned = parseJson(schema, options).plan({
    index: 0,
    outputMode: 'append',
    schema: undefined,
    watermark: undefined,
    statefulUpstream: [],
    aggregated: false,
  });
  const operator = columnar ? planned.columnar!() : planned;
  const deadLetters: Omit<DeadLetter, 'operator'>[] = [];
  const ctx = {
    batchId: 0,
    batchTimestampMs: 0,
    watermarkMs: 0,
    state: undefined,
    metrics: { numRowsDroppedByWatermark: 0, numDeadLetters: 0, custom: {} },
    deadLetter: (letter) => deadLetters.push(letter),
    proposeWatermark: () => {},
  } satisfies BatchContext;
  const out = await operator.process([{ partition: 'p0', rows }], ctx);
  const columns = out[0]!.columns;
  return {
    rows: columns === undefined ? out[0]!.rows : [...rowsOf(columns), ...out[0]!.rows],
    deadLetters,
    ...(columns !== undefined ? { columns: columns.batch.length } : {}),
  };
}

/** Rows and their key order, so that a fresh row kept as is and a copied row compare alike. */
const shape = (row: Row) => Object.entries(row);

// The default scan pool (off unless configured) with one worker, for the large-group test below.
process.env[SCAN_POOL_SIZE_ENV] = '1';
afterAll(() => {
  delete process.env[SCAN_POOL_SIZE_ENV];
});

describe('parseJson', () => {
  it('gives the conformed rows and dead letters of random lines, kept columns included', async () => {
    const rand = prng(3);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
    const values: Record<string, readonly unknown[]> = {
      id: ['a', '', 'b-1', 7, null],
      n: [1, -5, 2 ** 53, 1.5, '', '3', null],
      q: [0, 2 ** 31, -(2 ** 31), 0.5, true],
      price: [1.25, 3, '', 'x', null],
      ok: [true, false, 1, null],
      ts: ['2024-01-02T03:04:05.123Z', '2024-01-02T03:04:05Z', '2024-01-02T03:04:05', '2024-02-30T00:00:00Z', ''],
      day: ['2024-01-02', '2024-02-30', '2024-1-2', ''],
      tags: [[1, 2], [], [1, null], ['a'], 'x', null],
    };
    const keys = Object.keys(values);
    const lines: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const r = rand();
      if (r < 0.03) lines.push(pick(['{"id":', 'null', '[1]', '"x"', '']));
      else {
        // Mostly every field in schema order (kept as is when it fits), else shuffled, missing or extra.
        const order = r < 0.7 ? keys : [...keys].sort(() => rand() - 0.5).slice(0, Math.floor(rand() * 9));
        const object: Record<string, unknown> = {};
        for (const key of order) object[key] = pick(values[key]!);
        if (rand() < 0.1) object.extra = 1;
        lines.push(JSON.stringify(object));
      }
    }
    const conform = jsonValueConformer(SCHEMA);
    const input = lines.map((value, offset) => ({ value, offset }));
    const { rows, deadLetters } = await run(input, { keep: ['offset'] });
    const expectedRows: Row[] = [];
    const expectedLetters: Omit<DeadLetter, 'operator'>[] = [];
    for (const row of input) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(row.value);
      } catch (error) {
        const reason = `column 'value' is not valid JSON (${(error as Error).message}): ${row.value}`;
        expectedLetters.push({ partition: 'p0', reason, row });
        continue;
      }
      const result = conform(parsed);
      if (result.ok) expectedRows.push({ ...result.row, offset: row.offset });
      else {
        const reason = result.field ? `field '${result.field}': ${result.reason}` : result.reason;
        expectedLetters.push({ partition: 'p0', reason, row });
      }
    }
    expect(rows.map(shape)).toEqual(expectedRows.map(shape));
    expect(deadLetters).toEqual(expectedLetters);
    expect(rows.length).toBeGreaterThan(300);
    expect(deadLetters.length).toBeGreaterThan(300);
    for (const row of rows) expect(Object.getPrototypeOf(row)).toBe(Object.prototype);
  });

  it('names the field of a rejected value', async () => {
    const { deadLetters } = await run([
      { value: '{"id":"a","tags":[1,"x"]}' },
      { value: '{"ts":"2024-01-02T03:04:05"}' },
      { value: '[]' },
    ]);
    expect(deadLetters.map((d) => d.reason)).toEqual([
      'field \'tags[1]\': the string "x" does not fit type long (expected an integer within 64 bits)',
      "field 'ts': the string \"2024-01-02T03:04:05\" does not fit type timestamp (expected an ISO-8601 string with a zone, e.g. '2024-01-02T03:04:05Z')",
      'an array does not fit type struct (expected an object)',
    ]);
  });

  it('copies already-parsed objects: the source row and its value are left alone', async () => {
    const value = {
      id: 'a',
      n: 1,
      q: 2,
      price: 1.5,
      ok: true,
      ts: '2024-01-02T03:04:05Z',
      day: '2024-01-02',
      tags: [],
    };
    const source = { value, offset: 9 };
    const before = structuredClone(source);
    const { rows } = await run([source], { keep: ['offset'] });
    expect(rows).toEqual([{ ...value, offset: 9 }]);
    expect(rows[0]).not.toBe(value);
    expect(source).toEqual(before);
  });

  it('parses bytes and routes null values, keeping __proto__ keys as own data', async () => {
    const schema: StructType = { type: 'struct', fields: [field('__proto__', 'string'), field('a', 'long')] };
    const bytes = new TextEncoder().encode('{"__proto__":"x","a":1}');
    const { rows, deadLetters } = await run(
      [{ value: bytes }, { value: '{"__proto__":{"p":1},"a":2}' }, { value: null }],
      {},
      schema,
    );
    expect(rows.map((row) => [Object.getPrototypeOf(row) === Object.prototype, Object.entries(row)])).toEqual([
      [
        true,
        [
          ['__proto__', 'x'],
          ['a', 1],
        ],
      ],
      [
        true,
        [
          ['__proto__', '{"p":1}'],
          ['a', 2],
        ],
      ],
    ]);
    expect(deadLetters.map((d) => d.reason)).toEqual(["column 'value' is null"]);
  });

  it('columnar: groups after a longer one (its packing buffer reused) scan exactly their own records', async () => {
    const schema: StructType = { type: 'struct', fields: [field('id', 'string'), field('n', 'long')] };
    const operator = parseJson(schema).plan({
      index: 0,
      outputMode: 'append',
      schema: undefined,
      watermark: undefined,
      statefulUpstream: [],
      aggregated: false,
    }).columnar!();
    const letters: unknown[] = [];
    const ctx = {
      batchId: 0,
      batchTimestampMs: 0,
      watermarkMs: 0,
      state: undefined,
      metrics: { numRowsDroppedByWatermark: 0, numDeadLetters: 0, custom: {} },
      deadLetter: (letter) => letters.push((letter.row as Row).value),
      proposeWatermark: () => {},
    } satisfies BatchContext;
    const group = (k: number, n: number, pad: string) =>
      Array.from({ length: n }, (_, i) => ({
        value: i === n - 1 ? `{"id":"${k}` : `{"id":"${k}-${i}${pad}","n":${i}}`,
      }));
    // Long, then short records (a truncated last one), then longer than both; in one call and one each.
    const inputs = [group(0, 300, 'x'.repeat(200)), group(1, 50, ''), group(2, 20, 'é'.repeat(400))];
    const expected = inputs.map((rows) =>
      rows.slice(0, -1).map((r, i) => ({ id: JSON.parse(`${r.value}`).id as string, n: i })),
    );
    const once = await operator.process(
      inputs.map((rows, k) => ({ partition: `p${k}`, rows: [...rows] })),
      ctx,
    );
    for (const [k, rows] of inputs.entries()) {
      const [out] = await operator.process([{ partition: `p${k}`, rows: [...rows] }], ctx);
      expect(out!.columns).toBeDefined();
      expect([...rowsOf(out!.columns!)]).toEqual(expected[k]);
      expect([...rowsOf(once[k]!.columns!)]).toEqual(expected[k]);
    }
    expect(letters).toEqual([...inputs, ...inputs].map((rows) => rows.at(-1)!.value));
  });

  it('yields to the event loop between slices of a large group, on each path, with the same output', async () => {
    const schema: StructType = { type: 'struct', fields: [field('id', 'string'), field('n', 'long')] };
    const input: Row[] = Array.from({ length: 10_000 }, (_, i) => ({
      value: i % 997 === 0 ? '{bad' : `{"id":"e${i}","n":${i}}`,
    }));
    // The row path; columns scanned in the scan pool (a large group of text records); columns scanned
    // on this thread (a record only the row path takes: a null).
    for (const path of ['rows', 'pool', 'here'] as const) {
      const rows = path === 'here' ? [...input.slice(0, 5_000), { value: null }, ...input.slice(5_000)] : input;
      const tasks = defaultScanPool()?.tasks ?? 0;
      const { value: out, turns } = await withTurnCount(() => run(rows, {}, schema, path !== 'rows'));
      expect(defaultScanPool()?.tasks ?? 0).toBe(path === 'pool' ? tasks + 1 : tasks);
      // 10 000 rows in slices: the loop ran between them (a synchronous pass would give 0 turns).
      expect(turns).toBeGreaterThanOrEqual(Math.floor(9_999 / YIELD_EVERY_ROWS));
      expect(out.columns).toBe(path === 'rows' ? undefined : 10_000 - 11);
      expect(out.rows.map((r) => r.n)).toEqual(input.flatMap((_, i) => (i % 997 === 0 ? [] : [i])));
      const letters = out.deadLetters.map((l) => (l.row as Row).value);
      expect(letters).toEqual(
        path === 'here' ? [...Array(6).fill('{bad'), null, ...Array(5).fill('{bad')] : Array(11).fill('{bad'),
      );
    }
  });
});
