// The JS values encodeRows accepts for each column type, and their conversion to the physical values
// written (days, epoch microseconds, unscaled decimals). Converters throw RejectedValue with a reason;
// the column builders turn it into a ParquetEncodeError naming the column and row.

import { RejectedValue } from './errors.js';

// Accepted inputs (undefined and null always mean null):
//   string                 string (a lone UTF-16 surrogate is refused: UTF-8 cannot hold it)
//   byte, short, integer   number: an integer within the type's range (bigint is refused)
//   long                   number (a safe integer) or bigint, within the int64 range
//   float, double          number (NaN and ±Infinity are kept; a finite double too large for
//                          float is refused rather than becoming Infinity)
//   boolean                boolean
//   binary                 Uint8Array (Buffer included)
//   date                   'YYYY-MM-DD' string (proleptic Gregorian, years 0000-9999); Date (its UTC
//                          calendar day); number of days since 1970-01-01 (an int32)
//   timestamp              Date; ISO-8601 string with a zone, 'YYYY-MM-DD(T| )HH:MM[:SS[.fraction]]'
//                          then 'Z' or ±HH[[:]MM] (up to 9 fraction digits; digits below the
//                          microsecond must be 0); number = milliseconds since the epoch (rounded to
//                          the nearest microsecond); bigint = microseconds since the epoch
//   decimal(p,s)           string ('-123.45', '1.5e3'), number (taken as the decimal it prints as,
//                          String(n), so 0.1 is exactly 0.1), bigint (the unscaled value). A value
//                          that needs rounding to s fraction digits or more than p digits is refused.
//   struct                 object (not an array, Map, Date or byte array); properties not in the
//                          schema are ignored, missing ones are null
//   array                  JS array
//   map                    Map (keys of the key type, never null), or a plain object when the key
//                          type is string

