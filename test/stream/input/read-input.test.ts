// openInput: format detection, two-pass inference + conversion for JSONL and CSV, given schemas.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StructType } from '../../../sinks/schema.js';
import { InputArgumentError, InvalidInputError } from '../../../stream/input/errors.js';
import { inputFormat, openInput } from '../../../stream/input/read-input.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lakestream-input-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function fileWith(name: string, content: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

async function collect(rows: AsyncIterable<Record<string, unknown>>): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  for await (const row of rows) out.push(row);
  return out;
}

describe('inputFormat', () => {
  it('detects the format from the extension or the option', () => {
    expect(inputFormat('a/b.JSONL')).toBe('jsonl');
    expect(inputFormat('x.ndjson')).toBe('jsonl');
    expect(inputFormat('x.csv')).toBe('csv');
    expect(inputFormat('x.tsv')).toBe('csv');
    expect(inputFormat('x.txt', 'csv')).toBe('csv');
  });

  it('names the option when the format is unknown', () => {
    expect(() => inputFormat('data.txt')).toThrow(InputArgumentError);
    expect(() => inputFormat('data.txt')).toThrow(/^--input: cannot tell the format of data\.txt/);
    expect(() => inputFormat('data.csv', 'parquet')).toThrow(/^--format: unknown input format "parquet"/);
  });
});

describe('openInput', () => {
  it('infers a JSONL schema over the whole file, then streams rows conformed to it', async () => {
    const file = await fileWith(
      'events.jsonl',
      [
        '{"id":1,"v":2,"user":{"name":"a"}}',
        '{"id":2,"v":2.5,"tags":["x"]}',
        '{"id":9223372036854775807,"v":"n/a"}',
      ].join('\n'),
    );
    const input = await openInput(file);
    expect(input.format).toBe('jsonl');
    expect(input.inferred).toBe(true);
    expect(input.inferredFromRows).toBe(3);
    expect(input.schema.fields.map((f) => [f.name, f.type])).toEqual([
      ['id', 'long'],
      ['v', 'string'],
      ['user', { type: 'struct', fields: [{ name: 'name', type: 'string', nullable: true, metadata: {} }] }],
      ['tags', { type: 'array', elementType: 'string', containsNull: true }],
    ]);
    expect(await collect(input.rows())).toEqual([
      { id: 1, v: '2', user: { name: 'a' }, tags: null },
      { id: 2, v: '2.5', user: null, tags: ['x'] },
      { id: 9223372036854775807n, v: 'n/a', user: null, tags: null },
    ]);
    // rows() can be read again.
    expect(await collect(input.rows())).toHaveLength(3);
  });

  it('infers a CSV schema (dates and timestamps on by default) and converts the fields', async () => {
    const file = await fileWith(
      'orders.csv',
      'id,amount,day,at,paid\n1,10,2024-01-01,2024-01-01T10:00:00Z,true\n2,12.5,2024-01-02,,FALSE\n',
    );
    const input = await openInput(file);
    expect(input.schema.fields.map((f) => [f.name, f.type])).toEqual([
      ['id', 'long'],
      ['amount', 'double'],
      ['day', 'date'],
      ['at', 'timestamp'],
      ['paid', 'boolean'],
    ]);
    expect(await collect(input.rows())).toEqual([
      { id: 1, amount: 10, day: '2024-01-01', at: '2024-01-01T10:00:00Z', paid: true },
      { id: 2, amount: 12.5, day: '2024-01-02', at: null, paid: false },
    ]);
  });

  it('reads TSV with a tab delimiter', async () => {
    const input = await openInput(await fileWith('t.tsv', 'a\tb\n1\tx,y\n'));
    expect(await collect(input.rows())).toEqual([{ a: 1, b: 'x,y' }]);
  });

  it('uses a given schema without inferring, and reports values that do not fit it', async () => {
    const schema: StructType = {
      type: 'struct',
      fields: [
        { name: 'id', type: 'long', nullable: false, metadata: {} },
        { name: 'note', type: 'string', nullable: true, metadata: {} },
      ],
    };
    const good = await openInput(await fileWith('good.csv', 'id\n7\n'), { schema });
    expect(good.inferred).toBe(false);
    expect(good.inferredFromRows).toBeUndefined();
    expect(await collect(good.rows())).toEqual([{ id: 7, note: null }]);

    const bad = await openInput(await fileWith('bad.csv', 'id,note\n1,a\nx,b\n'), { schema });
    await expect(collect(bad.rows())).rejects.toThrow(/bad\.csv:3 \(field "id"\): "x" is not a valid long/);

    const extra = await openInput(await fileWith('extra.csv', 'id,other\n1,2\n'), { schema });
    await expect(collect(extra.rows())).rejects.toThrow(/CSV column "other" not in the schema/);

    const json = await openInput(await fileWith('bad.jsonl', '{"id":1}\n{"id":"two"}\n'), { schema });
    const error = await collect(json.rows()).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).context).toMatchObject({ line: 2, field: 'id' });
  });

  it('honours inference switches', async () => {
    const file = await fileWith('t.jsonl', '{"t":"2024-01-01T00:00:00Z"}\n');
    expect((await openInput(file)).schema.fields[0]?.type).toBe('string');
    expect((await openInput(file, { infer: { inferTimestamps: true } })).schema.fields[0]?.type).toBe('timestamp');
    const csv = await fileWith('d.csv', 'd\n2024-01-01\n');
    expect((await openInput(csv, { infer: { inferDates: false } })).schema.fields[0]?.type).toBe('string');
  });

  it('fails inference on a malformed line, naming it', async () => {
    const file = await fileWith('broken.jsonl', '{"a":1}\n{"a":\n');
    await expect(openInput(file)).rejects.toThrow(/broken\.jsonl:2:6: invalid JSON: unexpected end of line/);
  });
});
