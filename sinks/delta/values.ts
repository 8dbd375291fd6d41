// Delta column values in JS (the reader's value model) and their conversions: Parquet values and
// partition-value strings (PROTOCOL.md "Partition Value Serialization") into typed values, literal
// normalisation, and a total order per type used by filters and data skipping.
import type { ParquetValue } from '../parquet/reader.js';
import { type DataType, decimalParts } from '../schema.js';

/**
 * A value of a Delta column as the reader returns it:
 * - byte, short, integer, float, double → number; long → bigint; boolean → boolean; string → string;
 * - decimal(p,s) → string with exactly s fraction digits ("-1.50");
 * - date → "YYYY-MM-DD"; timestamp / timestamp_ntz → bigint microseconds since the epoch
 *   (timestamp_ntz: of the wall-clock time read as UTC);
 * - binary → Uint8Array; array → array; map → Map; struct → object keyed by field name; null.
 */
export type DeltaValue = ParquetValue;

/** A row: column name → value. */
export type Row = Record<string, DeltaValue>;

const INT_RANGES: Record<string, [number, number]> = {
  byte: [-128, 127],
  short: [-32768, 32767],
  integer: [-2147483648, 2147483647],
};

/** Thrown when a value cannot be converted to a column's type (callers wrap it with context). */
export class ValueError extends Error {}

// ---------- decimals ----------

/** Parses decimal text (plain or with exponent) into an unscaled bigint at `scale`; exact or throws. */
export function decimalToUnscaled(text: string, scale: number): bigint {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text.trim());
  if (!m || ((m[2] ?? '') === '' && (m[3] ?? '') === ''))
    throw new ValueError(`not a decimal: ${JSON.stringify(text)}`);
  const sign = m[1] === '-' ? -1n : 1n;
  const intPart = m[2] ?? '';
  const frac = m[3] ?? '';
  const exponent = Number(m[4] ?? '0');
  // value = digits × 10^(exponent − frac.length); rescale to `scale`.
  const digits = BigInt(`${intPart}${frac}` || '0');
  const shift = exponent - frac.length + scale;
  if (shift >= 0) return sign * digits * 10n ** BigInt(shift);
  const divisor = 10n ** BigInt(-shift);
  if (digits % divisor !== 0n) throw new ValueError(`${text} has more than ${scale} fraction digits`);
  return (sign * digits) / divisor;
}