export const MS_PER_DAY = 86_400_000;
const TWO_32 = 4_294_967_296;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Days from 1970-01-01 to the proleptic Gregorian date y-m-d (H. Hinnant's days_from_civil). */
export function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** 'YYYY-MM-DD' of a day number (years outside 0000-9999 get a sign and six digits). */
export function formatDays(days: number): string {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  const year = y >= 0 && y <= 9999 ? pad(y, 4) : (y < 0 ? '-' : '+') + pad(Math.abs(y), 6);
  return `${year}-${pad(m, 2)}-${pad(d, 2)}`;
}

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

function daysInMonth(y: number, m: number): number {
  return m === 2 ? (isLeap(y) ? 29 : 28) : m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
}

/** Value of the `len` ASCII digits of `s` at `at`, or -1 if any is not a digit. */
function digits(s: string, at: number, len: number): number {
  let n = 0;
  for (let i = at; i < at + len; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n;
}

/** Day number of the 'YYYY-MM-DD' prefix of `s`, or -Infinity when it is not a valid date. */
function dateAt(s: string): number {
  if (s.length < 10 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45) return Number.NEGATIVE_INFINITY;
  const y = digits(s, 0, 4);
  const m = digits(s, 5, 2);
  const d = digits(s, 8, 2);
  if (y < 0 || m < 1 || m > 12 || d < 1 || d > daysInMonth(y, m)) return Number.NEGATIVE_INFINITY;
  return daysFromCivil(y, m, d);
}

/** Years a timestamp is read from its bytes in: its microseconds stay within ±2^53 (1685-2255). */
const MIN_FAST_YEAR = 1700;
const MAX_FAST_YEAR = 2200;
const MICROS_PER_DAY = 86_400_000_000;

/** The 2-digit number at b[p], or -1. */
function two(b: Uint8Array, p: number): number {
  const x = b[p]! - 0x30;
  const y = b[p + 1]! - 0x30;
  return x >= 0 && x <= 9 && y >= 0 && y <= 9 ? x * 10 + y : -1;
}

/**
 * Days of a canonical date 'YYYY-MM-DD' (year 0001-9999, a real day) at b[p, p + 10), or -1. Read
 * as toDays reads it (the JSON scanner of the ingest stage takes dates from their bytes).
 */
export function canonicalDate(b: Uint8Array, p: number): number {
  if (b[p + 4] !== 0x2d || b[p + 7] !== 0x2d) return -1;
  const hi = two(b, p);
  const lo = two(b, p + 2);
  const month = two(b, p + 5);
  const day = two(b, p + 8);
  if (hi < 0 || lo < 0 || month < 1 || month > 12 || day < 1) return -1;
  const year = hi * 100 + lo;
  if (year < 1 || day > daysInMonth(year, month)) return -1;
  return daysFromCivil(year, month, day);
}

/**
 * Microseconds of a canonical UTC timestamp 'YYYY-MM-DDTHH:MM:SS[.f{1,6}]Z' (year 1700-2200) at
 * b[start, end), or -1 (then the text takes the general checks): what toEpochMicros gives for the text.
 */
export function canonicalTimestamp(b: Uint8Array, start: number, end: number): number {
  const n = end - start;
  if ((n !== 20 && (n < 22 || n > 27)) || b[start + 10] !== 0x54 || b[end - 1] !== 0x5a) return -1;
  if (b[start + 13] !== 0x3a || b[start + 16] !== 0x3a) return -1;
  const days = canonicalDate(b, start);
  const year = two(b, start) * 100 + two(b, start + 2);
  if (days === -1 || year < MIN_FAST_YEAR || year > MAX_FAST_YEAR) return -1;
  const hour = two(b, start + 11);
  const minute = two(b, start + 14);
  const second = two(b, start + 17);
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return -1;
  let micros = 0;
  if (n > 20) {
    if (b[start + 19] !== 0x2e) return -1;
    for (let i = start + 20; i < end - 1; i++) {
      const d = b[i]! - 0x30;
      if (d < 0 || d > 9) return -1;
      micros = micros * 10 + d;
    }
    micros *= 10 ** (27 - n);
  }
  return days * MICROS_PER_DAY + ((hour * 60 + minute) * 60 + second) * 1_000_000 + micros;
}

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

/** A date value as days since 1970-01-01. Throws RejectedValue. */
export function toDays(value: unknown): number {
  if (typeof value === 'string') {
    const days = value.length === 10 ? dateAt(value) : Number.NEGATIVE_INFINITY;
    if (days === Number.NEGATIVE_INFINITY) throw new RejectedValue(`'${value}' is not a 'YYYY-MM-DD' date`);
    return days;
  }
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < INT32_MIN || value > INT32_MAX) {
      throw new RejectedValue(`${value} is not an int32 number of days`);
    }
    return value;
  }
  if (value instanceof Date) {
    const ms = value.getTime();
    if (Number.isNaN(ms)) throw new RejectedValue('invalid Date');
    return Math.floor(ms / MS_PER_DAY);
  }
  throw RejectedValue.wrongType('date', value);
}

function notTimestamp(s: string): never {
  throw new RejectedValue(`'${s}' is not an ISO-8601 timestamp with a zone (e.g. 2024-01-02T03:04:05.123456Z)`);
}

/**
 * Epoch microseconds of an ISO-8601 timestamp with a zone, as a number when exact, else a bigint.
 * (Hot path: no closures or regexes; a per-call closure costs ~10× the parse under tsx/esbuild.)
 */
