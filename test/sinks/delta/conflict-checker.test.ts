// Unit tests of sinks/delta/conflict-checker.ts: each check of Spark's ConflictChecker, its order, and the
// exactly-once fence (a winner that already set our txn versions means 'already-committed').
import { describe, expect, it } from 'vitest';
import type { Action, AddAction } from '../../../sinks/delta/actions.js';
import {
  checkConflicts,
  type ReadPredicate,
  type TransactionSummary,
  type WinningCommit,
} from '../../../sinks/delta/conflict-checker.js';

const add = (path: string, partitionValues: Record<string, string | null> = {}, dataChange = true): AddAction => ({
  path,
  partitionValues,
  size: 10,
  modificationTime: 0,
  dataChange,
});

function summary(over: Partial<TransactionSummary> = {}): TransactionSummary {
  return {
    txnId: 'mine',
    isolationLevel: 'Serializable',
    changesProtocol: false,
    changesMetadata: false,
    txns: [],
    readPredicate: { kind: 'none' },
    readPaths: new Set(),
    removedPaths: new Set(),
    ...over,
  };
}

function winner(actions: Action[], info: Record<string, unknown> = {}, version = 5): WinningCommit {
  return { version, actions: [{ commitInfo: { txnId: 'theirs', ...info } }, ...actions] };
}

const blindAppend = (path: string, pv: Record<string, string | null> = {}) =>
  winner([{ add: add(path, pv) }], { isBlindAppend: true });
const metadata: Action = {
  metaData: {
    id: 'x',
    format: { provider: 'parquet', options: {} },
    schemaString: '{}',
    partitionColumns: [],
    configuration: {},
  },
};

