// Reading a snapshot's rows: plan (partition pruning and stats-based skipping), then read each live data
// file through the ObjectStore, coerce its values to the table schema (missing columns are null, partition
// columns come typed from add.partitionValues), filter rows exactly and project the requested columns.
import type { ObjectStore } from '../../storage/object-store.js';
import { ParquetReadError, readParquetColumns } from '../parquet/reader.js';
import type { StructField, StructType } from '../schema.js';
import type { AddAction } from './actions.js';
import { FileSkipper } from './data-skipping.js';
import { DeltaError } from './errors.js';
import { type BoundPredicate, bindPredicate, evaluate, type Predicate, predicateColumns } from './predicate.js';
import type { DeltaSnapshot } from './snapshot.js';
import {
  coerceParquetValue,
  type DeltaValue,
  findByName,
  parsePartitionValue,
  type Row,
  ValueError,
} from './values.js';

export interface ScanOptions {
  /** Columns to return, in this order (names resolved case-insensitively). Default: every column. */
  columns?: readonly string[];
  /** Only rows satisfying this filter (SQL semantics: unknown is excluded). */
  filter?: Predicate;
  /** Data files read in parallel. Default 4. */
  concurrency?: number;
}

/** The rows of one data file that passed the filter, projected. */
export interface ScanBatch {
  file: AddAction;
  rows: Row[];
}

/** What a scan will read. */
export interface ScanPlan {
  /** The output schema (requested columns, in order). */
  schema: StructType;
  /** Files to read, in snapshot order. */
  files: AddAction[];
  /** Live files excluded by partition pruning or statistics. */
  skippedFiles: number;
  /** The bound filter, when one was given. */
  predicate: BoundPredicate | undefined;
}

function invalid(message: string, context: Record<string, unknown>): DeltaError {
  return new DeltaError(message, { code: 'INVALID_ARGUMENT', context });
}

/** Decides which files to read; pure (no I/O). Throws INVALID_ARGUMENT for unknown columns or bad filters. */
export function planScan(snapshot: DeltaSnapshot, options: ScanOptions = {}): ScanPlan {
  const fields: StructField[] = options.columns
    ? options.columns.map((name) => {
        const field = findByName(snapshot.schema.fields, name);
        if (!field) throw invalid(`column "${name}" is not in the table schema`, { column: name });
        return field;
      })
    : [...snapshot.schema.fields];
  const predicate = options.filter ? bindPredicate(options.filter, snapshot.schema) : undefined;
  let files = [...snapshot.files];
  const total = files.length;
  if (predicate) {
    const skipper = new FileSkipper(snapshot.schema, snapshot.partitionColumns, predicate);
    files = files.filter((file) => skipper.mightMatch(file));
  }
  return { schema: { type: 'struct', fields }, files, skippedFiles: total - files.length, predicate };
}

/**
 * The object key of a data file path from the log: relative paths are URI-decoded (RFC 2396);
 * an absolute URI is accepted only when it points inside the store's location.
 */
export function dataFileKey(path: string, location: string): string {
  const decode = (text: string) => {
    try {
      return decodeURIComponent(text);
    } catch (cause) {
      throw new DeltaError(`data file path ${JSON.stringify(path)} is not valid URI encoding`, {
        code: 'LOG_CORRUPT',
        cause,
        context: { path },
      });
    }
  };
  const absolute = /^[A-Za-z][A-Za-z0-9+.-]*:/.test(path) || path.startsWith('/');
  if (!absolute) return decode(path);
  const root = decode(location.replace(/\/+$/, ''));
  const full = decode(path.startsWith('/') ? `file://${path}` : path.replace(/^file:\/(?!\/)/, 'file:///'));
  if (full.startsWith(`${root}/`)) return full.slice(root.length + 1);
  throw new DeltaError(`data file ${path} is outside the table location ${location}`, {
    code: 'UNSUPPORTED_FEATURE',
    context: { feature: 'absolutePaths', path },
  });
}

type FileReader = (file: AddAction) => Promise<Row[]>;

