// encodeRows: every type (nested struct/array/map, nulls at every level) read back by pyarrow, the
// Parquet physical/logical types Spark and Delta expect, codecs, row groups, field ids, errors.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasCode } from '../../../common/errors.js';
import {
  encodeRows,
  FIELD_ID_KEY,
  NESTED_IDS_KEY,
  ParquetEncodeError,
  type ParquetWriteOptions,
} from '../../../sinks/parquet/index.js';
import type { DataType, StructField, StructType } from '../../../sinks/schema.js';
import { pythonReaders } from '../../kit/capabilities.js';
import { requireCapability } from '../../kit/capability.js';
import { PythonSession } from '../../kit/python.js';
import { column, type ParquetReadBack, readBack } from './read-back.js';

const cap = await requireCapability(pythonReaders);

const field = (name: string, type: DataType, nullable = true, metadata: Record<string, unknown> = {}): StructField => ({
  name,
  type,
  nullable,
  metadata,
});
const struct = (...fields: StructField[]): StructType => ({ type: 'struct', fields });

/** Every supported type, nested three levels deep, with nullable and non-nullable members. */
const ALL_TYPES = struct(
  field('s', 'string'),
  field('b', 'byte'),
  field('sh', 'short'),
  field('i', 'integer'),
  field('l', 'long'),
  field('f', 'float'),
  field('d', 'double'),
  field('bo', 'boolean'),
  field('bin', 'binary'),
  field('dt', 'date'),
  field('ts', 'timestamp'),
  field('dec', 'decimal(9,2)'),
  field('dec18', 'decimal(18,0)'),
  field('dec38', 'decimal(38,10)'),
  field(
    'st',
    struct(
      field('x', 'integer', false),
      field('y', struct(field('z', 'string'))),
      field('tags', { type: 'array', elementType: 'string', containsNull: true }),
    ),
  ),
  field('arr', { type: 'array', elementType: 'integer', containsNull: true }),
  field('names', { type: 'array', elementType: 'string', containsNull: false }),
  field('nested', {
    type: 'array',
    elementType: { type: 'array', elementType: 'long', containsNull: true },
    containsNull: true,
  }),
  field('m', {
    type: 'map',
    keyType: 'string',
    valueType: struct(field('a', 'double')),
    valueContainsNull: true,
  }),
  field('mi', { type: 'map', keyType: 'integer', valueType: 'string', valueContainsNull: true }),
  field('req', 'long', false),
);

const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);

const ROWS: Record<string, unknown>[] = [
  {
    s: 'héllo wörld ✓ 𝄞',
    b: -128,
    sh: 32767,
    i: -2147483648,
    l: INT64_MAX,
    f: 1.5,
    d: -0.1,
    bo: true,
    bin: new Uint8Array([0, 1, 254, 255]),
    dt: '2024-02-29',
    ts: '2024-01-02T03:04:05.123456Z',
    dec: '-1234567.89',
    dec18: '999999999999999999',
    dec38: '1234567890123456789012345678.0123456789',
    st: { x: 1, y: { z: 'deep' }, tags: ['a', null, 'c'] },
    arr: [1, null, 3],
    names: ['x', 'y'],
    nested: [[1, null], null, []],
    m: { k1: { a: 2.5 }, k2: null, k3: { a: null } },
    mi: new Map([
      [7, 'seven'],
      [-1, null],
    ]),
    req: 0,
  },
  {
    // Every nullable column null (explicit null and missing property).
    s: null,
    b: undefined,
    st: null,
    req: -1,
  },
  {
    s: '',
    b: 127,
    sh: -32768,
    i: 2147483647,
    l: INT64_MIN,
    f: Number.NEGATIVE_INFINITY,
    d: Number.NaN,
    bo: false,
    bin: new Uint8Array(0),
    dt: new Date(Date.UTC(1969, 11, 31, 23, 59, 59)),
    ts: new Date(Date.UTC(1969, 11, 31, 23, 59, 59, 999)),
    dec: 0.1,
    dec18: -5n,
    dec38: '-0.0000000001',
    st: { x: 0, y: null, tags: [] },
    arr: [],
    names: [],
    nested: [],
    m: new Map(),
    mi: new Map(),
    req: 9007199254740991,
  },
  {
    s: '日本語',
    i: 42,
    l: -9007199254740991,
    d: Number.POSITIVE_INFINITY,
    dt: 0,
    ts: 1_700_000_000_123.5,
    dec: 12.3,
    dec18: '-1e17',
    st: { x: -7, y: { z: null } },
    arr: null,
    names: null,
    nested: [null],
    m: null,
    req: 5n,
  },
  {
    dt: '0001-01-01',
    ts: '9999-12-31T23:59:59.999999+00:00',
    st: { x: 3, y: { z: 'z' }, tags: null },
    req: 1,
  },
  {
    dt: '9999-12-31',
    ts: '1999-12-31T19:00:00.000001-05:00',
    req: 2,
  },
];

