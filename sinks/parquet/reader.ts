// Parquet reader: bytes → Arrow (parquet-wasm, apache-arrow) with column projection, and Arrow → plain
// JS column values in lakestream's value model (see ParquetValue), so table-format kernels never touch
// Arrow. Nested projection uses dotted paths (`add.path`); paths absent from a file are skipped.
import { type Data, type DataType, makeVector, type Schema, type Table, Type, tableFromIPC } from 'apache-arrow';
import { ParquetFile } from 'parquet-wasm';

/**
 * A value read from Parquet:
 * - null; boolean; number (8–32-bit ints, floats, doubles); bigint (64-bit ints);
 * - string (UTF-8 text; decimals as exact text with `scale` fraction digits, e.g. "-1.50";
 *   dates as `YYYY-MM-DD`);
 * - timestamps: bigint microseconds since the epoch (nanoseconds are floored);
 * - Uint8Array (binary); arrays (lists); objects (structs); Map (maps).
 * Timestamps and 64-bit integers are both bigint: use the column's type to tell them apart.
 */
export type ParquetValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | ParquetValue[]
  | { [field: string]: ParquetValue }
  | Map<ParquetValue, ParquetValue>;

/** The type of one column as the reader sees it (a summary of the Arrow type). */
export type ParquetType =
  | { kind: 'null' | 'boolean' | 'string' | 'binary' | 'date' | 'float' | 'double' | 'other' }
  | { kind: 'int'; bits: number; signed: boolean }
  | { kind: 'decimal'; precision: number; scale: number }
  | { kind: 'timestamp'; utc: boolean }
  | { kind: 'list'; element: ParquetType }
  | { kind: 'struct'; fields: ParquetField[] }
  | { kind: 'map'; key: ParquetType; value: ParquetType };

export interface ParquetField {
  name: string;
  type: ParquetType;
  nullable: boolean;
}

export interface ParquetReadOptions {
  /**
   * Columns to read: top-level names or dotted paths into structs (`add.path`), matched exactly or
   * else case-insensitively; the result spells them as the file does. Names absent from the file are
   * skipped (the result lacks them). Omitted: every column.
   */
  columns?: readonly string[];
}

/** Column-oriented result: `columns[i]` holds the values of `fields[i]`, one per row. */
export interface ParquetColumns {
  numRows: number;
  fields: ParquetField[];
  columns: ParquetValue[][];
}

/** Thrown for bytes that are not a readable Parquet file. */
export class ParquetReadError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ParquetReadError';
  }
}

async function open(bytes: Uint8Array): Promise<ParquetFile> {
  try {
    return await ParquetFile.fromFile(new Blob([bytes]));
  } catch (cause) {
    throw new ParquetReadError(`not a readable Parquet file: ${String(cause)}`, { cause });
  }
}

function arrowSchema(file: ParquetFile): Schema {
  return tableFromIPC(file.schema().intoIPCStream()).schema;
}

/** Finds a field by exact name, else by unique case-insensitive name (Spark's default matching). */
function findField<T extends { name: string }>(fields: readonly T[], name: string): T | undefined {
  const exact = fields.find((f) => f.name === name);
  if (exact) return exact;
  const lower = name.toLowerCase();
  const matches = fields.filter((f) => f.name.toLowerCase() === lower);
  return matches.length === 1 ? matches[0] : undefined;
}

/**
 * Resolves the requested paths against the file schema (each segment matched exactly, else
 * case-insensitively) and returns them spelled as in the file; absent paths are dropped.
 */
function existingPaths(schema: Schema, paths: readonly string[]): string[] {
  const found: string[] = [];
  for (const path of paths) {
    const spelled: string[] = [];
    let fields = schema.fields;
    for (const part of path.split('.')) {
      const field = findField(fields, part);
      if (!field) break;
      spelled.push(field.name);
      fields = field.type.typeId === Type.Struct ? field.type.children : [];
    }
    if (spelled.length === path.split('.').length) found.push(spelled.join('.'));
  }
  return [...new Set(found)];
}

/** The top-level schema of a Parquet file, without reading its data. */
export async function readParquetSchema(bytes: Uint8Array): Promise<ParquetField[]> {
  const file = await open(bytes);
  try {
    return arrowSchema(file).fields.map((f) => ({ name: f.name, type: describe(f.type), nullable: f.nullable }));
  } finally {
    file.free();
  }
}

