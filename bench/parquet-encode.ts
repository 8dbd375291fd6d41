// Benchmark: encodeRows (row objects → columns + stats → Parquet) against the raw parquet-wasm encode
// of the same data already in Arrow form (IPC + writeParquet only), both ZSTD, in one process.
// Then the worker pool: the same rows encoded on the calling thread (encodeRows) against
// encodeRowsAsync with a ParquetEncodePool, as one file and as several files written concurrently.
// Run: npx tsx bench/parquet-encode.ts [rows=200000] [repetitions=5] [files=4]  (wall and on-CPU medians)
import { availableParallelism } from 'node:os';
import { arrowToParquet, encodeRows, encodeRowsAsync, ParquetEncodePool, rowsToArrow } from '../sinks/parquet/index.js';
import { generate, SCHEMA } from './lib/events.js';
import { median, timed, timedAsync } from './lib/timing.js';

const ROWS = Number(process.argv[2] ?? 200_000);
const REPS = Number(process.argv[3] ?? 5);
const FILES = Number(process.argv[4] ?? 4);
const WARMUP = 2;

async function main(): Promise<void> {
  const { rows, jsonBytes } = generate(ROWS);
  console.log(
    `parquet-encode: ${ROWS} rows × ${SCHEMA.fields.length} columns, ${(jsonBytes / ROWS).toFixed(0)} B/row JSON ` +
      `(${(jsonBytes / 1e6).toFixed(1)} MB), node ${process.version}, ${WARMUP} warm-up + ${REPS} measured repetitions`,
  );
  // (a) input: the same data already in Arrow form (built once, outside the timings).
  const arrow = rowsToArrow(SCHEMA, rows);
  const zstd = { compression: 'zstd' } as const;

  const legs = ['raw', 'encode', 'build', 'write', 'dictOn', 'dictOff'] as const;
  type Leg = (typeof legs)[number];
  const wall = Object.fromEntries(legs.map((l) => [l, [] as number[]])) as Record<Leg, number[]>;
  const cpu = Object.fromEntries(legs.map((l) => [l, [] as number[]])) as Record<Leg, number[]>;
  const sizes: Partial<Record<Leg, number>> = {};
  const record = (leg: Leg, run: { wall: number; cpu: number }, measured: boolean) => {
    if (!measured) return;
    wall[leg].push(run.wall);
    cpu[leg].push(run.cpu);
  };
  for (let rep = 0; rep < WARMUP + REPS; rep++) {
    const measured = rep >= WARMUP;
    const raw = timed(() => arrowToParquet(arrow.table, zstd, arrow.dictionaryColumns));
    const encoded = timed(() => encodeRows(SCHEMA, rows, zstd));
    const built = timed(() => rowsToArrow(SCHEMA, rows, zstd));
    const written = timed(() => arrowToParquet(built.value.table, zstd, built.value.dictionaryColumns));
    const dictOn = timed(() => arrowToParquet(arrow.table, { ...zstd, dictionary: true }));
    const dictOff = timed(() => arrowToParquet(arrow.table, { ...zstd, dictionary: false }));
    if (encoded.value.numRecords !== ROWS || encoded.value.stats.length !== SCHEMA.fields.length) {
      throw new Error('encodeRows returned a wrong record count or stats');
    }
    if (!Buffer.from(encoded.value.bytes).equals(raw.value)) throw new Error('(a) and (b) wrote different files');
    record('raw', raw, measured);
    record('encode', encoded, measured);
    record('build', built, measured);
    record('write', written, measured);
    record('dictOn', dictOn, measured);
    record('dictOff', dictOff, measured);
    sizes.raw = raw.value.length;
    sizes.encode = encoded.value.bytes.length;
    sizes.dictOn = dictOn.value.length;
    sizes.dictOff = dictOff.value.length;
  }
  const report = (label: string, leg: Leg) => {
    const ms = median(wall[leg]);
    const cpuMs = median(cpu[leg]);
    const size = sizes[leg] === undefined ? '' : `  file ${((sizes[leg] as number) / 1e6).toFixed(2)} MB`;
    console.log(
      `${label.padEnd(46)} wall ${ms.toFixed(0).padStart(5)} ms ${(ROWS / ms).toFixed(0).padStart(4)}k rows/s ` +
        `${(jsonBytes / 1e3 / ms).toFixed(1).padStart(6)} MB/s | cpu ${cpuMs.toFixed(0).padStart(5)} ms ` +
        `${(ROWS / cpuMs).toFixed(0).padStart(4)}k rows/s ${(jsonBytes / 1e3 / cpuMs).toFixed(1).padStart(6)} MB/s${size}`,
    );
    console.log(`${''.padEnd(46)} wall runs [${wall[leg].map((t) => t.toFixed(0)).join(', ')}]`);
    return { wall: ms, cpu: cpuMs };
  };
  const raw = report('(a) raw encode: Arrow → IPC → Parquet (zstd)', 'raw');
  const encode = report('(b) encodeRows: rows → Parquet + stats (zstd)', 'encode');
  const build = report('    (b) split: rows → Arrow columns + stats', 'build');
  const write = report('    (b) split: Arrow → IPC → Parquet', 'write');
  report('    dictionary on for every column', 'dictOn');
  report('    dictionary off', 'dictOff');
  console.log(`    'auto' dictionary columns (as in (a), (b)): ${arrow.dictionaryColumns.join(', ') || 'none'}`);
  const pct = (x: number) => `${(x * 100).toFixed(0)}%`;
  console.log(
    `(b)/(a) rate ratio: wall ${pct(raw.wall / encode.wall)}, cpu ${pct(raw.cpu / encode.cpu)} (target ≥ 70%)`,
  );
  console.log(
    `(b) time split (cpu): build ${pct(build.cpu / (build.cpu + write.cpu))}, ` +
      `write ${pct(write.cpu / (build.cpu + write.cpu))}`,
  );
  await poolSection(rows, jsonBytes);
}

