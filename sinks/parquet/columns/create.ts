// Turns the logical schema (Spark StructType) into column builders and the Arrow fields they fill:
// the type mapping, Parquet field ids, and which leaves get statistics.
import { Field, List, Map_, Struct } from 'apache-arrow';
import type { DataType, StructField, StructType } from '../../schema.js';
import { decimalParts } from '../../schema.js';
import { ParquetEncodeError } from '../errors.js';
import type { StatsKind, StatsPlan } from '../stats.js';
import { BooleanBuilder } from './boolean.js';
import type { BuilderSpec, ColumnBuilder } from './builder.js';
import { BinaryBuilder, Utf8Builder } from './bytes.js';
import { DecimalBuilder } from './decimal.js';
import { ListBuilder, MapBuilder, StructBuilder } from './nested.js';
import { FloatBuilder, LongBuilder, SmallIntBuilder } from './numbers.js';
import { DateBuilder, TimestampBuilder } from './temporal.js';

/** Field metadata key holding a field's Parquet field id (Delta column mapping, Iceberg). */
export const FIELD_ID_KEY = 'parquet.field.id';
/** Field metadata key holding the ids of a field's array elements / map keys and values. */
export const NESTED_IDS_KEY = 'parquet.field.nested.ids';
/** Arrow field metadata key arrow-rs writes as the Parquet field_id. */
const ARROW_FIELD_ID_KEY = 'PARQUET:field_id';

export interface TopLevelColumn {
  name: string;
  field: Field;
  builder: ColumnBuilder;
}

interface Walk {
  fieldIds: boolean;
  plan: StatsPlan;
}

/** Ids of nested members keyed by path from the owning field ('tags.element', 'm.key', …). */
type NestedIds = Readonly<Record<string, unknown>> | undefined;

function schemaError(message: string, column: string, extra: Record<string, unknown> = {}): ParquetEncodeError {
  return new ParquetEncodeError(message, { code: 'INVALID_SCHEMA', context: { column, ...extra } });
}

function idMetadata(id: unknown, column: string): Map<string, string> | undefined {
  if (id === undefined || id === null) return undefined;
  const n = typeof id === 'string' && /^-?\d+$/.test(id.trim()) ? Number(id) : id;
  if (typeof n !== 'number' || !Number.isSafeInteger(n)) {
    throw schemaError(`column '${column}': field id ${JSON.stringify(id)} is not an integer`, column);
  }
  return new Map([[ARROW_FIELD_ID_KEY, String(n)]]);
}

function statsKind(type: string): StatsKind {
  switch (type) {
    case 'byte':
    case 'short':
    case 'integer':
    case 'float':
    case 'double':
      return 'number';
    case 'long':
    case 'timestamp':
    case 'date':
    case 'string':
      return type;
    default:
      return decimalParts(type as DataType) ? 'decimal' : 'none';
  }
}

function primitiveBuilder(type: string, spec: BuilderSpec): ColumnBuilder {
  switch (type) {
    case 'string':
      return new Utf8Builder(spec);
    case 'byte':
    case 'short':
    case 'integer':
      return new SmallIntBuilder(spec, type);
    case 'long':
      return new LongBuilder(spec);
    case 'float':
      return new FloatBuilder(spec, true);
    case 'double':
      return new FloatBuilder(spec, false);
    case 'boolean':
      return new BooleanBuilder(spec);
    case 'binary':
      return new BinaryBuilder(spec);
    case 'date':
      return new DateBuilder(spec);
    case 'timestamp':
      return new TimestampBuilder(spec);
    case 'timestamp_ntz':
      throw new ParquetEncodeError(
        `column '${spec.column}': timestamp_ntz is not supported; lakestream writes only UTC-adjusted ` +
          'timestamps (declare the column as timestamp)',
        { code: 'UNSUPPORTED_TYPE', context: { column: spec.column, type } },
      );
  }
  const decimal = decimalParts(type as DataType);
  if (decimal) {
    const { precision, scale } = decimal;
    if (precision < 1 || precision > 38 || scale > precision) {
      throw schemaError(
        `column '${spec.column}': ${type} needs 1 ≤ precision ≤ 38 and scale ≤ precision`,
        spec.column,
        {
          type,
        },
      );
    }
    return new DecimalBuilder(spec, precision, scale);
  }
  throw new ParquetEncodeError(`column '${spec.column}': type ${JSON.stringify(type)} is not supported`, {
    code: 'UNSUPPORTED_TYPE',
    context: { column: spec.column, type },
  });
}

