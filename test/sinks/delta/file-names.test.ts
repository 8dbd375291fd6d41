// Unit tests of sinks/delta/file-names.ts: data file names, Hive escaping of partition folders, and the
// RFC 2396 encoding of add.path (Spark writes `a=b%253Ac` in the log for the folder `a=b%3Ac`).
import { describe, expect, it } from 'vitest';
import {
  dataFileName,
  encodeLogPath,
  escapePathName,
  HIVE_DEFAULT_PARTITION,
  isHiddenPath,
  logPathToKey,
  partitionDirectory,
  unescapePathName,
} from '../../../sinks/delta/file-names.js';

describe('dataFileName', () => {
  it('follows part-<5 digits>-<uuid>-c000.<codec>.parquet and is unique', () => {
    const a = dataFileName(3, 'zstd');
    const b = dataFileName(3, 'zstd');
    expect(a).toMatch(/^part-00003-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}-c000\.zstd\.parquet$/);
    expect(a).not.toBe(b);
    expect(dataFileName(12, 'snappy', 'u')).toBe('part-00012-u-c000.snappy.parquet');
    expect(dataFileName(0, 'uncompressed', 'u')).toBe('part-00000-u-c000.parquet');
  });
});

describe('escapePathName', () => {
  it('escapes the characters Spark escapes, upper-case hex, and nothing else', () => {
    expect(escapePathName('b:c')).toBe('b%3Ac');
    expect(escapePathName('a/b=c?d#e%f')).toBe('a%2Fb%3Dc%3Fd%23e%25f');
    expect(escapePathName(`"'*\\{[]^`)).toBe('%22%27%2A%5C%7B%5B%5D%5E');
    expect(escapePathName('\n\u0001\u007f')).toBe('%0A%01%7F');
    // Kept: space, non-ASCII, and punctuation Spark leaves alone.
    expect(escapePathName('a b-ü+,;!&$@()')).toBe('a b-ü+,;!&$@()');
  });
  it('round-trips through unescapePathName', () => {
    const s = 'x:/=%?#"\n ü';
    expect(unescapePathName(escapePathName(s))).toBe(s);
  });
});

describe('partitionDirectory', () => {
  it('builds col=value/ folders in partition column order; null and empty go to the Hive default', () => {
    expect(partitionDirectory([], {})).toBe('');
    expect(partitionDirectory(['a', 'b'], { b: 'x:y', a: '1' })).toBe('a=1/b=x%3Ay/');
    expect(partitionDirectory(['a'], { a: null })).toBe(`a=${HIVE_DEFAULT_PARTITION}/`);
    expect(partitionDirectory(['a'], { a: '' })).toBe(`a=${HIVE_DEFAULT_PARTITION}/`);
    expect(partitionDirectory(['c=d'], { 'c=d': 'v' })).toBe('c%3Dd=v/');
  });
});

describe('encodeLogPath / logPathToKey', () => {
  it('percent-encodes % (so escaped folders double-encode), spaces and non-ASCII as UTF-8', () => {
    expect(encodeLogPath('a=b%3Ac/part-0.parquet')).toBe('a=b%253Ac/part-0.parquet');
    expect(encodeLogPath('s=a b/x.parquet')).toBe('s=a%20b/x.parquet');
    expect(encodeLogPath('s=ü€/x')).toBe('s=%C3%BC%E2%82%AC/x');
    expect(encodeLogPath('s=😀/x')).toBe('s=%F0%9F%98%80/x');
    expect(encodeLogPath("d=2024-01-01/p-_.!~*'()@&+$,;.parquet")).toBe("d=2024-01-01/p-_.!~*'()@&+$,;.parquet");
  });
  it('decodes back to the object key; absolute URIs are not keys', () => {
    for (const key of ['a=b%3Ac/f.parquet', 's=a b/x', 's=ü😀/x', 'plain.parquet']) {
      expect(logPathToKey(encodeLogPath(key))).toBe(key);
    }
    expect(logPathToKey('s3://bucket/x.parquet')).toBeUndefined();
    expect(logPathToKey('file:/tmp/x.parquet')).toBeUndefined();
    expect(logPathToKey('/tmp/x.parquet')).toBeUndefined();
    expect(() => logPathToKey('a%zz')).toThrow(expect.objectContaining({ code: 'LOG_CORRUPT' }));
  });
});

describe('isHiddenPath', () => {
  it('treats _ and . segments as hidden, except partition folders of partition columns', () => {
    expect(isHiddenPath('_delta_log/00000000000000000000.json')).toBe(true);
    expect(isHiddenPath('a=1/.part.crc')).toBe(true);
    expect(isHiddenPath('_SUCCESS')).toBe(true);
    expect(isHiddenPath('a=1/part-0.parquet')).toBe(false);
    expect(isHiddenPath('_p=1/part-0.parquet')).toBe(true);
    expect(isHiddenPath('_p=1/part-0.parquet', ['_p'])).toBe(false);
    expect(isHiddenPath('_p=1/_tmp/part-0.parquet', ['_p'])).toBe(true);
  });
});
