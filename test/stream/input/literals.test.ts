// Literal recognizers shared by inference and conversion: int64 bounds, doubles, booleans, dates, timestamps.

import { describe, expect, it } from 'vitest';
import {
  isDateLiteral,
  isZonedTimestampLiteral,
  parseBooleanLiteral,
  parseDoubleLiteral,
  parseLongLiteral,
} from '../../../stream/input/literals.js';

describe('parseLongLiteral', () => {
  it('parses integers as numbers when safe and bigints up to the int64 bounds', () => {
    expect(parseLongLiteral('0')).toBe(0);
    expect(parseLongLiteral('-42')).toBe(-42);
    expect(parseLongLiteral('+7')).toBe(7);
    expect(parseLongLiteral('007')).toBe(7);
    expect(parseLongLiteral('9007199254740991')).toBe(9007199254740991);
    expect(parseLongLiteral('9007199254740993')).toBe(9007199254740993n);
    expect(parseLongLiteral('9223372036854775807')).toBe(9223372036854775807n);
    expect(parseLongLiteral('-9223372036854775808')).toBe(-9223372036854775808n);
  });

  it('refuses values outside int64 and non-integers', () => {
    for (const text of [
      '9223372036854775808',
      '-9223372036854775809',
      '1.0',
      '1e3',
      '',
      '-',
      ' 1',
      '1 ',
      '0x10',
      '1_000',
    ]) {
      expect(parseLongLiteral(text), text).toBeUndefined();
    }
  });
});

describe('parseDoubleLiteral', () => {
  it('parses decimal and exponent forms and NaN/Infinity spellings', () => {
    expect(parseDoubleLiteral('1.5')).toBe(1.5);
    expect(parseDoubleLiteral('-2e3')).toBe(-2000);
    expect(parseDoubleLiteral('.5')).toBe(0.5);
    expect(parseDoubleLiteral('3.')).toBe(3);
    expect(parseDoubleLiteral('1E-2')).toBe(0.01);
    expect(parseDoubleLiteral('NaN')).toBeNaN();
    expect(parseDoubleLiteral('-Infinity')).toBe(Number.NEGATIVE_INFINITY);
    expect(parseDoubleLiteral('Inf')).toBe(Number.POSITIVE_INFINITY);
  });

  it('refuses text that is not a number', () => {
    for (const text of ['', '.', 'e5', '1e', '1.0d', '0x1p3', 'nan', '1,5', ' 1.5', '--1']) {
      expect(parseDoubleLiteral(text), text).toBeUndefined();
    }
  });
});

describe('parseBooleanLiteral', () => {
  it('accepts true/false in any case only', () => {
    expect(parseBooleanLiteral('TRUE')).toBe(true);
    expect(parseBooleanLiteral('False')).toBe(false);
    for (const text of ['yes', '1', 't', 'truee', ' true']) expect(parseBooleanLiteral(text), text).toBeUndefined();
  });
});

describe('isDateLiteral', () => {
  it('accepts real calendar dates only', () => {
    expect(isDateLiteral('2024-02-29')).toBe(true);
    expect(isDateLiteral('2000-02-29')).toBe(true);
    expect(isDateLiteral('0001-01-01')).toBe(true);
    for (const text of [
      '2023-02-29',
      '1900-02-29',
      '2024-13-01',
      '2024-00-10',
      '2024-04-31',
      '2024-1-01',
      '24-01-01',
      '2024-01-01T00:00:00Z',
    ]) {
      expect(isDateLiteral(text), text).toBe(false);
    }
  });
});

describe('isZonedTimestampLiteral', () => {
  it('accepts ISO-8601 timestamps with Z or an offset', () => {
    for (const text of [
      '2024-01-02T03:04:05Z',
      '2024-01-02 03:04:05.123456+01:00',
      '2024-01-02t03:04z',
      '2024-01-02T03:04:05.123456789Z'.replace('789', '000'),
      '2024-01-02T23:59:59-0530',
      '2024-01-02T00:00:00+05',
    ]) {
      expect(isZonedTimestampLiteral(text), text).toBe(true);
    }
  });

  it('refuses zone-less, invalid or sub-microsecond timestamps', () => {
    for (const text of [
      '2024-01-02T03:04:05',
      '2024-01-02',
      '2024-02-30T00:00:00Z',
      '2024-01-02T24:00:00Z',
      '2024-01-02T03:60:00Z',
      '2024-01-02T03:04:05.123456789Z',
      '2024-01-02T03:04:05+24:00',
      '2024-01-02T03:04:05.Z',
    ]) {
      expect(isZonedTimestampLiteral(text), text).toBe(false);
    }
  });
});
