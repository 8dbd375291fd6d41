// Schema inference: per-value typing (JSON, CSV, JS values), Spark's widening rules, canonicalization.

import { describe, expect, it } from 'vitest';
import type { DataType, StructType } from '../../../sinks/schema.js';
import { InvalidInputError } from '../../../stream/input/errors.js';
import {
  type InferredType,
  inferCsvFieldType,
  inferSchema,
  mergeTypes,
  NULL_TYPE,
  primitive,
  SchemaInference,
  toDataType,
} from '../../../stream/input/infer-schema.js';
import { parseJsonLine } from '../../../stream/input/json-line.js';

const field = (name: string, type: DataType) => ({ name, type, nullable: true, metadata: {} });
const struct = (...fields: ReturnType<typeof field>[]): StructType => ({ type: 'struct', fields });
const arrayOf = (elementType: DataType): DataType => ({ type: 'array', elementType, containsNull: true });

function jsonSchema(lines: string[], options = {}): StructType {
  const inference = new SchemaInference(options);
  lines.forEach((text, i) => {
    inference.addRowType(parseJsonLine(text, { file: 'x.jsonl', line: i + 1 }, options).type);
  });
  return inference.schema();
}

function csvSchema(header: string[], rows: string[][], options = {}): StructType {
  const inference = new SchemaInference(options);
  inference.addColumns(header);
  for (const row of rows) inference.addCsvRow(Object.fromEntries(header.map((name, i) => [name, row[i] ?? ''])));
  return inference.schema();
}

describe('mergeTypes', () => {
  const long = primitive('long');
  const double = primitive('double');
  const string = primitive('string');
  const cases: [string, InferredType, InferredType, DataType][] = [
    ['null + long', NULL_TYPE, long, 'long'],
    ['long + null', long, NULL_TYPE, 'long'],
    ['long + double', long, double, 'double'],
    ['double + long', double, long, 'double'],
    ['long + decimal(25,0)', long, primitive('decimal(25,0)'), 'decimal(25,0)'],
    ['decimal(5,2) + long', primitive('decimal(5,2)'), long, 'decimal(22,2)'],
    ['decimal(38,10) + decimal(38,0)', primitive('decimal(38,10)'), primitive('decimal(38,0)'), 'decimal(38,10)'],
    ['decimal(25,0) + double', primitive('decimal(25,0)'), double, 'double'],
    ['long + string', long, string, 'string'],
    ['boolean + long', primitive('boolean'), long, 'string'],
    ['date + timestamp', primitive('date'), primitive('timestamp'), 'string'],
    ['struct + long', { kind: 'struct', fields: new Map([['a', long]]) }, long, 'string'],
    ['array + long', { kind: 'array', element: long }, long, 'string'],
    [
      'array<long> + array<double>',
      { kind: 'array', element: long },
      { kind: 'array', element: double },
      arrayOf('double'),
    ],
  ];
  it.each(cases)('%s', (_name, a, b, expected) => {
    expect(toDataType(mergeTypes(a, b))).toEqual(expected);
  });
});

describe('JSON inference (Spark JsonInferSchema rules)', () => {
  it('widens across rows and keeps first-appearance field order', () => {
    expect(jsonSchema(['{"b":1,"a":"x"}', '{"c":true,"b":2.5}', '{"a":3,"d":null}'])).toEqual(
      struct(field('b', 'double'), field('a', 'string'), field('c', 'boolean'), field('d', 'string')),
    );
  });

  it('merges nested structs and arrays of structs field by field', () => {
    expect(
      jsonSchema([
        '{"user":{"id":1,"tags":["a"]},"events":[{"k":1}]}',
        '{"user":{"name":"n","id":2},"events":[{"v":1.5},{"k":2}]}',
      ]),
    ).toEqual(
      struct(
        field('user', struct(field('id', 'long'), field('tags', arrayOf('string')), field('name', 'string'))),
        field('events', arrayOf(struct(field('k', 'long'), field('v', 'double')))),
      ),
    );
  });

  it('types null-only and empty-string-only columns, and empty arrays, as string', () => {
    expect(jsonSchema(['{"n":null,"e":"","xs":[]}', '{"n":null,"e":""}'])).toEqual(
      struct(field('n', 'string'), field('e', 'string'), field('xs', arrayOf('string'))),
    );
  });

  it('lets "" yield to another type as Spark does', () => {
    expect(jsonSchema(['{"n":""}', '{"n":5}'])).toEqual(struct(field('n', 'long')));
  });

  it('drops empty structs, arrays of empty structs and empty field names', () => {
    expect(jsonSchema(['{"a":1,"empty":{},"arr":[{}],"":2,"s":{"inner":{}}}'])).toEqual(struct(field('a', 'long')));
  });

  it('widens long to decimal for integers beyond 64 bits, and decimal to double with fractions', () => {
    expect(jsonSchema(['{"x":1}', '{"x":99999999999999999999}'])).toEqual(struct(field('x', 'decimal(20,0)')));
    expect(jsonSchema(['{"x":99999999999999999999}', '{"x":0.5}'])).toEqual(struct(field('x', 'double')));
  });

  it('infers timestamps only with inferTimestamps, and falls back to string on any other string', () => {
    const lines = ['{"t":"2024-01-02T03:04:05Z"}', '{"t":"2024-05-06 07:08:09.5+02:00"}'];
    expect(jsonSchema(lines)).toEqual(struct(field('t', 'string')));
    expect(jsonSchema(lines, { inferTimestamps: true })).toEqual(struct(field('t', 'timestamp')));
    expect(jsonSchema([...lines, '{"t":"yesterday"}'], { inferTimestamps: true })).toEqual(
      struct(field('t', 'string')),
    );
  });

  it('yields an empty struct for no rows', () => {
    expect(jsonSchema([])).toEqual(struct());
  });
});

