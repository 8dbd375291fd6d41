// Copy-on-write MERGE by key (update mode of the streaming sink, DeltaTable.merge): source rows whose
// key equals a table row's key replace it, the others are inserted. Only the data files that may hold
// one of the keys are read (partition pruning when the key has partition columns, min/max statistics
// pruning on the other key columns, nested struct fields included); the files that do hold a key are
// removed and rewritten with their other rows unchanged, in the same transaction as the inserts.
import { formatDays, toDays, toEpochMicros, toLong, toUnscaledDecimal } from '../parquet/values.js';
import { type DataType, decimalParts, type StructType } from '../schema.js';
import type { AddAction } from './actions.js';
import type { ReadPredicate } from './conflict-checker.js';
import { parseStats } from './data-skipping.js';
import { DeltaError } from './errors.js';
import type { ParquetCompression } from './file-names.js';
import {
  compareCodePoints,
  formatDecimal,
  formatTimestampMicros,
  type PartitionScalar,
  parsePartitionValue,
  toCanonical,
  typeName,
} from './partition-values.js';
import { scan } from './scan.js';
import type { DeltaSnapshot } from './snapshot.js';
import type { DeltaTransaction } from './transaction.js';
import { findByName, parseTimestampMicros } from './values.js';

type Row = Record<string, unknown>;

/** A key column resolved against the table schema. */
export interface KeyColumn {
  /** The column's name in the table schema (rows are read by this name). */
  readonly name: string;
  readonly type: DataType;
}

function invalidArgument(message: string, context: Record<string, unknown> = {}): DeltaError {
  return new DeltaError(message, { code: 'INVALID_ARGUMENT', context });
}

function containsMap(type: DataType): boolean {
  if (typeof type === 'string') return false;
  if (type.type === 'map') return true;
  if (type.type === 'array') return containsMap(type.elementType);
  return type.fields.some((f) => containsMap(f.type));
}

/**
 * Resolves merge key columns against `schema` (exact name, else the unique case-insensitive match).
 * Throws INVALID_ARGUMENT for no keys, a key listed twice, an unknown column or a map-typed key
 * (maps have no equality in Spark either).
 */
export function resolveKeyColumns(schema: StructType, keys: readonly string[]): KeyColumn[] {
  if (!Array.isArray(keys) || keys.length === 0) {
    throw invalidArgument('a merge by key needs at least one key column (keyColumns is empty)');
  }
  const seen = new Set<string>();
  return keys.map((key) => {
    if (typeof key !== 'string' || key === '') throw invalidArgument('key columns must be non-empty strings');
    const field = findByName(schema.fields, key);
    if (!field) {
      throw invalidArgument(
        `key column ${key} is not a column of the table (columns: ${schema.fields.map((f) => f.name).join(', ')})`,
        { column: key },
      );
    }
    if (seen.has(field.name)) throw invalidArgument(`key column ${key} is listed twice`, { column: key });
    seen.add(field.name);
    if (containsMap(field.type)) {
      throw invalidArgument(`key column ${key} has type ${typeName(field.type)}: maps cannot be compared as keys`, {
        column: key,
      });
    }
    return { name: field.name, type: field.type };
  });
}

/** A JSON value that identifies a column value regardless of its JS representation. */
type Canonical = null | boolean | number | string | Canonical[] | { [name: string]: Canonical };

function canonicalNumber(n: number): Canonical {
  if (!Number.isFinite(n)) return { $number: String(n) };
  return n === 0 ? 0 : n; // -0 and 0 are one key, as in Spark's grouping
}

function wrongKind(type: DataType, value: unknown): never {
  throw new Error(`a ${typeof value} cannot be a ${typeName(type)} value`);
}

/**
 * The canonical form of a value of `type`: the same for every JS representation the writer accepts
 * and the reader returns (timestamps → ISO 8601 µs UTC text, whether a Date, ms number, bigint µs or
 * text; dates → 'YYYY-MM-DD'; longs → decimal text; decimals → text at the column's scale; binary →
 * base64; structs → objects in schema field order; -0 → 0). Throws Error for values that do not fit.
 */
