// Conforms parsed JSON rows to a schema (inferred or given with --schema), the way Spark reads JSON
// with a schema: values widen to their column type (numbers, anything → string as JSON text),
// '' is null for non-string columns, fields outside the schema are ignored; a value that cannot fit
// is INVALID_INPUT naming file, line and the field path.

import type { DataType, StructType } from '../../sinks/schema.js';
import { isoDateDays, utcTimestampMs } from '../time.js';
import { typeName } from './convert-csv.js';
import { InvalidInputError } from './errors.js';
import type { JsonObject, JsonValue } from './json-line.js';
import { fitsInt64, isDateLiteral, isZonedTimestampLiteral, toLongValue } from './literals.js';

/** Conforms one value; a value that does not fit throws Rejected. */
type Conform = (value: JsonValue) => unknown;

const FIELD = 0;
const INDEX = 1;
const KEY = 2;

/**
 * A value that does not fit. The field path is built only on rejection: each struct, array and map
 * conformer the rejection unwinds through appends its step to `trail` (innermost first).
 */
class Rejected {
  /** Pairs of (FIELD | INDEX | KEY, name or index), innermost step first. */
  readonly trail: (string | number)[] = [];
  constructor(readonly reason: string) {}

  /** The field path, e.g. 'a.b[2].c': struct fields and map keys joined by '.', array indexes in brackets. */
  get path(): string {
    let path = '';
    for (let i = this.trail.length - 2; i >= 0; i -= 2) {
      const step = this.trail[i + 1]!;
      if (this.trail[i] === FIELD) path = path === '' ? String(step) : `${path}.${step}`;
      else if (this.trail[i] === INDEX) path = `${path}[${step}]`;
      else path = `${path}.${step}`;
    }
    return path;
  }
}

/** Adds the step a Rejected unwinds through (struct field, array index, map key) to its path; rethrows. */
function rethrowAt(error: unknown, kind: typeof FIELD | typeof INDEX | typeof KEY, step: string | number): never {
  if (error instanceof Rejected) error.trail.push(kind, step);
  throw error;
}

const INTEGER_RANGES: Readonly<Record<string, readonly [number, number]>> = {
  byte: [-128, 127],
  short: [-32768, 32767],
  integer: [-2147483648, 2147483647],
};
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function describe(value: JsonValue): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string')
    return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  return `${typeof value === 'boolean' ? 'the boolean' : 'the number'} ${String(value)}`;
}

function reject(value: JsonValue, type: DataType, expected?: string): never {
  const hint = expected === undefined ? '' : ` (expected ${expected})`;
  throw new Rejected(`${describe(value)} does not fit type ${typeName(type)}${hint}`);
}

/** JSON text of a value, with bigints written as plain integers. */
export function jsonText(value: JsonValue): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'bigint') return value.toString();
  if (typeof value !== 'object' || value === null) return String(value);
  return stringify(value);
}

