// Partition values: typed canonical values, their log encoding (PROTOCOL.md "Partition Value
// Serialization": strings, yyyy-MM-dd dates, ISO 8601 UTC µs timestamps, "true"/"false", null), parsing
// back from the log, ordering, and binding replaceWhere predicates to partition columns.
import { formatDays, toDays, toEpochMicros, toLong, toUnscaledDecimal } from '../parquet/values.js';
import { type DataType, decimalParts, type StructType } from '../schema.js';
import { DeltaError } from './errors.js';
import { type BoundPredicate, bindPredicate, evaluate, type Predicate, predicateColumns } from './predicate.js';
import { type DeltaValue, parsePartitionValue as readerPartitionValue } from './values.js';

/**
 * A partition value in canonical form, by column type: string → string; byte/short/integer/float/double
 * → number; long → bigint; decimal(p,s) → bigint (the unscaled value); boolean → boolean;
 * date → number (days since 1970-01-01); timestamp → bigint (µs since the epoch, UTC).
 */
export type PartitionScalar = string | number | bigint | boolean;

/** What a caller may pass for a partition value (rows, predicates); see toCanonical. */
export type PartitionInput = PartitionScalar | Date;

const PARTITIONABLE = new Set([
  'string',
  'long',
  'integer',
  'short',
  'byte',
  'float',
  'double',
  'boolean',
  'date',
  'timestamp',
]);

const INT_RANGES: Record<string, [number, number]> = {
  byte: [-128, 127],
  short: [-32768, 32767],
  integer: [-2147483648, 2147483647],
};

/** True when partition columns of this type are supported (primitives except binary and timestamp_ntz). */
export function isPartitionableType(type: DataType): boolean {
  return typeof type === 'string' && (PARTITIONABLE.has(type) || decimalParts(type) !== undefined);
}

/**
 * Checks partition columns against the schema: each names a distinct top-level column of a
 * partitionable type, and at least one column stays a data column (as Spark requires).
 */
export function validatePartitionColumns(schema: StructType, partitionColumns: readonly string[]): void {
  const seen = new Set<string>();
  for (const column of partitionColumns) {
    const field = schema.fields.find((f) => f.name === column);
    if (!field) {
      throw new DeltaError(`partition column ${column} is not a column of the schema`, {
        code: 'INVALID_ARGUMENT',
        context: { column },
      });
    }
    if (!isPartitionableType(field.type)) {
      throw new DeltaError(
        `partition column ${column} has type ${typeName(field.type)}, which cannot partition a table`,
        {
          code: 'INVALID_ARGUMENT',
          context: { column, type: typeName(field.type) },
        },
      );
    }
    if (seen.has(column.toLowerCase())) {
      throw new DeltaError(`partition column ${column} is listed twice`, {
        code: 'INVALID_ARGUMENT',
        context: { column },
      });
    }
    seen.add(column.toLowerCase());
  }
  if (partitionColumns.length > 0 && partitionColumns.length >= schema.fields.length) {
    throw new DeltaError('cannot use all columns as partition columns', {
      code: 'INVALID_ARGUMENT',
      context: { partitionColumns: [...partitionColumns] },
    });
  }
}

/** A short type name for messages: primitives as-is, containers by kind. */
export function typeName(type: DataType): string {
  if (typeof type === 'string') return type;
  if (type.type === 'array') return `array<${typeName(type.elementType)}>`;
  if (type.type === 'map') return `map<${typeName(type.keyType)},${typeName(type.valueType)}>`;
  return `struct<${type.fields.map((f) => `${f.name}:${typeName(f.type)}`).join(',')}>`;
}

function invalid(column: string, type: DataType, value: unknown, reason?: string): DeltaError {
  const shown =
    typeof value === 'bigint' ? `${value}n` : typeof value === 'string' ? JSON.stringify(value) : String(value);
  return new DeltaError(
    `partition column ${column} (${typeName(type)}) cannot hold ${shown}${reason ? `: ${reason}` : ''}`,
    { code: 'INVALID_DATA', context: { column, type: typeName(type), value: shown } },
  );
}

