// Test helper: reads a Parquet file written by encodeRows back with pyarrow (through PythonSession)
// and reports its Parquet schema, column chunk metadata, Arrow schema, field ids and rows as JSON.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PythonSession } from '../../kit/python.js';

export interface ParquetColumnInfo {
  /** Dotted Parquet column path, e.g. 'arr.list.element'. */
  path: string;
  physical: string;
  /** pyarrow's logical type text, e.g. 'Timestamp(isAdjustedToUTC=true, timeUnit=microseconds, …)'. */
  logical: string;
  maxDefinitionLevel: number;
  maxRepetitionLevel: number;
  /** Per row group: codec name as pyarrow reports it ('ZSTD', 'SNAPPY', 'UNCOMPRESSED'). */
  compression: string[];
  hasDictionary: boolean[];
  /** Footer statistics of the first row group, as strings (pyarrow's min/max repr). */
  statsNullCount: number | null;
}

export interface ParquetReadBack {
  numRows: number;
  numRowGroups: number;
  createdBy: string;
  /** Top-level field name → pyarrow type text, e.g. 'timestamp[us, tz=UTC]'. */
  arrowTypes: Record<string, string>;
  /** Top-level field name → nullable. */
  arrowNullable: Record<string, boolean>;
  /** Arrow field path (dotted, nested members as 'element', 'key', 'value') → PARQUET:field_id. */
  fieldIds: Record<string, number>;
  columns: ParquetColumnInfo[];
  /**
   * Rows as pyarrow returns them, converted by python_worker.to_json (timestamps as UTC ISO strings
   * with µs, dates 'YYYY-MM-DD', {$decimal}, {$binary} base64, {$float} for NaN/±inf, maps as
   * [key, value] pairs) and integers beyond 2^53 as {$int: '…'}.
   */
  rows: Record<string, unknown>[];
}

const READ_BACK = `
import pyarrow as pa
import pyarrow.parquet as pq

f = pq.ParquetFile(args["path"])
md = f.metadata
columns = []
for i in range(md.num_columns):
    c = f.schema.column(i)
    chunks = [md.row_group(g).column(i) for g in range(md.num_row_groups)]
    st = chunks[0].statistics if chunks and chunks[0].is_stats_set else None
    columns.append({
        "path": c.path,
        "physical": c.physical_type,
        "logical": str(c.logical_type),
        "maxDefinitionLevel": c.max_definition_level,
        "maxRepetitionLevel": c.max_repetition_level,
        "compression": [ch.compression for ch in chunks],
        "hasDictionary": [ch.has_dictionary_page for ch in chunks],
        "statsNullCount": st.null_count if st is not None else None,
    })

field_ids = {}
def walk(field, path):
    meta = field.metadata or {}
    if b"PARQUET:field_id" in meta:
        field_ids[path] = int(meta[b"PARQUET:field_id"])
    t = field.type
    if pa.types.is_struct(t):
        for j in range(t.num_fields):
            walk(t.field(j), path + "." + t.field(j).name)
    elif pa.types.is_map(t):
        walk(t.key_field, path + ".key")
        walk(t.item_field, path + ".value")
    elif pa.types.is_list(t) or pa.types.is_large_list(t):
        walk(t.value_field, path + ".element")

schema = f.schema_arrow
for field in schema:
    walk(field, field.name)

def exact_ints(v):
    # JSON numbers above 2^53 would lose digits in JS: send them as {"$int": "..."}.
    if isinstance(v, bool):
        return v
    if isinstance(v, int) and abs(v) > 2**53:
        return {"$int": str(v)}
    if isinstance(v, dict):
        return {k: exact_ints(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [exact_ints(x) for x in v]
    return v

table = f.read()
result = {
    "numRows": md.num_rows,
    "numRowGroups": md.num_row_groups,
    "createdBy": md.created_by,
    "arrowTypes": {field.name: str(field.type) for field in schema},
    "arrowNullable": {field.name: field.nullable for field in schema},
    "fieldIds": field_ids,
    "columns": columns,
    "rows": exact_ints(table.to_pylist()),
}
`;

/** Writes `bytes` to a temporary file and reads it back with pyarrow. */
export async function readBack(py: PythonSession, bytes: Uint8Array): Promise<ParquetReadBack> {
  const dir = mkdtempSync(join(tmpdir(), 'lakestream-parquet-'));
  const path = join(dir, 'file.parquet');
  try {
    writeFileSync(path, bytes);
    return await py.run<ParquetReadBack>(READ_BACK, { path });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The column chunk info of Parquet column `path` (throws when absent, listing what exists). */
export function column(back: ParquetReadBack, path: string): ParquetColumnInfo {
  const found = back.columns.find((c) => c.path === path);
  if (!found) throw new Error(`no Parquet column ${path}; have ${back.columns.map((c) => c.path).join(', ')}`);
  return found;
}
