// Conforming parsed JSON rows: the optimized conformer (template rows, inline checks, lazy field
// paths, fresh JSON.parse objects kept as is) against the original implementation, kept here as the
// reference, on random schemas and values; '__proto__' keys; the field path of rejections.

import { describe, expect, it } from 'vitest';
import type { DataType, StructField, StructType } from '../../../sinks/schema.js';
import {
  type ConformResult,
  JsonRejection,
  jsonRowConformer,
  jsonText,
  jsonValueConformer,
  parsedJsonConformer,
} from '../../../stream/input/conform-json.js';
import { typeName } from '../../../stream/input/convert-csv.js';
import { InvalidInputError } from '../../../stream/input/errors.js';
import type { JsonObject, JsonValue } from '../../../stream/input/json-line.js';
import { fitsInt64, isDateLiteral, isZonedTimestampLiteral, toLongValue } from '../../../stream/input/literals.js';
import { prng } from '../../kit/prng.js';

// ---- The reference: conform-json.ts before the optimization (defineProperty per field, eager paths).

type Conform = (value: JsonValue, path: string) => unknown;

class RefRejected {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {}
}

const INTEGER_RANGES: Readonly<Record<string, readonly [number, number]>> = {
  byte: [-128, 127],
  short: [-32768, 32767],
  integer: [-2147483648, 2147483647],
};
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function describeValue(value: JsonValue): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string')
    return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  return `${typeof value === 'boolean' ? 'the boolean' : 'the number'} ${String(value)}`;
}

function reject(path: string, value: JsonValue, type: DataType, expected?: string): never {
  const hint = expected === undefined ? '' : ` (expected ${expected})`;
  throw new RefRejected(path, `${describeValue(value)} does not fit type ${typeName(type)}${hint}`);
}

/** Spark reads JSON nulls, and '' in non-string columns, as null. */
function isNullFor(item: JsonValue | undefined, type: DataType): boolean {
  return item === undefined || item === null || (item === '' && type !== 'string');
}

function isObject(value: JsonValue): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function conformer(type: DataType): Conform {
  if (typeof type !== 'string') {
    switch (type.type) {
      case 'struct':
        return structConformer(type);
      case 'array': {
        const element = conformer(type.elementType);
        return (value, path) => {
          if (!Array.isArray(value)) return reject(path, value, type, 'an array');
          return value.map((item, index) =>
            isNullFor(item, type.elementType) ? null : element(item, `${path}[${index}]`),
          );
        };
      }
      case 'map': {
        if (type.keyType !== 'string') {
          return (value, path) => reject(path, value, type, 'a map with string keys; JSON object keys are strings');
        }
        const conformValue = conformer(type.valueType);
        return (value, path) => {
          if (!isObject(value)) return reject(path, value, type, 'an object');
          const out: Record<string, unknown> = {};
          for (const [key, item] of Object.entries(value)) {
            define(out, key, isNullFor(item, type.valueType) ? null : conformValue(item, `${path}.${key}`));
          }
          return out;
        };
      }
    }
  }
  return primitiveConformer(type);
}

function primitiveConformer(type: Extract<DataType, string>): Conform {
  switch (type) {
    case 'string':
      return (value) => jsonText(value);
    case 'long':
      return (value, path) => {
        if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
        if (typeof value === 'bigint' && fitsInt64(value)) return toLongValue(value);
        return reject(path, value, type, 'an integer within 64 bits');
      };
    case 'integer':
    case 'short':
    case 'byte': {
      const [min, max] = INTEGER_RANGES[type]!;
      return (value, path) =>
        typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max
          ? value
          : reject(path, value, type, `an integer from ${min} to ${max}`);
    }
    case 'double':
    case 'float':
      return (value, path) =>
        typeof value === 'number' ? value : typeof value === 'bigint' ? Number(value) : reject(path, value, type);
    case 'boolean':
      return (value, path) => (typeof value === 'boolean' ? value : reject(path, value, type));
    case 'date':
      return (value, path) =>
        typeof value === 'string' && isDateLiteral(value) ? value : reject(path, value, type, "a 'YYYY-MM-DD' string");
    case 'timestamp':
      return (value, path) =>
        typeof value === 'string' && isZonedTimestampLiteral(value)
          ? value
          : reject(path, value, type, "an ISO-8601 string with a zone, e.g. '2024-01-02T03:04:05Z'");
    case 'timestamp_ntz':
      return (value, path) => (typeof value === 'string' ? value : reject(path, value, type, 'a string'));
    case 'binary':
      return (value, path) =>
        typeof value === 'string' && BASE64.test(value)
          ? new Uint8Array(Buffer.from(value, 'base64'))
          : reject(path, value, type, 'a base64 string');
    default:
      // decimal(p,s): passed to the writer as decimal text, which it rounds-checks exactly.
      return (value, path) =>
        typeof value === 'bigint' || (typeof value === 'number' && Number.isFinite(value))
          ? String(value)
          : typeof value === 'string' && /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(value)
            ? value
            : reject(path, value, type, 'a number');
  }
}

