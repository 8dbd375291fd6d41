// Tests of scans on golden tables: projection, typed partition columns, schema evolution, and the
// property that partition pruning and stats skipping never drop a matching row (fast-check filters).
import { join } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { DeltaError } from '../../../sinks/delta/errors.js';
import { loadSnapshot } from '../../../sinks/delta/load-snapshot.js';
import {
  and,
  bindPredicate,
  eq,
  ge,
  gt,
  isIn,
  isNotNull,
  isNull,
  le,
  lt,
  matches,
  ne,
  not,
  or,
  type Predicate,
} from '../../../sinks/delta/predicate.js';
import { dataFileKey, planScan, scan, scanRows } from '../../../sinks/delta/scan.js';
import type { DeltaSnapshot } from '../../../sinks/delta/snapshot.js';
import type { DeltaValue, Row } from '../../../sinks/delta/values.js';
import { LocalObjectStore } from '../../../storage/local.js';
import { GOLDEN_ROOT } from './golden-kit.js';

const open = (table: string) => new LocalObjectStore(join(GOLDEN_ROOT, table));

async function failure(promise: Promise<unknown>): Promise<DeltaError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DeltaError);
  return error as DeltaError;
}

describe('scan', () => {
  it('projects columns in the requested order, resolving names case-insensitively', async () => {
    const store = open('data-reader-primitives');
    const snapshot = await loadSnapshot(store);
    const all = await scanRows(store, snapshot);
    const projected = await scanRows(store, snapshot, { columns: ['AS_STRING', 'as_int'] });
    expect(projected).toEqual(all.map((row) => ({ as_string: row.as_string, as_int: row.as_int })));
    expect(Object.keys(projected[0] ?? {})).toEqual(['as_string', 'as_int']);
    expect((await failure(scanRows(store, snapshot, { columns: ['nope'] }))).code).toBe('INVALID_ARGUMENT');
  });

  it('materializes partition columns with the schema types; null and "" are null', async () => {
    const store = open('data-reader-partition-values');
    const snapshot = await loadSnapshot(store);
    const rows = await scanRows(store, snapshot, {
      columns: ['as_int', 'as_long', 'as_boolean', 'as_date', 'as_timestamp', 'as_big_decimal', 'as_string_lit_null'],
    });
    const byInt = new Map(rows.map((r) => [r.as_int, r]));
    expect(byInt.get(1)).toEqual({
      as_int: 1,
      as_long: 1n,
      as_boolean: false,
      as_date: '2021-09-08',
      as_timestamp: BigInt(Date.UTC(2021, 8, 8, 11, 11, 11)) * 1000n,
      as_big_decimal: '1',
      as_string_lit_null: 'null',
    });
    expect(byInt.get(null)).toMatchObject({ as_long: null, as_date: null, as_string_lit_null: null });
  });

  it('reads partition columns stored in another case (partitionValues keyed by the column name)', async () => {
    const store = open('hive/deltatbl-column-names-case-insensitive');
    const snapshot = await loadSnapshot(store);
    const rows = await scanRows(store, snapshot);
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(typeof row.BarFoo).toBe('string');
  });

  it('fills columns missing from older files with null (schema evolution)', async () => {
    const store = open('time-travel-schema-changes-a');
    const snapshot = await loadSnapshot(store);
    const rows = await scanRows(store, snapshot);
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(Object.keys(row)).toEqual(snapshot.schema.fields.map((f) => f.name));
  });

  it('yields one batch per data file in snapshot order', async () => {
    const store = open('basic-with-inserts-deletes-checkpoint');
    const snapshot = await loadSnapshot(store);
    const batches = [];
    for await (const batch of scan(store, snapshot, { concurrency: 3 })) batches.push(batch);
    expect(batches.map((b) => b.file.path)).toEqual(snapshot.files.map((f) => f.path));
    expect(batches.flatMap((b) => b.rows)).toEqual(await scanRows(store, snapshot));
  });

  it('skips files by statistics: an equality on id reads only the file whose range holds it', async () => {
    const store = open('basic-with-inserts-deletes-checkpoint');
    const snapshot = await loadSnapshot(store);
    const all = await scanRows(store, snapshot);
    const target = all[0]?.id as bigint;
    const plan = planScan(snapshot, { filter: eq('id', target) });
    expect(plan.files.length).toBe(1);
    expect(plan.skippedFiles).toBe(snapshot.files.length - 1);
    expect(await scanRows(store, snapshot, { filter: eq('id', target) })).toEqual(all.filter((r) => r.id === target));
  });

  it('prunes partitions exactly, including NOT over partition columns', async () => {
    const store = open('hive/deltatbl-partition-prune');
    const snapshot = await loadSnapshot(store);
    const all = await scanRows(store, snapshot);
    const city = all[0]?.city as string;
    for (const filter of [eq('city', city), not(eq('city', city)), isNull('city')]) {
      const plan = planScan(snapshot, { filter });
      const bound = bindPredicate(filter, snapshot.schema);
      const expectedFiles = new Set<string>();
      for await (const batch of scan(store, snapshot)) {
        if (batch.rows.some((row) => matches(bound, row))) expectedFiles.add(batch.file.path);
      }
      expect(new Set(plan.files.map((f) => f.path))).toEqual(expectedFiles);
    }
  });

  it('maps log paths to keys: RFC 2396 decoding, absolute paths only inside the table', () => {
    expect(dataFileKey('_2=bar+%252521/part-0.parquet', 'file:///t')).toBe('_2=bar+%2521/part-0.parquet');
    expect(dataFileKey('file:///data/t/a%20b.parquet', 'file:///data/t')).toBe('a b.parquet');
    expect(dataFileKey('/data/t/x.parquet', 'file:///data/t')).toBe('x.parquet');
    expect(() => dataFileKey('s3://bucket/other/x.parquet', 'file:///data/t')).toThrow(/outside the table/);
    expect(() => dataFileKey('bad%zz', 'file:///t')).toThrow(DeltaError);
  });
});

