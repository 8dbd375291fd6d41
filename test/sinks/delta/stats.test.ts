// Unit tests of sinks/delta/stats.ts: the stats JSON string matches Spark's StatisticsCollection shape and
// encodings (nested objects, first 32 leaves, 32-char string prefixes, ms timestamps, decimals as numbers).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  buildStats,
  type ColumnStats,
  formatStatsTimestamp,
  indexedSchema,
  parseStatsColumns,
  statsOptionsFromProperties,
  truncateMaxString,
  truncateMinString,
} from '../../../sinks/delta/stats.js';
import type { StructType } from '../../../sinks/schema.js';

const f = (name: string, type: StructType['fields'][number]['type']) => ({ name, type, nullable: true, metadata: {} });

describe('string truncation (delta-spark 4 truncateMinStringAgg / truncateMaxStringAgg)', () => {
  const MAX = '\u{10FFFF}';
  const DEL = '\u007f';
  it('min keeps n UTF-16 units, never splitting a surrogate pair', () => {
    const cases: [string, number, string | undefined][] = [
      ['abcd', 3, 'abc'],
      ['abcdef', 6, 'abcdef'],
      ['abcde\ufffd', 6, 'abcde\ufffd'],
      [MAX.repeat(4), 1, MAX],
      [MAX.repeat(2), 1, MAX],
      ['abcd', 0, undefined],
    ];
    for (const [input, n, expected] of cases) expect(truncateMinString(input, n), input).toBe(expected);
  });
  it('max appends U+007F or U+10FFFF so the result stays an upper bound in UTF-8 order', () => {
    const cases: [string, number, string | undefined][] = [
      ['abcd', 0, undefined],
      [`a${MAX}d`, 2, `a${MAX}${DEL}`],
      ['abcd', 6, 'abcd'],
      ['abcde\ufffd', 6, 'abcde\ufffd'],
      ['abcd\ufffdabcd', 6, `abcd\ufffda${DEL}`],
      ['abcdef\ufffd', 6, `abcdef${MAX}`],
      ['abcdef-abcdef\ufffd', 6, `abcdef${DEL}`],
      ['漢字仮名한글தமி', 6, `漢字仮名한글${MAX}`],
      ['漢字仮名한글', 6, '漢字仮名한글'],
      ['abcdef🚀', 6, `abcdef${MAX}`],
      [MAX.repeat(4), 1, undefined],
      [MAX.repeat(4), 4, MAX.repeat(4)],
      ['\ufffd'.repeat(4), 2, `\ufffd\ufffd${MAX}`],
      ['abcdefghijklm💞😉💕\n🥀🌹💐🌺🌷🌼🌻🌷🥀', 32, `abcdefghijklm💞😉💕\n🥀🌹💐🌺🌷🌼${MAX}`],
    ];
    for (const [input, n, expected] of cases) expect(truncateMaxString(input, n), input).toBe(expected);
  });
  it('property: min is a prefix (≤) and max is ≥ the input in UTF-8 byte order', () => {
    const utf8 = (x: string) => Buffer.from(x, 'utf8');
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 60 }), fc.integer({ min: 1, max: 40 }), (input, n) => {
        const min = truncateMinString(input, n) as string;
        expect(input.startsWith(min)).toBe(true);
        const max = truncateMaxString(input, n);
        if (max !== undefined) expect(Buffer.compare(utf8(max), utf8(input))).toBeGreaterThanOrEqual(0);
      }),
    );
  });
});

describe('formatStatsTimestamp', () => {
  it('truncates down to milliseconds, also before the epoch', () => {
    expect(formatStatsTimestamp(946684800123999n)).toBe('2000-01-01T00:00:00.123Z');
    expect(formatStatsTimestamp(-1n)).toBe('1969-12-31T23:59:59.999Z');
    expect(formatStatsTimestamp(-1000n)).toBe('1969-12-31T23:59:59.999Z');
    expect(formatStatsTimestamp(-1001n)).toBe('1969-12-31T23:59:59.998Z');
  });
});

describe('indexedSchema', () => {
  it('keeps the first 32 leaves; structs recurse, arrays and maps count once', () => {
    const fields = Array.from({ length: 30 }, (_, i) => f(`c${i}`, 'integer'));
    const schema: StructType = {
      type: 'struct',
      fields: [
        ...fields,
        f('arr', { type: 'array', elementType: 'integer', containsNull: true }),
        f('s', { type: 'struct', fields: [f('x', 'integer'), f('y', 'integer')] }),
        f('late', 'string'),
      ],
    };
    const indexed = indexedSchema(schema);
    expect(indexed.fields.map((x) => x.name)).toEqual([...fields.map((x) => x.name), 'arr', 's']);
    const s = indexed.fields.at(-1)?.type as StructType;
    expect(s.fields.map((x) => x.name)).toEqual(['x']);
    expect(indexedSchema(schema, { numIndexedCols: 2 }).fields.map((x) => x.name)).toEqual(['c0', 'c1']);
    expect(indexedSchema(schema, { numIndexedCols: -1 }).fields).toHaveLength(33);
  });
  it('honours dataSkippingStatsColumns, nested and case-insensitively', () => {
    expect(parseStatsColumns('a, B.c ,`d.e`.f')).toEqual([['a'], ['b', 'c'], ['d.e', 'f']]);
    const schema: StructType = {
      type: 'struct',
      fields: [f('a', 'long'), f('b', { type: 'struct', fields: [f('c', 'long'), f('d', 'long')] }), f('z', 'long')],
    };
    const indexed = indexedSchema(schema, { statsColumns: 'B.c,z' });
    expect(indexed).toEqual({
      type: 'struct',
      fields: [f('b', { type: 'struct', fields: [f('c', 'long')] }), f('z', 'long')],
    });
    expect(statsOptionsFromProperties({ 'delta.dataSkippingNumIndexedCols': '5' })).toEqual({ numIndexedCols: 5 });
    expect(statsOptionsFromProperties({ 'delta.dataSkippingStatsColumns': 'a' })).toEqual({ statsColumns: 'a' });
  });
});

