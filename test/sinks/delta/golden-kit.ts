// Helpers of the golden-table interop test: find the tables, read one with lakestream, and put rows in
// the canonical JSON form golden-oracle.py produces from delta-rs (so the two can be compared exactly).
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { latestVersion, loadSnapshot } from '../../../sinks/delta/load-snapshot.js';
import { dataFileKey, scanRows } from '../../../sinks/delta/scan.js';
import type { DeltaSnapshot } from '../../../sinks/delta/snapshot.js';
import type { DeltaValue, Row } from '../../../sinks/delta/values.js';
import type { DataType } from '../../../sinks/schema.js';
import { decimalParts } from '../../../sinks/schema.js';
import { LocalObjectStore } from '../../../storage/local.js';

export const GOLDEN_ROOT = process.env.LAKESTREAM_DELTA_GOLDEN ?? '/work/shared/fixtures/delta-golden';

/** Every table under `root`: a folder holding `_delta_log/`, named by its path relative to root. */
export function findTables(root: string = GOLDEN_ROOT): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    const entries = readdirSync(dir);
    if (entries.includes('_delta_log') && statSync(join(dir, '_delta_log')).isDirectory()) {
      out.push(relative(root, dir));
      return;
    }
    for (const entry of entries) {
      const path = join(dir, entry);
      if (!entry.startsWith('.') && statSync(path).isDirectory()) walk(path);
    }
  };
  walk(root);
  return out.sort();
}

/** The versions whose commit file exists, from the log folder listing (independent of lakestream). */
export function commitVersions(tablePath: string): number[] {
  return readdirSync(join(tablePath, '_delta_log'))
    .filter((name) => /^\d{20}\.json$/.test(name))
    .map((name) => Number(name.slice(0, 20)))
    .sort((a, b) => a - b);
}

/** A canonical JSON value: see golden-oracle.py. */
export type Canon = null | boolean | number | string | Canon[] | { [key: string]: Canon };

/** lakestream value → the canonical form golden-oracle.py gives delta-rs's value of the same type. */
export function canon(value: DeltaValue, type: DataType): Canon {
  if (value === null) return null;
  if (typeof type === 'object') {
    if (type.type === 'struct') {
      const source = value as Record<string, DeltaValue>;
      return Object.fromEntries(type.fields.map((f) => [f.name, canon(source[f.name] ?? null, f.type)]));
    }
    if (type.type === 'array') return (value as DeltaValue[]).map((v) => canon(v, type.elementType));
    const entries = [...(value as Map<DeltaValue, DeltaValue>)];
    return { $map: entries.map(([k, v]) => [canon(k, type.keyType), canon(v, type.valueType)]) };
  }
  switch (type) {
    case 'byte':
    case 'short':
    case 'integer':
    case 'long':
      return String(value);
    case 'float':
    case 'double': {
      const n = value as number;
      if (Number.isNaN(n)) return { $float: 'nan' };
      if (!Number.isFinite(n)) return { $float: n > 0 ? 'inf' : '-inf' };
      return n;
    }
    case 'timestamp':
    case 'timestamp_ntz':
      return { $ts: String(value) };
    case 'binary':
      return { $binary: Buffer.from(value as Uint8Array).toString('base64') };
    case 'boolean':
    case 'string':
    case 'date':
      return value as string | boolean;
    default:
      if (decimalParts(type)) return { $decimal: value as string };
      return { $unknown: type, value: String(value) };
  }
}

/** JSON text with object keys sorted, so equal values have equal text. */
export function stableJson(value: Canon): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${stableJson(value[k] as Canon)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Canonical rows sorted by their stable JSON text. */
export function sortRows(rows: Canon[]): string[] {
  return rows.map(stableJson).sort();
}

/** A failure, by DeltaError/StorageError code (and feature for UNSUPPORTED_FEATURE). */
export interface Failure {
  ok: false;
  code: string;
  feature?: string;
  message: string;
}

/** Rows as sorted canonical texts, or (above DIGEST_ABOVE rows) their count and SHA-256 digest. */
export type RowsResult = { ok: true; rows: string[] } | { ok: true; count: number; digest: string } | Failure;

/** Outcome of reading one table version with lakestream. */
export interface OurRead {
  snapshot: { ok: true; version: number; files: string[] } | Failure;
  rows: RowsResult;
}

/** Same threshold as golden-oracle.py. */
export const DIGEST_ABOVE = 20000;

function failure(error: unknown): Failure {
  const e = error as { code?: string; context?: { feature?: string }; message?: string };
  return {
    ok: false,
    code: e.code ?? 'UNKNOWN',
    ...(e.context?.feature ? { feature: e.context.feature } : {}),
    message: String(e.message),
  };
}

/** Reads `table` at `version` (latest when undefined) with lakestream and canonicalizes its rows. */
export async function readWithLakestream(tablePath: string, version?: number): Promise<OurRead> {
  const store = new LocalObjectStore(tablePath);
  let snapshot: DeltaSnapshot;
  try {
    snapshot = await loadSnapshot(store, version === undefined ? {} : { version });
  } catch (error) {
    return { snapshot: failure(error), rows: failure(error) };
  }
  const files = snapshot.files.map((f) => dataFileKey(f.path, store.location)).sort();
  try {
    const rows: Row[] = await scanRows(store, snapshot);
    const types = new Map(snapshot.schema.fields.map((f) => [f.name, f.type]));
    const texts: string[] = [];
    for (const row of rows) {
      const canonical = Object.fromEntries(
        Object.entries(row).map(([k, v]) => [k, canon(v, types.get(k) as DataType)]),
      );
      texts.push(stableJson(canonical));
    }
    texts.sort();
    const result: RowsResult =
      texts.length > DIGEST_ABOVE
        ? { ok: true, count: texts.length, digest: createHash('sha256').update(texts.join('\n')).digest('hex') }
        : { ok: true, rows: texts };
    return { snapshot: { ok: true, version: snapshot.version, files }, rows: result };
  } catch (error) {
    return { snapshot: { ok: true, version: snapshot.version, files }, rows: failure(error) };
  }
}

/** The latest version lakestream sees, or undefined. */
export async function ourLatestVersion(tablePath: string): Promise<number | undefined> {
  return latestVersion(new LocalObjectStore(tablePath));
}

/** The Python oracle source (golden-oracle.py next to this file). */
export function oracleSource(): string {
  return readFileSync(new URL('./golden-oracle.py', import.meta.url), 'utf8');
}