/** Days since the epoch of a 'YYYY-MM-DD' string (years 0000-9999), or undefined when it is not a date. */
export function parseDateString(text: string): number | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return undefined;
  try {
    return toDays(text);
  } catch {
    return undefined;
  }
}

/** 'yyyy-MM-dd' of a day number (days since 1970-01-01). */
export function formatDate(days: number): string {
  return formatDays(days);
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

function formatYear(year: number): string {
  if (year >= 0 && year <= 9999) return pad(year, 4);
  return (year < 0 ? '-' : '+') + pad(Math.abs(year), 6);
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

/** Splits µs since the epoch into whole milliseconds and the µs remainder (0..999). */
export function splitMicros(micros: bigint): { ms: number; micros: number } {
  const ms = floorDiv(micros, 1000n);
  return { ms: Number(ms), micros: Number(micros - ms * 1000n) };
}

/** ISO 8601 UTC with 6 fractional digits: '2024-01-02T03:04:05.123456Z'. */
export function formatTimestampMicros(micros: bigint): string {
  const { ms, micros: rest } = splitMicros(micros);
  const d = new Date(ms);
  return (
    `${formatYear(d.getUTCFullYear())}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}` +
    `T${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}` +
    `.${pad(d.getUTCMilliseconds(), 3)}${pad(rest, 3)}Z`
  );
}

/**
 * µs since the epoch of a timestamp string: ISO 8601 with 'T' or ' ' between date and time, optional
 * fraction (up to 9 digits, truncated to µs) and optional zone (Z or ±HH:MM; none means UTC).
 */
export function parseTimestampString(text: string): bigint | undefined {
  const m =
    /^([+-]?\d{4,6})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?\s*(Z|z|UTC|[+-]\d{2}(?::?\d{2})?)?$/.exec(
      text.trim(),
    );
  if (!m) return undefined;
  const days = parseDateString(`${m[1]}-${m[2]}-${m[3]}`);
  if (days === undefined) return undefined;
  const hours = Number(m[4]);
  const minutes = Number(m[5]);
  const seconds = Number(m[6] ?? '0');
  if (hours > 23 || minutes > 59 || seconds > 59) return undefined;
  const fraction = BigInt((m[7] ?? '').padEnd(6, '0').slice(0, 6));
  let offsetMinutes = 0;
  const zone = m[8];
  if (zone && !/^(Z|z|UTC)$/.test(zone)) {
    const z = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone);
    if (!z) return undefined;
    offsetMinutes = (z[1] === '-' ? -1 : 1) * (Number(z[2]) * 60 + Number(z[3] ?? '0'));
  }
  const secondsOfDay = hours * 3600 + minutes * 60 + seconds - offsetMinutes * 60;
  return (BigInt(days) * 86_400n + BigInt(secondsOfDay)) * 1_000_000n + fraction;
}

/** Plain decimal text of an unscaled value: (123n, 2) → '1.23', (-5n, 3) → '-0.005'. */
export function formatDecimal(unscaled: bigint, scale: number): string {
  const negative = unscaled < 0n;
  const digits = (negative ? -unscaled : unscaled).toString().padStart(scale + 1, '0');
  const text =
    scale === 0 ? digits : `${digits.slice(0, digits.length - scale)}.${digits.slice(digits.length - scale)}`;
  return negative ? `-${text}` : text;
}

/**
 * Canonical form of a caller-supplied value for a column of `type` (see PartitionScalar); null and
 * undefined give null. Inputs are those the Parquet encoder accepts for data columns
 * (sinks/parquet/values.ts): dates as 'YYYY-MM-DD', Date or day number; timestamps as Date, ISO 8601
 * string with a zone, number of ms or bigint µs; decimals as string, number or bigint (unscaled);
 * long as safe integer or bigint. Throws INVALID_DATA naming the column for anything else.
 */
export function toCanonical(type: DataType, value: unknown, column: string): PartitionScalar | null {
  if (value === null || value === undefined) return null;
  if (typeof type !== 'string') throw invalid(column, type, value, 'not a partitionable type');
  try {
    switch (type) {
      case 'string':
        if (typeof value === 'string') return value;
        break;
      case 'boolean':
        if (typeof value === 'boolean') return value;
        break;
      case 'byte':
      case 'short':
      case 'integer': {
        const [lo, hi] = INT_RANGES[type] as [number, number];
        if (typeof value === 'number' && Number.isInteger(value) && value >= lo && value <= hi) return value;
        break;
      }
      case 'long':
        return BigInt(toLong(value));
      case 'float':
      case 'double':
        if (typeof value === 'number') return type === 'float' ? Math.fround(value) : value;
        break;
      case 'date':
        return toDays(value);
      case 'timestamp':
        return BigInt(toEpochMicros(value));
      default: {
        const dec = decimalParts(type);
        if (dec) return BigInt(toUnscaledDecimal(value, dec.precision, dec.scale));
      }
    }
  } catch (error) {
    throw invalid(column, type, value, (error as Error).message);
  }
  throw invalid(column, type, value);
}

/** The log encoding of a canonical partition value (null stays null). */
export function serializePartitionValue(type: DataType, value: PartitionScalar | null): string | null {
  if (value === null) return null;
  switch (type) {
    case 'date':
      return formatDate(value as number);
    case 'timestamp':
      return formatTimestampMicros(value as bigint);
    case 'boolean':
      return value ? 'true' : 'false';
    default: {
      const dec = decimalParts(type);
      if (dec) return formatDecimal(value as bigint, dec.scale);
      return String(value);
    }
  }
}

/**
 * Canonical value of a partition value read from the log; '' and null mean null. Accepts every
 * encoding the protocol allows (e.g. 'yyyy-MM-dd HH:mm:ss[.ffffff]' timestamps, taken as UTC).
 * Throws LOG_CORRUPT when the text does not parse.
 */
export function parsePartitionValue(
  type: DataType,
  text: string | null | undefined,
  column: string,
): PartitionScalar | null {
  if (text === null || text === undefined || text === '') return null;
  try {
    switch (type) {
      case 'string':
        return text;
      case 'boolean':
        if (text === 'true' || text === 'false') return text === 'true';
        break;
      case 'byte':
      case 'short':
      case 'integer':
        if (/^[+-]?\d+$/.test(text)) return toCanonical(type, Number(text), column);
        break;
      case 'long':
        if (/^[+-]?\d+$/.test(text)) return toCanonical(type, BigInt(text), column);
        break;
      case 'float':
      case 'double': {
        const n = Number(text);
        if (!Number.isNaN(n) || /^nan$/i.test(text)) return toCanonical(type, n, column);
        break;
      }
      case 'timestamp': {
        const micros = parseTimestampString(text);
        if (micros !== undefined) return micros;
        break;
      }
      default:
        return toCanonical(type, text, column);
    }
  } catch {
    // fall through to the LOG_CORRUPT error below
  }
  throw new DeltaError(`partition value ${JSON.stringify(text)} of column ${column} is not a valid ${typeName(type)}`, {
    code: 'LOG_CORRUPT',
    context: { column, value: text, type: typeName(type) },
  });
}

/** Orders two canonical values of the same column type (strings by code point, like UTF-8 bytes). */
export function compareScalars(a: PartitionScalar, b: PartitionScalar): number {
  if (typeof a === 'string' && typeof b === 'string') return compareCodePoints(a, b);
  if (a === b) return 0;
  return a < b ? -1 : 1;
}

/** Compares strings by Unicode code point (the order of their UTF-8 bytes, as Spark and Parquet sort). */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointOrder(x) - codePointOrder(y);
  }
  return a.length - b.length;
}

