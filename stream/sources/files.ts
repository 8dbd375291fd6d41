// FileSource: a folder of JSON Lines or CSV files as a streaming source (Spark's file stream source,
// Databricks Auto Loader in directory-listing mode). Each discovery step appends the newly seen files
// to a durable, append-only file log in the source's checkpoint area; offsets are positions in that log.

import type { Dirent, Stats } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { mapLimit } from '../../common/map-limit.js';
import type { ObjectStore } from '../../storage/object-store.js';
import type { PartitionRange } from '../checkpoint-log.js';
import { SourceError, StreamArgumentError } from '../errors.js';
import { CsvParser, headerNames } from '../input/csv.js';
import type { PartitionOffsets, Source, SourceContext, SourceMetrics } from '../source.js';
import type { Row, RowGroup } from '../types.js';

export type FileSourceFormat = 'jsonl' | 'csv';

export interface FileSourceOptions {
  /** The folder to watch (local filesystem). Sub-folders are listed recursively. */
  path: string;
  format: FileSourceFormat;
  /** At most this many new files per micro-batch (at least one). Default 1000. */
  maxFilesPerTrigger?: number;
  /**
   * Files to take, tested against the path relative to `path` ('/'-separated). Default by format:
   * /\.(jsonl|json|ndjson)$/ or /\.csv$/.
   */
  pattern?: RegExp;
  csv?: { delimiter?: string };
}

/** The source's only partition. */
export const FILE_SOURCE_PARTITION = 'files';

export const FILE_SOURCE_DEFAULTS = Object.freeze({ maxFilesPerTrigger: 1000 });

const DEFAULT_PATTERNS: Readonly<Record<FileSourceFormat, RegExp>> = {
  jsonl: /\.(jsonl|json|ndjson)$/,
  csv: /\.csv$/,
};

/** One file as the log records it: its path relative to the source folder, size and mtime at discovery. */
export interface LoggedFile {
  path: string;
  size: number;
  /** Modification time (ms since the epoch, floored) when discovered. */
  mtime: number;
}

/** Content of one file-log entry (`log/<20-digit entry number>.json`). */
interface LogEntry {
  version: 1;
  files: LoggedFile[];
}

const LOG_PREFIX = 'log/';
const LOG_KEY = /^log\/(\d{20})\.json$/;
/** Files read in parallel by read(). */
const READ_CONCURRENCY = 4;
const RETRYABLE_ERRNO: ReadonlySet<string> = new Set(['EAGAIN', 'EBUSY', 'EIO', 'EMFILE', 'ENFILE', 'ETIMEDOUT']);
const NOT_FOUND_ERRNO: ReadonlySet<string> = new Set(['ENOENT', 'ENOTDIR']);

function logKey(entry: number): string {
  return `${LOG_PREFIX}${String(entry).padStart(20, '0')}.json`;
}

function errnoOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Spark's rule for files still being written or bookkeeping: names starting with '.' or '_'. */
function isHidden(name: string): boolean {
  return name.startsWith('.') || name.startsWith('_');
}

function matches(pattern: RegExp, path: string): boolean {
  pattern.lastIndex = 0; // a /g or /y pattern keeps state between test() calls
  return pattern.test(path);
}

