// Unit tests of sinks/delta/partition-values.ts: canonical values, the log encoding of partition values
// (PROTOCOL.md "Partition Value Serialization"), parsing back, ordering and replaceWhere predicates.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compareCodePoints,
  compilePartitionPredicate,
  formatDecimal,
  formatTimestampMicros,
  parseDateString,
  parsePartitionValue,
  parseTimestampString,
  serializePartitionValue,
  toCanonical,
  validatePartitionColumns,
} from '../../../sinks/delta/partition-values.js';
import { and, eq, ge, isIn, isNull, lt, or } from '../../../sinks/delta/predicate.js';
import type { StructType } from '../../../sinks/schema.js';

const schema: StructType = {
  type: 'struct',
  fields: [
    { name: 'id', type: 'long', nullable: true, metadata: {} },
    { name: 's', type: 'string', nullable: true, metadata: {} },
    { name: 'd', type: 'date', nullable: true, metadata: {} },
    { name: 'ts', type: 'timestamp', nullable: true, metadata: {} },
    { name: 'i', type: 'integer', nullable: true, metadata: {} },
    { name: 'b', type: 'boolean', nullable: true, metadata: {} },
    { name: 'dec', type: 'decimal(10,2)', nullable: true, metadata: {} },
    { name: 'bin', type: 'binary', nullable: true, metadata: {} },
    { name: 'st', type: { type: 'struct', fields: [] }, nullable: true, metadata: {} },
  ],
};

describe('serializePartitionValue', () => {
  it('encodes each type as the protocol says', () => {
    expect(serializePartitionValue('string', 'a b')).toBe('a b');
    expect(serializePartitionValue('date', toCanonical('date', '2024-02-29', 'd'))).toBe('2024-02-29');
    expect(serializePartitionValue('date', toCanonical('date', new Date('2024-01-02T23:59:59Z'), 'd'))).toBe(
      '2024-01-02',
    );
    expect(serializePartitionValue('timestamp', toCanonical('timestamp', '2024-01-02T03:04:05.123456Z', 'ts'))).toBe(
      '2024-01-02T03:04:05.123456Z',
    );
    expect(
      serializePartitionValue('timestamp', toCanonical('timestamp', new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 7)), 'ts')),
    ).toBe('2024-01-02T03:04:05.007000Z');
    expect(serializePartitionValue('timestamp', toCanonical('timestamp', -1n, 'ts'))).toBe(
      '1969-12-31T23:59:59.999999Z',
    );
    expect(serializePartitionValue('boolean', true)).toBe('true');
    expect(serializePartitionValue('integer', toCanonical('integer', -7, 'i'))).toBe('-7');
    expect(serializePartitionValue('long', toCanonical('long', 9007199254740993n, 'id'))).toBe('9007199254740993');
    expect(serializePartitionValue('decimal(10,2)', toCanonical('decimal(10,2)', '1.5', 'dec'))).toBe('1.50');
    expect(serializePartitionValue('decimal(10,2)', toCanonical('decimal(10,2)', -0.05, 'dec'))).toBe('-0.05');
    // A bigint decimal is the unscaled value, as the Parquet encoder takes it.
    expect(serializePartitionValue('decimal(10,2)', toCanonical('decimal(10,2)', 150n, 'dec'))).toBe('1.50');
    expect(serializePartitionValue('string', null)).toBeNull();
  });

  it('refuses values that do not fit the column, naming it', () => {
    expect(() => toCanonical('integer', 2 ** 31, 'i')).toThrow(/partition column i \(integer\)/);
    expect(() => toCanonical('date', '2024-02-30', 'd')).toThrow(expect.objectContaining({ code: 'INVALID_DATA' }));
    expect(() => toCanonical('decimal(10,2)', '1.234', 'dec')).toThrow(/fraction digits/);
    expect(() => toCanonical('decimal(3,2)', '12.3', 'dec')).toThrow(/digits/);
    expect(() => toCanonical('integer', 5n, 'i')).toThrow(expect.objectContaining({ code: 'INVALID_DATA' }));
    // Timestamps from callers need a zone (as for data columns); the log may omit it.
    expect(() => toCanonical('timestamp', '2024-01-01 00:00:00', 'ts')).toThrow(/zone/);
    expect(() => toCanonical('string', 5, 's')).toThrow(expect.objectContaining({ code: 'INVALID_DATA' }));
  });

  it('round-trips through parsePartitionValue for every type', () => {
    const cases: [Parameters<typeof toCanonical>[0], unknown][] = [
      ['string', 'x/y=z'],
      ['long', -5n],
      ['integer', 42],
      ['short', -300],
      ['byte', 7],
      ['double', 1.5e-7],
      ['float', 0.1],
      ['boolean', false],
      ['date', '1969-07-20'],
      ['timestamp', '1999-12-31T23:59:59.999999Z'],
      ['timestamp', new Date(Date.UTC(1960, 5, 1))],
      ['decimal(38,10)', '-12345678901234567890.0123456789'],
    ];
    for (const [type, input] of cases) {
      const canonical = toCanonical(type, input, 'c');
      const text = serializePartitionValue(type, canonical);
      expect(parsePartitionValue(type, text, 'c')).toEqual(canonical);
    }
  });

  it('property: timestamps round-trip at µs precision over a wide range', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -62135596800000000n, max: 253402300799999999n }), (micros) => {
        const text = formatTimestampMicros(micros);
        expect(parseTimestampString(text)).toBe(micros);
      }),
    );
  });
});

