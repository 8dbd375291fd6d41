// Classic V1 checkpoints (PROTOCOL.md "Checkpoints", "Checkpoint Schema"): one Parquet file
// <v>.checkpoint.parquet with the snapshot's protocol, metaData, txns, live adds and unexpired removes,
// then `_last_checkpoint` with its MD5 checksum ("JSON checksum"). Written through the ObjectStore.
import { createHash } from 'node:crypto';
import type { ObjectStore } from '../../storage/object-store.js';
import { encodeRows } from '../parquet/index.js';
import type { DataType, StructField, StructType } from '../schema.js';
import { DeltaError } from './errors.js';
import { parseIntervalMs, RETENTION_DEFAULTS } from './log-cleanup.js';
import { checkpointPath, LAST_CHECKPOINT_KEY } from './log-path.js';
import { readLastCheckpoint } from './log-segment.js';
import { stateOf } from './replay.js';
import type { DeltaSnapshot } from './snapshot.js';

const field = (name: string, type: DataType, nullable = true): StructField => ({ name, type, nullable, metadata: {} });
const stringMap: DataType = { type: 'map', keyType: 'string', valueType: 'string', valueContainsNull: true };
const stringArray: DataType = { type: 'array', elementType: 'string', containsNull: true };

/** The Parquet schema of a V1 checkpoint written by lakestream (stats as JSON strings, no *_parsed). */
export const CHECKPOINT_SCHEMA: StructType = {
  type: 'struct',
  fields: [
    field('txn', {
      type: 'struct',
      fields: [field('appId', 'string'), field('version', 'long'), field('lastUpdated', 'long')],
    }),
    field('add', {
      type: 'struct',
      fields: [
        field('path', 'string'),
        field('partitionValues', stringMap),
        field('size', 'long'),
        field('modificationTime', 'long'),
        field('dataChange', 'boolean'),
        field('stats', 'string'),
        field('tags', stringMap),
      ],
    }),
    field('remove', {
      type: 'struct',
      fields: [
        field('path', 'string'),
        field('deletionTimestamp', 'long'),
        field('dataChange', 'boolean'),
        field('extendedFileMetadata', 'boolean'),
        field('partitionValues', stringMap),
        field('size', 'long'),
      ],
    }),
    field('metaData', {
      type: 'struct',
      fields: [
        field('id', 'string'),
        field('name', 'string'),
        field('description', 'string'),
        field('format', { type: 'struct', fields: [field('provider', 'string'), field('options', stringMap)] }),
        field('schemaString', 'string'),
        field('partitionColumns', stringArray),
        field('createdTime', 'long'),
        field('configuration', stringMap),
      ],
    }),
    field('protocol', {
      type: 'struct',
      fields: [
        field('minReaderVersion', 'integer'),
        field('minWriterVersion', 'integer'),
        field('readerFeatures', stringArray),
        field('writerFeatures', stringArray),
      ],
    }),
  ],
};

/** The content of `_last_checkpoint` lakestream writes. */
export interface LastCheckpointInfo {
  version: number;
  /** Number of actions (rows) in the checkpoint. */
  size: number;
  sizeInBytes: number;
  numOfAddFiles: number;
  checksum: string;
}

export interface CheckpointOptions {
  /** Clock deciding which tombstones and txns are expired (ms). Default Date.now. */
  now?: () => number;
}

/** Percent-encoding of the JSON checksum rules: everything but A-Z a-z 0-9 - . _ ~ as upper-case %XX of UTF-8. */
function checksumEncode(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-._~]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/**
 * The canonical form of a JSON value for the `_last_checkpoint` checksum (PROTOCOL.md "JSON
 * checksum"): `"path"+"segments"=value` pairs sorted by the UTF-8 bytes of their paths, the top-level
 * `checksum` key left out.
 */
export function canonicalizeJson(value: unknown): string {
  const pairs: { path: string; value: string }[] = [];
  const walk = (v: unknown, path: string[]) => {
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) walk(v[i], [...path, String(i)]);
    } else if (typeof v === 'object' && v !== null) {
      for (const [k, item] of Object.entries(v)) {
        if (path.length === 0 && k === 'checksum') continue;
        walk(item, [...path, `"${checksumEncode(k)}"`]);
      }
    } else {
      const text = typeof v === 'string' ? `"${checksumEncode(v)}"` : v === null ? 'null' : String(v);
      pairs.push({ path: path.join('+'), value: text });
    }
  };
  walk(value, []);
  pairs.sort((a, b) => Buffer.compare(Buffer.from(a.path, 'utf8'), Buffer.from(b.path, 'utf8')));
  return pairs.map((p) => `${p.path}=${p.value}`).join(',');
}

