// ColumnBatch: rows appended into typed arrays give, through toArrow + arrowToParquet, the same
// Parquet bytes, statistics and dictionary choice as encodeRows (rowsToArrow) for the same rows —
// over seeded random rows of every supported type (nulls, non-ASCII, ±0, NaN, ±Infinity, longs beyond
// 2^53, zoned timestamps, dates), whole batches and sub-ranges, limited and unlimited statistics,
// dictionary on/off/auto; Date, day-number and epoch-ms values; the dictionary choice over texts of
// one instant. Rolled-back rows leave no trace; values encodeRows refuses are refused.
import type { Table, Vector } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { ColumnBatch, columnBatchSupports } from '../../../sinks/parquet/column-batch.js';
import { RejectedValue } from '../../../sinks/parquet/errors.js';
import { arrowToParquet, encodeRows, type ParquetWriteOptions, rowsToArrow } from '../../../sinks/parquet/index.js';
import type { DataType, StructField, StructType } from '../../../sinks/schema.js';
import { prng } from '../../kit/prng.js';

const field = (name: string, type: DataType, nullable = true): StructField => ({ name, type, nullable, metadata: {} });
const struct = (...fields: StructField[]): StructType => ({ type: 'struct', fields });

/** Every type a ColumnBatch holds; name, i and dt are non-nullable; rep/rl/rts repeat a few values. */
const SCHEMA = struct(
  field('s', 'string'),
  field('name', 'string', false),
  field('l', 'long'),
  field('i', 'integer', false),
  field('sh', 'short'),
  field('b', 'byte'),
  field('d', 'double'),
  field('bo', 'boolean'),
  field('ts', 'timestamp'),
  field('dt', 'date', false),
  field('rep', 'string'),
  field('rl', 'long'),
  field('rts', 'timestamp'),
);

type Row = Record<string, unknown>;

const PIECES = [
  'é',
  'ñandú',
  '日本語',
  '😀',
  '👩‍👩‍👧',
  '\uffee', // sorts below '😀' in UTF-16, above it in UTF-8
  '\u0000',
  'a\nb',
  '"quoted"',
  '\\',
  'Ω≈ç√',
  '\u007f',
  '\u0080',
  '\u07ff',
  '\u0800',
  '\ud7ff',
  '\ue000',
  '\u{10ffff}',
];

