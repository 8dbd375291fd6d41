// Column statistics from encodeRows: UTF-8 string order, which leaves get stats, and null counts and
// min/max of seeded random data, checked against an independent computation and against pyarrow.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ColumnStats, compareUtf8, encodeRows } from '../../../sinks/parquet/index.js';
import type { DataType, StructField, StructType } from '../../../sinks/schema.js';
import { pythonReaders } from '../../kit/capabilities.js';
import { requireCapability } from '../../kit/capability.js';
import { prng } from '../../kit/prng.js';
import { PythonSession } from '../../kit/python.js';

const cap = await requireCapability(pythonReaders);

const field = (name: string, type: DataType, nullable = true): StructField => ({ name, type, nullable, metadata: {} });
const struct = (...fields: StructField[]): StructType => ({ type: 'struct', fields });
const sign = (n: number) => (n < 0 ? -1 : n > 0 ? 1 : 0);

describe('compareUtf8', () => {
  it('orders like the UTF-8 bytes of the strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'grapheme' }), (a, b) => {
        expect(sign(compareUtf8(a, b))).toBe(sign(Buffer.compare(Buffer.from(a), Buffer.from(b))));
      }),
      { numRuns: 2000 },
    );
  });

  it('puts supplementary characters after U+E000–U+FFFF, unlike UTF-16 order', () => {
    const high = '\uffee';
    const astral = '😀';
    expect(astral < high).toBe(true); // JS compares UTF-16 code units
    expect(compareUtf8(astral, high)).toBeGreaterThan(0);
    expect(Buffer.compare(Buffer.from(astral), Buffer.from(high))).toBeGreaterThan(0);
  });
});

describe('which leaves get statistics', () => {
  const schema = struct(
    field('a', 'integer'),
    field('st', struct(field('x', 'string'), field('inner', struct(field('y', 'double'))))),
    field('arr', { type: 'array', elementType: struct(field('e', 'long')), containsNull: true }),
    field('m', { type: 'map', keyType: 'string', valueType: 'long', valueContainsNull: true }),
    field('flag', 'boolean'),
    field('last', 'date'),
  );
  const leaves = ['a', 'st.x', 'st.inner.y', 'arr', 'm', 'flag', 'last'];
  const paths = (stats: ColumnStats[]) => stats.map((s) => s.path.join('.'));

  it('takes the first statsColumns leaves depth-first; arrays and maps count as one leaf', () => {
    for (let n = 0; n <= leaves.length + 1; n++) {
      expect(paths(encodeRows(schema, [], { statsColumns: n }).stats)).toEqual(leaves.slice(0, n));
    }
    expect(paths(encodeRows(schema, [], { statsColumns: -1 }).stats)).toEqual(leaves);
  });

  it('defaults to the first 32 leaves', () => {
    const wide = struct(...Array.from({ length: 40 }, (_, i) => field(`c${i}`, 'long')));
    const stats = encodeRows(wide, [{ c0: 1, c39: 2 }]).stats;
    expect(paths(stats)).toEqual(Array.from({ length: 32 }, (_, i) => `c${i}`));
  });

  it('gives arrays, maps, booleans and binary a null count but no min/max', () => {
    const s = struct(
      field('arr', { type: 'array', elementType: 'long', containsNull: true }),
      field('m', { type: 'map', keyType: 'string', valueType: 'long', valueContainsNull: true }),
      field('b', 'boolean'),
      field('bin', 'binary'),
    );
    const rows = [
      { arr: [1, 2], m: { a: 1 }, b: true, bin: new Uint8Array([1]) },
      { arr: null, m: null, b: null, bin: null },
      { arr: [], m: new Map(), b: false, bin: new Uint8Array(0) },
    ];
    expect(encodeRows(s, rows).stats).toEqual([
      { path: ['arr'], type: s.fields[0]?.type, nullCount: 1 },
      { path: ['m'], type: s.fields[1]?.type, nullCount: 1 },
      { path: ['b'], type: 'boolean', nullCount: 1 },
      { path: ['bin'], type: 'binary', nullCount: 1 },
    ]);
  });

  it('leaves NaN out of float bounds, and has no bounds when only NaN and nulls were written', () => {
    const s = struct(field('d', 'double'), field('f', 'float'), field('all', 'double'));
    const rows = [
      { d: Number.NaN, f: 2.5, all: Number.NaN },
      { d: 3, f: Number.NaN, all: null },
      { d: -1, f: Number.NEGATIVE_INFINITY, all: Number.NaN },
      { d: Number.NaN, f: null, all: Number.NaN },
    ];
    expect(encodeRows(s, rows).stats).toEqual([
      { path: ['d'], type: 'double', nullCount: 0, min: -1, max: 3 },
      { path: ['f'], type: 'float', nullCount: 1, min: Number.NEGATIVE_INFINITY, max: 2.5 },
      { path: ['all'], type: 'double', nullCount: 1 },
    ]);
  });
});

