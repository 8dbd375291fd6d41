// The versioned on-disk layout of one operator's state inside a StateBackend (layout version 2):
// latest state + one packed undo record per committed version, so any retained version is readable.
//
//   m<name>          metadata: layout ('2'), version (newest committed), oldest (oldest openable),
//                    fingerprint (JSON), commit (random token of the newest commit, so a cached copy
//                    of the newest version can tell whether another writer committed since)
//   v<u64 version>   one record per committed version: {"rows": numRowsTotal, "at": commit time ms}
//   d<user key>      the value of the key as of the newest committed version
//   u<u64 version>   the undo blob written by commit `version`: every key it changed with the key's
//                    value before it (see encodeUndoBlob), absent when no retained version needs it
//
// Opening version V < newest reads the blobs of versions V+1..newest (the lowest version wins per
// key) into an in-memory overlay. Committing V+1 over newer versions rolls `d` back via that overlay
// and deletes their `v`/`u` records in the same atomic batch. Each commit also purges the `u`/`v`
// records no longer needed to reach the newest `minVersionsToRetain` versions.
//
// Layout 1 (one `u<u64 version><user key>` record per changed key) was a pre-release format and is
// refused: such state must be rebuilt from a new checkpoint location.

export const LAYOUT_VERSION = '2';
/** The pre-release layout with one undo record per key; refused with a dedicated message. */
export const RETIRED_LAYOUT_VERSION = '1';

const enc = new TextEncoder();
const M = 0x6d; // 'm'
const V = 0x76; // 'v'
const D = 0x64; // 'd'
const U = 0x75; // 'u'

function tagged(tag: number, ...parts: Uint8Array[]): Uint8Array {
  const length = parts.reduce((sum, p) => sum + p.length, 1);
  const out = new Uint8Array(length);
  out[0] = tag;
  let at = 1;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** Big-endian u64 of a non-negative safe integer, so byte order equals numeric order. */
export function u64(n: number): Uint8Array {
  const out = new Uint8Array(8);
  const view = new DataView(out.buffer);
  view.setUint32(0, Math.floor(n / 2 ** 32));
  view.setUint32(4, n >>> 0);
  return out;
}

export function readU64(bytes: Uint8Array, offset: number): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, 8);
  return view.getUint32(0) * 2 ** 32 + view.getUint32(4);
}

export const metaKey = {
  layout: tagged(M, enc.encode('layout')),
  version: tagged(M, enc.encode('version')),
  oldest: tagged(M, enc.encode('oldest')),
  fingerprint: tagged(M, enc.encode('fingerprint')),
  commit: tagged(M, enc.encode('commit')),
} as const;

export const versionKey = (version: number): Uint8Array => tagged(V, u64(version));
/** The `d` key of a user key: one copy of the key with the tag in front. */
export function dataKey(userKey: Uint8Array): Uint8Array {
  const out = new Uint8Array(userKey.length + 1);
  out[0] = D;
  out.set(userKey, 1);
  return out;
}
/** The `d` key of a user key given as its byte string (see byteString). */
export function dataKeyOfId(id: string): Uint8Array {
  const out = new Uint8Array(id.length + 1);
  out[0] = D;
  writeByteString(out, 1, id);
  return out;
}
/** The tag byte of `d` keys. */
export const DATA_TAG = D;
/** The undo blob of a version; blobs of versions [a, b) lie in [undoKey(a), undoKey(b)). */
export const undoKey = (version: number): Uint8Array => tagged(U, u64(version));
export const DATA_START = Uint8Array.of(D);
export const DATA_END = Uint8Array.of(D + 1);

// ---- Undo blobs ----------------------------------------------------------------------------------
//
//   byte 0        format, UNDO_BLOB_FORMAT
//   then per key  varint key length, key bytes, byte 0 (absent before) | 1 (present before),
//                 and when present: varint value length, value bytes
//
// Varints are unsigned LEB128. Prior values are given and returned as byte strings (see byteString).

const UNDO_BLOB_FORMAT = 1;

/** A malformed undo blob (the caller reports it as corrupt state). */
export class UndoBlobError extends Error {}

function varintLength(n: number): number {
  let length = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 0x80);
    length++;
  }
  return length;
}

function writeVarint(out: Uint8Array, at: number, n: number): number {
  while (n >= 0x80) {
    out[at++] = (n & 0x7f) | 0x80;
    n = Math.floor(n / 0x80);
  }
  out[at++] = n;
  return at;
}

/** Size of the undo blob of these (key, prior) pairs; see encodeUndoBlob. */
export function undoBlobSize(ids: readonly string[], priors: readonly (string | null)[]): number {
  let size = 1;
  for (let i = 0; i < ids.length; i++) {
    const keyLength = ids[i]!.length;
    size += varintLength(keyLength) + keyLength + 1;
    const prior = priors[i]!;
    if (prior !== null) size += varintLength(prior.length) + prior.length;
  }
  return size;
}

