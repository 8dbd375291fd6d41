// Micro-benchmark: the ingest stage's JSON → columns scanner (stream/input/json-columns.ts) against
// JSON.parse of the same records, per record, in one process.
// Run: npx tsx bench/scan-json.ts [records=200000] [repetitions=5]
import { ColumnBatch } from '../sinks/parquet/column-batch.js';
import { JsonColumnScanner } from '../stream/input/json-columns.js';
import { eventJson, SCHEMA } from './lib/events.js';
import { median } from './lib/timing.js';

const N = Number(process.argv[2] ?? 200_000);
const REPS = Number(process.argv[3] ?? 5);
const parts: Buffer[] = [];
for (const json of eventJson(N)) parts.push(Buffer.from(json));
const bytes = Buffer.concat(parts);
const ends = new Int32Array(N);
let at = 0;
parts.forEach((p, i) => {
  at += p.length;
  ends[i] = at;
});
const view = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);

function scan(): number {
  const batch = new ColumnBatch(SCHEMA, N);
  const scanner = new JsonColumnScanner(SCHEMA, batch);
  let start = 0;
  for (let i = 0; i < N; i++) {
    if (!scanner.scan(view, start, ends[i]!)) throw new Error(`declined record ${i}`);
    start = ends[i]!;
  }
  return batch.length;
}

function parse(): number {
  let n = 0;
  let start = 0;
  for (let i = 0; i < N; i++) {
    if (JSON.parse(bytes.toString('utf8', start, ends[i]!))) n++;
    start = ends[i]!;
  }
  return n;
}

const times: Record<string, number[]> = { scan: [], parse: [] };
for (let r = 0; r <= REPS; r++) {
  for (const [name, fn] of [
    ['scan', scan],
    ['parse', parse],
  ] as const) {
    const t = performance.now();
    fn();
    if (r > 0) times[name]!.push(performance.now() - t);
  }
}
const s = median(times.scan!);
const p = median(times.parse!);
console.log(
  `${N} records of ${(bytes.length / N).toFixed(0)} B: scan ${s.toFixed(0)} ms (${((s * 1000) / N).toFixed(2)} µs/record), JSON.parse ${p.toFixed(0)} ms (${((p * 1000) / N).toFixed(2)} µs/record); scan/parse ${(s / p).toFixed(2)}`,
);