const DAY_MS = 86_400_000;
const MIN_DAY = -719162; // 0001-01-01
const MAX_DAY = 2932896; // 9999-12-31
const pad = (n: number | bigint, w: number) => String(n).padStart(w, '0');

/** 'YYYY-MM-DD' through Date (independent of the encoder's calendar code). */
function isoDay(days: number): string {
  return new Date(days * DAY_MS).toISOString().slice(0, 10);
}

/** ISO-8601 text of epoch µs at a UTC offset in minutes, through Date for the calendar part. */
function isoMicros(us: bigint, offsetMinutes: number): string {
  const local = us + BigInt(offsetMinutes) * 60_000_000n;
  const ms = local >= 0n ? local / 1000n : -((-local + 999n) / 1000n);
  const micro = Number(local - ms * 1000n);
  const base = new Date(Number(ms)).toISOString().slice(0, 23);
  const off =
    offsetMinutes === 0
      ? 'Z'
      : `${offsetMinutes < 0 ? '-' : '+'}${pad(Math.floor(Math.abs(offsetMinutes) / 60), 2)}:${pad(Math.abs(offsetMinutes) % 60, 2)}`;
  return `${base}${pad(micro, 3)}${off}`;
}

function decimalText(unscaled: bigint, scale: number): string {
  const negative = unscaled < 0n;
  const digits = pad(negative ? -unscaled : unscaled, scale + 1);
  return `${negative ? '-' : ''}${digits.slice(0, digits.length - scale)}.${digits.slice(digits.length - scale)}`;
}

const STRING_POOL = ['', 'a', 'abc', 'Zebra', 'é', 'ÿ', '中文', '\ue000', '\uffee', '😀', '😀x', 'a😀', 'zz', '~'];

const STATS_SCHEMA = struct(
  field('b', 'byte'),
  field('i', 'integer'),
  field('l', 'long'),
  field('f', 'float'),
  field('d', 'double'),
  field('s', 'string'),
  field('dt', 'date'),
  field('ts', 'timestamp'),
  field('dec', 'decimal(20,3)'),
  field('st', struct(field('x', 'integer'), field('deep', struct(field('s', 'string'), field('n', 'long', false))))),
);

interface Truth {
  b: number | null;
  i: number | null;
  l: bigint | null;
  f: number | null;
  d: number | null;
  s: string | null;
  dt: number | null;
  ts: bigint | null;
  dec: bigint | null;
  st: null | { x: number | null; deep: null | { s: string | null; n: bigint } };
}

