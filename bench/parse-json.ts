// Micro-benchmark: the engine's parse path — parseJson(SCHEMA) over the JSON text rows of the engine
// benchmark — against a bare JSON.parse of the same lines, alternating in one process; also the
// GeneratorSource read of those rows and eventTimeMs of their timestamps (against Date.parse).
// Run: npx tsx bench/parse-json.ts [rows=200000] [repetitions=9]
//   Reports the median on-CPU ms (this thread; wall when unavailable) of each leg and the ratios.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { BatchContext, PlanContext } from '../stream/operator.js';
import { parseJson } from '../stream/operators/parse-json.js';
import { GeneratorSource } from '../stream/sources/generator.js';
import { eventTimeMs } from '../stream/time.js';
import type { Row, RowGroup } from '../stream/types.js';
import { generate, SCHEMA } from './lib/events.js';
import { median, threadCpuMs, timed } from './lib/timing.js';

const ROWS = Number(process.argv[2] ?? 200_000);
const REPS = Number(process.argv[3] ?? 9);
const WARMUP = 2;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const lines = generate(ROWS).rows.map((row) => JSON.stringify(row));
const timestamps = lines.map((line) => (JSON.parse(line) as { ts: string }).ts);
const input: Row[] = lines.map((value) => ({ value }));

const planContext: PlanContext = {
  index: 0,
  outputMode: 'append',
  schema: { type: 'struct', fields: [{ name: 'value', type: 'string', nullable: true, metadata: {} }] },
  watermark: undefined,
  statefulUpstream: [],
  aggregated: false,
};
const operator = parseJson(SCHEMA).plan(planContext);
let deadLetters = 0;
const batch: BatchContext = {
  batchId: 0,
  batchTimestampMs: 0,
  watermarkMs: 0,
  state: undefined,
  metrics: { numRowsDroppedByWatermark: 0, numDeadLetters: 0, custom: {} },
  deadLetter: () => {
    deadLetters++;
  },
  proposeWatermark: () => {},
};
const generateRow = (_partition: number, offset: number): Row => ({ value: lines[offset] });
const source = new GeneratorSource({ rowsPerPartition: ROWS, maxRowsPerTrigger: ROWS, generate: generateRow });

let sink = 0;
/** The last output of each leg, kept so that no leg's work can be optimized away. */
let kept: unknown;
const legs: Record<string, () => void> = {
  'JSON.parse (bare)': () => {
    const out: unknown[] = new Array(lines.length);
    for (let i = 0; i < lines.length; i++) out[i] = JSON.parse(lines[i]!);
    kept = out;
  },
  'parseJson(SCHEMA)': () => {
    kept = operator.process([{ partition: '0', rows: input.slice() }], batch) as RowGroup[];
  },
  'generate loop (bare)': () => {
    const rows: Row[] = new Array(ROWS);
    for (let offset = 0; offset < ROWS; offset++) rows[offset] = generateRow(0, offset);
    kept = rows;
  },
  'Date.parse (ts)': () => {
    let s = 0;
    for (let i = 0; i < timestamps.length; i++) s += Date.parse(timestamps[i]!);
    sink += s;
  },
  'eventTimeMs (ts)': () => {
    let s = 0;
    for (let i = 0; i < timestamps.length; i++) s += eventTimeMs(timestamps[i]) ?? 0;
    sink += s;
  },
};

async function main(): Promise<void> {
  await source.open({ now: Date.now } as never);
  const samples: Record<string, number[]> = { 'GeneratorSource.read': [] };
  for (const name of Object.keys(legs)) samples[name] = [];
  for (let rep = 0; rep < WARMUP + REPS; rep++) {
    for (const [name, leg] of Object.entries(legs)) {
      gc();
      const { wall, cpu } = timed(leg);
      if (rep >= WARMUP) samples[name]!.push(Number.isNaN(cpu) ? wall : cpu);
    }
    gc();
    const c0 = threadCpuMs();
    const t0 = performance.now();
    kept = await source.read({ '0': { start: '0', end: String(ROWS) } } as never);
    const cpu = threadCpuMs() - c0;
    if (rep >= WARMUP) samples['GeneratorSource.read']!.push(Number.isNaN(cpu) ? performance.now() - t0 : cpu);
  }
  if (deadLetters !== 0) throw new Error(`${deadLetters} rows were dead-lettered`);
  console.log(`parse-json: ${ROWS} rows, ${WARMUP} warm-up + ${REPS} measured, alternating, node ${process.version}`);
  const med: Record<string, number> = {};
  for (const [name, xs] of Object.entries(samples)) {
    med[name] = median(xs);
    console.log(
      `  ${name.padEnd(22)} ${med[name]!.toFixed(1).padStart(8)} ms  [${xs.map((x) => x.toFixed(0)).join(', ')}]`,
    );
  }
  console.log(
    `parseJson / JSON.parse: ${(med['parseJson(SCHEMA)']! / med['JSON.parse (bare)']!).toFixed(2)}x; ` +
      `eventTimeMs / Date.parse: ${(med['eventTimeMs (ts)']! / med['Date.parse (ts)']!).toFixed(2)}x (sink ${sink > 0 && kept !== undefined})`,
  );
}

await main();
