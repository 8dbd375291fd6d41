// Unit tests of filters: binding to a schema, SQL three-valued logic, IN and NULL handling.
import { describe, expect, it } from 'vitest';
import { DeltaError } from '../../../sinks/delta/errors.js';
import {
  and,
  bindPredicate,
  eq,
  evaluate,
  ge,
  isIn,
  isNotNull,
  isNull,
  lt,
  matches,
  ne,
  not,
  or,
  type Predicate,
  predicateColumns,
} from '../../../sinks/delta/predicate.js';
import type { StructType } from '../../../sinks/schema.js';

const schema: StructType = {
  type: 'struct',
  fields: [
    { name: 'id', type: 'long', nullable: true, metadata: {} },
    { name: 'Name', type: 'string', nullable: true, metadata: {} },
    { name: 'price', type: 'decimal(6,2)', nullable: true, metadata: {} },
    { name: 'x', type: 'double', nullable: true, metadata: {} },
    { name: 'tags', type: { type: 'array', elementType: 'string', containsNull: true }, nullable: true, metadata: {} },
    { name: 'ci', type: 'string', nullable: true, metadata: { __COLLATIONS: { ci: 'spark.UTF8_LCASE' } } },
  ],
};

const run = (p: Predicate, row: Record<string, unknown>) =>
  evaluate(bindPredicate(p, schema), (c) => (row[c] ?? null) as never);

function bindError(p: Predicate): DeltaError {
  try {
    bindPredicate(p, schema);
  } catch (error) {
    expect(error).toBeInstanceOf(DeltaError);
    return error as DeltaError;
  }
  throw new Error('expected an error');
}

describe('predicate', () => {
  it('binds columns case-insensitively and types literals', () => {
    expect(bindPredicate(eq('name', 'a'), schema)).toEqual({ op: '=', column: 'Name', type: 'string', value: 'a' });
    expect(bindPredicate(isIn('id', [1, 2n]), schema)).toEqual({
      op: 'in',
      column: 'id',
      type: 'long',
      values: [1n, 2n],
    });
    expect(predicateColumns(bindPredicate(and(eq('id', 1), or(isNull('name'), not(lt('x', 1)))), schema))).toEqual(
      new Set(['id', 'Name', 'x']),
    );
  });

  it('refuses unknown columns, nested columns, ill-typed literals and collated columns', () => {
    expect(bindError(eq('nope', 1)).code).toBe('INVALID_ARGUMENT');
    expect(bindError(eq('tags', 'a')).code).toBe('INVALID_ARGUMENT');
    expect(bindError(eq('id', 'abc')).code).toBe('INVALID_ARGUMENT');
    expect(bindError({ op: 'like', column: 'id' } as unknown as Predicate).code).toBe('INVALID_ARGUMENT');
    expect(bindError(eq('ci', 'a'))).toMatchObject({ code: 'UNSUPPORTED_FEATURE', context: { feature: 'collations' } });
  });

  it('follows SQL three-valued logic', () => {
    const row = { id: 5n, Name: null, price: '10.50', x: Number.NaN };
    expect(run(eq('id', 5), row)).toBe(true);
    expect(run(ne('id', 5), row)).toBe(false);
    expect(run(eq('name', 'a'), row)).toBeUndefined();
    expect(run(not(eq('name', 'a')), row)).toBeUndefined();
    expect(run(and(eq('id', 5), eq('name', 'a')), row)).toBeUndefined();
    expect(run(and(eq('id', 4), eq('name', 'a')), row)).toBe(false);
    expect(run(or(eq('id', 5), eq('name', 'a')), row)).toBe(true);
    expect(run(or(eq('id', 4), eq('name', 'a')), row)).toBeUndefined();
    expect(run(isNull('name'), row)).toBe(true);
    expect(run(isNotNull('id'), row)).toBe(true);
    expect(run(eq('id', null), row)).toBeUndefined();
    expect(run(ge('price', '10.5'), row)).toBe(true);
    expect(run(eq('price', 10.5), row)).toBe(true);
    expect(run(lt('x', 1), row)).toBeUndefined();
    expect(run(isIn('id', [1, 5]), row)).toBe(true);
    expect(run(isIn('id', [1, null]), row)).toBeUndefined();
    expect(run(isIn('id', [1, 2]), row)).toBe(false);
  });

  it('matches only rows where the filter is true', () => {
    const bound = bindPredicate(or(eq('name', 'a'), lt('id', 3)), schema);
    const rows = [
      { id: 1n, Name: null },
      { id: 4n, Name: null },
      { id: 4n, Name: 'a' },
    ];
    expect(rows.filter((r) => matches(bound, r))).toEqual([rows[0], rows[2]]);
  });
});
