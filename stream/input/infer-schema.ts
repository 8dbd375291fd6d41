// Infers a Spark-style StructType from input rows, following Spark's JSON/CSV inferSchema: type each
// value, widen across rows (long+double → double, conflicts → string), then canonicalize (null-only
// → string, empty structs dropped). Field order is first appearance; every field is nullable.

import type { DataType, PrimitiveType, StructField, StructType } from '../../sinks/schema.js';
import { type InputPosition, InvalidInputError } from './errors.js';
import {
  fitsInt64,
  isDateLiteral,
  isZonedTimestampLiteral,
  parseBooleanLiteral,
  parseDoubleLiteral,
  parseLongLiteral,
} from './literals.js';

/**
 * A type during inference. Unlike DataType it has a null type (a value seen only as null) and keeps
 * struct fields in a Map for merging; `toDataType` turns it into a DataType.
 */
export type InferredType =
  | { readonly kind: 'null' }
  | { readonly kind: 'primitive'; readonly type: PrimitiveType }
  | { readonly kind: 'struct'; readonly fields: ReadonlyMap<string, InferredType> }
  | { readonly kind: 'array'; readonly element: InferredType };

export type InferredStruct = Extract<InferredType, { kind: 'struct' }>;

export interface InferOptions {
  /** Strings 'YYYY-MM-DD' are dates (Spark CSV's prefersDate). */
  inferDates?: boolean;
  /** ISO-8601 strings with a zone are timestamps (Spark JSON's inferTimestamp). */
  inferTimestamps?: boolean;
}

/**
 * JSON keeps strings as strings, as Spark's JSON reader does by default; CSV infers dates and zoned
 * timestamps, as Spark's CSV reader does. Timestamps without a zone always stay strings (see literals.ts).
 */
export const JSON_INFER_DEFAULTS: Readonly<Required<InferOptions>> = Object.freeze({
  inferDates: false,
  inferTimestamps: false,
});
export const CSV_INFER_DEFAULTS: Readonly<Required<InferOptions>> = Object.freeze({
  inferDates: true,
  inferTimestamps: true,
});

const MAX_DECIMAL_PRECISION = 38;

export const NULL_TYPE: InferredType = Object.freeze({ kind: 'null' });
const PRIMITIVES = new Map<PrimitiveType, InferredType>();

/** The (shared, immutable) inferred type of a primitive. */
export function primitive(type: PrimitiveType): InferredType {
  let inferred = PRIMITIVES.get(type);
  if (inferred === undefined) {
    inferred = Object.freeze({ kind: 'primitive', type });
    PRIMITIVES.set(type, inferred);
  }
  return inferred;
}

const STRING = primitive('string');
const LONG = primitive('long');
const DOUBLE = primitive('double');
const BOOLEAN = primitive('boolean');
const DATE = primitive('date');
const TIMESTAMP = primitive('timestamp');

/** Type of a JSON string: '' counts as null (as in Spark); dates and timestamps only when enabled. */
export function inferStringType(text: string, options: InferOptions = JSON_INFER_DEFAULTS): InferredType {
  if (text.length === 0) return NULL_TYPE;
  if (options.inferTimestamps && isZonedTimestampLiteral(text)) return TIMESTAMP;
  if (options.inferDates && isDateLiteral(text)) return DATE;
  return STRING;
}

/** Type of a JSON integer literal: long within int64, else decimal(p,0) up to 38 digits, else double. */
export function inferIntegerType(value: bigint): InferredType {
  if (fitsInt64(value)) return LONG;
  const digits = (value < 0n ? -value : value).toString().length;
  return digits <= MAX_DECIMAL_PRECISION ? primitive(`decimal(${digits},0)`) : DOUBLE;
}

/**
 * Type of a CSV field, trying in Spark's order: empty → null, long, double, date, timestamp,
 * boolean (any letter case), else string. Leading/trailing spaces make a field a string.
 */
export function inferCsvFieldType(text: string, options: InferOptions = CSV_INFER_DEFAULTS): InferredType {
  if (text.length === 0) return NULL_TYPE;
  if (parseLongLiteral(text) !== undefined) return LONG;
  if (parseDoubleLiteral(text) !== undefined) return DOUBLE;
  if (options.inferDates && isDateLiteral(text)) return DATE;
  if (options.inferTimestamps && isZonedTimestampLiteral(text)) return TIMESTAMP;
  if (parseBooleanLiteral(text) !== undefined) return BOOLEAN;
  return STRING;
}

