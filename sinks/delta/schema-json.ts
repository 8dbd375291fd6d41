// Parsing of metaData.schemaString (PROTOCOL.md "Schema Serialization Format") into the shared
// StructType (sinks/schema.ts), validating every field; a malformed schema is LOG_CORRUPT and a type
// lakestream cannot represent (variant, void, …) is UNSUPPORTED_FEATURE.
import { type DataType, decimalParts, type StructField, type StructType } from '../schema.js';
import { DeltaError } from './errors.js';

const PRIMITIVES = new Set([
  'string',
  'long',
  'integer',
  'short',
  'byte',
  'float',
  'double',
  'boolean',
  'binary',
  'date',
  'timestamp',
  'timestamp_ntz',
]);

class SchemaDefect extends Error {}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function parseType(value: unknown, where: string): DataType {
  if (typeof value === 'string') {
    if (PRIMITIVES.has(value)) return value as DataType;
    const decimal = decimalParts(value as DataType);
    if (decimal) {
      const { precision, scale } = decimal;
      if (precision < 1 || precision > 38 || scale > precision) throw new SchemaDefect(`${where}: invalid ${value}`);
      return `decimal(${precision},${scale})`;
    }
    if (value === 'decimal') return 'decimal(10,0)';
    throw new DeltaError(`column ${where} has type "${value}", which is not supported`, {
      code: 'UNSUPPORTED_FEATURE',
      context: { feature: value === 'variant' ? 'variantType' : `type:${value}`, column: where },
    });
  }
  if (!isObject(value)) throw new SchemaDefect(`${where}: a type must be a string or an object`);
  switch (value.type) {
    case 'struct':
      return parseStruct(value, where);
    case 'array':
      if (typeof value.containsNull !== 'boolean') throw new SchemaDefect(`${where}: array.containsNull missing`);
      return {
        type: 'array',
        elementType: parseType(value.elementType, `${where}.element`),
        containsNull: value.containsNull,
      };
    case 'map':
      if (typeof value.valueContainsNull !== 'boolean')
        throw new SchemaDefect(`${where}: map.valueContainsNull missing`);
      return {
        type: 'map',
        keyType: parseType(value.keyType, `${where}.key`),
        valueType: parseType(value.valueType, `${where}.value`),
        valueContainsNull: value.valueContainsNull,
      };
    default:
      throw new SchemaDefect(`${where}: unknown type ${JSON.stringify(value.type)}`);
  }
}

function parseStruct(value: Record<string, unknown>, where: string): StructType {
  if (!Array.isArray(value.fields)) throw new SchemaDefect(`${where}: struct.fields must be an array`);
  const fields: StructField[] = [];
  const seen = new Set<string>();
  for (const field of value.fields as unknown[]) {
    if (!isObject(field) || typeof field.name !== 'string') throw new SchemaDefect(`${where}: a field needs a name`);
    const path = where === '' ? field.name : `${where}.${field.name}`;
    const lower = field.name.toLowerCase();
    if (seen.has(lower)) throw new SchemaDefect(`${path}: duplicate field name (names are case-insensitive)`);
    seen.add(lower);
    if (typeof field.nullable !== 'boolean') throw new SchemaDefect(`${path}: nullable must be a boolean`);
    const metadata = field.metadata === undefined || field.metadata === null ? {} : field.metadata;
    if (!isObject(metadata)) throw new SchemaDefect(`${path}: metadata must be an object`);
    fields.push({ name: field.name, type: parseType(field.type, path), nullable: field.nullable, metadata });
  }
  return { type: 'struct', fields };
}

/** Parses a schemaString. Throws DeltaError LOG_CORRUPT (malformed) or UNSUPPORTED_FEATURE (type). */
export function parseSchema(schemaString: string): StructType {
  let json: unknown;
  try {
    json = JSON.parse(schemaString);
  } catch (cause) {
    throw new DeltaError('metaData.schemaString is not valid JSON', { code: 'LOG_CORRUPT', cause });
  }
  try {
    if (!isObject(json) || json.type !== 'struct') throw new SchemaDefect('the table schema must be a struct');
    return parseStruct(json, '');
  } catch (cause) {
    if (!(cause instanceof SchemaDefect)) throw cause;
    throw new DeltaError(`invalid table schema: ${cause.message}`, { code: 'LOG_CORRUPT', cause });
  }
}