function structConformer(type: StructType): Conform {
  const fields = type.fields.map((field) => ({ name: field.name, type: field.type, conform: conformer(field.type) }));
  return (value, path) => {
    if (!isObject(value)) return reject(path, value, type, 'an object');
    const out: Record<string, unknown> = {};
    for (const field of fields) {
      const item = Object.hasOwn(value, field.name) ? value[field.name] : undefined;
      const fieldPath = path === '' ? field.name : `${path}.${field.name}`;
      define(
        out,
        field.name,
        item === undefined || isNullFor(item, field.type) ? null : field.conform(item, fieldPath),
      );
    }
    return out;
  };
}

function define(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function referenceConformer(schema: StructType): (value: unknown) => ConformResult {
  const conform = structConformer(schema);
  return (value) => {
    try {
      return { ok: true, row: conform(value as JsonValue, '') as Record<string, unknown> };
    } catch (error) {
      if (!(error instanceof RefRejected)) throw error;
      return { ok: false, field: error.path, reason: error.reason };
    }
  };
}

// ---- Random schemas and values.

type Rand = () => number;
const pick = <T>(rand: Rand, xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
const int = (rand: Rand, lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));

const PRIMITIVES: readonly DataType[] = [
  'string',
  'long',
  'integer',
  'short',
  'byte',
  'double',
  'float',
  'boolean',
  'date',
  'timestamp',
  'timestamp_ntz',
  'binary',
  'decimal(10,2)',
];
const NAMES = ['a', 'b', 'c', 'id', 'ts', 'x.y', '', '0', '7', '__proto__', 'constructor', 'toString', 'valueOf'];

function randomType(rand: Rand, depth: number): DataType {
  const r = rand();
  if (depth >= 3 || r < 0.7) return pick(rand, PRIMITIVES);
  if (r < 0.8) return randomStruct(rand, depth + 1);
  if (r < 0.9) return { type: 'array', elementType: randomType(rand, depth + 1), containsNull: true };
  return {
    type: 'map',
    keyType: rand() < 0.9 ? 'string' : 'long',
    valueType: randomType(rand, depth + 1),
    valueContainsNull: true,
  };
}

function randomStruct(rand: Rand, depth: number): StructType {
  const fields: StructField[] = [];
  const count = int(rand, 0, depth === 0 ? 8 : 4);
  const used = new Set<string>();
  for (let i = 0; i < count; i++) {
    let name = rand() < 0.5 ? `f${i}` : pick(rand, NAMES);
    // Mostly distinct names; now and then a duplicate.
    if (used.has(name) && rand() < 0.9) name = `g${i}`;
    used.add(name);
    fields.push({ name, type: randomType(rand, depth), nullable: true, metadata: {} });
  }
  return { type: 'struct', fields };
}

const pad = (n: number, width: number) => String(n).padStart(width, '0');

function randomTimestampText(rand: Rand): string {
  const usual = rand() < 0.7;
  const date = `${pad(int(rand, 0, 9999), 4)}-${pad(int(rand, usual ? 1 : 0, usual ? 12 : 13), 2)}-${pad(int(rand, usual ? 1 : 0, usual ? 28 : 32), 2)}`;
  const time = `${pad(int(rand, 0, usual ? 23 : 25), 2)}:${pad(int(rand, 0, usual ? 59 : 61), 2)}:${pad(int(rand, 0, usual ? 59 : 61), 2)}`;
  const digits = int(rand, 0, usual ? 6 : 10);
  let fraction = '';
  for (let i = 0; i < digits; i++) fraction += rand() < 0.3 ? '0' : String(int(rand, 0, 9));
  const zone = usual ? 'Z' : pick(rand, ['Z', 'z', '+01:00', '-0530', '+24', '', 'Zx']);
  const separator = usual ? 'T' : pick(rand, ['T', 't', ' ', '_']);
  return `${date}${separator}${time}${digits > 0 ? `.${fraction}` : ''}${zone}`;
}

/** An own data property, even for '__proto__'. */
function put(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Any JSON-ish value (bigints only when `big`). */
function randomAny(rand: Rand, big: boolean, depth = 0): JsonValue {
  const r = rand();
  if (r < 0.1) return null;
  if (r < 0.15) return '';
  if (r < 0.25) return pick(rand, [true, false]);
  if (r < 0.45) return pick(rand, [0, 1, -1, 127, 128, -129, 32768, 2 ** 31, 2 ** 53, 1.5, -0, 1e300, 42]);
  if (r < 0.5 && big) return pick(rand, [2n ** 63n, 2n ** 63n - 1n, -(2n ** 64n), 5n]);
  if (r < 0.75) return pick(rand, ['x', '1', '1.5', 'true', 'AQID', '!!', '2024-01-02', '2024-02-30', '1e3', ' ']);
  if (r < 0.85 || depth > 2) return randomTimestampText(rand);
  if (r < 0.92) return [randomAny(rand, big, depth + 1), randomAny(rand, big, depth + 1)];
  const out: Record<string, unknown> = {};
  for (let i = int(rand, 0, 3); i > 0; i--) put(out, pick(rand, NAMES), randomAny(rand, big, depth + 1));
  return out as JsonObject;
}

/** A value for `type`: mostly one that fits, else anything. */
function randomValue(rand: Rand, type: DataType, big: boolean, depth = 0): JsonValue | undefined {
  if (rand() < 0.08) return randomAny(rand, big, depth);
  if (rand() < 0.05) return rand() < 0.5 ? null : '';
  if (typeof type !== 'string') {
    switch (type.type) {
      case 'struct': {
        const out: Record<string, unknown> = {};
        const fields = [...type.fields];
        // Keys in schema order mostly (the fresh fast path), else shuffled.
        if (rand() < 0.2) fields.sort(() => rand() - 0.5);
        for (const field of fields) {
          if (rand() < 0.05) continue; // missing
          const item = randomValue(rand, field.type, big, depth + 1);
          if (item !== undefined) put(out, field.name, item);
        }
        if (rand() < 0.1) put(out, pick(rand, NAMES), randomAny(rand, big, depth + 1)); // extra or repeated
        return out as JsonObject;
      }
      case 'array':
        return Array.from(
          { length: int(rand, 0, 3) },
          () => randomValue(rand, type.elementType, big, depth + 1) ?? null,
        );
      case 'map': {
        const out: Record<string, unknown> = {};
        for (let i = int(rand, 0, 3); i > 0; i--) {
          put(out, pick(rand, NAMES), randomValue(rand, type.valueType, big, depth + 1) ?? null);
        }
        return out as JsonObject;
      }
    }
  }
  switch (type) {
    case 'string':
      return rand() < 0.8 ? pick(rand, ['', 'x', 'hello', '2024-01-02']) : randomAny(rand, big, depth);
    case 'long':
      return big && rand() < 0.1 ? 2n ** 62n : int(rand, -1e9, 1e9) * pick(rand, [1, 1e6]);
    case 'integer':
    case 'short':
    case 'byte':
      return pick(rand, [0, 1, -1, 127, 128, -128, -129, 32767, 32768, 2 ** 31 - 1, 2 ** 31, 0.5]);
    case 'double':
    case 'float':
      return rand() * 1e6 - 5e5;
    case 'boolean':
      return rand() < 0.5;
    case 'date':
      return `${pad(int(rand, 0, 9999), 4)}-${pad(int(rand, 0, 13), 2)}-${pad(int(rand, 0, 32), 2)}`;
    case 'timestamp':
    case 'timestamp_ntz':
      return randomTimestampText(rand);
    case 'binary':
      return pick(rand, ['', 'AQID', 'AQI=', 'AQ==', 'A', '!!', 'aGVsbG8=']);
    default:
      return pick(rand, [1.25, 100, '12.5', '.5', '-3e2', 'x', '1.', '']);
  }
}

// ---- Comparison: values, key order, own-ness and prototypes.

function canonical(value: unknown): unknown {
  if (typeof value === 'bigint') return { bigint: value.toString() };
  if (value instanceof Uint8Array) return { bytes: [...value] };
  if (Array.isArray(value)) return { array: value.map(canonical) };
  if (typeof value === 'object' && value !== null) {
    return {
      plain: Object.getPrototypeOf(value) === Object.prototype,
      entries: Reflect.ownKeys(value).map((key) => {
        const descriptor = Object.getOwnPropertyDescriptor(value, key)!;
        return [String(key), descriptor.enumerable, descriptor.writable, canonical(descriptor.value)];
      }),
    };
  }
  return Object.is(value, -0) ? { negativeZero: true } : value;
}

const canonicalResult = (result: ConformResult) =>
  result.ok ? { ok: true, row: canonical(result.row) } : { ok: false, field: result.field, reason: result.reason };

/** Asserts equal canonical forms; builds the (costly) context only on a mismatch. */
function expectSame(actual: unknown, expected: unknown, context: () => object): void {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) {
    expect({ ...context(), result: actual }).toEqual({ ...context(), result: expected });
  }
}

describe('conforming JSON rows, against the original implementation', () => {
  it('gives the same rows and rejections on random schemas and values', () => {
    const rand = prng(1);
    let rows = 0;
    let rejections = 0;
    let kept = 0;
    for (let i = 0; i < 2000; i++) {
      const schema = randomStruct(rand, 0);
      const reference = referenceConformer(schema);
      const optimized = jsonValueConformer(schema);
      const parsed = parsedJsonConformer(schema);
      const lines = jsonRowConformer(schema, 'in.jsonl');
      for (let j = 0; j < 10; j++) {
        const big = rand() < 0.2;
        const value = randomValue(rand, schema, big)!;
        const expected = reference(value);
        const context = () => ({ schema: JSON.stringify(schema), value: canonical(value) });
        expectSame(canonicalResult(optimized(value)), canonicalResult(expected), context);
        if (expected.ok) rows++;
        else rejections++;
        // The throwing conformer (file input) names the same field.
        if (expected.ok) expectSame(canonical(lines(value as JsonObject, 3)), canonical(expected.row), context);
        else {
          let thrown: unknown;
          try {
            lines(value as JsonObject, 3);
          } catch (error) {
            thrown = error;
          }
          const ok =
            thrown instanceof InvalidInputError &&
            thrown.context.field === expected.field &&
            thrown.context.line === 3 &&
            thrown.message.includes(expected.reason);
          if (!ok) expect({ ...context(), thrown }).toEqual({ ...context(), expected });
        }
        // A fresh JSON.parse object: the same row, possibly the object itself.
        if (!big) {
          const text = JSON.stringify(value);
          const fresh = JSON.parse(text) as unknown;
          const expectedFresh = reference(JSON.parse(text));
          const result = parsed(fresh, true);
          const actual: ConformResult =
            result instanceof JsonRejection
              ? { ok: false, field: result.field, reason: result.reason }
              : { ok: true, row: result };
          expectSame(canonicalResult(actual), canonicalResult(expectedFresh), () => ({ ...context(), text }));
          if (result === fresh) kept++;
        }
      }
    }
    // The random cases exercise both outcomes and the fresh fast path.
    expect(rows).toBeGreaterThan(5000);
    expect(rejections).toBeGreaterThan(5000);
    expect(kept).toBeGreaterThan(1000);
  });

  it('never returns the value itself unless it is fresh', () => {
    const schema: StructType = {
      type: 'struct',
      fields: [{ name: 'a', type: 'long', nullable: true, metadata: {} }],
    };
    const value = { a: 1 };
    expect(parsedJsonConformer(schema)(value, false)).not.toBe(value);
    expect(parsedJsonConformer(schema)(value, true)).toBe(value);
    const result = jsonValueConformer(schema)(value);
    expect(result.ok && result.row).not.toBe(value);
    expect(result).toEqual({ ok: true, row: { a: 1 } });
  });
});

describe("'__proto__' keys", () => {
  const schema: StructType = {
    type: 'struct',
    fields: [
      { name: '__proto__', type: 'long', nullable: true, metadata: {} },
      {
        name: 's',
        type: {
          type: 'struct',
          fields: [{ name: '__proto__', type: 'string', nullable: true, metadata: {} }],
        },
        nullable: true,
        metadata: {},
      },
      {
        name: 'm',
        type: { type: 'map', keyType: 'string', valueType: 'string', valueContainsNull: true },
        nullable: true,
        metadata: {},
      },
    ],
  };

  function expectOwnData(row: object, key: string, value: unknown): void {
    expect(Object.getPrototypeOf(row)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(row, key)).toEqual({
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }

  it('are own data properties of the row and never change a prototype', () => {
    const text = '{"__proto__":5,"s":{"__proto__":{"polluted":true}},"m":{"__proto__":"v","k":"w"}}';
    for (const [label, conform] of [
      ['copy', (v: unknown) => (jsonValueConformer(schema)(v) as { row: Record<string, unknown> }).row],
      ['fresh', (v: unknown) => parsedJsonConformer(schema)(v, true) as Record<string, unknown>],
    ] as const) {
      const row = conform(JSON.parse(text));
      expect(label && Object.keys(row)).toEqual(['__proto__', 's', 'm']);
      expectOwnData(row, '__proto__', 5);
      expectOwnData(row.s as object, '__proto__', '{"polluted":true}');
      expectOwnData(row.m as object, '__proto__', 'v');
      expect((row.m as Record<string, unknown>).k).toBe('w');
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    }
  });

  it('a fresh row that fits as is keeps its own __proto__ key', () => {
    const s: StructType = {
      type: 'struct',
      fields: [{ name: '__proto__', type: 'string', nullable: true, metadata: {} }],
    };
    const fresh = JSON.parse('{"__proto__":"x"}') as unknown;
    const row = parsedJsonConformer(s)(fresh, true) as Record<string, unknown>;
    expect(row).toBe(fresh);
    expectOwnData(row, '__proto__', 'x');
  });

  it('an absent __proto__ field is null, not the prototype', () => {
    const row = parsedJsonConformer(schema)(JSON.parse('{"s":{}}'), true) as Record<string, unknown>;
    expectOwnData(row, '__proto__', null);
    expectOwnData(row.s as object, '__proto__', null);
  });

  it('a rejection under a __proto__ key names it', () => {
    const result = jsonValueConformer(schema)(JSON.parse('{"__proto__":"x"}'));
    expect(result).toMatchObject({ ok: false, field: '__proto__' });
  });
});

describe('inherited keys', () => {
  it('are never taken for fields, also when Object.prototype is polluted', () => {
    const schema: StructType = {
      type: 'struct',
      fields: [
        { name: 'a', type: 'long', nullable: true, metadata: {} },
        { name: 'zz', type: 'long', nullable: true, metadata: {} },
      ],
    };
    const proto = Object.prototype as Record<string, unknown>;
    proto.zz = 7;
    try {
      const fresh = JSON.parse('{"a":1}') as unknown;
      const row = parsedJsonConformer(schema)(fresh, true) as Record<string, unknown>;
      expect(row).not.toBe(fresh);
      expect(Object.getOwnPropertyDescriptor(row, 'zz')?.value).toBeNull();
      const both = JSON.parse('{"a":1,"zz":2}') as unknown;
      expect(parsedJsonConformer(schema)(both, true)).toBe(both);
    } finally {
      delete proto.zz;
    }
  });
});

describe('rejections name the field path', () => {
  const field = (name: string, type: DataType): StructField => ({ name, type, nullable: true, metadata: {} });
  const schema: StructType = {
    type: 'struct',
    fields: [
      field('id', 'string'),
      field('m', {
        type: 'map',
        keyType: 'string',
        valueType: {
          type: 'array',
          elementType: { type: 'struct', fields: [field('x', 'timestamp')] },
          containsNull: true,
        },
        valueContainsNull: true,
      }),
      field('', { type: 'struct', fields: [field('y', 'integer')] }),
    ],
  };

  it.each([
    ['{"m":{"k":[{"x":"2024-01-02T03:04:05Z"},null,{"x":"2024-01-02T03:04:05"}]}}', 'm.k[2].x', 'with a zone'],
    ['{"m":{"k":[{"x":"2024-13-02T03:04:05Z"}]}}', 'm.k[0].x', 'does not fit type timestamp'],
    ['{"m":{"k":{}}}', 'm.k', 'an object does not fit type array'],
    ['{"":{"y":1.5}}', 'y', 'the number 1.5 does not fit type integer'],
    ['{"":{"y":2147483648}}', 'y', 'from -2147483648 to 2147483647'],
    ['[1]', '', 'an array does not fit type struct'],
  ])('%s → %s', (text, path, reason) => {
    for (const result of [
      jsonValueConformer(schema)(JSON.parse(text)),
      (() => {
        const r = parsedJsonConformer(schema)(JSON.parse(text), true);
        return r instanceof JsonRejection ? { ok: false, field: r.field, reason: r.reason } : { ok: true };
      })(),
      referenceConformer(schema)(JSON.parse(text)),
    ]) {
      expect(result).toMatchObject({ ok: false, field: path });
      expect((result as { reason: string }).reason).toContain(reason);
    }
  });
});