function isPlainObject(value: object): value is Record<string, unknown> {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Type of an in-memory JS value: null/undefined → null; number → long when a safe integer, else
 * double; bigint → as a JSON integer; boolean; string → as a JSON string; Date → timestamp;
 * Uint8Array → binary; array → array of the merged element type; plain object → struct.
 * Anything else (Map, class instances, functions, symbols) is INVALID_INPUT at `position`.
 */
export function inferValueType(value: unknown, position: InputPosition, options: InferOptions = {}): InferredType {
  switch (typeof value) {
    case 'undefined':
      return NULL_TYPE;
    case 'number':
      return Number.isSafeInteger(value) ? LONG : DOUBLE;
    case 'bigint':
      return inferIntegerType(value);
    case 'boolean':
      return BOOLEAN;
    case 'string':
      return inferStringType(value, options);
    case 'object': {
      if (value === null) return NULL_TYPE;
      if (value instanceof Date) return TIMESTAMP;
      if (value instanceof Uint8Array) return primitive('binary');
      if (Array.isArray(value)) {
        let element: InferredType = NULL_TYPE;
        for (const item of value) element = mergeTypes(element, inferValueType(item, position, options));
        return { kind: 'array', element };
      }
      if (isPlainObject(value)) {
        const fields = new Map<string, InferredType>();
        for (const [name, field] of Object.entries(value)) {
          fields.set(name, inferValueType(field, { ...position, field: name }, options));
        }
        return { kind: 'struct', fields };
      }
      break;
    }
  }
  const described = typeof value === 'object' ? (value?.constructor?.name ?? 'object') : typeof value;
  throw new InvalidInputError(position, `cannot infer a column type for a value of type ${described}`);
}

function decimalOf(type: InferredType): { precision: number; scale: number } | undefined {
  if (type.kind !== 'primitive') return undefined;
  if (type.type === 'long') return { precision: 20, scale: 0 }; // Spark's DecimalType.forType(LongType)
  const m = /^decimal\((\d+),(\d+)\)$/.exec(type.type);
  return m ? { precision: Number(m[1]), scale: Number(m[2]) } : undefined;
}

/** Spark's widerDecimalType: enough integer digits and scale for both, capped at 38. */
function widerDecimal(a: { precision: number; scale: number }, b: { precision: number; scale: number }): InferredType {
  const scale = Math.max(a.scale, b.scale);
  const range = Math.max(a.precision - a.scale, b.precision - b.scale);
  return primitive(`decimal(${Math.min(MAX_DECIMAL_PRECISION, range + scale)},${scale})`);
}

function isNumeric(type: InferredType): boolean {
  return type === LONG || type === DOUBLE || decimalOf(type) !== undefined;
}

/**
 * The type holding values of both types (Spark's JsonInferSchema.compatibleType): null yields to
 * anything; long+double → double; decimal+long → wider decimal; decimal+double → double; structs
 * merge field by field (new fields appended); arrays merge element types; any other pair → string.
 * Deviation from Spark: date+timestamp → string (Spark widens to timestamp, which needs a time zone).
 */
export function mergeTypes(a: InferredType, b: InferredType): InferredType {
  if (a === b) return a;
  if (a.kind === 'null') return b;
  if (b.kind === 'null') return a;
  if (a.kind === 'primitive' && b.kind === 'primitive') {
    if (a.type === b.type) return a;
    if (isNumeric(a) && isNumeric(b)) {
      if (a === DOUBLE || b === DOUBLE) return DOUBLE;
      return widerDecimal(decimalOf(a)!, decimalOf(b)!);
    }
    return STRING;
  }
  if (a.kind === 'struct' && b.kind === 'struct') {
    const fields = new Map(a.fields);
    for (const [name, type] of b.fields) {
      const existing = fields.get(name);
      fields.set(name, existing === undefined ? type : mergeTypes(existing, type));
    }
    return { kind: 'struct', fields };
  }
  if (a.kind === 'array' && b.kind === 'array') {
    const element = mergeTypes(a.element, b.element);
    return element === a.element ? a : { kind: 'array', element };
  }
  return STRING;
}

/**
 * The DataType of an inferred type (Spark's canonicalizeType): null → string; arrays of null →
 * arrays of string; struct fields with an empty name or whose type canonicalizes to nothing are
 * dropped; a struct left without fields canonicalizes to nothing (undefined).
 */
export function toDataType(type: InferredType): DataType | undefined {
  switch (type.kind) {
    case 'null':
      return 'string';
    case 'primitive':
      return type.type;
    case 'array': {
      const elementType = toDataType(type.element);
      return elementType === undefined ? undefined : { type: 'array', elementType, containsNull: true };
    }
    case 'struct': {
      const struct = toStructType(type);
      return struct.fields.length === 0 ? undefined : struct;
    }
  }
}

function toStructType(type: InferredStruct): StructType {
  const fields: StructField[] = [];
  for (const [name, fieldType] of type.fields) {
    if (name === '') continue;
    const dataType = toDataType(fieldType);
    if (dataType !== undefined) fields.push({ name, type: dataType, nullable: true, metadata: {} });
  }
  return { type: 'struct', fields };
}

function withDefaults(options: InferOptions, defaults: Readonly<Required<InferOptions>>): Required<InferOptions> {
  return {
    inferDates: options.inferDates ?? defaults.inferDates,
    inferTimestamps: options.inferTimestamps ?? defaults.inferTimestamps,
  };
}

const EMPTY_STRUCT: InferredStruct = Object.freeze({ kind: 'struct', fields: new Map() });

/**
 * Accumulates row types and yields the table schema. Feed it per-row types (from the JSONL reader,
 * which types number literals exactly), in-memory rows, or CSV rows of strings.
 */
export class SchemaInference {
  private merged: InferredStruct = EMPTY_STRUCT;
  private rows = 0;
  private readonly options: Required<InferOptions>;
  private readonly csvOptions: Required<InferOptions>;

  /** Options left undefined take JSON_INFER_DEFAULTS for values and CSV_INFER_DEFAULTS for CSV rows. */
  constructor(options: InferOptions = {}) {
    this.options = withDefaults(options, JSON_INFER_DEFAULTS);
    this.csvOptions = withDefaults(options, CSV_INFER_DEFAULTS);
  }

  /** Number of rows seen. */
  get rowCount(): number {
    return this.rows;
  }

  /** Adds the inferred type of one row. */
  addRowType(rowType: InferredStruct): void {
    this.merged = mergeTypes(this.merged, rowType) as InferredStruct;
    this.rows += 1;
  }

  /** Adds an in-memory row (see inferValueType); `position` names it in errors. */
  addRow(row: Record<string, unknown>, position: InputPosition = { file: '(rows)', line: this.rows + 1 }): void {
    const type = inferValueType(row, position, this.options);
    if (type.kind !== 'struct') throw new InvalidInputError(position, 'a row must be an object');
    this.addRowType(type);
  }

  /** Declares columns in order before any row (a CSV header), so empty inputs still have them. */
  addColumns(names: readonly string[]): void {
    const fields = new Map(this.merged.fields);
    for (const name of names) if (!fields.has(name)) fields.set(name, NULL_TYPE);
    this.merged = { kind: 'struct', fields };
  }

  /** Adds a CSV row of strings (see inferCsvFieldType). */
  addCsvRow(row: Readonly<Record<string, string>>): void {
    const fields = new Map<string, InferredType>();
    for (const [name, text] of Object.entries(row)) fields.set(name, inferCsvFieldType(text, this.csvOptions));
    this.addRowType({ kind: 'struct', fields });
  }

  /** The schema of all rows added so far. */
  schema(): StructType {
    return toStructType(this.merged);
  }
}

/** Infers the schema of in-memory rows (numbers: safe integers are long, others double). */
export async function inferSchema(
  rows: Iterable<Record<string, unknown>> | AsyncIterable<Record<string, unknown>>,
  options: InferOptions = JSON_INFER_DEFAULTS,
): Promise<StructType> {
  const inference = new SchemaInference(options);
  for await (const row of rows) inference.addRow(row);
  return inference.schema();
}
