// Conforming parsed JSON rows to a schema: widening, JSON text for string columns, nested types, errors.

import { describe, expect, it } from 'vitest';
import type { DataType, StructType } from '../../../sinks/schema.js';
import { conformJsonRow, jsonText } from '../../../stream/input/conform-json.js';
import { InvalidInputError } from '../../../stream/input/errors.js';
import { parseJsonLine } from '../../../stream/input/json-line.js';

const schemaOf = (fields: Record<string, DataType>): StructType => ({
  type: 'struct',
  fields: Object.entries(fields).map(([name, type]) => ({ name, type, nullable: true, metadata: {} })),
});
const at = { file: 'in.jsonl', line: 4 };
const conform = (text: string, schema: StructType) => conformJsonRow(parseJsonLine(text, at).row, schema, at);

function failure(text: string, schema: StructType): InvalidInputError {
  try {
    conform(text, schema);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidInputError);
    return error as InvalidInputError;
  }
  throw new Error('expected the row to be rejected');
}

describe('conformJsonRow', () => {
  it('writes non-string values of string columns as JSON text, bigints exactly', () => {
    const schema = schemaOf({ a: 'string', b: 'string', c: 'string', d: 'string', e: 'string' });
    expect(conform('{"a":1,"b":true,"c":{"x":[1,"y",null]},"d":12345678901234567890,"e":""}', schema)).toEqual({
      a: '1',
      b: 'true',
      c: '{"x":[1,"y",null]}',
      d: '12345678901234567890',
      e: '',
    });
  });

  it('widens longs to double and keeps exact longs, and makes "" null outside string columns', () => {
    const schema = schemaOf({ d: 'double', l: 'long', big: 'double', n: 'long' });
    expect(conform('{"d":3,"l":9223372036854775807,"big":123456789012345678901234,"n":""}', schema)).toEqual({
      d: 3,
      l: 9223372036854775807n,
      big: Number(123456789012345678901234n),
      n: null,
    });
  });

  it('writes decimals as exact decimal text', () => {
    const schema = schemaOf({ a: 'decimal(30,0)', b: 'decimal(10,2)', c: 'decimal(5,1)' });
    expect(conform('{"a":123456789012345678901234,"b":0.1,"c":"12.5"}', schema)).toEqual({
      a: '123456789012345678901234',
      b: '0.1',
      c: '12.5',
    });
  });

  it('conforms nested structs, arrays and string-keyed maps; ignores fields outside the schema', () => {
    const schema = schemaOf({
      s: { type: 'struct', fields: [{ name: 'x', type: 'long', nullable: true, metadata: {} }] },
      xs: { type: 'array', elementType: 'double', containsNull: true },
      m: { type: 'map', keyType: 'string', valueType: 'long', valueContainsNull: true },
    });
    expect(conform('{"s":{"x":1,"y":2},"xs":[1,null,"",2.5],"m":{"k":1,"j":null},"other":1}', schema)).toEqual({
      s: { x: 1 },
      xs: [1, null, null, 2.5],
      m: { k: 1, j: null },
    });
  });

  it('accepts ISO dates and zoned timestamps and base64 binaries', () => {
    const schema = schemaOf({ d: 'date', t: 'timestamp', bin: 'binary' });
    expect(conform('{"d":"2024-01-02","t":"2024-01-02T03:04:05Z","bin":"AQID"}', schema)).toEqual({
      d: '2024-01-02',
      t: '2024-01-02T03:04:05Z',
      bin: new Uint8Array([1, 2, 3]),
    });
  });

  it.each([
    ['{"v":1.5}', { v: 'long' }, 'v', 'the number 1.5 does not fit type long'],
    ['{"v":"1"}', { v: 'long' }, 'v', 'the string "1" does not fit type long'],
    ['{"v":300}', { v: 'byte' }, 'v', 'from -128 to 127'],
    ['{"v":1}', { v: 'boolean' }, 'v', 'does not fit type boolean'],
    ['{"v":"2024-01-02T03:04:05"}', { v: 'timestamp' }, 'v', 'with a zone'],
    ['{"v":1700000000}', { v: 'timestamp' }, 'v', 'does not fit type timestamp'],
    ['{"v":[1]}', { v: { type: 'struct', fields: [] } }, 'v', 'an array does not fit type struct'],
    [
      '{"v":{"w":[1,"x"]}}',
      {
        v: {
          type: 'struct',
          fields: [
            {
              name: 'w',
              type: { type: 'array', elementType: 'long', containsNull: true },
              nullable: true,
              metadata: {},
            },
          ],
        },
      },
      'v.w[1]',
      'the string "x" does not fit type long',
    ],
    ['{"v":"!!"}', { v: 'binary' }, 'v', 'a base64 string'],
  ] as [string, Record<string, DataType>, string, string][])(
    'rejects %s naming the field path',
    (text, fields, path, problem) => {
      const error = failure(text, schemaOf(fields));
      expect(error.code).toBe('INVALID_INPUT');
      expect(error.context).toMatchObject({ file: 'in.jsonl', line: 4, field: path });
      expect(error.message).toContain(`in.jsonl:4 (field "${path}")`);
      expect(error.message).toContain(problem);
    },
  );
});

describe('jsonText', () => {
  it('serializes like JSON.stringify, with bigints as integers', () => {
    const value = { a: [1, 'x', null, { b: true }], c: 2n ** 64n };
    expect(jsonText(value)).toBe('{"a":[1,"x",null,{"b":true}],"c":18446744073709551616}');
    expect(jsonText({ a: [1, 'x'] })).toBe(JSON.stringify({ a: [1, 'x'] }));
  });
});
