// CSV reader: RFC 4180 parsing (quotes, escapes, embedded newlines), chunk-independence (property
// test), header handling, and line-numbered errors.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CsvParser, type CsvRecord, openCsv } from '../../../stream/input/csv.js';
import { InvalidInputError } from '../../../stream/input/errors.js';

function parse(text: string, chunkSizes: number[] = [text.length || 1], delimiter = ','): CsvRecord[] {
  const parser = new CsvParser('t.csv', { delimiter });
  const out: CsvRecord[] = [];
  let at = 0;
  for (let i = 0; at < text.length; i++) {
    const size = Math.max(1, chunkSizes[i % chunkSizes.length]!);
    out.push(...parser.push(text.slice(at, at + size)));
    at += size;
  }
  out.push(...parser.end());
  return out;
}

function parseError(text: string): InvalidInputError {
  try {
    parse(text);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidInputError);
    return error as InvalidInputError;
  }
  throw new Error(`expected ${JSON.stringify(text)} to be rejected`);
}

describe('CsvParser', () => {
  it('parses quoted fields with delimiters, doubled quotes and newlines', () => {
    const text = 'a,b,c\r\n1,"x, y","say ""hi"""\n2,"multi\nline\r\ntext",\n';
    expect(parse(text)).toEqual([
      { line: 1, fields: ['a', 'b', 'c'] },
      { line: 2, fields: ['1', 'x, y', 'say "hi"'] },
      { line: 3, fields: ['2', 'multi\nline\r\ntext', ''] },
    ]);
  });

  it('numbers records by their first physical line across LF, CRLF and CR endings', () => {
    expect(parse('a\n"b\nb"\r\nc\rd')).toEqual([
      { line: 1, fields: ['a'] },
      { line: 2, fields: ['b\nb'] },
      { line: 4, fields: ['c'] },
      { line: 5, fields: ['d'] },
    ]);
  });

  it('skips empty lines but keeps a quoted empty field and delimiter-only lines', () => {
    expect(parse('a\n\n\r\n""\n,\n')).toEqual([
      { line: 1, fields: ['a'] },
      { line: 4, fields: [''] },
      { line: 5, fields: ['', ''] },
    ]);
  });

  it('supports another delimiter and keeps spaces', () => {
    expect(parse('a\tb\n x \t"y\tz"\n', undefined, '\t')).toEqual([
      { line: 1, fields: ['a', 'b'] },
      { line: 2, fields: [' x ', 'y\tz'] },
    ]);
  });

  it('rejects a quote inside an unquoted field', () => {
    const error = parseError('a,b\nx,ab"c\n');
    expect(error.context).toMatchObject({ file: 't.csv', line: 2, column: 5 });
    expect(error.message).toContain('quote inside an unquoted field');
  });

  it('rejects text after a closing quote', () => {
    const error = parseError('a\n"ab"c\n');
    expect(error.context).toMatchObject({ line: 2, column: 5 });
    expect(error.message).toContain('after the closing quote');
  });

  it('rejects an unterminated quote, naming the line where it opened', () => {
    const error = parseError('a,b\n1,2\n3,"open\nstill open\n');
    expect(error.context).toMatchObject({ line: 3 });
    expect(error.message).toContain('unterminated quoted field (opened on line 3');
  });

  it('rejects invalid delimiters', () => {
    for (const delimiter of ['', ';;', '"', '\n']) {
      expect(() => new CsvParser('t.csv', { delimiter }), delimiter).toThrow(/invalid CSV delimiter/);
    }
  });

  it('parses any RFC 4180 serialization the same way, however the text is chunked', () => {
    const field = fc.string({ unit: fc.constantFrom('a', 'b', ' ', ',', '"', '\n', '\r', 'é', '😀', 'x') });
    const table = fc
      .integer({ min: 1, max: 4 })
      .chain((width) =>
        fc.array(fc.array(field, { minLength: width, maxLength: width }), { minLength: 1, maxLength: 8 }),
      );
    fc.assert(
      fc.property(
        table,
        fc.constantFrom('\n', '\r\n'),
        fc.boolean(),
        fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 5 }),
        (rows, eol, quoteAll, chunks) => {
          // A single empty unquoted field would be an empty line, which is skipped: quote those.
          const encode = (value: string, only: boolean) =>
            quoteAll || /[",\r\n]/.test(value) || (only && value === '') ? `"${value.replaceAll('"', '""')}"` : value;
          const text = rows.map((row) => row.map((value) => encode(value, row.length === 1)).join(',')).join(eol) + eol;
          expect(parse(text, chunks).map((record) => record.fields)).toEqual(rows);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('openCsv', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lakestream-csv-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function fileWith(content: string): Promise<string> {
    const path = join(dir, 'in.csv');
    await writeFile(path, content);
    return path;
  }

  it('reads the header, then rows keyed by column name with their line numbers', async () => {
    const file = await fileWith('\uFEFFid,name\n1,"a\nb"\n2,c\n');
    const table = await openCsv(file);
    expect(table.header).toEqual(['id', 'name']);
    const rows = [];
    for await (const row of table.rows) rows.push(row);
    expect(rows).toEqual([
      { line: 2, row: { id: '1', name: 'a\nb' } },
      { line: 4, row: { id: '2', name: 'c' } },
    ]);
  });

  it('names blank header columns _c<index> and refuses duplicates', async () => {
    const table = await openCsv(await fileWith('a,,c\n1,2,3\n'));
    expect(table.header).toEqual(['a', '_c1', 'c']);
    await table.close();
    await expect(openCsv(await fileWith('a,b,a\n'))).rejects.toThrow(/column "a" appears twice \(columns 1 and 3\)/);
  });

  it('rejects a row whose field count differs from the header, naming the line', async () => {
    const file = await fileWith('a,b\n1,2\n3\n');
    const table = await openCsv(file);
    const seen: string[] = [];
    const error = await (async () => {
      for await (const { row } of table.rows) seen.push(row.a!);
    })().catch((caught: unknown) => caught as InvalidInputError);
    expect(seen).toEqual(['1']);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error?.message).toBe(`${file}:3: invalid CSV: expected 2 fields as in the header, found 1`);
  });

  it('rejects an empty file', async () => {
    await expect(openCsv(await fileWith(''))).rejects.toThrow(/the CSV file is empty; expected a header row/);
    await expect(openCsv(await fileWith('\n\n'))).rejects.toThrow(InvalidInputError);
  });

  it('keeps a "__proto__" column as data', async () => {
    const table = await openCsv(await fileWith('__proto__,b\nx,y\n'));
    for await (const { row } of table.rows) {
      expect(Object.keys(row)).toEqual(['__proto__', 'b']);
      expect(Object.getPrototypeOf(row)).toBe(Object.prototype);
    }
  });
});
