// Event time: the fast path for 'YYYY-MM-DDTHH:MM:SS[.fff]Z' gives exactly Date.parse's result, and
// anything else still goes to Date.parse.

import { describe, expect, it } from 'vitest';
import { eventTimeMs, isoDateDays, utcTimestampMs } from '../../stream/time.js';
import { prng } from '../kit/prng.js';

/** eventTimeMs before the fast path. */
function referenceEventTimeMs(value: unknown): number | undefined {
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

const pad = (n: number, width: number) => String(n).padStart(width, '0');

/** Timestamps near and off the usual shape: out-of-range fields, other zones and separators, odd fractions. */
function randomTimestamp(rand: () => number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  const usual = rand() < 0.6;
  const year = rand() < 0.8 ? int(1900, 2100) : int(0, 9999);
  const month = usual ? int(1, 12) : int(0, 13);
  const day = usual ? int(1, 28) : int(0, 32);
  const hour = usual ? int(0, 23) : int(0, 25);
  const minute = usual ? int(0, 59) : int(0, 61);
  const second = usual ? int(0, 59) : int(0, 61);
  const digits = usual ? int(0, 9) : int(0, 12);
  let fraction = '';
  for (let i = 0; i < digits; i++) fraction += String(int(0, 9));
  const date = `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}`;
  const time = `${pad(hour, 2)}:${pad(minute, 2)}:${pad(second, 2)}${digits > 0 || rand() < 0.05 ? `.${fraction}` : ''}`;
  const separator = usual ? 'T' : pick(['T', 't', ' ', 'T', 'x']);
  const zone = usual ? 'Z' : pick(['Z', 'z', '+00:00', '-05:30', '+0530', '+01', '', 'ZZ', 'Z ']);
  const text = `${date}${separator}${time}${zone}`;
  if (!usual && rand() < 0.1) {
    // A character replaced by a random one.
    const at = int(0, text.length - 1);
    return `${text.slice(0, at)}${String.fromCharCode(int(32, 126))}${text.slice(at + 1)}`;
  }
  return text;
}

describe('utcTimestampMs and eventTimeMs', () => {
  it('agree with Date.parse on many random timestamps, near and off the usual shape', () => {
    const rand = prng(20240102);
    let fast = 0;
    for (let i = 0; i < 200_000; i++) {
      const text = randomTimestamp(rand);
      const ms = utcTimestampMs(text);
      if (!Number.isNaN(ms)) {
        fast++;
        if (ms !== Date.parse(text)) expect({ text, ms }).toEqual({ text, ms: Date.parse(text) });
      }
      const t = eventTimeMs(text);
      if (t !== referenceEventTimeMs(text)) expect({ text, t }).toEqual({ text, t: referenceEventTimeMs(text) });
    }
    // The fast path takes most of the usual-shape inputs.
    expect(fast).toBeGreaterThan(100_000);
  });

  it('agrees with Date.parse on every millisecond-precision instant from toISOString', () => {
    const rand = prng(7);
    const min = new Date('0000-01-01T00:00:00Z').getTime();
    const max = new Date('9999-12-31T23:59:59.999Z').getTime();
    for (let i = 0; i < 10_000; i++) {
      const ms = min + Math.floor(rand() * (max - min + 1));
      const text = new Date(ms).toISOString();
      expect(utcTimestampMs(text)).toBe(ms);
      // Without the milliseconds, and with micro/nanoseconds (truncated, as Date.parse does).
      const seconds = `${text.slice(0, 19)}Z`;
      expect(utcTimestampMs(seconds)).toBe(Date.parse(seconds));
      const nanos = `${text.slice(0, 23)}${pad(Math.floor(rand() * 1e6), 6)}Z`;
      expect(utcTimestampMs(nanos)).toBe(Date.parse(nanos));
    }
  });

  it('leaves everything but the usual shape to Date.parse', () => {
    for (const text of [
      '2024-01-02T24:00:00Z', // Date.parse: the next midnight
      '2024-02-30T00:00:00Z', // Date.parse: rolls over to March 1
      '2024-01-02t03:04:05Z',
      '2024-01-02T03:04:05z',
      '2024-01-02 03:04:05Z',
      '2024-01-02T03:04Z',
      '2024-01-02T03:04:05.Z',
      '2024-01-02T03:04:05.1234567890Z',
      '2024-01-02T03:04:05+00:00',
      '+002024-01-02T03:04:05Z',
      '2024-01-02',
      '',
    ]) {
      expect(utcTimestampMs(text)).toBeNaN();
      expect(eventTimeMs(text)).toBe(referenceEventTimeMs(text));
    }
    expect(eventTimeMs('2024-01-02T24:00:00Z')).toBe(Date.parse('2024-01-03T00:00:00Z'));
    expect(eventTimeMs('not a time')).toBeUndefined();
  });

  it('keeps the other event-time values', () => {
    for (const value of [new Date(5), new Date(Number.NaN), 5, Number.NaN, Infinity, 1_500n, null, undefined, {}]) {
      expect(eventTimeMs(value)).toBe(referenceEventTimeMs(value));
    }
  });
});

describe('isoDateDays', () => {
  it('counts days like Date.parse for every valid date and refuses invalid ones', () => {
    const rand = prng(11);
    for (let i = 0; i < 50_000; i++) {
      const year = Math.floor(rand() * 10_000);
      const month = Math.floor(rand() * 14);
      const day = Math.floor(rand() * 33);
      const text = `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}`;
      const parsed = Date.parse(`${text}T00:00:00Z`);
      // Date.parse rolls day 29-31 over into the next month; a valid date is one that round-trips.
      const valid = !Number.isNaN(parsed) && new Date(parsed).toISOString().slice(0, 10) === text;
      const days = isoDateDays(`x${text}`, 1);
      if (valid) expect(days).toBe(parsed / 86_400_000);
      else expect(days).toBeNaN();
    }
    expect(isoDateDays('2024/01/02', 0)).toBeNaN();
    expect(isoDateDays('2024-1-02', 0)).toBeNaN();
  });
});