const b64 = (bytes: number[]) => ({ $binary: Buffer.from(bytes).toString('base64') });
const dec = (text: string) => ({ $decimal: text });
const big = (n: bigint) => ({ $int: n.toString() });

/** What pyarrow reads back for ROWS, written from the accepted-input rules (values.ts). */
const EXPECTED: Record<string, unknown>[] = [
  {
    s: 'héllo wörld ✓ 𝄞',
    b: -128,
    sh: 32767,
    i: -2147483648,
    l: big(INT64_MAX),
    f: 1.5,
    d: -0.1,
    bo: true,
    bin: b64([0, 1, 254, 255]),
    dt: '2024-02-29',
    ts: '2024-01-02T03:04:05.123456Z',
    dec: dec('-1234567.89'),
    dec18: dec('999999999999999999'),
    dec38: dec('1234567890123456789012345678.0123456789'),
    st: { x: 1, y: { z: 'deep' }, tags: ['a', null, 'c'] },
    arr: [1, null, 3],
    names: ['x', 'y'],
    nested: [[1, null], null, []],
    m: [
      ['k1', { a: 2.5 }],
      ['k2', null],
      ['k3', { a: null }],
    ],
    mi: [
      [7, 'seven'],
      [-1, null],
    ],
    req: 0,
  },
  {
    s: null,
    b: null,
    sh: null,
    i: null,
    l: null,
    f: null,
    d: null,
    bo: null,
    bin: null,
    dt: null,
    ts: null,
    dec: null,
    dec18: null,
    dec38: null,
    st: null,
    arr: null,
    names: null,
    nested: null,
    m: null,
    mi: null,
    req: -1,
  },
  {
    s: '',
    b: 127,
    sh: -32768,
    i: 2147483647,
    l: big(INT64_MIN),
    f: { $float: '-inf' },
    d: { $float: 'nan' },
    bo: false,
    bin: b64([]),
    dt: '1969-12-31',
    ts: '1969-12-31T23:59:59.999000Z',
    dec: dec('0.10'),
    dec18: dec('-5'),
    dec38: dec('-1E-10'),
    st: { x: 0, y: null, tags: [] },
    arr: [],
    names: [],
    nested: [],
    m: [],
    mi: [],
    req: 9007199254740991,
  },
  {
    s: '日本語',
    b: null,
    sh: null,
    i: 42,
    l: -9007199254740991,
    f: null,
    d: { $float: 'inf' },
    bo: null,
    bin: null,
    dt: '1970-01-01',
    // 1_700_000_000_123.5 ms = 1_700_000_000_123_500 µs.
    ts: '2023-11-14T22:13:20.123500Z',
    dec: dec('12.30'),
    dec18: dec('-100000000000000000'),
    dec38: null,
    st: { x: -7, y: { z: null }, tags: null },
    arr: null,
    names: null,
    nested: [null],
    m: null,
    mi: null,
    req: 5,
  },
  {
    s: null,
    b: null,
    sh: null,
    i: null,
    l: null,
    f: null,
    d: null,
    bo: null,
    bin: null,
    dt: '0001-01-01',
    ts: '9999-12-31T23:59:59.999999Z',
    dec: null,
    dec18: null,
    dec38: null,
    st: { x: 3, y: { z: 'z' }, tags: null },
    arr: null,
    names: null,
    nested: null,
    m: null,
    mi: null,
    req: 1,
  },
  {
    s: null,
    b: null,
    sh: null,
    i: null,
    l: null,
    f: null,
    d: null,
    bo: null,
    bin: null,
    dt: '9999-12-31',
    ts: '2000-01-01T00:00:00.000001Z',
    dec: null,
    dec18: null,
    dec38: null,
    st: null,
    arr: null,
    names: null,
    nested: null,
    m: null,
    mi: null,
    req: 2,
  },
];

