// The value converters behind encodeRows: dates, timestamps (ISO-8601 with µs and offsets), longs,
// decimals (exact, never rounded) and their int64/Decimal128 word layout, checked against Date,
// BigInt and DataView as independent references.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RejectedValue } from '../../../sinks/parquet/errors.js';
import {
  daysFromCivil,
  formatDays,
  formatDecimal,
  setDecimal128,
  setInt64,
  toDays,
  toEpochMicros,
  toLong,
  toUnscaledDecimal,
} from '../../../sinks/parquet/values.js';

const DAY_MS = 86_400_000;
const MIN_DAY = -719162; // 0001-01-01
const MAX_DAY = 2932896; // 9999-12-31
const pad = (n: number | bigint, w: number) => String(n).padStart(w, '0');

/** The reason a converter refuses `value` (fails the test when it accepts it). */
function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof RejectedValue) return error.reason;
    throw error;
  }
  throw new Error('expected the value to be refused');
}

describe('dates', () => {
  it('converts between day numbers and YYYY-MM-DD like Date does, for years 0001-9999', () => {
    fc.assert(
      fc.property(fc.integer({ min: MIN_DAY, max: MAX_DAY }), (days) => {
        const iso = new Date(days * DAY_MS).toISOString().slice(0, 10);
        expect(formatDays(days)).toBe(iso);
        expect(toDays(iso)).toBe(days);
        const [y, m, d] = iso.split('-').map(Number) as [number, number, number];
        expect(daysFromCivil(y, m, d)).toBe(days);
      }),
      { numRuns: 3000 },
    );
  });

  it('takes a Date as its UTC calendar day and a number as days', () => {
    expect(toDays(new Date(Date.UTC(2024, 1, 29, 23, 59, 59, 999)))).toBe(Date.UTC(2024, 1, 29) / DAY_MS);
    expect(toDays(new Date(Date.UTC(1969, 11, 31, 0, 0, 0, 1)))).toBe(-1);
    expect(toDays(-1)).toBe(-1);
    expect(toDays(19_000)).toBe(19_000);
  });

  it.each([
    ['2023-02-29', /not a 'YYYY-MM-DD' date/],
    ['2024-13-01', /not a 'YYYY-MM-DD' date/],
    ['2024-1-01', /not a 'YYYY-MM-DD' date/],
    ['2024-01-01T00:00:00Z', /not a 'YYYY-MM-DD' date/],
    [1.5, /not an int32 number of days/],
    [2 ** 31, /not an int32 number of days/],
    [new Date(Number.NaN), /invalid Date/],
    [true, /expected a date value, got boolean/],
  ])('refuses %s', (value, reason) => {
    expect(refusal(() => toDays(value))).toMatch(reason);
  });
});

/** ISO-8601 text of epoch µs at a UTC offset (minutes), with the calendar part from Date. */
function iso(us: bigint, offsetMinutes: number, fractionDigits: number, sep = 'T'): string {
  const local = us + BigInt(offsetMinutes) * 60_000_000n;
  const seconds = local >= 0n ? local / 1_000_000n : -((-local + 999_999n) / 1_000_000n);
  const micros = pad(local - seconds * 1_000_000n, 6);
  const base = new Date(Number(seconds) * 1000).toISOString().slice(0, 19).replace('T', sep);
  const fraction = fractionDigits === 0 ? '' : `.${(micros + '000').slice(0, fractionDigits)}`;
  const sign = offsetMinutes < 0 ? '-' : '+';
  const off = Math.abs(offsetMinutes);
  const zone = offsetMinutes === 0 ? 'Z' : `${sign}${pad(Math.floor(off / 60), 2)}:${pad(off % 60, 2)}`;
  return `${base}${fraction}${zone}`;
}