function byMtimeThenPath(a: LoggedFile, b: LoggedFile): number {
  if (a.mtime !== b.mtime) return a.mtime - b.mtime;
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
const lossyUtf8 = new TextDecoder('utf-8', { fatal: false, ignoreBOM: false });

function decodeStrict(bytes: Uint8Array): string | undefined {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * A folder of JSONL or CSV files as a stream.
 *
 * **Offsets and the file log.** The source has one partition, `files`. Each call of `nextOffsets` or
 * `availableNow` lists the folder recursively and appends the files not seen before, sorted by
 * modification time then path, to the *file log* kept in the source's checkpoint area
 * (`ctx.metadata`): numbered entries `log/<n>.json`, each written once with putIfAbsent, so a crash
 * can neither tear nor rewrite one. The offset of a file is its position in this log (0-based); an
 * offset is a decimal string, the count of files before it. A batch's range [start, end) therefore
 * names the same files forever, and each file is read by exactly one batch. The log is loaded on
 * open and only grows (no compaction; the seen set is kept in memory).
 *
 * **Rows.** Every row carries `file` (the path relative to the folder, '/'-separated) and `line`
 * (1-based line where the record starts):
 * - JSONL: one row per non-blank line, `{ value: <line text>, file, line }`; parse it with the
 *   parseJson operator. A line that is not valid UTF-8 gets `error` and its text decoded lossily.
 * - CSV: the first record is the header; one row per record, `{ value: { <column>: string | null },
 *   file, line }` (an empty field is null). A malformed record (wrong field count, stray or
 *   unterminated quote) does not fail the query: it becomes `{ value: <raw text>, file, line, error }`
 *   so a downstream operator can dead-letter it, and parsing resumes on the next line. A bad header
 *   gives one such row and the rest of the file is not read.
 *
 * **Producers must write then rename.** Names starting with '.' or '_' (files and folders) are
 * skipped, so write to `.name.tmp` or `_tmp/name` and rename into place when complete. A file is read
 * up to the size logged at discovery (so a replay reads the same bytes); growing a file afterwards is
 * ignored with a warning. A logged file that disappeared or shrank fails the read with
 * SOURCE_FILE_MISSING / SOURCE_FILE_CHANGED (not retryable: exactly-once would be broken).
 */
export class FileSource implements Source {
  readonly description: string;
  private readonly root: string;
  private readonly format: FileSourceFormat;
  private readonly maxFilesPerTrigger: number;
  private readonly pattern: RegExp;
  private readonly delimiter: string;
  private ctx: SourceContext | undefined;
  private closed = false;
  /** The file log in position order. */
  private readonly files: LoggedFile[] = [];
  private readonly seen = new Set<string>();
  /** Entries of the log loaded so far (the next entry number). */
  private entries = 0;

  constructor(options: FileSourceOptions) {
    if (typeof options?.path !== 'string' || options.path === '') {
      throw new StreamArgumentError('FileSource path: give the folder to watch', { option: 'path' });
    }
    if (options.format !== 'jsonl' && options.format !== 'csv') {
      throw new StreamArgumentError(
        `FileSource format: ${JSON.stringify(options.format)} is not supported; use 'jsonl' or 'csv'`,
        { option: 'format' },
      );
    }
    const max = options.maxFilesPerTrigger ?? FILE_SOURCE_DEFAULTS.maxFilesPerTrigger;
    if (!Number.isSafeInteger(max) || max < 1) {
      throw new StreamArgumentError(`FileSource maxFilesPerTrigger: must be an integer >= 1, got ${max}`, {
        option: 'maxFilesPerTrigger',
      });
    }
    if (options.pattern !== undefined && !(options.pattern instanceof RegExp)) {
      throw new StreamArgumentError('FileSource pattern: must be a RegExp', { option: 'pattern' });
    }
    const delimiter = options.csv?.delimiter ?? ',';
    if (delimiter.length !== 1 || delimiter === '"' || delimiter === '\r' || delimiter === '\n') {
      throw new StreamArgumentError(
        `FileSource csv.delimiter: ${JSON.stringify(delimiter)} is not one character other than '"', CR or LF`,
        { option: 'csv.delimiter' },
      );
    }
    this.root = resolve(options.path);
    this.format = options.format;
    this.maxFilesPerTrigger = max;
    this.pattern = options.pattern ?? DEFAULT_PATTERNS[options.format];
    this.delimiter = delimiter;
    this.description = `FileSource[${this.root}]`;
  }

  async open(ctx: SourceContext): Promise<void> {
    this.ctx = ctx;
    this.closed = false;
    await this.loadLog();
  }

  async initialOffsets(): Promise<PartitionOffsets> {
    this.requireOpen();
    return { [FILE_SOURCE_PARTITION]: '0' };
  }

  async nextOffsets(start: PartitionOffsets, limit?: PartitionOffsets): Promise<PartitionOffsets> {
    this.requireOpen();
    const from = parseOffset(start[FILE_SOURCE_PARTITION] ?? '0', 'start');
    await this.discover();
    if (from > this.files.length) throw this.logBehind(from);
    let end = Math.min(from + this.maxFilesPerTrigger, this.files.length);
    const bound = limit?.[FILE_SOURCE_PARTITION];
    if (bound !== undefined) end = Math.min(end, parseOffset(bound, 'limit'));
    return { [FILE_SOURCE_PARTITION]: String(Math.max(from, end)) };
  }

  async availableNow(): Promise<PartitionOffsets> {
    this.requireOpen();
    await this.discover();
    return { [FILE_SOURCE_PARTITION]: String(this.files.length) };
  }

  async read(ranges: Readonly<Record<string, PartitionRange>>): Promise<RowGroup[]> {
    this.requireOpen();
    const groups: RowGroup[] = [];
    for (const [partition, range] of Object.entries(ranges)) {
      if (partition !== FILE_SOURCE_PARTITION) {
        throw new StreamArgumentError(`${this.description} has no partition '${partition}' (only 'files')`, {
          partition,
        });
      }
      const start = parseOffset(range.start, 'start');
      const end = parseOffset(range.end, 'end');
      if (end < start) {
        throw new SourceError(
          'SOURCE_OFFSET_INVALID',
          `${this.description}: range end ${end} is before start ${start}`,
          {
            context: { start, end },
          },
        );
      }
      if (end > this.files.length) await this.loadLog();
      if (end > this.files.length) throw this.logBehind(end);
      const files = this.files.slice(start, end);
      const perFile = await mapLimit(files, READ_CONCURRENCY, (file) => this.readFile(file));
      const rows: Row[] = [];
      for (const fileRows of perFile) for (const row of fileRows) rows.push(row);
      groups.push({ partition: FILE_SOURCE_PARTITION, rows });
    }
    return groups;
  }

  async commit(_end: PartitionOffsets): Promise<void> {
    // Nothing to release: the log is needed for replays of later batches only.
  }

  metrics(): SourceMetrics {
    return { latestOffset: { [FILE_SOURCE_PARTITION]: String(this.files.length) }, filesInLog: this.files.length };
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  // --- the file log -------------------------------------------------------------------------------

  private get metadata(): ObjectStore {
    return (this.ctx as SourceContext).metadata;
  }

  /** Loads the log entries written after the ones already loaded (all of them on open). */
  private async loadLog(): Promise<void> {
    const keys: string[] = [];
    const after = this.entries > 0 ? logKey(this.entries - 1) : undefined;
    for await (const meta of this.metadata.list({ prefix: LOG_PREFIX, ...(after ? { startAfter: after } : {}) })) {
      if (LOG_KEY.test(meta.key)) keys.push(meta.key);
    }
    for (const key of keys) {
      const expected = logKey(this.entries);
      if (key !== expected) {
        throw new SourceError(
          'SOURCE_METADATA_CORRUPT',
          `${this.description}: the file log in ${this.metadata.location} has a gap: found ${key}, expected ${expected}`,
          { context: { location: this.metadata.location, key, expected } },
        );
      }
      this.adopt(await this.readEntry(key));
    }
  }

  private async readEntry(key: string): Promise<LogEntry> {
    const bytes = await this.metadata.get(key);
    let entry: unknown;
    try {
      entry = JSON.parse(new TextDecoder().decode(bytes));
    } catch (cause) {
      throw this.corrupt(key, 'not JSON', cause);
    }
    const files = (entry as { files?: unknown } | null)?.files;
    if ((entry as { version?: unknown } | null)?.version !== 1 || !Array.isArray(files)) {
      throw this.corrupt(key, 'expected {"version":1,"files":[...]}');
    }
    for (const file of files as unknown[]) {
      const f = file as Partial<LoggedFile> | null;
      if (typeof f?.path !== 'string' || typeof f.size !== 'number' || typeof f.mtime !== 'number') {
        throw this.corrupt(key, `bad file record ${JSON.stringify(file)}`);
      }
    }
    return entry as LogEntry;
  }

  private adopt(entry: LogEntry): void {
    for (const file of entry.files) {
      this.files.push({ path: file.path, size: file.size, mtime: file.mtime });
      this.seen.add(file.path);
    }
    this.entries += 1;
  }

  /** Lists the folder and makes the files not seen before durable in the log before returning. */
  private async discover(): Promise<void> {
    let pending = (await this.listFolder()).filter((file) => !this.seen.has(file.path));
    while (pending.length > 0) {
      const key = logKey(this.entries);
      const entry: LogEntry = { version: 1, files: pending };
      const outcome = await this.metadata.putIfAbsent(key, new TextEncoder().encode(JSON.stringify(entry)));
      if (outcome === 'created') {
        this.adopt(entry);
        return;
      }
      // Written before: by an attempt of ours whose acknowledgement was lost, or by a previous run.
      // Its files keep their positions; append whatever is still new after it.
      this.adopt(await this.readEntry(key));
      pending = pending.filter((file) => !this.seen.has(file.path));
    }
  }

  /** Every visible, matching file under the root, sorted by mtime then path. */
  private async listFolder(): Promise<LoggedFile[]> {
    const found: LoggedFile[] = [];
    const visit = async (dir: string, rel: string): Promise<void> => {
      let entries: Dirent[];
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (cause) {
        const errno = errnoOf(cause);
        if (rel === '' && errno !== undefined && NOT_FOUND_ERRNO.has(errno)) {
          throw new SourceError('SOURCE_NOT_FOUND', `${this.description}: the folder ${this.root} does not exist`, {
            context: { path: this.root },
            cause,
          });
        }
        if (errno === 'ENOENT') return; // a sub-folder removed while listing
        throw this.ioError(`cannot list ${dir}`, dir, cause);
      }
      const subfolders: Promise<void>[] = [];
      const stats: Promise<void>[] = [];
      for (const entry of entries) {
        if (isHidden(entry.name)) continue;
        const full = join(dir, entry.name);
        const path = rel === '' ? entry.name : `${rel}/${entry.name}`;
        if (entry.isDirectory()) {
          subfolders.push(visit(full, path));
          continue;
        }
        // Symbolic links to files are followed; links to folders are not (no cycles).
        if (!(entry.isFile() || entry.isSymbolicLink()) || !matches(this.pattern, path)) continue;
        stats.push(
          stat(full).then(
            (s: Stats) => {
              if (s.isFile()) found.push({ path, size: s.size, mtime: Math.floor(s.mtimeMs) });
            },
            (cause: unknown) => {
              const errno = errnoOf(cause);
              if (errno !== undefined && NOT_FOUND_ERRNO.has(errno)) return; // removed while listing
              throw this.ioError(`cannot stat ${full}`, full, cause);
            },
          ),
        );
      }
      await Promise.all([...stats, ...subfolders]);
    };
    await visit(this.root, '');
    return found.sort(byMtimeThenPath);
  }

  // --- reading -------------------------------------------------------------------------------------

  /** The first `file.size` bytes of the file (what was there at discovery). */
  private async readBytes(file: LoggedFile): Promise<Uint8Array> {
    const full = join(this.root, ...file.path.split('/'));
    let handle: Awaited<ReturnType<typeof open>>;
    try {
      handle = await open(full, 'r');
    } catch (cause) {
      const errno = errnoOf(cause);
      if (errno !== undefined && NOT_FOUND_ERRNO.has(errno)) {
        throw new SourceError(
          'SOURCE_FILE_MISSING',
          `${this.description}: file ${file.path} was discovered but no longer exists (${full}); ` +
            'files must stay in place until the batches reading them are committed',
          { context: { path: full, file: file.path }, cause },
        );
      }
      throw this.ioError(`cannot open ${full}`, full, cause);
    }
    try {
      const now = await handle.stat();
      if (now.size < file.size) {
        throw new SourceError(
          'SOURCE_FILE_CHANGED',
          `${this.description}: file ${file.path} shrank from ${file.size} to ${now.size} bytes after it was ` +
            'discovered; files must not be rewritten once visible (write then rename)',
          { context: { path: full, file: file.path, loggedSize: file.size, size: now.size } },
        );
      }
      if (now.size !== file.size || Math.floor(now.mtimeMs) !== file.mtime) {
        this.ctx?.warn(
          `${this.description}: ${file.path} changed after discovery; reading its first ${file.size} bytes`,
          {
            file: file.path,
            loggedSize: file.size,
            size: now.size,
            loggedMtime: file.mtime,
            mtime: Math.floor(now.mtimeMs),
          },
        );
      }
      const bytes = new Uint8Array(file.size);
      let filled = 0;
      while (filled < file.size) {
        const { bytesRead } = await handle.read(bytes, filled, file.size - filled, filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      if (filled < file.size) {
        throw new SourceError(
          'SOURCE_FILE_CHANGED',
          `${this.description}: file ${file.path} was truncated while reading`,
          { context: { path: full, file: file.path, loggedSize: file.size, read: filled } },
        );
      }
      return bytes;
    } catch (cause) {
      if (cause instanceof SourceError) throw cause;
      throw this.ioError(`cannot read ${full}`, full, cause);
    } finally {
      await handle.close();
    }
  }

  private async readFile(file: LoggedFile): Promise<Row[]> {
    const bytes = await this.readBytes(file);
    return this.format === 'jsonl' ? jsonlRows(bytes, file.path) : csvRows(bytes, file.path, this.delimiter, this.ctx);
  }

  // --- errors --------------------------------------------------------------------------------------

  private requireOpen(): void {
    if (this.ctx === undefined || this.closed) {
      throw new SourceError('SOURCE_NOT_OPEN', `${this.description} is ${this.closed ? 'closed' : 'not open'}`);
    }
  }

  private logBehind(offset: number): SourceError {
    return new SourceError(
      'SOURCE_DATA_LOST',
      `${this.description}: offset ${offset} is beyond the ${this.files.length} files of the file log in ` +
        `${this.metadata.location}; the source's checkpoint metadata was lost or belongs to another query`,
      { context: { offset, logLength: this.files.length, location: this.metadata.location } },
    );
  }

  private corrupt(key: string, problem: string, cause?: unknown): SourceError {
    return new SourceError(
      'SOURCE_METADATA_CORRUPT',
      `${this.description}: file log entry ${key} in ${this.metadata.location} is unreadable: ${problem}`,
      { context: { location: this.metadata.location, key }, cause },
    );
  }

  private ioError(what: string, path: string, cause: unknown): SourceError {
    const errno = errnoOf(cause);
    const retryable = errno !== undefined && RETRYABLE_ERRNO.has(errno);
    const reason = cause instanceof Error ? cause.message : String(cause);
    return new SourceError('SOURCE_READ_FAILED', `${this.description}: ${what}: ${reason}`, {
      retryable,
      context: { path, errno },
      cause,
    });
  }
}

function parseOffset(text: string, which: string): number {
  if (!/^\d{1,15}$/.test(text)) {
    throw new SourceError(
      'SOURCE_OFFSET_INVALID',
      `FileSource: ${which} offset ${JSON.stringify(text)} is not a file-log position`,
      {
        context: { offset: text },
      },
    );
  }
  return Number(text);
}

// --- JSONL ----------------------------------------------------------------------------------------

/** One row per non-blank line: `{ value, file, line }`; invalid UTF-8 gets `error`. */
export function jsonlRows(bytes: Uint8Array, file: string): Row[] {
  const rows: Row[] = [];
  const push = (text: string, line: number, error?: string) => {
    const value = text.endsWith('\r') ? text.slice(0, -1) : text;
    if (/^[ \t\r]*$/.test(value)) return;
    rows.push(error === undefined ? { value, file, line } : { value, file, line, error });
  };
  const whole = decodeStrict(bytes);
  if (whole !== undefined) {
    const lines = whole.split('\n');
    for (let index = 0; index < lines.length; index++) push(lines[index]!, index + 1);
    return rows;
  }
  // Some bytes are not UTF-8: decode line by line so only the bad lines are flagged.
  let start = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  for (let line = 1; start <= bytes.length; line++) {
    let end = bytes.indexOf(0x0a, start);
    if (end < 0) end = bytes.length;
    const slice = bytes.subarray(start, end);
    const text = decodeStrict(slice);
    if (text === undefined) push(lossyUtf8.decode(slice), line, 'invalid UTF-8');
    else push(text, line);
    start = end + 1;
  }
  return rows;
}

// --- CSV ------------------------------------------------------------------------------------------

/** Start offsets of the physical lines of `text` (LF, CRLF or CR end a line, as CsvParser counts). */
function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x0a) starts.push(i + 1);
    else if (c === 0x0d) {
      if (text.charCodeAt(i + 1) === 0x0a) i += 1;
      starts.push(i + 1);
    }
  }
  if (starts[starts.length - 1] === text.length && starts.length > 1) starts.pop(); // no empty last line
  return starts;
}

/** 1-based lines (LF-separated) that are not valid UTF-8. */
function invalidUtf8Lines(bytes: Uint8Array): Set<number> {
  const bad = new Set<number>();
  let start = 0;
  for (let line = 1; start < bytes.length; line++) {
    let end = bytes.indexOf(0x0a, start);
    if (end < 0) end = bytes.length;
    if (decodeStrict(bytes.subarray(start, end)) === undefined) bad.add(line);
    start = end + 1;
  }
  return bad;
}

function errorMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/^.*?:\d+(?::\d+)?: /, ''); // drop the "<file>:<line>:" prefix of InvalidInputError
}