/** Runs `fn` and returns the ParquetEncodeError it throws. */
function encodeError(fn: () => unknown): ParquetEncodeError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ParquetEncodeError) return error;
    throw error;
  }
  throw new Error('expected a ParquetEncodeError, nothing was thrown');
}

describe('encodeRows: result shape and errors (no Python needed)', () => {
  it('returns the record count and one stats entry per leaf in schema order', () => {
    const out = encodeRows(ALL_TYPES, ROWS);
    expect(out.numRecords).toBe(ROWS.length);
    expect(out.bytes.subarray(0, 4)).toEqual(new TextEncoder().encode('PAR1'));
    expect(out.bytes.subarray(-4)).toEqual(new TextEncoder().encode('PAR1'));
    expect(out.stats.map((s) => s.path.join('.'))).toEqual([
      's',
      'b',
      'sh',
      'i',
      'l',
      'f',
      'd',
      'bo',
      'bin',
      'dt',
      'ts',
      'dec',
      'dec18',
      'dec38',
      'st.x',
      'st.y.z',
      'st.tags',
      'arr',
      'names',
      'nested',
      'm',
      'mi',
      'req',
    ]);
  });

  it('encodes zero rows into a valid file with empty stats', () => {
    const out = encodeRows(struct(field('a', 'long'), field('s', 'string')), []);
    expect(out.numRecords).toBe(0);
    expect(out.stats).toEqual([
      { path: ['a'], type: 'long', nullCount: 0 },
      { path: ['s'], type: 'string', nullCount: 0 },
    ]);
  });

  const cases: {
    name: string;
    schema: StructType;
    rows: Record<string, unknown>[];
    column: string;
    row: number;
    jsType: string;
    message: RegExp;
  }[] = [
    {
      name: 'a string in an integer column',
      schema: struct(field('n', 'integer')),
      rows: [{ n: 1 }, { n: '2' }],
      column: 'n',
      row: 1,
      jsType: 'string',
      message: /expected a integer value, got string/,
    },
    {
      name: 'an out-of-range byte',
      schema: struct(field('n', 'byte')),
      rows: [{ n: 127 }, { n: -128 }, { n: 128 }],
      column: 'n',
      row: 2,
      jsType: 'number',
      message: /128 is not a byte/,
    },
    {
      name: 'a fractional integer',
      schema: struct(field('n', 'short')),
      rows: [{ n: 1.5 }],
      column: 'n',
      row: 0,
      jsType: 'number',
      message: /1\.5 is not a short/,
    },
    {
      name: 'an unsafe integer in a long column',
      schema: struct(field('n', 'long')),
      rows: [{ n: 2 ** 53 }],
      column: 'n',
      row: 0,
      jsType: 'number',
      message: /not a safe integer/,
    },
    {
      name: 'a bigint beyond int64',
      schema: struct(field('n', 'long')),
      rows: [{ n: 2n ** 63n }],
      column: 'n',
      row: 0,
      jsType: 'bigint',
      message: /outside the int64 range/,
    },
    {
      name: 'a decimal with more digits than its precision',
      schema: struct(field('d', 'decimal(5,2)')),
      rows: [{ d: '999.99' }, { d: '1000.00' }],
      column: 'd',
      row: 1,
      jsType: 'string',
      message: /needs 6 digits, more than decimal\(5,2\)/,
    },
    {
      name: 'a decimal that would need rounding',
      schema: struct(field('d', 'decimal(10,2)')),
      rows: [{ d: '1.230' }, { d: 1.234 }],
      column: 'd',
      row: 1,
      jsType: 'number',
      message: /more than 2 fraction digits/,
    },
    {
      name: 'a null in a non-nullable column',
      schema: struct(field('id', 'string', false)),
      rows: [{ id: 'a' }, { id: 'b' }, {}],
      column: 'id',
      row: 2,
      jsType: 'undefined',
      message: /null in a non-nullable field/,
    },
    {
      name: 'a null in a non-nullable field of a present struct',
      schema: struct(field('st', struct(field('x', 'integer', false)))),
      rows: [{ st: null }, { st: { x: null } }],
      column: 'st.x',
      row: 1,
      jsType: 'null',
      message: /null in a non-nullable field/,
    },
    {
      name: 'a null element in an array without nulls',
      schema: struct(field('a', { type: 'array', elementType: 'string', containsNull: false })),
      rows: [{ a: ['x'] }, { a: [] }, { a: ['y', null] }],
      column: 'a.element',
      row: 2,
      jsType: 'null',
      message: /null in a non-nullable field/,
    },
    {
      name: 'a null map key',
      schema: struct(field('m', { type: 'map', keyType: 'string', valueType: 'long', valueContainsNull: true })),
      rows: [{ m: new Map([[null, 1]]) }],
      column: 'm.key',
      row: 0,
      jsType: 'null',
      message: /null in a non-nullable field/,
    },
    {
      name: 'a timestamp without a zone',
      schema: struct(field('ts', 'timestamp')),
      rows: [{ ts: '2024-01-02T03:04:05' }],
      column: 'ts',
      row: 0,
      jsType: 'string',
      message: /not an ISO-8601 timestamp with a zone/,
    },
    {
      name: 'an impossible date',
      schema: struct(field('d', 'date')),
      rows: [{ d: '2023-02-29' }],
      column: 'd',
      row: 0,
      jsType: 'string',
      message: /not a 'YYYY-MM-DD' date/,
    },
    {
      name: 'an array where a struct belongs',
      schema: struct(field('st', struct(field('x', 'integer')))),
      rows: [{ st: [1] }],
      column: 'st',
      row: 0,
      jsType: 'array',
      message: /expected a struct \(object\) value, got array/,
    },
    {
      name: 'a plain object for a map with integer keys',
      schema: struct(field('m', { type: 'map', keyType: 'integer', valueType: 'long', valueContainsNull: true })),
      rows: [{ m: { 1: 2 } }],
      column: 'm',
      row: 0,
      jsType: 'object',
      message: /expected a map \(Map\) value, got object/,
    },
    {
      name: 'a string where binary belongs',
      schema: struct(field('b', 'binary')),
      rows: [{ b: 'abc' }],
      column: 'b',
      row: 0,
      jsType: 'string',
      message: /expected a binary \(Uint8Array\) value, got string/,
    },
    {
      name: 'a wrong element type inside an array inside a struct',
      schema: struct(field('st', struct(field('xs', { type: 'array', elementType: 'double', containsNull: true })))),
      rows: [{ st: { xs: [1] } }, { st: { xs: [2, 3, true] } }],
      column: 'st.xs.element',
      row: 1,
      jsType: 'boolean',
      message: /expected a double value, got boolean/,
    },
    {
      name: 'a lone surrogate in a string',
      schema: struct(field('s', 'string')),
      rows: [{ s: 'ok' }, { s: 'bad \ud800 here' }],
      column: 's',
      row: 1,
      jsType: 'string',
      message: /lone UTF-16 surrogate/,
    },
    {
      name: 'a double too large for float',
      schema: struct(field('f', 'float')),
      rows: [{ f: 1e300 }],
      column: 'f',
      row: 0,
      jsType: 'number',
      message: /outside the float \(32-bit\) range/,
    },
  ];

  for (const c of cases) {
    it(`refuses ${c.name}, naming column and row`, () => {
      const error = encodeError(() => encodeRows(c.schema, c.rows));
      expect(error.code).toBe('INVALID_DATA');
      expect(error.domain).toBe('user');
      expect(error.retryable).toBe(false);
      expect(error.context).toEqual({ column: c.column, row: c.row, jsType: c.jsType });
      expect(error.message).toContain(`column '${c.column}', row ${c.row}`);
      expect(error.message).toMatch(c.message);
    });
  }

  it('names the input row of a fault deep in a later block', () => {
    const schema = struct(
      field('id', 'long', false),
      field('xs', { type: 'array', elementType: 'integer', containsNull: false }),
    );
    const rows = Array.from({ length: 9000 }, (_, i) => ({ id: i, xs: [i % 100, 1] }));
    rows[7321] = { id: 7321, xs: [1, 2, 3, 4, 2 ** 40] };
    const error = encodeError(() => encodeRows(schema, rows));
    expect(error.context).toMatchObject({ column: 'xs.element', row: 7321 });
    rows[7321] = { id: 7321, xs: [] };
    rows[8999] = { id: 8999.5, xs: [] };
    expect(encodeError(() => encodeRows(schema, rows)).context).toMatchObject({ column: 'id', row: 8999 });
  });

  it('refuses a row that is not an object', () => {
    const error = encodeError(() => encodeRows(struct(field('a', 'long')), [{ a: 1 }, null as never, { a: 2 }]));
    expect(error.code).toBe('INVALID_DATA');
    expect(error.context).toEqual({ row: 1, jsType: 'null' });
  });

  it('accepts a null in a non-nullable field when its parent struct is null', () => {
    const schema = struct(field('st', struct(field('x', 'integer', false))));
    const out = encodeRows(schema, [{ st: null }, {}, { st: { x: 1 } }]);
    expect(out.stats).toEqual([{ path: ['st', 'x'], type: 'integer', nullCount: 2, min: 1, max: 1 }]);
  });

  it('refuses timestamp_ntz as UNSUPPORTED_TYPE', () => {
    const error = encodeError(() => encodeRows(struct(field('t', 'timestamp_ntz')), []));
    expect(error.code).toBe('UNSUPPORTED_TYPE');
    expect(error.context).toEqual({ column: 't', type: 'timestamp_ntz' });
    expect(error.message).toMatch(/timestamp_ntz is not supported.*declare the column as timestamp/);
  });

  it('refuses types it cannot write and malformed schemas', () => {
    const unsupported = [
      struct(field('v', 'variant' as DataType)),
      struct(field('e', struct())),
      struct(field('n', struct(field('t', { type: 'array', elementType: 'timestamp_ntz', containsNull: true })))),
    ];
    for (const schema of unsupported) {
      expect(encodeError(() => encodeRows(schema, [])).code).toBe('UNSUPPORTED_TYPE');
    }
    const invalid: [StructType, string][] = [
      [struct(field('a', 'long'), field('A', 'string')), 'A'],
      [struct(field('d', 'decimal(39,2)')), 'd'],
      [struct(field('d', 'decimal(5,6)')), 'd'],
    ];
    for (const [schema, col] of invalid) {
      const error = encodeError(() => encodeRows(schema, []));
      expect(error.code).toBe('INVALID_SCHEMA');
      expect(error.context.column).toBe(col);
    }
    const badId = struct(field('a', 'long', true, { [FIELD_ID_KEY]: 'one' }));
    expect(encodeError(() => encodeRows(badId, [], { fieldIds: true })).code).toBe('INVALID_SCHEMA');
    // Without fieldIds the metadata is not read at all.
    expect(encodeRows(badId, []).numRecords).toBe(0);
  });

  it('refuses a bad option as INVALID_OPTION', () => {
    const error = encodeError(() => encodeRows(struct(field('a', 'long')), [], { zstdLevel: 3 }));
    expect(error.code).toBe('INVALID_OPTION');
    expect(error.context).toEqual({ option: 'zstdLevel', value: 3 });
  });

  it('reports a fault as a LakestreamError with a stable code', () => {
    const error = encodeError(() => encodeRows(struct(field('a', 'long')), [{ a: 'x' }]));
    expect(hasCode(error, 'INVALID_DATA')).toBe(true);
  });
});

