// arrowToParquet: the two halves (rowsToArrow, arrowToParquet) give exactly encodeRows' bytes, and
// the dictionary hints, codec and created_by reach the writer.
import { describe, expect, it } from 'vitest';
import { arrowToParquet, CREATED_BY, encodeRows, rowsToArrow } from '../../../sinks/parquet/index.js';
import type { StructType } from '../../../sinks/schema.js';

const SCHEMA: StructType = {
  type: 'struct',
  fields: [
    { name: 'id', type: 'long', nullable: false, metadata: {} },
    { name: 'kind', type: 'string', nullable: true, metadata: {} },
    { name: 'note', type: 'string', nullable: true, metadata: {} },
  ],
};
const ROWS = Array.from({ length: 4000 }, (_, i) => ({
  id: i,
  kind: ['a', 'b', 'c'][i % 3],
  note: `note ${(i * 2654435761) % 1000003}`,
}));

/** Parquet footer bytes: the file ends with <footer><u32 length>PAR1. */
function footer(bytes: Uint8Array): Buffer {
  const buf = Buffer.from(bytes);
  const length = buf.readUInt32LE(buf.length - 8);
  return buf.subarray(buf.length - 8 - length, buf.length - 8);
}

describe('arrowToParquet', () => {
  it('rowsToArrow then arrowToParquet writes exactly the bytes encodeRows writes', () => {
    for (const options of [{}, { compression: 'snappy' as const }, { dictionary: false }]) {
      const arrow = rowsToArrow(SCHEMA, ROWS, options);
      expect(arrowToParquet(arrow.table, options, arrow.dictionaryColumns)).toEqual(
        encodeRows(SCHEMA, ROWS, options).bytes,
      );
    }
  });

  it("applies 'auto' dictionary hints: a repetitive column shrinks with its dictionary", () => {
    const arrow = rowsToArrow(SCHEMA, ROWS);
    expect(arrow.dictionaryColumns).toEqual(['kind']);
    const withHints = arrowToParquet(arrow.table, { compression: 'uncompressed' }, arrow.dictionaryColumns);
    const without = arrowToParquet(arrow.table, { compression: 'uncompressed' });
    expect(withHints.length).toBeLessThan(without.length);
  });

  it('names lakestream as the writer in the footer', () => {
    const bytes = encodeRows(SCHEMA, ROWS.slice(0, 10)).bytes;
    expect(footer(bytes).includes(Buffer.from(CREATED_BY))).toBe(true);
  });
});