function generator(seed: number) {
  const rnd = prng(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const pad = (n: number, w: number) => String(n).padStart(w, '0');

  const ascii = () => {
    let s = '';
    const n = int(0, 12);
    for (let k = 0; k < n; k++) s += String.fromCharCode(int(0x20, 0x7e));
    return s;
  };
  const string = (): string => {
    const r = rnd();
    if (r < 0.1) return '';
    if (r < 0.5) return ascii();
    let s = '';
    const n = int(1, 3);
    for (let k = 0; k < n; k++) s += rnd() < 0.5 ? pick(PIECES) : ascii();
    return s;
  };
  const long = (): number | bigint => {
    const r = rnd();
    if (r < 0.05) return -0;
    if (r < 0.1) return pick([0, 1, -1, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]);
    if (r < 0.2) return pick([2n ** 63n - 1n, -(2n ** 63n), 2n ** 53n, -(2n ** 53n) - 1n, 5n, -7n, 0n]);
    if (r < 0.35) return BigInt(int(-1e6, 1e6)) * 12345678901n + BigInt(int(0, 1e6)) * 2n ** 40n;
    if (r < 0.7) return int(-1e6, 1e6);
    return Math.floor((rnd() - 0.5) * 2 * Number.MAX_SAFE_INTEGER);
  };
  const small = (lo: number, hi: number) => {
    const r = rnd();
    if (r < 0.05) return -0;
    if (r < 0.2) return pick([lo, hi, 0, -1, 1]);
    return int(lo, hi);
  };
  const double = (): number => {
    const r = rnd();
    if (r < 0.04) return -0;
    if (r < 0.08) return 0;
    if (r < 0.12) return Number.NaN;
    if (r < 0.15) return Number.POSITIVE_INFINITY;
    if (r < 0.18) return Number.NEGATIVE_INFINITY;
    if (r < 0.22) return pick([Number.MIN_VALUE, -Number.MIN_VALUE, Number.MAX_VALUE, -Number.MAX_VALUE, 0.1, 1e21]);
    if (r < 0.4) return int(-1000, 1000);
    return (rnd() - 0.5) * 10 ** int(-10, 12);
  };
  const date = (): string => {
    const y = rnd() < 0.1 ? pick([0, 1, 1582, 9999, 1969, 1970]) : int(1900, 2100);
    const m = int(1, 12);
    const dim =
      m === 2 ? (y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28) : [4, 6, 9, 11].includes(m) ? 30 : 31;
    return `${pad(y, 4)}-${pad(m, 2)}-${pad(int(1, dim), 2)}`;
  };
  const timestamp = (): string => {
    // Years 0001 and 9999 give microseconds beyond 2^53 (bigints).
    const day = rnd() < 0.1 ? pick(['0001-01-01', '9999-12-31', '1969-12-31', '1970-01-01']) : date();
    const sep = pick(['T', 'T', 'T', ' ', 't']);
    let time = `${pad(int(0, 23), 2)}:${pad(int(0, 59), 2)}`;
    if (rnd() < 0.9) {
      time += `:${pad(int(0, 59), 2)}`;
      const f = rnd();
      if (f < 0.2) time += `.${int(0, 9)}`;
      else if (f < 0.4) time += `.${pad(int(0, 999), 3)}`;
      else if (f < 0.6) time += `.${pad(int(0, 999999), 6)}`;
      else if (f < 0.7) time += `.${pad(int(0, 999999), 6)}000`; // 9 digits, zero below the microsecond
    }
    const zone = pick(['Z', 'Z', 'z', '+02:00', '-05:30', '+0530', '+05', '-00:00', '+23:59']);
    return `${day}${sep}${time}${zone}`;
  };
  const REPEATED = ['alpha', 'béta', '😀', ''];
  const REPEATED_LONGS: (number | bigint)[] = [7, -3, 2n ** 60n];
  const REPEATED_TS = ['2024-01-01T00:00:00Z', '2024-01-01T02:00:00+02:00', '2024-06-30T12:34:56.789Z'];

  const nullable = <T>(make: () => T): T | null | undefined => {
    const r = rnd();
    return r < 0.1 ? null : r < 0.15 ? undefined : make();
  };
  const row = (): Row => {
    const out: Row = {
      s: nullable(string),
      name: string(),
      l: nullable(long),
      i: small(-2147483648, 2147483647),
      sh: nullable(() => small(-32768, 32767)),
      b: nullable(() => small(-128, 127)),
      d: nullable(double),
      bo: nullable(() => rnd() < 0.5),
      ts: nullable(timestamp),
      dt: date(),
      rep: nullable(() => pick(REPEATED)),
      rl: nullable(() => pick(REPEATED_LONGS)),
      rts: nullable(() => pick(REPEATED_TS)),
    };
    // Missing properties are null too.
    for (const k of Object.keys(out)) if (out[k] === undefined) delete out[k];
    return out;
  };
  return { row, rnd, int };
}

function randomRows(seed: number, n: number): Row[] {
  const g = generator(seed);
  return Array.from({ length: n }, () => g.row());
}

function batchOf(rows: readonly Row[], schema: StructType = SCHEMA, capacity = rows.length): ColumnBatch {
  const batch = new ColumnBatch(schema, capacity);
  for (const r of rows) batch.appendRow(r);
  return batch;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return (
    Buffer.compare(
      Buffer.from(a.buffer, a.byteOffset, a.byteLength),
      Buffer.from(b.buffer, b.byteOffset, b.byteLength),
    ) === 0
  );
}

/** Row i's value of `column` as stored: null, the UTF-8 bytes of a string, the typed-array value. */
function stored(column: Vector, i: number, type: DataType): unknown {
  if (!column.isValid(i)) return null;
  if (type === 'boolean') return column.get(i);
  const data = column.data[0]!;
  if (type === 'string') {
    const offsets = data.valueOffsets as Int32Array;
    return Buffer.from(data.values.subarray(offsets[i]!, offsets[i + 1]!)).toString('hex');
  }
  return (data.values as ArrayLike<unknown>)[i];
}

const show = (v: unknown) =>
  typeof v === 'bigint' ? `${v}n` : Object.is(v, -0) ? '-0' : typeof v === 'number' ? String(v) : JSON.stringify(v);

/** The first stored value of each column that differs between `got` and `want`, with its input row value. */
function differences(schema: StructType, got: Table, want: Table, rows: readonly Row[]): string[] {
  const out: string[] = [];
  for (const f of schema.fields) {
    const a = got.getChild(f.name)!;
    const b = want.getChild(f.name)!;
    for (let i = 0; i < rows.length; i++) {
      const x = stored(a, i, f.type);
      const y = stored(b, i, f.type);
      if (!Object.is(x, y)) {
        out.push(`${f.name} of row ${i} (${show(rows[i]![f.name])}): ColumnBatch ${show(x)}, encodeRows ${show(y)}`);
        break;
      }
    }
  }
  return out;
}

/** Checks batch rows [start, end) against encodeRows of `rows` (the same rows) under `options`. */
function expectSameAsEncodeRows(
  batch: ColumnBatch,
  start: number,
  end: number,
  rows: readonly Row[],
  options: ParquetWriteOptions,
  schema: StructType = SCHEMA,
): string[] {
  const arrow = batch.toArrow(schema, start, end, options);
  const reference = rowsToArrow(schema, rows, options);
  const encoded = encodeRows(schema, rows, options);
  expect(arrow.table.numRows).toBe(rows.length);
  expect(differences(schema, arrow.table, reference.table, rows)).toEqual([]);
  expect(arrow.dictionaryColumns).toEqual(reference.dictionaryColumns);
  expect(arrow.stats).toEqual(encoded.stats);
  const bytes = arrowToParquet(arrow.table, options, arrow.dictionaryColumns);
  expect(sameBytes(bytes, encoded.bytes)).toBe(true);
  return arrow.dictionaryColumns;
}

const OPTIONS: [string, ParquetWriteOptions][] = [
  ['defaults (dictionary auto, 32 stats columns)', {}],
  ['statsColumns 3, dictionary auto', { statsColumns: 3, dictionary: 'auto' }],
  [
    'all stats columns, dictionary auto, uncompressed',
    { statsColumns: -1, dictionary: 'auto', compression: 'uncompressed' },
  ],
  ['no stats, dictionary everywhere', { statsColumns: 0, dictionary: true }],
  ['all stats, no dictionary, zstd', { statsColumns: -1, dictionary: false, compression: 'zstd' }],
  ['small row groups', { statsColumns: -1, rowGroupSize: 100 }],
];

describe('ColumnBatch.toArrow against encodeRows', () => {
  // More than 1024 rows: the dictionary choice samples the leading 1024 of the range.
  const rows = randomRows(20240611, 1500);
  const batch = batchOf(rows);

  it('holds every row appended', () => {
    expect(batch.length).toBe(rows.length);
  });

  for (const [label, options] of OPTIONS) {
    it(`whole batch: ${label}`, () => {
      const chosen = expectSameAsEncodeRows(batch, 0, rows.length, rows, options);
      if (options.dictionary === undefined || options.dictionary === 'auto') {
        // The repeating columns get a dictionary, the random ones do not.
        expect(chosen).toEqual(expect.arrayContaining(['rep', 'rl', 'rts']));
        expect(chosen).not.toContain('s');
        expect(chosen).not.toContain('l');
        expect(chosen).not.toContain('ts');
      }
    });

    it(`sub-range [137, 1400): ${label}`, () => {
      expectSameAsEncodeRows(batch, 137, 1400, rows.slice(137, 1400), options);
    });
  }

  it('many sub-ranges (short ones, single rows, an empty one)', () => {
    const g = generator(7);
    const options: ParquetWriteOptions = { statsColumns: -1, compression: 'uncompressed' };
    const ranges: [number, number][] = [
      [0, 1],
      [1499, 1500],
      [700, 700],
      [0, 1024],
      [1, 1025],
      [476, 1500],
    ];
    for (let k = 0; k < 12; k++) {
      const start = g.int(0, rows.length - 1);
      ranges.push([start, g.int(start + 1, Math.min(rows.length, start + 60))]);
    }
    for (const [start, end] of ranges) expectSameAsEncodeRows(batch, start, end, rows.slice(start, end), options);
  });

  it('other seeds, other sizes', () => {
    for (const [seed, n] of [
      [1, 1],
      [2, 5],
      [3, 64],
      [4, 333],
    ] as const) {
      const more = randomRows(seed, n);
      const b = batchOf(more, SCHEMA, n + 3);
      expectSameAsEncodeRows(b, 0, n, more, { statsColumns: -1 });
      expectSameAsEncodeRows(b, 0, n, more, { statsColumns: 3 });
    }
  });

  it('a batch whose rows are all null in the nullable columns, and only NaN doubles', () => {
    const g = generator(99);
    const rows2 = Array.from({ length: 40 }, () => ({
      ...g.row(),
      s: null,
      l: null,
      d: Number.NaN,
      ts: null,
      rep: null,
    }));
    expectSameAsEncodeRows(batchOf(rows2), 0, rows2.length, rows2, { statsColumns: -1 });
  });

  it('toArrow under a schema with the same columns in another order', () => {
    const reordered = struct(...[...SCHEMA.fields].reverse());
    expectSameAsEncodeRows(batch, 10, 900, rows.slice(10, 900), { statsColumns: 5 }, reordered);
    expectSameAsEncodeRows(batch, 0, rows.length, rows, { statsColumns: -1 }, reordered);
  });

  it('toArrow refuses a schema with a column the batch lacks or of another type', () => {
    expect(() => batch.toArrow(struct(field('nope', 'string')), 0, 1)).toThrow();
    expect(() => batch.toArrow(struct(field('s', 'long')), 0, 1)).toThrow();
  });

  it('nullCounts counts the null (and missing) values of every column', () => {
    const counts = batch.nullCounts(100, 1200);
    expect(counts.map((c) => c.path[0])).toEqual(SCHEMA.fields.map((f) => f.name));
    for (const c of counts) {
      const expected = rows.slice(100, 1200).filter((r) => r[c.path[0]!] == null).length;
      expect(c.nullCount).toBe(expected);
    }
  });
});

describe('ColumnBatch.toArrow against encodeRows: the other value kinds appendRow takes', () => {
  const schema = struct(field('ts', 'timestamp'), field('dt', 'date'), field('l', 'long'));
  const options: ParquetWriteOptions = { statsColumns: -1, dictionary: 'auto' };

  it('timestamps and dates as Date objects, dates as day numbers, longs as bigints', () => {
    const g = generator(5);
    const rows: Row[] = Array.from({ length: 300 }, () => ({
      ts: new Date(Date.UTC(2024, 0, 1) + g.int(-1e11, 1e11)),
      dt: g.rnd() < 0.5 ? new Date(Date.UTC(g.int(1900, 2100), g.int(0, 11), g.int(1, 28))) : g.int(-100000, 100000),
      l: BigInt(g.int(-1e6, 1e6)),
    }));
    expectSameAsEncodeRows(batchOf(rows, schema), 0, rows.length, rows, options, schema);
  });

  it('repeating Date, day-number and bigint values get the same dictionary choice', () => {
    const g = generator(6);
    const days = [Date.UTC(2024, 0, 1), Date.UTC(2024, 5, 30)];
    const rows: Row[] = Array.from({ length: 300 }, () => ({
      ts: new Date(days[g.int(0, 1)]!),
      dt: g.rnd() < 0.5 ? new Date(days[g.int(0, 1)]!) : 19723,
      l: g.rnd() < 0.5 ? 5n : 2n ** 60n,
    }));
    const chosen = expectSameAsEncodeRows(batchOf(rows, schema), 0, rows.length, rows, options, schema);
    expect(chosen).toEqual(['ts', 'dt', 'l']);
  });

  it('Dates at different times of a few days in a date column (distinct values, few distinct days)', () => {
    // encodeRows' dictionary choice counts distinct Dates (getTime), not distinct days.
    const g = generator(7);
    const rows: Row[] = Array.from({ length: 200 }, () => ({
      dt: new Date(Date.UTC(2024, 0, g.int(1, 3)) + g.int(0, 86_399_999)),
    }));
    expectSameAsEncodeRows(batchOf(rows, schema), 0, rows.length, rows, options, schema);
  });

  it('the dictionary choice counts texts of the same instant as distinct values, as encodeRows does', () => {
    // 26 distinct texts (> 25% of 100 values: no dictionary) but only 23 distinct instants.
    const texts = Array.from({ length: 23 }, (_, k) => `2024-01-01T00:00:${String(k).padStart(2, '0')}Z`);
    texts.push('2024-01-01T00:00:00.0Z', '2024-01-01T00:00:00.000000Z', '2024-01-01T00:00:00+00:00');
    const g = generator(8);
    for (const extra of [[], ['2024-01-01T00:00:00.00Z']]) {
      const all = [...texts, ...extra];
      const rows: Row[] = Array.from({ length: 100 }, (_, k) => ({ ts: k < all.length ? all[k] : all[g.int(0, 25)] }));
      const chosen = expectSameAsEncodeRows(batchOf(rows, schema), 0, rows.length, rows, options, schema);
      expect(chosen).toEqual([]);
      // One text fewer: 25 distinct texts, a dictionary.
      const fewer = rows.map((r) => (r.ts === all[all.length - 1] ? { ts: all[0] } : r));
      expect(expectSameAsEncodeRows(batchOf(fewer, schema), 0, fewer.length, fewer, options, schema)).toEqual(
        extra.length === 0 ? ['ts'] : [],
      );
    }
  });

  it('timestamps before 1685 with microseconds (beyond 2^53 µs)', () => {
    const rows: Row[] = [
      '0001-01-01T16:06:14.343946Z',
      '0001-01-01T00:00:00.000001Z',
      '1000-06-10T17:08:14.437497Z',
      '1600-01-01T00:00:00.000001Z',
      '1684-01-01T00:00:00.000001Z',
      '1686-01-01T00:00:00.000001Z',
      '2200-12-31T23:59:59.999999Z',
    ].map((ts) => ({ ts }));
    expectSameAsEncodeRows(batchOf(rows, schema), 0, rows.length, rows, options, schema);
  });

  it('timestamps as epoch milliseconds with fractions of a microsecond', () => {
    // encodeRows' dictionary choice counts distinct numbers, not distinct microseconds.
    const rows: Row[] = Array.from({ length: 200 }, (_, j) => ({ ts: 1000 + j * 0.0001 }));
    expectSameAsEncodeRows(batchOf(rows, schema), 0, rows.length, rows, options, schema);
  });
});

describe('retain, appendBatch and reading values back', () => {
  const rows = randomRows(31337, 1500);
  const options: ParquetWriteOptions = { statsColumns: -1, compression: 'uncompressed' };

  it('retain keeps exactly the marked rows, in order (runs, single rows, none dropped, all dropped)', () => {
    const g = generator(5);
    const masks: Uint8Array[] = [
      new Uint8Array(rows.length).fill(1),
      new Uint8Array(rows.length),
      Uint8Array.from(rows, (_, i) => (i % 2 === 0 ? 1 : 0)),
      Uint8Array.from(rows, () => (g.int(0, 19) === 0 ? 0 : 1)), // long runs
      Uint8Array.from(rows, () => (g.int(0, 1) === 0 ? 0 : 1)),
      Uint8Array.from(rows, (_, i) => (i === 0 || i === rows.length - 1 ? 0 : 1)),
    ];
    for (const keep of masks) {
      const batch = batchOf(rows, SCHEMA, rows.length + 20);
      const kept = rows.filter((_, i) => keep[i] === 1);
      expect(batch.retain(keep)).toBe(kept.length);
      expect(batch.length).toBe(kept.length);
      if (kept.length > 0) expectSameAsEncodeRows(batch, 0, kept.length, kept, options);
      // Rows appended after a retain follow the kept ones.
      const more = randomRows(9, 20);
      for (const row of more) batch.appendRow(row);
      expectSameAsEncodeRows(batch, 0, kept.length + 20, [...kept, ...more], options);
    }
  });

  it('a retained batch (rows not yet moved) slices, sizes, retains again and appends as one whose rows moved', () => {
    const g = generator(77);
    const first = Uint8Array.from(rows, () => (g.int(0, 9) === 0 ? 0 : 1));
    const kept = rows.filter((_, i) => first[i] === 1);
    const second = Uint8Array.from(kept, () => (g.int(0, 3) === 0 ? 0 : 1));
    const kept2 = kept.filter((_, i) => second[i] === 1);
    const moved = batchOf(rows, SCHEMA, rows.length + 5);
    moved.retain(first);
    moved.isValid(0, 0); // a reader moves the rows into place
    const lazy = batchOf(rows, SCHEMA, rows.length + 5);
    expect(lazy.retain(first)).toBe(kept.length);
    expect(lazy.bytesPerRow()).toBe(moved.bytesPerRow());
    const ranges = (n: number) => [
      [0, n],
      [0, 1],
      [3, 400],
      [n - 1, n],
      [500, 500],
    ];
    for (const [start, end] of ranges(kept.length)) {
      const { parts, transfer } = lazy.sliceParts(start!, end!);
      expect(parts).toEqual(moved.sliceParts(start!, end!).parts);
      const copy = ColumnBatch.fromParts(SCHEMA, structuredClone(parts, { transfer }));
      expectSameAsEncodeRows(copy, 0, end! - start!, kept.slice(start, end), options);
    }
    // Retained again before the rows moved: the selection of the selection.
    expect(lazy.retain(second)).toBe(kept2.length);
    for (const [start, end] of ranges(kept2.length)) {
      const { parts } = lazy.sliceParts(start!, end!);
      expectSameAsEncodeRows(ColumnBatch.fromParts(SCHEMA, parts), 0, end! - start!, kept2.slice(start, end), options);
    }
    // Then appended to, and appended to another batch.
    lazy.appendRow(rows[3]!);
    expectSameAsEncodeRows(lazy, 0, kept2.length + 1, [...kept2, rows[3]!], options);
    const other = batchOf(rows, SCHEMA, rows.length + 5);
    other.retain(first);
    const target = new ColumnBatch(SCHEMA, rows.length);
    target.appendBatch(other);
    expectSameAsEncodeRows(target, 0, kept.length, kept, options);
  });

  it('appendBatch: batches appended one after another equal one batch of all their rows', () => {
    const parts = [rows.slice(0, 1), rows.slice(1, 700), rows.slice(700, 700), rows.slice(700)];
    const all = new ColumnBatch(SCHEMA, rows.length + 5);
    for (const part of parts) all.appendBatch(batchOf(part, SCHEMA, part.length + 1));
    expect(all.length).toBe(rows.length);
    expectSameAsEncodeRows(all, 0, rows.length, rows, options);
    expectSameAsEncodeRows(all, 0, rows.length, rows, {});
    // A retained batch appended: its kept rows only.
    const half = batchOf(rows.slice(0, 100));
    half.retain(Uint8Array.from({ length: 100 }, (_, i) => (i < 50 ? 1 : 0)));
    const target = new ColumnBatch(SCHEMA, 60);
    target.appendBatch(half);
    expectSameAsEncodeRows(target, 0, 50, rows.slice(0, 50), options);
    expect(() => new ColumnBatch(SCHEMA, 10).appendBatch(batchOf(rows.slice(0, 11)))).toThrow(/capacity/);
    const other = struct(field('x', 'string'));
    expect(() => new ColumnBatch(other, 10).appendBatch(batchOf(rows.slice(0, 2)))).toThrow(/column 0/);
  });

  it('parts and fromParts: a batch posted to another thread (structured clone) equals the original', () => {
    {
      const batch = batchOf(rows, SCHEMA, rows.length + 7);
      // With a big long (beyond 2^53): every kind of storage travels.
      batch.appendRow({ ...rows[0], l: 2n ** 60n + 1n });
      const { parts, transfer } = batch.parts();
      const copy = ColumnBatch.fromParts(SCHEMA, structuredClone(parts, { transfer }));
      expect(batch.parts().parts.columns[0]!.valid.byteLength).toBe(0); // transferred away
      expectSameAsEncodeRows(copy, 0, rows.length + 1, [...rows, { ...rows[0], l: 2n ** 60n + 1n }], options);
      // The copy takes more rows like any batch.
      copy.appendRow(rows[1]!);
      expectSameAsEncodeRows(copy, rows.length + 1, rows.length + 2, [rows[1]!], options);
      // Parts of another schema or too few rows' room are refused.
      const other = batchOf(rows.slice(0, 10), SCHEMA, 10).parts().parts;
      expect(() => ColumnBatch.fromParts(struct(field('x', 'string')), other)).toThrow(/do not fit/);
      expect(() => new ColumnBatch(SCHEMA, 11, other)).toThrow(/do not fit/);
      expect(() => new ColumnBatch(SCHEMA, 10, { ...other, length: 11 })).toThrow(/do not fit/);
    }
  });

  it('sliceParts: a copy of rows [start, end) that encodes as those rows, leaving the batch as it was', () => {
    const big = { ...rows[0], l: 2n ** 60n + 1n };
    const all = [...rows.slice(0, 700), big, ...rows.slice(700, 1400), { ...big, l: -(2n ** 61n) }];
    const batch = batchOf(all, SCHEMA, all.length + 3);
    for (const [start, end] of [
      [0, all.length],
      [0, 1],
      [1, 700],
      [650, 760], // holds the first big long
      [702, all.length], // holds the second
      [all.length - 1, all.length],
      [300, 300],
    ] as const) {
      const { parts, transfer } = batch.sliceParts(start, end);
      const copy = ColumnBatch.fromParts(SCHEMA, structuredClone(parts, { transfer }));
      expect(copy.length).toBe(end - start);
      expectSameAsEncodeRows(copy, 0, end - start, all.slice(start, end), options);
    }
    expectSameAsEncodeRows(batch, 0, all.length, all, options);
    batch.appendRow(rows[5]!);
    expectSameAsEncodeRows(batch, all.length - 2, all.length + 1, [...all.slice(-2), rows[5]!], options);
  });

  it('the accessors give what the row path holds', () => {
    const batch = batchOf(rows);
    const s = batch.indexOf('s');
    const l = batch.indexOf('l');
    const bo = batch.indexOf('bo');
    const ts = batch.indexOf('ts');
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      expect(batch.isValid(s, i)).toBe(row.s !== null && row.s !== undefined);
      if (batch.isValid(s, i)) {
        const bytes = batch.utf8Bytes(s).subarray(batch.utf8Start(s, i), batch.utf8Start(s, i + 1));
        expect(new TextDecoder().decode(bytes)).toBe(row.s);
      }
      if (batch.isValid(l, i)) expect(batch.numberAt(l, i)).toBe(row.l);
      if (batch.isValid(bo, i)) expect(batch.numberAt(bo, i)).toBe(row.bo ? 1 : 0);
      if (batch.isValid(ts, i) && typeof row.ts === 'string') {
        // A text: its µs, and its text as the sample unless it is a canonical UTC text.
        const sample = batch.sampleAt(ts, i);
        if (sample !== undefined) expect(sample).toBe(row.ts);
        else expect(row.ts).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$/);
      }
    }
    expect(batch.typeOf(ts)).toBe('timestamp');
  });
});