// UTF-16 units sort like code points once surrogates (0xD800-0xDFFF, i.e. code points above 0xFFFF)
// are moved above 0xE000-0xFFFF.
function codePointOrder(unit: number): number {
  if (unit >= 0xe000) return unit - 0x800;
  if (unit >= 0xd800) return unit + 0x2000;
  return unit;
}

/** A replaceWhere predicate bound to the partition columns, ready to evaluate on partition values. */
export interface CompiledPartitionPredicate {
  /** SQL text, e.g. `(date = DATE'2024-01-01' AND region IN ('eu', 'us'))` (for commitInfo). */
  readonly sql: string;
  /** Evaluates on log-encoded partition values (a file's partitionValues, or a row's); unknown is false. */
  matches(partitionValues: Readonly<Record<string, string | null>>): boolean;
}

function sqlIdent(name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? name : `\`${name.replace(/`/g, '``')}\``;
}

function sqlLiteral(type: DataType, value: DeltaValue): string {
  if (value === null) return 'NULL';
  switch (type) {
    case 'string':
      return `'${String(value).replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
    case 'date':
      return `DATE'${String(value)}'`;
    case 'timestamp':
      return typeof value === 'bigint' ? `TIMESTAMP'${formatTimestampMicros(value)}'` : String(value);
    default:
      return String(value);
  }
}

/** SQL text of a bound predicate (Spark syntax), for commitInfo.operationParameters.predicate. */
export function predicateSql(predicate: BoundPredicate): string {
  switch (predicate.op) {
    case 'and':
    case 'or':
      return `(${predicate.predicates.map(predicateSql).join(` ${predicate.op.toUpperCase()} `)})`;
    case 'not':
      return `(NOT ${predicateSql(predicate.predicate)})`;
    case 'isNull':
      return `(${sqlIdent(predicate.column)} IS NULL)`;
    case 'isNotNull':
      return `(${sqlIdent(predicate.column)} IS NOT NULL)`;
    case 'in':
      return `(${sqlIdent(predicate.column)} IN (${predicate.values.map((v) => sqlLiteral(predicate.type, v)).join(', ')}))`;
    default:
      return `(${sqlIdent(predicate.column)} ${predicate.op} ${sqlLiteral(predicate.type, predicate.value)})`;
  }
}

/**
 * Binds a replaceWhere predicate (the scan filter language of predicate.ts) to the table and checks
 * that it reads only partition columns. Throws INVALID_ARGUMENT otherwise. Evaluation parses the
 * partition values exactly as readers do (values.ts), so files and rows are judged alike.
 */
export function compilePartitionPredicate(
  schema: StructType,
  partitionColumns: readonly string[],
  predicate: Predicate,
): CompiledPartitionPredicate {
  const bound = bindPredicate(predicate, schema);
  const columns = [...predicateColumns(bound)];
  const outside = columns.filter((c) => !partitionColumns.includes(c));
  if (outside.length > 0) {
    throw new DeltaError(
      `replaceWhere may only use partition columns; ${outside.join(', ')} ${outside.length > 1 ? 'are' : 'is'} not`,
      {
        code: 'INVALID_ARGUMENT',
        context: { columns: outside, partitionColumns: [...partitionColumns] },
      },
    );
  }
  const types = new Map(columns.map((c) => [c, schema.fields.find((f) => f.name === c)?.type as DataType]));
  return {
    sql: predicateSql(bound),
    matches: (partitionValues) => {
      const cache = new Map<string, DeltaValue>();
      return (
        evaluate(bound, (column) => {
          let value = cache.get(column);
          if (value === undefined) {
            try {
              value = readerPartitionValue(partitionValues[column], types.get(column) as DataType);
            } catch (cause) {
              throw new DeltaError(
                `partition value ${JSON.stringify(partitionValues[column])} of ${column} is not valid`,
                {
                  code: 'LOG_CORRUPT',
                  cause,
                  context: { column, value: partitionValues[column] },
                },
              );
            }
            cache.set(column, value);
          }
          return value;
        }) === true
      );
    },
  };
}
