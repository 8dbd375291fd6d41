// Benchmark: the streaming engine end to end — GeneratorSource of JSON text rows ({ value: '<event>' },
// ~5 % duplicate event ids) → parseJson → withWatermark('ts', '10 minutes') →
// dropDuplicatesWithinWatermark(['id']) → Delta sink, LevelDB state, Trigger.availableNow() — against
// the raw pipeline of the same JSON with no engine (JSON.parse each row → encodeRows → write the file),
// chunked like the engine's batches, alternating in one process.
// Run: npx tsx bench/engine.ts [rows=200000] [repetitions=3] [maxRowsPerTrigger=50000]
//   (or env LAKESTREAM_BENCH_ROWS / LAKESTREAM_BENCH_REPS / LAKESTREAM_BENCH_BATCH); reports medians of
//   wall, process CPU (user + system, all threads; on Linux also the main thread's share) and peak RSS
//   (sampled every 20 ms).
//   LAKESTREAM_BENCH_CODEC=zstd|snappy|uncompressed: both legs' codec (default snappy, the Delta default).
//   LAKESTREAM_BENCH_INPUT=bytes: the records are UTF-8 bytes in one buffer, as Kafka hands them over
//   (the source's values are Uint8Array views; the raw leg decodes each to text for JSON.parse),
//   instead of 200k JS strings held in the V8 heap (default `strings`). The strings add ~75 MB to the
//   heap every full collection marks, which weighs on the leg that collects more often.
//   A third leg runs the same query with writeStream's `columnar: false` (rows end to end).
//   LAKESTREAM_BENCH_ONLY=engine|rows|raw runs one leg, e.g. for a profile:
//   LAKESTREAM_BENCH_ONLY=engine node --cpu-prof --import tsx bench/engine.ts
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_COMPRESSION } from '../sinks/delta/compression.js';
import type { ParquetCompression } from '../sinks/delta/file-names.js';
import { deltaSink } from '../sinks/delta/stream-sink.js';
import { encodeRows } from '../sinks/parquet/index.js';
import type { StructType } from '../sinks/schema.js';
import { dropDuplicatesWithinWatermark, parseJson, withWatermark } from '../stream/operators/index.js';
import type { StreamingQueryProgress } from '../stream/progress.js';
import { GeneratorSource } from '../stream/sources/generator.js';
import { Trigger } from '../stream/trigger.js';
import { readStream } from '../stream/write-stream.js';
import { prng } from '../test/kit/prng.js';
import { generate, SCHEMA } from './lib/events.js';
import { type Measured, measure as measureLeg, type RssSampler } from './lib/measure.js';
import { median } from './lib/timing.js';

const arg = (i: number, env: string, fallback: number) => Number(process.argv[i] ?? process.env[env] ?? fallback);
const ROWS = arg(2, 'LAKESTREAM_BENCH_ROWS', 200_000);
const REPS = arg(3, 'LAKESTREAM_BENCH_REPS', 3);
const BATCH = arg(4, 'LAKESTREAM_BENCH_BATCH', 50_000);
const ONLY = process.env.LAKESTREAM_BENCH_ONLY;
const WARMUP = 1;
const DUPLICATE_SHARE = 0.05;
/** Both legs write the same codec: the Delta default (snappy) unless LAKESTREAM_BENCH_CODEC says otherwise. */
const CODEC_NAME = (process.env.LAKESTREAM_BENCH_CODEC ?? DEFAULT_COMPRESSION) as ParquetCompression;
const CODEC = { compression: CODEC_NAME } as const;
const INPUT = process.env.LAKESTREAM_BENCH_INPUT ?? 'strings';
if (INPUT !== 'strings' && INPUT !== 'bytes')
  throw new Error(`LAKESTREAM_BENCH_INPUT=${INPUT}: expected strings or bytes`);
const INPUT_SCHEMA: StructType = {
  type: 'struct',
  fields: [{ name: 'value', type: INPUT === 'bytes' ? 'binary' : 'string', nullable: true, metadata: {} }],
};

/** The records as both legs read them: the source's value, and the text JSON.parse takes. */
interface Input {
  length: number;
  value(i: number): string | Uint8Array;
  text(i: number): string;
}