describe('rolled-back rows', () => {
  const rows = randomRows(31337, 300);
  const options: ParquetWriteOptions = { statsColumns: -1 };
  const c = (name: string) => SCHEMA.fields.findIndex((f) => f.name === name);

  it('rollbackRow after setting columns leaves no trace', () => {
    const batch = new ColumnBatch(SCHEMA, rows.length);
    for (let k = 0; k < rows.length; k++) {
      if (k % 3 === 0) {
        // A producer sets some columns, then gives the record up.
        const text = Buffer.from(`rolled back ${k} 😀 ${'x'.repeat(k)}`);
        batch.setUtf8(c('s'), text, 0, text.length);
        batch.setUtf8(c('name'), text, 3, text.length - 1);
        batch.setUtf8(c('rep'), text, 0, 5);
        batch.setNumber(c('l'), 123456 + k);
        batch.setNumber(c('i'), -k);
        batch.setNumber(c('d'), k / 7);
        batch.setBoolean(c('bo'), k % 2 === 0);
        batch.setNumber(c('ts'), 1_700_000_000_000_000 + k, '2023-11-14T22:13:20Z');
        batch.setNumber(c('dt'), 19000 + k, '2022-01-08');
        batch.setNumber(c('rts'), 42, 'not-the-text');
        batch.setNull(c('sh'));
        expect(batch.isSet(c('s'))).toBe(true);
        expect(batch.hasValue(c('sh'))).toBe(false);
        batch.rollbackRow();
        expect(batch.isSet(c('s'))).toBe(false);
        expect(batch.length).toBe(k);
      }
      batch.appendRow(rows[k]!);
    }
    expectSameAsEncodeRows(batch, 0, rows.length, rows, options);
    expectSameAsEncodeRows(batch, 50, 250, rows.slice(50, 250), options);
  });

  it('appendRow that throws mid-row (after big longs and timestamps were set) adds nothing', () => {
    const batch = new ColumnBatch(SCHEMA, 2 * rows.length);
    const expected: Row[] = [];
    for (let k = 0; k < rows.length; k++) {
      if (k % 4 === 1) {
        // Every column before dt is set, then dt (non-nullable) is null: the whole row is refused.
        const bad: Row = {
          s: `bad ${k} é`,
          name: 'bad name 日本',
          l: 2n ** 62n + BigInt(k),
          i: 5,
          sh: 6,
          b: 7,
          d: 0.5,
          bo: true,
          ts: '9999-12-31T23:59:59.999999Z',
          dt: null,
          rep: 'bad',
          rl: -(2n ** 61n),
          rts: '0001-01-01T00:00:00Z',
        };
        expect(() => batch.appendRow(bad)).toThrow(RejectedValue);
        expect(batch.length).toBe(expected.length);
        // The next row has nulls where the refused one had values.
        const next: Row = {
          ...rows[k]!,
          s: null,
          l: null,
          sh: undefined,
          d: null,
          ts: null,
          rep: null,
          rl: null,
          rts: null,
        };
        batch.appendRow(next);
        expected.push(next);
      }
      batch.appendRow(rows[k]!);
      expected.push(rows[k]!);
    }
    expectSameAsEncodeRows(batch, 0, expected.length, expected, options);
    expectSameAsEncodeRows(batch, 1, expected.length - 1, expected.slice(1, -1), { statsColumns: 3 });
  });

  it('a refused value in the last column still adds nothing', () => {
    const batch = new ColumnBatch(SCHEMA, 4);
    const good = rows[0]!;
    expect(() => batch.appendRow({ ...good, rts: 'not a timestamp' })).toThrow(RejectedValue);
    expect(batch.length).toBe(0);
    batch.appendRow(good);
    expectSameAsEncodeRows(batch, 0, 1, [good], options);
  });
});

