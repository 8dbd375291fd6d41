// Benchmark: encodeRows (row objects → columns + stats → Parquet) against the raw parquet-wasm encode
// of the same data already in Arrow form (IPC + writeParquet only), both ZSTD, in one process.
// Run: npx tsx bench/parquet-encode.ts [rows=200000] [repetitions=5]
import { readFileSync } from 'node:fs';
import { arrowToParquet, encodeRows, rowsToArrow } from '../sinks/parquet/index.js';
import type { StructType } from '../sinks/schema.js';

const ROWS = Number(process.argv[2] ?? 200_000);
const REPS = Number(process.argv[3] ?? 5);
const WARMUP = 2;

/** mulberry32: a small seeded PRNG, so every run encodes the same data. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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

/** Rows as a consumer sees them: one JSON message per row, parsed (flat strings, one hidden class). */
function generate(n: number): { rows: Record<string, unknown>[]; jsonBytes: number } {
  const rand = prng(42);
  const start = Date.UTC(2024, 0, 1);
  const rows: Record<string, unknown>[] = new Array(n);
  let jsonBytes = 0;
  for (let i = 0; i < n; i++) {
    const ms = start + i * 250 + Math.floor(rand() * 1000);
    const iso = new Date(ms).toISOString();
    let payload = '';
    while (payload.length < 150) payload += `${WORDS[(rand() * WORDS.length) | 0]} `;
    const row = {
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
    const json = JSON.stringify(row);
    jsonBytes += Buffer.byteLength(json);
    rows[i] = JSON.parse(json) as Record<string, unknown>;
  }
  return { rows, jsonBytes };
}

/**
 * On-CPU time of this thread in ms (Linux /proc/thread-self/schedstat), else wall time. On a shared
 * host wall time also counts time spent waiting for a core; CPU time does not, so it is reported too.
 */
function threadCpuMs(): number {
  try {
    return Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / 1e6;
  } catch {
    return Number.NaN;
  }
}

/** Wall and on-CPU milliseconds of `fn`. */
function timed<T>(fn: () => T): { value: T; wall: number; cpu: number } {
  const c0 = threadCpuMs();
  const t0 = performance.now();
  const value = fn();
  const wall = performance.now() - t0;
  return { value, wall, cpu: threadCpuMs() - c0 };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

function main(): void {
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
}

main();
