// Event-time windows for aggregate({ window }): Spark's window(column, size, slide, startTime).
// Tumbling windows (slide = size) and sliding windows (slide < size); a window is [start, end) with
// start = k * slide + startTime, and a row belongs to every window containing its event time.

import { StreamArgumentError } from '../errors.js';
import { type Duration, durationMs } from '../time.js';

/** A tumbling or sliding event-time window over `column`, in milliseconds. */
export interface WindowSpec {
  readonly column: string;
  readonly sizeMs: number;
  /** Equal to sizeMs for tumbling windows. */
  readonly slideMs: number;
  /** Offset of window starts from the epoch (Spark's startTime), |startMs| < slideMs. */
  readonly startMs: number;
}

/** One window, [start, end) in ms since the epoch. */
export interface TimeWindow {
  start: number;
  end: number;
}

function signedDuration(value: Duration, name: string): number {
  if (typeof value === 'number' && value < 0) return -durationMs(-value, name);
  if (typeof value === 'string' && value.trim().startsWith('-')) return -durationMs(value.trim().slice(1), name);
  return durationMs(value, name);
}

/**
 * Refuses a window Spark would refuse: non-positive or fractional durations, slide > size,
 * |startTime| >= slide, an empty column name.
 */
export function validateWindow(spec: WindowSpec): void {
  const { column, sizeMs, slideMs, startMs } = spec;
  if (typeof column !== 'string' || column === '') {
    throw new StreamArgumentError(`window: the column must be a non-empty string, got ${JSON.stringify(column)}`, {
      option: 'window.column',
    });
  }
  for (const [name, value] of [
    ['size', sizeMs],
    ['slide', slideMs],
  ] as const) {
    if (!Number.isInteger(value) || value <= 0) {
      throw new StreamArgumentError(
        `window: the ${name} must be a positive whole number of milliseconds, got ${value}`,
        {
          option: `window.${name}`,
        },
      );
    }
  }
  if (slideMs > sizeMs) {
    throw new StreamArgumentError(
      `window: the slide duration (${slideMs} ms) must be less than or equal to the window duration (${sizeMs} ms)`,
      { option: 'window.slide' },
    );
  }
  if (!Number.isInteger(startMs) || Math.abs(startMs) >= slideMs) {
    throw new StreamArgumentError(
      `window: the absolute value of the start time (${startMs} ms) must be a whole number of milliseconds less than the slide duration (${slideMs} ms)`,
      { option: 'window.startTime' },
    );
  }
}

/**
 * An event-time window over `column` (Spark's `window(col, windowDuration, slideDuration, startTime)`).
 * `size` and `slide` are durations ('10 minutes', ms); without `slide` the window is tumbling.
 * `startTime` shifts window starts from the epoch (e.g. '15 minutes' for hourly windows starting at
 * :15); it may be negative ('-15 minutes'). Throws INVALID_ARGUMENT for windows Spark refuses.
 */
export function window(column: string, size: Duration, slide?: Duration, startTime?: Duration): WindowSpec {
  const sizeMs = durationMs(size, 'window.size');
  const spec: WindowSpec = {
    column,
    sizeMs,
    slideMs: slide === undefined ? sizeMs : durationMs(slide, 'window.slide'),
    startMs: startTime === undefined ? 0 : signedDuration(startTime, 'window.startTime'),
  };
  validateWindow(spec);
  return spec;
}

/** Whether the window is tumbling (each event time falls in exactly one window). */
export function isTumbling(spec: WindowSpec): boolean {
  return spec.slideMs === spec.sizeMs;
}

/** Starts of the windows containing `eventMs`, ascending: every start = k * slide + startTime with start <= t < start + size. */
export function windowStarts(eventMs: number, spec: WindowSpec): number[] {
  const { sizeMs, slideMs, startMs } = spec;
  const offset = (((eventMs - startMs) % slideMs) + slideMs) % slideMs;
  const last = eventMs - offset;
  const starts: number[] = [];
  let first = last;
  while (first - slideMs + sizeMs > eventMs) first -= slideMs;
  for (let start = first; start <= last; start += slideMs) starts.push(start);
  return starts;
}

/** The windows containing `eventMs`, ascending by start. */
export function assignWindows(eventMs: number, spec: WindowSpec): TimeWindow[] {
  return windowStarts(eventMs, spec).map((start) => ({ start, end: start + spec.sizeMs }));
}

/** Text of a window for fingerprints and messages, e.g. 'window(ts, 600000 ms, 300000 ms, 0 ms)'. */
export function describeWindow(spec: WindowSpec): string {
  return `window(${spec.column}, ${spec.sizeMs} ms, ${spec.slideMs} ms, ${spec.startMs} ms)`;
}
