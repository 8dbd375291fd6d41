// Deterministic test events for the ingest daemon: JSON events with ~5 % duplicate event ids (the
// duplicate repeats an earlier event exactly, on another partition) and a few malformed records of
// several kinds (not JSON, a type mismatch, a bad timestamp, a missing event time).

import type { Producer } from 'kafkajs';

export const EVENT_SCHEMA = {
  event_id: 'string',
  user_id: 'long',
  channel: 'string',
  amount: 'double',
  event_time: 'timestamp',
} as const;

export interface TestEvent {
  /** Kafka partition to produce to. */
  partition: number;
  value: string;
  /** The event id when the record is valid (duplicates repeat an earlier id). */
  id?: string;
  duplicate: boolean;
  malformed: boolean;
}

const BASE_MS = Date.UTC(2025, 0, 15, 23, 50, 0);
const CHANNELS = ['web', 'ios', 'android', 'partner'];

const MALFORMED = [
  (i: number) => `{"event_id": "m${i}", "user_id": 1, "channel": "web"`, // truncated JSON
  (i: number) =>
    JSON.stringify({ event_id: `m${i}`, user_id: 'not-a-number', event_time: new Date(BASE_MS).toISOString() }),
  (i: number) => JSON.stringify({ event_id: `m${i}`, user_id: 2, event_time: 'yesterday' }),
  (i: number) => JSON.stringify({ event_id: `m${i}`, user_id: 3, channel: 'web' }), // no event time: a dead letter at the watermark
];

/** The i-th record of the sequence (from index `from` on, so producers can continue a sequence). */
export function* events(count: number, partitions: number, from = 0): Generator<TestEvent> {
  const valid: { id: string; value: string }[] = [];
  for (let i = 0; i < from + count; i++) {
    let e: TestEvent;
    if (i % 211 === 17) {
      e = { partition: i % partitions, value: MALFORMED[((i / 211) % 4) | 0]!(i), duplicate: false, malformed: true };
    } else if (i % 20 === 7 && valid.length > 10) {
      const original = valid[valid.length - 1 - (i % 10)]!;
      e = {
        partition: (i + 1) % partitions,
        value: original.value,
        id: original.id,
        duplicate: true,
        malformed: false,
      };
    } else {
      const id = `e${i}`;
      const value = JSON.stringify({
        event_id: id,
        user_id: (i * 7919) % 10_007,
        channel: CHANNELS[i % CHANNELS.length],
        amount: Math.round(((i * 31) % 10_000) * 1.5) / 100,
        event_time: new Date(BASE_MS + i * 10).toISOString(),
      });
      valid.push({ id, value });
      if (valid.length > 64) valid.shift();
      e = { partition: i % partitions, value, id, duplicate: false, malformed: false };
    }
    if (i >= from) yield e;
  }
}

/** What a table must hold after ingesting `count` records from the start. */
export function expected(count: number, partitions: number) {
  const ids = new Set<string>();
  let malformed = 0;
  let duplicates = 0;
  for (const e of events(count, partitions)) {
    if (e.malformed) malformed++;
    else if (e.duplicate) duplicates++;
    else ids.add(e.id!);
  }
  return { ids, malformed, duplicates };
}

/** Produces records in large batches (acks = all, no compression); resolves with how many. */
export async function produce(
  producer: Producer,
  topic: string,
  records: Iterable<{ partition: number; value: string }>,
  batchSize = 20_000,
): Promise<number> {
  let batch: { partition: number; value: string }[] = [];
  let n = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    await producer.send({ topic, acks: -1, messages: batch });
    n += batch.length;
    batch = [];
  };
  for (const e of records) {
    batch.push({ partition: e.partition, value: e.value });
    if (batch.length >= batchSize) await flush();
  }
  await flush();
  return n;
}