describe('values ColumnBatch.appendRow refuses, as encodeRows does', () => {
  const base: Row = {
    s: 'ok',
    name: 'n',
    l: 1,
    i: 2,
    sh: 3,
    b: 4,
    d: 5.5,
    bo: false,
    ts: '2024-01-02T03:04:05Z',
    dt: '2024-01-02',
    rep: 'r',
    rl: 8,
    rts: '2024-01-02T03:04:05+02:00',
  };
  const bad: [string, unknown][] = [
    ['name', null],
    ['name', undefined],
    ['i', null],
    ['dt', undefined],
    ['s', 5],
    ['s', true],
    ['name', { a: 1 }],
    ['l', 2 ** 53],
    ['l', 1.5],
    ['l', '5'],
    ['l', 2n ** 63n],
    ['l', -(2n ** 63n) - 1n],
    ['i', 2 ** 31],
    ['i', -(2 ** 31) - 1],
    ['i', 1.5],
    ['i', '5'],
    ['i', 5n],
    ['sh', 32768],
    ['sh', -32769],
    ['b', 128],
    ['b', -129],
    ['b', Number.NaN],
    ['d', '1'],
    ['d', 1n],
    ['bo', 'true'],
    ['bo', 1],
    ['ts', '2024-01-02T03:04:05'],
    ['ts', '2024-01-02T03:04:05.1234567Z'],
    ['ts', '2024-02-30T00:00:00Z'],
    ['ts', '2024-01-02T24:00:00Z'],
    ['ts', true],
    ['dt', '2024-02-30'],
    ['dt', '2023-02-29'],
    ['dt', '2024-1-1'],
    ['dt', '2024-01-01T00:00:00Z'],
    ['dt', 1.5],
  ];

  for (const [column, value] of bad) {
    it(`${column} = ${typeof value === 'bigint' ? `${value}n` : (JSON.stringify(value) ?? String(value))}`, () => {
      const row = { ...base, [column]: value };
      expect(() => encodeRows(SCHEMA, [row])).toThrow();
      const batch = new ColumnBatch(SCHEMA, 2);
      expect(() => batch.appendRow(row)).toThrow(RejectedValue);
      expect(batch.length).toBe(0);
      batch.appendRow(base);
      expectSameAsEncodeRows(batch, 0, 1, [base], { statsColumns: -1 });
    });
  }

  // encodeRows refuses a string with a lone UTF-16 surrogate ("UTF-8 cannot hold it"); appendRow
  // must too, or the columnar ingest path writes U+FFFD where the row path fails the write.
  it('a string with a lone surrogate', () => {
    // What appendRow accepted although encodeRows refuses it, with the UTF-8 it wrote instead.
    const accepted: string[] = [];
    for (const s of ['a\ud800b', '\udc00', 'x\ud83d', '😀\ude00']) {
      const row = { ...base, s };
      expect(() => encodeRows(SCHEMA, [row])).toThrow(/lone UTF-16 surrogate/);
      const batch = new ColumnBatch(SCHEMA, 2);
      try {
        batch.appendRow(row);
      } catch (error) {
        expect(error).toBeInstanceOf(RejectedValue);
        expect(batch.length).toBe(0);
        continue;
      }
      const written = batch.toArrow(SCHEMA, 0, 1).table.getChild('s')?.get(0) as string;
      accepted.push(`${JSON.stringify(s)} → ${JSON.stringify(written)} (${Buffer.from(written).toString('hex')})`);
    }
    expect(accepted).toEqual([]);
  });
});

