// readJsonl: streaming JSON Lines files with line numbers, blank lines, CRLF, chunk boundaries, errors.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InputReadError, InvalidInputError } from '../../../stream/input/errors.js';
import { readJsonl } from '../../../stream/input/jsonl.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lakestream-jsonl-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function fileWith(name: string, content: string | Uint8Array): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

async function readAll(file: string): Promise<{ line: number; row: unknown }[]> {
  const out: { line: number; row: unknown }[] = [];
  for await (const { line, row } of readJsonl(file)) out.push({ line, row });
  return out;
}

async function failure(file: string): Promise<Error> {
  try {
    await readAll(file);
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected reading to fail');
}

describe('readJsonl', () => {
  it('yields one row per non-blank line with its line number (LF, CRLF, no final newline, BOM)', async () => {
    const file = await fileWith('a.jsonl', '\uFEFF{"a":1}\r\n\n   \r\n{"a":2}\n{"b":"x"}');
    expect(await readAll(file)).toEqual([
      { line: 1, row: { a: 1 } },
      { line: 4, row: { a: 2 } },
      { line: 5, row: { b: 'x' } },
    ]);
  });

  it('handles lines longer than a read chunk and multi-byte characters across chunk boundaries', async () => {
    const long = 'é日😀'.repeat(200_000); // ~1.8 MB of multi-byte text on one line
    const file = await fileWith('big.jsonl', `{"s":"${long}"}\n{"n":1}\n`);
    const rows = await readAll(file);
    expect(rows).toHaveLength(2);
    expect((rows[0]!.row as { s: string }).s).toBe(long);
    expect(rows[1]).toEqual({ line: 2, row: { n: 1 } });
  });

  it('reads 10,000 lines lazily and in order', async () => {
    const lines = Array.from({ length: 10_000 }, (_, i) => JSON.stringify({ i, s: `row ${i}` }));
    const file = await fileWith('many.jsonl', `${lines.join('\n')}\n`);
    let expected = 0;
    for await (const { line, row } of readJsonl(file)) {
      expect(line).toBe(expected + 1);
      expect(row.i).toBe(expected);
      expected += 1;
    }
    expect(expected).toBe(10_000);
  });

  it('stops at the first malformed line naming file and line', async () => {
    const file = await fileWith('bad.jsonl', '{"a":1}\n\n{"a":2,}\n{"a":3}\n');
    const error = await failure(file);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).code).toBe('INVALID_INPUT');
    expect((error as InvalidInputError).context).toMatchObject({ file, line: 3, column: 8 });
    expect(error.message.startsWith(`${file}:3:8: invalid JSON`)).toBe(true);
  });

  it('rejects a line that is not an object', async () => {
    const file = await fileWith('arr.jsonl', '{"a":1}\n[{"a":2}]\n');
    const error = await failure(file);
    expect(error.message).toContain(`${file}:2:1`);
    expect(error.message).toContain('found an array');
  });

  it('reports invalid UTF-8 as INVALID_INPUT', async () => {
    const bytes = Buffer.concat([Buffer.from('{"a":"ok"}\n{"a":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}\n')]);
    const error = await failure(await fileWith('latin.jsonl', bytes));
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.message).toContain('invalid UTF-8');
  });

  it('reports a missing file or a folder as INPUT_READ_FAILED naming the file', async () => {
    const missing = join(dir, 'nope.jsonl');
    const error = await failure(missing);
    expect(error).toBeInstanceOf(InputReadError);
    expect((error as InputReadError).code).toBe('INPUT_READ_FAILED');
    expect(error.message).toBe(`cannot read input file ${missing}: no such file`);
    const folder = await failure(dir);
    expect(folder.message).toContain('is a folder');
  });
});