/**
 * One row per CSV record after the header. Records are pushed to the parser a physical line at a
 * time so that a malformed record can be reported and parsing resumed at the next line.
 */
export function csvRows(bytes: Uint8Array, file: string, delimiter: string, ctx?: Pick<SourceContext, 'warn'>): Row[] {
  let text = decodeStrict(bytes);
  let badLines = new Set<number>();
  if (text === undefined) {
    text = lossyUtf8.decode(bytes);
    badLines = invalidUtf8Lines(bytes);
    ctx?.warn(`CSV file ${file} is not valid UTF-8 (lines ${[...badLines].join(', ')})`, { file });
  }
  if (text.length === 0) return [];
  const starts = lineStarts(text);
  const lineCount = starts.length;
  /** Text of physical lines first..last (1-based, inclusive) without the final line break. */
  const rawText = (first: number, last: number): string => {
    const from = starts[first - 1] ?? text.length;
    const to = last < lineCount ? (starts[last] ?? text.length) : text.length;
    return text.slice(from, to).replace(/(\r\n|\r|\n)$/, '');
  };
  const lineText = (line: number): string =>
    text.slice(starts[line - 1] ?? text.length, line < lineCount ? (starts[line] ?? text.length) : text.length);

  const rows: Row[] = [];
  let header: string[] | undefined;
  const bad = (line: number, last: number, error: string) => {
    rows.push({ value: rawText(line, last), file, line, error });
  };
  const emit = (line: number, last: number, fields: string[]) => {
    if (header === undefined) {
      header = headerNames(file, { line, fields });
      return;
    }
    if (fields.length !== header.length) {
      bad(line, last, `expected ${header.length} fields as in the header, found ${fields.length}`);
      return;
    }
    const value: Record<string, string | null> = {};
    header.forEach((name, index) => {
      const field = fields[index]!;
      Object.defineProperty(value, name, {
        value: field === '' ? null : field,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    });
    for (let l = line; l <= last; l++) {
      if (badLines.has(l)) {
        bad(line, last, 'invalid UTF-8');
        return;
      }
    }
    rows.push({ value, file, line });
  };

  let from = 1;
  while (from <= lineCount) {
    const parser = new CsvParser(file, { delimiter });
    const offset = from - 1; // the parser counts lines from 1 at `from`
    /** First physical line of the record being parsed, undefined between records. */
    let pending: number | undefined;
    let line = from;
    try {
      for (; line <= lineCount; line++) {
        const chunk = lineText(line);
        if (pending === undefined && !/^(\r\n|\r|\n)?$/.test(chunk)) pending = line;
        // A pushed line completes a record only at its line break, and then nothing is left pending.
        const records = parser.push(chunk);
        for (const record of records) emit(record.line + offset, line, record.fields);
        if (records.length > 0) pending = undefined;
      }
      for (const record of parser.end()) emit(record.line + offset, lineCount, record.fields);
      from = lineCount + 1;
    } catch (error) {
      const at = Math.min(line, lineCount);
      const first = pending ?? at;
      const message = errorMessage(error);
      if (header === undefined) {
        bad(first, at, `invalid CSV header: ${message}; the rest of the file is not read`);
        ctx?.warn(`CSV file ${file} has an invalid header: ${message}`, { file, line: first });
        return rows;
      }
      if (line > lineCount) {
        // end(): a quote opened on `first` never closed. Report that line only and resume after it.
        bad(first, first, message);
        from = first + 1;
      } else {
        bad(first, at, message);
        from = at + 1;
      }
    }
  }
  return rows;
}