describe('parsePartitionValue', () => {
  it('accepts every timestamp form the protocol allows and treats "" as null', () => {
    const iso = parsePartitionValue('timestamp', '1970-01-01T00:00:00.123456Z', 'ts');
    expect(iso).toBe(123456n);
    expect(parsePartitionValue('timestamp', '1970-01-01 00:00:00.123456', 'ts')).toBe(123456n);
    expect(parsePartitionValue('timestamp', '1970-01-01 00:00:00', 'ts')).toBe(0n);
    expect(parsePartitionValue('timestamp', '1970-01-01T01:00:00+01:00', 'ts')).toBe(0n);
    expect(parsePartitionValue('string', '', 's')).toBeNull();
    expect(parsePartitionValue('integer', null, 'i')).toBeNull();
  });
  it('reports an unparsable value as LOG_CORRUPT', () => {
    expect(() => parsePartitionValue('integer', 'x1', 'i')).toThrow(expect.objectContaining({ code: 'LOG_CORRUPT' }));
    expect(() => parsePartitionValue('boolean', 'yes', 'b')).toThrow(expect.objectContaining({ code: 'LOG_CORRUPT' }));
  });
});

describe('dates and decimals', () => {
  it('parses strict YYYY-MM-DD only', () => {
    expect(parseDateString('1970-01-02')).toBe(1);
    expect(parseDateString('1969-12-31')).toBe(-1);
    expect(parseDateString('0099-12-31')).toBe(-683004);
    expect(parseDateString('2023-02-29')).toBeUndefined();
    expect(parseDateString('2023-2-1')).toBeUndefined();
  });
  it('formats decimals plainly', () => {
    expect(formatDecimal(-5n, 3)).toBe('-0.005');
    expect(formatDecimal(123n, 0)).toBe('123');
    expect(formatDecimal(120000n, 2)).toBe('1200.00');
  });
});

describe('compareCodePoints', () => {
  it('orders like UTF-8 bytes, not UTF-16 units', () => {
    // U+FF61 (one UTF-16 unit, 0xFF61) sorts before U+1F600 (surrogates 0xD83D…) by code point.
    expect(compareCodePoints('\uff61', '😀')).toBeLessThan(0);
    expect('\uff61' < '😀').toBe(false); // JS order differs
    expect(compareCodePoints('a', 'ab')).toBeLessThan(0);
    expect(compareCodePoints('b', 'ab')).toBeGreaterThan(0);
  });
  it('property: agrees with Buffer.compare of UTF-8', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'grapheme' }), (a, b) => {
        const expected = Math.sign(Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
        expect(Math.sign(compareCodePoints(a, b))).toBe(expected);
      }),
    );
  });
});

describe('validatePartitionColumns', () => {
  it('accepts top-level primitive columns and refuses the rest', () => {
    expect(() => validatePartitionColumns(schema, ['s', 'd', 'i'])).not.toThrow();
    expect(() => validatePartitionColumns(schema, ['nope'])).toThrow(/not a column/);
    expect(() => validatePartitionColumns(schema, ['bin'])).toThrow(/binary/);
    expect(() => validatePartitionColumns(schema, ['st'])).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(() => validatePartitionColumns(schema, ['s', 's'])).toThrow(/twice/);
    const two: StructType = { type: 'struct', fields: schema.fields.slice(0, 2) };
    expect(() => validatePartitionColumns(two, ['id', 's'])).toThrow(/all columns/);
  });
});

describe('compilePartitionPredicate', () => {
  const parts = ['s', 'd', 'i'];
  it('evaluates =, IN, IS NULL and ranges on log-encoded partition values, and renders SQL', () => {
    const p = compilePartitionPredicate(
      schema,
      parts,
      and(or(eq('s', 'eu'), isNull('s')), ge('d', '2024-01-01'), lt('d', '2024-02-01')),
    );
    expect(p.sql).toBe("(((s = 'eu') OR (s IS NULL)) AND (d >= DATE'2024-01-01') AND (d < DATE'2024-02-01'))");
    expect(p.matches({ s: 'eu', d: '2024-01-31', i: '1' })).toBe(true);
    expect(p.matches({ s: null, d: '2024-01-01' })).toBe(true);
    expect(p.matches({ s: '', d: '2024-01-01' })).toBe(true);
    expect(p.matches({ s: 'us', d: '2024-01-15' })).toBe(false);
    expect(p.matches({ s: 'eu', d: '2024-02-01' })).toBe(false);
    expect(p.matches({ s: 'eu', d: null })).toBe(false);
    const q = compilePartitionPredicate(schema, parts, and(eq('i', 5), isIn('s', ["o'k", 'x'])));
    expect(q.sql).toBe("((i = 5) AND (s IN ('o\\'k', 'x')))");
    expect(q.matches({ i: '5', s: "o'k" })).toBe(true);
    expect(q.matches({ i: '6', s: "o'k" })).toBe(false);
    expect(compilePartitionPredicate(schema, parts, isNull('i')).matches({})).toBe(true);
  });
  it('refuses non-partition columns and bad literals; reports bad log values as LOG_CORRUPT', () => {
    expect(() => compilePartitionPredicate(schema, parts, eq('id', 1))).toThrow(
      /only use partition columns; id is not/,
    );
    expect(() => compilePartitionPredicate(schema, parts, eq('i', 'x'))).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    const p = compilePartitionPredicate(schema, parts, eq('i', 1));
    expect(() => p.matches({ i: 'one' })).toThrow(expect.objectContaining({ code: 'LOG_CORRUPT' }));
  });
});
