// Object-key rules shared by every ObjectStore: validation (INVALID_KEY) and the byte order of list().
// Keys are compared as UTF-8 byte strings, the order S3 ListObjectsV2 uses.

import { StorageError } from './errors.js';

/**
 * Key segments starting with this prefix are reserved for an implementation's in-flight temporary
 * files (LocalObjectStore writes `.lakestream-tmp-<uuid>` beside the target). Such keys are invalid
 * and such files never appear in `list()`.
 */
export const RESERVED_SEGMENT_PREFIX = '.lakestream-tmp-';

/** Why `key` is not a valid object key, or undefined when it is valid. */
export function keyProblem(key: string): string | undefined {
  if (typeof key !== 'string') return 'key must be a string';
  if (key.length === 0) return 'key is empty';
  if (key.includes('\\')) return 'key contains a backslash (use "/" as separator)';
  if (key.includes('\0')) return 'key contains a NUL character';
  if (key.startsWith('/')) return 'key is absolute (starts with "/")';
  for (const segment of key.split('/')) {
    if (segment === '') return 'key has an empty segment ("//" or trailing "/")';
    if (segment === '.' || segment === '..') return `key has a "${segment}" segment`;
    if (segment.startsWith(RESERVED_SEGMENT_PREFIX)) {
      return `key has a segment starting with the reserved prefix "${RESERVED_SEGMENT_PREFIX}"`;
    }
  }
  return undefined;
}

/** Throws StorageError INVALID_KEY (domain 'user') naming the key and store when `key` is invalid. */
export function validateKey(key: string, location: string): void {
  const problem = keyProblem(key);
  if (problem !== undefined) {
    throw new StorageError(`invalid object key ${JSON.stringify(key)} in ${location}: ${problem}`, {
      code: 'INVALID_KEY',
      retryable: false,
      domain: 'user',
      context: { location, key },
    });
  }
}

/**
 * Validates a list() prefix: its complete segments (everything up to the last '/') follow the key
 * rules; the trailing partial segment may be anything without '/' or '\\' (e.g. '_delta_log/0000').
 */
export function validatePrefix(prefix: string, location: string): void {
  if (prefix === '') return;
  const slash = prefix.lastIndexOf('/');
  const folder = slash < 0 ? '' : prefix.slice(0, slash);
  const tail = slash < 0 ? prefix : prefix.slice(slash + 1);
  const problem =
    (folder === '' && slash >= 0 ? 'prefix is absolute (starts with "/")' : undefined) ??
    (folder !== '' ? keyProblem(folder) : undefined) ??
    (tail.includes('\\') || tail.includes('\0') ? 'prefix contains a backslash or NUL character' : undefined);
  if (problem !== undefined) {
    throw new StorageError(`invalid list prefix ${JSON.stringify(prefix)} in ${location}: ${problem}`, {
      code: 'INVALID_KEY',
      retryable: false,
      domain: 'user',
      context: { location, prefix },
    });
  }
}

/** Compares two keys by their UTF-8 bytes (not UTF-16 code units, which differ above U+FFFF). */
export function compareKeys(a: string, b: string): number {
  if (a === b) return 0;
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Validates a byte range; throws StorageError INVALID_RANGE (domain 'user'). */
export function validateRange(range: { offset: number; length?: number }, location: string, key: string): void {
  const { offset, length } = range;
  const bad =
    !Number.isSafeInteger(offset) || offset < 0
      ? `offset ${offset} is not a non-negative integer`
      : length !== undefined && (!Number.isSafeInteger(length) || length < 0)
        ? `length ${length} is not a non-negative integer`
        : undefined;
  if (bad !== undefined) {
    throw new StorageError(`invalid byte range for ${key} in ${location}: ${bad}`, {
      code: 'INVALID_RANGE',
      retryable: false,
      domain: 'user',
      context: { location, key, offset, length },
    });
  }
}