/** Formats an unscaled decimal: (-150n, 2) → "-1.50". */
export function formatUnscaled(unscaled: bigint, scale: number): string {
  const negative = unscaled < 0n;
  let digits = (negative ? -unscaled : unscaled).toString();
  if (scale > 0) {
    digits = digits.padStart(scale + 1, '0');
    digits = `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  }
  return negative ? `-${digits}` : digits;
}

// ---------- dates and timestamps ----------

const DAY_MICROS = 86_400_000_000n;

function daysFromCivil(year: number, month: number, day: number): number {
  // Howard Hinnant's days_from_civil (proleptic Gregorian).
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const mp = (month + 9) % 12;
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function civilFromDays(days: number): [number, number, number] {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return [yoe + era * 400 + (month <= 2 ? 1 : 0), month, day];
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** "YYYY-MM-DD" of a day number since 1970-01-01. */
export function formatDays(days: number): string {
  const [y, m, d] = civilFromDays(days);
  return `${y < 0 ? '-' : ''}${pad(Math.abs(y), 4)}-${pad(m)}-${pad(d)}`;
}

/** Day number of "YYYY-MM-DD" (throws ValueError on anything else). */
export function parseDays(text: string): number {
  const m = /^([+-]?\d{4,})-(\d{1,2})-(\d{1,2})$/.exec(text.trim());
  if (!m) throw new ValueError(`not a date: ${JSON.stringify(text)}`);
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (month < 1 || month > 12 || day < 1 || day > 31) throw new ValueError(`not a date: ${JSON.stringify(text)}`);
  return daysFromCivil(year, month, day);
}

const TIMESTAMP =
  /^([+-]?\d{4,})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|UTC|[+-]\d{2}(?::?\d{2}(?::?\d{2})?)?)?$/i;

/**
 * Microseconds since the epoch of a timestamp text: `YYYY-MM-DD[( |T)HH:mm[:ss[.f…]]][Z|±HH[:mm[:ss]]]`.
 * Without an offset the time is read as UTC (how delta-rs and lakestream read partition values and
 * timestamp_ntz). Fractions beyond microseconds are truncated.
 */
export function parseTimestampMicros(text: string): bigint {
  const m = TIMESTAMP.exec(text.trim());
  if (!m) throw new ValueError(`not a timestamp: ${JSON.stringify(text)}`);
  const days = daysFromCivil(Number(m[1]), Number(m[2]), Number(m[3]));
  const seconds = Number(m[4] ?? 0) * 3600 + Number(m[5] ?? 0) * 60 + Number(m[6] ?? 0);
  const micros = BigInt((m[7] ?? '').padEnd(6, '0').slice(0, 6) || '0');
  let offsetSeconds = 0;
  const zone = m[8];
  if (zone && zone.toUpperCase() !== 'Z' && zone.toUpperCase() !== 'UTC') {
    const digits = zone.slice(1).replace(/:/g, '');
    offsetSeconds =
      (Number(digits.slice(0, 2)) * 3600 + Number(digits.slice(2, 4) || 0) * 60 + Number(digits.slice(4, 6) || 0)) *
      (zone[0] === '-' ? -1 : 1);
  }
  return BigInt(days) * DAY_MICROS + BigInt(seconds - offsetSeconds) * 1_000_000n + micros;
}

/** ISO 8601 UTC text of microseconds since the epoch: "2000-01-01T00:00:00.000000Z". */
export function formatTimestampMicros(micros: bigint): string {
  let days = micros / DAY_MICROS;
  let rest = micros % DAY_MICROS;
  if (rest < 0n) {
    rest += DAY_MICROS;
    days -= 1n;
  }
  const total = Number(rest);
  const seconds = Math.floor(total / 1_000_000);
  const fraction = total % 1_000_000;
  const time = `${pad(Math.floor(seconds / 3600))}:${pad(Math.floor(seconds / 60) % 60)}:${pad(seconds % 60)}`;
  return `${formatDays(Number(days))}T${time}.${pad(fraction, 6)}Z`;
}

// ---------- conversions ----------

function isStructType(type: DataType): type is Extract<DataType, { type: 'struct' }> {
  return typeof type === 'object' && type.type === 'struct';
}

/** Finds a field by exact name, else by unique case-insensitive name. */
export function findByName<T extends { name: string }>(items: readonly T[], name: string): T | undefined {
  const exact = items.find((item) => item.name === name);
  if (exact) return exact;
  const lower = name.toLowerCase();
  const matches = items.filter((item) => item.name.toLowerCase() === lower);
  return matches.length === 1 ? matches[0] : undefined;
}

/**
 * Converts a value read from Parquet to the Delta type of its column: integer widths, decimal scale,
 * nested structs by field name (fields absent from the file become null, extra fields are dropped).
 */
export function coerceParquetValue(value: ParquetValue | undefined, type: DataType): DeltaValue {
  if (value === null || value === undefined) return null;
  if (typeof type === 'string') {
    switch (type) {
      case 'long':
        return typeof value === 'bigint' ? value : BigInt(value as number);
      case 'byte':
      case 'short':
      case 'integer':
        return typeof value === 'bigint' ? Number(value) : value;
      case 'timestamp':
      case 'timestamp_ntz':
        return typeof value === 'bigint' ? value : BigInt(value as number);
      default: {
        const decimal = decimalParts(type);
        if (decimal && typeof value === 'string') {
          // The Parquet reader formats decimals at the file's scale, which is usually the column's.
          const dot = value.indexOf('.');
          const atScale = decimal.scale === 0 ? dot < 0 : dot === value.length - decimal.scale - 1;
          if (atScale && !/[eE]/.test(value)) return value;
          return formatUnscaled(decimalToUnscaled(value, decimal.scale), decimal.scale);
        }
        if (decimal && (typeof value === 'number' || typeof value === 'bigint')) {
          return formatUnscaled(BigInt(value) * 10n ** BigInt(decimal.scale), decimal.scale);
        }
        return value;
      }
    }
  }
  if (type.type === 'array') {
    if (!Array.isArray(value)) return value;
    return value.map((element) => coerceParquetValue(element, type.elementType));
  }
  if (type.type === 'map') {
    if (!(value instanceof Map)) return value;
    const out = new Map<DeltaValue, DeltaValue>();
    for (const [k, v] of value) out.set(coerceParquetValue(k, type.keyType), coerceParquetValue(v, type.valueType));
    return out;
  }
  if (isStructType(type)) {
    if (typeof value !== 'object' || value instanceof Map || Array.isArray(value) || value instanceof Uint8Array) {
      return value;
    }
    const source = value as Record<string, ParquetValue>;
    const names = Object.keys(source).map((name) => ({ name }));
    const out: Row = {};
    for (const field of type.fields) {
      const match = findByName(names, field.name);
      out[field.name] = coerceParquetValue(match ? source[match.name] : null, field.type);
    }
    return out;
  }
  return value;
}

/**
 * Parses a partition value string (spec "Partition Value Serialization") into the column's type.
 * null and "" are null. Throws ValueError for text that does not fit the type.
 */
export function parsePartitionValue(text: string | null | undefined, type: DataType): DeltaValue {
  if (text === null || text === undefined || text === '') return null;
  if (typeof type !== 'string') throw new ValueError(`partition columns cannot have a nested type`);
  switch (type) {
    case 'string':
      return text;
    case 'boolean': {
      const lower = text.toLowerCase();
      if (lower === 'true') return true;
      if (lower === 'false') return false;
      throw new ValueError(`not a boolean: ${JSON.stringify(text)}`);
    }
    case 'byte':
    case 'short':
    case 'integer': {
      const n = Number(text);
      const [lo, hi] = INT_RANGES[type] as [number, number];
      if (!/^\s*[+-]?\d+\s*$/.test(text) || n < lo || n > hi)
        throw new ValueError(`not a ${type}: ${JSON.stringify(text)}`);
      return n;
    }
    case 'long':
      if (!/^\s*[+-]?\d+\s*$/.test(text)) throw new ValueError(`not a long: ${JSON.stringify(text)}`);
      return BigInt(text.trim());
    case 'float':
    case 'double': {
      const n = parseFloatText(text);
      return type === 'float' ? Math.fround(n) : n;
    }
    case 'date':
      return formatDays(parseDays(text));
    case 'timestamp':
    case 'timestamp_ntz':
      return parseTimestampMicros(text);
    case 'binary':
      return new TextEncoder().encode(text);
    default: {
      const decimal = decimalParts(type);
      if (!decimal) throw new ValueError(`unsupported partition type ${type}`);
      return formatUnscaled(decimalToUnscaled(text, decimal.scale), decimal.scale);
    }
  }
}

function parseFloatText(text: string): number {
  const t = text.trim();
  if (/^[+-]?(inf|infinity)$/i.test(t)) return t.startsWith('-') ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  if (/^nan$/i.test(t)) return Number.NaN;
  const n = Number(t);
  if (t === '' || Number.isNaN(n)) throw new ValueError(`not a number: ${JSON.stringify(text)}`);
  return n;
}

/**
 * Converts a user literal to the value model of `type`: numbers/bigints/numeric strings for integer
 * and decimal columns, Date / ISO text / bigint µs for timestamps, Date / "YYYY-MM-DD" for dates.
 */
export function normalizeLiteral(value: unknown, type: DataType): DeltaValue {
  if (value === null || value === undefined) return null;
  if (typeof type !== 'string') throw new ValueError('filters apply to primitive columns only');
  switch (type) {
    case 'long':
      if (typeof value === 'bigint') return value;
      if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value);
      if (typeof value === 'string' && /^\s*[+-]?\d+\s*$/.test(value)) return BigInt(value.trim());
      break;
    case 'byte':
    case 'short':
    case 'integer':
    case 'float':
    case 'double':
      if (typeof value === 'number') return value;
      if (typeof value === 'bigint') return Number(value);
      break;
    case 'string':
      if (typeof value === 'string') return value;
      break;
    case 'boolean':
      if (typeof value === 'boolean') return value;
      break;
    case 'binary':
      if (value instanceof Uint8Array) return value;
      break;
    case 'date':
      if (value instanceof Date) return formatDays(Math.floor(value.getTime() / 86_400_000));
      if (typeof value === 'string') return formatDays(parseDays(value));
      break;
    case 'timestamp':
    case 'timestamp_ntz':
      if (value instanceof Date) return BigInt(value.getTime()) * 1000n;
      if (typeof value === 'bigint') return value;
      if (typeof value === 'string') return parseTimestampMicros(value);
      break;
    default: {
      const decimal = decimalParts(type);
      if (decimal && (typeof value === 'string' || typeof value === 'number' || typeof value === 'bigint')) {
        const text = typeof value === 'number' ? String(value) : value.toString();
        // Literals with more fraction digits than the column keep them: compareValues is exact.
        return text;
      }
    }
  }
  throw new ValueError(`literal ${String(value)} does not fit type ${type}`);
}

// ---------- ordering ----------

/** Compares strings by Unicode code point (the order of their UTF-8 bytes, as Spark does). */
export function compareStrings(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i) as number;
    const y = b.codePointAt(i) as number;
    if (x !== y) return x < y ? -1 : 1;
    if (x > 0xffff) i++;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

function compareDecimalText(a: string, b: string): number {
  const scale = Math.max(fractionDigits(a), fractionDigits(b));
  const x = decimalToUnscaled(a, scale);
  const y = decimalToUnscaled(b, scale);
  return x === y ? 0 : x < y ? -1 : 1;
}

function fractionDigits(text: string): number {
  const m = /^[+-]?\d*(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text.trim());
  if (!m) throw new ValueError(`not a decimal: ${JSON.stringify(text)}`);
  return Math.max(0, (m[1] ?? '').length - Number(m[2] ?? '0'));
}

/** Exact order of a number and a bigint (integers compare as bigints; infinities and fractions by sign). */
function compareMixed(a: number | bigint, b: number | bigint): number {
  const toBig = (x: number | bigint): bigint | undefined =>
    typeof x === 'bigint' ? x : Number.isInteger(x) ? BigInt(x) : undefined;
  const x = toBig(a);
  const y = toBig(b);
  if (x !== undefined && y !== undefined) return x === y ? 0 : x < y ? -1 : 1;
  // One side is fractional or infinite: its floor decides unless equal, then the fraction does.
  const num = (typeof a === 'number' ? a : b) as number;
  const big = (typeof a === 'number' ? b : a) as bigint;
  let order: number;
  if (!Number.isFinite(num)) order = num > 0 ? 1 : -1;
  else {
    const floor = BigInt(Math.floor(num));
    order = floor < big ? -1 : 1; // floor === big means num = big + fraction > big
  }
  return typeof a === 'number' ? order : -order;
}

/**
 * Orders two non-null values of a primitive `type`; undefined when they are not comparable (NaN, or
 * values of the wrong shape). Decimals compare exactly, strings by code point, binary bytewise.
 */
export function compareValues(a: DeltaValue, b: DeltaValue, type: DataType): number | undefined {
  if (a === null || b === null) return undefined;
  if (typeof type !== 'string') return undefined;
  if (decimalParts(type)) {
    if ((typeof a !== 'string' && typeof a !== 'number') || (typeof b !== 'string' && typeof b !== 'number')) return;
    return compareDecimalText(String(a), String(b));
  }
  if (typeof a === 'string' && typeof b === 'string') {
    return type === 'date' ? (a === b ? 0 : a < b ? -1 : 1) : compareStrings(a, b);
  }
  if ((typeof a === 'number' || typeof a === 'bigint') && (typeof b === 'number' || typeof b === 'bigint')) {
    if (typeof a === 'number' && Number.isNaN(a)) return undefined;
    if (typeof b === 'number' && Number.isNaN(b)) return undefined;
    if (typeof a === typeof b) return a === b ? 0 : a < b ? -1 : 1;
    return compareMixed(a, b);
  }
  if (typeof a === 'boolean' && typeof b === 'boolean') return a === b ? 0 : a ? 1 : -1;
  if (a instanceof Uint8Array && b instanceof Uint8Array) return Buffer.compare(a, b);
  return undefined;
}
