// Names of the files in _delta_log (PROTOCOL.md "Delta Log Entries", "Checkpoints", "Last Checkpoint File"):
// 20-digit commit files, classic / multi-part / UUID (v2) checkpoints, sidecars, and parsing them back.
// Pure string functions; every key is relative to the table root.

/** The log folder, with its trailing '/': list with `{ prefix: LOG_DIR }`. */
export const LOG_DIR = '_delta_log/';
/** Key of the `_last_checkpoint` hint file. */
export const LAST_CHECKPOINT_KEY = `${LOG_DIR}_last_checkpoint`;
/** Folder of v2-checkpoint sidecar files. */
export const SIDECAR_DIR = `${LOG_DIR}_sidecars/`;

const MAX_VERSION = Number.MAX_SAFE_INTEGER;

function assertVersion(version: number): void {
  if (!Number.isSafeInteger(version) || version < 0 || version > MAX_VERSION) {
    throw new RangeError(`invalid Delta version: ${version}`);
  }
}

/** The 20-digit, zero-padded form of a version, e.g. `00000000000000000042`. */
export function versionPrefix(version: number): string {
  assertVersion(version);
  return String(version).padStart(20, '0');
}

/** Key of the commit file of `version`: `_delta_log/00000000000000000042.json`. */
export function commitPath(version: number): string {
  return `${LOG_DIR}${versionPrefix(version)}.json`;
}

/**
 * Key of a classic checkpoint (`<v>.checkpoint.parquet`) or, with `part`/`parts`, of one part of a
 * multi-part checkpoint (`<v>.checkpoint.<part:10>.<parts:10>.parquet`, part counted from 1).
 */
export function checkpointPath(version: number, part?: number, parts?: number): string {
  if (part === undefined && parts === undefined) return `${LOG_DIR}${versionPrefix(version)}.checkpoint.parquet`;
  if (
    part === undefined ||
    parts === undefined ||
    !Number.isInteger(part) ||
    !Number.isInteger(parts) ||
    part < 1 ||
    part > parts
  ) {
    throw new RangeError(`invalid checkpoint part ${part} of ${parts}`);
  }
  const p = String(part).padStart(10, '0');
  const n = String(parts).padStart(10, '0');
  return `${LOG_DIR}${versionPrefix(version)}.checkpoint.${p}.${n}.parquet`;
}

/**
 * Key of a sidecar file named in a v2 checkpoint's `sidecar.path`. Sidecars always live in
 * `_delta_log/_sidecars/`, so only the (URI-decoded) file name of the path is used.
 */
export function sidecarPath(path: string): string {
  let name = path.slice(path.lastIndexOf('/') + 1);
  try {
    name = decodeURIComponent(name);
  } catch {
    // Not percent-encoded: use it as is.
  }
  return `${SIDECAR_DIR}${name}`;
}

/** What one file in _delta_log is, judged by its name alone. */
export type LogFile =
  | { kind: 'commit'; version: number; key: string }
  | { kind: 'checkpoint'; version: number; key: string }
  | { kind: 'multipart-checkpoint'; version: number; part: number; parts: number; key: string }
  | { kind: 'uuid-checkpoint'; version: number; uuid: string; format: 'json' | 'parquet'; key: string }
  | { kind: 'checksum'; version: number; key: string }
  | { kind: 'compaction'; version: number; endVersion: number; key: string };

const COMMIT = /^(\d{20})\.json$/;
const CLASSIC = /^(\d{20})\.checkpoint\.parquet$/;
const MULTIPART = /^(\d{20})\.checkpoint\.(\d{10})\.(\d{10})\.parquet$/;
const UUID_CP = /^(\d{20})\.checkpoint\.([0-9a-fA-F-]{36})\.(json|parquet)$/;
const CRC = /^(\d{20})\.crc$/;
const COMPACTION = /^(\d{20})\.(\d{20})\.compacted\.json$/;

/**
 * Classifies a key directly inside `_delta_log/` (files in subfolders such as `_sidecars/`, temp files
 * and `_last_checkpoint` return undefined). Versions beyond Number.MAX_SAFE_INTEGER are not recognised.
 */
export function parseLogFile(key: string): LogFile | undefined {
  if (!key.startsWith(LOG_DIR)) return undefined;
  const name = key.slice(LOG_DIR.length);
  if (name.includes('/')) return undefined;
  let m = COMMIT.exec(name);
  if (m) return withVersion(m[1], (version) => ({ kind: 'commit', version, key }));
  m = CLASSIC.exec(name);
  if (m) return withVersion(m[1], (version) => ({ kind: 'checkpoint', version, key }));
  m = MULTIPART.exec(name);
  if (m) {
    const part = Number(m[2]);
    const parts = Number(m[3]);
    if (part < 1 || part > parts) return undefined;
    return withVersion(m[1], (version) => ({ kind: 'multipart-checkpoint', version, part, parts, key }));
  }
  m = UUID_CP.exec(name);
  if (m) {
    const uuid = m[2] ?? '';
    const format = m[3] === 'json' ? 'json' : 'parquet';
    return withVersion(m[1], (version) => ({ kind: 'uuid-checkpoint', version, uuid, format, key }));
  }
  m = CRC.exec(name);
  if (m) return withVersion(m[1], (version) => ({ kind: 'checksum', version, key }));
  m = COMPACTION.exec(name);
  if (m) {
    const endVersion = Number(m[2]);
    if (!Number.isSafeInteger(endVersion)) return undefined;
    return withVersion(m[1], (version) => ({ kind: 'compaction', version, endVersion, key }));
  }
  return undefined;
}

function withVersion<T>(digits: string | undefined, make: (version: number) => T): T | undefined {
  const version = Number(digits);
  return Number.isSafeInteger(version) ? make(version) : undefined;
}