describe('columnBatchSupports', () => {
  it('takes flat schemas of the primitive types it holds', () => {
    expect(columnBatchSupports(SCHEMA)).toBe(true);
    for (const t of ['string', 'long', 'integer', 'short', 'byte', 'double', 'boolean', 'timestamp', 'date'] as const) {
      expect(columnBatchSupports(struct(field('a', t), field('b', t, false)))).toBe(true);
    }
  });

  it('refuses nested, decimal, binary, float and timestamp_ntz columns', () => {
    const others: DataType[] = [
      struct(field('x', 'string')),
      { type: 'array', elementType: 'long', containsNull: true },
      { type: 'map', keyType: 'string', valueType: 'string', valueContainsNull: true },
      'decimal(10,2)',
      'decimal(38,0)',
      'binary',
      'float',
      'timestamp_ntz',
    ];
    for (const t of others) {
      const schema = struct(field('ok', 'string'), field('other', t));
      expect(columnBatchSupports(schema)).toBe(false);
      expect(() => new ColumnBatch(schema, 1)).toThrow();
    }
  });

  it('refuses duplicate names, no columns and __proto__', () => {
    expect(columnBatchSupports(struct(field('a', 'string'), field('a', 'long')))).toBe(false);
    expect(columnBatchSupports(struct(field('a', 'string'), field('b', 'long'), field('a', 'string')))).toBe(false);
    expect(columnBatchSupports(struct())).toBe(false);
    expect(columnBatchSupports(struct(field('__proto__', 'string')))).toBe(false);
  });
});
