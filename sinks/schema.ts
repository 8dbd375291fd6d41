// The logical table schema shared by the Delta and Iceberg kernels and the Parquet encoder:
// Spark's StructType JSON, exactly as Delta stores it in metaData.schemaString (PROTOCOL.md "Schema Serialization Format").

/** Primitive type names. Decimals are written `decimal(p,s)` with 1 ≤ p ≤ 38, 0 ≤ s ≤ p. */
export type PrimitiveType =
  | 'string'
  | 'long'
  | 'integer'
  | 'short'
  | 'byte'
  | 'float'
  | 'double'
  | 'boolean'
  | 'binary'
  | 'date'
  | 'timestamp'
  | 'timestamp_ntz'
  | `decimal(${number},${number})`;

export interface StructField {
  name: string;
  type: DataType;
  nullable: boolean;
  metadata: Record<string, unknown>;
}

export interface StructType {
  type: 'struct';
  fields: StructField[];
}

export interface ArrayType {
  type: 'array';
  elementType: DataType;
  containsNull: boolean;
}

export interface MapType {
  type: 'map';
  keyType: DataType;
  valueType: DataType;
  valueContainsNull: boolean;
}

export type DataType = PrimitiveType | StructType | ArrayType | MapType;

/** Parses `decimal(p,s)` into its precision and scale, or returns undefined for other types. */
export function decimalParts(type: DataType): { precision: number; scale: number } | undefined {
  if (typeof type !== 'string') return undefined;
  const m = /^decimal\(\s*(\d+)\s*,\s*(\d+)\s*\)$/.exec(type);
  if (!m) return undefined;
  return { precision: Number(m[1]), scale: Number(m[2]) };
}
