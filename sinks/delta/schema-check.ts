// Schema enforcement and additive evolution for writes: rows (and an optional declared data schema)
// are checked against the table schema; with mergeSchema new columns and nested struct fields are
// appended as nullable. Type changes are refused (SCHEMA_MISMATCH naming the column and both types).
import type { ArrayType, DataType, MapType, StructField, StructType } from '../schema.js';
import { decimalParts } from '../schema.js';
import { DeltaError } from './errors.js';
import { typeName } from './partition-values.js';

export interface SchemaCheckOptions {
  /** The declared schema of the rows; when absent, types of new columns are inferred from the values. */
  dataSchema?: StructType;
  /** Add new columns / nested fields to the table schema instead of refusing them. */
  mergeSchema?: boolean;
}

export interface SchemaCheckResult {
  /** The schema to write with: the table schema, or the merged one. */
  schema: StructType;
  /** True when `schema` differs from the table schema (a metaData action must be committed). */
  changed: boolean;
}

const INTEGER_RANK: Record<string, number> = { byte: 1, short: 2, integer: 3, long: 4 };

function mismatch(column: string, tableType: string, dataType: string, detail?: string): DeltaError {
  return new DeltaError(
    `column ${column}: table type ${tableType}, data type ${dataType}${detail ? ` (${detail})` : ''}`,
    {
      code: 'SCHEMA_MISMATCH',
      context: { column, tableType, dataType },
    },
  );
}

function isStruct(type: DataType): type is StructType {
  return typeof type === 'object' && type.type === 'struct';
}
function isArray(type: DataType): type is ArrayType {
  return typeof type === 'object' && type.type === 'array';
}
function isMap(type: DataType): type is MapType {
  return typeof type === 'object' && type.type === 'map';
}

function joinPath(parent: string, name: string): string {
  return parent ? `${parent}.${name}` : name;
}

function findField(struct: StructType, name: string): StructField | undefined {
  return (
    struct.fields.find((f) => f.name === name) ?? struct.fields.find((f) => f.name.toLowerCase() === name.toLowerCase())
  );
}

function assertUniqueNames(struct: StructType, parent: string): void {
  const seen = new Set<string>();
  for (const field of struct.fields) {
    const lower = field.name.toLowerCase();
    if (seen.has(lower)) {
      throw new DeltaError(`column ${joinPath(parent, field.name)} appears twice (names are case-insensitive)`, {
        code: 'SCHEMA_MISMATCH',
        context: { column: joinPath(parent, field.name) },
      });
    }
    seen.add(lower);
  }
}

/** True when data of type `from` can be written to a column of type `to` without loss (Spark's safe upcasts). */
export function canUpcast(from: DataType, to: DataType): boolean {
  if (typeof from === 'string' && typeof to === 'string') {
    if (from === to) return true;
    const a = INTEGER_RANK[from];
    const b = INTEGER_RANK[to];
    if (a !== undefined && b !== undefined) return a <= b;
    if (from === 'float' && to === 'double') return true;
    const df = decimalParts(from);
    const dt = decimalParts(to);
    if (df && dt) return df.scale <= dt.scale && df.precision - df.scale <= dt.precision - dt.scale;
    return false;
  }
  return false;
}

/**
 * Merges a declared data schema into the table schema. Without `merge`, data columns missing from the
 * table are refused; with it they are appended as nullable (recursively for structs, including struct
 * elements of arrays and map values). Types must match or be safe upcasts; nullability of existing
 * columns is kept. Non-nullable table columns missing from the data are refused.
 */
export function mergeDataSchema(table: StructType, data: StructType, merge: boolean, parent = ''): StructType {
  assertUniqueNames(data, parent);
  const fields: StructField[] = [];
  for (const field of table.fields) {
    const dataField = findField(data, field.name);
    const column = joinPath(parent, field.name);
    if (!dataField) {
      if (!field.nullable) throw mismatch(column, typeName(field.type), 'missing', 'the column is not nullable');
      fields.push(field);
      continue;
    }
    fields.push({ ...field, type: mergeType(field.type, dataField.type, merge, column) });
  }
  for (const dataField of data.fields) {
    if (findField(table, dataField.name)) continue;
    const column = joinPath(parent, dataField.name);
    if (!merge) throw extraColumn(column, typeName(dataField.type));
    fields.push({ name: dataField.name, type: dataField.type, nullable: true, metadata: { ...dataField.metadata } });
  }
  return { type: 'struct', fields };
}

