// Reading checkpoints (PROTOCOL.md "Checkpoints", "Checkpoint Schema", "V2 Checkpoint Table Feature"):
// classic and multi-part Parquet checkpoints, and UUID-named v2 checkpoints (JSON or Parquet) with their
// sidecar files, decoded into the same Action objects as commit files.
import type { ObjectStore } from '../../storage/object-store.js';
import { ParquetReadError, type ParquetValue, readParquetColumns } from '../parquet/reader.js';
import type { Action } from './actions.js';
import { DeltaError } from './errors.js';
import { parseActions, validateAction } from './log-codec.js';
import { sidecarPath } from './log-path.js';

/** The action columns read from a checkpoint; `*_parsed` columns are never read. */
const CHECKPOINT_COLUMNS = [
  'txn',
  'add.path',
  'add.partitionValues',
  'add.size',
  'add.modificationTime',
  'add.dataChange',
  'add.stats',
  'add.tags',
  'add.deletionVector',
  'add.baseRowId',
  'add.defaultRowCommitVersion',
  'add.clusteringProvider',
  'remove.path',
  'remove.deletionTimestamp',
  'remove.dataChange',
  'remove.extendedFileMetadata',
  'remove.partitionValues',
  'remove.size',
  'remove.stats',
  'remove.tags',
  'remove.deletionVector',
  'remove.baseRowId',
  'remove.defaultRowCommitVersion',
  'metaData',
  'protocol',
  'domainMetadata',
  'checkpointMetadata',
  'sidecar',
];

const ACTION_KINDS = new Set(CHECKPOINT_COLUMNS.map((c) => c.split('.')[0] as string));

/** Converts a Parquet value into JSON-like data: Map → object, bigint → number, nulls dropped from structs. */
function toJsonLike(value: ParquetValue, file: string): unknown {
  if (value === null) return null;
  if (typeof value === 'bigint') {
    const n = Number(value);
    if (!Number.isSafeInteger(n)) {
      throw new DeltaError(`checkpoint ${file} holds an integer beyond 2^53: ${value}`, {
        code: 'LOG_CORRUPT',
        context: { file },
      });
    }
    return n;
  }
  if (Array.isArray(value)) return value.map((v) => toJsonLike(v, file));
  if (value instanceof Map) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of value) out[String(k)] = toJsonLike(v, file);
    return out;
  }
  if (value instanceof Uint8Array) return value;
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (v !== null) out[k] = toJsonLike(v, file);
    }
    return out;
  }
  return value;
}

/** Decodes the rows of one Parquet checkpoint (or sidecar) file into actions. */
export async function parseCheckpointParquet(bytes: Uint8Array, file: string): Promise<Action[]> {
  let data: Awaited<ReturnType<typeof readParquetColumns>>;
  try {
    data = await readParquetColumns(bytes, { columns: CHECKPOINT_COLUMNS });
  } catch (cause) {
    if (!(cause instanceof ParquetReadError)) throw cause;
    throw new DeltaError(`checkpoint ${file} is not readable: ${cause.message}`, {
      code: 'LOG_CORRUPT',
      cause,
      context: { file },
    });
  }
  const actions: Action[] = [];
  const kinds = data.fields.map((f) => f.name).filter((name) => ACTION_KINDS.has(name));
  for (let row = 0; row < data.numRows; row++) {
    let found: Action | undefined;
    for (const kind of kinds) {
      const column = data.columns[data.fields.findIndex((f) => f.name === kind)] as ParquetValue[];
      const value = column[row];
      if (value === null || value === undefined) continue;
      if (found) {
        throw new DeltaError(`checkpoint ${file} row ${row} holds more than one action`, {
          code: 'LOG_CORRUPT',
          context: { file, row },
        });
      }
      try {
        found = validateAction({ [kind]: toJsonLike(value, file) });
      } catch (cause) {
        if (cause instanceof DeltaError) throw cause;
        throw new DeltaError(`corrupt checkpoint ${file}, row ${row}: ${(cause as Error).message}`, {
          code: 'LOG_CORRUPT',
          cause,
          context: { file, row },
        });
      }
    }
    if (found) actions.push(found);
  }
  return actions;
}

async function getLogFile(store: ObjectStore, key: string): Promise<Uint8Array> {
  try {
    return await store.get(key);
  } catch (cause) {
    if ((cause as { code?: string }).code === 'OBJECT_NOT_FOUND') {
      throw new DeltaError(`checkpoint file ${key} is missing`, { code: 'LOG_CORRUPT', cause, context: { file: key } });
    }
    throw cause;
  }
}

/**
 * Reads every action of a checkpoint made of `keys` (one classic file, the parts of a multi-part
 * checkpoint in any order, or one UUID-named v2 checkpoint). Sidecar files referenced by `sidecar`
 * actions are read too and replace those actions. The result holds no commitInfo.
 */
export async function readCheckpoint(store: ObjectStore, keys: readonly string[]): Promise<Action[]> {
  const parts = await Promise.all(
    keys.map(async (key) => {
      const bytes = await getLogFile(store, key);
      return key.endsWith('.json')
        ? parseActions(new TextDecoder().decode(bytes), key)
        : parseCheckpointParquet(bytes, key);
    }),
  );
  const actions: Action[] = [];
  const sidecars: string[] = [];
  for (const part of parts) {
    for (const action of part) {
      if ('sidecar' in action) sidecars.push(sidecarPath(String(action.sidecar.path)));
      else actions.push(action);
    }
  }
  const fromSidecars = await Promise.all(
    sidecars.map(async (key) => parseCheckpointParquet(await getLogFile(store, key), key)),
  );
  for (const sidecarActions of fromSidecars) actions.push(...sidecarActions);
  return actions;
}
