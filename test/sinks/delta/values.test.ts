// Unit tests of the reader's value model: partition value parsing per type, decimals, dates and
// timestamps (formats and round trips), literal normalisation and the per-type order.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  coerceParquetValue,
  compareStrings,
  compareValues,
  decimalToUnscaled,
  formatDays,
  formatTimestampMicros,
  formatUnscaled,
  normalizeLiteral,
  parseDays,
  parsePartitionValue,
  parseTimestampMicros,
  ValueError,
} from '../../../sinks/delta/values.js';

describe('partition values', () => {
  it.each([
    ['string', 'a b', 'a b'],
    ['integer', '-12', -12],
    ['byte', '127', 127],
    ['long', '9223372036854775807', 9223372036854775807n],
    ['double', '1.5', 1.5],
    ['float', '0.1', Math.fround(0.1)],
    ['double', 'NaN', Number.NaN],
    ['double', '-Infinity', Number.NEGATIVE_INFINITY],
    ['boolean', 'TRUE', true],
    ['date', '2021-9-8', '2021-09-08'],
    ['timestamp', '2021-09-08 11:11:11', BigInt(Date.UTC(2021, 8, 8, 11, 11, 11)) * 1000n],
    ['timestamp', '1970-01-01 00:00:00.123456', 123456n],
    ['timestamp', '1970-01-01T00:00:00.000001Z', 1n],
    ['timestamp_ntz', '2013-07-05 17:01:00.123456', BigInt(Date.UTC(2013, 6, 5, 17, 1)) * 1000n + 123456n],
    ['decimal(12,5)', '-2342342.23423', '-2342342.23423'],
    ['decimal(12,5)', '234', '234.00000'],
    ['decimal(5,2)', '1E+2', '100.00'],
  ])('%s %j', (type, text, expected) => {
    expect(parsePartitionValue(text, type as never)).toEqual(expected);
  });

  it('treats null and the empty string as null for every type', () => {
    for (const type of ['string', 'integer', 'long', 'date', 'timestamp', 'decimal(4,1)', 'boolean'] as const) {
      expect(parsePartitionValue(null, type)).toBeNull();
      expect(parsePartitionValue('', type)).toBeNull();
    }
  });

  it.each([
    ['integer', '1.5'],
    ['byte', '128'],
    ['long', 'x'],
    ['boolean', 'yes'],
    ['date', '2021/01/01'],
    ['timestamp', 'noon'],
    ['decimal(4,1)', '1.25'],
  ])('refuses %s %j', (type, text) => {
    expect(() => parsePartitionValue(text, type as never)).toThrow(ValueError);
  });
});

describe('decimals', () => {
  it('parses and formats exactly at a scale', () => {
    expect(decimalToUnscaled('-12.5', 3)).toBe(-12500n);
    expect(decimalToUnscaled('0.000', 0)).toBe(0n);
    expect(formatUnscaled(-5n, 3)).toBe('-0.005');
    expect(formatUnscaled(12345678901234567890123456789012345678n, 36)).toBe('12.345678901234567890123456789012345678');
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(10n ** 38n) + 1n, max: 10n ** 38n - 1n }),
        fc.integer({ min: 0, max: 38 }),
        (n, s) => {
          expect(decimalToUnscaled(formatUnscaled(n, s), s)).toBe(n);
        },
      ),
    );
  });
});

describe('dates and timestamps', () => {
  it('round-trip day numbers and microseconds, before and after the epoch', () => {
    fc.assert(
      fc.property(fc.integer({ min: -719162, max: 2932896 }), (days) => {
        expect(parseDays(formatDays(days))).toBe(days);
        expect(formatDays(days)).toBe(new Date(days * 86_400_000).toISOString().slice(0, 10));
      }),
    );
    fc.assert(
      fc.property(fc.bigInt({ min: -62135596800000000n, max: 253402300799999999n }), (micros) => {
        expect(parseTimestampMicros(formatTimestampMicros(micros))).toBe(micros);
      }),
    );
  });

  it('reads offsets, including Spark 4 second-precision ones', () => {
    expect(parseTimestampMicros('2000-01-01T00:00:00.000-08:00')).toBe(BigInt(Date.UTC(2000, 0, 1, 8)) * 1000n);
    expect(parseTimestampMicros('1900-01-01T00:00:00.000+00:53:28')).toBe(
      (BigInt(Date.UTC(1900, 0, 1)) - 3208000n) * 1000n,
    );
    expect(formatTimestampMicros(-1n)).toBe('1969-12-31T23:59:59.999999Z');
  });
});

describe('literals and order', () => {
  it('normalizes literals to the column type', () => {
    expect(normalizeLiteral(5, 'long')).toBe(5n);
    expect(normalizeLiteral('2021-09-08', 'date')).toBe('2021-09-08');
    expect(normalizeLiteral(new Date(Date.UTC(2021, 8, 8)), 'date')).toBe('2021-09-08');
    expect(normalizeLiteral(new Date(1500), 'timestamp')).toBe(1500000n);
    expect(normalizeLiteral('1970-01-01T00:00:01Z', 'timestamp')).toBe(1000000n);
    expect(() => normalizeLiteral('x', 'integer')).toThrow(ValueError);
    expect(() => normalizeLiteral(1.5, 'long')).toThrow(ValueError);
  });

  it('orders values per type', () => {
    expect(compareValues('10.50', '10.5', 'decimal(4,2)')).toBe(0);
    expect(compareValues('-1', '0.001', 'decimal(4,3)')).toBe(-1);
    expect(compareValues(3n, 2.5, 'long')).toBe(1);
    expect(compareValues(2n, 2.5, 'long')).toBe(-1);
    expect(compareValues(2n, 2, 'long')).toBe(0);
    expect(compareValues(Number.NaN, 1, 'double')).toBeUndefined();
    expect(compareValues(null, 1, 'integer')).toBeUndefined();
    expect(compareValues(true, false, 'boolean')).toBe(1);
    expect(compareValues(new Uint8Array([1]), new Uint8Array([1, 0]), 'binary')).toBe(-1);
    // Code point order: U+1F600 (surrogate pair) sorts after U+FFFD, unlike UTF-16 code unit order.
    expect(compareStrings('\u{1F600}', '\uFFFD')).toBe(1);
    expect('\u{1F600}' < '\uFFFD').toBe(true);
  });

  it('coerces Parquet values to the schema, recursively', () => {
    expect(coerceParquetValue(7, 'long')).toBe(7n);
    expect(coerceParquetValue(7n, 'integer')).toBe(7);
    expect(coerceParquetValue('1.5', 'decimal(5,3)')).toBe('1.500');
    const struct = {
      type: 'struct' as const,
      fields: [
        { name: 'a', type: 'long' as const, nullable: true, metadata: {} },
        { name: 'b', type: 'string' as const, nullable: true, metadata: {} },
      ],
    };
    expect(coerceParquetValue({ A: 1, extra: 'x' }, struct)).toEqual({ a: 1n, b: null });
    expect(coerceParquetValue([1, null], { type: 'array', elementType: 'long', containsNull: true })).toEqual([
      1n,
      null,
    ]);
  });
});