describe('CSV inference (Spark CSVInferSchema order)', () => {
  it('types fields in the order long, double, date, timestamp, boolean, string', () => {
    const cases: [string, DataType | undefined][] = [
      ['', 'string'],
      ['12', 'long'],
      ['-9223372036854775808', 'long'],
      ['9223372036854775808', 'double'],
      ['1.5', 'double'],
      ['1e10', 'double'],
      ['NaN', 'double'],
      ['2024-02-29', 'date'],
      ['2024-02-30', 'string'],
      ['2024-01-02T03:04:05Z', 'timestamp'],
      ['2024-01-02T03:04:05', 'string'],
      ['True', 'boolean'],
      [' 1', 'string'],
      ['abc', 'string'],
    ];
    for (const [text, expected] of cases) expect(toDataType(inferCsvFieldType(text)), text).toEqual(expected);
  });

  it('widens per column and treats empty fields as null', () => {
    const schema = csvSchema(
      ['id', 'price', 'day', 'at', 'flag', 'note', 'empty'],
      [
        ['1', '10', '2024-01-01', '2024-01-01T00:00:00Z', 'true', 'x', ''],
        ['2', '10.5', '', '2024-01-01T00:00:00+01:00', 'FALSE', '3', ''],
        ['', '', '2024-01-03', '', '', '', ''],
      ],
    );
    expect(schema).toEqual(
      struct(
        field('id', 'long'),
        field('price', 'double'),
        field('day', 'date'),
        field('at', 'timestamp'),
        field('flag', 'boolean'),
        field('note', 'string'),
        field('empty', 'string'),
      ),
    );
  });

  it('mixes of unrelated types become string; temporal inference can be switched off', () => {
    expect(csvSchema(['v'], [['1'], ['true']])).toEqual(struct(field('v', 'string')));
    expect(csvSchema(['v'], [['2024-01-01'], ['2024-01-01T00:00:00Z']])).toEqual(struct(field('v', 'string')));
    expect(csvSchema(['d'], [['2024-01-01']], { inferDates: false })).toEqual(struct(field('d', 'string')));
  });

  it('keeps header columns of a file without data rows, as strings', () => {
    expect(csvSchema(['a', 'b'], [])).toEqual(struct(field('a', 'string'), field('b', 'string')));
  });
});

describe('inferSchema of in-memory rows', () => {
  it('types JS values: safe integers long, other numbers double, bigint, Date, bytes, nested', async () => {
    const schema = await inferSchema([
      { n: 1, f: 1.5, big: 2n ** 70n, when: new Date(0), raw: new Uint8Array([1]), nested: { xs: [1, 2] } },
      { n: 2 ** 60, f: 2 },
    ]);
    expect(schema).toEqual(
      struct(
        field('n', 'double'),
        field('f', 'double'),
        field('big', 'decimal(22,0)'),
        field('when', 'timestamp'),
        field('raw', 'binary'),
        field('nested', struct(field('xs', arrayOf('long')))),
      ),
    );
  });

  it('accepts async iterables', async () => {
    async function* rows() {
      yield { a: 1 };
      yield { a: 'x' };
    }
    expect(await inferSchema(rows())).toEqual(struct(field('a', 'string')));
  });

  it('refuses values it cannot type, naming the row and field', async () => {
    const error = await inferSchema([{ ok: 1 }, { bad: new Map() }]).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).context).toMatchObject({ line: 2, field: 'bad' });
    expect((error as Error).message).toContain('value of type Map');
  });
});
