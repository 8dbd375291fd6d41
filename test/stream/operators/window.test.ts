// window(): Spark's tumbling/sliding window assignment and argument checks.

import { describe, expect, it } from 'vitest';
import { assignWindows, isTumbling, window, windowStarts } from '../../../stream/operators/window.js';

const MIN = 60_000;
const at = (iso: string): number => Date.parse(iso);

/** Brute force: every k*slide+start with start <= t < start+size, scanning a wide range of k. */
function bruteStarts(t: number, size: number, slide: number, offset: number): number[] {
  const out: number[] = [];
  const k0 = Math.floor((t - size - offset) / slide) - 2;
  for (let k = k0; k * slide + offset <= t + slide; k++) {
    const start = k * slide + offset;
    if (start <= t && t < start + size) out.push(start);
  }
  return out;
}

describe('window', () => {
  it('parses durations; a tumbling window has slide = size', () => {
    const w = window('ts', '10 minutes');
    expect(w).toEqual({ column: 'ts', sizeMs: 10 * MIN, slideMs: 10 * MIN, startMs: 0 });
    expect(isTumbling(w)).toBe(true);
    expect(window('ts', 600_000, '5 minutes', '-2 minutes')).toEqual({
      column: 'ts',
      sizeMs: 10 * MIN,
      slideMs: 5 * MIN,
      startMs: -2 * MIN,
    });
  });

  it('assigns a tumbling window [start, end) containing the event time', () => {
    const w = window('ts', '10 minutes');
    expect(assignWindows(at('2024-01-01T12:07:00Z'), w)).toEqual([
      { start: at('2024-01-01T12:00:00Z'), end: at('2024-01-01T12:10:00Z') },
    ]);
    // The end is exclusive: 12:10 belongs to [12:10, 12:20).
    expect(windowStarts(at('2024-01-01T12:10:00Z'), w)).toEqual([at('2024-01-01T12:10:00Z')]);
    expect(windowStarts(at('2024-01-01T12:09:59.999Z'), w)).toEqual([at('2024-01-01T12:00:00Z')]);
  });

  it('assigns every sliding window containing the event time, ascending', () => {
    const w = window('ts', '10 minutes', '5 minutes');
    expect(assignWindows(at('2024-01-01T12:07:00Z'), w)).toEqual([
      { start: at('2024-01-01T12:00:00Z'), end: at('2024-01-01T12:10:00Z') },
      { start: at('2024-01-01T12:05:00Z'), end: at('2024-01-01T12:15:00Z') },
    ]);
    // Spark's docs example: 12:07 with 10-minute windows sliding by 5 → 12:00-12:10 and 12:05-12:15.
    expect(windowStarts(at('2024-01-01T12:05:00Z'), w)).toEqual([
      at('2024-01-01T12:00:00Z'),
      at('2024-01-01T12:05:00Z'),
    ]);
  });

  it('shifts window starts by startTime (hourly windows at :15)', () => {
    const w = window('ts', '1 hour', undefined, '15 minutes');
    expect(windowStarts(at('2024-01-01T12:10:00Z'), w)).toEqual([at('2024-01-01T11:15:00Z')]);
    expect(windowStarts(at('2024-01-01T12:15:00Z'), w)).toEqual([at('2024-01-01T12:15:00Z')]);
  });

  it('matches a brute-force assignment, including negative and fractional event times', () => {
    let seed = 7;
    const next = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let i = 0; i < 500; i++) {
      const slide = 1 + Math.floor(next() * 20);
      const size = slide * (1 + Math.floor(next() * 4)) + (next() < 0.3 ? Math.floor(next() * slide) : 0);
      const offset = Math.floor(next() * slide) * (next() < 0.5 ? -1 : 1);
      const t = Math.floor(next() * 2000) - 1000 + (next() < 0.2 ? 0.5 : 0);
      const spec = { column: 'ts', sizeMs: size, slideMs: slide, startMs: offset };
      expect(windowStarts(t, spec), JSON.stringify({ t, spec })).toEqual(bruteStarts(t, size, slide, offset));
    }
  });

  it('refuses windows Spark refuses', () => {
    const bad = (fn: () => unknown, message: RegExp): void => {
      expect(fn).toThrow(
        expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(message) }),
      );
    };
    bad(
      () => window('ts', '5 minutes', '10 minutes'),
      /slide duration .* must be less than or equal to the window duration/,
    );
    bad(() => window('ts', 0), /size must be a positive/);
    bad(() => window('ts', '10 minutes', 0), /slide must be a positive/);
    bad(() => window('ts', -5), /not a duration/);
    bad(() => window('ts', 'ten minutes'), /not a duration/);
    bad(() => window('ts', '10 minutes', '5 minutes', '5 minutes'), /start time .* less than the slide duration/);
    bad(() => window('', '10 minutes'), /non-empty string/);
    bad(() => window('ts', 1.5), /whole number/);
  });
});
