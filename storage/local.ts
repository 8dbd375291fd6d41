// LocalObjectStore: the ObjectStore seam on a local (or POSIX-shared) filesystem folder.
// put = temp file + fsync + rename; putIfAbsent = temp file + fsync + link(2) (EEXIST ⇒ 'exists').
// Temp files are named `.lakestream-tmp-<uuid>` in the target's folder and are skipped by list().

import { randomUUID } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { constants as fsConstants } from 'node:fs';
import { type FileHandle, link, lstat, mkdir, open, readdir, rename, stat, unlink } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ObjectNotFoundError, StorageError } from './errors.js';
import { compareKeys, RESERVED_SEGMENT_PREFIX, validateKey, validatePrefix, validateRange } from './key.js';
import type { ByteRange, ListOptions, ObjectMeta, ObjectStore } from './object-store.js';

/** errno codes of transient faults: retrying the same operation may succeed. */
const RETRYABLE_CODES: ReadonlySet<string> = new Set(['EAGAIN', 'EBUSY', 'EMFILE', 'ENFILE', 'ETIMEDOUT', 'EIO']);

/** How many files of one folder list() stats concurrently. */
const STAT_BATCH = 32;

/** errno codes meaning "no object at this key" when reading (missing file, folder in the way, file as parent). */
const NOT_FOUND_CODES: ReadonlySet<string> = new Set(['ENOENT', 'ENOTDIR', 'EISDIR']);

function errnoCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = (error as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

/**
 * An ObjectStore over a folder. Key `a/b.json` is the file `<rootDir>/a/b.json`; parent folders are
 * created on write and kept on delete. `list()` order is UTF-8 byte order (see storage/key.ts).
 *
 * putIfAbsent is atomic across processes (and across hosts on filesystems with a correct link(2),
 * e.g. local disks and NFSv4): the data is written and fsynced to a temp file in the target folder,
 * then hard-linked to the target name, which fails with EEXIST if any object holds that key.
 * Both put and putIfAbsent fsync the folder after publishing so the new name is durable.
 *
 * Limitation of a filesystem: a key cannot be both an object and a folder of other objects
 * (`a` and `a/b`); writing such a key throws StorageError `KEY_CONFLICT`.
 */
export class LocalObjectStore implements ObjectStore {
  readonly location: string;
  readonly rootDir: string;

  constructor(rootDir: string) {
    this.rootDir = resolve(rootDir);
    this.location = pathToFileURL(this.rootDir).href;
  }

  async get(key: string, range?: ByteRange): Promise<Uint8Array> {
    validateKey(key, this.location);
    if (range !== undefined) validateRange(range, this.location, key);
    const path = this.pathOf(key);
    let handle: FileHandle | undefined;
    try {
      handle = await open(path, fsConstants.O_RDONLY);
      const { size } = await handle.stat();
      const offset = range?.offset ?? 0;
      const end = range?.length === undefined ? size : Math.min(size, offset + range.length);
      const length = Math.max(0, end - offset);
      const bytes = new Uint8Array(length);
      let filled = 0;
      while (filled < length) {
        const { bytesRead } = await handle.read(bytes, filled, length - filled, offset + filled);
        if (bytesRead === 0) break; // truncated underneath us: return what exists
        filled += bytesRead;
      }
      return filled === length ? bytes : bytes.subarray(0, filled);
    } catch (error) {
      throw this.readError(error, 'get', key);
    } finally {
      await handle?.close();
    }
  }

  async head(key: string): Promise<ObjectMeta> {
    validateKey(key, this.location);
    try {
      const stats = await stat(this.pathOf(key));
      if (!stats.isFile()) throw new ObjectNotFoundError(this.location, key);
      return { key, size: stats.size, lastModified: Math.floor(stats.mtimeMs) };
    } catch (error) {
      throw this.readError(error, 'head', key);
    }
  }

  async put(key: string, data: Uint8Array): Promise<void> {
    validateKey(key, this.location);
    const target = this.pathOf(key);
    const temp = await this.writeTemp(key, target, data, 'put');
    try {
      await rename(temp, target);
    } catch (error) {
      await removeQuietly(temp);
      throw this.writeError(error, 'put', key);
    }
    await this.syncFolder(dirname(target), key, 'put');
  }

  async putIfAbsent(key: string, data: Uint8Array): Promise<'created' | 'exists'> {
    validateKey(key, this.location);
    const target = this.pathOf(key);
    const temp = await this.writeTemp(key, target, data, 'putIfAbsent');
    let outcome: 'created' | 'exists';
    try {
      await link(temp, target);
      outcome = 'created';
    } catch (error) {
      if (errnoCode(error) !== 'EEXIST') throw this.writeError(error, 'putIfAbsent', key);
      if (await isDirectory(target)) throw this.writeError(error, 'putIfAbsent', key, true);
      outcome = 'exists';
    } finally {
      await removeQuietly(temp);
    }
    if (outcome === 'created') await this.syncFolder(dirname(target), key, 'putIfAbsent');
    return outcome;
  }

  async *list(options: ListOptions = {}): AsyncIterable<ObjectMeta> {
    const prefix = options.prefix ?? '';
    const startAfter = options.startAfter;
    validatePrefix(prefix, this.location);
    const slash = prefix.lastIndexOf('/');
    const startFolder = slash < 0 ? '' : prefix.slice(0, slash + 1); // '' or ends with '/'
    yield* this.walk(startFolder, prefix, startAfter);
  }

  async delete(key: string): Promise<void> {
    validateKey(key, this.location);
    const path = this.pathOf(key);
    try {
      await unlink(path);
    } catch (error) {
      const code = errnoCode(error);
      if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return; // no object at key
      if (code === 'EPERM' && (await isDirectory(path))) return; // macOS reports EPERM for folders
      throw this.writeError(error, 'delete', key);
    }
  }

  /** Absolute path of a validated key. */
  private pathOf(key: string): string {
    return join(this.rootDir, ...key.split('/'));
  }

  /**
   * Yields objects under `folderKey` (a key prefix ending with '/', or '' for the root) in byte
   * order. Entries are sorted by name, folder names with a trailing '/', which makes this
   * depth-first walk produce global UTF-8 byte order: no file name contains '/', so a file sorts
   * against all of a sibling folder's keys the same way it sorts against `<folder>/`.
   */
  private async *walk(folderKey: string, prefix: string, startAfter: string | undefined): AsyncGenerator<ObjectMeta> {
    const folderPath = folderKey === '' ? this.rootDir : this.pathOf(folderKey.slice(0, -1));
    let entries: Dirent[];
    try {
      entries = await readdir(folderPath, { withFileTypes: true });
    } catch (error) {
      const code = errnoCode(error);
      if (code === 'ENOENT' || code === 'ENOTDIR') return; // nothing stored under this folder
      throw this.ioError(error, 'list', folderKey, 'LIST_FAILED');
    }
    const children: { key: string; sortKey: string; dir: boolean }[] = [];
    for (const entry of entries) {
      if (entry.name.startsWith(RESERVED_SEGMENT_PREFIX)) continue;
      let dir = entry.isDirectory();
      let file = entry.isFile();
      if (entry.isSymbolicLink()) {
        const target = await stat(join(folderPath, entry.name)).catch(() => undefined);
        dir = target?.isDirectory() ?? false;
        file = target?.isFile() ?? false;
      }
      if (!dir && !file) continue;
      const key = folderKey + entry.name;
      const sortKey = dir ? `${key}/` : key;
      if (!couldMatch(sortKey, dir, prefix, startAfter)) continue;
      children.push({ key, sortKey, dir });
    }
    children.sort((a, b) => compareKeys(a.sortKey, b.sortKey));
    // Runs of sibling files are stat'ed STAT_BATCH at a time; order is preserved.
    for (let i = 0; i < children.length; ) {
      const child = children[i]!;
      if (child.dir) {
        yield* this.walk(child.sortKey, prefix, startAfter);
        i += 1;
        continue;
      }
      const batch: string[] = [];
      while (i < children.length && batch.length < STAT_BATCH && !children[i]!.dir) batch.push(children[i++]!.key);
      const metas = await Promise.all(batch.map((key) => this.statForList(key)));
      for (const meta of metas) if (meta !== undefined) yield meta;
    }
  }

  /** Metadata of a listed file, or undefined if it vanished (deleted after the listing began) or is not a file. */
  private async statForList(key: string): Promise<ObjectMeta | undefined> {
    try {
      const stats = await stat(this.pathOf(key));
      return stats.isFile() ? { key, size: stats.size, lastModified: Math.floor(stats.mtimeMs) } : undefined;
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return undefined;
      throw this.ioError(error, 'list', key, 'LIST_FAILED');
    }
  }

  /** Writes `data` to a new temp file in the target's folder (creating folders) and fsyncs it. */
  private async writeTemp(key: string, target: string, data: Uint8Array, op: string): Promise<string> {
    const folder = dirname(target);
    try {
      await mkdir(folder, { recursive: true });
    } catch (error) {
      throw this.writeError(error, op, key, true);
    }
    const temp = join(folder, `${RESERVED_SEGMENT_PREFIX}${randomUUID()}`);
    let handle: FileHandle | undefined;
    try {
      handle = await open(temp, 'wx', 0o644);
      let written = 0;
      while (written < data.byteLength) {
        const { bytesWritten } = await handle.write(data, written, data.byteLength - written, written);
        written += bytesWritten;
      }
      await handle.sync();
      await handle.close();
      handle = undefined;
      return temp;
    } catch (error) {
      await handle?.close().catch(() => undefined);
      await removeQuietly(temp);
      throw this.writeError(error, op, key);
    }
  }

  /** fsyncs a folder so a rename/link inside it survives a crash. Best effort where unsupported. */
  private async syncFolder(folder: string, key: string, op: string): Promise<void> {
    let handle: FileHandle | undefined;
    try {
      handle = await open(folder, fsConstants.O_RDONLY);
      await handle.sync();
    } catch (error) {
      const code = errnoCode(error);
      if (code === 'EISDIR' || code === 'EINVAL' || code === 'EPERM' || code === 'EBADF') return; // not supported here
      throw this.writeError(error, op, key);
    } finally {
      await handle?.close().catch(() => undefined);
    }
  }

  private readError(error: unknown, op: string, key: string): Error {
    if (error instanceof StorageError) return error;
    const code = errnoCode(error);
    if (code !== undefined && NOT_FOUND_CODES.has(code)) return new ObjectNotFoundError(this.location, key, error);
    return this.ioError(error, op, key, 'IO_ERROR');
  }

  /** `existsIsConflict`: EEXIST means a file or folder is in the way (mkdir, link over a folder). */
  private writeError(error: unknown, op: string, key: string, existsIsConflict = false): Error {
    if (error instanceof StorageError) return error;
    const code = errnoCode(error);
    if (code === 'ENOTDIR' || code === 'EISDIR' || (code === 'EEXIST' && (existsIsConflict || op === 'put'))) {
      return new StorageError(
        `cannot ${op} ${key} in ${this.location}: a file and a folder would share one path on the local filesystem`,
        {
          code: 'KEY_CONFLICT',
          retryable: false,
          domain: 'user',
          cause: error,
          context: { location: this.location, key },
        },
      );
    }
    // ENOENT while writing means a folder vanished underneath us (concurrent cleanup): retry recreates it.
    return this.ioError(error, op, key, 'IO_ERROR', code === 'ENOENT');
  }

  private ioError(error: unknown, op: string, key: string, code: string, forceRetryable = false): StorageError {
    const errno = errnoCode(error);
    const detail = error instanceof Error ? error.message : String(error);
    return new StorageError(`${op} ${key === '' ? '(root)' : key} in ${this.location} failed: ${detail}`, {
      code,
      retryable: forceRetryable || (errno !== undefined && RETRYABLE_CODES.has(errno)),
      cause: error,
      context: { location: this.location, key, op, errno },
    });
  }
}

/** Whether an entry (file key, or folder key ending in '/') may hold keys matching prefix and startAfter. */
function couldMatch(sortKey: string, dir: boolean, prefix: string, startAfter: string | undefined): boolean {
  if (dir) {
    if (!(sortKey.startsWith(prefix) || prefix.startsWith(sortKey))) return false;
    // Every key under the folder is < startAfter when `<folder>/` < startAfter and startAfter is not inside it.
    if (startAfter !== undefined && !startAfter.startsWith(sortKey) && compareKeys(sortKey, startAfter) < 0) {
      return false;
    }
    return true;
  }
  if (!sortKey.startsWith(prefix)) return false;
  return startAfter === undefined || compareKeys(sortKey, startAfter) > 0;
}

async function removeQuietly(path: string): Promise<void> {
  await unlink(path).catch(() => undefined);
}

async function isDirectory(path: string): Promise<boolean> {
  return (await lstat(path).catch(() => undefined))?.isDirectory() ?? false;
}