function canonicalValue(type: DataType, value: unknown): Canonical {
  if (value === null || value === undefined) return null;
  if (typeof type === 'string') {
    switch (type) {
      case 'string':
        return typeof value === 'string' ? value : wrongKind(type, value);
      case 'boolean':
        return typeof value === 'boolean' ? value : wrongKind(type, value);
      case 'byte':
      case 'short':
      case 'integer':
      case 'double':
        if (typeof value === 'number') return canonicalNumber(value);
        if (typeof value === 'bigint') return canonicalNumber(Number(value));
        return wrongKind(type, value);
      case 'float':
        if (typeof value === 'number') return canonicalNumber(Math.fround(value));
        return wrongKind(type, value);
      case 'long':
        return BigInt(toLong(value)).toString();
      case 'date':
        return formatDays(toDays(value));
      case 'timestamp':
      case 'timestamp_ntz':
        return formatTimestampMicros(BigInt(toEpochMicros(value)));
      case 'binary':
        if (value instanceof Uint8Array) return { $binary: Buffer.from(value).toString('base64') };
        return wrongKind(type, value);
      default: {
        const decimal = decimalParts(type);
        if (!decimal) return wrongKind(type, value);
        return formatDecimal(BigInt(toUnscaledDecimal(value, decimal.precision, decimal.scale)), decimal.scale);
      }
    }
  }
  if (type.type === 'array') {
    if (!Array.isArray(value)) return wrongKind(type, value);
    return value.map((v) => canonicalValue(type.elementType, v));
  }
  if (type.type === 'struct') {
    if (typeof value !== 'object' || Array.isArray(value) || value instanceof Date || value instanceof Uint8Array) {
      return wrongKind(type, value);
    }
    const source = value as Row;
    const out: { [name: string]: Canonical } = {};
    for (const field of type.fields) out[field.name] = canonicalValue(field.type, source[field.name]);
    return out;
  }
  return wrongKind(type, value);
}

/** Encodes the key of a row (incoming or read back from the table) as a string; equal keys, equal strings. */
export interface KeyEncoder {
  readonly columns: readonly KeyColumn[];
  /** The canonical key text of `row`; `index` names the row in INVALID_DATA errors. */
  encode(row: Row, index?: number): string;
  /** A readable rendering of a key text: `window={"start":"…","end":"…"}, word="a"`. */
  describe(key: string): string;
}

/**
 * The key encoder of `keys` in `schema`. Keys compare null-safely (null equals null, like SQL's
 * `<=>`), because a result row with a null grouping value is one group. Values are compared by
 * their canonical form, so a Date in a new row matches the bigint µs the reader returns.
 */
export function keyEncoder(schema: StructType, keys: readonly string[]): KeyEncoder {
  const columns = resolveKeyColumns(schema, keys);
  return {
    columns,
    encode(row, index) {
      const values = columns.map((column) => {
        try {
          return canonicalValue(column.type, row[column.name]);
        } catch (cause) {
          const where = index === undefined ? '' : `row ${index}: `;
          throw new DeltaError(
            `${where}key column ${column.name} (${typeName(column.type)}): ${(cause as Error).message}`,
            {
              code: 'INVALID_DATA',
              cause,
              context: { column: column.name, ...(index === undefined ? {} : { row: index }) },
            },
          );
        }
      });
      return JSON.stringify(values);
    },
    describe(key) {
      const values = JSON.parse(key) as Canonical[];
      return columns.map((c, i) => `${c.name}=${JSON.stringify(values[i] ?? null)}`).join(', ');
    },
  };
}

// ---------- file pruning ----------

type Comparable = number | bigint | string;
type LeafKind = 'int' | 'long' | 'date' | 'timestamp' | 'string';

/** The sorted distinct values of one primitive leaf of the key (a column or a nested struct field). */
interface LeafFilter {
  readonly path: readonly string[];
  readonly kind: LeafKind;
  readonly values: readonly Comparable[];
}

function leafKind(type: DataType): LeafKind | undefined {
  switch (type) {
    case 'byte':
    case 'short':
    case 'integer':
      return 'int';
    case 'long':
      return 'long';
    case 'date':
      return 'date';
    case 'timestamp':
    case 'timestamp_ntz':
      return 'timestamp';
    case 'string':
      return 'string';
    default:
      return undefined;
  }
}

function leafValue(kind: LeafKind, value: unknown): Comparable {
  switch (kind) {
    case 'int':
      if (typeof value === 'number') return value;
      throw new Error('not a number');
    case 'long':
      return BigInt(toLong(value));
    case 'date':
      return toDays(value);
    case 'timestamp':
      return BigInt(toEpochMicros(value));
    case 'string':
      if (typeof value === 'string') return value;
      throw new Error('not a string');
  }
}

function compareComparable(a: Comparable, b: Comparable): number {
  if (typeof a === 'string' && typeof b === 'string') return compareCodePoints(a, b);
  return a < b ? -1 : a > b ? 1 : 0;
}

function leavesOf(type: DataType, path: string[], into: { path: string[]; kind: LeafKind }[]): void {
  if (typeof type === 'string') {
    const kind = leafKind(type);
    if (kind) into.push({ path, kind });
    return;
  }
  if (type.type === 'struct') for (const f of type.fields) leavesOf(f.type, [...path, f.name], into);
}