/** Reads a Parquet file into an Arrow Table (projected to `columns` when given). */
export async function readParquetTable(bytes: Uint8Array, options: ParquetReadOptions = {}): Promise<Table> {
  const file = await open(bytes);
  try {
    // An empty projection yields a table with no columns and the file's row count.
    const columns = options.columns ? existingPaths(arrowSchema(file), options.columns) : undefined;
    const wasmTable = await file.read(columns ? { columns } : {});
    return tableFromIPC(wasmTable.intoIPCStream());
  } catch (cause) {
    if (cause instanceof ParquetReadError) throw cause;
    throw new ParquetReadError(`failed to read Parquet data: ${String(cause)}`, { cause });
  } finally {
    file.free();
  }
}

/** Reads a Parquet file (projected) into plain JS column arrays in the ParquetValue model. */
export async function readParquetColumns(bytes: Uint8Array, options: ParquetReadOptions = {}): Promise<ParquetColumns> {
  const table = await readParquetTable(bytes, options);
  const fields = table.schema.fields.map((f) => ({ name: f.name, type: describe(f.type), nullable: f.nullable }));
  const columns = table.schema.fields.map((_, index) => {
    const out: ParquetValue[] = new Array(table.numRows);
    let row = 0;
    for (const data of table.getChildAt(index)?.data ?? []) {
      const read = reader(data);
      for (let i = 0; i < data.length; i++) out[row++] = read(i);
    }
    return out;
  });
  return { numRows: table.numRows, fields, columns };
}

/** The parameters of Arrow's concrete DataType subclasses, read through one loose view. */
interface TypeProps {
  typeId: Type;
  bitWidth: number;
  isSigned: boolean;
  precision: number;
  scale: number;
  timezone: string | null;
  unit: number;
  listSize: number;
  indices: DataType;
  dictionary: DataType;
  children: { name: string; type: DataType; nullable: boolean }[];
}

const props = (type: DataType): TypeProps => type as unknown as TypeProps;

/** Summarises an Arrow type. */
function describe(arrowType: DataType): ParquetType {
  const type = props(arrowType);
  switch (type.typeId) {
    case Type.Null:
      return { kind: 'null' };
    case Type.Bool:
      return { kind: 'boolean' };
    case Type.Int:
      return { kind: 'int', bits: type.bitWidth, signed: type.isSigned };
    case Type.Float:
      return { kind: type.precision === 0 || type.precision === 1 ? 'float' : 'double' };
    case Type.Utf8:
    case Type.LargeUtf8:
      return { kind: 'string' };
    case Type.Binary:
    case Type.LargeBinary:
    case Type.FixedSizeBinary:
      return { kind: 'binary' };
    case Type.Decimal:
      return { kind: 'decimal', precision: type.precision, scale: type.scale };
    case Type.Date:
      return { kind: 'date' };
    case Type.Timestamp:
      return { kind: 'timestamp', utc: Boolean(type.timezone) };
    case Type.List:
    case Type.LargeList:
    case Type.FixedSizeList:
      return { kind: 'list', element: describe((type.children[0] as { type: DataType }).type) };
    case Type.Struct:
      return {
        kind: 'struct',
        fields: type.children.map((f) => ({
          name: f.name,
          type: describe(f.type),
          nullable: f.nullable,
        })),
      };
    case Type.Map: {
      const entries = props((type.children[0] as { type: DataType }).type).children;
      return {
        kind: 'map',
        key: describe((entries[0] as { type: DataType }).type),
        value: describe((entries[1] as { type: DataType }).type),
      };
    }
    case Type.Dictionary:
      return describe(type.dictionary);
    default:
      return { kind: 'other' };
  }
}

const DAY_MS = 86_400_000;

/** `YYYY-MM-DD` of a day number since the epoch (proleptic Gregorian, years 0–9999 zero-padded). */
export function formatDate(days: number): string {
  const d = new Date(days * DAY_MS);
  const y = d.getUTCFullYear();
  const year = y < 0 ? `-${String(-y).padStart(6, '0')}` : y > 9999 ? `+${y}` : String(y).padStart(4, '0');
  return `${year}-${String(d.getUTCMonth() + 1).padStart(2, '0')}-${String(d.getUTCDate()).padStart(2, '0')}`;
}

