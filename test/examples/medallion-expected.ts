// An independent reference model of the medallion pipeline's result, computed from the raw input
// records only (not from the generator's classification): parse and validate each record, replay the
// bronze batch structure to get each silver batch's watermark, drop late rows, keep the first
// occurrence of each event id, then aggregate gold.

import { PARTITIONS, rawEvent, sequence } from '../../examples/medallion/events.js';

export interface SilverRow {
  event_id: string;
  user_id: number;
  channel: string;
  amount: number;
  event_time: number; // ms
  event_date: string;
}

export interface GoldRow {
  channel: string;
  event_date: string;
  events: number;
  users: number;
}

const DELAY_MS = 10 * 60_000;

function valid(text: string): SilverRow | undefined {
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (typeof v.event_id !== 'string' || typeof v.channel !== 'string') return undefined;
  if (typeof v.user_id !== 'number' || !Number.isInteger(v.user_id)) return undefined;
  if (typeof v.amount !== 'number' || typeof v.event_time !== 'string') return undefined;
  const t = Date.parse(v.event_time);
  if (Number.isNaN(t)) return undefined;
  return {
    event_id: v.event_id,
    user_id: v.user_id,
    channel: v.channel,
    amount: v.amount,
    event_time: t,
    event_date: new Date(t).toISOString().slice(0, 10),
  };
}

/**
 * Silver and gold for `recordsPerPartition` records per partition written by bronze in batches of
 * `batchPerPartition` per partition; silver reads one bronze batch per micro-batch.
 */
export function expectedMedallion(recordsPerPartition: number, batchPerPartition: number) {
  const lateFrom = sequence(0, batchPerPartition);
  const silver = new Map<string, SilverRow>();
  let malformed = 0;
  let late = 0;
  let watermark = 0; // silver batch b runs with max(event time of batches < b) − delay
  let maxSeen = Number.NEGATIVE_INFINITY;
  for (let start = 0; start < recordsPerPartition; start += batchPerPartition) {
    const end = Math.min(recordsPerPartition, start + batchPerPartition);
    for (let p = 0; p < PARTITIONS; p++) {
      for (let o = start; o < end; o++) {
        const row = valid(rawEvent(p, o, lateFrom));
        if (!row) {
          malformed++;
          continue;
        }
        maxSeen = Math.max(maxSeen, row.event_time);
        if (watermark > 0 && row.event_time <= watermark) {
          late++;
          continue;
        }
        if (!silver.has(row.event_id)) silver.set(row.event_id, row);
      }
    }
    watermark = Math.max(watermark, maxSeen - DELAY_MS);
  }
  const groups = new Map<string, { channel: string; event_date: string; events: number; users: Set<number> }>();
  for (const row of silver.values()) {
    const key = `${row.channel}|${row.event_date}`;
    let g = groups.get(key);
    if (!g) {
      g = { channel: row.channel, event_date: row.event_date, events: 0, users: new Set() };
      groups.set(key, g);
    }
    g.events++;
    g.users.add(row.user_id);
  }
  const gold: GoldRow[] = [...groups.values()]
    .map((g) => ({ channel: g.channel, event_date: g.event_date, events: g.events, users: g.users.size }))
    .sort((a, b) => a.event_date.localeCompare(b.event_date) || a.channel.localeCompare(b.channel));
  return { silver, gold, malformed, late };
}
