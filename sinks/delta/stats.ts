// Per-file statistics for add.stats, identical in shape and encoding to Spark's StatisticsCollection:
// {"numRecords","minValues","maxValues","nullCount"} over the first 32 leaf data columns, strings cut to a
// 32-unit prefix (max kept an upper bound with U+007F / U+10FFFF), timestamps truncated to ms, dates yyyy-MM-dd.
import type { ColumnStats } from '../parquet/index.js';
import type { DataType, StructField, StructType } from '../schema.js';
import { decimalParts } from '../schema.js';
import { formatDate } from './partition-values.js';

export type { ColumnStats };

export interface StatsOptions {
  /** delta.dataSkippingNumIndexedCols: how many leaf columns get stats; negative means all. */
  numIndexedCols?: number;
  /** delta.dataSkippingStatsColumns: comma-separated column names (dotted for nested); wins over numIndexedCols. */
  statsColumns?: string;
  /** Spark's spark.databricks.delta.stats.stringPrefixLength. */
  stringPrefixLength?: number;
}

export const STATS_DEFAULTS = Object.freeze({ numIndexedCols: 32, stringPrefixLength: 32 });

/** Reads the stats options from table properties (metaData.configuration). */
export function statsOptionsFromProperties(properties: Readonly<Record<string, string>>): StatsOptions {
  const options: StatsOptions = {};
  const num = properties['delta.dataSkippingNumIndexedCols'];
  if (num !== undefined && /^-?\d+$/.test(num.trim())) options.numIndexedCols = Number(num);
  const columns = properties['delta.dataSkippingStatsColumns'];
  if (columns !== undefined) options.statsColumns = columns;
  return options;
}

/** Spark's truncateSchema: the first `limit` leaf columns (structs recurse; arrays and maps count as one). */
function truncateSchema(schema: StructType, limit: number): { schema: StructType; count: number } {
  let count = 0;
  const fields: StructField[] = [];
  for (const field of schema.fields) {
    if (count >= limit) break;
    if (typeof field.type === 'object' && field.type.type === 'struct') {
      const inner = truncateSchema(field.type, limit - count);
      count += inner.count;
      fields.push({ ...field, type: inner.schema });
    } else {
      count += 1;
      fields.push(field);
    }
  }
  return { schema: { type: 'struct', fields }, count };
}

/** Splits a dataSkippingStatsColumns value into lower-cased name paths (backticks quote a name). */
export function parseStatsColumns(spec: string): string[][] {
  const paths: string[][] = [];
  let path: string[] = [];
  let name = '';
  let quoted = false;
  const flush = (endOfPath: boolean) => {
    if (name.trim() !== '' || quoted) path.push(name.trim().toLowerCase());
    name = '';
    if (endOfPath) {
      if (path.length > 0) paths.push(path);
      path = [];
    }
  };
  for (let i = 0; i < spec.length; i++) {
    const c = spec[i] as string;
    if (c === '`') {
      if (quoted && spec[i + 1] === '`') {
        name += '`';
        i++;
      } else quoted = !quoted;
    } else if (!quoted && c === '.') flush(false);
    else if (!quoted && c === ',') flush(true);
    else name += c;
  }
  flush(true);
  return paths;
}

function filterSchema(schema: StructType, paths: string[][]): StructType {
  const fields: StructField[] = [];
  for (const field of schema.fields) {
    const lower = field.name.toLowerCase();
    const rests = paths.filter((p) => p[0] === lower).map((p) => p.slice(1));
    if (rests.length === 0) continue;
    if (rests.some((r) => r.length === 0)) fields.push(field);
    else if (typeof field.type === 'object' && field.type.type === 'struct') {
      fields.push({ ...field, type: filterSchema(field.type, rests) });
    }
  }
  return { type: 'struct', fields };
}

/** The part of the data schema (partition columns already removed) that gets statistics. */
export function indexedSchema(dataSchema: StructType, options: StatsOptions = {}): StructType {
  if (options.statsColumns !== undefined) return filterSchema(dataSchema, parseStatsColumns(options.statsColumns));
  const limit = options.numIndexedCols ?? STATS_DEFAULTS.numIndexedCols;
  return limit < 0 ? dataSchema : truncateSchema(dataSchema, limit).schema;
}