/**
 * Leaf filters for the key columns that are not partition columns. A leaf where some source row has
 * a null (or a value that does not convert) is left out: it cannot rule a file out.
 */
function buildLeafFilters(columns: readonly KeyColumn[], partitionColumns: ReadonlySet<string>, rows: readonly Row[]) {
  const leaves: { path: string[]; kind: LeafKind }[] = [];
  for (const column of columns) if (!partitionColumns.has(column.name)) leavesOf(column.type, [column.name], leaves);
  const filters: LeafFilter[] = [];
  for (const leaf of leaves) {
    const values: Comparable[] = [];
    let usable = true;
    for (const row of rows) {
      let value: unknown = row;
      for (const name of leaf.path) {
        value = value === null || value === undefined ? undefined : (value as Row)[name];
      }
      if (value === null || value === undefined) {
        usable = false;
        break;
      }
      try {
        values.push(leafValue(leaf.kind, value));
      } catch {
        usable = false;
        break;
      }
    }
    if (!usable || values.length === 0) continue;
    values.sort(compareComparable);
    const distinct = values.filter((v, i) => i === 0 || compareComparable(v, values[i - 1] as Comparable) !== 0);
    filters.push({ path: leaf.path, kind: leaf.kind, values: distinct });
  }
  return filters;
}

/** Spark and delta-rs truncate string statistics to 32 characters; a shorter max is exact. */
const STRING_PREFIX_LENGTH = 32;

function statAt(values: Record<string, unknown>, path: readonly string[]): unknown {
  let current: unknown = values;
  for (const name of path) {
    if (typeof current !== 'object' || current === null || Array.isArray(current)) return undefined;
    const record = current as Record<string, unknown>;
    const key =
      name in record
        ? name
        : findByName(
            Object.keys(record).map((k) => ({ name: k })),
            name,
          )?.name;
    current = key === undefined ? undefined : record[key];
  }
  return current;
}

/** A safe bound of a leaf from add.stats (timestamps in stats keep ms: the max may be 999 µs later). */
function statBound(raw: unknown, kind: LeafKind, side: 'lower' | 'upper'): Comparable | undefined {
  if (raw === null || raw === undefined) return undefined;
  try {
    switch (kind) {
      case 'int':
        return typeof raw === 'number' && Number.isSafeInteger(raw) ? raw : undefined;
      case 'long':
        return typeof raw === 'number' && Number.isSafeInteger(raw) ? BigInt(raw) : undefined;
      case 'date':
        return typeof raw === 'string' ? toDays(raw) : undefined;
      case 'timestamp': {
        if (typeof raw !== 'string') return undefined;
        const micros = parseTimestampMicros(raw);
        return side === 'lower' ? micros : micros + 999n;
      }
      case 'string':
        if (typeof raw !== 'string') return undefined;
        return side === 'lower' || [...raw].length < STRING_PREFIX_LENGTH ? raw : undefined;
    }
  } catch {
    return undefined;
  }
}

/** True when some value of the sorted `values` lies within [lower, upper] (an absent bound is open). */
function anyWithin(values: readonly Comparable[], lower: Comparable | undefined, upper: Comparable | undefined) {
  let lo = 0;
  let hi = values.length;
  if (lower !== undefined) {
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareComparable(values[mid] as Comparable, lower) < 0) lo = mid + 1;
      else hi = mid;
    }
  }
  if (lo >= values.length) return false;
  return upper === undefined || compareComparable(values[lo] as Comparable, upper) <= 0;
}

/** False only when the file's statistics prove that no row of it has a key among the source keys. */
function statsMightMatch(file: AddAction, filters: readonly LeafFilter[]): boolean {
  const stats = parseStats(file.stats);
  if (!stats) return true;
  if (stats.numRecords === 0) return false;
  for (const filter of filters) {
    const lower = statBound(statAt(stats.minValues, filter.path), filter.kind, 'lower');
    const upper = statBound(statAt(stats.maxValues, filter.path), filter.kind, 'upper');
    if (lower === undefined && upper === undefined) continue;
    if (!anyWithin(filter.values, lower, upper)) return false;
  }
  return true;
}

function partitionValueOf(values: Readonly<Record<string, string | null>>, column: string): string | null | undefined {
  if (column in values) return values[column];
  const match = findByName(
    Object.keys(values).map((name) => ({ name })),
    column,
  );
  return match ? values[match.name] : undefined;
}

