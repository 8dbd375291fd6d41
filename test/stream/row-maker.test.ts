// rowMaker: rows of a fixed column list from value arrays, for any column name.
import { describe, expect, it } from 'vitest';
import { rowMaker } from '../../stream/row-maker.js';

describe('rowMaker', () => {
  it('makes a row with the columns in order', () => {
    const make = rowMaker(['id', 'kafka.offset', 'name with "quotes"', 'ünï\\code', '']);
    const row = make([1, 42n, 'q', null, undefined]);
    expect(Object.keys(row)).toEqual(['id', 'kafka.offset', 'name with "quotes"', 'ünï\\code', '']);
    expect(row).toEqual({ id: 1, 'kafka.offset': 42n, 'name with "quotes"': 'q', 'ünï\\code': null, '': undefined });
    // A new object each time, independent of the values array.
    const values = [2, 3, 4, 5, 6];
    const a = make(values);
    values[0] = 9;
    expect(a.id).toBe(2);
    expect(make(values)).not.toBe(a);
  });

  it("keeps '__proto__' an ordinary column: the row's prototype is untouched", () => {
    const make = rowMaker(['a', '__proto__']);
    const row = make([1, { polluted: true }]);
    expect(Object.getPrototypeOf(row)).toBe(Object.prototype);
    expect(Object.keys(row)).toEqual(['a', '__proto__']);
    expect(Object.getOwnPropertyDescriptor(row, '__proto__')?.value).toEqual({ polluted: true });
    expect((row as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it('lets the last of repeated names win, as assignment does', () => {
    expect(rowMaker(['a', 'b', 'a'])([1, 2, 3])).toEqual({ a: 3, b: 2 });
  });

  it('makes an empty row for no columns', () => {
    expect(rowMaker([])([])).toEqual({});
  });
});
