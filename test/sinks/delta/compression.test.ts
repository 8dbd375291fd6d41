// The codec of a Delta write: explicit option > delta.parquet.compression.codec > snappy; the codec
// named in the file name is the one pyarrow finds in every column chunk.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasCode } from '../../../common/errors.js';
import {
  COMPRESSION_PROPERTY,
  compressionFromProperties,
  DEFAULT_COMPRESSION,
  writeCompression,
} from '../../../sinks/delta/compression.js';
import { readCommit } from '../../../sinks/delta/load-snapshot.js';
import { DeltaTable } from '../../../sinks/delta/table.js';
import type { StructType } from '../../../sinks/schema.js';
import { MemoryObjectStore } from '../../../storage/memory.js';
import { pythonReaders } from '../../kit/capabilities.js';
import { requireCapability } from '../../kit/capability.js';
import { PythonSession } from '../../kit/python.js';
import { readBack } from '../parquet/read-back.js';

const cap = await requireCapability(pythonReaders);

const SCHEMA: StructType = {
  type: 'struct',
  fields: [
    { name: 'id', type: 'long', nullable: false, metadata: {} },
    { name: 'name', type: 'string', nullable: true, metadata: {} },
  ],
};
const ROWS = Array.from({ length: 300 }, (_, i) => ({ id: BigInt(i), name: `name-${i % 7}` }));

describe('compressionFromProperties / writeCompression', () => {
  it('defaults to snappy, as Spark, delta-rs and kafka-delta-ingest do', () => {
    expect(DEFAULT_COMPRESSION).toBe('snappy');
    expect(compressionFromProperties({})).toBeUndefined();
    expect(writeCompression(undefined, {})).toBe('snappy');
  });

  it.each([
    ['zstd', 'zstd'],
    ['ZSTD', 'zstd'],
    [' snappy ', 'snappy'],
    ['uncompressed', 'uncompressed'],
    ['none', 'uncompressed'],
  ] as const)('reads %j as %s', (value, codec) => {
    expect(compressionFromProperties({ [COMPRESSION_PROPERTY]: value })).toBe(codec);
    expect(writeCompression(undefined, { [COMPRESSION_PROPERTY]: value })).toBe(codec);
  });

  it('lets an explicit option win over the table property', () => {
    expect(writeCompression('uncompressed', { [COMPRESSION_PROPERTY]: 'zstd' })).toBe('uncompressed');
  });

  it('refuses a codec it cannot write, naming the property and the value', () => {
    let error: unknown;
    try {
      compressionFromProperties({ [COMPRESSION_PROPERTY]: 'lzo' });
    } catch (e) {
      error = e;
    }
    expect(hasCode(error, 'INVALID_ARGUMENT')).toBe(true);
    expect((error as Error).message).toContain(`${COMPRESSION_PROPERTY}="lzo"`);
    expect((error as Error).message).toContain('zstd, snappy, uncompressed');
  });

  it('refuses to create a table whose codec property it could not honour', async () => {
    const create = DeltaTable.create(new MemoryObjectStore(), {
      schema: SCHEMA,
      properties: { [COMPRESSION_PROPERTY]: 'brotli' },
    });
    await expect(create).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});

describe.skipIf(!cap.available)('Delta writes: the codec in the files (read back with pyarrow)', () => {
  let py: PythonSession;
  beforeAll(() => {
    py = new PythonSession();
  });
  afterAll(async () => {
    await py?.close();
  });

  /** Appends ROWS and returns the new file's name and the codecs pyarrow reports for its chunks. */
  async function appendAndInspect(
    properties: Record<string, string>,
    option?: 'zstd' | 'snappy' | 'uncompressed',
  ): Promise<{ path: string; codecs: string[] }> {
    const store = new MemoryObjectStore();
    const table = await DeltaTable.create(store, { schema: SCHEMA, properties });
    const outcome = await table.append(ROWS, option === undefined ? {} : { compression: option });
    expect(outcome).toMatchObject({ kind: 'committed', version: 1, numRows: ROWS.length });
    const add = ((await readCommit(store, 1)) ?? []).find((a) => 'add' in a) as unknown as { add: { path: string } };
    const bytes = await store.get(add.add.path);
    const file = await readBack(py, bytes);
    expect(file.numRows).toBe(ROWS.length);
    return { path: add.add.path, codecs: [...new Set(file.columns.flatMap((c) => c.compression))] };
  }

  it('writes snappy by default', async () => {
    const { path, codecs } = await appendAndInspect({});
    expect(path).toMatch(/-c000\.snappy\.parquet$/);
    expect(codecs).toEqual(['SNAPPY']);
  });

  it('honours delta.parquet.compression.codec', async () => {
    const { path, codecs } = await appendAndInspect({ [COMPRESSION_PROPERTY]: 'zstd' });
    expect(path).toMatch(/-c000\.zstd\.parquet$/);
    expect(codecs).toEqual(['ZSTD']);
  });

  it('lets the write option win over the property', async () => {
    const { path, codecs } = await appendAndInspect({ [COMPRESSION_PROPERTY]: 'zstd' }, 'uncompressed');
    expect(path).toMatch(/-c000\.parquet$/);
    expect(codecs).toEqual(['UNCOMPRESSED']);
  });
});
