// FileSource: discovery into the durable file log, rate limiting, replays through a fresh instance,
// hidden files, JSONL and CSV rows (bad CSV records as rows with `error`), missing files, and crashes
// around the log write, driven the way the engine drives a source.

import { mkdir, mkdtemp, rename, rm, unlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hasCode } from '../../../common/errors.js';
import { FaultyObjectStore } from '../../../storage/faulty.js';
import { LocalObjectStore } from '../../../storage/local.js';
import { MemoryObjectStore } from '../../../storage/memory.js';
import type { ObjectStore } from '../../../storage/object-store.js';
import { SourceError } from '../../../stream/errors.js';
import type { PartitionOffsets, Source, SourceContext } from '../../../stream/source.js';
import { csvRows, FileSource, type FileSourceOptions, jsonlRows } from '../../../stream/sources/files.js';
import type { Row } from '../../../stream/types.js';

const P = 'files';
let dir: string;
let data: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lakestream-file-source-'));
  data = join(dir, 'in');
  await mkdir(data);
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function context(metadata: ObjectStore, warnings: string[] = []): SourceContext {
  return { queryId: 'q1', metadata, now: Date.now, warn: (message) => warnings.push(message) };
}

/** Writes a file with a given mtime (seconds since the epoch) so discovery order is deterministic. */
async function put(relative: string, text: string | Uint8Array, mtimeSeconds: number): Promise<void> {
  const full = join(data, relative);
  await mkdir(join(full, '..'), { recursive: true });
  await writeFile(full, text);
  await utimes(full, mtimeSeconds, mtimeSeconds);
}

async function opened(metadata: ObjectStore, options: Partial<FileSourceOptions> = {}, warnings?: string[]) {
  const source = new FileSource({ path: data, format: 'jsonl', ...options });
  await source.open(context(metadata, warnings));
  return source;
}

interface Batch {
  start: string;
  end: string;
  rows: Row[];
}

/** Plans and reads batches like the engine until the source has nothing new. */
async function drain(source: Source, from: PartitionOffsets, limit?: PartitionOffsets): Promise<Batch[]> {
  const batches: Batch[] = [];
  let start = from;
  for (;;) {
    const end = await source.nextOffsets(start, limit);
    if (end[P] === start[P]) return batches;
    const groups = await source.read({ [P]: { start: start[P]!, end: end[P]! } });
    expect(groups.map((g) => g.partition)).toEqual([P]);
    batches.push({ start: start[P]!, end: end[P]!, rows: groups.flatMap((g) => g.rows) });
    await source.commit(end);
    start = end;
  }
}

const fileOf = (rows: Row[]) => [...new Set(rows.map((r) => r.file))];

async function errorOf(promise: Promise<unknown>): Promise<SourceError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(SourceError);
    return error as SourceError;
  }
  throw new Error('expected the call to fail');
}

