// Unit tests of file skipping on statistics and partition values: a file is skipped only when its
// bounds prove no row matches — truncated string maxima, ms timestamps and rounded floats included.
import { describe, expect, it } from 'vitest';
import type { AddAction } from '../../../sinks/delta/actions.js';
import { FileSkipper, parseStats } from '../../../sinks/delta/data-skipping.js';
import {
  and,
  bindPredicate,
  eq,
  ge,
  gt,
  isIn,
  isNotNull,
  isNull,
  le,
  lt,
  ne,
  not,
  or,
  type Predicate,
} from '../../../sinks/delta/predicate.js';
import type { StructType } from '../../../sinks/schema.js';

const schema: StructType = {
  type: 'struct',
  fields: [
    { name: 'i', type: 'integer', nullable: true, metadata: {} },
    { name: 's', type: 'string', nullable: true, metadata: {} },
    { name: 't', type: 'timestamp', nullable: true, metadata: {} },
    { name: 'f', type: 'float', nullable: true, metadata: {} },
    { name: 'd', type: 'decimal(10,2)', nullable: true, metadata: {} },
    { name: 'p', type: 'date', nullable: true, metadata: {} },
  ],
};

function file(stats: Record<string, unknown> | undefined, partition: string | null = '2024-01-01'): AddAction {
  return {
    path: 'x',
    partitionValues: { p: partition },
    size: 1,
    modificationTime: 1,
    dataChange: true,
    ...(stats ? { stats: JSON.stringify(stats) } : {}),
  };
}

const stats = (
  min: Record<string, unknown>,
  max: Record<string, unknown>,
  nullCount: Record<string, number> = {},
  numRecords = 10,
) => ({
  numRecords,
  minValues: min,
  maxValues: max,
  nullCount,
});

const might = (p: Predicate, f: AddAction) => new FileSkipper(schema, ['p'], bindPredicate(p, schema)).mightMatch(f);

describe('data skipping', () => {
  const ints = file(stats({ i: 10 }, { i: 20 }, { i: 0 }));

  it('uses integer min/max for comparisons and IN', () => {
    expect(might(eq('i', 15), ints)).toBe(true);
    expect(might(eq('i', 21), ints)).toBe(false);
    expect(might(lt('i', 10), ints)).toBe(false);
    expect(might(le('i', 10), ints)).toBe(true);
    expect(might(gt('i', 20), ints)).toBe(false);
    expect(might(ge('i', 20), ints)).toBe(true);
    expect(might(isIn('i', [1, 2, 30]), ints)).toBe(false);
    expect(might(isIn('i', [1, 12]), ints)).toBe(true);
    expect(might(ne('i', 15), ints)).toBe(true);
    expect(might(eq('i', null), ints)).toBe(false);
  });

  it('combines with AND/OR and never skips on NOT of a data column', () => {
    expect(might(and(eq('i', 15), eq('i', 25)), ints)).toBe(false);
    expect(might(or(eq('i', 25), eq('i', 15)), ints)).toBe(true);
    expect(might(or(eq('i', 25), eq('i', 5)), ints)).toBe(false);
    expect(might(not(eq('i', 15)), ints)).toBe(true);
  });

  it('uses null counts', () => {
    expect(might(isNull('i'), ints)).toBe(false);
    expect(might(isNotNull('i'), ints)).toBe(true);
    const allNull = file(stats({}, {}, { i: 10 }));
    expect(might(isNotNull('i'), allNull)).toBe(false);
    expect(might(eq('i', 1), allNull)).toBe(false);
    expect(might(isNull('i'), allNull)).toBe(true);
    expect(might(eq('i', 1), file(stats({}, {}, {}, 0)))).toBe(false);
  });

  it('never skips without statistics, or with unusable ones', () => {
    expect(might(eq('i', 100), file(undefined))).toBe(true);
    expect(might(eq('i', 100), { ...file(undefined), stats: 'not json' })).toBe(true);
    expect(might(eq('i', 100), file(stats({ i: 'x' }, { i: null })))).toBe(true);
    expect(might(isNull('i'), file({ ...stats({ i: 10 }, { i: 20 }, { i: 0 }), tightBounds: false }))).toBe(true);
  });

  it('treats a 32-character string maximum as a truncated prefix, but uses the minimum', () => {
    const long = 'a'.repeat(32);
    const truncated = file(stats({ s: 'a' }, { s: long }));
    expect(might(eq('s', `${long}zzz`), truncated)).toBe(true);
    expect(might(gt('s', long), truncated)).toBe(true);
    expect(might(lt('s', 'a'), truncated)).toBe(false);
    const exact = file(stats({ s: 'a' }, { s: 'b' }));
    expect(might(gt('s', 'b'), exact)).toBe(false);
    expect(might(eq('s', 'bb'), exact)).toBe(false);
  });

  it('widens millisecond timestamp maxima by 999 µs', () => {
    const f = file(stats({ t: '2000-01-01T00:00:00.000Z' }, { t: '2000-01-01T00:00:01.000-00:00' }));
    const second = BigInt(Date.UTC(2000, 0, 1, 0, 0, 1)) * 1000n;
    expect(might(eq('t', second + 999n), f)).toBe(true);
    expect(might(eq('t', second + 1000n), f)).toBe(false);
    expect(might(lt('t', new Date(Date.UTC(2000, 0, 1))), f)).toBe(false);
  });

  it('widens float and decimal bounds that went through a JSON double', () => {
    const f = file(stats({ f: 0.1, d: 0.1 }, { f: 0.1, d: 0.1 }));
    // The float 0.1f is 0.100000001490116…: a bound of exactly 0.1 must not exclude it.
    expect(might(gt('f', 0.1), f)).toBe(true);
    expect(might(gt('f', 0.2), f)).toBe(false);
    expect(might(eq('d', '0.10'), f)).toBe(true);
    expect(might(eq('d', '0.20'), f)).toBe(false);
  });

  it('prunes partitions exactly, including NOT and null partitions', () => {
    expect(might(eq('p', '2024-01-01'), ints)).toBe(true);
    expect(might(eq('p', '2024-01-02'), ints)).toBe(false);
    expect(might(not(eq('p', '2024-01-01')), ints)).toBe(false);
    expect(might(isNull('p'), ints)).toBe(false);
    expect(might(isNull('p'), file(undefined, null))).toBe(true);
    expect(might(isNull('p'), file(undefined, ''))).toBe(true);
    expect(might(and(eq('p', '2024-01-01'), eq('i', 99)), ints)).toBe(false);
    expect(might(or(eq('p', '2024-01-01'), eq('i', 99)), ints)).toBe(true);
  });

  it('parses stats leniently', () => {
    expect(parseStats('{"numRecords":3}')).toEqual({
      numRecords: 3,
      minValues: {},
      maxValues: {},
      nullCount: {},
      tightBounds: true,
    });
    expect(parseStats(null)).toBeUndefined();
    expect(parseStats('[')).toBeUndefined();
  });
});
