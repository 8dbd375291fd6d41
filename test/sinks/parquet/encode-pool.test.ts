// ParquetEncodePool / encodeRowsAsync: the worker path writes exactly the synchronous path's bytes
// (several schemas and options, partitioned multi-file Delta writes), maps errors as encodeRows does,
// survives a killed worker, and never keeps a process alive.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as parquetWasm from 'parquet-wasm';
import { afterAll, describe, expect, it } from 'vitest';
import type { AddAction } from '../../../sinks/delta/actions.js';
import { encodeSliceHere } from '../../../sinks/delta/encoded-file.js';
import { loadSnapshot } from '../../../sinks/delta/load-snapshot.js';
import { DeltaTable } from '../../../sinks/delta/table.js';
import { DeltaTransaction } from '../../../sinks/delta/transaction.js';
import { ColumnBatch } from '../../../sinks/parquet/column-batch.js';
import {
  encodeRows,
  encodeRowsAsync,
  ipcWriteSettings,
  PARQUET_WRITE_DEFAULTS,
  ParquetEncodeError,
  ParquetEncodePool,
  ParquetWorkerError,
  type ParquetWriteOptions,
  ParquetWriterError,
  rowsToArrow,
  unwrapIpcWrite,
  writeIpcToParquet,
} from '../../../sinks/parquet/index.js';
import type { DataType, StructField, StructType } from '../../../sinks/schema.js';
import { MemoryObjectStore } from '../../../storage/memory.js';
import { JsonColumnScanner } from '../../../stream/input/json-columns.js';
import { PROJECT_ROOT } from '../../kit/paths.js';

const field = (name: string, type: DataType, nullable = true): StructField => ({ name, type, nullable, metadata: {} });
const struct = (...fields: StructField[]): StructType => ({ type: 'struct', fields });

const STRINGS = struct(field('id', 'string', false), field('kind', 'string'), field('bin', 'binary'));
const NUMBERS = struct(
  field('b', 'byte'),
  field('i', 'integer'),
  field('l', 'long', false),
  field('f', 'float'),
  field('d', 'double'),
  field('bo', 'boolean'),
  field('dec', 'decimal(18,3)'),
);
const TIMES = struct(field('ts', 'timestamp'), field('day', 'date'), field('n', 'long'));
const NESTED = struct(
  field('st', struct(field('x', 'integer', false), field('y', struct(field('z', 'string'))))),
  field('arr', { type: 'array', elementType: 'long', containsNull: true }),
  field('m', { type: 'map', keyType: 'string', valueType: 'double', valueContainsNull: true }),
  field('tags', { type: 'array', elementType: 'string', containsNull: false }),
);

const N = 20_000;
const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const CASES: [string, StructType, Record<string, unknown>[]][] = [
  [
    'strings',
    STRINGS,
    range(N).map((i) => ({
      id: `id-${(i * 2654435761) % 1000003}-é✓`,
      kind: i % 5 === 0 ? null : ['a', 'b', 'c'][i % 3],
      bin: i % 7 === 0 ? null : new Uint8Array([i & 255, (i >> 8) & 255]),
    })),
  ],
  [
    'numbers',
    NUMBERS,
    range(N).map((i) => ({
      b: (i % 256) - 128,
      i: i % 11 === 0 ? null : i * 7 - 50_000,
      l: BigInt(i) * 1_000_000_007n,
      f: i / 3,
      d: i % 13 === 0 ? Number.NaN : -i / 7,
      bo: i % 3 === 0 ? null : i % 2 === 0,
      dec: `${i}.${i % 1000}`,
    })),
  ],
  [
    'timestamps',
    TIMES,
    range(N).map((i) => ({
      ts: i % 9 === 0 ? null : new Date(Date.UTC(2024, 0, 1) + i * 61_000),
      day: new Date(Date.UTC(2020, 0, 1) + (i % 900) * 86_400_000),
      n: i,
    })),
  ],
  [
    'nested',
    NESTED,
    range(N).map((i) => ({
      st: i % 10 === 0 ? null : { x: i, y: i % 4 === 0 ? null : { z: `z${i % 17}` } },
      arr: i % 6 === 0 ? null : [i, null, -i],
      m: i % 8 === 0 ? null : new Map([[`k${i % 3}`, i / 2]]),
      tags: range(i % 4).map((t) => `t${t}`),
    })),
  ],
];
const OPTIONS: ParquetWriteOptions[] = [
  {},
  { compression: 'snappy', dictionary: true },
  { compression: 'uncompressed', dictionary: false, rowGroupSize: 3000 },
];

