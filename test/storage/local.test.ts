// LocalObjectStore: the shared ObjectStore contract plus filesystem specifics (temp files, errors, URLs).

import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StorageError } from '../../storage/errors.js';
import { RESERVED_SEGMENT_PREFIX } from '../../storage/key.js';
import { LocalObjectStore } from '../../storage/local.js';
import { objectStoreContract } from '../contracts/object-store.js';

const utf8 = (text: string) => new TextEncoder().encode(text);

async function tempRoot(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'lakestream-local-'));
}

async function allNames(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true });
  return entries.map(String);
}

async function listKeys(store: LocalObjectStore, prefix?: string): Promise<string[]> {
  const out: string[] = [];
  for await (const meta of store.list(prefix === undefined ? {} : { prefix })) out.push(meta.key);
  return out;
}

objectStoreContract('LocalObjectStore', async () => {
  const root = await tempRoot();
  return {
    store: new LocalObjectStore(join(root, 'table')),
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
});

describe('LocalObjectStore', () => {
  let root: string;
  beforeEach(async () => {
    root = await tempRoot();
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('reports the file URL of its resolved root as location', () => {
    const store = new LocalObjectStore(join(root, 'sub', '..', 'events'));
    expect(store.location).toBe(pathToFileURL(join(root, 'events')).href);
    expect(store.rootDir).toBe(join(root, 'events'));
  });

  it('stores key a/b.json as the file <root>/a/b.json', async () => {
    const store = new LocalObjectStore(root);
    await store.put('a/b.json', utf8('{}'));
    await store.putIfAbsent('c/d/e.json', utf8('[]'));
    expect((await allNames(root)).sort()).toEqual(['a', 'a/b.json', 'c', 'c/d', 'c/d/e.json']);
  });

  it('leaves no temp files behind after put, putIfAbsent created/exists and races', async () => {
    const store = new LocalObjectStore(root);
    await store.put('x/a', utf8('1'));
    await store.put('x/a', utf8('2'));
    await store.putIfAbsent('x/b', utf8('1'));
    await store.putIfAbsent('x/b', utf8('2'));
    await Promise.all(Array.from({ length: 10 }, (_, i) => store.putIfAbsent('x/c', utf8(String(i)))));
    expect((await allNames(root)).sort()).toEqual(['x', 'x/a', 'x/b', 'x/c']);
  });

  it('never lists in-flight temp files', async () => {
    const store = new LocalObjectStore(root);
    await store.put('_delta_log/00000000000000000000.json', utf8('{}'));
    await writeFile(join(root, '_delta_log', `${RESERVED_SEGMENT_PREFIX}1234`), 'partial');
    await mkdir(join(root, `${RESERVED_SEGMENT_PREFIX}dir`));
    await writeFile(join(root, `${RESERVED_SEGMENT_PREFIX}dir`, 'f'), 'x');
    expect(await listKeys(store)).toEqual(['_delta_log/00000000000000000000.json']);
  });

  it('lists nothing (no error) when the root does not exist yet, and creates it on put', async () => {
    const store = new LocalObjectStore(join(root, 'not', 'yet'));
    expect(await listKeys(store)).toEqual([]);
    expect(await listKeys(store, 'a/b/')).toEqual([]);
    await store.put('k', utf8('v'));
    expect(await listKeys(store)).toEqual(['k']);
  });

  it('lists files reached through a symlinked folder and skips dangling links', async () => {
    const { symlink } = await import('node:fs/promises');
    const store = new LocalObjectStore(join(root, 'table'));
    await store.put('own', utf8('o'));
    await mkdir(join(root, 'elsewhere'));
    await writeFile(join(root, 'elsewhere', 'f'), 'f');
    await symlink(join(root, 'elsewhere'), join(root, 'table', 'linked'));
    await symlink(join(root, 'missing'), join(root, 'table', 'dangling'));
    expect(await listKeys(store)).toEqual(['linked/f', 'own']);
  });

  it('lists a folder larger than one stat batch in order, with sizes, interleaved with subfolders', async () => {
    const store = new LocalObjectStore(root);
    const expected: string[] = [];
    for (let i = 0; i < 100; i++) {
      const key = `log/${String(i).padStart(4, '0')}.json`;
      expected.push(key);
      if (i % 10 === 5) expected.push(`log/${String(i).padStart(4, '0')}.json.d/inner`);
    }
    for (const key of [...expected].reverse()) await store.put(key, utf8(key));
    const listed: { key: string; size: number }[] = [];
    for await (const meta of store.list({ prefix: 'log/' })) listed.push({ key: meta.key, size: meta.size });
    expect(listed.map((meta) => meta.key)).toEqual(expected);
    expect(listed.every((meta) => meta.size === utf8(meta.key).byteLength)).toBe(true);
  });

  it('throws KEY_CONFLICT when a key would be both a file and a folder', async () => {
    const store = new LocalObjectStore(root);
    await store.put('a', utf8('file'));
    for (const write of [() => store.put('a/b', utf8('x')), () => store.putIfAbsent('a/b', utf8('x'))]) {
      const error = await write().then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(StorageError);
      expect((error as StorageError).code).toBe('KEY_CONFLICT');
      expect((error as StorageError).retryable).toBe(false);
      expect((error as StorageError).message).toContain('a/b');
    }
    await store.put('dir/x', utf8('x'));
    for (const write of [() => store.put('dir', utf8('y')), () => store.putIfAbsent('dir', utf8('y'))]) {
      const error = await write().catch((caught: unknown) => caught);
      expect((error as StorageError).code).toBe('KEY_CONFLICT');
    }
    expect(await listKeys(store)).toEqual(['a', 'dir/x']);
  });

  it('maps a name too long for the filesystem to a non-retryable IO_ERROR naming the key', async () => {
    const store = new LocalObjectStore(root);
    const key = `dir/${'n'.repeat(300)}`;
    for (const attempt of [
      () => store.put(key, utf8('x')),
      () => store.get(key),
      () => store.putIfAbsent(key, utf8('x')),
    ]) {
      const error = await attempt().catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(StorageError);
      const fault = error as StorageError;
      expect(fault.code).toBe('IO_ERROR');
      expect(fault.retryable).toBe(false);
      expect(fault.context).toMatchObject({ location: store.location, key, errno: 'ENAMETOOLONG' });
      expect(fault.message).toContain(key);
    }
  });
});
