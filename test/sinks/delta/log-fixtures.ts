// Builders for reader unit tests: small Delta logs written as NDJSON into an ObjectStore, and copies of
// golden tables into a MemoryObjectStore so a test can delete or corrupt files without touching fixtures.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { AddAction, MetadataAction, ProtocolAction, RemoveAction } from '../../../sinks/delta/actions.js';
import { commitPath } from '../../../sinks/delta/log-path.js';
import type { StructType } from '../../../sinks/schema.js';
import { MemoryObjectStore } from '../../../storage/memory.js';
import type { ObjectStore } from '../../../storage/object-store.js';

export const SCHEMA: StructType = {
  type: 'struct',
  fields: [
    { name: 'id', type: 'long', nullable: true, metadata: {} },
    { name: 'part', type: 'string', nullable: true, metadata: {} },
  ],
};

export function protocol(overrides: Partial<ProtocolAction> = {}): { protocol: ProtocolAction } {
  return { protocol: { minReaderVersion: 1, minWriterVersion: 2, ...overrides } };
}

export function metaData(overrides: Partial<MetadataAction> = {}): { metaData: MetadataAction } {
  return {
    metaData: {
      id: 'table-id',
      format: { provider: 'parquet', options: {} },
      schemaString: JSON.stringify(SCHEMA),
      partitionColumns: [],
      configuration: {},
      createdTime: 1,
      ...overrides,
    },
  };
}

export function add(path: string, overrides: Partial<AddAction> = {}): { add: AddAction } {
  return { add: { path, partitionValues: {}, size: 1, modificationTime: 1, dataChange: true, ...overrides } };
}

export function remove(path: string, overrides: Partial<RemoveAction> = {}): { remove: RemoveAction } {
  return { remove: { path, deletionTimestamp: 2, dataChange: true, ...overrides } };
}

export function txn(appId: string, version: number): { txn: { appId: string; version: number; lastUpdated: number } } {
  return { txn: { appId, version, lastUpdated: 1 } };
}

export function commitInfo(timestamp: number, extra: Record<string, unknown> = {}) {
  return { commitInfo: { timestamp, operation: 'WRITE', ...extra } };
}

/** NDJSON text of actions (one per line, trailing newline). */
export function ndjson(actions: readonly unknown[]): string {
  return actions.map((a) => `${JSON.stringify(a)}\n`).join('');
}

/** Writes `_delta_log/<version>.json`. */
export async function writeCommit(store: ObjectStore, version: number, actions: readonly unknown[]): Promise<void> {
  await store.put(commitPath(version), new TextEncoder().encode(ndjson(actions)));
}

/** A MemoryObjectStore holding a copy of every file of a folder (e.g. a golden table). */
export async function copyToMemory(dir: string, options: { now?: () => number } = {}): Promise<MemoryObjectStore> {
  const store = new MemoryObjectStore(dir, options.now ? { now: options.now } : {});
  const walk = async (folder: string) => {
    for (const entry of readdirSync(folder)) {
      const path = join(folder, entry);
      if (statSync(path).isDirectory()) await walk(path);
      else if (!entry.endsWith('.crc')) await store.put(relative(dir, path), readFileSync(path));
    }
  };
  await walk(dir);
  return store;
}