describe('buildStats', () => {
  const schema: StructType = {
    type: 'struct',
    fields: [
      f('id', 'long'),
      f('name', 'string'),
      f('price', 'decimal(10,2)'),
      f('day', 'date'),
      f('at', 'timestamp'),
      f('ok', 'boolean'),
      f('raw', 'binary'),
      f('score', 'double'),
      f('addr', { type: 'struct', fields: [f('city', 'string'), f('zip', 'integer'), f('flag', 'boolean')] }),
      f('tags', { type: 'array', elementType: 'string', containsNull: true }),
      f('props', { type: 'map', keyType: 'string', valueType: 'string', valueContainsNull: true }),
      f('flags', { type: 'struct', fields: [f('a', 'boolean')] }),
    ],
  };
  const rows = [
    {
      id: 1n,
      name: 'x'.repeat(40),
      price: '1.50',
      day: '2024-01-01',
      at: 1n,
      ok: true,
      raw: new Uint8Array([1]),
      score: 0.5,
      addr: { city: 'Oslo', zip: 1 },
      tags: ['a'],
      props: { k: 'v' },
      flags: { a: true },
    },
    {
      id: 5n,
      name: 'abc',
      price: '-3.25',
      day: '2024-01-03',
      at: 1999n,
      ok: null,
      score: 2,
      addr: null,
      tags: null,
      flags: null,
    },
    {
      id: 3n,
      name: null,
      price: null,
      day: null,
      at: null,
      ok: false,
      score: null,
      addr: { city: null, zip: 9 },
      tags: [],
      props: null,
      flags: { a: null },
    },
  ];
  const columns: ColumnStats[] = [
    { path: ['id'], type: 'long', nullCount: 0, min: 1n, max: 5n },
    { path: ['name'], type: 'string', nullCount: 1, min: 'abc', max: 'x'.repeat(40) },
    { path: ['price'], type: 'decimal(10,2)', nullCount: 1, min: '-3.25', max: '1.50' },
    { path: ['day'], type: 'date', nullCount: 1, min: '2024-01-01', max: '2024-01-03' },
    { path: ['at'], type: 'timestamp', nullCount: 1, min: 1n, max: 1999n },
    { path: ['ok'], type: 'boolean', nullCount: 1, min: false, max: true },
    { path: ['score'], type: 'double', nullCount: 1, min: 0.5, max: 2 },
    { path: ['addr', 'city'], type: 'string', nullCount: 2, min: 'Oslo', max: 'Oslo' },
    { path: ['addr', 'zip'], type: 'integer', nullCount: 1, min: 1, max: 9 },
  ];

  it('writes Spark-shaped JSON with nested objects and Spark encodings', () => {
    const json = buildStats(schema, rows, columns);
    const x32 = 'x'.repeat(32);
    expect(json).toBe(
      '{"numRecords":3,' +
        `"minValues":{"id":1,"name":"abc","price":-3.25,"day":"2024-01-01","at":"1970-01-01T00:00:00.000Z","score":0.5,"addr":{"city":"Oslo","zip":1}},` +
        `"maxValues":{"id":5,"name":"${x32}\u007f","price":1.50,"day":"2024-01-03","at":"1970-01-01T00:00:00.001Z","score":2,"addr":{"city":"Oslo","zip":9}},` +
        '"nullCount":{"id":0,"name":1,"price":1,"day":1,"at":1,"ok":1,"raw":2,"score":1,"addr":{"city":2,"zip":1,"flag":3},"tags":1,"props":2,"flags":{"a":2}}}',
    );
    expect(JSON.parse(json).numRecords).toBe(3);
  });

  it('writes exact long values beyond 2^53 and omits NaN bounds', () => {
    const s: StructType = { type: 'struct', fields: [f('n', 'long'), f('d', 'double')] };
    const json = buildStats(
      s,
      [{ n: 9007199254740993n, d: Number.NaN }],
      [
        { path: ['n'], type: 'long', nullCount: 0, min: 9007199254740993n, max: 9007199254740993n },
        { path: ['d'], type: 'double', nullCount: 0, min: Number.NaN, max: Number.NaN },
      ],
    );
    expect(json).toBe(
      '{"numRecords":1,"minValues":{"n":9007199254740993},"maxValues":{"n":9007199254740993},"nullCount":{"n":0,"d":0}}',
    );
  });

  it('omits minValues/maxValues when no indexed column is eligible', () => {
    const s: StructType = { type: 'struct', fields: [f('b', 'boolean')] };
    expect(buildStats(s, [{ b: true }, {}], [])).toBe('{"numRecords":2,"nullCount":{"b":1}}');
  });
});
