// The versioned on-disk layout of one operator's state inside a StateBackend (layout version 1):
// latest state + per-version undo records, so any retained version is readable and reads of the
// newest version are a single getMany.
//
//   m<name>                   metadata: layout, version (newest committed), oldest (oldest openable), fingerprint (JSON)
//   v<u64 version>            one record per committed version: {"rows": numRowsTotal, "at": commit time ms}
//   d<user key>               the value of the key as of the newest committed version
//   u<u64 version><user key>  undo record written by commit `version`: the key's value before it
//                             (byte 0x00 = absent, 0x01 + value = present)
//
// Opening version V < newest reads the undo records of versions V+1..newest (the lowest version wins
// per key) into an in-memory overlay. Committing V+1 over newer versions rolls `d` back via that
// overlay and deletes their `v`/`u` records in the same atomic batch. Each commit also purges the
// `u`/`v` records no longer needed to reach the newest `minVersionsToRetain` versions.

export const LAYOUT_VERSION = '1';

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
} as const;

export const versionKey = (version: number): Uint8Array => tagged(V, u64(version));
export const dataKey = (userKey: Uint8Array): Uint8Array => tagged(D, userKey);
export const undoKey = (version: number, userKey: Uint8Array): Uint8Array => tagged(U, u64(version), userKey);
/** First `u` key of a version: undo records of versions [a, b) lie in [undoStart(a), undoStart(b)). */
export const undoStart = (version: number): Uint8Array => tagged(U, u64(version));
export const DATA_START = Uint8Array.of(D);
export const DATA_END = Uint8Array.of(D + 1);

/** Splits an undo key into its version and user key. */
export function parseUndoKey(key: Uint8Array): { version: number; userKey: Uint8Array } {
  return { version: readU64(key, 1), userKey: key.slice(9) };
}

export function encodeUndoValue(before: Uint8Array | null): Uint8Array {
  if (before === null) return Uint8Array.of(0);
  return tagged(1, before);
}

export function decodeUndoValue(bytes: Uint8Array): Uint8Array | null {
  return bytes[0] === 0 ? null : bytes.slice(1);
}

/** Latin-1 string of bytes: JS string order equals unsigned byte order, so usable as a sort/map key. */
export function byteString(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

export function fromByteString(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'latin1'));
}
