// The JSONL line parser: strict JSON, exact big integers, per-value inferred types, positioned errors.

import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../../stream/input/errors.js';
import { toDataType } from '../../../stream/input/infer-schema.js';
import { MAX_JSON_DEPTH, parseJsonLine } from '../../../stream/input/json-line.js';

const at = { file: 'events.jsonl', line: 7 };

function parseError(text: string): InvalidInputError {
  try {
    parseJsonLine(text, at);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidInputError);
    return error as InvalidInputError;
  }
  throw new Error(`expected ${JSON.stringify(text)} to be rejected`);
}

describe('parseJsonLine', () => {
  it('parses the same values as JSON.parse for ordinary JSON', () => {
    const text =
      '{"s":"a\\"b\\\\c\\u00e9\\n\\/","n":-1.5e2,"i":42,"t":true,"f":false,"z":null,"a":[1,[2],{}],"o":{"k":"v"}}';
    expect(parseJsonLine(text, at).row).toEqual(JSON.parse(text));
  });

  it('keeps integers beyond 2^53 exact as bigint', () => {
    const { row, type } = parseJsonLine(
      '{"id":9223372036854775807,"small":9007199254740991,"neg":-9007199254740993}',
      at,
    );
    expect(row.id).toBe(9223372036854775807n);
    expect(row.small).toBe(9007199254740991);
    expect(row.neg).toBe(-9007199254740993n);
    expect(toDataType(type)).toMatchObject({ fields: [{ type: 'long' }, { type: 'long' }, { type: 'long' }] });
  });

  it('types numbers as Spark does: integer literals long, fraction/exponent double, huge integers decimal', () => {
    const { type } = parseJsonLine(
      '{"a":1,"b":1.0,"c":2e3,"d":123456789012345678901234,"e":1' + '0'.repeat(40) + '}',
      at,
    );
    expect(toDataType(type)).toMatchObject({
      fields: [
        { name: 'a', type: 'long' },
        { name: 'b', type: 'double' },
        { name: 'c', type: 'double' },
        { name: 'd', type: 'decimal(24,0)' },
        { name: 'e', type: 'double' },
      ],
    });
  });

  it('merges array element types and treats "" as null while typing', () => {
    const { type } = parseJsonLine('{"xs":[1,2.5,null],"ys":["", 3],"zs":[],"mixed":[1,"a"]}', at);
    expect(toDataType(type)).toEqual({
      type: 'struct',
      fields: [
        {
          name: 'xs',
          type: { type: 'array', elementType: 'double', containsNull: true },
          nullable: true,
          metadata: {},
        },
        { name: 'ys', type: { type: 'array', elementType: 'long', containsNull: true }, nullable: true, metadata: {} },
        {
          name: 'zs',
          type: { type: 'array', elementType: 'string', containsNull: true },
          nullable: true,
          metadata: {},
        },
        {
          name: 'mixed',
          type: { type: 'array', elementType: 'string', containsNull: true },
          nullable: true,
          metadata: {},
        },
      ],
    });
  });

  it('infers timestamps and dates from strings only when asked', () => {
    const text = '{"ts":"2024-01-02T03:04:05Z","d":"2024-01-02","local":"2024-01-02T03:04:05"}';
    const plain = toDataType(parseJsonLine(text, at).type);
    expect(plain).toMatchObject({ fields: [{ type: 'string' }, { type: 'string' }, { type: 'string' }] });
    const temporal = toDataType(parseJsonLine(text, at, { inferTimestamps: true, inferDates: true }).type);
    expect(temporal).toMatchObject({ fields: [{ type: 'timestamp' }, { type: 'date' }, { type: 'string' }] });
  });

  it('stores a "__proto__" key as data, not as the prototype', () => {
    const { row } = parseJsonLine('{"__proto__":{"polluted":true},"a":1}', at);
    expect(Object.keys(row)).toEqual(['__proto__', 'a']);
    expect(Object.getPrototypeOf(row)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it.each([
    ['[1,2]', 1, 'expected a JSON object, found an array'],
    ['"x"', 1, 'expected a JSON object, found a string'],
    ['{"a":1,}', 8, 'expected a quoted key'],
    ['{"a" 1}', 6, "expected ':'"],
    ['{"a":1 "b":2}', 8, "expected ',' or '}'"],
    ['{"a":[1 2]}', 9, "expected ',' or ']'"],
    ['{"a":01}', 6, 'invalid number'],
    ['{"a":1.}', 6, 'invalid number'],
    ['{"a":-}', 6, 'invalid number'],
    ['{"a":tru}', 6, 'expected a value'],
    ['{"a":"x', 6, 'unterminated string'],
    ['{"a":"\\x"}', 7, "invalid escape '\\x'"],
    ['{"a":"\\u12G4"}', 7, 'invalid \\u escape'],
    ['{"a":"tab\there"}', 10, 'unescaped control character U+0009'],
    ['{"a":1}x', 8, "unexpected 'x' after the JSON object"],
    ['{"a":1,"a":2}', 8, 'duplicate key "a"'],
    ['{"a":NaN}', 6, 'expected a value'],
    ['{"a":', 6, 'unexpected end of line'],
  ])('rejects %j at column %i: %s', (text, column, problem) => {
    const error = parseError(text);
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.domain).toBe('user');
    expect(error.context).toMatchObject({ file: 'events.jsonl', line: 7, column });
    expect(error.message).toContain(`events.jsonl:7:${column}`);
    expect(error.message).toContain(problem);
  });

  it('refuses nesting deeper than MAX_JSON_DEPTH without overflowing the stack', () => {
    const deep = `{"a":${'['.repeat(MAX_JSON_DEPTH + 5)}${']'.repeat(MAX_JSON_DEPTH + 5)}}`;
    expect(parseError(deep).message).toContain('nesting deeper than');
    const ok = `{"a":${'['.repeat(MAX_JSON_DEPTH - 2)}${']'.repeat(MAX_JSON_DEPTH - 2)}}`;
    expect(() => parseJsonLine(ok, at)).not.toThrow();
  });
});