describe.skipIf(!cap.available)('encodeRows: read back with pyarrow', () => {
  let py: PythonSession;
  let back: ParquetReadBack;
  beforeAll(async () => {
    py = new PythonSession();
    back = await readBack(py, encodeRows(ALL_TYPES, ROWS).bytes);
  });
  afterAll(async () => {
    await py?.close();
  });

  it('round-trips every type with nulls at every level', () => {
    expect(back.numRows).toBe(ROWS.length);
    expect(back.rows).toEqual(EXPECTED);
  });

  it('writes the Arrow types Spark and Delta expect', () => {
    expect(back.arrowTypes).toEqual({
      s: 'string',
      b: 'int8',
      sh: 'int16',
      i: 'int32',
      l: 'int64',
      f: 'float',
      d: 'double',
      bo: 'bool',
      bin: 'binary',
      dt: 'date32[day]',
      ts: 'timestamp[us, tz=UTC]',
      dec: 'decimal128(9, 2)',
      dec18: 'decimal128(18, 0)',
      dec38: 'decimal128(38, 10)',
      st: 'struct<x: int32 not null, y: struct<z: string>, tags: list<element: string>>',
      arr: 'list<element: int32>',
      names: 'list<element: string not null>',
      nested: 'list<element: list<element: int64>>',
      m: expect.stringMatching(/^map<string, struct<a: double>/),
      mi: expect.stringMatching(/^map<int32, string/),
      req: 'int64',
    });
    expect(back.arrowNullable).toMatchObject({ s: true, st: true, req: false });
  });

  it('writes Parquet physical and logical types (UTC µs timestamps, never INT96)', () => {
    expect(back.columns.every((c) => c.physical !== 'INT96')).toBe(true);
    expect(column(back, 'ts')).toMatchObject({ physical: 'INT64' });
    expect(column(back, 'ts').logical).toMatch(/^Timestamp\(isAdjustedToUTC=true, timeUnit=microseconds/);
    expect(column(back, 'b')).toMatchObject({ physical: 'INT32', logical: 'Int(bitWidth=8, isSigned=true)' });
    expect(column(back, 'sh')).toMatchObject({ physical: 'INT32', logical: 'Int(bitWidth=16, isSigned=true)' });
    expect(column(back, 'l')).toMatchObject({ physical: 'INT64' });
    expect(column(back, 'dt')).toMatchObject({ physical: 'INT32', logical: 'Date' });
    expect(column(back, 's')).toMatchObject({ physical: 'BYTE_ARRAY', logical: 'String' });
    expect(column(back, 'bin')).toMatchObject({ physical: 'BYTE_ARRAY', logical: 'None' });
    expect(column(back, 'dec').logical).toBe('Decimal(precision=9, scale=2)');
    expect(column(back, 'dec18').logical).toBe('Decimal(precision=18, scale=0)');
    expect(column(back, 'dec38')).toMatchObject({
      physical: 'FIXED_LEN_BYTE_ARRAY',
      logical: 'Decimal(precision=38, scale=10)',
    });
    // Standard 3-level lists and MAP groups.
    expect(column(back, 'arr.list.element')).toMatchObject({ maxRepetitionLevel: 1, maxDefinitionLevel: 3 });
    expect(column(back, 'names.list.element')).toMatchObject({ maxRepetitionLevel: 1, maxDefinitionLevel: 2 });
    expect(column(back, 'nested.list.element.list.element')).toMatchObject({ maxRepetitionLevel: 2 });
    expect(column(back, 'm.entries.key')).toMatchObject({ physical: 'BYTE_ARRAY', maxRepetitionLevel: 1 });
    expect(column(back, 'm.entries.value.a')).toMatchObject({ physical: 'DOUBLE' });
    // Nullability: required top-level column, required field inside an optional struct.
    expect(column(back, 'req').maxDefinitionLevel).toBe(0);
    expect(column(back, 'st.x').maxDefinitionLevel).toBe(1);
    expect(column(back, 'st.y.z').maxDefinitionLevel).toBe(3);
    expect(back.createdBy).toMatch(/^lakestream/);
  });

  it('writes footer null counts that include nulls of enclosing structs', () => {
    const at = (row: Record<string, unknown>, path: string[]): unknown =>
      path.reduce<unknown>((v, name) => (v == null ? undefined : (v as Record<string, unknown>)[name]), row);
    const nulls = (path: string[]) => ROWS.filter((r) => at(r, path) == null).length;
    expect(nulls(['st', 'y', 'z'])).toBeGreaterThan(nulls(['st']));
    expect(column(back, 'st.y.z').statsNullCount).toBe(nulls(['st', 'y', 'z']));
    expect(column(back, 's').statsNullCount).toBe(nulls(['s']));
  });

  it.each<[ParquetWriteOptions['compression'], string]>([
    [undefined, 'SNAPPY'],
    ['zstd', 'ZSTD'],
    ['snappy', 'SNAPPY'],
    ['uncompressed', 'UNCOMPRESSED'],
  ])('compression %s writes %s column chunks', async (compression, codec) => {
    const rows = Array.from({ length: 500 }, (_, i) => ({ id: i, name: `name-${i % 10}`, v: i / 3 }));
    const schema = struct(field('id', 'long'), field('name', 'string'), field('v', 'double'));
    const out = encodeRows(schema, rows, compression === undefined ? {} : { compression });
    const file = await readBack(py, out.bytes);
    expect(file.columns.flatMap((c) => c.compression)).toEqual(['id', 'name', 'v'].map(() => codec));
    expect(file.rows).toEqual(rows);
  });

  it('splits row groups at rowGroupSize', async () => {
    const rows = Array.from({ length: 2500 }, (_, i) => ({ id: i }));
    const out = encodeRows(struct(field('id', 'long')), rows, { rowGroupSize: 1000 });
    const file = await readBack(py, out.bytes);
    expect(file.numRowGroups).toBe(3);
    expect(file.rows.map((r) => r.id)).toEqual(rows.map((r) => r.id));
  });

  it('round-trips many rows across blocks, with non-ASCII strings and nulls', async () => {
    const samples = ['', 'a', 'ñandú', '東京', '🙂 emoji', 'x'.repeat(300), 'mixed ascii then é'];
    const rows = Array.from({ length: 6000 }, (_, i) => ({
      i,
      s: i % 7 === 0 ? null : `${samples[i % samples.length]}#${i}`,
      st: i % 5 === 0 ? null : { v: i % 3 === 0 ? null : i * 2 },
    }));
    const schema = struct(field('i', 'integer', false), field('s', 'string'), field('st', struct(field('v', 'long'))));
    const file = await readBack(py, encodeRows(schema, rows).bytes);
    expect(file.rows).toEqual(rows.map((r) => ({ i: r.i, s: r.s, st: r.st === null ? null : { v: r.st.v } })));
  });

  it('writes Parquet field ids from field metadata only when fieldIds is set', async () => {
    const schema = struct(
      field('a', 'long', true, { [FIELD_ID_KEY]: 1 }),
      field('st', struct(field('x', 'string', true, { [FIELD_ID_KEY]: '3' })), true, { [FIELD_ID_KEY]: 2 }),
      field('tags', { type: 'array', elementType: 'string', containsNull: true }, true, {
        [FIELD_ID_KEY]: 4,
        [NESTED_IDS_KEY]: { 'tags.element': 5 },
      }),
      field('m', { type: 'map', keyType: 'string', valueType: 'long', valueContainsNull: true }, true, {
        [FIELD_ID_KEY]: 6,
        [NESTED_IDS_KEY]: { 'm.key': 7, 'm.value': 8 },
      }),
      field('noid', 'long'),
    );
    const rows = [{ a: 1, st: { x: 'x' }, tags: ['t'], m: { k: 1 }, noid: 2 }];
    const withIds = await readBack(py, encodeRows(schema, rows, { fieldIds: true }).bytes);
    expect(withIds.fieldIds).toEqual({
      a: 1,
      st: 2,
      'st.x': 3,
      tags: 4,
      'tags.element': 5,
      m: 6,
      'm.key': 7,
      'm.value': 8,
    });
    const without = await readBack(py, encodeRows(schema, rows).bytes);
    expect(without.fieldIds).toEqual({});
  });
});
