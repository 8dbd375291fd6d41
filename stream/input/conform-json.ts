// Conforms parsed JSON rows to a schema (inferred or given with --schema), the way Spark reads JSON
// with a schema: values widen to their column type (numbers, anything → string as JSON text),
// '' is null for non-string columns, fields outside the schema are ignored; a value that cannot fit
// is INVALID_INPUT naming file, line and the field path.

import type { DataType, StructType } from '../../sinks/schema.js';
import { typeName } from './convert-csv.js';
import { InvalidInputError } from './errors.js';
import type { JsonObject, JsonValue } from './json-line.js';
import { fitsInt64, isDateLiteral, isZonedTimestampLiteral, toLongValue } from './literals.js';

type Conform = (value: JsonValue, path: string) => unknown;

class Rejected {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {}
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

function reject(path: string, value: JsonValue, type: DataType, expected?: string): never {
  const hint = expected === undefined ? '' : ` (expected ${expected})`;
  throw new Rejected(path, `${describe(value)} does not fit type ${typeName(type)}${hint}`);
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
        return (value, path) => {
          if (!Array.isArray(value)) return reject(path, value, type, 'an array');
          return value.map((item, index) =>
            isNullFor(item, type.elementType) ? null : element(item, `${path}[${index}]`),
          );
        };
      }
      case 'map': {
        if (type.keyType !== 'string') {
          return (value, path) => reject(path, value, type, 'a map with string keys; JSON object keys are strings');
        }
        const conformValue = conformer(type.valueType);
        return (value, path) => {
          if (!isObject(value)) return reject(path, value, type, 'an object');
          const out: Record<string, unknown> = {};
          for (const [key, item] of Object.entries(value)) {
            define(out, key, isNullFor(item, type.valueType) ? null : conformValue(item, `${path}.${key}`));
          }
          return out;
        };
      }
    }
  }
  return primitiveConformer(type);
}

function primitiveConformer(type: Extract<DataType, string>): Conform {
  switch (type) {
    case 'string':
      return (value) => jsonText(value);
    case 'long':
      return (value, path) => {
        if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
        if (typeof value === 'bigint' && fitsInt64(value)) return toLongValue(value);
        return reject(path, value, type, 'an integer within 64 bits');
      };
    case 'integer':
    case 'short':
    case 'byte': {
      const [min, max] = INTEGER_RANGES[type]!;
      return (value, path) =>
        typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max
          ? value
          : reject(path, value, type, `an integer from ${min} to ${max}`);
    }
    case 'double':
    case 'float':
      return (value, path) =>
        typeof value === 'number' ? value : typeof value === 'bigint' ? Number(value) : reject(path, value, type);
    case 'boolean':
      return (value, path) => (typeof value === 'boolean' ? value : reject(path, value, type));
    case 'date':
      return (value, path) =>
        typeof value === 'string' && isDateLiteral(value) ? value : reject(path, value, type, "a 'YYYY-MM-DD' string");
    case 'timestamp':
      return (value, path) =>
        typeof value === 'string' && isZonedTimestampLiteral(value)
          ? value
          : reject(path, value, type, "an ISO-8601 string with a zone, e.g. '2024-01-02T03:04:05Z'");
    case 'timestamp_ntz':
      return (value, path) => (typeof value === 'string' ? value : reject(path, value, type, 'a string'));
    case 'binary':
      return (value, path) =>
        typeof value === 'string' && BASE64.test(value)
          ? new Uint8Array(Buffer.from(value, 'base64'))
          : reject(path, value, type, 'a base64 string');
    default:
      // decimal(p,s): passed to the writer as decimal text, which it rounds-checks exactly.
      return (value, path) =>
        typeof value === 'bigint' || (typeof value === 'number' && Number.isFinite(value))
          ? String(value)
          : typeof value === 'string' && /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(value)
            ? value
            : reject(path, value, type, 'a number');
  }
}

function structConformer(type: StructType): Conform {
  const fields = type.fields.map((field) => ({ name: field.name, type: field.type, conform: conformer(field.type) }));
  return (value, path) => {
    if (!isObject(value)) return reject(path, value, type, 'an object');
    const out: Record<string, unknown> = {};
    for (const field of fields) {
      const item = Object.hasOwn(value, field.name) ? value[field.name] : undefined;
      const fieldPath = path === '' ? field.name : `${path}.${field.name}`;
      define(
        out,
        field.name,
        item === undefined || isNullFor(item, field.type) ? null : field.conform(item, fieldPath),
      );
    }
    return out;
  };
}

function define(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Conforms one parsed row to `schema`; `line` names it in errors. */
export type JsonRowConformer = (row: JsonObject, line: number) => Record<string, unknown>;

/** Builds the conformer of `file`'s rows for `schema` (build once, call per row). */
export function jsonRowConformer(schema: StructType, file: string): JsonRowConformer {
  const conform = structConformer(schema);
  return (row, line) => {
    try {
      return conform(row, '') as Record<string, unknown>;
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

/**
 * A conformer for already-parsed JSON values (e.g. from JSON.parse) that reports a rejection as a
 * value instead of throwing, for callers that route bad records to a dead-letter destination.
 */
export function jsonValueConformer(schema: StructType): (value: unknown) => ConformResult {
  const conform = structConformer(schema);
  return (value) => {
    try {
      return { ok: true, row: conform(value as JsonValue, '') as Record<string, unknown> };
    } catch (error) {
      if (!(error instanceof Rejected)) throw error;
      return { ok: false, field: error.path, reason: error.reason };
    }
  };
}
