// Recognizers for typed literals in text input (CSV fields, JSON strings): 64-bit integers, doubles,
// booleans, ISO-8601 dates and zoned timestamps. Inference and conversion share them, so a value
// inferred as a type always converts to it. Timestamp syntax matches what lakestream's writer accepts.

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const INTEGER = /^[+-]?\d+$/;
const DECIMAL_NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const SPECIAL_DOUBLES: ReadonlyMap<string, number> = new Map([
  ['NaN', Number.NaN],
  ['Infinity', Number.POSITIVE_INFINITY],
  ['+Infinity', Number.POSITIVE_INFINITY],
  ['-Infinity', Number.NEGATIVE_INFINITY],
  ['Inf', Number.POSITIVE_INFINITY],
  ['+Inf', Number.POSITIVE_INFINITY],
  ['-Inf', Number.NEGATIVE_INFINITY],
]);
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:[Zz]|[+-](\d{2})(?::?(\d{2}))?)$/;

/** A 64-bit integer as a number when it is a safe integer, else a bigint. */
export type LongValue = number | bigint;

/** Parses an integer literal (optional sign, digits; leading zeros allowed) within int64, or undefined. */
export function parseLongLiteral(text: string): LongValue | undefined {
  if (!INTEGER.test(text)) return undefined;
  const big = BigInt(text);
  if (big < INT64_MIN || big > INT64_MAX) return undefined;
  return toLongValue(big);
}

/** A number for safe integers, the bigint otherwise. */
export function toLongValue(big: bigint): LongValue {
  return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
}

/** Whether a bigint fits in a signed 64-bit integer. */
export function fitsInt64(big: bigint): boolean {
  return big >= INT64_MIN && big <= INT64_MAX;
}

/**
 * Parses a decimal floating-point literal ('1.5', '-2e10', '.5', '3.') or NaN/Infinity/Inf with an
 * optional sign, or undefined. Hex and Java's 'd'/'f' suffixes are not numbers here.
 */
export function parseDoubleLiteral(text: string): number | undefined {
  const special = SPECIAL_DOUBLES.get(text);
  if (special !== undefined) return special;
  return DECIMAL_NUMBER.test(text) ? Number(text) : undefined;
}

/** Parses 'true'/'false' in any letter case, or undefined. */
export function parseBooleanLiteral(text: string): boolean | undefined {
  if (text.length !== 4 && text.length !== 5) return undefined;
  const lower = text.toLowerCase();
  return lower === 'true' ? true : lower === 'false' ? false : undefined;
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function validDate(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  const days = [31, isLeapYear(year) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]!;
  return day <= days;
}

/** Whether text is a calendar date 'YYYY-MM-DD' (proleptic Gregorian, years 0000-9999). */
export function isDateLiteral(text: string): boolean {
  const m = DATE.exec(text);
  return m !== null && validDate(Number(m[1]), Number(m[2]), Number(m[3]));
}

/**
 * Whether text is an ISO-8601 timestamp with a zone: 'YYYY-MM-DD(T|t| )HH:MM[:SS[.f{1,9}]]' then
 * 'Z' or ±HH[[:]MM]. Sub-microsecond digits must be zero (they could not be stored). Timestamps
 * without a zone are not recognized: their instant depends on a time zone the input does not give.
 */
export function isZonedTimestampLiteral(text: string): boolean {
  const m = TIMESTAMP.exec(text);
  if (m === null) return false;
  const [, year, month, day, hour, minute, second, fraction, offsetHour, offsetMinute] = m;
  if (!validDate(Number(year), Number(month), Number(day))) return false;
  if (Number(hour) > 23 || Number(minute) > 59 || (second !== undefined && Number(second) > 59)) return false;
  if (fraction !== undefined && fraction.length > 6 && !/^0+$/.test(fraction.slice(6))) return false;
  if (offsetHour !== undefined && Number(offsetHour) > 23) return false;
  if (offsetMinute !== undefined && Number(offsetMinute) > 59) return false;
  return true;
}