const pools: ParquetEncodePool[] = [];
function newPool(size = 2): ParquetEncodePool {
  const pool = new ParquetEncodePool({ size });
  pools.push(pool);
  return pool;
}
afterAll(async () => {
  await Promise.all(pools.map((p) => p.close()));
});

describe('encodeRowsAsync in a worker pool', () => {
  it('writes byte-for-byte the files and stats encodeRows writes', async () => {
    const pool = newPool();
    const jobs = CASES.flatMap(([name, schema, rows]) =>
      OPTIONS.map(async (options) => ({
        name,
        options,
        sync: encodeRows(schema, rows, options),
        worker: await encodeRowsAsync(schema, rows, options, pool),
      })),
    );
    for (const { name, options, sync, worker } of await Promise.all(jobs)) {
      expect(Buffer.from(worker.bytes).equals(sync.bytes), `${name} ${JSON.stringify(options)}`).toBe(true);
      expect(worker.stats).toEqual(sync.stats);
      expect(worker.numRecords).toBe(sync.numRecords);
    }
    expect(pool.threads).toBeLessThanOrEqual(2);
  });

  it('runs in-thread with pool null', async () => {
    const [, schema, rows] = CASES[0] as (typeof CASES)[number];
    expect(
      Buffer.from((await encodeRowsAsync(schema, rows, {}, null)).bytes).equals(encodeRows(schema, rows).bytes),
    ).toBe(true);
  });

  it('starts lazily, at most `size` threads, and answers many jobs in order', async () => {
    const pool = newPool(2);
    expect(pool.threads).toBe(0);
    const [, schema, rows] = CASES[1] as (typeof CASES)[number];
    const slices = range(6).map((k) => rows.slice(k * 1000, k * 1000 + 500 + k * 100));
    const results = await Promise.all(slices.map((s) => encodeRowsAsync(schema, s, {}, pool)));
    expect(pool.threads).toBe(2);
    results.forEach((r, k) => {
      expect(Buffer.from(r.bytes).equals(encodeRows(schema, slices[k] as typeof rows).bytes)).toBe(true);
    });
  });

  it('rejects invalid data with the column and row, as encodeRows throws', async () => {
    const pool = newPool(1);
    const rows = [
      { b: 1, l: 1 },
      { b: 1, l: 2 },
      { b: 'x', l: 3 },
    ];
    let syncError: unknown;
    try {
      encodeRows(NUMBERS, rows);
    } catch (error) {
      syncError = error;
    }
    const asyncError = await encodeRowsAsync(NUMBERS, rows, {}, pool).catch((error: unknown) => error);
    expect(asyncError).toBeInstanceOf(ParquetEncodeError);
    expect(asyncError).toMatchObject({ code: 'INVALID_DATA', retryable: false, context: { column: 'b', row: 2 } });
    expect((asyncError as Error).message).toBe((syncError as Error).message);
    await expect(encodeRowsAsync(NUMBERS, rows, { rowGroupSize: 0 }, pool)).rejects.toMatchObject({
      code: 'INVALID_OPTION',
    });
  });

  it('maps a parquet-wasm failure to the same ParquetWriterError and replaces that worker', async () => {
    const pool = newPool(1);
    const settings = ipcWriteSettings(PARQUET_WRITE_DEFAULTS, []);
    const garbage = () => new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
    let syncError: unknown;
    try {
      unwrapIpcWrite(writeIpcToParquet(parquetWasm, garbage(), settings), 3);
    } catch (error) {
      syncError = error;
    }
    expect(syncError).toBeInstanceOf(ParquetWriterError);
    const asyncError = await pool.writeIpc(garbage(), settings, 3).catch((error: unknown) => error);
    expect(asyncError).toBeInstanceOf(ParquetWriterError);
    expect(asyncError).toMatchObject({ code: 'WRITER_FAILED', retryable: false, domain: 'internal' });
    expect((asyncError as Error).message).toBe((syncError as Error).message);
    expect((asyncError as Error).cause).toBeDefined();
    const [, schema, rows] = CASES[0] as (typeof CASES)[number];
    const again = await encodeRowsAsync(schema, rows, {}, pool);
    expect(Buffer.from(again.bytes).equals(encodeRows(schema, rows).bytes)).toBe(true);
  });

  it('rejects the job of a killed worker as retryable, and the next job succeeds', async () => {
    const pool = newPool(1);
    const [, schema, rows] = CASES[3] as (typeof CASES)[number];
    const expected = encodeRows(schema, rows).bytes;
    await encodeRowsAsync(schema, rows.slice(0, 10), {}, pool); // the worker is up and ready
    const { table, dictionaryColumns } = rowsToArrow(schema, rows);
    const inFlight = pool.writeTable(table, {}, dictionaryColumns).catch((error: unknown) => error);
    await pool.terminateWorkersForTesting();
    const error = await inFlight;
    expect(error).toBeInstanceOf(ParquetWorkerError);
    expect(error).toMatchObject({ code: 'WORKER_EXITED', retryable: true, context: { rows: rows.length } });
    expect(pool.threads).toBe(0);
    const again = await encodeRowsAsync(schema, rows, {}, pool);
    expect(Buffer.from(again.bytes).equals(expected)).toBe(true);
    expect(pool.threads).toBe(1);
  });

  it('rejects jobs after close', async () => {
    const pool = newPool(1);
    const [, schema, rows] = CASES[0] as (typeof CASES)[number];
    await encodeRowsAsync(schema, rows.slice(0, 5), {}, pool);
    await pool.close();
    expect(pool.threads).toBe(0);
    await expect(encodeRowsAsync(schema, rows, {}, pool)).rejects.toMatchObject({ code: 'WRITER_FAILED' });
    expect(() => new ParquetEncodePool({ size: 0 })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
  });
});

/** Writes small files until a worker of `pool` reports the code of 'columns' tasks loaded. */
async function untilColumnsInWorkers(pool: ParquetEncodePool): Promise<void> {
  const { table } = rowsToArrow(STRINGS, [{ id: 'x', kind: 'a', bin: null }]);
  for (let i = 0; i < 200 && !pool.columnsInWorkers; i++) {
    await pool.writeTable(table);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  expect(pool.columnsInWorkers).toBe(true);
}

describe('ParquetEncodePool.writeColumns', () => {
  // Every ColumnBatch type; nulls, non-ASCII, longs beyond 2^53, non-canonical timestamp texts.
  const schema = struct(
    field('id', 'string', false),
    field('l', 'long'),
    field('i', 'integer'),
    field('sh', 'short'),
    field('b', 'byte'),
    field('d', 'double'),
    field('bo', 'boolean'),
    field('ts', 'timestamp'),
    field('day', 'date'),
    field('kind', 'string'),
  );
  const rows = range(9000).map((i) => ({
    id: `id-${(i * 2654435761) % 1000003}-é✓`,
    l: i % 500 === 0 ? 2n ** 60n + BigInt(i) : i % 9 === 0 ? null : i * 1_000_003,
    i: i % 11 === 0 ? null : i - 4000,
    sh: (i % 60_000) - 30_000,
    b: (i % 256) - 128,
    d: i % 13 === 0 ? Number.NaN : -i / 7,
    bo: i % 3 === 0 ? null : i % 2 === 0,
    ts:
      i % 7 === 0
        ? `2024-01-01T00:00:${String(i % 60).padStart(2, '0')}+02:00`
        : new Date(Date.UTC(2024, 0, 1) + i * 61_000),
    day: new Date(Date.UTC(2020, 0, 1) + (i % 900) * 86_400_000),
    kind: i % 5 === 0 ? null : ['a', 'b', 'c'][i % 3],
  }));
  // The file's schema lists the batch's columns in another order.
  const fileSchema = struct(...[...schema.fields].reverse());

  it('writes the bytes and statistics of the calling thread for any rows of the batch, leaving it as it was', async () => {
    const pool = newPool(2);
    const batch = new ColumnBatch(schema, rows.length);
    for (const row of rows) batch.appendRow(row);
    const slices: [number, number, ParquetWriteOptions][] = [
      [0, rows.length, {}],
      [0, 4500, { compression: 'zstd', statsColumns: 3 }],
      [4500, rows.length, { compression: 'uncompressed', dictionary: true, rowGroupSize: 1000 }],
      [1234, 1240, { statsColumns: -1 }],
    ];
    // Before a worker has the columns code: the table is built on this thread (the same file).
    expect(pool.columnsInWorkers).toBe(false);
    const [before] = slices;
    const early = await pool.writeColumns(batch, fileSchema, before![0], before![1], before![2]);
    expect(
      Buffer.from(early.bytes).equals(encodeSliceHere(batch, fileSchema, before![0], before![1], before![2]).bytes),
    ).toBe(true);
    await untilColumnsInWorkers(pool);
    const results = await Promise.all(
      slices.map(([start, end, options]) => pool.writeColumns(batch, fileSchema, start, end, options)),
    );
    slices.forEach(([start, end, options], k) => {
      const here = encodeSliceHere(batch, fileSchema, start, end, options);
      expect(Buffer.from(results[k]!.bytes).equals(here.bytes), `slice ${start}..${end}`).toBe(true);
      expect(results[k]!.stats).toEqual(here.stats);
      // Every leaf has its null count, past the statistics' limit too.
      expect(results[k]!.stats.map((s) => s.path[0]).sort()).toEqual(schema.fields.map((f) => f.name).sort());
    });
    // The workers sent the copies' buffers back; copies made into them (over older rows' bytes) write the same files.
    expect(pool.spareBytesHeld).toBeGreaterThan(0);
    for (const [start, end, options] of [...slices].reverse()) {
      const again = await pool.writeColumns(batch, fileSchema, start, end, options);
      expect(Buffer.from(again.bytes).equals(encodeSliceHere(batch, fileSchema, start, end, options).bytes)).toBe(true);
    }
    const retained = new ColumnBatch(schema, rows.length);
    for (const row of rows) retained.appendRow(row);
    retained.retain(Uint8Array.from(rows, (_, i) => (i % 10 === 3 ? 0 : 1)));
    for (const [start, end] of [
      [0, retained.length],
      [17, 4000],
    ] as const) {
      const worker = await pool.writeColumns(retained, fileSchema, start, end);
      expect(Buffer.from(worker.bytes).equals(encodeSliceHere(retained, fileSchema, start, end, {}).bytes)).toBe(true);
    }
    expect(pool.spareBytesHeld).toBeLessThanOrEqual(64 * 2 ** 20);
    expect(
      Buffer.from(encodeSliceHere(batch, schema, 0, rows.length, {}).bytes).equals(encodeRows(schema, rows).bytes),
    ).toBe(true);
    // Scanned JSON with canonical timestamp and date texts (no samples kept).
    const scanned = new ColumnBatch(schema, 3000);
    const scanner = new JsonColumnScanner(schema, scanned);
    for (let i = 0; i < 3000; i++) {
      const ts = new Date(Date.UTC(2024, 0, 1) + i * 1_001).toISOString();
      const json = Buffer.from(JSON.stringify({ id: `j${i}`, ts, day: '2024-02-29', l: i }));
      expect(scanner.scan(json, 0, json.length)).toBe(true);
    }
    for (const [start, end] of [
      [0, 3000],
      [1000, 2000],
    ] as const) {
      const worker = await pool.writeColumns(scanned, schema, start, end);
      const here = encodeSliceHere(scanned, schema, start, end, {});
      expect(Buffer.from(worker.bytes).equals(here.bytes)).toBe(true);
      expect(worker.stats).toEqual(here.stats);
    }
  });

  it('rejects a schema the batch does not hold with a ParquetWriterError, and the next job succeeds', async () => {
    const pool = newPool(1);
    await untilColumnsInWorkers(pool);
    const batch = new ColumnBatch(schema, 10);
    for (const row of rows.slice(0, 10)) batch.appendRow(row);
    const wrong = struct(field('id', 'long', false));
    const error = await pool.writeColumns(batch, wrong, 0, 10).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ParquetWriterError);
    expect((error as Error).message).toMatch(/encode worker failed: .*no column 'id' of the schema's type/);
    await expect(pool.writeColumns(batch, wrong, 0, 10, { rowGroupSize: 0 })).rejects.toMatchObject({
      code: 'INVALID_OPTION',
    });
    const again = await pool.writeColumns(batch, schema, 0, 10);
    expect(Buffer.from(again.bytes).equals(encodeRows(schema, rows.slice(0, 10)).bytes)).toBe(true);
  });
});

describe('DeltaTransaction.writeFiles with the pool', () => {
  const schema = struct(field('id', 'long'), field('region', 'string'), field('note', 'string'), field('v', 'double'));
  const rows = range(6000).map((i) => ({
    id: i,
    region: ['eu', 'us', 'ap', 'sa'][i % 4],
    note: `note ${(i * 2654435761) % 1000003}`,
    v: i % 5 === 0 ? null : i / 3,
  }));

  async function write(encodePool: ParquetEncodePool | null, data: readonly Record<string, unknown>[] = rows) {
    const store = new MemoryObjectStore();
    await DeltaTable.create(store, { schema, partitionColumns: ['region'] });
    const tx = new DeltaTransaction(store, await loadSnapshot(store), { now: () => 1234 });
    const adds = await tx.writeFiles(data, { targetFileSize: 8192, compression: 'zstd', encodePool });
    const files = await Promise.all(adds.map((a) => store.get(decodeURIComponent(a.path))));
    return { adds, files };
  }
  const withoutUuid = (adds: AddAction[]) =>
    adds.map((a) => ({ ...a, path: a.path.replace(/-[0-9a-f]{8}-[0-9a-f-]{27}-c000/, '-<uuid>-c000') }));

  it('writes the same files, in the same order, as in-thread encoding, several at a time', async () => {
    const pool = newPool(2);
    const inThread = await write(null);
    const pooled = await write(pool);
    expect(pooled.adds.length).toBeGreaterThan(8);
    expect(withoutUuid(pooled.adds)).toEqual(withoutUuid(inThread.adds));
    pooled.files.forEach((bytes, k) => {
      expect(Buffer.from(bytes).equals(inThread.files[k] as Uint8Array)).toBe(true);
    });
    // Files numbered in add order, partitions in first-seen order, every row written once.
    expect(pooled.adds.map((a) => Number(/part-(\d+)/.exec(a.path)?.[1]))).toEqual(range(pooled.adds.length));
    expect([...new Set(pooled.adds.map((a) => a.partitionValues.region))]).toEqual(['eu', 'us', 'ap', 'sa']);
    expect(pooled.adds.reduce((n, a) => n + JSON.parse(a.stats as string).numRecords, 0)).toBe(rows.length);
    expect(pool.threads).toBe(2);
  });

  it('rejects with the first bad row of the caller (as before) and writes no later file', async () => {
    const pool = newPool(2);
    const bad = rows.map((r, i) => (i === 4001 || i === 5003 ? { ...r, v: 'x' } : r));
    for (const encodePool of [null, pool]) {
      await expect(write(encodePool, bad)).rejects.toMatchObject({
        code: 'INVALID_DATA',
        context: { column: 'v', row: 4001, partitionValues: { region: 'us' } },
      });
    }
  });
});

describe('process lifetime', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lakestream-pool-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Runs a TS module under `node --import tsx`; resolves with its output and ms from 'done' to exit. */
  function runChild(source: string, env: Record<string, string> = {}) {
    const script = join(dir, `child-${Math.random().toString(36).slice(2)}.mts`);
    writeFileSync(script, source);
    return new Promise<{ code: number | null; out: string; err: string; afterDone: number }>((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', script], {
        cwd: PROJECT_ROOT,
        env: { ...process.env, ...env },
      });
      let out = '';
      let err = '';
      let doneAt = Number.NaN;
      const killer = setTimeout(() => child.kill('SIGKILL'), 45_000);
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (Number.isNaN(doneAt) && out.includes('done')) doneAt = performance.now();
      });
      child.stderr.on('data', (d: Buffer) => {
        err += d.toString();
      });
      child.on('exit', (code) => {
        clearTimeout(killer);
        resolve({ code, out, err, afterDone: performance.now() - doneAt });
      });
    });
  }
  const encoderUrl = new URL('../../../sinks/parquet/index.ts', import.meta.url).href;
  const childSource = `
import { defaultEncodePool, encodeRows, encodeRowsAsync } from ${JSON.stringify(encoderUrl)};
const schema = { type: 'struct', fields: [{ name: 'id', type: 'long', nullable: false, metadata: {} }] };
const rows = Array.from({ length: 1000 }, (_, id) => ({ id }));
const encoded = await encodeRowsAsync(schema, rows);
const same = Buffer.from(encoded.bytes).equals(encodeRows(schema, rows).bytes);
const pool = defaultEncodePool();
console.log(JSON.stringify({ same, threads: pool === null ? null : pool.threads }) + ' done');
`;

  it('exits promptly with the default pool idle after one encode', async () => {
    const { code, out, err, afterDone } = await runChild(childSource);
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(JSON.parse(out.replace(' done', ''))).toEqual({ same: true, threads: 1 });
    expect(afterDone).toBeLessThan(5_000);
  });

  it('LAKESTREAM_PARQUET_WORKERS=0 encodes on the calling thread; a bad value is INVALID_OPTION', async () => {
    const off = await runChild(childSource, { LAKESTREAM_PARQUET_WORKERS: '0' });
    expect(off.code).toBe(0);
    expect(JSON.parse(off.out.replace(' done', ''))).toEqual({ same: true, threads: null });
    const bad = await runChild(childSource, { LAKESTREAM_PARQUET_WORKERS: 'lots' });
    expect(bad.code).not.toBe(0);
    expect(bad.err).toContain('INVALID_OPTION');
  });
});
