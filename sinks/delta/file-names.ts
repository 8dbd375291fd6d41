// Names of the files a Delta writer creates: unique data file names, Hive-style partition folders
// (escaped as Spark's ExternalCatalogUtils.escapePathName does) and the RFC 2396 encoding of add.path.
// Pure string functions; the writer, optimize and vacuum share them.
import { randomUUID } from 'node:crypto';
import { DeltaError } from './errors.js';

/** The folder name used for a null (or empty-string) partition value, as Hive and Spark write it. */
export const HIVE_DEFAULT_PARTITION = '__HIVE_DEFAULT_PARTITION__';

/** Parquet compression codecs lakestream writes; the codec appears in the file name like Spark's. */
export type ParquetCompression = 'zstd' | 'snappy' | 'uncompressed';

/**
 * A new, globally unique data file name: `part-00000-<uuid>-c000.zstd.parquet` (delta-rs layout;
 * Spark uses the same parts). `index` numbers the files of one write, `uuid` defaults to a random one.
 */
export function dataFileName(index: number, compression: ParquetCompression, uuid: string = randomUUID()): string {
  const part = String(index).padStart(5, '0');
  const codec = compression === 'uncompressed' ? '' : `.${compression}`;
  return `part-${part}-${uuid}-c000${codec}.parquet`;
}

/** Characters Spark/Hive escape in partition folder names: ASCII controls, DEL and the listed punctuation. */
function needsEscaping(code: number): boolean {
  if (code < 0x20 || code === 0x7f) return true;
  switch (code) {
    case 0x22: // "
    case 0x23: // #
    case 0x25: // %
    case 0x27: // '
    case 0x2a: // *
    case 0x2f: // /
    case 0x3a: // :
    case 0x3d: // =
    case 0x3f: // ?
    case 0x5c: // \
    case 0x7b: // {
    case 0x5b: // [
    case 0x5d: // ]
    case 0x5e: // ^
      return true;
    default:
      return false;
  }
}

/** Spark's escapePathName: `%XX` (upper-case hex) for each special ASCII character; others unchanged. */
export function escapePathName(name: string): string {
  let out = '';
  for (let i = 0; i < name.length; i++) {
    const code = name.charCodeAt(i);
    if (needsEscaping(code)) out += `%${code.toString(16).toUpperCase().padStart(2, '0')}`;
    else out += name[i];
  }
  return out;
}

/** Inverse of escapePathName (`%XX` → character). */
export function unescapePathName(name: string): string {
  return name.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
}

/**
 * The Hive-style folder of one partition: `a=1/b=x%3Ay/` for columns [a, b]; a null value is written
 * as `__HIVE_DEFAULT_PARTITION__`. Returns '' for an unpartitioned table.
 */
export function partitionDirectory(
  columns: readonly string[],
  values: Readonly<Record<string, string | null>>,
): string {
  let dir = '';
  for (const column of columns) {
    const value = values[column];
    const folderValue = value === null || value === undefined || value === '' ? HIVE_DEFAULT_PARTITION : value;
    dir += `${escapePathName(column)}=${escapePathName(folderValue)}/`;
  }
  return dir;
}

// RFC 2396 path characters kept verbatim: unreserved (alphanum and -_.!~*'()), the path-segment extras
// (:@&=+$,; ) and '/'. Everything else, including '%' and non-ASCII (as UTF-8), becomes %XX.
const PATH_SAFE = /[A-Za-z0-9\-_.!~*'():@&=+$,;/]/;

/**
 * Encodes a relative file path for `add.path`/`remove.path` (RFC 2396): the folder `a=b%3Ac` becomes
 * `a=b%253Ac`, as Spark writes it; readers URI-decode the path before opening the file.
 */
export function encodeLogPath(relativePath: string): string {
  let out = '';
  for (const char of relativePath) {
    if (PATH_SAFE.test(char)) {
      out += char;
      continue;
    }
    for (const byte of Buffer.from(char, 'utf8')) out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/**
 * The object key of a log path (inverse of encodeLogPath). Only relative paths are supported:
 * an absolute URI (scheme:...) returns undefined. Throws LOG_CORRUPT for invalid percent-encoding.
 */
export function logPathToKey(path: string): string | undefined {
  if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(path) || path.startsWith('/')) return undefined;
  try {
    return decodeURIComponent(path);
  } catch (cause) {
    throw new DeltaError(`file path ${JSON.stringify(path)} in the log is not valid URI encoding`, {
      code: 'LOG_CORRUPT',
      cause,
      context: { path },
    });
  }
}

/**
 * True for a key Delta treats as hidden: a segment starting with '_' or '.' (`_delta_log/…`,
 * `_change_data/…`, `.tmp`), except a partition folder such as `_p=1` of partition column `_p`.
 * Vacuum never deletes hidden files.
 */
export function isHiddenPath(key: string, partitionColumns: readonly string[] = []): boolean {
  const prefixes = partitionColumns.map((column) => `${escapePathName(column)}=`);
  const segments = key.split('/');
  return segments.some((segment, index) => {
    if (!segment.startsWith('_') && !segment.startsWith('.')) return false;
    const isFolder = index < segments.length - 1;
    return !(isFolder && prefixes.some((prefix) => segment.startsWith(prefix)));
  });
}