/**
 * Packs (key, prior value) pairs into `out` from `at` (undoBlobSize bytes): `ids[i]` is a user key as
 * a byte string, `priors[i]` its value before the version as a byte string, or null when it was absent.
 * Returns the end offset.
 */
export function writeUndoBlob(
  out: Uint8Array,
  at: number,
  ids: readonly string[],
  priors: readonly (string | null)[],
): number {
  out[at++] = UNDO_BLOB_FORMAT;
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    at = writeByteString(out, writeVarint(out, at, id.length), id);
    const prior = priors[i]!;
    if (prior === null) out[at++] = 0;
    else {
      out[at++] = 1;
      at = writeByteString(out, writeVarint(out, at, prior.length), prior);
    }
  }
  return at;
}

/** The undo blob of (key, prior) pairs in a new array; see writeUndoBlob. */
export function encodeUndoBlob(ids: readonly string[], priors: readonly (string | null)[]): Uint8Array {
  const out = new Uint8Array(undoBlobSize(ids, priors));
  writeUndoBlob(out, 0, ids, priors);
  return out;
}

/** Calls `visit(keyId, prior)` for every pair of an undo blob, in order (ids and priors as byte strings). */
export function decodeUndoBlob(blob: Uint8Array, visit: (id: string, prior: string | null) => void): void {
  if (blob.length === 0 || blob[0] !== UNDO_BLOB_FORMAT) {
    throw new UndoBlobError(`undo blob has unknown format ${blob.length === 0 ? '(empty)' : blob[0]}`);
  }
  const readVarint = (): number => {
    let n = 0;
    let scale = 1;
    for (;;) {
      if (at >= blob.length) throw new UndoBlobError(`undo blob truncated at byte ${at}`);
      const byte = blob[at++]!;
      n += (byte & 0x7f) * scale;
      if (byte < 0x80) return n;
      scale *= 0x80;
      if (scale > 2 ** 49) throw new UndoBlobError(`undo blob has an oversized length at byte ${at}`);
    }
  };
  const take = (length: number): string => {
    if (at + length > blob.length) throw new UndoBlobError(`undo blob truncated at byte ${at}`);
    const text = byteString(blob, at, at + length);
    at += length;
    return text;
  };
  let at = 1;
  while (at < blob.length) {
    const id = take(readVarint());
    if (at >= blob.length) throw new UndoBlobError(`undo blob truncated at byte ${at}`);
    const flag = blob[at++];
    if (flag === 0) visit(id, null);
    else if (flag === 1) visit(id, take(readVarint()));
    else throw new UndoBlobError(`undo blob has an invalid presence byte ${flag} at byte ${at - 1}`);
  }
}

// ---- Byte strings --------------------------------------------------------------------------------

// Node's Buffer.prototype.latin1Slice / latin1Write work on any Uint8Array and are ~3x faster than
// String.fromCharCode / charCodeAt loops for key-sized strings; used when present.
type Latin1Slice = (this: Uint8Array, start: number, end: number) => string;
type Latin1Write = (this: Uint8Array, text: string, offset: number, length: number) => number;
const nodeBuffer = Buffer.prototype as unknown as { latin1Slice?: Latin1Slice; latin1Write?: Latin1Write };
const latin1Slice = typeof nodeBuffer.latin1Slice === 'function' ? nodeBuffer.latin1Slice : undefined;
const latin1Write = typeof nodeBuffer.latin1Write === 'function' ? nodeBuffer.latin1Write : undefined;
const SHORT = 256;

/**
 * Latin-1 string of bytes[start, end): one char per byte, so JS string order equals unsigned byte
 * order and the string is usable as a sort/map key (the "id" of a key), or as a compact immutable copy
 * of a value.
 */
export function byteString(bytes: Uint8Array, start = 0, end = bytes.length): string {
  if (end <= start) return '';
  if (latin1Slice !== undefined) return latin1Slice.call(bytes, start, end);
  if (end - start <= SHORT) {
    const view = start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end);
    return String.fromCharCode.apply(null, view as unknown as number[]);
  }
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('latin1');
}

/** Inverse of byteString: a new array (owned by the caller). */
export function fromByteString(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  writeByteString(out, 0, text);
  return out;
}

/** Writes the bytes of a byte string into `out` at `at` (room must be there); returns the end offset. */
export function writeByteString(out: Uint8Array, at: number, text: string): number {
  const length = text.length;
  if (length === 0) return at;
  if (latin1Write !== undefined && length > 24) latin1Write.call(out, text, at, length);
  else if (length <= SHORT) {
    for (let i = 0; i < length; i++) out[at + i] = text.charCodeAt(i);
  } else {
    Buffer.from(out.buffer, out.byteOffset + at, length).write(text, 'latin1');
  }
  return at + length;
}

/** The index of the first element of ascending `sorted` that is >= `target` (sorted.length if none). */
export function lowerBound(sorted: readonly string[], target: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < target) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