/** Truth values and one rendering of each as an accepted JS input (varying the input form). */
function generate(seed: number, n: number): { truth: Truth[]; rows: Record<string, unknown>[] } {
  const r = prng(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)] as T;
  const maybe = <T>(f: () => T): T | null => (r() < 0.15 ? null : f());
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  const bigIn = (bits: number) => {
    let v = 0n;
    for (let k = 0; k < bits; k += 16) v = (v << 16n) | BigInt(int(0, 0xffff));
    return BigInt.asIntN(bits, v);
  };
  const truth: Truth[] = [];
  const rows: Record<string, unknown>[] = [];
  for (let k = 0; k < n; k++) {
    const t: Truth = {
      b: maybe(() => int(-128, 127)),
      i: maybe(() => int(-2147483648, 2147483647)),
      l: maybe(() => (r() < 0.5 ? BigInt(int(-1e9, 1e9)) : bigIn(64))),
      f: maybe(() => pick([Number.NaN, Number.POSITIVE_INFINITY, Math.fround((r() - 0.5) * 1e6), 0.1])),
      d: maybe(() => pick([Number.NaN, Number.NEGATIVE_INFINITY, (r() - 0.5) * 1e300, r()])),
      s: maybe(() => pick(STRING_POOL) + pick(STRING_POOL)),
      dt: maybe(() => int(MIN_DAY, MAX_DAY)),
      ts: maybe(
        () =>
          BigInt(int(MIN_DAY + 1, MAX_DAY - 1)) * 86_400_000_000n +
          BigInt(int(0, 86_399_999)) * 1000n +
          BigInt(int(0, 999)),
      ),
      dec: maybe(() => bigIn(64) % 10n ** 20n),
      st: maybe(() => ({
        x: maybe(() => int(-5, 5)),
        deep: maybe(() => ({ s: maybe(() => pick(STRING_POOL)), n: BigInt(int(-100, 100)) })),
      })),
    };
    truth.push(t);
    const row: Record<string, unknown> = {
      b: t.b,
      i: t.i,
      l: t.l === null ? null : r() < 0.5 && Number.isSafeInteger(Number(t.l)) ? Number(t.l) : t.l,
      f: t.f,
      d: t.d,
      s: t.s,
      dt: t.dt === null ? null : pick([isoDay(t.dt), new Date(t.dt * DAY_MS), t.dt]),
      ts:
        t.ts === null
          ? null
          : pick([isoMicros(t.ts, 0), isoMicros(t.ts, int(-18 * 60, 18 * 60)), t.ts, isoMicros(t.ts, -330)]),
      dec: t.dec === null ? null : r() < 0.5 ? decimalText(t.dec, 3) : { unscaled: t.dec },
      st: t.st === null ? (r() < 0.5 ? null : undefined) : { x: t.st.x, deep: t.st.deep && { ...t.st.deep } },
    };
    if (row.dec !== null && typeof row.dec === 'object') row.dec = (row.dec as { unscaled: bigint }).unscaled;
    rows.push(row);
  }
  return { truth, rows };
}

type Reduce = (values: unknown[]) => { min: unknown; max: unknown } | undefined;
const reduceBy =
  (cmp: (a: never, b: never) => number, report: (v: never) => unknown = (v) => v): Reduce =>
  (values) => {
    if (values.length === 0) return undefined;
    let min = values[0];
    let max = values[0];
    for (const v of values) {
      if (cmp(v as never, min as never) < 0) min = v;
      if (cmp(v as never, max as never) > 0) max = v;
    }
    return { min: report(min as never), max: report(max as never) };
  };
const numeric = reduceBy((a: number, b: number) => a - b);
const bigints = reduceBy((a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0));
const utf8 = reduceBy((a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b)));

/** Independent statistics of the truth values, in ColumnStats form. */
function expectedStats(truth: Truth[]): ColumnStats[] {
  const leaf = (path: string[], type: DataType, get: (t: Truth) => unknown, reduce: Reduce): ColumnStats => {
    const values = truth.map(get);
    const present = values.filter((v) => v !== null && v !== undefined && !(typeof v === 'number' && Number.isNaN(v)));
    const stats: ColumnStats = { path, type, nullCount: values.filter((v) => v === null || v === undefined).length };
    const bounds = reduce(present);
    return bounds ? { ...stats, ...bounds } : stats;
  };
  return [
    leaf(['b'], 'byte', (t) => t.b, numeric),
    leaf(['i'], 'integer', (t) => t.i, numeric),
    leaf(['l'], 'long', (t) => t.l, bigints),
    leaf(['f'], 'float', (t) => t.f, numeric),
    leaf(['d'], 'double', (t) => t.d, numeric),
    leaf(['s'], 'string', (t) => t.s, utf8),
    leaf(
      ['dt'],
      'date',
      (t) => t.dt,
      reduceBy((a: number, b: number) => a - b, isoDay),
    ),
    leaf(['ts'], 'timestamp', (t) => t.ts, bigints),
    leaf(
      ['dec'],
      'decimal(20,3)',
      (t) => t.dec,
      reduceBy(
        (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0),
        (v: bigint) => decimalText(v, 3),
      ),
    ),
    leaf(['st', 'x'], 'integer', (t) => t.st?.x, numeric),
    leaf(['st', 'deep', 's'], 'string', (t) => t.st?.deep?.s, utf8),
    leaf(['st', 'deep', 'n'], 'long', (t) => t.st?.deep?.n, bigints),
  ];
}

