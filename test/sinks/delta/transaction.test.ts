// Tests of sinks/delta/transaction.ts: partition grouping, the engine version, the writer feature gate
// (invariants, unsupported protocols), commit-once, and the metrics and actions a commit writes.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AddAction } from '../../../sinks/delta/actions.js';
import { loadSnapshot, readCommit } from '../../../sinks/delta/load-snapshot.js';
import { DeltaTable } from '../../../sinks/delta/table.js';
import { DeltaTransaction, dataSchemaOf, ENGINE_VERSION, groupByPartition } from '../../../sinks/delta/transaction.js';
import type { StructType } from '../../../sinks/schema.js';
import { MemoryObjectStore } from '../../../storage/memory.js';
import { PROJECT_ROOT } from '../../kit/paths.js';

const f = (name: string, type: StructType['fields'][number]['type']) => ({ name, type, nullable: true, metadata: {} });
const schema: StructType = { type: 'struct', fields: [f('id', 'long'), f('d', 'date'), f('s', 'string')] };

describe('groupByPartition', () => {
  it('groups rows by encoded partition values in first-seen order, dropping partition columns', () => {
    const rows = [
      { id: 1, d: '2024-01-01', s: 'x' },
      { id: 2, d: new Date(Date.UTC(2024, 0, 2)), s: '' },
      { id: 3, d: 19723, s: 'x' }, // 2024-01-01 as a day number
      { id: 4, d: null, s: null },
    ];
    const groups = groupByPartition(rows, schema, ['d', 's']);
    expect(groups.map((g) => g.values)).toEqual([
      { d: '2024-01-01', s: 'x' },
      { d: '2024-01-02', s: null },
      { d: null, s: null },
    ]);
    expect(groups.map((g) => g.rows)).toEqual([[{ id: 1 }, { id: 3 }], [{ id: 2 }], [{ id: 4 }]]);
    expect(groups.map((g) => g.indices)).toEqual([[0, 2], [1], [3]]);
    expect(groupByPartition(rows, schema, [])).toEqual([{ values: {}, rows }]);
    expect(groupByPartition([], schema, [])).toEqual([]);
  });
  it('names the column of a bad partition value', () => {
    expect(() =>
      groupByPartition(
        [
          { id: 0, d: null },
          { id: 1, d: 'x' },
        ],
        schema,
        ['d'],
      ),
    ).toThrow(
      expect.objectContaining({ code: 'INVALID_DATA', context: expect.objectContaining({ column: 'd', row: 1 }) }),
    );
  });
  it('dataSchemaOf leaves out partition columns', () => {
    expect(dataSchemaOf(schema, ['d']).fields.map((x) => x.name)).toEqual(['id', 's']);
  });
});

describe('DeltaTransaction', () => {
  it('ENGINE_VERSION equals the package version', () => {
    const pkg = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(ENGINE_VERSION).toBe(pkg.version);
  });

  it('refuses tables it cannot write and schemas with invariants', async () => {
    const store = new MemoryObjectStore();
    await DeltaTable.create(store, { schema });
    const snapshot = await loadSnapshot(store);
    const dv = Object.create(snapshot, {
      protocol: {
        value: {
          minReaderVersion: 3,
          minWriterVersion: 7,
          readerFeatures: ['deletionVectors'],
          writerFeatures: ['deletionVectors'],
        },
      },
    });
    expect(() => new DeltaTransaction(store, dv)).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_FEATURE' }));
    const withInvariant: StructType = {
      type: 'struct',
      fields: [
        {
          name: 'id',
          type: 'long',
          nullable: true,
          metadata: { 'delta.invariants': '{"expression":{"expression":"id > 0"}}' },
        },
      ],
    };
    const tx = new DeltaTransaction(store, snapshot);
    tx.updateMetadata({ ...snapshot.metadata, schemaString: JSON.stringify(withInvariant) });
    await expect(tx.writeFiles([{ id: 1 }])).rejects.toMatchObject({
      code: 'UNSUPPORTED_FEATURE',
      context: { feature: 'invariants' },
    });
  });

  it('commits once, with removes and metrics, and refuses a second commit', async () => {
    const store = new MemoryObjectStore();
    const table = await DeltaTable.create(store, { schema });
    await table.append([{ id: 1 }, { id: 2 }]);
    const snapshot = await loadSnapshot(store);
    const tx = new DeltaTransaction(store, snapshot, { now: () => 1234 });
    tx.readWholeTable();
    tx.removeFiles(snapshot.files);
    const adds = await tx.writeFiles([{ id: 3 }]);
    const outcome = await tx.commit({ name: 'WRITE', parameters: { mode: 'Overwrite' }, metrics: { custom: 5 } });
    expect(outcome).toMatchObject({ kind: 'committed', version: 2 });
    await expect(tx.commit({ name: 'WRITE', parameters: {} })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    const actions = (await readCommit(store, 2)) ?? [];
    expect(actions.map((a) => Object.keys(a)[0])).toEqual(['commitInfo', 'remove', 'add']);
    expect(actions[0]).toMatchObject({
      commitInfo: {
        timestamp: 1234,
        isolationLevel: 'WriteSerializable',
        operationMetrics: {
          numFiles: '1',
          numOutputRows: '1',
          numOutputBytes: String((adds[0] as AddAction).size),
          numRemovedFiles: '1',
          numRemovedBytes: String((snapshot.files[0] as AddAction).size),
          custom: '5',
        },
      },
    });
    expect(actions[1]).toEqual({
      remove: {
        path: snapshot.files[0]?.path,
        deletionTimestamp: 1234,
        dataChange: true,
        extendedFileMetadata: true,
        partitionValues: {},
        size: snapshot.files[0]?.size,
      },
    });
    expect(actions[2]).toEqual({ add: { ...adds[0], modificationTime: 1234 } });
  });
});