function parseTimestamp(s: string): number | bigint {
  const days = dateAt(s);
  const sep = s.charCodeAt(10);
  if (days === Number.NEGATIVE_INFINITY || (sep !== 84 && sep !== 116 && sep !== 32) || s.charCodeAt(13) !== 58) {
    return notTimestamp(s);
  }
  const hh = digits(s, 11, 2);
  const mi = digits(s, 14, 2);
  if (hh < 0 || hh > 23 || mi < 0 || mi > 59) return notTimestamp(s);
  let at = 16;
  let ss = 0;
  let micros = 0;
  if (s.charCodeAt(at) === 58) {
    ss = digits(s, at + 1, 2);
    if (ss < 0 || ss > 59) return notTimestamp(s);
    at += 3;
    if (s.charCodeAt(at) === 46) {
      at++;
      const start = at;
      let frac = 0;
      while (at < s.length && at - start < 9) {
        const c = s.charCodeAt(at) - 48;
        if (c < 0 || c > 9) break;
        if (at - start < 6) frac = frac * 10 + c;
        else if (c !== 0) throw new RejectedValue(`'${s}' has sub-microsecond digits, which would be lost`);
        at++;
      }
      const n = at - start;
      if (n === 0) return notTimestamp(s);
      micros = n >= 6 ? frac : frac * 10 ** (6 - n);
    }
  }
  let offsetSeconds = 0;
  const z = s.charCodeAt(at);
  if (z === 90 || z === 122) {
    at++;
  } else if (z === 43 || z === 45) {
    const oh = digits(s, at + 1, 2);
    if (oh < 0 || oh > 23) return notTimestamp(s);
    at += 3;
    let om = 0;
    if (at < s.length) {
      if (s.charCodeAt(at) === 58) at++;
      om = digits(s, at, 2);
      if (om < 0 || om > 59) return notTimestamp(s);
      at += 2;
    }
    offsetSeconds = (z === 45 ? -1 : 1) * (oh * 3600 + om * 60);
  } else {
    return notTimestamp(s);
  }
  if (at !== s.length) return notTimestamp(s);
  const seconds = days * 86400 + hh * 3600 + mi * 60 + ss - offsetSeconds;
  // seconds * 1e6 stays exact below 2^53 (years 1685-2255); beyond that use bigint arithmetic.
  if (Math.abs(seconds) < 9_000_000_000) return seconds * 1_000_000 + micros;
  return BigInt(seconds) * 1_000_000n + BigInt(micros);
}

/** Epoch microseconds of a timestamp value: a number when it is a safe integer, else a bigint. */
export function toEpochMicros(value: unknown): number | bigint {
  if (typeof value === 'string') return parseTimestamp(value);
  if (value instanceof Date) {
    const ms = value.getTime();
    if (Number.isNaN(ms)) throw new RejectedValue('invalid Date');
    // A Date holds |ms| ≤ 8.64e15; ms * 1000 is exact only below 2^53 (about year 2255).
    return Math.abs(ms) < 9_007_199_254_740 ? ms * 1000 : BigInt(ms) * 1000n;
  }
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new RejectedValue(`${value} is not a finite number of milliseconds`);
    const us = Math.round(value * 1000);
    if (Number.isSafeInteger(us)) return us;
    // Beyond 2^53 µs (about year 2255) multiply exactly; a fraction of a ms no longer fits a double.
    return toInt64(BigInt(Number.isInteger(value) ? value : Math.round(value)) * 1000n);
  }
  if (typeof value === 'bigint') return toInt64(value);
  throw RejectedValue.wrongType('timestamp', value);
}

function toInt64(value: bigint): bigint {
  if (value < INT64_MIN || value > INT64_MAX) throw new RejectedValue(`${value} is outside the int64 range`);
  return value;
}

/** A long value, checked: a safe-integer number or an int64 bigint. */
export function toLong(value: unknown): number | bigint {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) {
      throw new RejectedValue(
        Number.isInteger(value)
          ? `${value} is not a safe integer (pass a bigint for longs beyond ±2^53)`
          : `${value} is not an integer`,
      );
    }
    return value;
  }
  if (typeof value === 'bigint') return toInt64(value);
  throw RejectedValue.wrongType('long', value);
}

/** Writes an int64 (safe-integer number or bigint) into slot `i` of the little-endian word pairs. */
export function setInt64(words: Int32Array, big: BigInt64Array, i: number, value: number | bigint): void {
  if (typeof value === 'number') {
    const hi = Math.floor(value / TWO_32);
    words[2 * i] = (value - hi * TWO_32) | 0;
    words[2 * i + 1] = hi;
  } else {
    big[i] = value;
  }
}