function fileReader(
  store: ObjectStore,
  snapshot: Pick<DeltaSnapshot, 'schema' | 'partitionColumns'>,
  plan: ScanPlan,
): FileReader {
  const schema = snapshot.schema;
  const partitionColumns = new Set(
    snapshot.partitionColumns
      .map((c) => findByName(schema.fields, c)?.name)
      .filter((c): c is string => c !== undefined),
  );
  const needed = new Set(plan.schema.fields.map((f) => f.name));
  if (plan.predicate) for (const c of predicateColumns(plan.predicate)) needed.add(c);
  const neededFields = schema.fields.filter((f) => needed.has(f.name));
  const dataFields = neededFields.filter((f) => !partitionColumns.has(f.name));
  const outputNames = plan.schema.fields.map((f) => f.name);

  return async (file) => {
    const key = dataFileKey(file.path, store.location);
    const constants = new Map<string, DeltaValue>();
    for (const field of neededFields) {
      if (!partitionColumns.has(field.name)) continue;
      const entry = findByName(
        Object.keys(file.partitionValues).map((name) => ({ name })),
        field.name,
      );
      try {
        constants.set(field.name, parsePartitionValue(entry ? file.partitionValues[entry.name] : null, field.type));
      } catch (cause) {
        if (!(cause instanceof ValueError)) throw cause;
        throw new DeltaError(`invalid partition value for ${field.name} in ${file.path}: ${cause.message}`, {
          code: 'LOG_CORRUPT',
          cause,
          context: { path: file.path, column: field.name },
        });
      }
    }
    const bytes = await store.get(key);
    let data: Awaited<ReturnType<typeof readParquetColumns>>;
    try {
      data = await readParquetColumns(bytes, { columns: dataFields.map((f) => f.name) });
    } catch (cause) {
      if (!(cause instanceof ParquetReadError)) throw cause;
      throw new DeltaError(`data file ${file.path} is not readable Parquet: ${cause.message}`, {
        code: 'INVALID_DATA',
        cause,
        context: { path: file.path },
      });
    }
    const columnOf = (field: StructField) => {
      const match = findByName(data.fields, field.name);
      return match ? data.columns[data.fields.indexOf(match)] : undefined;
    };
    // Value of a needed column at a row: partition constant, coerced data value, or null if absent.
    const readers = new Map<string, (i: number) => DeltaValue>();
    for (const field of neededFields) {
      if (constants.has(field.name)) {
        const value = constants.get(field.name) ?? null;
        readers.set(field.name, () => value);
      } else {
        const values = columnOf(field);
        const coerce = (i: number): DeltaValue => {
          try {
            return coerceParquetValue((values as DeltaValue[])[i], field.type);
          } catch (cause) {
            if (!(cause instanceof ValueError)) throw cause;
            throw new DeltaError(`column ${field.name} of ${file.path} does not fit the table type: ${cause.message}`, {
              code: 'SCHEMA_MISMATCH',
              cause,
              context: { path: file.path, column: field.name },
            });
          }
        };
        readers.set(field.name, values ? coerce : () => null);
      }
    }
    const outputReaders = outputNames.map((name) => [name, readers.get(name) as (i: number) => DeltaValue] as const);
    const rows: Row[] = [];
    const predicate = plan.predicate;
    for (let i = 0; i < data.numRows; i++) {
      if (predicate) {
        const cache = new Map<string, DeltaValue>();
        const value = (column: string) => {
          if (!cache.has(column)) cache.set(column, (readers.get(column) as (i: number) => DeltaValue)(i));
          return cache.get(column) ?? null;
        };
        if (evaluate(predicate, value) !== true) continue;
        const out: Row = {};
        for (const [name] of outputReaders) out[name] = value(name);
        rows.push(out);
      } else {
        const out: Row = {};
        for (const [name, read] of outputReaders) out[name] = read(i);
        rows.push(out);
      }
    }
    return rows;
  };
}

/**
 * Every row of one data file with all columns of `table.schema` (partition columns typed from
 * `file.partitionValues`, missing columns null), as the scan reads it. Used by the Delta streaming
 * source, which reads the files of a commit one by one with the metadata in effect at that commit.
 */
export function readDataFile(
  store: ObjectStore,
  table: Pick<DeltaSnapshot, 'schema' | 'partitionColumns'>,
  file: AddAction,
): Promise<Row[]> {
  const plan: ScanPlan = { schema: table.schema, files: [file], skippedFiles: 0, predicate: undefined };
  return fileReader(store, table, plan)(file);
}

/**
 * Streams the snapshot's rows file by file (files in snapshot order, several read in parallel).
 * Files whose partition values or statistics prove that no row matches `filter` are not read; the
 * rows of the files read are filtered exactly. Throws INVALID_ARGUMENT for a bad column or filter,
 * INVALID_DATA for an unreadable data file, SCHEMA_MISMATCH for a value that does not fit its column
 * type (e.g. more decimal places than the column's scale); storage errors (e.g. a vacuumed file) propagate.
 */
export async function* scan(
  store: ObjectStore,
  snapshot: DeltaSnapshot,
  options: ScanOptions = {},
): AsyncGenerator<ScanBatch> {
  const plan = planScan(snapshot, options);
  const read = fileReader(store, snapshot, plan);
  const limit = Math.max(1, options.concurrency ?? 4);
  const inFlight: Promise<Row[]>[] = [];
  let next = 0;
  const fill = () => {
    while (inFlight.length < limit && next < plan.files.length) {
      const promise = read(plan.files[next++] as AddAction);
      promise.catch(() => {}); // Rejections surface when awaited below, in order.
      inFlight.push(promise);
    }
  };
  for (let i = 0; i < plan.files.length; i++) {
    fill();
    const rows = await (inFlight.shift() as Promise<Row[]>);
    yield { file: plan.files[i] as AddAction, rows };
  }
}

/** All matching rows of the snapshot as plain objects (for tests, the CLI and small tables). */
export async function scanRows(store: ObjectStore, snapshot: DeltaSnapshot, options: ScanOptions = {}): Promise<Row[]> {
  const rows: Row[] = [];
  for await (const batch of scan(store, snapshot, options)) for (const row of batch.rows) rows.push(row);
  return rows;
}
