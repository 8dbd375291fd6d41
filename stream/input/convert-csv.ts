// Converts CSV rows (strings) to the values lakestream's writer takes for a schema: '' → null,
// long → number|bigint, double → number, boolean, and dates/timestamps/decimals checked and kept as
// text. A field that does not parse as its column type is INVALID_INPUT naming file, line and column.

import type { DataType, StructType } from '../../sinks/schema.js';
import { InvalidInputError } from './errors.js';
import {
  isDateLiteral,
  isZonedTimestampLiteral,
  parseBooleanLiteral,
  parseDoubleLiteral,
  parseLongLiteral,
} from './literals.js';

type FieldConverter = (text: string) => unknown;

/** Thrown by a field converter; the row converter adds file, line and column. */
class Rejected {
  constructor(readonly reason: string) {}
}

const INTEGER_RANGES: Readonly<Record<string, readonly [number, number]>> = {
  byte: [-128, 127],
  short: [-32768, 32767],
  integer: [-2147483648, 2147483647],
};

/** A short type name for messages: 'long', 'decimal(10,2)', 'struct', 'array', 'map'. */
export function typeName(type: DataType): string {
  return typeof type === 'string' ? type : type.type;
}

function fieldConverter(type: DataType): FieldConverter | string {
  if (typeof type !== 'string') return `a CSV field cannot hold a ${type.type} value`;
  switch (type) {
    case 'string':
      return (text) => text;
    case 'long':
      return (text) => parseLongLiteral(text) ?? reject(text, type);
    case 'integer':
    case 'short':
    case 'byte': {
      const [min, max] = INTEGER_RANGES[type]!;
      return (text) => {
        const value = parseLongLiteral(text);
        if (typeof value !== 'number' || value < min || value > max) return reject(text, type);
        return value;
      };
    }
    case 'double':
    case 'float':
      return (text) => parseDoubleLiteral(text) ?? reject(text, type);
    case 'boolean':
      return (text) => parseBooleanLiteral(text) ?? reject(text, type, "'true' or 'false'");
    case 'date':
      return (text) => (isDateLiteral(text) ? text : reject(text, type, "'YYYY-MM-DD'"));
    case 'timestamp':
      return (text) =>
        isZonedTimestampLiteral(text) ? text : reject(text, type, "ISO-8601 with a zone, e.g. '2024-01-02T03:04:05Z'");
    case 'timestamp_ntz':
      return (text) => text;
    case 'binary':
      return 'a CSV field cannot hold binary data';
    default: {
      // decimal(p,s): checked to be a finite decimal number here; the writer checks precision and scale.
      return (text) => {
        const value = parseDoubleLiteral(text);
        return value !== undefined && Number.isFinite(value) ? text : reject(text, type);
      };
    }
  }
}

function reject(text: string, type: DataType, expected?: string): never {
  const hint = expected === undefined ? '' : ` (expected ${expected})`;
  throw new Rejected(`${JSON.stringify(text)} is not a valid ${typeName(type)}${hint}`);
}

/** Converts one CSV row; `line` names it in errors. Columns of the schema missing from the row are null. */
export type CsvRowConverter = (row: Readonly<Record<string, string>>, line: number) => Record<string, unknown>;

/**
 * Builds the converter of `file`'s rows for `schema`. Throws INVALID_INPUT (line 1, the header)
 * when a column has a type CSV cannot hold (struct, array, map, binary).
 */
export function csvRowConverter(schema: StructType, file: string): CsvRowConverter {
  const columns = schema.fields.map((field) => {
    const convert = fieldConverter(field.type);
    if (typeof convert === 'string') {
      throw new InvalidInputError(
        { file, line: 1, field: field.name },
        `column has type ${typeName(field.type)}: ${convert}`,
      );
    }
    return { name: field.name, convert };
  });
  return (row, line) => {
    const out: Record<string, unknown> = {};
    columns.forEach(({ name, convert }) => {
      const text = Object.hasOwn(row, name) ? row[name] : undefined;
      let value: unknown = null;
      if (text !== undefined && text !== '') {
        try {
          value = convert(text);
        } catch (error) {
          if (!(error instanceof Rejected)) throw error;
          throw new InvalidInputError({ file, line, field: name }, error.reason);
        }
      }
      Object.defineProperty(out, name, { value, enumerable: true, writable: true, configurable: true });
    });
    return out;
  };
}

/** Converts one CSV row for `schema` (see csvRowConverter; build the converter once for many rows). */
export function convertCsvRow(
  row: Readonly<Record<string, string>>,
  schema: StructType,
  position: { file: string; line: number },
): Record<string, unknown> {
  return csvRowConverter(schema, position.file)(row, position.line);
}

/**
 * Checks a CSV header against a given schema: every column must be in the schema (schema columns
 * absent from the file are null). Throws INVALID_INPUT naming the unknown columns.
 */
export function checkCsvHeader(header: readonly string[], schema: StructType, file: string): void {
  const known = new Set(schema.fields.map((field) => field.name));
  const unknown = header.filter((name) => !known.has(name));
  if (unknown.length > 0) {
    throw new InvalidInputError(
      { file, line: 1 },
      `CSV column${unknown.length > 1 ? 's' : ''} ${unknown.map((name) => JSON.stringify(name)).join(', ')} not in the schema (schema columns: ${[...known].join(', ')})`,
    );
  }
}
