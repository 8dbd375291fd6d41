// Unit tests of log replay: add/remove reconciliation by canonical path and deletion vector, latest
// metaData/protocol/txn, domain metadata, purity of applyActions, and advancing a snapshot.
import { describe, expect, it } from 'vitest';
import type { Action } from '../../../sinks/delta/actions.js';
import { DeltaError } from '../../../sinks/delta/errors.js';
import {
  advanceSnapshot,
  applyActions,
  applyBatches,
  canonicalPath,
  commitTimestamp,
  emptyReplayState,
  fileKey,
  snapshotFromState,
} from '../../../sinks/delta/replay.js';
import { add, commitInfo, metaData, protocol, remove, txn } from './log-fixtures.js';

const dv = (id: string) => ({ storageType: 'u', pathOrInlineDv: id, offset: 1, sizeInBytes: 10, cardinality: 2 });

function replay(...commits: Action[][]) {
  return applyBatches(
    emptyReplayState(),
    commits.map((actions, version) => ({ actions, source: { version, timestamp: 1000 + version } })),
  );
}

describe('replay', () => {
  it('keeps the latest add per file and turns removes into tombstones', () => {
    const state = replay(
      [protocol(), metaData(), add('a', { size: 1 }), add('b')],
      [remove('a'), add('c')],
      [add('a', { size: 3 }), remove('b', { deletionTimestamp: 77 })],
    );
    expect([...state.files.values()].map((f) => [f.path, f.size])).toEqual([
      ['c', 1],
      ['a', 3],
    ]);
    expect([...state.tombstones.values()].map((r) => [r.path, r.deletionTimestamp])).toEqual([['b', 77]]);
    expect(state.version).toBe(2);
    expect(state.timestamp).toBe(1002);
  });

  it('matches removes to adds by canonical path: encoded, file: URIs and plain absolute paths are one file', () => {
    expect(canonicalPath('file:/some/path')).toBe('/some/path');
    expect(canonicalPath('file:///some/path')).toBe('/some/path');
    expect(canonicalPath('special%20p@%23h')).toBe('special p@#h');
    expect(canonicalPath('bad%zz')).toBe('bad%zz');
    for (const removed of ['file:/some/unqualified/absolute/path', 'file:///some/unqualified/absolute/path']) {
      const state = replay([protocol(), metaData(), add('/some/unqualified/absolute/path')], [remove(removed)]);
      expect(state.files.size, removed).toBe(0);
      expect(state.tombstones.size).toBe(1);
    }
    const encoded = replay([protocol(), metaData(), add('special%20p@%23h')], [remove('special p@%23h')]);
    expect(encoded.files.size).toBe(0);
  });

  it('keys files by path and deletion vector id', () => {
    expect(fileKey({ path: 'a', deletionVector: dv('x') })).not.toBe(fileKey({ path: 'a' }));
    const state = replay(
      [protocol(), metaData(), add('a'), add('a', { deletionVector: dv('x') })],
      [remove('a', { deletionVector: dv('x') })],
    );
    expect([...state.files.values()]).toEqual([add('a').add]);
  });

  it('applies actions of one commit in order', () => {
    const state = replay([protocol(), metaData(), add('a'), remove('a'), add('b'), remove('b'), add('b')]);
    expect([...state.files.keys()]).toEqual(['b']);
    expect([...state.tombstones.keys()]).toEqual(['a']);
  });

  it('keeps the latest txn per appId even when its version goes down', () => {
    const state = replay([protocol(), metaData(), txn('q', 5), txn('r', 1)], [txn('q', 3)]);
    const snapshot = snapshotFromState(state);
    expect(snapshot.txnVersion('q')).toBe(3);
    expect(snapshot.txnVersion('r')).toBe(1);
    expect(snapshot.txnVersion('none')).toBeUndefined();
    expect([...snapshot.txns]).toEqual([
      ['q', 3],
      ['r', 1],
    ]);
  });

  it('keeps the latest protocol and metaData, and domain metadata until removed', () => {
    const state = replay(
      [
        protocol(),
        metaData({ configuration: { a: '1' } }),
        { domainMetadata: { domain: 'd', configuration: '{}', removed: false } },
      ],
      [metaData({ configuration: { a: '2' } }), protocol({ minWriterVersion: 4 })],
      [{ domainMetadata: { domain: 'd', configuration: '', removed: true } }],
    );
    const snapshot = snapshotFromState(state);
    expect(snapshot.properties).toEqual({ a: '2' });
    expect(snapshot.protocol.minWriterVersion).toBe(4);
    expect(snapshot.schema.fields.map((f) => f.name)).toEqual(['id', 'part']);
    expect(state.domains.size).toBe(0);
    expect(
      replay([
        protocol(),
        metaData(),
        { domainMetadata: { domain: 'd', configuration: 'x', removed: false } },
      ]).domains.get('d')?.configuration,
    ).toBe('x');
  });

  it('never mutates the state it starts from', () => {
    const base = replay([protocol(), metaData(), add('a'), txn('q', 1)]);
    const before = JSON.stringify([...base.files.keys(), ...base.txns.keys(), base.version]);
    const next = applyActions(base, [remove('a'), add('b'), txn('q', 2)], { version: 1, timestamp: 5 });
    expect(JSON.stringify([...base.files.keys(), ...base.txns.keys(), base.version])).toBe(before);
    expect([...next.files.keys()]).toEqual(['b']);
    expect(next.txns.get('q')?.version).toBe(2);
    expect(next.version).toBe(1);
  });

  it('refuses to build a snapshot without protocol or metaData', () => {
    for (const actions of [[metaData()], [protocol()]] as Action[][]) {
      const error = (() => {
        try {
          snapshotFromState(replay(actions));
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(DeltaError);
      expect((error as DeltaError).code).toBe('LOG_CORRUPT');
    }
  });

  it('advances a snapshot over the next commits and refuses a gap', () => {
    const snapshot = snapshotFromState(replay([protocol(), metaData(), add('a'), txn('q', 1)]));
    const next = advanceSnapshot(snapshot, [
      { version: 1, actions: [commitInfo(1234), add('b'), txn('q', 2)] },
      { version: 2, actions: [remove('a')] },
    ]);
    expect(next.version).toBe(2);
    expect(next.files.map((f) => f.path)).toEqual(['b']);
    expect(next.txnVersion('q')).toBe(2);
    expect(snapshot.files.map((f) => f.path)).toEqual(['a']);
    expect(() => advanceSnapshot(snapshot, [{ version: 2, actions: [] }])).toThrow(/cannot apply version 2/);
  });

  it('takes a commit timestamp from inCommitTimestamp, else commitInfo.timestamp, else the file time', () => {
    expect(commitTimestamp([commitInfo(10, { inCommitTimestamp: 20 })], 30)).toBe(20);
    expect(commitTimestamp([commitInfo(10)], 30)).toBe(10);
    expect(commitTimestamp([add('a')], 30)).toBe(30);
  });
});