/**
 * Sync vs worker pool on the same rows: (c) one file, (d) FILES files of ROWS/FILES rows each, all
 * started at once on the pool (as writeFiles does for several partitions) vs one after the other on
 * this thread. "main cpu" is this thread's on-CPU time: what the worker path leaves free for other work.
 */
async function poolSection(rows: Record<string, unknown>[], jsonBytes: number): Promise<void> {
  const pool = new ParquetEncodePool();
  const zstd = { compression: 'zstd' } as const;
  const per = Math.ceil(rows.length / FILES);
  const chunks = Array.from({ length: FILES }, (_, k) => rows.slice(k * per, (k + 1) * per));
  const legs = ['syncOne', 'poolOne', 'syncMany', 'poolMany'] as const;
  type Leg = (typeof legs)[number];
  const wall = Object.fromEntries(legs.map((l) => [l, [] as number[]])) as Record<Leg, number[]>;
  const cpu = Object.fromEntries(legs.map((l) => [l, [] as number[]])) as Record<Leg, number[]>;
  const startup = await timedAsync(() => encodeRowsAsync(SCHEMA, rows.slice(0, 100), zstd, pool));
  for (let rep = 0; rep < WARMUP + REPS; rep++) {
    const runs = {
      syncOne: timed(() => [encodeRows(SCHEMA, rows, zstd)]),
      poolOne: await timedAsync(async () => [await encodeRowsAsync(SCHEMA, rows, zstd, pool)]),
      syncMany: timed(() => chunks.map((c) => encodeRows(SCHEMA, c, zstd))),
      poolMany: await timedAsync(() => Promise.all(chunks.map((c) => encodeRowsAsync(SCHEMA, c, zstd, pool)))),
    };
    const same = (a: { bytes: Uint8Array }[], b: { bytes: Uint8Array }[]) =>
      a.length === b.length && a.every((x, k) => Buffer.from(x.bytes).equals((b[k] as { bytes: Uint8Array }).bytes));
    if (!same(runs.syncOne.value, runs.poolOne.value) || !same(runs.syncMany.value, runs.poolMany.value)) {
      throw new Error('the worker pool wrote different bytes than encodeRows');
    }
    if (rep < WARMUP) continue;
    for (const leg of legs) {
      wall[leg].push(runs[leg].wall);
      cpu[leg].push(runs[leg].cpu);
    }
  }
  console.log(
    `worker pool: ${pool.size} workers (availableParallelism ${availableParallelism()}), ` +
      `first job incl. worker start ${startup.wall.toFixed(0)} ms`,
  );
  const line = (label: string, leg: Leg) => {
    const ms = median(wall[leg]);
    console.log(
      `${label.padEnd(46)} wall ${ms.toFixed(0).padStart(5)} ms ${(rows.length / ms).toFixed(0).padStart(4)}k rows/s ` +
        `${(jsonBytes / 1e3 / ms).toFixed(1).padStart(6)} MB/s | main cpu ${median(cpu[leg]).toFixed(0).padStart(5)} ms`,
    );
    console.log(`${''.padEnd(46)} wall runs [${wall[leg].map((t) => t.toFixed(0)).join(', ')}]`);
  };
  line('(c) 1 file, encodeRows on this thread', 'syncOne');
  line('(c) 1 file, encodeRowsAsync on the pool', 'poolOne');
  line(`(d) ${FILES} files, encodeRows one after another`, 'syncMany');
  line(`(d) ${FILES} files, encodeRowsAsync all at once`, 'poolMany');
  const ratio = (a: Leg, b: Leg, of: Record<Leg, number[]>) => (median(of[a]) / median(of[b])).toFixed(2);
  console.log(
    `pool speed-up (sync wall / pool wall): 1 file ×${ratio('syncOne', 'poolOne', wall)}, ` +
      `${FILES} files ×${ratio('syncMany', 'poolMany', wall)}; main-thread cpu pool/sync: 1 file ` +
      `${ratio('poolOne', 'syncOne', cpu)}, ${FILES} files ${ratio('poolMany', 'syncMany', cpu)}`,
  );
  await pool.close();
}

await main();