function mergeType(tableType: DataType, dataType: DataType, merge: boolean, column: string): DataType {
  if (isStruct(tableType) && isStruct(dataType)) return mergeDataSchema(tableType, dataType, merge, column);
  if (isArray(tableType) && isArray(dataType)) {
    return {
      ...tableType,
      elementType: mergeType(tableType.elementType, dataType.elementType, merge, `${column}.element`),
    };
  }
  if (isMap(tableType) && isMap(dataType)) {
    const keyType = mergeType(tableType.keyType, dataType.keyType, false, `${column}.key`);
    return {
      ...tableType,
      keyType,
      valueType: mergeType(tableType.valueType, dataType.valueType, merge, `${column}.value`),
    };
  }
  if (canUpcast(dataType, tableType)) return tableType;
  throw mismatch(column, typeName(tableType), typeName(dataType));
}

/** The type of one JS value as lakestream infers it (for new columns and error messages); undefined for null. */
export function inferType(value: unknown): DataType | undefined {
  if (value === null || value === undefined) return undefined;
  switch (typeof value) {
    case 'string':
      return 'string';
    case 'boolean':
      return 'boolean';
    case 'bigint':
      return 'long';
    case 'number':
      return Number.isInteger(value) ? 'long' : 'double';
    case 'object': {
      if (value instanceof Date) return 'timestamp';
      if (value instanceof Uint8Array) return 'binary';
      if (Array.isArray(value)) {
        let element: DataType | undefined;
        for (const item of value) element = unifyInferred(element, inferType(item), 'element');
        return { type: 'array', elementType: element ?? 'string', containsNull: true };
      }
      if (value instanceof Map) {
        let keyType: DataType | undefined;
        let valueType: DataType | undefined;
        for (const [k, v] of value) {
          keyType = unifyInferred(keyType, inferType(k), 'key');
          valueType = unifyInferred(valueType, inferType(v), 'value');
        }
        return { type: 'map', keyType: keyType ?? 'string', valueType: valueType ?? 'string', valueContainsNull: true };
      }
      const fields: StructField[] = [];
      for (const [name, v] of Object.entries(value as Record<string, unknown>)) {
        const t = inferType(v);
        if (t !== undefined) fields.push({ name, type: t, nullable: true, metadata: {} });
      }
      return { type: 'struct', fields };
    }
    default:
      return undefined;
  }
}

function unifyInferred(a: DataType | undefined, b: DataType | undefined, column: string): DataType | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  if (typeof a === 'string' && typeof b === 'string') {
    if (a === b) return a;
    if ((a === 'long' && b === 'double') || (a === 'double' && b === 'long')) return 'double';
    throw mismatch(column, a, b, 'values of different types');
  }
  if (isStruct(a) && isStruct(b)) {
    const fields = a.fields.map((f) => {
      const other = b.fields.find((g) => g.name === f.name);
      return other ? { ...f, type: unifyInferred(f.type, other.type, joinPath(column, f.name)) as DataType } : f;
    });
    for (const g of b.fields) if (!a.fields.some((f) => f.name === g.name)) fields.push(g);
    return { type: 'struct', fields };
  }
  if (isArray(a) && isArray(b)) {
    return { ...a, elementType: unifyInferred(a.elementType, b.elementType, `${column}.element`) as DataType };
  }
  if (isMap(a) && isMap(b)) {
    return {
      ...a,
      keyType: unifyInferred(a.keyType, b.keyType, `${column}.key`) as DataType,
      valueType: unifyInferred(a.valueType, b.valueType, `${column}.value`) as DataType,
    };
  }
  throw mismatch(column, typeName(a), typeName(b), 'values of different types');
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    !(value instanceof Date) &&
    !(value instanceof Uint8Array) &&
    !(value instanceof Map)
  );
}