describe('FileSource discovery', () => {
  it('reads JSONL files in mtime-then-path order, one row per non-blank line with file and line', async () => {
    await put('b.jsonl', '{"x":1}\n\n{"x":2}\r\n', 1000);
    await put('a.jsonl', '{"x":0}', 1000);
    await put('sub/deeper/c.ndjson', '  \n{"x":3}\n', 900);
    const source = await opened(new MemoryObjectStore());
    const start = await source.initialOffsets();
    expect(start).toEqual({ [P]: '0' });
    const batches = await drain(source, start);
    expect(batches).toHaveLength(1);
    expect(batches[0]!.end).toBe('3');
    expect(batches[0]!.rows).toEqual([
      { value: '{"x":3}', file: 'sub/deeper/c.ndjson', line: 2 },
      { value: '{"x":0}', file: 'a.jsonl', line: 1 },
      { value: '{"x":1}', file: 'b.jsonl', line: 1 },
      { value: '{"x":2}', file: 'b.jsonl', line: 3 },
    ]);
    expect(source.metrics()).toMatchObject({ latestOffset: { [P]: '3' } });
    await source.close();
    await source.close(); // idempotent
  });

  it('respects maxFilesPerTrigger and picks up files that appear later', async () => {
    for (let i = 0; i < 5; i++) await put(`f${i}.jsonl`, `{"i":${i}}\n`, 1000 + i);
    const source = await opened(new MemoryObjectStore(), { maxFilesPerTrigger: 2 });
    const first = await drain(source, await source.initialOffsets());
    expect(first.map((b) => [b.start, b.end])).toEqual([
      ['0', '2'],
      ['2', '4'],
      ['4', '5'],
    ]);
    expect(first.map((b) => fileOf(b.rows))).toEqual([
      ['f0.jsonl', 'f1.jsonl'],
      ['f2.jsonl', 'f3.jsonl'],
      ['f4.jsonl'],
    ]);
    // Nothing new: the end equals the start.
    expect(await source.nextOffsets({ [P]: '5' })).toEqual({ [P]: '5' });

    await put('late.jsonl', '{"late":true}\n', 2000);
    await put('f0.jsonl', '{"i":0}\n', 3000); // a seen file touched again is not re-read
    const later = await drain(source, { [P]: '5' });
    expect(later.map((b) => [b.start, b.end, fileOf(b.rows)])).toEqual([['5', '6', ['late.jsonl']]]);
  });

  it('keeps the file log durable: a new instance replays an old range with identical rows', async () => {
    const metadata = new LocalObjectStore(join(dir, 'checkpoint', 'sources', '0'));
    await put('a.jsonl', '{"a":1}\n{"a":2}\n', 1000);
    await put('b.jsonl', '{"b":1}\n', 1001);
    const first = await opened(metadata, { maxFilesPerTrigger: 1 });
    const planned = await first.nextOffsets({ [P]: '0' });
    expect(planned).toEqual({ [P]: '1' });
    const rows = await first.read({ [P]: { start: '0', end: '1' } });
    await first.close();

    // Files discovered by the first run keep their positions even if listing would now order them differently.
    await put('0-first-by-name.jsonl', '{"z":1}\n', 500);
    const second = await opened(metadata, { maxFilesPerTrigger: 10 });
    expect(await second.read({ [P]: { start: '0', end: '1' } })).toEqual(rows);
    const rest = await drain(second, planned);
    expect(rest.map((b) => fileOf(b.rows))).toEqual([['b.jsonl', '0-first-by-name.jsonl']]);
    const keys: string[] = [];
    for await (const meta of metadata.list({ prefix: 'log/' })) keys.push(meta.key);
    expect(keys).toEqual(['log/00000000000000000000.json', 'log/00000000000000000001.json']);
  });

  it('skips hidden and non-matching files; a renamed-into-place file is picked up', async () => {
    await put('.part-0.jsonl', '{"writing":true}\n', 1000);
    await put('_tmp/x.jsonl', '{"hidden":1}\n', 1000);
    await put('_SUCCESS', '', 1000);
    await put('notes.txt', 'not json', 1000);
    await put('ok.json', '{"ok":1}\n', 1000);
    const source = await opened(new MemoryObjectStore());
    const first = await drain(source, await source.initialOffsets());
    expect(first.flatMap((b) => fileOf(b.rows))).toEqual(['ok.json']);
    await rename(join(data, '.part-0.jsonl'), join(data, 'part-0.jsonl'));
    const second = await drain(source, { [P]: first.at(-1)!.end });
    expect(second.flatMap((b) => b.rows)).toEqual([{ value: '{"writing":true}', file: 'part-0.jsonl', line: 1 }]);
  });

  it('honours a custom pattern tested against the relative path', async () => {
    await put('2024/a.log', '{"a":1}\n', 1000);
    await put('2023/b.log', '{"b":1}\n', 1000);
    const source = await opened(new MemoryObjectStore(), { pattern: /^2024\/.*\.log$/ });
    const batches = await drain(source, await source.initialOffsets());
    expect(batches.flatMap((b) => fileOf(b.rows))).toEqual(['2024/a.log']);
  });

  it('bounds a Trigger.availableNow run by the files present when it was called', async () => {
    await put('a.jsonl', '{"a":1}\n', 1000);
    await put('b.jsonl', '{"b":1}\n', 1001);
    const source = await opened(new MemoryObjectStore(), { maxFilesPerTrigger: 1 });
    const limit = await source.availableNow();
    expect(limit).toEqual({ [P]: '2' });
    await put('c.jsonl', '{"c":1}\n', 1002);
    const batches = await drain(source, await source.initialOffsets(), limit);
    expect(batches.map((b) => fileOf(b.rows))).toEqual([['a.jsonl'], ['b.jsonl']]);
    // The next run sees c.
    expect(await source.nextOffsets({ [P]: '2' })).toEqual({ [P]: '3' });
  });

  it('fails with SOURCE_NOT_FOUND when the folder does not exist', async () => {
    const source = new FileSource({ path: join(dir, 'nope'), format: 'jsonl' });
    await source.open(context(new MemoryObjectStore()));
    const error = await errorOf(source.nextOffsets({ [P]: '0' }));
    expect(error.code).toBe('SOURCE_NOT_FOUND');
    expect(error.message).toContain('nope');
  });

  it('refuses bad options', () => {
    expect(() => new FileSource({ path: data, format: 'xml' as 'csv' })).toThrow(/format/);
    expect(() => new FileSource({ path: data, format: 'jsonl', maxFilesPerTrigger: 0 })).toThrow(/maxFilesPerTrigger/);
    expect(() => new FileSource({ path: data, format: 'csv', csv: { delimiter: '"' } })).toThrow(/delimiter/);
  });
});

