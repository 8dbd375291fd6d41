// Unit tests of the Parquet reader: nested projection, case-insensitive names, absent columns, row counts,
// INT96/MILLIS/MICROS timestamps, decimals, dates, and errors on non-Parquet bytes.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  formatDate,
  formatDecimal,
  ParquetReadError,
  type ParquetValue,
  readParquetColumns,
  readParquetSchema,
  readParquetTable,
} from '../../../sinks/parquet/reader.js';
import { GOLDEN_ROOT } from '../delta/golden-kit.js';

const CHECKPOINT = join(
  GOLDEN_ROOT,
  'multi-part-checkpoint/_delta_log/00000000000000000001.checkpoint.0000000001.0000000002.parquet',
);

function dataFiles(table: string): string[] {
  const dir = join(GOLDEN_ROOT, table);
  return readdirSync(dir, { recursive: true })
    .map(String)
    .filter((name) => name.endsWith('.parquet') && !name.includes('_delta_log') && !name.endsWith('.crc'))
    .map((name) => join(dir, name));
}

async function rowsById(table: string): Promise<Map<ParquetValue, ParquetValue>> {
  const out = new Map<ParquetValue, ParquetValue>();
  for (const path of dataFiles(table)) {
    const data = await readParquetColumns(readFileSync(path), { columns: ['id', 'time'] });
    const ids = data.columns[data.fields.findIndex((f) => f.name === 'id')] ?? [];
    const times = data.columns[data.fields.findIndex((f) => f.name === 'time')] ?? [];
    for (const [i, id] of ids.entries()) out.set(id, times[i] ?? null);
  }
  return out;
}

describe('parquet reader', () => {
  it('projects nested paths and skips absent ones', async () => {
    const bytes = readFileSync(CHECKPOINT);
    const full = await readParquetColumns(bytes);
    const data = await readParquetColumns(bytes, { columns: ['add.path', 'protocol', 'nope', 'add.nope'] });
    expect(data.fields.map((f) => f.name)).toEqual(['add', 'protocol']);
    expect(data.fields[0]?.type).toEqual({
      kind: 'struct',
      fields: [{ name: 'path', type: { kind: 'string' }, nullable: true }],
    });
    const fullAdds = full.columns[full.fields.findIndex((f) => f.name === 'add')] as ParquetValue[];
    const paths = (data.columns[0] as ParquetValue[]).map((v) =>
      v === null ? null : (v as { path: ParquetValue }).path,
    );
    expect(paths).toEqual(fullAdds.map((v) => (v === null ? null : (v as { path: ParquetValue }).path)));
    expect(data.numRows).toBe(full.numRows);
  });

  it('matches names case-insensitively and spells them as the file does', async () => {
    const data = await readParquetColumns(readFileSync(CHECKPOINT), { columns: ['ADD.Path'] });
    expect(data.fields.map((f) => f.name)).toEqual(['add']);
  });

  it('counts rows when no requested column exists', async () => {
    const bytes = readFileSync(CHECKPOINT);
    const none = await readParquetColumns(bytes, { columns: ['nope'] });
    expect(none.fields).toEqual([]);
    expect(none.numRows).toBe((await readParquetTable(bytes)).numRows);
    expect(none.numRows).toBeGreaterThan(0);
  });

  it('decodes maps, lists and bigint longs', async () => {
    const data = await readParquetColumns(readFileSync(CHECKPOINT), { columns: ['metaData'] });
    const meta = (data.columns[0] as ParquetValue[]).find((v) => v !== null) as Record<string, ParquetValue>;
    expect(meta.configuration).toBeInstanceOf(Map);
    expect(Array.isArray(meta.partitionColumns)).toBe(true);
    expect(typeof meta.createdTime).toBe('bigint');
  });

  it('reads INT96, TIMESTAMP_MILLIS and TIMESTAMP_MICROS to the same microseconds', async () => {
    const int96 = await rowsById('kernel-timestamp-INT96');
    const micros = await rowsById('kernel-timestamp-TIMESTAMP_MICROS');
    const millis = await rowsById('kernel-timestamp-TIMESTAMP_MILLIS');
    expect(int96.size).toBeGreaterThan(0);
    expect(int96).toEqual(micros);
    expect(millis).toEqual(micros);
    for (const value of micros.values()) expect(value === null || typeof value === 'bigint').toBe(true);
  });

  it('formats decimals with exactly their scale', async () => {
    const [path] = dataFiles('decimal-various-scale-precision');
    const data = await readParquetColumns(readFileSync(path as string));
    expect(data.fields.length).toBeGreaterThan(10);
    data.fields.forEach((field, index) => {
      if (field.type.kind !== 'decimal') return;
      const scale = field.type.scale;
      for (const value of data.columns[index] ?? []) {
        if (value === null) continue;
        expect(value).toMatch(scale === 0 ? /^-?\d+$/ : new RegExp(`^-?\\d+\\.\\d{${scale}}$`));
      }
    });
    expect(formatDecimal(-5n, 3)).toBe('-0.005');
    expect(formatDecimal(123n, 0)).toBe('123');
  });

  it('formats dates as YYYY-MM-DD', () => {
    expect(formatDate(0)).toBe('1970-01-01');
    expect(formatDate(-1)).toBe('1969-12-31');
    expect(formatDate(-719162)).toBe('0001-01-01');
  });

  it('describes a file schema without reading data', async () => {
    const fields = await readParquetSchema(readFileSync(CHECKPOINT));
    expect(fields.map((f) => f.name)).toContain('add');
  });

  it('throws ParquetReadError for bytes that are not Parquet', async () => {
    await expect(readParquetColumns(new TextEncoder().encode('not parquet at all'))).rejects.toBeInstanceOf(
      ParquetReadError,
    );
  });
});