describe('timestamps', () => {
  const micros = fc.bigInt({
    min: BigInt(MIN_DAY + 1) * 86_400_000_000n,
    max: BigInt(MAX_DAY - 1) * 86_400_000_000n,
  });

  it('parses ISO-8601 with Z or ±HH:MM offsets, keeping microseconds', () => {
    fc.assert(
      fc.property(
        micros,
        fc.integer({ min: -18 * 60, max: 18 * 60 }),
        fc.integer({ min: 6, max: 9 }),
        (us, off, digits) => {
          expect(BigInt(toEpochMicros(iso(us, off, digits)))).toBe(us);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('reads shorter fractions, no seconds fraction, a space separator and compact offsets', () => {
    const us = 1_704_164_645_123_000n; // 2024-01-02T03:04:05.123Z
    expect(BigInt(toEpochMicros('2024-01-02T03:04:05.123Z'))).toBe(us);
    expect(BigInt(toEpochMicros('2024-01-02 03:04:05.1z'))).toBe(us - 23_000n);
    expect(BigInt(toEpochMicros('2024-01-02T03:04:05Z'))).toBe(us - 123_000n);
    expect(BigInt(toEpochMicros('2024-01-02T03:04Z'))).toBe(us - 5_123_000n);
    expect(BigInt(toEpochMicros('2024-01-02T05:04:05.123+0200'))).toBe(us);
    expect(BigInt(toEpochMicros('2024-01-02T01:04:05.123-02'))).toBe(us);
    expect(BigInt(toEpochMicros('2024-01-02T03:04:05.123000000Z'))).toBe(us);
  });

  it('agrees with Date.parse on millisecond timestamps', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }),
        (d) => {
          expect(BigInt(toEpochMicros(d.toISOString()))).toBe(BigInt(d.getTime()) * 1000n);
          expect(BigInt(toEpochMicros(d))).toBe(BigInt(d.getTime()) * 1000n);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('takes numbers as milliseconds (rounded to µs) and bigints as microseconds', () => {
    expect(toEpochMicros(1_700_000_000_123)).toBe(1_700_000_000_123_000);
    expect(toEpochMicros(1.001)).toBe(1001);
    expect(toEpochMicros(-1.5)).toBe(-1500);
    expect(toEpochMicros(123n)).toBe(123n);
    expect(toEpochMicros(8_000_000_000_000_000)).toBe(8_000_000_000_000_000_000n);
    expect(toEpochMicros(4_000_000_000_000_001)).toBe(4_000_000_000_000_001_000n);
    expect(toEpochMicros(-4_000_000_000_000_001)).toBe(-4_000_000_000_000_001_000n);
  });

  it.each([
    ['2024-01-02T03:04:05', /with a zone/],
    ['2024-01-02', /with a zone/],
    ['2024-01-02T24:00:00Z', /with a zone/],
    ['2024-01-02T03:04:05.Z', /with a zone/],
    ['2024-01-02T03:04:05.1234567Z', /sub-microsecond digits/],
    ['2024-01-02T03:04:05Z junk', /with a zone/],
    ['2024-02-30T00:00:00Z', /with a zone/],
    [Number.NaN, /not a finite number/],
    [2n ** 63n, /outside the int64 range/],
    [new Date(Number.NaN), /invalid Date/],
    [{}, /expected a timestamp value, got object/],
  ])('refuses %s', (value, reason) => {
    expect(refusal(() => toEpochMicros(value))).toMatch(reason);
  });
});

describe('longs and the int64 layout', () => {
  it('writes safe numbers and bigints as little-endian int64', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), fc.maxSafeInteger()), {
          minLength: 1,
          maxLength: 20,
        }),
        (values) => {
          const big = new BigInt64Array(values.length);
          const words = new Int32Array(big.buffer);
          for (const [i, v] of values.entries()) setInt64(words, big, i, toLong(v));
          const view = new DataView(big.buffer);
          for (const [i, v] of values.entries()) expect(view.getBigInt64(8 * i, true)).toBe(BigInt(v));
        },
      ),
    );
  });

  it('refuses unsafe or fractional numbers and non-numbers', () => {
    expect(refusal(() => toLong(2 ** 53))).toMatch(/not a safe integer/);
    expect(refusal(() => toLong(0.5))).toMatch(/not an integer/);
    expect(refusal(() => toLong('1'))).toMatch(/expected a long value, got string/);
  });
});