function scalarKey(values: readonly (PartitionScalar | null)[]): string {
  return JSON.stringify(
    values.map((v) =>
      typeof v === 'bigint' ? `${v}n` : typeof v === 'number' && !Number.isFinite(v) ? `${v}` : v === '' ? null : v,
    ),
  );
}

/** The partition columns of the key, with the set of their value combinations in the source rows. */
interface PartitionFilter {
  readonly columns: readonly KeyColumn[];
  readonly tuples: ReadonlySet<string>;
  /** The tuple key of a file's (or a concurrent add's) log-encoded partition values. */
  tupleOf(values: Readonly<Record<string, string | null>>): string;
}

function buildPartitionFilter(
  columns: readonly KeyColumn[],
  partitionColumns: ReadonlySet<string>,
  rows: readonly Row[],
): PartitionFilter | undefined {
  const keyed = columns.filter((c) => partitionColumns.has(c.name));
  if (keyed.length === 0) return undefined;
  const tuples = new Set<string>();
  rows.forEach((row, index) => {
    const scalars = keyed.map((c) => {
      try {
        return toCanonical(c.type, row[c.name], c.name);
      } catch (error) {
        if (!(error instanceof DeltaError)) throw error;
        throw new DeltaError(`row ${index}: ${error.message}`, {
          code: error.code,
          cause: error,
          context: { ...error.context, row: index },
        });
      }
    });
    tuples.add(scalarKey(scalars));
  });
  return {
    columns: keyed,
    tuples,
    tupleOf: (values) =>
      scalarKey(keyed.map((c) => parsePartitionValue(c.type, partitionValueOf(values, c.name), c.name))),
  };
}

// ---------- the merge ----------

export interface MergeByKeyOptions {
  /** Columns identifying a row (top-level columns; structs such as a `window` are compared field by field). */
  keys: readonly string[];
  /** Target data file size in bytes (default 128 MiB). */
  targetFileSize?: number;
  compression?: ParquetCompression;
  /** Data files read in parallel. Default 4. */
  concurrency?: number;
}

/** Spark MERGE's operationMetrics (numbers). */
export interface MergeMetrics {
  numSourceRows: number;
  numTargetRowsInserted: number;
  numTargetRowsUpdated: number;
  numTargetRowsDeleted: number;
  numTargetRowsCopied: number;
  numOutputRows: number;
  numTargetFilesBeforeSkipping: number;
  numTargetFilesAfterSkipping: number;
  numTargetFilesRemoved: number;
  numTargetFilesAdded: number;
}

/** What mergeByKey did to the transaction (to rebuild the same commit on another transaction). */
export interface MergeByKeyResult {
  /** Files read (passed to tx.readFiles) and the predicate describing what was read. */
  read: AddAction[];
  readPredicate: ReadPredicate;
  /** Files that held a key and were removed (rewritten into `added`). */
  removed: AddAction[];
  /** New files: rewritten rows and inserted rows. */
  added: AddAction[];
  metrics: MergeMetrics;
}

/** The snapshot restricted to `files`, to scan just them. */
function filesView(snapshot: DeltaSnapshot, files: readonly AddAction[]): DeltaSnapshot {
  return {
    version: snapshot.version,
    protocol: snapshot.protocol,
    metadata: snapshot.metadata,
    schema: snapshot.schema,
    partitionColumns: snapshot.partitionColumns,
    properties: snapshot.properties,
    files,
    tombstones: [],
    timestamp: snapshot.timestamp,
    txns: snapshot.txns,
    txnVersion: (appId) => snapshot.txnVersion(appId),
  };
}

/**
 * Merges `rows` into the table of `tx` by `keys`, copy-on-write, without committing:
 * 1. the source keys are encoded (keyEncoder); two source rows with one key are INVALID_DATA (as
 *    Spark's MERGE refuses several source rows matching one target row);
 * 2. candidate files: those whose partition values match a source key's partition columns (when
 *    the key has partition columns) and whose min/max statistics admit a source value on every
 *    non-partition key leaf; they are declared read (`tx.readFiles`), so a concurrent commit that
 *    removes one of them, or adds data the merge should have seen, makes the commit conflict;
 * 3. each candidate is read; a file holding at least one source key is removed and its rows are
 *    written again with every matching row replaced by the source row (all target rows with that
 *    key, as MERGE updates every match); files without a match stay as they are;
 * 4. source rows that matched nothing are written as new files, with the rewritten rows.
 * `rows` must already fit `tx.schema` (see checkWriteSchema). Returns what was read, removed and added.
 */
