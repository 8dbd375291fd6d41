// Unit tests of sinks/delta/schema-check.ts: schema enforcement (extra columns, type conflicts, nulls)
// and mergeSchema evolution (new columns and nested fields appended as nullable, types never changed).
import { describe, expect, it } from 'vitest';
import { canUpcast, checkWriteSchema, inferType, mergeDataSchema } from '../../../sinks/delta/schema-check.js';
import type { DataType, StructType } from '../../../sinks/schema.js';

const f = (name: string, type: DataType, nullable = true) => ({ name, type, nullable, metadata: {} });
const table: StructType = {
  type: 'struct',
  fields: [
    f('id', 'long', false),
    f('name', 'string'),
    f('addr', { type: 'struct', fields: [f('city', 'string'), f('zip', 'integer')] }),
    f('tags', { type: 'array', elementType: 'string', containsNull: false }),
    f('props', { type: 'map', keyType: 'string', valueType: 'long', valueContainsNull: true }),
    f('day', 'date'),
    f('amount', 'decimal(10,2)'),
  ],
};

describe('checkWriteSchema: enforcement', () => {
  it('accepts rows that fit, with missing nullable columns', () => {
    const result = checkWriteSchema(table, [
      { id: 1n, name: 'a', addr: { city: 'x' }, tags: ['t'], props: { k: 1n }, day: '2024-01-01', amount: '1.5' },
      { id: 2 },
      { id: 3, props: new Map([['k', null]]), day: new Date(), amount: 3n },
    ]);
    expect(result.changed).toBe(false);
    expect(result.schema).toBe(table);
  });

  it('refuses an extra column naming it and its type', () => {
    const error = (() => {
      try {
        checkWriteSchema(table, [{ id: 1, extra: 'x' }]);
      } catch (e) {
        return e as { code: string; message: string; context: Record<string, unknown> };
      }
    })();
    expect(error?.code).toBe('SCHEMA_MISMATCH');
    expect(error?.message).toContain('extra');
    expect(error?.message).toContain('string');
    expect(error?.context).toMatchObject({ column: 'extra', tableType: 'missing', dataType: 'string' });
  });

  it('refuses an extra nested field and an incompatible type, naming both types', () => {
    expect(() => checkWriteSchema(table, [{ id: 1, addr: { city: 'x', street: 's' } }])).toThrow(/addr\.street/);
    expect(() => checkWriteSchema(table, [{ id: 'one' }])).toThrow(/column id: table type long, data type string/);
    expect(() => checkWriteSchema(table, [{ id: 1, addr: 'x' }])).toThrow(
      /column addr: table type struct<city:string,zip:integer>, data type string/,
    );
    expect(() => checkWriteSchema(table, [{ id: 1, tags: [1] }])).toThrow(
      /tags\.element: table type string, data type long/,
    );
    expect(() => checkWriteSchema(table, [{ id: 1, props: new Map([[1, 1]]) }])).toThrow(/props\.key/);
  });

  it('refuses nulls where the schema forbids them (INVALID_DATA naming column and row)', () => {
    expect(() => checkWriteSchema(table, [{ id: 1 }, { name: 'no id' }])).toThrow(
      expect.objectContaining({ code: 'INVALID_DATA', context: { column: 'id', row: 1 } }),
    );
    expect(() => checkWriteSchema(table, [{ id: 1, tags: ['a', null] }])).toThrow(/null element/);
  });

  it('refuses keys that differ from a column only in case', () => {
    expect(() => checkWriteSchema(table, [{ id: 1, Name: 'x' }])).toThrow(/differs in case/);
  });
});