describe('FileSource rows', () => {
  it('gives CSV records keyed by the header, empty fields as null, with file and line', async () => {
    await put('a.csv', 'id;name;note\r\n1;ann;"multi\nline; text"\n2;;\n\n3;"say ""hi""";x', 1000);
    const source = await opened(new MemoryObjectStore(), { format: 'csv', csv: { delimiter: ';' } });
    const [batch] = await drain(source, await source.initialOffsets());
    expect(batch!.rows).toEqual([
      { value: { id: '1', name: 'ann', note: 'multi\nline; text' }, file: 'a.csv', line: 2 },
      { value: { id: '2', name: null, note: null }, file: 'a.csv', line: 4 },
      { value: { id: '3', name: 'say "hi"', note: 'x' }, file: 'a.csv', line: 6 },
    ]);
  });

  it('turns malformed CSV records into rows with the raw text and an error, and keeps parsing', async () => {
    const text = [
      'a,b', // 1
      '1,2', // 2
      '3', // 3: too few fields
      '4,5,6', // 4: too many
      '7,x"y', // 5: quote inside an unquoted field
      '8,"multi', // 6: a record spanning lines 6-7 ...
      'line"z', // 7: ... with a stray character after its closing quote
      '9,10', // 8
      '11,"never closed', // 9
      '12,13', // 10
    ].join('\n');
    await put('bad.csv', `${text}\n`, 1000);
    const source = await opened(new MemoryObjectStore(), { format: 'csv' });
    const [batch] = await drain(source, await source.initialOffsets());
    const rows = batch!.rows;
    expect(rows.map((r) => [r.line, r.error === undefined ? r.value : r.value])).toEqual([
      [2, { a: '1', b: '2' }],
      [3, '3'],
      [4, '4,5,6'],
      [5, '7,x"y'],
      [6, '8,"multi\nline"z'],
      [8, { a: '9', b: '10' }],
      [9, '11,"never closed'],
      [10, { a: '12', b: '13' }],
    ]);
    expect(rows.filter((r) => r.error !== undefined).map((r) => r.line)).toEqual([3, 4, 5, 6, 9]);
    expect(rows.find((r) => r.line === 3)!.error).toBe('expected 2 fields as in the header, found 1');
    expect(String(rows.find((r) => r.line === 9)!.error)).toMatch(/unterminated quoted field/);
    expect(rows.every((r) => r.file === 'bad.csv')).toBe(true);
  });

  it('reports an unusable CSV header as one error row and skips an empty file', async () => {
    const warnings: string[] = [];
    const rows = csvRows(new TextEncoder().encode('a,a\n1,2\n'), 'dup.csv', ',', { warn: (m) => warnings.push(m) });
    expect(rows).toEqual([{ value: 'a,a', file: 'dup.csv', line: 1, error: expect.stringMatching(/appears twice/) }]);
    expect(warnings).toHaveLength(1);
    expect(csvRows(new Uint8Array(), 'empty.csv', ',')).toEqual([]);
  });

  it('flags lines that are not UTF-8 instead of failing', () => {
    const bytes = new Uint8Array([...new TextEncoder().encode('{"a":1}\n'), 0xff, 0x7b, 0x7d, 0x0a]);
    expect(jsonlRows(bytes, 'x.jsonl')).toEqual([
      { value: '{"a":1}', file: 'x.jsonl', line: 1 },
      { value: '\uFFFD{}', file: 'x.jsonl', line: 2, error: 'invalid UTF-8' },
    ]);
  });

  it('fails with SOURCE_FILE_MISSING when a planned file disappeared', async () => {
    await put('a.jsonl', '{"a":1}\n', 1000);
    const source = await opened(new MemoryObjectStore());
    const end = await source.nextOffsets({ [P]: '0' });
    await unlink(join(data, 'a.jsonl'));
    const error = await errorOf(source.read({ [P]: { start: '0', end: end[P]! } }));
    expect(error.code).toBe('SOURCE_FILE_MISSING');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('a.jsonl');
  });

  it('reads a file only up to the size logged at discovery, so replays are exact', async () => {
    await put('a.jsonl', '{"a":1}\n', 1000);
    const warnings: string[] = [];
    const source = await opened(new MemoryObjectStore(), {}, warnings);
    const end = await source.nextOffsets({ [P]: '0' });
    await writeFile(join(data, 'a.jsonl'), '{"a":1}\n{"a":2}\n');
    const [group] = await source.read({ [P]: { start: '0', end: end[P]! } });
    expect(group!.rows).toEqual([{ value: '{"a":1}', file: 'a.jsonl', line: 1 }]);
    expect(warnings.join()).toContain('changed after discovery');
  });
});

