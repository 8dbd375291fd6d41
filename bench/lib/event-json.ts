// The events of events.ts's generate(n) as JSON text, one at a time (same seed, same rows, same
// bytes), so that a benchmark can produce a million messages without holding a million objects.
import { prng } from './events.js';

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

/** The JSON text of generate(n)'s rows, in order (~330-400 bytes each; matches events.ts's SCHEMA). */
export function* eventJson(n: number): Generator<string> {
  const rand = prng(42);
  const start = Date.UTC(2024, 0, 1);
  for (let i = 0; i < n; i++) {
    const ms = start + i * 250 + Math.floor(rand() * 1000);
    const iso = new Date(ms).toISOString();
    let payload = '';
    while (payload.length < 150) payload += `${WORDS[(rand() * WORDS.length) | 0]} `;
    yield JSON.stringify({
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
    });
  }
}