/** Spark's SkippingEligibleDataType: numbers, dates, timestamps and strings get min/max. */
function minMaxEligible(type: DataType): boolean {
  if (typeof type !== 'string') return false;
  switch (type) {
    case 'byte':
    case 'short':
    case 'integer':
    case 'long':
    case 'float':
    case 'double':
    case 'date':
    case 'timestamp':
    case 'timestamp_ntz':
    case 'string':
      return true;
    default:
      return decimalParts(type) !== undefined;
  }
}

const ASCII_MAX = '\u007f';
/** U+10FFFF, the largest code point (two UTF-16 units). */
const UTF8_MAX = '\u{10FFFF}';

const isHighSurrogate = (unit: number) => unit >= 0xd800 && unit <= 0xdbff;
const isLowSurrogate = (unit: number) => unit >= 0xdc00 && unit <= 0xdfff;

/**
 * Delta's truncateMinStringAgg: the first `n` UTF-16 units of `s` (one more when the cut would split
 * a surrogate pair); undefined (no bound) when n ≤ 0. A prefix is ≤ the string, so it stays a lower bound.
 */
export function truncateMinString(s: string, n: number): string | undefined {
  if (s.length <= n) return s;
  if (n <= 0) return undefined;
  return isHighSurrogate(s.charCodeAt(n - 1)) && isLowSurrogate(s.charCodeAt(n)) ? s.slice(0, n + 1) : s.slice(0, n);
}

/**
 * Delta's truncateMaxStringAgg (delta-spark 4.x): strings longer than `n` UTF-16 units become the
 * min-truncated prefix plus a tie-breaker that keeps it an upper bound in UTF-8 order — U+007F when
 * the first cut character is below it, else U+10FFFF. Cut U+10FFFF characters are kept (the prefix
 * grows) up to 2n units; beyond that there is no bound (undefined).
 */
