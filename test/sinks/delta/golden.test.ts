// Interop: every Spark-written golden table (test/fixtures/README.md) read by lakestream at its latest
// version and at every version (time travel), compared with delta-rs (live file list and rows), or
// refused/failed exactly as listed below. A table that changes category fails the test.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pythonReaders } from '../../kit/capabilities.js';
import { requireCapability } from '../../kit/capability.js';
import { PythonSession } from '../../kit/python.js';
import {
  type Canon,
  commitVersions,
  type Failure,
  findTables,
  GOLDEN_ROOT,
  type OurRead,
  oracleSource,
  readWithLakestream,
  sortRows,
} from './golden-kit.js';

/** What reading one table version must give. */
type Outcome =
  /** Snapshot (version, live files) and rows equal delta-rs's. */
  | 'match'
  /** lakestream refuses with UNSUPPORTED_FEATURE naming this feature. */
  | { refuse: string }
  /** lakestream fails with LOG_CORRUPT, and delta-rs fails to load the snapshot too. */
  | 'corrupt'
  /** The log replays to delta-rs's file list, but data files are absent from the fixture: both fail to read rows. */
  | 'missing-data'
  /**
   * The snapshot equals delta-rs's but delta-rs cannot read the rows (its bug or missing feature):
   * lakestream's rows (data columns) equal pyarrow's reading of those data files.
   */
  | 'pyarrow';

interface Expectation {
  /** Outcome at every version unless `at` says otherwise. */
  outcome: Outcome;
  at?: Record<number, Outcome>;
  why: string;
}

const MATCH: Expectation = { outcome: 'match', why: 'plain table' };
const refuse = (feature: string, why: string, at?: Record<number, Outcome>): Expectation => ({
  outcome: { refuse: feature },
  why,
  ...(at ? { at } : {}),
});
const corrupt = (why: string): Expectation => ({ outcome: 'corrupt', why });

