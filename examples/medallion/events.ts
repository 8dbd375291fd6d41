// The demo's raw event stream: deterministic JSON click events from (partition, offset), with the
// defects real streams have — 5 % resent duplicates (same event id and event time), 2 % malformed
// records, and 1 % far-late events (three days old) — so every operator of the pipeline has work.

/** Partitions of the generated stream. */
export const PARTITIONS = 4;
/** Start of event time (the first event). */
export const EVENTS_START_MS = Date.UTC(2026, 10, 20, 8, 0, 0);
/** Event-time spacing of consecutive events (global order). */
export const EVENT_SPACING_MS = 2_000;
/** How late a late event is: far beyond the silver watermark delay. */
export const LATE_BY_MS = 3 * 86_400_000;
export const CHANNELS = ['web', 'ios', 'android', 'email'] as const;

export type EventKind = 'event' | 'duplicate' | 'malformed' | 'late';

/** The global sequence number of (partition, offset). */
export function sequence(partition: number, offset: number): number {
  return offset * PARTITIONS + partition;
}

/**
 * What record `n` is. Late events are only produced from `lateFromOffset` on, so that the silver
 * query has a watermark when it sees them (see pipeline.ts: one bronze commit per silver batch).
 */
export function kindOf(n: number, lateFromSequence: number): EventKind {
  if (n >= 10 && n % 20 === 7) return 'duplicate'; // a resend of event n − 10 (never itself special)
  if (n % 50 === 13) return 'malformed';
  if (n % 100 === 41 && n >= lateFromSequence) return 'late';
  return 'event';
}

export interface CleanEvent {
  event_id: string;
  user_id: number;
  channel: string;
  amount: number;
  event_time: string;
}

/** The clean event with sequence number n (before it is resent, made late or malformed). */
export function cleanEvent(n: number): CleanEvent {
  return {
    event_id: `evt-${String(n).padStart(9, '0')}`,
    user_id: (n * 7919) % 997,
    channel: CHANNELS[(n * 31) % CHANNELS.length]!,
    amount: Math.round(((n * 37) % 10_000) / 10) / 10,
    event_time: new Date(EVENTS_START_MS + n * EVENT_SPACING_MS).toISOString(),
  };
}

/** The raw JSON text of record (partition, offset). */
export function rawEvent(partition: number, offset: number, lateFromSequence: number): string {
  const n = sequence(partition, offset);
  switch (kindOf(n, lateFromSequence)) {
    case 'duplicate':
      return JSON.stringify(cleanEvent(n - 10));
    case 'malformed':
      return n % 100 === 13
        ? `{"event_id":"evt-${n}","user_id":` // truncated: not JSON
        : JSON.stringify({ ...cleanEvent(n), user_id: `user-${n}` }); // user_id is not a number
    case 'late':
      return JSON.stringify({
        ...cleanEvent(n),
        event_time: new Date(EVENTS_START_MS + n * EVENT_SPACING_MS - LATE_BY_MS).toISOString(),
      });
    default:
      return JSON.stringify(cleanEvent(n));
  }
}