/** -0 and 0 are the same bound. */
const normalizeZero = (stats: ColumnStats[]) =>
  stats.map((s) => ({ ...s, min: s.min === 0 ? 0 : s.min, max: s.max === 0 ? 0 : s.max }));

describe('statistics of random data', () => {
  it.each([1, 2, 3, 4, 5, 6, 7, 8])('match an independent computation (seed %i)', (seed) => {
    const { truth, rows } = generate(seed, seed % 2 === 0 ? 300 : 5000);
    const { stats } = encodeRows(STATS_SCHEMA, rows);
    expect(normalizeZero(stats)).toEqual(normalizeZero(expectedStats(truth)));
  });
});

describe.skipIf(!cap.available)('statistics agree with pyarrow on the written file', () => {
  let py: PythonSession;
  beforeAll(() => {
    py = new PythonSession();
  });
  afterAll(async () => {
    await py?.close();
  });

  const COMPUTE = `
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import io, base64

table = pq.read_table(io.BytesIO(base64.b64decode(args["file"])))
out = {}
for path in args["paths"]:
    arr = table.column(path[0]).combine_chunks()
    for name in path[1:]:
        # flatten() applies the parent's validity, so a null struct makes its fields null.
        arr = arr.flatten()[arr.type.get_field_index(name)]
    nulls = arr.null_count
    if pa.types.is_floating(arr.type):
        arr = arr.filter(pc.invert(pc.is_nan(arr)))
    valid = arr.drop_null()
    entry = {"nullCount": nulls}
    if len(valid) > 0:
        mm = pc.min_max(valid)
        def show(v):
            if pa.types.is_timestamp(arr.type):
                return str(v.cast(pa.int64()).as_py())
            if pa.types.is_date(arr.type):
                return v.as_py().isoformat()
            if pa.types.is_decimal(arr.type):
                return str(v.as_py())
            if pa.types.is_int64(arr.type):
                return str(v.as_py())
            return v.as_py()
        entry["min"] = show(mm["min"])
        entry["max"] = show(mm["max"])
    out[".".join(path)] = entry
result = out
`;

  it.each([11, 12, 13])('for every leaf (seed %i)', async (seed) => {
    const { rows } = generate(seed, 3000);
    const { bytes, stats } = encodeRows(STATS_SCHEMA, rows);
    const fromPyarrow = await py.run<Record<string, { nullCount: number; min?: unknown; max?: unknown }>>(COMPUTE, {
      file: Buffer.from(bytes).toString('base64'),
      paths: stats.map((s) => s.path),
    });
    const ours = Object.fromEntries(
      stats.map((s) => {
        // As the Python worker sends them: int64 as text, ±Infinity as {$float}.
        const show = (v: unknown) =>
          typeof v === 'bigint'
            ? v.toString()
            : v === Number.POSITIVE_INFINITY
              ? { $float: 'inf' }
              : v === Number.NEGATIVE_INFINITY
                ? { $float: '-inf' }
                : v === 0
                  ? 0
                  : v;
        const entry: { nullCount: number; min?: unknown; max?: unknown } = { nullCount: s.nullCount };
        if (s.min !== undefined) {
          entry.min = show(s.min);
          entry.max = show(s.max);
        }
        return [s.path.join('.'), entry];
      }),
    );
    for (const entry of Object.values(fromPyarrow)) {
      if (entry.min === 0) entry.min = 0;
      if (entry.max === 0) entry.max = 0;
    }
    expect(ours).toEqual(fromPyarrow);
  });
});