/**
 * The builder for a value of `type` at `column`. `statsPath` is the field path when the value is
 * reached through structs only (a stats leaf candidate), undefined inside arrays and maps.
 */
function builderFor(
  type: DataType,
  column: string,
  nullable: boolean,
  statsPath: readonly string[] | undefined,
  walk: Walk,
  nestedIds: NestedIds,
  idPath: string,
): ColumnBuilder {
  if (typeof type === 'string') {
    const kind = statsKind(type);
    const stats = statsPath && walk.plan.leaf(statsPath, type, kind, decimalParts(type)?.scale ?? 0);
    return primitiveBuilder(type, { column, nullable, stats });
  }
  switch (type?.type) {
    case 'struct': {
      const children = structChildren(type, column, statsPath, walk);
      const arrowType = new Struct(children.map((c) => c.field));
      const builders = children.map((c) => ({ name: c.name, builder: c.builder }));
      return new StructBuilder({ column, nullable, stats: undefined }, arrowType, builders);
    }
    case 'array': {
      const stats = statsPath && walk.plan.leaf(statsPath, type, 'none');
      const elementPath = `${idPath}.element`;
      const element = builderFor(
        type.elementType,
        `${column}.element`,
        type.containsNull,
        undefined,
        walk,
        nestedIds,
        elementPath,
      );
      const field = new Field(
        'element',
        element.arrowType,
        type.containsNull,
        nestedIdMetadata(nestedIds, elementPath),
      );
      return new ListBuilder({ column, nullable, stats }, new List(field), element);
    }
    case 'map': {
      const stats = statsPath && walk.plan.leaf(statsPath, type, 'none');
      const keyPath = `${idPath}.key`;
      const valuePath = `${idPath}.value`;
      const keys = builderFor(type.keyType, `${column}.key`, false, undefined, walk, nestedIds, keyPath);
      const values = builderFor(
        type.valueType,
        `${column}.value`,
        type.valueContainsNull,
        undefined,
        walk,
        nestedIds,
        valuePath,
      );
      const entries = new Struct([
        new Field('key', keys.arrowType, false, nestedIdMetadata(nestedIds, keyPath)),
        new Field('value', values.arrowType, type.valueContainsNull, nestedIdMetadata(nestedIds, valuePath)),
      ]);
      const arrowType = new Map_(new Field('entries', entries, false), false);
      return new MapBuilder({ column, nullable, stats }, arrowType, keys, values, type.keyType === 'string');
    }
    default:
      throw new ParquetEncodeError(`column '${column}': type ${JSON.stringify(type)} is not supported`, {
        code: 'UNSUPPORTED_TYPE',
        context: { column, type },
      });
  }
}

function nestedIdMetadata(nestedIds: NestedIds, path: string): Map<string, string> | undefined {
  return nestedIds === undefined ? undefined : idMetadata(nestedIds[path], path);
}

function structChildren(
  struct: StructType,
  parent: string | undefined,
  statsPath: readonly string[] | undefined,
  walk: Walk,
): TopLevelColumn[] {
  const where = parent ?? '<root>';
  if (!Array.isArray(struct.fields) || struct.fields.length === 0) {
    throw new ParquetEncodeError(`column '${where}': a struct needs at least one field (Parquet has no empty groups)`, {
      code: 'UNSUPPORTED_TYPE',
      context: { column: where, type: 'struct' },
    });
  }
  const seen = new Set<string>();
  return struct.fields.map((f: StructField) => {
    const column = parent === undefined ? f.name : `${parent}.${f.name}`;
    if (typeof f.name !== 'string' || f.name === '')
      throw schemaError(`struct '${where}' has a field without a name`, where);
    const lower = f.name.toLowerCase();
    if (seen.has(lower)) throw schemaError(`column '${column}' appears twice (names are case-insensitive)`, column);
    seen.add(lower);
    const metadata = f.metadata ?? {};
    const nestedIds = walk.fieldIds ? (metadata[NESTED_IDS_KEY] as NestedIds) : undefined;
    const builder = builderFor(
      f.type,
      column,
      f.nullable !== false,
      statsPath && [...statsPath, f.name],
      walk,
      nestedIds,
      f.name,
    );
    const ids = walk.fieldIds ? idMetadata(metadata[FIELD_ID_KEY], column) : undefined;
    return { name: f.name, field: new Field(f.name, builder.arrowType, f.nullable !== false, ids), builder };
  });
}

/** Builders and Arrow fields of the top-level columns of `schema`, in order. */
export function createColumns(schema: StructType, fieldIds: boolean, plan: StatsPlan): TopLevelColumn[] {
  return structChildren(schema, undefined, [], { fieldIds, plan });
}
