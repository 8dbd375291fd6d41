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

/**
 * Event time of a value in ms since the epoch, or undefined for null/undefined/unparseable values.
 * Date; number = epoch ms; bigint = epoch µs (Delta timestamps); string = ISO-8601 with a zone.
 */
export function eventTimeMs(value: unknown): number | undefined {
  if (value instanceof Date) {
    const t = value.getTime();
    return Number.isNaN(t) ? undefined : t;
  }
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'bigint') return Number(value / 1000n);
  if (typeof value === 'string') {
    const t = Date.parse(value);
    return Number.isNaN(t) ? undefined : t;
  }
  return undefined;
}