/** Adds (inferred, nullable) columns that rows carry but `struct` lacks; returns `struct` itself when nothing is new. */
function extendFromRows(struct: StructType, values: readonly unknown[], parent: string): StructType {
  const names = new Set(struct.fields.map((f) => f.name));
  const structFields = new Set(struct.fields.filter((f) => isStruct(f.type)).map((f) => f.name));
  const extra = new Map<string, DataType | undefined>();
  const nested = new Map<string, unknown[]>();
  for (const value of values) {
    if (!isPlainObject(value)) continue;
    for (const key in value) {
      const v = value[key];
      if (names.has(key)) {
        if (structFields.has(key) && isPlainObject(v)) {
          const list = nested.get(key);
          if (list) list.push(v);
          else nested.set(key, [v]);
        }
      } else if (v !== undefined && !findField(struct, key)) {
        extra.set(key, unifyInferred(extra.get(key), inferType(v), joinPath(parent, key)));
      }
    }
  }
  let changed = false;
  const fields = struct.fields.map((field) => {
    const list = nested.get(field.name);
    if (!list || !isStruct(field.type)) return field;
    const inner = extendFromRows(field.type, list, joinPath(parent, field.name));
    if (inner === field.type) return field;
    changed = true;
    return { ...field, type: inner };
  });
  for (const [name, type] of extra) {
    const column = joinPath(parent, name);
    if (type === undefined) {
      throw new DeltaError(`cannot infer the type of new column ${column}: every value is null; declare dataSchema`, {
        code: 'SCHEMA_MISMATCH',
        context: { column, tableType: 'missing', dataType: 'null' },
      });
    }
    fields.push({ name, type, nullable: true, metadata: {} });
    changed = true;
  }
  return changed ? { type: 'struct', fields } : struct;
}

function describe(value: unknown): string {
  const t = inferType(value);
  return t === undefined ? typeof value : typeName(t);
}

function invalid(column: string, row: number, message: string): DeltaError {
  return new DeltaError(`column ${column}, row ${row}: ${message}`, { code: 'INVALID_DATA', context: { column, row } });
}

/** A test of the JS value kinds the Parquet encoder accepts for a primitive type (sinks/parquet/values.ts). */
function primitiveAccepts(type: string): (value: unknown) => boolean {
  switch (type) {
    case 'string':
      return (v) => typeof v === 'string';
    case 'boolean':
      return (v) => typeof v === 'boolean';
    case 'byte':
    case 'short':
    case 'integer':
    case 'float':
    case 'double':
      return (v) => typeof v === 'number';
    case 'long':
      return (v) => typeof v === 'number' || typeof v === 'bigint';
    case 'binary':
      return (v) => v instanceof Uint8Array;
    case 'date':
      return (v) => typeof v === 'string' || typeof v === 'number' || v instanceof Date;
    case 'timestamp':
    case 'timestamp_ntz':
      return (v) => typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint' || v instanceof Date;
    default:
      if (decimalParts(type as DataType) === undefined) return () => false;
      return (v) => typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint';
  }
}

/** Checks one non-null value; throws SCHEMA_MISMATCH or INVALID_DATA naming the column and row. */
type Check = (value: unknown, row: number) => void;

/**
 * Compiles the check of a column type once per write: the kind of each value (SCHEMA_MISMATCH: e.g.
 * a string in a long column), recursing into structs, arrays and maps, and nulls where the type
 * forbids them (INVALID_DATA). Ranges and formats are left to the encoder.
 */
