// CSV value conversion to a schema: typed values, '' as null, errors naming file, line and column.

import { describe, expect, it } from 'vitest';
import type { DataType, StructType } from '../../../sinks/schema.js';
import { checkCsvHeader, convertCsvRow, csvRowConverter } from '../../../stream/input/convert-csv.js';
import { InvalidInputError } from '../../../stream/input/errors.js';

const schemaOf = (fields: Record<string, DataType>): StructType => ({
  type: 'struct',
  fields: Object.entries(fields).map(([name, type]) => ({ name, type, nullable: true, metadata: {} })),
});

const all = schemaOf({
  s: 'string',
  l: 'long',
  i: 'integer',
  d: 'double',
  b: 'boolean',
  day: 'date',
  at: 'timestamp',
  dec: 'decimal(10,2)',
});

describe('convertCsvRow', () => {
  it('converts each field to its column type', () => {
    const row = {
      s: ' text ',
      l: '9223372036854775807',
      i: '-12',
      d: '2.5e1',
      b: 'TRUE',
      day: '2024-02-29',
      at: '2024-01-02T03:04:05.5+01:00',
      dec: '-123.45',
    };
    expect(convertCsvRow(row, all, { file: 'in.csv', line: 2 })).toEqual({
      s: ' text ',
      l: 9223372036854775807n,
      i: -12,
      d: 25,
      b: true,
      day: '2024-02-29',
      at: '2024-01-02T03:04:05.5+01:00',
      dec: '-123.45',
    });
  });

  it('turns empty fields and missing columns into null, and ignores nothing else', () => {
    const converted = convertCsvRow({ s: '', l: '', d: '1' }, all, { file: 'in.csv', line: 3 });
    expect(converted).toEqual({ s: null, l: null, i: null, d: 1, b: null, day: null, at: null, dec: null });
    expect(Object.keys(converted)).toEqual(['s', 'l', 'i', 'd', 'b', 'day', 'at', 'dec']);
  });

  it('keeps long values exact: numbers when safe, bigints beyond', () => {
    const convert = csvRowConverter(schemaOf({ l: 'long' }), 'in.csv');
    expect(convert({ l: '9007199254740991' }, 2).l).toBe(9007199254740991);
    expect(convert({ l: '9007199254740993' }, 2).l).toBe(9007199254740993n);
  });

  it.each([
    ['l', 'abc', '"abc" is not a valid long'],
    ['l', '1.5', '"1.5" is not a valid long'],
    ['l', '9223372036854775808', 'is not a valid long'],
    ['i', '2147483648', 'is not a valid integer'],
    ['d', '1,5', 'is not a valid double'],
    ['b', 'yes', "is not a valid boolean (expected 'true' or 'false')"],
    ['day', '2024-02-30', "(expected 'YYYY-MM-DD')"],
    ['at', '2024-01-02T03:04:05', 'is not a valid timestamp (expected ISO-8601 with a zone'],
    ['dec', 'NaN', 'is not a valid decimal(10,2)'],
  ])('rejects %s=%j naming file, line and field', (name, text, problem) => {
    let error: unknown;
    try {
      convertCsvRow({ [name]: text }, all, { file: 'in.csv', line: 9 });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).context).toMatchObject({ file: 'in.csv', line: 9, field: name });
    expect((error as Error).message).toContain(`in.csv:9 (field "${name}")`);
    expect((error as Error).message).toContain(problem);
  });

  it('refuses schemas with types a CSV field cannot hold', () => {
    const nested = schemaOf({ s: { type: 'struct', fields: [] } });
    expect(() => csvRowConverter(nested, 'in.csv')).toThrow(/field "s"\): column has type struct/);
    expect(() => csvRowConverter(schemaOf({ b: 'binary' }), 'in.csv')).toThrow(/cannot hold binary/);
  });
});

describe('checkCsvHeader', () => {
  it('accepts a header whose columns are all in the schema, in any order or subset', () => {
    expect(() => checkCsvHeader(['l', 's'], all, 'in.csv')).not.toThrow();
  });

  it('names the columns the schema lacks', () => {
    expect(() => checkCsvHeader(['s', 'extra', 'other'], all, 'in.csv')).toThrow(
      /in\.csv:1: CSV columns "extra", "other" not in the schema/,
    );
  });
});
