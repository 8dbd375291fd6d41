// Seeded event generator shared by the benchmarks: ~330-byte, 12-column rows as a consumer sees them
// (one JSON message per row, parsed), and the matching table schema.
import type { StructType } from '../../sinks/schema.js';
import { prng } from '../../test/kit/prng.js';

const field = (name: string, type: StructType['fields'][number]['type'], nullable = true) => ({
  name,
  type,
  nullable,
  metadata: {},
});

/** 12 columns: 3 strings (uuid-like id, 150-byte payload, client agent), 2 longs, 1 int, 2 doubles, 1 boolean, 1 timestamp, 1 date, 1 enum string. */
export const SCHEMA: StructType = {
  type: 'struct',
  fields: [
    field('id', 'string', false),
    field('user', 'long'),
    field('seq', 'long'),
    field('qty', 'integer'),
    field('price', 'double'),
    field('score', 'double'),
    field('mobile', 'boolean'),
    field('ts', 'timestamp'),
    field('day', 'date'),
    field('type', 'string'),
    field('agent', 'string'),
    field('payload', 'string'),
  ],
};

const EVENT_TYPES = ['view', 'click', 'add_to_cart', 'purchase', 'search', 'login', 'logout', 'share'];
const AGENTS = ['ios/17.4', 'android/14', 'web/chrome', 'web/firefox'];
const WORDS = 'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore'.split(
  ' ',
);

function hex(rand: () => number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += ((rand() * 16) | 0).toString(16);
  return s;
}

/** The rows of the seeded sequence, one at a time (a benchmark can stream a million without holding them). */
export function* eventRows(n: number): Generator<Record<string, unknown>> {
  const rand = prng(42);
  const start = Date.UTC(2024, 0, 1);
  for (let i = 0; i < n; i++) {
    const ms = start + i * 250 + Math.floor(rand() * 1000);
    const iso = new Date(ms).toISOString();
    let payload = '';
    while (payload.length < 150) payload += `${WORDS[(rand() * WORDS.length) | 0]} `;
    yield {
      id: `${hex(rand, 8)}-${hex(rand, 4)}-${hex(rand, 4)}-${hex(rand, 4)}-${hex(rand, 12)}`,
      user: Math.floor(rand() * 10_000_000),
      seq: i,
      qty: 1 + Math.floor(rand() * 20),
      price: Math.round(rand() * 100_000) / 100,
      score: Math.round(rand() * 10_000) / 10_000,
      mobile: rand() < 0.4,
      ts: `${iso.slice(0, 23)}${String(Math.floor(rand() * 1000)).padStart(3, '0')}Z`,
      day: iso.slice(0, 10),
      type: EVENT_TYPES[(rand() * EVENT_TYPES.length) | 0],
      agent: rand() < 0.05 ? null : AGENTS[(rand() * AGENTS.length) | 0],
      payload: payload.slice(0, 150),
    };
  }
}

/** The JSON text of eventRows(n), one message at a time (~330-400 bytes each). */
export function* eventJson(n: number): Generator<string> {
  for (const row of eventRows(n)) yield JSON.stringify(row);
}

/** Rows as a consumer sees them: one JSON message per row, parsed (flat strings, one hidden class). */
export function generate(n: number): { rows: Record<string, unknown>[]; jsonBytes: number } {
  const rows: Record<string, unknown>[] = new Array(n);
  let jsonBytes = 0;
  let i = 0;
  for (const json of eventJson(n)) {
    jsonBytes += Buffer.byteLength(json);
    rows[i++] = JSON.parse(json) as Record<string, unknown>;
  }
  return { rows, jsonBytes };
}