/** Every table under the golden root, with its expected outcome and the reason. */
const EXPECTED: Record<string, Expectation> = {
  '125-iterator-bug': { outcome: 'match', why: 'classic checkpoint at 10 then commits' },
  'basic-decimal-table': {
    outcome: 'pyarrow',
    why: 'delta-rs 1.6.6 fails on the negative decimal partition value -2342342.23423',
  },
  'basic-decimal-table-legacy': {
    outcome: 'pyarrow',
    why: 'delta-rs 1.6.6 fails on the negative decimal partition value -2342342.23423',
  },
  'basic-with-inserts-deletes-checkpoint': { outcome: 'match', why: 'deletes across a checkpoint' },
  'basic-with-inserts-merge': { outcome: 'match', why: 'merge: removes and re-adds' },
  'basic-with-inserts-overwrite-restore': { outcome: 'match', why: 'overwrite then RESTORE, checkpoint at 3' },
  'basic-with-vacuum-protocol-check-feature': {
    outcome: 'pyarrow',
    at: { 0: 'match' },
    why: 'reader feature vacuumProtocolCheck from version 1: supported by lakestream, refused by delta-rs',
  },
  'canonicalized-paths-normal-a': corrupt('metaData without schemaString (the spec requires it); delta-rs agrees'),
  'canonicalized-paths-normal-b': corrupt('metaData without schemaString (the spec requires it); delta-rs agrees'),
  checkpoint: {
    outcome: 'missing-data',
    why: 'log-only fixture (data files "1".."15" absent); checkpoint at 10, replay compared by file list',
  },
  'collations-preview-table': { outcome: 'match', why: 'writer feature collations-preview; empty table' },
  'collations-table': { outcome: 'match', why: 'writer feature collations; empty table' },
  'commit-info-containing-arbitrary-operationParams-types': {
    outcome: 'match',
    why: 'odd commitInfo; CDF writer feature',
  },
  'corrupted-last-checkpoint': corrupt('metaData without schemaString in commits and checkpoint'),
  'corrupted-last-checkpoint-kernel': { outcome: 'match', why: '_last_checkpoint with checksum, checkpoint at 10' },
  'data-reader-absolute-paths-escaped-chars': corrupt('log has no metaData action at all'),
  'data-reader-array-primitives': MATCH,
  'data-reader-date-types-America/Los_Angeles': MATCH,
  'data-reader-date-types-Etc/GMT+9': MATCH,
  'data-reader-date-types-PST': MATCH,
  'data-reader-date-types-UTC': MATCH,
  'data-reader-escaped-chars': { outcome: 'match', why: 'RFC 2396-encoded paths (%2521 folders)' },
  'data-reader-map': { outcome: 'match', why: 'maps of every key/value type' },
  'data-reader-nested-struct': MATCH,
  'data-reader-nullable-field-invalid-schema-key': { outcome: 'match', why: 'array of nulls; an empty data file' },
  'data-reader-partition-values': { outcome: 'match', why: 'partition values of every primitive type, nulls' },
  'data-reader-primitives': MATCH,
  'data-reader-timestamp_ntz': { outcome: 'match', why: 'reader feature timestampNtz (supported)' },
  'data-reader-timestamp_ntz-id-mode': refuse('columnMapping', 'column mapping mode id'),
  'data-reader-timestamp_ntz-name-mode': refuse('columnMapping', 'column mapping mode name'),
  'data-skipping-basic-stats-all-types': MATCH,
  'data-skipping-basic-stats-all-types-columnmapping-id': refuse('columnMapping', 'reader version 2, mode id'),
  'data-skipping-basic-stats-all-types-columnmapping-name': refuse('columnMapping', 'reader version 2, mode name'),
  'data-skipping-change-stats-collected-across-versions': MATCH,
  'decimal-various-scale-precision': { outcome: 'match', why: 'decimals up to (38,36)' },
  'deltalog-commit-info': corrupt('metaData without schemaString'),
  'deltalog-getChanges': {
    outcome: 'match',
    at: { 0: 'missing-data' },
    why: 'txn action; version 0 references fake/path/1, removed later',
  },
  'deltalog-invalid-protocol-version': refuse('readerVersion99', 'minReaderVersion 99'),
  'deltalog-state-reconstruction-from-checkpoint-missing-metadata': corrupt('no usable metaData'),
  'deltalog-state-reconstruction-from-checkpoint-missing-protocol': corrupt('no usable metaData/protocol'),
  'deltalog-state-reconstruction-without-metadata': corrupt('no metaData action'),
  'deltalog-state-reconstruction-without-protocol': corrupt('no protocol action'),
  'dv-partitioned-with-checkpoint': refuse('deletionVectors', 'deletion vectors'),
  'dv-with-columnmapping': refuse('columnMapping', 'column mapping (checked before deletion vectors)'),
  'hive/deltatbl-column-names-case-insensitive': { outcome: 'match', why: 'partition column spelled in another case' },
  'hive/deltatbl-deleted-path': MATCH,
  'hive/deltatbl-incorrect-format-config': MATCH,
  'hive/deltatbl-map-types-correctly': MATCH,
  'hive/deltatbl-non-partitioned': MATCH,
  'hive/deltatbl-not-allow-write': MATCH,
  'hive/deltatbl-partition-prune': MATCH,
  'hive/deltatbl-partitioned': MATCH,
  'hive/deltatbl-schema-match': MATCH,
  'hive/deltatbl-special-chars-in-partition-column': MATCH,
  'hive/deltatbl-touch-files-needed-for-partitioned': MATCH,
  'kernel-timestamp-INT96': { outcome: 'match', why: 'INT96 timestamps, timestamp partition values' },
  'kernel-timestamp-TIMESTAMP_MICROS': MATCH,
  'kernel-timestamp-TIMESTAMP_MILLIS': MATCH,
  'log-replay-dv-key-cases': refuse('deletionVectors', 'deletion vectors'),
  'log-replay-special-characters': {
    outcome: 'match',
    at: { 0: 'missing-data' },
    why: 'path "special%20p@%23h" added then removed; the data file is absent',
  },
  'log-replay-special-characters-a': {
    outcome: 'match',
    at: { 0: 'missing-data' },
    why: 'path "special%20p@%23h" added then removed; the data file is absent',
  },
  'multi-part-checkpoint': { outcome: 'match', why: 'two-part checkpoint at version 1' },
  'parquet-all-types-legacy-format': { outcome: 'match', why: 'legacy Parquet list/map encodings; timestampNtz' },
  'parquet-decimal-dictionaries': { outcome: 'match', why: '1M rows of dictionary-encoded decimals (digest)' },
  'parquet-decimal-type': MATCH,
  'snapshot-data0': MATCH,
  'snapshot-data1': MATCH,
  'snapshot-data2': MATCH,
  'snapshot-data2-deleted': MATCH,
  'snapshot-data3': MATCH,
  'snapshot-vacuumed': {
    outcome: 'match',
    at: { 0: 'missing-data', 1: 'missing-data', 2: 'missing-data', 3: 'missing-data', 4: 'missing-data' },
    why: 'older versions reference vacuumed data files',
  },
  'spark-variant-checkpoint': refuse('variantType-preview', 'variant type'),
  'table-with-columnmapping-mode-id': refuse('columnMapping', 'column mapping mode id'),
  'table-with-columnmapping-mode-name': refuse('columnMapping', 'column mapping mode name'),
  'table-with-icebegCompatV2Enabled': refuse('columnMapping', 'icebergCompatV2 implies column mapping (id)'),
  'time-travel-partition-changes-a': MATCH,
  'time-travel-schema-changes-a': MATCH,
  'time-travel-start': MATCH,
  'time-travel-start-start20': MATCH,
  'time-travel-start-start20-start40': MATCH,
  'type-widening': refuse('typeWidening-preview', 'type widening from version 1', { 0: 'match' }),
  'update-deleted-directory': corrupt('metaData without schemaString in the checkpoint'),
  'v2-checkpoint-json': {
    outcome: 'pyarrow',
    at: { 0: 'match' },
    why: 'v2 checkpoint (JSON + sidecars): supported by lakestream, refused by delta-rs',
  },
  'v2-checkpoint-parquet': {
    outcome: 'pyarrow',
    at: { 0: 'match' },
    why: 'v2 checkpoint (Parquet + sidecars): supported by lakestream, refused by delta-rs',
  },
  'versions-not-contiguous': corrupt('commit 1 is missing (and version 0 lacks schemaString)'),
};