/** `lines` as an Input: the strings themselves, or (LAKESTREAM_BENCH_INPUT=bytes) their UTF-8 in one buffer. */
function inputOf(lines: string[]): Input {
  if (INPUT === 'strings') return { length: lines.length, value: (i) => lines[i]!, text: (i) => lines[i]! };
  const ends = new Int32Array(lines.length + 1);
  const bytes = Buffer.allocUnsafe(lines.reduce((n, line) => n + Buffer.byteLength(line), 0));
  for (let i = 0; i < lines.length; i++) ends[i + 1] = ends[i]! + bytes.write(lines[i]!, ends[i]!);
  return {
    length: lines.length,
    value: (i) => bytes.subarray(ends[i]!, ends[i + 1]!),
    text: (i) => bytes.toString('utf8', ends[i]!, ends[i + 1]!),
  };
}

/** The JSON text of `n` events; ~5 % reuse the id of an event up to 1000 rows (≈ 4 min) earlier. */
function jsonLines(n: number): { lines: string[]; jsonBytes: number; distinctIds: number } {
  const { rows } = generate(n);
  const rand = prng(7);
  const lines: string[] = new Array(n);
  const ids = new Set<string>();
  let jsonBytes = 0;
  for (let i = 0; i < n; i++) {
    let row = rows[i]!;
    if (i > 0 && rand() < DUPLICATE_SHARE) {
      const earlier = rows[i - 1 - Math.floor(rand() * Math.min(i, 1000))]!;
      row = { ...row, id: earlier.id };
    }
    ids.add(row.id as string);
    const line = JSON.stringify(row);
    lines[i] = line;
    jsonBytes += Buffer.byteLength(line);
  }
  return { lines, jsonBytes, distinctIds: ids.size };
}

interface Run extends Measured {
  /** Engine only: durationMs per phase, summed over batches. */
  phases?: Record<string, number>;
  batches?: number;
}

/** Runs `body` once, measured (bench/lib/measure.ts), with what it returns merged in. */
async function measure(body: (sampler: RssSampler) => Promise<Partial<Run> | undefined>): Promise<Run> {
  const { value, ...run } = await measureLeg(body);
  return { ...run, ...value };
}

async function engineRun(lines: Input, dir: string, expectedRows: number, columnar = true): Promise<Run> {
  const progress: StreamingQueryProgress[] = [];
  const source = new GeneratorSource({
    rowsPerPartition: lines.length,
    maxRowsPerTrigger: BATCH,
    generate: (_partition, offset) => ({ value: lines.value(offset) }),
    name: 'bench-events',
  });
  const run = await measure(async () => {
    const query = await readStream(source, { schema: INPUT_SCHEMA })
      .pipe(parseJson(SCHEMA), withWatermark('ts', '10 minutes'), dropDuplicatesWithinWatermark(['id']))
      .writeStream(deltaSink(join(dir, 'table'), CODEC), {
        checkpointLocation: join(dir, 'checkpoint'),
        trigger: Trigger.availableNow(),
        progressBar: false,
        columnar,
        onProgress: (p) => progress.push(p),
      });
    await query.awaitTermination();
    return undefined;
  });
  const output = progress.reduce((n, p) => n + p.sink.numOutputRows, 0);
  const input = progress.reduce((n, p) => n + p.numInputRows, 0);
  if (input !== lines.length || output !== expectedRows) {
    throw new Error(`engine read ${input} rows and wrote ${output}; expected ${lines.length} and ${expectedRows}`);
  }
  const phases: Record<string, number> = {};
  for (const p of progress) {
    for (const [phase, ms] of Object.entries(p.durationMs)) {
      if (phase !== 'triggerExecution') phases[phase] = (phases[phase] ?? 0) + ms;
    }
  }
  return { ...run, phases, batches: progress.length };
}

async function rawRun(lines: Input, dir: string): Promise<Run> {
  mkdirSync(dir, { recursive: true });
  return measure(async (sampler) => {
    for (let start = 0, file = 0; start < lines.length; start += BATCH, file++) {
      const rows: Record<string, unknown>[] = [];
      for (let i = start; i < Math.min(lines.length, start + BATCH); i++) rows.push(JSON.parse(lines.text(i)));
      const encoded = encodeRows(SCHEMA, rows, CODEC);
      sampler.sample();
      await writeFile(join(dir, `part-${file}.${CODEC_NAME}.parquet`), encoded.bytes);
    }
    return undefined;
  });
}