describe('decimals', () => {
  /** Independent text form of an unscaled value. */
  const text = (unscaled: bigint, scale: number) => {
    const negative = unscaled < 0n;
    const digits = pad(negative ? -unscaled : unscaled, scale + 1);
    const body =
      scale === 0 ? digits : `${digits.slice(0, digits.length - scale)}.${digits.slice(digits.length - scale)}`;
    return negative ? `-${body}` : body;
  };
  const decimal = fc
    .record({ precision: fc.integer({ min: 1, max: 38 }), scaleRatio: fc.double({ min: 0, max: 1, noNaN: true }) })
    .chain(({ precision, scaleRatio }) => {
      const scale = Math.floor(precision * scaleRatio);
      const bound = 10n ** BigInt(precision) - 1n;
      return fc.record({
        precision: fc.constant(precision),
        scale: fc.constant(scale),
        unscaled: fc.bigInt({ min: -bound, max: bound }),
      });
    });

  it('parses text exactly and formats it back with the full scale', () => {
    fc.assert(
      fc.property(decimal, ({ precision, scale, unscaled }) => {
        const parsed = toUnscaledDecimal(text(unscaled, scale), precision, scale);
        expect(BigInt(parsed)).toBe(unscaled);
        expect(formatDecimal(parsed, scale)).toBe(text(unscaled, scale));
        expect(BigInt(toUnscaledDecimal(unscaled, precision, scale))).toBe(unscaled);
      }),
      { numRuns: 3000 },
    );
  });

  it('writes unscaled values as little-endian two’s-complement 128-bit words', () => {
    fc.assert(
      fc.property(fc.array(decimal, { minLength: 1, maxLength: 10 }), (values) => {
        const big = new BigInt64Array(2 * values.length);
        const words = new Int32Array(big.buffer);
        for (const [i, v] of values.entries()) {
          setDecimal128(words, big, i, toUnscaledDecimal(v.unscaled, v.precision, v.scale));
        }
        const view = new DataView(big.buffer);
        values.forEach((v, i) => {
          const lo = view.getBigUint64(16 * i, true);
          const hi = view.getBigInt64(16 * i + 8, true);
          expect((hi << 64n) | lo).toBe(v.unscaled);
        });
      }),
    );
  });

  it.each<[unknown, number, number, bigint]>([
    ['12.3', 5, 2, 1230n],
    ['-0.05', 5, 2, -5n],
    ['+7', 3, 0, 7n],
    ['.5', 2, 1, 5n],
    ['5.', 2, 1, 50n],
    ['1.230', 10, 2, 123n],
    ['1.5e3', 6, 2, 150000n],
    ['12345E-2', 5, 2, 12345n],
    ['0e99999', 3, 1, 0n],
    ['-0.00', 3, 2, 0n],
    [0.1, 5, 2, 10n],
    [1e21, 25, 0, 10n ** 21n],
    [1e-7, 10, 8, 10n],
    [-12n, 3, 1, -12n],
    ['99999999999999999999999999999999999999', 38, 0, 10n ** 38n - 1n],
  ])('reads %s as decimal(%i,%i) unscaled %s', (value, precision, scale, unscaled) => {
    expect(BigInt(toUnscaledDecimal(value, precision, scale))).toBe(unscaled);
  });

  it.each<[unknown, number, number, RegExp]>([
    ['1.234', 10, 2, /more than 2 fraction digits \(no rounding is done\)/],
    [0.125, 10, 2, /more than 2 fraction digits/],
    ['1000.00', 5, 2, /needs 6 digits, more than decimal\(5,2\)/],
    ['1e3', 3, 0, /needs 4 digits/],
    [1000n, 3, 0, /more than 3 digits/],
    ['1.2.3', 5, 2, /not a decimal number/],
    ['', 5, 2, /not a decimal number/],
    ['-', 5, 2, /not a decimal number/],
    ['1e1234567', 5, 2, /not a decimal number/],
    [Number.POSITIVE_INFINITY, 5, 2, /not a finite decimal/],
    [true, 5, 2, /expected a decimal\(5,2\) value, got boolean/],
  ])('refuses %s for decimal(%i,%i)', (value, precision, scale, reason) => {
    expect(refusal(() => toUnscaledDecimal(value, precision, scale))).toMatch(reason);
  });
});