function stringify(value: JsonValue): string {
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return `[${value.map(stringify).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    return `{${Object.entries(value)
      .map(([key, item]) => `${JSON.stringify(key)}:${stringify(item)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Spark reads JSON nulls, and '' in non-string columns, as null. */
function isNullFor(item: JsonValue | undefined, type: DataType): boolean {
  return item === undefined || item === null || (item === '' && type !== 'string');
}

function isObject(value: JsonValue): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function conformer(type: DataType): Conform {
  if (typeof type !== 'string') {
    switch (type.type) {
      case 'struct':
        return structConformer(type);
      case 'array': {
        const element = conformer(type.elementType);
        const elementType = type.elementType;
        return (value) => {
          if (!Array.isArray(value)) return reject(value, type, 'an array');
          let at = 0;
          try {
            return value.map((item, index) => {
              at = index;
              return isNullFor(item, elementType) ? null : element(item);
            });
          } catch (error) {
            return rethrowAt(error, INDEX, at);
          }
        };
      }
      case 'map': {
        if (type.keyType !== 'string') {
          return (value) => reject(value, type, 'a map with string keys; JSON object keys are strings');
        }
        const conformValue = conformer(type.valueType);
        const valueType = type.valueType;
        return (value) => {
          if (!isObject(value)) return reject(value, type, 'an object');
          const out: Record<string, unknown> = {};
          for (const [key, item] of Object.entries(value)) {
            let conformed: unknown = null;
            if (!isNullFor(item, valueType)) {
              try {
                conformed = conformValue(item);
              } catch (error) {
                rethrowAt(error, KEY, key);
              }
            }
            if (key === '__proto__') defineOwn(out, key, conformed);
            else out[key] = conformed;
          }
          return out;
        };
      }
    }
  }
  return primitiveConformer(type);
}

/** Fast path of isDateLiteral for the usual 'YYYY-MM-DD' (a false here is decided by isDateLiteral). */
function isPlainDate(text: string): boolean {
  return text.length === 10 && !Number.isNaN(isoDateDays(text, 0));
}

/**
 * Fast path of isZonedTimestampLiteral for the usual 'YYYY-MM-DDTHH:MM:SS[.f{1,6}]Z' (a false here is
 * decided by isZonedTimestampLiteral, which also checks that digits past the microsecond are zero).
 */
function isPlainUtcTimestamp(text: string): boolean {
  return text.length <= 27 && !Number.isNaN(utcTimestampMs(text));
}

/** Whether the JSON string `text` is a value of a 'date' / 'timestamp' field (as the conformer checks it). */
export function conformsTemporal(type: 'date' | 'timestamp', text: string): boolean {
  return type === 'date'
    ? isPlainDate(text) || isDateLiteral(text)
    : isPlainUtcTimestamp(text) || isZonedTimestampLiteral(text);
}

function primitiveConformer(type: Extract<DataType, string>): Conform {
  switch (type) {
    case 'string':
      return jsonText;
    case 'long':
      return (value) => {
        if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
        if (typeof value === 'bigint' && fitsInt64(value)) return toLongValue(value);
        return reject(value, type, 'an integer within 64 bits');
      };
    case 'integer':
    case 'short':
    case 'byte': {
      const [min, max] = INTEGER_RANGES[type]!;
      return (value) =>
        typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max
          ? value
          : reject(value, type, `an integer from ${min} to ${max}`);
    }
    case 'double':
    case 'float':
      return (value) =>
        typeof value === 'number' ? value : typeof value === 'bigint' ? Number(value) : reject(value, type);
    case 'boolean':
      return (value) => (typeof value === 'boolean' ? value : reject(value, type));
    case 'date':
      return (value) =>
        typeof value === 'string' && conformsTemporal('date', value)
          ? value
          : reject(value, type, "a 'YYYY-MM-DD' string");
    case 'timestamp':
      return (value) =>
        typeof value === 'string' && conformsTemporal('timestamp', value)
          ? value
          : reject(value, type, "an ISO-8601 string with a zone, e.g. '2024-01-02T03:04:05Z'");
    case 'timestamp_ntz':
      return (value) => (typeof value === 'string' ? value : reject(value, type, 'a string'));
    case 'binary':
      return (value) =>
        typeof value === 'string' && BASE64.test(value)
          ? new Uint8Array(Buffer.from(value, 'base64'))
          : reject(value, type, 'a base64 string');
    default:
      // decimal(p,s): passed to the writer as decimal text, which it rounds-checks exactly.
      return (value) =>
        typeof value === 'bigint' || (typeof value === 'number' && Number.isFinite(value))
          ? String(value)
          : typeof value === 'string' && /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(value)
            ? value
            : reject(value, type, 'a number');
  }
}

/** Field kinds a struct conformer checks inline: a value of the usual JS type passes unchanged. */
enum Inline {
  /** Any other type: always through the field's conformer. */
  None,
  String,
  Long,
  Integer,
  Double,
  Boolean,
  Timestamp,
  Date,
}

function inlineKind(type: DataType): Inline {
  switch (type) {
    case 'string':
      return Inline.String;
    case 'long':
      return Inline.Long;
    case 'integer':
    case 'short':
    case 'byte':
      return Inline.Integer;
    case 'double':
    case 'float':
      return Inline.Double;
    case 'boolean':
      return Inline.Boolean;
    case 'timestamp':
      return Inline.Timestamp;
    case 'date':
      return Inline.Date;
    default:
      return Inline.None;
  }
}

/** Whether `item` (not null) already is what a field of `kind` conforms it to, and so is kept as is. */
function keptAsIs(kind: Inline, item: JsonValue, min: number, max: number): boolean {
  switch (kind) {
    case Inline.String:
      return typeof item === 'string';
    case Inline.Long:
      return typeof item === 'number' && Number.isSafeInteger(item);
    case Inline.Integer:
      return typeof item === 'number' && Number.isInteger(item) && item >= min && item <= max;
    case Inline.Double:
      return typeof item === 'number';
    case Inline.Boolean:
      return typeof item === 'boolean';
    case Inline.Timestamp:
      return typeof item === 'string' && isPlainUtcTimestamp(item);
    case Inline.Date:
      return typeof item === 'string' && isPlainDate(item);
    default:
      return false;
  }
}

/** A struct conformer, and the check that a fresh JSON.parse object already is its conformed row. */
interface StructConformer {
  conform: Conform;
  /**
   * Whether `value` (a plain object fresh from JSON.parse) already is the row `conform` would build:
   * its keys are exactly the fields, in schema order, and each value is null or kept as is.
   */
  fitsAsIs(value: JsonObject): boolean;
}

/**
 * Conforms objects to a struct. Every output object is a copy of one template holding the fields in
 * schema order, so all rows share one shape (downstream property access stays monomorphic), and a
 * field named '__proto__' is an own data property of the template: assigning it writes that property
 * and never changes the prototype. A primitive field whose value already has the column's JS type
 * (a string for string, a safe integer for long, …) is kept as is — what its conformer would return;
 * anything else goes through the conformer.
 */
function buildStructConformer(type: StructType): StructConformer {
  const names = type.fields.map((field) => field.name);
  const conforms = type.fields.map((field) => conformer(field.type));
  const kinds = type.fields.map((field) => inlineKind(field.type));
  const mins = type.fields.map((field) => INTEGER_RANGES[field.type as string]?.[0] ?? 0);
  const maxs = type.fields.map((field) => INTEGER_RANGES[field.type as string]?.[1] ?? 0);
  const emptyIsNull = type.fields.map((field) => field.type !== 'string');
  const count = names.length;
  const template: Record<string, unknown> = {};
  for (const name of names) defineOwn(template, name, null);
  const conform: Conform = (value) => {
    if (!isObject(value)) return reject(value, type, 'an object');
    const out = { ...template };
    let i = 0;
    try {
      for (; i < count; i++) {
        const name = names[i]!;
        const item = Object.hasOwn(value, name) ? value[name] : undefined;
        out[name] =
          item === undefined || item === null || (item === '' && emptyIsNull[i])
            ? null
            : keptAsIs(kinds[i]!, item, mins[i]!, maxs[i]!)
              ? item
              : conforms[i]!(item);
      }
    } catch (error) {
      rethrowAt(error, FIELD, names[i]!);
    }
    return out;
  };
  const last = names[count - 1];
  // A fresh object can only be its row when the fields' names are distinct (its keys are).
  const distinct = new Set(names).size === count;
  const fitsAsIs = (value: JsonObject): boolean => {
    if (!distinct || (last !== undefined && !Object.hasOwn(value, last))) return false;
    // for-in lists own keys before inherited ones; the last field is own, so every key matched below is
    // own too (an inherited key comes after all own keys, and the names are distinct).
    let i = 0;
    for (const key in value) {
      if (i === count || key !== names[i]) return false;
      const item = value[key]!;
      if (item !== null && !keptAsIs(kinds[i]!, item, mins[i]!, maxs[i]!)) return false;
      i++;
    }
    return i === count;
  };
  return { conform, fitsAsIs };
}

function structConformer(type: StructType): Conform {
  return buildStructConformer(type).conform;
}

/** Defines `key` as an own data property (for '__proto__', where assignment would set the prototype). */
function defineOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Conforms one parsed row to `schema`; `line` names it in errors. */
export type JsonRowConformer = (row: JsonObject, line: number) => Record<string, unknown>;

/** Builds the conformer of `file`'s rows for `schema` (build once, call per row). */
export function jsonRowConformer(schema: StructType, file: string): JsonRowConformer {
  const conform = structConformer(schema);
  return (row, line) => {
    try {
      return conform(row) as Record<string, unknown>;
    } catch (error) {
      if (!(error instanceof Rejected)) throw error;
      throw new InvalidInputError({ file, line, field: error.path }, error.reason);
    }
  };
}

/** Conforms one row (see jsonRowConformer). */
export function conformJsonRow(
  row: JsonObject,
  schema: StructType,
  position: { file: string; line: number },
): Record<string, unknown> {
  return jsonRowConformer(schema, position.file)(row, position.line);
}

/** The result of conforming one value: the row, or the field path and reason it was rejected. */
export type ConformResult = { ok: true; row: Record<string, unknown> } | { ok: false; field: string; reason: string };

/** Why a value was rejected: the field path ('' for the value itself) and the reason. */
export class JsonRejection {
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {}
}

/**
 * A conformer for already-parsed JSON values that returns the row, or a JsonRejection instead of
 * throwing, for callers that route bad records to a dead-letter destination. With `fresh` (the value
 * was just made by JSON.parse and nothing else references it), a value that already is its conformed
 * row — its keys exactly the schema's fields in order, every value of the column's JS type — is
 * returned itself instead of a copy.
 */
export function parsedJsonConformer(
  schema: StructType,
): (value: unknown, fresh: boolean) => Record<string, unknown> | JsonRejection {
  const { conform, fitsAsIs } = buildStructConformer(schema);
  return (value, fresh) => {
    if (fresh && isObject(value as JsonValue) && fitsAsIs(value as JsonObject)) return value as Record<string, unknown>;
    try {
      return conform(value as JsonValue) as Record<string, unknown>;
    } catch (error) {
      if (!(error instanceof Rejected)) throw error;
      return new JsonRejection(error.path, error.reason);
    }
  };
}

/**
 * A conformer for already-parsed JSON values (e.g. from JSON.parse) that reports a rejection as a
 * value instead of throwing, for callers that route bad records to a dead-letter destination.
 */
export function jsonValueConformer(schema: StructType): (value: unknown) => ConformResult {
  const conform = parsedJsonConformer(schema);
  return (value) => {
    const result = conform(value, false);
    return result instanceof JsonRejection
      ? { ok: false, field: result.field, reason: result.reason }
      : { ok: true, row: result };
  };
}