async function main(): Promise<void> {
  const generated = jsonLines(ROWS);
  const { jsonBytes, distinctIds } = generated;
  const lines = inputOf(generated.lines);
  generated.lines = []; // with bytes input, the strings are garbage now
  console.log(
    `engine: ${ROWS} JSON rows (${(jsonBytes / ROWS).toFixed(0)} B/row, ${(jsonBytes / 1e6).toFixed(1)} MB), ` +
      `${ROWS - distinctIds} duplicate ids, ${BATCH} rows/batch, ${INPUT} input, ${CODEC_NAME}, LevelDB state, node ${process.version}, ` +
      `${WARMUP} warm-up + ${REPS} measured, alternating`,
  );
  const root = mkdtempSync(join(tmpdir(), 'lakestream-bench-engine-'));
  const engine: Run[] = [];
  const rowsEngine: Run[] = [];
  const raw: Run[] = [];
  try {
    for (let rep = 0; rep < WARMUP + REPS; rep++) {
      if (ONLY !== 'raw' && ONLY !== 'rows') {
        const e = await engineRun(lines, join(root, `engine-${rep}`), distinctIds);
        rmSync(join(root, `engine-${rep}`), { recursive: true, force: true });
        if (rep >= WARMUP) engine.push(e);
      }
      if (ONLY === undefined || ONLY === 'rows') {
        const e = await engineRun(lines, join(root, `rows-${rep}`), distinctIds, false);
        rmSync(join(root, `rows-${rep}`), { recursive: true, force: true });
        if (rep >= WARMUP) rowsEngine.push(e);
      }
      if (ONLY === undefined || ONLY === 'raw') {
        const r = await rawRun(lines, join(root, `raw-${rep}`));
        rmSync(join(root, `raw-${rep}`), { recursive: true, force: true });
        if (rep >= WARMUP) raw.push(r);
      }
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  const line = (label: string, runs: Run[]) => {
    const wall = median(runs.map((x) => x.wall));
    const cpu = median(runs.map((x) => x.cpu));
    const mains = runs.map((x) => x.mainCpu).filter((x): x is number => x !== undefined);
    const main = mains.length === runs.length ? ` (main thread ${(median(mains) / 1000).toFixed(2)} s)` : '';
    const rss = median(runs.map((x) => x.rss));
    const growth = median(runs.map((x) => x.rss - x.rssStart));
    console.log(
      `${label.padEnd(50)} wall ${wall.toFixed(0).padStart(5)} ms ${((ROWS / wall) * 1000).toFixed(0).padStart(7)} rows/s ` +
        `${(jsonBytes / 1e3 / wall).toFixed(1).padStart(6)} MB/s | cpu ${(cpu / 1000).toFixed(2).padStart(6)} s${main} ` +
        `| peak RSS ${(rss / 2 ** 20).toFixed(0).padStart(5)} MiB (+${(growth / 2 ** 20).toFixed(0)}) [wall runs ${runs.map((x) => x.wall.toFixed(0)).join(', ')}]`,
    );
    return { wall, cpu };
  };
  const r = raw.length > 0 ? line('(a) raw: JSON.parse → encodeRows → file', raw) : undefined;
  const e = engine.length > 0 ? line('(b) engine: parseJson → watermark → dedup → Delta', engine) : undefined;
  const c = rowsEngine.length > 0 ? line('(c) the same engine with columnar: false', rowsEngine) : undefined;
  if (!e) return;
  const phases = Object.keys(engine[0]?.phases ?? {});
  console.log(
    `    (b) phases, summed over ${engine[0]?.batches ?? 0} batches (median ms): ` +
      phases.map((p) => `${p} ${median(engine.map((x) => x.phases?.[p] ?? 0)).toFixed(0)}`).join(', '),
  );
  if (!r) return;
  console.log(
    `(b)/(a) throughput ratio: wall ${((r.wall / e.wall) * 100).toFixed(0)}%, cpu ${((r.cpu / e.cpu) * 100).toFixed(0)}% ` +
      '(target ≥ 77%: the engine costs ≤ 30 % over the raw pipeline)',
  );
  if (c) {
    console.log(
      `(c)/(a) throughput ratio: wall ${((r.wall / c.wall) * 100).toFixed(0)}%, cpu ${((r.cpu / c.cpu) * 100).toFixed(0)}% (rows)`,
    );
  }
}

await main();