/** Versions checked for a table: undefined (latest) and every commit file's version. */
function versionsOf(table: string): (number | undefined)[] {
  return [undefined, ...commitVersions(join(GOLDEN_ROOT, table))];
}

function outcomeAt(expectation: Expectation, version: number): Outcome {
  return expectation.at?.[version] ?? expectation.outcome;
}

interface OracleSnapshot {
  ok: boolean;
  version?: number;
  files?: string[];
  error?: string;
}
type OracleRows =
  | { ok: true; rows: Canon[] }
  | { ok: true; count: number; digest: string }
  | { ok: false; error: string };
interface OracleRead {
  snapshot: OracleSnapshot;
  rows: OracleRows;
}

function rowsKey(rows: OracleRows | OurRead['rows']): unknown {
  if (!rows.ok) return rows;
  if ('digest' in rows) return { count: rows.count, digest: rows.digest };
  const list = rows.rows as unknown[];
  return { rows: typeof list[0] === 'string' ? list : sortRows(list as Canon[]) };
}

const cap = await requireCapability(pythonReaders);
const tables = findTables();

describe.skipIf(!cap.available)('golden tables: lakestream vs delta-rs', () => {
  let py: PythonSession;
  const oracle = new Map<string, OracleRead | OracleRows>();
  const key = (table: string, version: number | undefined, mode: string) => `${table}@${version ?? 'latest'}#${mode}`;

  beforeAll(async () => {
    py = new PythonSession();
    const requests: [string, number | null, string][] = [];
    const keys: string[] = [];
    for (const table of tables) {
      const expectation = EXPECTED[table];
      if (!expectation) continue;
      for (const version of versionsOf(table)) {
        requests.push([join(GOLDEN_ROOT, table), version ?? null, 'delta-rs']);
        keys.push(key(table, version, 'delta-rs'));
        const latest = commitVersions(join(GOLDEN_ROOT, table)).at(-1) ?? 0;
        if (outcomeAt(expectation, version ?? latest) === 'pyarrow') {
          requests.push([join(GOLDEN_ROOT, table), version ?? null, 'pyarrow-files']);
          keys.push(key(table, version, 'pyarrow-files'));
        }
      }
    }
    const results = await py.run<(OracleRead | OracleRows)[]>(oracleSource(), { requests });
    results.forEach((r, i) => {
      oracle.set(keys[i] as string, r);
    });
  }, 300_000);

  afterAll(async () => {
    await py?.close();
  });

  it('lists every table of the fixture folder, and only those', () => {
    expect(tables.length).toBeGreaterThanOrEqual(80);
    expect([...tables].sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  for (const table of Object.keys(EXPECTED).sort()) {
    it(`${table}`, async () => {
      const expectation = EXPECTED[table] as Expectation;
      const latest = commitVersions(join(GOLDEN_ROOT, table)).at(-1) ?? 0;
      for (const version of versionsOf(table)) {
        const label = `${table}@${version ?? 'latest'}`;
        const outcome = outcomeAt(expectation, version ?? latest);
        const ours = await readWithLakestream(join(GOLDEN_ROOT, table), version);
        const theirs = oracle.get(key(table, version, 'delta-rs')) as OracleRead;
        if (outcome === 'match' || outcome === 'missing-data' || outcome === 'pyarrow') {
          // The replayed snapshot is delta-rs's: same version, same live files.
          expect(ours.snapshot, label).toEqual({
            ok: true,
            version: theirs.snapshot.version,
            files: theirs.snapshot.files,
          });
        }
        if (outcome === 'match') {
          expect(rowsKey(ours.rows), label).toEqual(rowsKey(theirs.rows));
        } else if (outcome === 'missing-data') {
          expect((ours.rows as Failure).code, label).toBe('OBJECT_NOT_FOUND');
          expect(theirs.rows.ok, label).toBe(false);
        } else if (outcome === 'pyarrow') {
          expect(theirs.rows.ok, `${label}: delta-rs now reads it; move the table to 'match'`).toBe(false);
          const files = oracle.get(key(table, version, 'pyarrow-files')) as OracleRows;
          expect(files.ok, label).toBe(true);
          expect(ours.rows.ok, label).toBe(true);
          const dataColumns = Object.keys((files as { rows: Canon[] }).rows[0] ?? {});
          const ourRows = (ours.rows as { rows: string[] }).rows.map((text) => {
            const row = JSON.parse(text) as Record<string, Canon>;
            return Object.fromEntries(dataColumns.map((c) => [c, row[c] ?? null])) as Canon;
          });
          expect(sortRows(ourRows), label).toEqual(sortRows((files as { rows: Canon[] }).rows));
        } else if (outcome === 'corrupt') {
          expect(ours.snapshot, label).toMatchObject({ ok: false, code: 'LOG_CORRUPT' });
          expect(theirs.snapshot.ok, `${label}: delta-rs loads it`).toBe(false);
        } else {
          expect(ours.snapshot, label).toMatchObject({
            ok: false,
            code: 'UNSUPPORTED_FEATURE',
            feature: outcome.refuse,
          });
        }
      }
    }, 120_000);
  }
});