function compile(type: DataType, column: string): Check {
  if (typeof type === 'string') {
    const accepts = primitiveAccepts(type);
    return (v) => {
      if (!accepts(v)) throw mismatch(column, type, describe(v));
    };
  }
  if (isStruct(type)) {
    const struct = compileStruct(type, column);
    return (v, row) => {
      if (!isPlainObject(v)) throw mismatch(column, typeName(type), describe(v));
      struct(v, row);
    };
  }
  if (isArray(type)) {
    const element = compile(type.elementType, `${column}.element`);
    return (v, row) => {
      if (!Array.isArray(v)) throw mismatch(column, typeName(type), describe(v));
      for (const item of v) {
        if (item === null || item === undefined) {
          if (!type.containsNull) throw invalid(column, row, 'null element in an array that cannot contain null');
        } else element(item, row);
      }
    };
  }
  const key = compile(type.keyType, `${column}.key`);
  const value = compile(type.valueType, `${column}.value`);
  const plainObjects = type.keyType === 'string';
  return (v, row) => {
    const entries = v instanceof Map ? v.entries() : plainObjects && isPlainObject(v) ? Object.entries(v) : undefined;
    if (!entries) throw mismatch(column, typeName(type), describe(v));
    for (const [k, x] of entries) {
      if (k === null || k === undefined) throw invalid(column, row, 'null map key');
      key(k, row);
      if (x === null || x === undefined) {
        if (!type.valueContainsNull) throw invalid(column, row, 'null value in a map that cannot contain null');
      } else value(x, row);
    }
  };
}

function extraColumn(column: string, dataType: string): DeltaError {
  return new DeltaError(
    `column ${column} (data type ${dataType}) is not in the table schema; use mergeSchema to add it`,
    {
      code: 'SCHEMA_MISMATCH',
      context: { column, tableType: 'missing', dataType },
    },
  );
}

function compileStruct(struct: StructType, parent: string): (value: Record<string, unknown>, row: number) => void {
  const fields = struct.fields.map((f) => {
    const column = joinPath(parent, f.name);
    return { name: f.name, nullable: f.nullable, column, check: compile(f.type, column) };
  });
  const names = new Set(struct.fields.map((f) => f.name));
  let knownKeys: string[] | undefined;
  return (value, row) => {
    for (const field of fields) {
      const v = value[field.name];
      if (v === null || v === undefined) {
        if (!field.nullable) throw invalid(field.column, row, 'null in a column that is not nullable');
      } else field.check(v, row);
    }
    // Rows usually share one key list: once a list is known to hold only schema columns, an
    // identical list needs no per-key lookups.
    const keys = Object.keys(value);
    if (knownKeys !== undefined && sameKeys(keys, knownKeys)) return;
    let allKnown = true;
    for (const key of keys) {
      if (names.has(key)) continue;
      allKnown = false;
      if (value[key] === undefined) continue;
      const column = joinPath(parent, key);
      const other = findField(struct, key);
      if (other) {
        throw new DeltaError(`column ${column} differs in case from table column ${joinPath(parent, other.name)}`, {
          code: 'SCHEMA_MISMATCH',
          context: { column, tableColumn: joinPath(parent, other.name) },
        });
      }
      throw extraColumn(column, describe(value[key]));
    }
    if (allKnown) knownKeys = keys;
  };
}

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Resolves the schema a write uses and checks every row against it. Returns the table schema
 * unchanged, or (mergeSchema) the evolved one. Throws SCHEMA_MISMATCH for extra columns (without
 * mergeSchema), type conflicts and missing non-nullable columns; INVALID_DATA for nulls the schema
 * forbids (value ranges and formats are checked by the Parquet encoder).
 */
export function checkWriteSchema(
  table: StructType,
  rows: readonly Record<string, unknown>[],
  options: SchemaCheckOptions = {},
): SchemaCheckResult {
  const merge = options.mergeSchema === true;
  let schema = options.dataSchema ? mergeDataSchema(table, options.dataSchema, merge) : table;
  if (merge) schema = extendFromRows(schema, rows, '');
  const check = compileStruct(schema, '');
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    if (!isPlainObject(row)) throw invalid('', i, `a row must be a plain object, got ${describe(row)}`);
    check(row, i);
  }
  const changed = schema !== table && JSON.stringify(schema) !== JSON.stringify(table);
  return { schema: changed ? schema : table, changed };
}
