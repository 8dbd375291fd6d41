// Benchmark: DeltaTable.append (rows → columns + stats → Parquet zstd → data file → commit with stats
// JSON) against the raw parquet-wasm encode of the same rows already in Arrow form, in one process.
// Run: npx tsx bench/delta-append.ts [rows=200000] [repetitions=5]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeltaTable } from '../sinks/delta/table.js';
import { arrowToParquet, rowsToArrow } from '../sinks/parquet/index.js';
import { LocalObjectStore } from '../storage/local.js';
import { generate, SCHEMA } from './lib/events.js';
import { reportLeg, timed, timedAsync } from './lib/timing.js';

const ROWS = Number(process.argv[2] ?? 200_000);
const REPS = Number(process.argv[3] ?? 5);
const WARMUP = 1;

async function main(): Promise<void> {
  const { rows, jsonBytes } = generate(ROWS);
  console.log(
    `delta-append: ${ROWS} rows × ${SCHEMA.fields.length} columns, ${(jsonBytes / ROWS).toFixed(0)} B/row JSON ` +
      `(${(jsonBytes / 1e6).toFixed(1)} MB), zstd, node ${process.version}, ${WARMUP} warm-up + ${REPS} measured`,
  );
  const arrow = rowsToArrow(SCHEMA, rows); // baseline input, built outside the timings
  const dir = mkdtempSync(join(tmpdir(), 'lakestream-bench-'));
  const raw: { wall: number; cpu: number }[] = [];
  const append: { wall: number; cpu: number }[] = [];
  let fileBytes = 0;
  try {
    for (let rep = 0; rep < WARMUP + REPS; rep++) {
      const r = timed(() => arrowToParquet(arrow.table, { compression: 'zstd' }, arrow.dictionaryColumns));
      const table = await DeltaTable.create(new LocalObjectStore(join(dir, `t${rep}`)), { schema: SCHEMA });
      const a = await timedAsync(() => table.append(rows, { compression: 'zstd' }));
      if (a.value.kind !== 'committed' || a.value.numRows !== ROWS) throw new Error('append did not commit every row');
      const files = a.value.snapshot.files;
      fileBytes = files.reduce((n, f) => n + f.size, 0);
      if (rep >= WARMUP) {
        raw.push(r);
        append.push(a);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const line = (label: string, runs: { wall: number; cpu: number }[]) =>
    reportLeg(label, runs, ROWS, 44, (wall) => `${(jsonBytes / 1e3 / wall).toFixed(1).padStart(6)} MB/s `);
  const a = line('(a) raw parquet-wasm encode (Arrow → zstd)', raw);
  const b = line('(b) DeltaTable.append (rows → commit)', append);
  console.log(`data written per append: ${(fileBytes / 1e6).toFixed(2)} MB`);
  console.log(
    `(b)/(a) rate ratio: wall ${((a.wall / b.wall) * 100).toFixed(0)}%, cpu ${((a.cpu / b.cpu) * 100).toFixed(0)}% (target ≥ 70%)`,
  );
}

await main();