/** MD5 (hex) of the canonical JSON: the value of `_last_checkpoint.checksum`. */
export function jsonChecksum(value: unknown): string {
  return createHash('md5').update(canonicalizeJson(value), 'utf8').digest('hex');
}

/**
 * The checkpoint rows of a snapshot: protocol, metaData, unexpired txns, live adds and unexpired
 * tombstones (removes younger than delta.deletedFileRetentionDuration), with dataChange=false as
 * Spark writes them.
 */
export function checkpointRows(snapshot: DeltaSnapshot, now: number): Record<string, unknown>[] {
  const props = snapshot.properties;
  const tombstoneCutoff =
    now - parseIntervalMs(props['delta.deletedFileRetentionDuration'], RETENTION_DEFAULTS.deletedFileRetentionMs);
  const txnRetention = props['delta.setTransactionRetentionDuration'];
  const txnCutoff = txnRetention === undefined ? undefined : now - parseIntervalMs(txnRetention, 0);
  const { protocol, metadata } = snapshot;
  const rows: Record<string, unknown>[] = [
    {
      protocol: {
        minReaderVersion: protocol.minReaderVersion,
        minWriterVersion: protocol.minWriterVersion,
        readerFeatures: protocol.minReaderVersion >= 3 ? (protocol.readerFeatures ?? []) : null,
        writerFeatures: protocol.minWriterVersion >= 7 ? (protocol.writerFeatures ?? []) : null,
      },
    },
    {
      metaData: {
        id: metadata.id,
        name: metadata.name ?? null,
        description: metadata.description ?? null,
        format: { provider: metadata.format.provider, options: metadata.format.options ?? {} },
        schemaString: metadata.schemaString,
        partitionColumns: metadata.partitionColumns,
        createdTime: metadata.createdTime ?? null,
        configuration: metadata.configuration,
      },
    },
  ];
  for (const txn of stateOf(snapshot).txns.values()) {
    if (txnCutoff !== undefined && txn.lastUpdated !== undefined && txn.lastUpdated < txnCutoff) continue;
    rows.push({ txn: { appId: txn.appId, version: txn.version, lastUpdated: txn.lastUpdated ?? null } });
  }
  for (const add of snapshot.files) {
    rows.push({
      add: {
        path: add.path,
        partitionValues: add.partitionValues,
        size: add.size,
        modificationTime: add.modificationTime,
        dataChange: false,
        stats: add.stats ?? null,
        tags: add.tags ?? null,
      },
    });
  }
  for (const remove of snapshot.tombstones) {
    if ((remove.deletionTimestamp ?? 0) <= tombstoneCutoff) continue;
    rows.push({
      remove: {
        path: remove.path,
        deletionTimestamp: remove.deletionTimestamp ?? null,
        dataChange: false,
        extendedFileMetadata: remove.extendedFileMetadata ?? null,
        partitionValues: remove.partitionValues ?? null,
        size: remove.size ?? null,
      },
    });
  }
  return rows;
}

/**
 * Writes the classic checkpoint of `snapshot` and then `_last_checkpoint` (unless it already points
 * at a newer version). Safe to race: both writers produce equivalent files. Returns what was written.
 */
export async function writeCheckpoint(
  store: ObjectStore,
  snapshot: DeltaSnapshot,
  options: CheckpointOptions = {},
): Promise<LastCheckpointInfo> {
  const now = (options.now ?? Date.now)();
  const rows = checkpointRows(snapshot, now);
  let bytes: Uint8Array;
  try {
    bytes = encodeRows(CHECKPOINT_SCHEMA, rows, { compression: 'snappy', statsColumns: 0 }).bytes;
  } catch (cause) {
    throw new DeltaError(`cannot encode the checkpoint of version ${snapshot.version}: ${(cause as Error).message}`, {
      code: 'INVALID_DATA',
      cause,
      context: { version: snapshot.version },
    });
  }
  await store.put(checkpointPath(snapshot.version), bytes);
  const body = {
    version: snapshot.version,
    size: rows.length,
    sizeInBytes: bytes.byteLength,
    numOfAddFiles: snapshot.files.length,
  };
  const info: LastCheckpointInfo = { ...body, checksum: jsonChecksum(body) };
  const hint = await readLastCheckpoint(store);
  if (hint === undefined || hint.version <= snapshot.version) {
    await store.put(LAST_CHECKPOINT_KEY, new TextEncoder().encode(JSON.stringify(info)));
  }
  return info;
}