const DECIMAL_TEXT = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/** 10^p as a bigint, for p ≤ 38. */
const POW10: readonly bigint[] = Array.from({ length: 39 }, (_, p) => 10n ** BigInt(p));

/**
 * The unscaled value (value × 10^scale) of a decimal(precision, scale) input, as a number when it
 * has at most 15 digits, else a bigint. Refuses values that need rounding or more digits.
 */
export function toUnscaledDecimal(value: unknown, precision: number, scale: number): number | bigint {
  let text: string;
  if (typeof value === 'string') text = value;
  else if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new RejectedValue(`${value} is not a finite decimal`);
    text = String(value);
  } else if (typeof value === 'bigint') {
    const bound = POW10[precision] as bigint;
    if (value >= bound || value <= -bound) {
      throw new RejectedValue(`unscaled ${value} has more than ${precision} digits`);
    }
    return value >= -9_007_199_254_740_991n && value <= 9_007_199_254_740_991n ? Number(value) : value;
  } else {
    throw RejectedValue.wrongType(`decimal(${precision},${scale})`, value);
  }
  const m = DECIMAL_TEXT.exec(text);
  const whole = m?.[2] ?? '';
  const fraction = m?.[3] ?? '';
  if (!m || whole.length + fraction.length === 0 || (m[4] !== undefined && m[4].length > 6)) {
    throw new RejectedValue(`'${text}' is not a decimal number`);
  }
  const exponent = m[4] === undefined ? 0 : Number(m[4]);
  // value = digits × 10^(exponent − fraction.length); unscaled = digits × 10^shift.
  let digitsText = whole + fraction;
  const shift = exponent - fraction.length + scale;
  if (shift < 0) {
    const cut = digitsText.length + shift;
    const dropped = cut > 0 ? digitsText.slice(cut) : digitsText;
    if (/[^0]/.test(dropped)) {
      throw new RejectedValue(`'${text}' has more than ${scale} fraction digits (no rounding is done)`);
    }
    digitsText = cut > 0 ? digitsText.slice(0, cut) : '0';
  }
  let start = 0;
  while (start < digitsText.length - 1 && digitsText.charCodeAt(start) === 48) start++;
  digitsText = digitsText.slice(start);
  if (digitsText === '0') return 0;
  const length = digitsText.length + Math.max(shift, 0);
  if (length > precision) {
    throw new RejectedValue(`'${text}' needs ${length} digits, more than decimal(${precision},${scale}) holds`);
  }
  const negative = m[1] === '-';
  if (length <= 15) {
    const n = Number(digitsText) * 10 ** Math.max(shift, 0);
    return negative ? -n : n;
  }
  const big = BigInt(digitsText) * (POW10[Math.max(shift, 0)] as bigint);
  return negative ? -big : big;
}

/** Writes an unscaled decimal into slot `i` of a Decimal128 buffer (4 little-endian int32 words). */
export function setDecimal128(words: Int32Array, big: BigInt64Array, i: number, unscaled: number | bigint): void {
  if (typeof unscaled === 'number') {
    const hi = Math.floor(unscaled / TWO_32);
    const w = 4 * i;
    words[w] = (unscaled - hi * TWO_32) | 0;
    words[w + 1] = hi;
    const sign = hi < 0 ? -1 : 0;
    words[w + 2] = sign;
    words[w + 3] = sign;
  } else {
    big[2 * i] = BigInt.asIntN(64, unscaled);
    big[2 * i + 1] = unscaled >> 64n;
  }
}

/** An unscaled decimal as text with exactly `scale` fraction digits, e.g. (1230, 2) → '12.30'. */
export function formatDecimal(unscaled: number | bigint, scale: number): string {
  const negative = unscaled < 0;
  let text = (negative ? -BigInt(unscaled) : BigInt(unscaled)).toString();
  if (scale > 0) {
    text = text.padStart(scale + 1, '0');
    text = `${text.slice(0, text.length - scale)}.${text.slice(text.length - scale)}`;
  }
  return negative ? `-${text}` : text;
}
