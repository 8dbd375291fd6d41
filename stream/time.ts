// Durations ('10 minutes', '1 day', 5000) and event-time values (Date, ISO string, epoch ms number,
// epoch µs bigint) as milliseconds.

import { StreamArgumentError } from './errors.js';

const UNITS: Readonly<Record<string, number>> = {
  ms: 1,
  millisecond: 1,
  milliseconds: 1,
  s: 1000,
  sec: 1000,
  second: 1000,
  seconds: 1000,
  m: 60_000,
  min: 60_000,
  minute: 60_000,
  minutes: 60_000,
  h: 3_600_000,
  hour: 3_600_000,
  hours: 3_600_000,
  d: 86_400_000,
  day: 86_400_000,
  days: 86_400_000,
  week: 604_800_000,
  weeks: 604_800_000,
};

/** A duration: a number of milliseconds, or text such as '10 minutes', '1 day', '500 ms', '1h 30m'. */
export type Duration = number | string;

/** Parses a duration into ms (>= 0); `name` is the option named in the error. */
export function durationMs(value: Duration, name: string): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value >= 0) return value;
  } else if (typeof value === 'string') {
    const text = value
      .trim()
      .toLowerCase()
      .replace(/^interval\s+/, '');
    const parts = [...text.matchAll(/(\d+(?:\.\d+)?)\s*([a-z]+)/g)];
    const rest = text.replace(/(\d+(?:\.\d+)?)\s*([a-z]+)/g, '').trim();
    if (parts.length > 0 && rest === '') {
      let total = 0;
      let ok = true;
      for (const [, amount, unit] of parts) {
        const factor = UNITS[unit!];
        if (factor === undefined) ok = false;
        else total += Number(amount) * factor;
      }
      if (ok) return total;
    }
  }
  throw new StreamArgumentError(
    `${name}: ${JSON.stringify(value)} is not a duration (use milliseconds or text like '10 minutes', '1 day')`,
    { option: name },
  );
}

const MS_PER_DAY = 86_400_000;

/** The number at text[at..at+2) when both are ASCII digits, else -1. */
function twoDigits(text: string, at: number): number {
  const tens = text.charCodeAt(at) - 48;
  const ones = text.charCodeAt(at + 1) - 48;
  return tens >= 0 && tens <= 9 && ones >= 0 && ones <= 9 ? tens * 10 + ones : -1;
}

/**
 * Days since 1970-01-01 of the calendar date 'YYYY-MM-DD' at text[at..at+10) (proleptic Gregorian,
 * years 0000-9999), or NaN when it is not one (wrong shape, month or day out of range).
 */
export function isoDateDays(text: string, at: number): number {
  const century = twoDigits(text, at);
  const yy = twoDigits(text, at + 2);
  const month = twoDigits(text, at + 5);
  const day = twoDigits(text, at + 8);
  if (century < 0 || yy < 0 || month < 1 || month > 12 || day < 1) return Number.NaN;
  if (text.charCodeAt(at + 4) !== 45 || text.charCodeAt(at + 7) !== 45) return Number.NaN; // '-'
  const year = century * 100 + yy;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  if (day > (month === 2 ? (leap ? 29 : 28) : month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31)) {
    return Number.NaN;
  }
  // Days from the civil date (H. Hinnant's algorithm, years counted from March).
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

/**
 * Milliseconds since the epoch of a UTC timestamp of the usual shape 'YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z'
 * (capital T and Z, a valid calendar date, hour <= 23, minute and second <= 59) — exactly what
 * Date.parse gives for it, fraction digits past the millisecond truncated — or NaN for any other
 * text, which callers hand to the general parser.
 */
export function utcTimestampMs(text: string): number {
  const n = text.length;
  if (n !== 20 && (n < 22 || n > 30)) return Number.NaN;
  if (text.charCodeAt(10) !== 84 || text.charCodeAt(n - 1) !== 90) return Number.NaN; // 'T', 'Z'
  if (text.charCodeAt(13) !== 58 || text.charCodeAt(16) !== 58) return Number.NaN; // ':'
  const hour = twoDigits(text, 11);
  const minute = twoDigits(text, 14);
  const second = twoDigits(text, 17);
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return Number.NaN;
  let ms = 0;
  if (n > 20) {
    if (text.charCodeAt(19) !== 46) return Number.NaN; // '.'
    for (let i = 20; i < n - 1; i++) {
      const digit = text.charCodeAt(i) - 48;
      if (digit < 0 || digit > 9) return Number.NaN;
      if (i < 23) ms = ms * 10 + digit;
    }
    if (n < 24) ms *= n === 22 ? 100 : 10;
  }
  const days = isoDateDays(text, 0);
  return days * MS_PER_DAY + hour * 3_600_000 + minute * 60_000 + second * 1000 + ms;
}

/**
 * Event time of a value in ms since the epoch, or undefined for null/undefined/unparseable values.
 * Date; number = epoch ms; bigint = epoch µs (Delta timestamps); string = ISO-8601 with a zone.
 */
export function eventTimeMs(value: unknown): number | undefined {
  if (typeof value === 'string') {
    const fast = utcTimestampMs(value);
    if (!Number.isNaN(fast)) return fast; // the usual 'YYYY-MM-DDTHH:MM:SS[.fff]Z'
    const t = Date.parse(value);
    return Number.isNaN(t) ? undefined : t;
  }
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (value instanceof Date) {
    const t = value.getTime();
    return Number.isNaN(t) ? undefined : t;
  }
  if (typeof value === 'bigint') return Number(value / 1000n);
  return undefined;
}