export function truncateMaxString(s: string, n: number): string | undefined {
  if (s.length <= n) return s;
  if (n <= 0) return undefined;
  const limit = 2 * n;
  let length = (truncateMinString(s, n) as string).length;
  while (length <= limit) {
    if (length >= s.length) return s;
    if (length + 1 < s.length && s.slice(length, length + 2) === UTF8_MAX) {
      length += 2;
      continue;
    }
    return s.slice(0, length) + (s.charCodeAt(length) < 0x7f ? ASCII_MAX : UTF8_MAX);
  }
  return undefined;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** A timestamp (µs) as Spark writes it in stats: truncated down to ms, '2000-01-01T00:00:00.000Z'. */
export function formatStatsTimestamp(micros: bigint): string {
  const ms = micros >= 0n || micros % 1000n === 0n ? micros / 1000n : micros / 1000n - 1n;
  const d = new Date(Number(ms));
  const year = d.getUTCFullYear();
  const y = year >= 0 && year <= 9999 ? pad(year, 4) : (year < 0 ? '-' : '+') + pad(Math.abs(year), 6);
  return (
    `${y}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}T${pad(d.getUTCHours(), 2)}:` +
    `${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}.${pad(d.getUTCMilliseconds(), 3)}Z`
  );
}

const JSON_NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;

/** JSON text of a min/max value of a leaf of `type`, or undefined when it cannot be a bound. */
function boundJson(type: DataType, value: unknown, kind: 'min' | 'max', prefix: number): string | undefined {
  if (value === null || value === undefined) return undefined;
  switch (type) {
    case 'string': {
      if (typeof value !== 'string') return undefined;
      const bound = kind === 'min' ? truncateMinString(value, prefix) : truncateMaxString(value, prefix);
      return bound === undefined ? undefined : JSON.stringify(bound);
    }
    case 'date':
      if (typeof value === 'string') return JSON.stringify(value);
      if (typeof value === 'number' && Number.isInteger(value)) return JSON.stringify(formatDate(value));
      return undefined;
    case 'timestamp':
    case 'timestamp_ntz':
      if (typeof value === 'bigint') return JSON.stringify(formatStatsTimestamp(value));
      return undefined;
    case 'long':
      if (typeof value === 'bigint') return value.toString();
      if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
      return undefined;
    default:
      if (typeof value === 'number') return Number.isFinite(value) ? JSON.stringify(value) : undefined;
      if (typeof value === 'bigint') return value.toString();
      if (typeof value === 'string' && decimalParts(type) && JSON_NUMBER.test(value)) return value;
      return undefined;
  }
}

const KEY_SEP = '\u0000';

function isStruct(type: DataType): type is StructType {
  return typeof type === 'object' && type.type === 'struct';
}

/** Counts rows whose value at `path` is null or missing (a null parent struct makes its fields null). */
function countNulls(rows: readonly Record<string, unknown>[], path: readonly string[]): number {
  let nulls = 0;
  for (const row of rows) {
    let value: unknown = row;
    for (const name of path) {
      value = value === null || value === undefined ? undefined : (value as Record<string, unknown>)[name];
    }
    if (value === null || value === undefined) nulls++;
  }
  return nulls;
}

/**
 * The stats JSON string of one data file.
 * @param dataSchema the file's schema (the table schema without partition columns)
 * @param rows the rows written to the file (null counts of leaves the encoder gave no stats for)
 * @param columns the encoder's per-leaf statistics (sinks/parquet ColumnStats)
 */
export function buildStats(
  dataSchema: StructType,
  rows: readonly Record<string, unknown>[],
  columns: readonly ColumnStats[],
  options: StatsOptions = {},
): string {
  const prefix = options.stringPrefixLength ?? STATS_DEFAULTS.stringPrefixLength;
  const byPath = new Map(columns.map((c) => [c.path.join(KEY_SEP), c]));
  const schema = indexedSchema(dataSchema, options);

  // Returns the JSON object text, or undefined when no field of this struct is eligible.
  const minMax = (struct: StructType, parent: readonly string[], kind: 'min' | 'max'): string | undefined => {
    const parts: string[] = [];
    let eligible = false;
    for (const field of struct.fields) {
      const path = [...parent, field.name];
      if (isStruct(field.type)) {
        const inner = minMax(field.type, path, kind);
        if (inner !== undefined) {
          eligible = true;
          parts.push(`${JSON.stringify(field.name)}:${inner}`);
        }
      } else if (minMaxEligible(field.type)) {
        eligible = true;
        const stat = byPath.get(path.join(KEY_SEP));
        const json = stat ? boundJson(field.type, kind === 'min' ? stat.min : stat.max, kind, prefix) : undefined;
        if (json !== undefined) parts.push(`${JSON.stringify(field.name)}:${json}`);
      }
    }
    return eligible ? `{${parts.join(',')}}` : undefined;
  };

  const nullCounts = (struct: StructType, parent: readonly string[]): string | undefined => {
    const parts: string[] = [];
    for (const field of struct.fields) {
      const path = [...parent, field.name];
      if (isStruct(field.type)) {
        const inner = nullCounts(field.type, path);
        if (inner !== undefined) parts.push(`${JSON.stringify(field.name)}:${inner}`);
      } else {
        const nulls = byPath.get(path.join(KEY_SEP))?.nullCount ?? countNulls(rows, path);
        parts.push(`${JSON.stringify(field.name)}:${nulls}`);
      }
    }
    return parts.length > 0 ? `{${parts.join(',')}}` : undefined;
  };

  let json = `{"numRecords":${rows.length}`;
  const min = minMax(schema, [], 'min');
  if (min !== undefined) json += `,"minValues":${min}`;
  const max = minMax(schema, [], 'max');
  if (max !== undefined) json += `,"maxValues":${max}`;
  const nulls = nullCounts(schema, []);
  if (nulls !== undefined) json += `,"nullCount":${nulls}`;
  return `${json}}`;
}