export async function mergeByKey(
  tx: DeltaTransaction,
  rows: readonly Row[],
  options: MergeByKeyOptions,
): Promise<MergeByKeyResult> {
  if (!Array.isArray(rows)) throw invalidArgument('rows must be an array of objects');
  const encoder = keyEncoder(tx.schema, options.keys);
  const source = new Map<string, number>();
  for (let i = 0; i < rows.length; i++) {
    const key = encoder.encode(rows[i] as Row, i);
    const previous = source.get(key);
    if (previous !== undefined) {
      throw new DeltaError(
        `rows ${previous} and ${i} of the batch have the same key (${encoder.describe(key)}): a merge takes one row per key`,
        { code: 'INVALID_DATA', context: { key: encoder.describe(key), rows: [previous, i] } },
      );
    }
    source.set(key, i);
  }

  const snapshot = tx.snapshot;
  const partitionColumns = new Set(tx.partitionColumns);
  const partitionFilter = buildPartitionFilter(encoder.columns, partitionColumns, rows);
  const leafFilters = buildLeafFilters(encoder.columns, partitionColumns, rows);
  const candidates =
    rows.length === 0
      ? []
      : snapshot.files.filter(
          (file) =>
            (partitionFilter === undefined ||
              partitionFilter.tuples.has(partitionFilter.tupleOf(file.partitionValues))) &&
            statsMightMatch(file, leafFilters),
        );
  const readPredicate: ReadPredicate = partitionFilter
    ? {
        kind: 'partitions',
        description: `merge on ${encoder.columns.map((c) => c.name).join(', ')} in ${partitionFilter.tuples.size} partition(s) of ${partitionFilter.columns.map((c) => c.name).join(', ')}`,
        matches: (values) => partitionFilter.tuples.has(partitionFilter.tupleOf(values)),
      }
    : { kind: 'all' };
  tx.readFiles(candidates, readPredicate);

  const matched = new Uint8Array(rows.length);
  const rewritten: Row[] = [];
  const removed: AddAction[] = [];
  let updated = 0;
  let copied = 0;
  if (candidates.length > 0) {
    const batches = scan(tx.store, filesView(snapshot, candidates), {
      ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
    });
    for await (const batch of batches) {
      const out: Row[] = new Array(batch.rows.length);
      let hits = 0;
      for (let r = 0; r < batch.rows.length; r++) {
        const row = batch.rows[r] as Row;
        const index = source.get(encoder.encode(row));
        if (index === undefined) {
          out[r] = row;
        } else {
          out[r] = rows[index] as Row;
          matched[index] = 1;
          hits++;
        }
      }
      if (hits === 0) continue;
      removed.push(batch.file);
      for (const row of out) rewritten.push(row);
      updated += hits;
      copied += out.length - hits;
    }
  }
  const inserted: Row[] = [];
  for (let i = 0; i < rows.length; i++) if (matched[i] === 0) inserted.push(rows[i] as Row);

  tx.removeFiles(removed);
  const toWrite = rewritten.length === 0 ? inserted : inserted.length === 0 ? rewritten : rewritten.concat(inserted);
  const added = await tx.writeFiles(toWrite, {
    ...(options.targetFileSize !== undefined ? { targetFileSize: options.targetFileSize } : {}),
    ...(options.compression ? { compression: options.compression } : {}),
  });
  return {
    read: candidates,
    readPredicate,
    removed,
    added,
    metrics: {
      numSourceRows: rows.length,
      numTargetRowsInserted: inserted.length,
      numTargetRowsUpdated: updated,
      numTargetRowsDeleted: 0,
      numTargetRowsCopied: copied,
      numOutputRows: toWrite.length,
      numTargetFilesBeforeSkipping: snapshot.files.length,
      numTargetFilesAfterSkipping: candidates.length,
      numTargetFilesRemoved: removed.length,
      numTargetFilesAdded: added.length,
    },
  };
}

function sqlIdent(name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? name : `\`${name.replace(/`/g, '``')}\``;
}

/** commitInfo.operationParameters of a MERGE by `keys`, in Spark's shape. */
export function mergeOperationParameters(keys: readonly string[]): Record<string, string> {
  const condition = keys.map((k) => `(target.${sqlIdent(k)} <=> source.${sqlIdent(k)})`).join(' AND ');
  return {
    predicate: JSON.stringify([condition]),
    matchedPredicates: JSON.stringify([{ actionType: 'update' }]),
    notMatchedPredicates: JSON.stringify([{ actionType: 'insert' }]),
    notMatchedBySourcePredicates: JSON.stringify([]),
  };
}

/** MergeMetrics as commitInfo.operationMetrics entries. */
export function mergeMetricsRecord(metrics: MergeMetrics): Record<string, number> {
  return { ...metrics };
}