/** Exact decimal text of an unscaled integer: (-1234n, 2) → "-12.34". */
export function formatDecimal(unscaled: bigint, scale: number): string {
  const negative = unscaled < 0n;
  let digits = (negative ? -unscaled : unscaled).toString();
  if (scale > 0) {
    digits = digits.padStart(scale + 1, '0');
    digits = `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  }
  return negative ? `-${digits}` : digits;
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

/** A function reading row `i` of one Arrow Data chunk as a ParquetValue. */
function reader(data: Data): (i: number) => ParquetValue {
  const type = props(data.type);
  // Empty chunks (e.g. of a file with no rows) may lack child data.
  if (data.length === 0) return () => null;
  const valid = (i: number) => data.nullCount === 0 || data.getValid(i);
  switch (type.typeId) {
    case Type.Null:
      return () => null;
    case Type.Timestamp: {
      const values = data.values as BigInt64Array;
      // TimeUnit: 0 s, 1 ms, 2 µs, 3 ns.
      const unit = type.unit;
      const toMicros =
        unit === 0
          ? (v: bigint) => v * 1_000_000n
          : unit === 1
            ? (v: bigint) => v * 1000n
            : unit === 2
              ? (v: bigint) => v
              : (v: bigint) => floorDiv(v, 1000n);
      return (i) => (valid(i) ? toMicros(values[i] as bigint) : null);
    }
    case Type.Date: {
      if (type.unit === 0) {
        const days = data.values as Int32Array;
        return (i) => (valid(i) ? formatDate(days[i] as number) : null);
      }
      const ms = data.values as BigInt64Array;
      return (i) => (valid(i) ? formatDate(Number(floorDiv(ms[i] as bigint, BigInt(DAY_MS)))) : null);
    }
    case Type.Decimal: {
      const words = data.values as Uint32Array;
      const stride = type.bitWidth / 32;
      const scale = type.scale;
      return (i) => {
        if (!valid(i)) return null;
        let unscaled = 0n;
        for (let w = stride - 1; w >= 0; w--) unscaled = (unscaled << 32n) | BigInt(words[i * stride + w] as number);
        unscaled = BigInt.asIntN(stride * 32, unscaled);
        return formatDecimal(unscaled, scale);
      };
    }
    case Type.List:
    case Type.LargeList: {
      const offsets = data.valueOffsets as Int32Array | BigInt64Array;
      const child = data.children[0] as Data;
      const read = reader(child);
      return (i) => {
        if (!valid(i)) return null;
        const start = Number(offsets[i]);
        const end = Number(offsets[i + 1]);
        const out: ParquetValue[] = [];
        for (let j = start; j < end; j++) out.push(read(j));
        return out;
      };
    }
    case Type.FixedSizeList: {
      const size = type.listSize;
      const read = reader(data.children[0] as Data);
      return (i) => {
        if (!valid(i)) return null;
        const out: ParquetValue[] = [];
        for (let j = i * size; j < (i + 1) * size; j++) out.push(read(j));
        return out;
      };
    }
    case Type.Struct: {
      const names = type.children.map((f) => f.name);
      const reads = data.children.map((child) => reader(child));
      return (i) => {
        if (!valid(i)) return null;
        const out: { [field: string]: ParquetValue } = {};
        for (let c = 0; c < names.length; c++) out[names[c] as string] = (reads[c] as (i: number) => ParquetValue)(i);
        return out;
      };
    }
    case Type.Map: {
      const offsets = data.valueOffsets as Int32Array;
      const entries = data.children[0] as Data;
      const readKey = reader(entries.children[0] as Data);
      const readValue = reader(entries.children[1] as Data);
      return (i) => {
        if (!valid(i)) return null;
        const out = new Map<ParquetValue, ParquetValue>();
        for (let j = offsets[i] as number; j < (offsets[i + 1] as number); j++) out.set(readKey(j), readValue(j));
        return out;
      };
    }
    case Type.Dictionary: {
      const indices = makeVector(data.clone(type.indices));
      const dictionary = data.dictionary;
      if (!dictionary) return () => null;
      const chunks = dictionary.data.map((d) => ({ length: d.length, read: reader(d) }));
      return (i) => {
        if (!valid(i)) return null;
        let index = Number(indices.get(i));
        for (const chunk of chunks) {
          if (index < chunk.length) return chunk.read(index);
          index -= chunk.length;
        }
        return null;
      };
    }
    case Type.Binary:
    case Type.LargeBinary:
    case Type.FixedSizeBinary: {
      const vector = makeVector(data);
      return (i) => {
        const v = vector.get(i) as Uint8Array | null;
        return v === null ? null : v.slice();
      };
    }
    case Type.Bool:
    case Type.Int:
    case Type.Float:
    case Type.Utf8:
    case Type.LargeUtf8: {
      const vector = makeVector(data);
      return (i) => (vector.get(i) ?? null) as ParquetValue;
    }
    default:
      throw new ParquetReadError(`unsupported Arrow type ${String(type)}`);
  }
}
