// Unit tests of checkpoint reading: classic, multi-part and v2 (JSON/Parquet with sidecars) checkpoints
// of golden tables decode to the action counts their _last_checkpoint declares; corrupt input is refused.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCheckpointParquet, readCheckpoint } from '../../../sinks/delta/checkpoint-reader.js';
import { DeltaError } from '../../../sinks/delta/errors.js';
import { SIDECAR_DIR } from '../../../sinks/delta/log-path.js';
import { findLogSegment, readLastCheckpoint } from '../../../sinks/delta/log-segment.js';
import { LocalObjectStore } from '../../../storage/local.js';
import { GOLDEN_ROOT } from './golden-kit.js';
import { copyToMemory } from './log-fixtures.js';

const WITH_HINT = [
  'basic-with-inserts-deletes-checkpoint',
  'basic-with-inserts-overwrite-restore',
  'checkpoint',
  'multi-part-checkpoint',
  'v2-checkpoint-json',
  'v2-checkpoint-parquet',
  'spark-variant-checkpoint',
  'dv-partitioned-with-checkpoint',
];

async function rejection(promise: Promise<unknown>): Promise<DeltaError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DeltaError);
  return error as DeltaError;
}

describe('checkpoint-reader', () => {
  it.each(WITH_HINT)('%s: decodes as many actions and adds as _last_checkpoint declares', async (table) => {
    const dir = join(GOLDEN_ROOT, table);
    const store = new LocalObjectStore(dir);
    const hint = await readLastCheckpoint(store);
    const segment = await findLogSegment(store);
    expect(segment.checkpoint?.version).toBe(hint?.version);
    const actions = await readCheckpoint(store, segment.checkpoint?.files.map((f) => f.key) ?? []);
    let sidecars = 0;
    try {
      sidecars = readdirSync(join(dir, SIDECAR_DIR)).filter((name) => name.endsWith('.parquet')).length;
    } catch {
      // No sidecar folder.
    }
    // _last_checkpoint.size counts the sidecar actions that readCheckpoint replaces by their content.
    expect(actions.length + sidecars).toBe(hint?.size);
    expect(actions.filter((a) => 'add' in a)).toHaveLength(hint?.numOfAddFiles as number);
    expect(actions.some((a) => 'commitInfo' in a)).toBe(false);
    for (const action of actions) {
      if ('add' in action) {
        expect(typeof action.add.path).toBe('string');
        expect(typeof action.add.size).toBe('number');
        expect(action.add.partitionValues).toBeTypeOf('object');
      }
    }
  });

  it('reads partition values as a map with nulls and stats as text', async () => {
    const store = new LocalObjectStore(join(GOLDEN_ROOT, 'dv-partitioned-with-checkpoint'));
    const segment = await findLogSegment(store);
    const actions = await readCheckpoint(store, segment.checkpoint?.files.map((f) => f.key) ?? []);
    const add = actions.find((a) => 'add' in a);
    expect(add && 'add' in add && Object.keys(add.add.partitionValues)).toEqual(['part']);
    expect(add && 'add' in add && JSON.parse(add.add.stats as string)).toHaveProperty('numRecords');
  });

  it('refuses bytes that are not Parquet', async () => {
    const error = await rejection(parseCheckpointParquet(new Uint8Array([1, 2, 3]), 'cp.parquet'));
    expect(error.code).toBe('LOG_CORRUPT');
    expect(error.context).toMatchObject({ file: 'cp.parquet' });
  });

  it('refuses a v2 checkpoint whose sidecar is missing', async () => {
    const store = await copyToMemory(join(GOLDEN_ROOT, 'v2-checkpoint-parquet'));
    const segment = await findLogSegment(store);
    for await (const meta of store.list({ prefix: SIDECAR_DIR })) {
      await store.delete(meta.key);
      break;
    }
    const error = await rejection(readCheckpoint(store, segment.checkpoint?.files.map((f) => f.key) ?? []));
    expect(error.code).toBe('LOG_CORRUPT');
    expect(String(error.context.file)).toContain(SIDECAR_DIR);
  });
});