describe('checkConflicts', () => {
  it('recognises our own commit by txnId', () => {
    const w: WinningCommit = { version: 7, actions: [{ commitInfo: { txnId: 'mine' } }, metadata] };
    expect(checkConflicts(summary(), w)).toEqual({ kind: 'already-committed', version: 7, reason: 'own-commit' });
  });

  it('lets blind appends commit over blind appends', () => {
    expect(checkConflicts(summary(), blindAppend('a.parquet'))).toEqual({ kind: 'compatible' });
  });

  it('conflicts on any metadata change by the winner, before other checks', () => {
    const result = checkConflicts(summary(), winner([metadata, { remove: { path: 'x', dataChange: true } }]));
    expect(result).toMatchObject({ kind: 'conflict', check: 'metadata-changed', version: 5 });
  });

  it('conflicts when both change the protocol, and refuses a protocol it cannot write', () => {
    const protocol: Action = { protocol: { minReaderVersion: 1, minWriterVersion: 2 } };
    expect(checkConflicts(summary({ changesProtocol: true }), winner([protocol]))).toMatchObject({
      check: 'protocol-changed',
    });
    expect(checkConflicts(summary(), winner([protocol]))).toEqual({ kind: 'compatible' });
    const unsupported: Action = {
      protocol: {
        minReaderVersion: 3,
        minWriterVersion: 7,
        readerFeatures: ['deletionVectors'],
        writerFeatures: ['deletionVectors'],
      },
    };
    expect(() => checkConflicts(summary(), winner([unsupported]))).toThrow(
      expect.objectContaining({ code: 'UNSUPPORTED_FEATURE' }),
    );
  });

  describe('application transactions (exactly-once fence)', () => {
    const txns = [
      { appId: 'q', version: 4 },
      { appId: 'q-0', version: 100 },
    ];
    it('already-committed when the winner set every txn of ours to the same or a later version', () => {
      const w = winner([{ txn: { appId: 'q', version: 4 } }, { txn: { appId: 'q-0', version: 120 } }]);
      expect(checkConflicts(summary({ txns }), w)).toEqual({ kind: 'already-committed', version: 5, reason: 'txn' });
    });
    it('conflicts when the winner set an older version or only some of our appIds', () => {
      const older = winner([{ txn: { appId: 'q', version: 3 } }, { txn: { appId: 'q-0', version: 99 } }]);
      expect(checkConflicts(summary({ txns }), older)).toMatchObject({
        check: 'concurrent-transaction',
        context: { appIds: ['q', 'q-0'] },
      });
      const partial = winner([{ txn: { appId: 'q', version: 9 } }]);
      expect(checkConflicts(summary({ txns }), partial)).toMatchObject({ check: 'concurrent-transaction' });
    });
    it('ignores txns of other applications', () => {
      expect(checkConflicts(summary({ txns }), winner([{ txn: { appId: 'other', version: 1 } }]))).toEqual({
        kind: 'compatible',
      });
    });
  });

  describe('appended files', () => {
    const replaceWhere: ReadPredicate = { kind: 'partitions', description: 'p = 1', matches: (pv) => pv.p === '1' };
    it('full overwrite (WriteSerializable) ignores blind appends but not other data adds', () => {
      const s = summary({ isolationLevel: 'WriteSerializable', readPredicate: { kind: 'all' } });
      expect(checkConflicts(s, blindAppend('a'))).toEqual({ kind: 'compatible' });
      const overwrite = winner([{ add: add('b') }], { isBlindAppend: false });
      expect(checkConflicts(s, overwrite)).toMatchObject({ check: 'concurrent-append', context: { path: 'b' } });
    });
    it('Serializable readers and metadata-changing writers also conflict with blind appends', () => {
      const s = summary({ isolationLevel: 'Serializable', readPredicate: { kind: 'all' } });
      expect(checkConflicts(s, blindAppend('a'))).toMatchObject({ check: 'concurrent-append' });
      const m = summary({ isolationLevel: 'WriteSerializable', readPredicate: { kind: 'all' }, changesMetadata: true });
      expect(checkConflicts(m, blindAppend('a'))).toMatchObject({ check: 'concurrent-append' });
    });
    it('replaceWhere only conflicts with adds in the partitions it read', () => {
      const s = summary({ isolationLevel: 'WriteSerializable', readPredicate: replaceWhere });
      expect(checkConflicts(s, winner([{ add: add('x', { p: '2' }) }]))).toEqual({ kind: 'compatible' });
      expect(checkConflicts(s, winner([{ add: add('y', { p: '1' }) }]))).toMatchObject({ check: 'concurrent-append' });
    });
    it('ignores dataChange=false adds (compaction) and never checks under SnapshotIsolation', () => {
      const s = summary({ isolationLevel: 'WriteSerializable', readPredicate: { kind: 'all' } });
      expect(checkConflicts(s, winner([{ add: add('c', {}, false) }]))).toEqual({ kind: 'compatible' });
      const optimize = summary({ isolationLevel: 'SnapshotIsolation', readPredicate: replaceWhere });
      expect(checkConflicts(optimize, winner([{ add: add('y', { p: '1' }) }]))).toEqual({ kind: 'compatible' });
    });
  });

  describe('deleted files', () => {
    const remove = (path: string, dataChange = true): Action => ({ remove: { path, dataChange } });
    it('conflicts when the winner removed a file we read (paths compared decoded)', () => {
      const s = summary({ isolationLevel: 'SnapshotIsolation', readPaths: new Set(['a=b%3Ac/f.parquet']) });
      expect(checkConflicts(s, winner([remove('a=b%253Ac/f.parquet', false)]))).toMatchObject({
        check: 'concurrent-delete-read',
      });
      expect(checkConflicts(s, winner([remove('other.parquet')]))).toEqual({ kind: 'compatible' });
    });
    it('conflicts on any remove when the whole table was read', () => {
      const s = summary({ isolationLevel: 'WriteSerializable', readPredicate: { kind: 'all' } });
      expect(checkConflicts(s, winner([remove('z')]))).toMatchObject({ check: 'concurrent-delete-read' });
    });
    it('conflicts when both remove the same file', () => {
      const s = summary({ removedPaths: new Set(['d']) });
      expect(checkConflicts(s, winner([remove('d')]))).toMatchObject({ check: 'concurrent-delete-delete' });
    });
  });
});
