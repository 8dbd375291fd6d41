// Unit tests of _delta_log file naming: versions, checkpoints, sidecars, and classification of names.
import { describe, expect, it } from 'vitest';
import {
  checkpointPath,
  commitPath,
  LAST_CHECKPOINT_KEY,
  parseLogFile,
  sidecarPath,
  versionPrefix,
} from '../../../sinks/delta/log-path.js';

describe('log-path', () => {
  it('pads versions to 20 digits', () => {
    expect(commitPath(0)).toBe('_delta_log/00000000000000000000.json');
    expect(commitPath(42)).toBe('_delta_log/00000000000000000042.json');
    expect(versionPrefix(Number.MAX_SAFE_INTEGER)).toHaveLength(20);
    expect(() => commitPath(-1)).toThrow(RangeError);
    expect(() => commitPath(1.5)).toThrow(RangeError);
  });

  it('names classic and multi-part checkpoints', () => {
    expect(checkpointPath(10)).toBe('_delta_log/00000000000000000010.checkpoint.parquet');
    expect(checkpointPath(10, 2, 3)).toBe('_delta_log/00000000000000000010.checkpoint.0000000002.0000000003.parquet');
    expect(() => checkpointPath(10, 4, 3)).toThrow(RangeError);
    expect(() => checkpointPath(10, 1)).toThrow(RangeError);
  });

  it('classifies every kind of log file and round-trips the names it builds', () => {
    for (const v of [0, 7, 123456789]) {
      expect(parseLogFile(commitPath(v))).toEqual({ kind: 'commit', version: v, key: commitPath(v) });
      expect(parseLogFile(checkpointPath(v))).toMatchObject({ kind: 'checkpoint', version: v });
      expect(parseLogFile(checkpointPath(v, 2, 5))).toMatchObject({ kind: 'multipart-checkpoint', part: 2, parts: 5 });
    }
    const uuid = '_delta_log/00000000000000000002.checkpoint.6374b053-df23-479b-b2cf-c9c550132b49.json';
    expect(parseLogFile(uuid)).toMatchObject({ kind: 'uuid-checkpoint', version: 2, format: 'json' });
    expect(parseLogFile('_delta_log/00000000000000000002.crc')).toMatchObject({ kind: 'checksum', version: 2 });
    expect(parseLogFile('_delta_log/00000000000000000002.00000000000000000005.compacted.json')).toMatchObject({
      kind: 'compaction',
      version: 2,
      endVersion: 5,
    });
    for (const other of [
      LAST_CHECKPOINT_KEY,
      '_delta_log/_sidecars/00000000000000000002.checkpoint.0000000001.0000000002.x.parquet',
      '_delta_log/0000000000000000002.json',
      '_delta_log/00000000000000000002.json.tmp',
      'part-0000.parquet',
      '_delta_log/00000000000000000002.checkpoint.0000000003.0000000002.parquet',
    ]) {
      expect(parseLogFile(other), other).toBeUndefined();
    }
  });

  it('puts sidecars in _delta_log/_sidecars whatever form the sidecar path takes', () => {
    expect(sidecarPath('a%20b.parquet')).toBe('_delta_log/_sidecars/a b.parquet');
    expect(sidecarPath('file:///t/_delta_log/_sidecars/x.parquet')).toBe('_delta_log/_sidecars/x.parquet');
  });
});
