// Renders table rows for the CLI: JSON Lines (typed: timestamps as ISO-8601 UTC, decimals and longs
// as exact JSON numbers, binary as base64) or an aligned text table.
import type { DataType, StructType } from '../sinks/schema.js';

type Value = unknown;

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/** Microseconds since the epoch → '2024-01-02T03:04:05.123456Z'. */
export function isoMicros(micros: bigint): string {
  const ms = Number(micros / 1000n) - (micros % 1000n < 0n ? 1 : 0);
  const d = new Date(ms);
  const us = ((micros % 1_000_000n) + 1_000_000n) % 1_000_000n;
  return (
    `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}T` +
    `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}.${String(us).padStart(6, '0')}Z`
  );
}

/** JSON text of one value of `type`; exact for longs and decimals (written as JSON numbers). */
export function jsonText(value: Value, type: DataType): string {
  if (value === null || value === undefined) return 'null';
  if (typeof type === 'string') {
    if (type === 'timestamp' || type === 'timestamp_ntz') return JSON.stringify(isoMicros(value as bigint));
    if (type.startsWith('decimal')) return String(value);
    if (type === 'binary') return JSON.stringify(Buffer.from(value as Uint8Array).toString('base64'));
    if (typeof value === 'bigint') return value.toString();
    if (typeof value === 'number' && !Number.isFinite(value)) return JSON.stringify(String(value));
    return JSON.stringify(value);
  }
  if (type.type === 'array') {
    return `[${(value as Value[]).map((v) => jsonText(v, type.elementType)).join(',')}]`;
  }
  if (type.type === 'map') {
    const entries = value instanceof Map ? [...value.entries()] : Object.entries(value as object);
    return `{${entries.map(([k, v]) => `${JSON.stringify(String(k))}:${jsonText(v, type.valueType)}`).join(',')}}`;
  }
  const obj = value as Record<string, Value>;
  return `{${type.fields.map((f) => `${JSON.stringify(f.name)}:${jsonText(obj[f.name], f.type)}`).join(',')}}`;
}

/** One JSON line per row, fields in schema order. */
export function toJsonLines(rows: readonly Record<string, Value>[], schema: StructType): string[] {
  return rows.map((row) => jsonText(row, schema));
}

/** An aligned text table with a header and a row count line. */
export function toTextTable(rows: readonly Record<string, Value>[], schema: StructType): string[] {
  const names = schema.fields.map((f) => f.name);
  const cells = rows.map((row) =>
    schema.fields.map((f) => {
      const v = row[f.name];
      if (v === null || v === undefined) return 'null';
      const text = jsonText(v, f.type);
      return typeof f.type === 'string' && text.startsWith('"') ? (JSON.parse(text) as string) : text;
    }),
  );
  const widths = names.map((n, i) => Math.min(60, Math.max(n.length, ...cells.map((c) => (c[i] ?? '').length))));
  const fmt = (cols: string[]) =>
    cols
      .map((c, i) => (c.length > (widths[i] ?? 0) ? `${c.slice(0, (widths[i] ?? 1) - 1)}…` : c.padEnd(widths[i] ?? 0)))
      .join(' | ');
  const lines = [fmt(names), widths.map((w) => '-'.repeat(w)).join('-+-')];
  for (const c of cells) lines.push(fmt(c));
  lines.push(`(${rows.length} row${rows.length === 1 ? '' : 's'})`);
  return lines;
}