describe('FileSource crashes around the file log', () => {
  /** The engine's durable state: the planned ends, and how many batches were committed. */
  interface Checkpoint {
    planned: string[];
    committed: number;
  }

  /** Runs batches until the source is idle or the store crashes; returns the rows read per batch id. */
  async function run(source: FileSource, checkpoint: Checkpoint, rowsByBatch: Map<number, Row[]>): Promise<void> {
    // Replay a planned but uncommitted batch first (the engine's recovery rule).
    for (;;) {
      const batchId = checkpoint.committed;
      const start = batchId === 0 ? (await source.initialOffsets())[P]! : checkpoint.planned[batchId - 1]!;
      let end = checkpoint.planned[batchId];
      if (end === undefined) {
        end = (await source.nextOffsets({ [P]: start }))[P]!;
        if (end === start) return;
        checkpoint.planned.push(end);
      }
      const [group] = await source.read({ [P]: { start, end } });
      rowsByBatch.set(batchId, group!.rows);
      checkpoint.committed += 1;
    }
  }

  async function writeFiles(names: string[], mtime: number) {
    for (const name of names) await put(`${name}.jsonl`, `{"f":"${name}"}\n`, mtime);
  }

  for (const before of [true, false]) {
    it(`yields every file exactly once after a crash ${before ? 'before' : 'after'} the log write`, async () => {
      const inner = new MemoryObjectStore();
      const checkpoint: Checkpoint = { planned: [], committed: 0 };
      const rowsByBatch = new Map<number, Row[]>();
      await writeFiles(['a', 'b', 'c'], 1000);

      // Run 1: the first discovery is logged, then the second log write crashes the process.
      const store1 = new FaultyObjectStore(inner).crashAt('putIfAbsent', { nth: 2, before });
      const run1 = await opened(store1, { maxFilesPerTrigger: 2 });
      await run(run1, checkpoint, rowsByBatch);
      expect(checkpoint.planned).toEqual(['2', '3']);
      await writeFiles(['d', 'e'], 1001);
      const crash = run(run1, checkpoint, rowsByBatch);
      await expect(crash).rejects.toSatisfy((e: unknown) => hasCode(e, 'INJECTED_CRASH'));
      expect(store1.crashed).toBe(true);

      // Run 2: a restarted process on the same checkpoint.
      await writeFiles(['f'], 1002);
      const run2 = await opened(inner, { maxFilesPerTrigger: 2 });
      await run(run2, checkpoint, rowsByBatch);

      const files = [...rowsByBatch.keys()]
        .sort((a, b) => a - b)
        .flatMap((id) => rowsByBatch.get(id)!.map((r) => r.file));
      expect([...files].sort()).toEqual(['a.jsonl', 'b.jsonl', 'c.jsonl', 'd.jsonl', 'e.jsonl', 'f.jsonl']);
      // Crash after the write: d and e kept the positions the dead run gave them (one entry), f came later.
      const entries: string[] = [];
      for await (const meta of inner.list({ prefix: 'log/' })) entries.push(meta.key);
      expect(entries).toHaveLength(before ? 2 : 3);
    });
  }

  it('adopts a log entry whose write succeeded but was not acknowledged (retry in the same run)', async () => {
    const inner = new MemoryObjectStore();
    const store = new FaultyObjectStore(inner, [{ op: 'putIfAbsent', action: 'fail-after' }]);
    await writeFiles(['a', 'b'], 1000);
    const source = await opened(store);
    const failure = source.nextOffsets({ [P]: '0' });
    await expect(failure).rejects.toSatisfy((e: unknown) => hasCode(e, 'INJECTED_FAULT'));
    await writeFiles(['c'], 1001);
    expect(await source.nextOffsets({ [P]: '0' })).toEqual({ [P]: '3' });
    const [group] = await source.read({ [P]: { start: '0', end: '3' } });
    expect(group!.rows.map((r) => r.file)).toEqual(['a.jsonl', 'b.jsonl', 'c.jsonl']);
    expect(store.callsTo('putIfAbsent').map((c) => c.key)).toEqual([
      'log/00000000000000000000.json',
      'log/00000000000000000000.json',
      'log/00000000000000000001.json',
    ]);
  });

  it('reports SOURCE_DATA_LOST when offsets point beyond the file log', async () => {
    await writeFiles(['a'], 1000);
    const source = await opened(new MemoryObjectStore());
    const error = await errorOf(source.read({ [P]: { start: '0', end: '5' } }));
    expect(error.code).toBe('SOURCE_DATA_LOST');
  });
});
