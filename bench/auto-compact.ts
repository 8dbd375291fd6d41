// Benchmark: the cost of the Delta sink's auto compaction against appending the same rows, in one
// process. A streaming DeltaSink (autoCompact { minFiles: FILES }) appends FILES batches of ROWS/FILES
// rows each (bench/lib/events.ts rows, snappy); the last batch's commit is followed by the OPTIMIZE
// that rewrites the FILES small files into one. Baseline: DeltaTable.append of all ROWS rows as one
// batch (the work of writing them once). Reports the compaction's wall and CPU time (the OPTIMIZE
// alone: the last commit's time minus a commit without compaction), its rows/s, and the ratio to the
// baseline's, and the peak RSS during it.
// Run: npx tsx bench/auto-compact.ts [rows=400000] [files=50] [repetitions=3]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeltaSink } from '../sinks/delta/stream-sink.js';
import { DeltaTable } from '../sinks/delta/table.js';
import { LocalObjectStore } from '../storage/local.js';
import type { SinkContext } from '../stream/sink.js';
import { generate, SCHEMA } from './lib/events.js';
import { median, reportLeg, timedAsync } from './lib/timing.js';

const ROWS = Number(process.argv[2] ?? 400_000);
const FILES = Number(process.argv[3] ?? 50);
const REPS = Number(process.argv[4] ?? 3);
const WARMUP = 1;

const context: SinkContext = {
  queryId: 'bench',
  outputMode: 'append',
  keyColumns: [],
  schema: SCHEMA,
  now: Date.now,
  warn: (message) => {
    throw new Error(`unexpected warning: ${message}`);
  },
};

/** Peak RSS sampled every 10 ms while `fn` runs. */
async function peakRss<T>(fn: () => Promise<T>): Promise<{ value: T; peak: number }> {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 10);
  try {
    const value = await fn();
    return { value, peak: Math.max(peak, process.memoryUsage.rss()) };
  } finally {
    clearInterval(timer);
  }
}

async function main(): Promise<void> {
  const { rows, jsonBytes } = generate(ROWS);
  const per = Math.ceil(ROWS / FILES);
  console.log(
    `auto-compact: ${ROWS} rows (${(jsonBytes / 1e6).toFixed(1)} MB as JSON) in ${FILES} batches of ${per}, ` +
      `snappy, node ${process.version}, ${WARMUP} warm-up + ${REPS} measured`,
  );
  const dir = mkdtempSync(join(tmpdir(), 'lakestream-bench-compact-'));
  const baseline: { wall: number; cpu: number }[] = [];
  const compaction: { wall: number; cpu: number }[] = [];
  const peaks: number[] = [];
  try {
    for (let rep = 0; rep < WARMUP + REPS; rep++) {
      const whole = await DeltaTable.create(new LocalObjectStore(join(dir, `whole${rep}`)), { schema: SCHEMA });
      const b = await timedAsync(() => whole.append(rows));
      if (b.value.kind !== 'committed' || b.value.numRows !== ROWS) throw new Error('the baseline did not commit');

      const store = new LocalObjectStore(join(dir, `compacted${rep}`));
      let compacted = 0;
      const sink = new DeltaSink({
        store,
        schema: SCHEMA,
        autoCompact: { minFiles: FILES },
        onCompacted: (c) => {
          compacted += c.filesRemoved;
        },
      });
      await sink.open(context);
      const commits: { wall: number; cpu: number }[] = [];
      let peak = 0;
      for (let i = 0; i < FILES; i++) {
        const prepared = await sink.prepare({ batchId: i, rows: rows.slice(i * per, (i + 1) * per) });
        const measured = await peakRss(() => timedAsync(() => sink.commit(prepared)));
        commits.push(measured.value);
        if (i === FILES - 1) peak = measured.peak;
      }
      if (compacted !== FILES) throw new Error(`the compaction replaced ${compacted} files, not ${FILES}`);
      const table = await DeltaTable.open(store);
      if (table.snapshot().files.length !== 1) throw new Error('the table is not one file after the compaction');
      // The last commit ran the compaction; the commits before it show what a commit alone costs.
      const plain = commits.slice(0, -1);
      const last = commits[commits.length - 1]!;
      const c = {
        wall: last.wall - median(plain.map((x) => x.wall)),
        cpu: last.cpu - median(plain.map((x) => x.cpu)),
      };
      if (rep >= WARMUP) {
        baseline.push(b);
        compaction.push(c);
        peaks.push(peak);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const line = (label: string, runs: { wall: number; cpu: number }[]) => reportLeg(label, runs, ROWS, 52);
  const a = line('(a) append of all rows as one batch (baseline)', baseline);
  const c = line(`(b) auto compaction of ${FILES} files into one`, compaction);
  console.log(
    `(b)/(a): wall ${(c.wall / a.wall).toFixed(2)}×, cpu ${(c.cpu / a.cpu).toFixed(2)}× the baseline's; ` +
      `peak RSS during the compacting commit ${(median(peaks) / 2 ** 20).toFixed(0)} MiB`,
  );
}

await main();
