// Dictionary encoding: which columns 'auto' picks from a sample, and that the written column chunks
// have (or lack) a dictionary page accordingly, read back with pyarrow.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dictionaryColumns } from '../../../sinks/parquet/dictionary.js';
import { encodeRows } from '../../../sinks/parquet/index.js';
import type { DataType, StructField, StructType } from '../../../sinks/schema.js';
import { pythonReaders } from '../../kit/capabilities.js';
import { requireCapability } from '../../kit/capability.js';
import { PythonSession } from '../../kit/python.js';
import { readBack } from './read-back.js';

const cap = await requireCapability(pythonReaders);

const field = (name: string, type: DataType): StructField => ({ name, type, nullable: true, metadata: {} });
const SCHEMA: StructType = {
  type: 'struct',
  fields: [
    field('id', 'string'),
    field('kind', 'string'),
    field('seq', 'long'),
    field('qty', 'integer'),
    field('day', 'date'),
    field('when', 'timestamp'),
    field('flag', 'boolean'),
    field('blob', 'binary'),
    field('empty', 'string'),
    field('st', { type: 'struct', fields: [field('k', 'string')] }),
  ],
};
const KINDS = ['view', 'click', 'buy'];
const ROWS = Array.from({ length: 3000 }, (_, i) => ({
  id: `id-${i}-${(i * 7919) % 3001}`,
  kind: KINDS[i % KINDS.length],
  seq: i,
  qty: i % 10,
  day: new Date(Date.UTC(2024, 0, 1 + Math.floor(i / 500))),
  when: new Date(Date.UTC(2024, 0, 1) + i * 1000),
  flag: i % 2 === 0,
  blob: new Uint8Array([i % 2]),
  empty: null,
  st: { k: KINDS[i % 2] },
}));

describe("dictionary: 'auto' column choice", () => {
  it('picks top-level primitive columns whose sample repeats, never booleans, binary or nested ones', () => {
    expect(dictionaryColumns(SCHEMA, ROWS)).toEqual(['kind', 'qty', 'day']);
  });

  it('decides on the leading rows only and skips all-null columns', () => {
    const rows = Array.from({ length: 5000 }, (_, i) => ({ kind: i < 1024 ? 'same' : `v${i}`, empty: null }));
    expect(dictionaryColumns(SCHEMA, rows)).toEqual(['kind']);
    expect(dictionaryColumns(SCHEMA, [])).toEqual([]);
  });

  it('encodeRows reports the choice only under auto', async () => {
    const { rowsToArrow } = await import('../../../sinks/parquet/index.js');
    expect(rowsToArrow(SCHEMA, ROWS).dictionaryColumns).toEqual(['kind', 'qty', 'day']);
    expect(rowsToArrow(SCHEMA, ROWS, { dictionary: true }).dictionaryColumns).toEqual([]);
  });
});

describe.skipIf(!cap.available)('dictionary pages in the written file', () => {
  let py: PythonSession;
  beforeAll(() => {
    py = new PythonSession();
  });
  afterAll(async () => {
    await py?.close();
  });

  const dictionaryPages = async (dictionary: boolean | 'auto') => {
    const back = await readBack(py, encodeRows(SCHEMA, ROWS, { dictionary }).bytes);
    return Object.fromEntries(back.columns.map((c) => [c.path, c.hasDictionary.every(Boolean)]));
  };

  it("'auto' (the default) dictionary-encodes exactly the chosen columns", async () => {
    const pages = await dictionaryPages('auto');
    expect(Object.keys(pages).filter((k) => pages[k])).toEqual(['kind', 'qty', 'day']);
    const back = await readBack(py, encodeRows(SCHEMA, ROWS).bytes);
    expect(back.columns.filter((c) => c.hasDictionary.every(Boolean)).map((c) => c.path)).toEqual([
      'kind',
      'qty',
      'day',
    ]);
  });

  it('true dictionary-encodes every column, false none', async () => {
    const on = await dictionaryPages(true);
    expect(on).toMatchObject({ id: true, kind: true, seq: true, 'st.k': true });
    const off = await dictionaryPages(false);
    expect(Object.values(off).some(Boolean)).toBe(false);
  });
});