describe('checkWriteSchema: mergeSchema', () => {
  it('appends inferred new columns and nested fields as nullable, keeping existing nullability', () => {
    const { schema, changed } = checkWriteSchema(
      table,
      [
        { id: 1, score: 1.5, addr: { city: 'x', geo: { lat: 1.5 } } },
        { id: 2, score: 2, flag: true, when: new Date(), big: 5n, list: [1, 2] },
      ],
      { mergeSchema: true },
    );
    expect(changed).toBe(true);
    expect(schema.fields.map((x) => x.name)).toEqual([
      ...table.fields.map((x) => x.name),
      'score',
      'flag',
      'when',
      'big',
      'list',
    ]);
    expect(schema.fields[0]).toEqual(f('id', 'long', false));
    const addr = schema.fields.find((x) => x.name === 'addr')?.type as StructType;
    expect(addr.fields).toEqual([
      f('city', 'string'),
      f('zip', 'integer'),
      f('geo', { type: 'struct', fields: [f('lat', 'double')] }),
    ]);
    expect(schema.fields.slice(-5)).toEqual([
      f('score', 'double'),
      f('flag', 'boolean'),
      f('when', 'timestamp'),
      f('big', 'long'),
      f('list', { type: 'array', elementType: 'long', containsNull: true }),
    ]);
  });

  it('uses a declared data schema for new columns and refuses type changes', () => {
    const data: StructType = { type: 'struct', fields: [f('id', 'integer'), f('n', 'short'), f('m', 'decimal(5,1)')] };
    const { schema } = checkWriteSchema(table, [{ id: 1, n: 3 }], { mergeSchema: true, dataSchema: data });
    expect(schema.fields.slice(-2)).toEqual([f('n', 'short'), f('m', 'decimal(5,1)')]);
    expect(schema.fields[0]?.type).toBe('long'); // integer data widens into the long column
    const changedType: StructType = { type: 'struct', fields: [f('id', 'long'), f('name', 'long')] };
    expect(() => checkWriteSchema(table, [], { mergeSchema: true, dataSchema: changedType })).toThrow(
      /column name: table type string, data type long/,
    );
  });

  it('refuses new columns whose values are all null unless declared', () => {
    expect(() => checkWriteSchema(table, [{ id: 1, n: null }], { mergeSchema: true })).toThrow(/every value is null/);
  });

  it('refuses values of mixed kinds in one new column', () => {
    expect(() =>
      checkWriteSchema(
        table,
        [
          { id: 1, x: 'a' },
          { id: 2, x: 1 },
        ],
        { mergeSchema: true },
      ),
    ).toThrow(expect.objectContaining({ code: 'SCHEMA_MISMATCH' }));
  });
});

describe('mergeDataSchema and helpers', () => {
  it('refuses a declared extra column without merge and a missing non-nullable column', () => {
    const data: StructType = { type: 'struct', fields: [f('id', 'long'), f('x', 'string')] };
    expect(() => mergeDataSchema(table, data, false)).toThrow(/x \(data type string\) is not in the table schema/);
    expect(() => mergeDataSchema(table, { type: 'struct', fields: [f('name', 'string')] }, true)).toThrow(
      /not nullable/,
    );
  });
  it('merges struct elements of arrays and map values', () => {
    const t: StructType = {
      type: 'struct',
      fields: [
        f('a', { type: 'array', elementType: { type: 'struct', fields: [f('x', 'long')] }, containsNull: true }),
      ],
    };
    const d: StructType = {
      type: 'struct',
      fields: [
        f('a', { type: 'array', elementType: { type: 'struct', fields: [f('y', 'string')] }, containsNull: true }),
      ],
    };
    expect(mergeDataSchema(t, d, true).fields[0]?.type).toEqual({
      type: 'array',
      elementType: { type: 'struct', fields: [f('x', 'long'), f('y', 'string')] },
      containsNull: true,
    });
  });
  it('knows the safe upcasts', () => {
    expect(canUpcast('byte', 'long')).toBe(true);
    expect(canUpcast('long', 'integer')).toBe(false);
    expect(canUpcast('float', 'double')).toBe(true);
    expect(canUpcast('decimal(5,2)', 'decimal(10,2)')).toBe(true);
    expect(canUpcast('decimal(10,2)', 'decimal(10,3)')).toBe(false);
    expect(canUpcast('string', 'binary')).toBe(false);
  });
  it('infers types of JS values', () => {
    expect(inferType(1)).toBe('long');
    expect(inferType(1.5)).toBe('double');
    expect(inferType(new Uint8Array())).toBe('binary');
    expect(inferType(new Map([['a', 1]]))).toEqual({
      type: 'map',
      keyType: 'string',
      valueType: 'long',
      valueContainsNull: true,
    });
    expect(inferType(null)).toBeUndefined();
  });
});
