// Cooperative yielding for long synchronous loops on the main thread (parsing a 50k-row group takes
// ~100 ms): between slices the event loop runs I/O callbacks and worker messages, so work that overlaps
// the loop (the previous batch's file encoding and table commit, an embedding service's requests) is
// not held up for the whole loop.

import { setImmediate as immediate } from 'node:timers/promises';

/** Work between two yields, in the loop's own units (rows): about half a millisecond of parsing. */
export const YIELD_EVERY_ROWS = 256;

/** Resolves after pending I/O callbacks ran (a macrotask turn of the event loop). */
export function yieldToEventLoop(): Promise<void> {
  return immediate();
}
