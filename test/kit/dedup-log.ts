// Reads the key log of an evicting dropDuplicates operator (stream/operators/drop-duplicates.ts) from
// its raw state entries, independently of the operator's own decoder, and checks the log's invariants:
// every record ['e', maxExpiry, batchId] holds entries whose greatest expiry is maxExpiry, and no
// record lies wholly at or below the eviction watermark ['w'] (those are deleted).

import { expect } from 'vitest';
import { decodeKey, type KeyPart } from '../../state/codec.js';

export interface StateEntryParts {
  key: KeyPart[];
  value: Uint8Array;
}

export interface KeyLog {
  /** The remembered keys: [expiry, ...key values], sorted by expiry then key. */
  index: KeyPart[][];
  /** The number of log records. */
  records: number;
  /** The stored eviction watermark (undefined before the first eviction). */
  watermark: number | undefined;
}

/** The key log in `entries` (decoded state keys and values); entries of other tags are ignored. */
export function keyLog(entries: readonly StateEntryParts[]): KeyLog {
  const w = entries.find((e) => e.key.length === 1 && e.key[0] === 'w');
  const watermark = w === undefined ? undefined : new DataView(w.value.buffer, w.value.byteOffset, 8).getFloat64(0);
  const index: KeyPart[][] = [];
  let records = 0;
  for (const { key, value } of entries) {
    if (key[0] !== 'e') continue;
    records++;
    expect(key).toHaveLength(3);
    const maxExpiry = key[1] as number;
    if (watermark !== undefined) expect(maxExpiry).toBeGreaterThan(watermark);
    expect(value[0]).toBe(2);
    expect(value.length).toBeGreaterThan(1);
    const view = new DataView(value.buffer, value.byteOffset, value.length);
    let greatest = Number.NEGATIVE_INFINITY;
    let at = 1;
    while (at < value.length) {
      const expiry = view.getFloat64(at);
      at += 8;
      let length = 0;
      for (let shift = 0; ; shift += 7) {
        const byte = value[at++]!;
        length |= (byte & 0x7f) << shift;
        if (byte < 0x80) break;
      }
      greatest = Math.max(greatest, expiry);
      if (watermark === undefined || expiry > watermark)
        index.push([expiry, ...decodeKey(value.subarray(at, at + length))]);
      at += length;
    }
    expect(greatest).toBe(maxExpiry);
  }
  index.sort((a, b) => (a[0] as number) - (b[0] as number) || String(a[1]).localeCompare(String(b[1])));
  return { index, records, watermark };
}