/** Tables with several files and statistics or partitions, for the skipping property. */
const PROPERTY_TABLES = [
  'basic-with-inserts-deletes-checkpoint',
  'kernel-timestamp-INT96',
  'kernel-timestamp-TIMESTAMP_MILLIS',
  'data-skipping-basic-stats-all-types',
  'data-skipping-change-stats-collected-across-versions',
  'data-reader-partition-values',
  'hive/deltatbl-partition-prune',
  'time-travel-partition-changes-a',
  'decimal-various-scale-precision',
];

function primitiveColumns(snapshot: DeltaSnapshot): { name: string; values: DeltaValue[] }[] {
  return snapshot.schema.fields
    .filter((f) => typeof f.type === 'string' && f.type !== 'binary')
    .map((f) => ({ name: f.name, values: [] }));
}

describe.each(PROPERTY_TABLES)('skipping never drops a matching row: %s', (table) => {
  const store = open(table);
  let snapshot: DeltaSnapshot;
  let all: Row[];
  let columns: { name: string; values: DeltaValue[] }[];

  beforeAll(async () => {
    snapshot = await loadSnapshot(store);
    all = await scanRows(store, snapshot);
    columns = primitiveColumns(snapshot);
    for (const column of columns) column.values = [...new Set(all.map((r) => r[column.name] ?? null))];
  });

  it('scanRows(filter) equals filtering every row', async () => {
    const literal = (column: { values: DeltaValue[] }) =>
      fc.oneof(fc.constantFrom(...column.values.filter((v) => v !== null), null), fc.constant(null));
    const leaf: fc.Arbitrary<Predicate> = fc.integer({ min: 0, max: columns.length - 1 }).chain((index) => {
      const column = columns[index] as { name: string; values: DeltaValue[] };
      const value = column.values.some((v) => v !== null) ? literal(column) : fc.constant(null);
      return fc.oneof(
        value.map((v) => eq(column.name, v)),
        value.map((v) => ne(column.name, v)),
        value.map((v) => lt(column.name, v)),
        value.map((v) => le(column.name, v)),
        value.map((v) => gt(column.name, v)),
        value.map((v) => ge(column.name, v)),
        fc.array(value, { minLength: 1, maxLength: 3 }).map((vs) => isIn(column.name, vs)),
        fc.constant(isNull(column.name)),
        fc.constant(isNotNull(column.name)),
      );
    });
    const predicate = fc.letrec<{ p: Predicate }>((tie) => ({
      p: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        leaf,
        fc.tuple(tie('p'), tie('p')).map(([a, b]) => and(a, b)),
        fc.tuple(tie('p'), tie('p')).map(([a, b]) => or(a, b)),
        tie('p').map((p) => not(p)),
      ),
    })).p;
    await fc.assert(
      fc.asyncProperty(predicate, async (filter) => {
        const bound = bindPredicate(filter, snapshot.schema);
        const expected = all.filter((row) => matches(bound, row));
        const rows = await scanRows(store, snapshot, { filter });
        expect(rows).toEqual(expected);
      }),
      { numRuns: 60 },
    );
  }, 120_000);
});
