// String and binary columns: UTF-8 bytes and offsets as Arrow reads them back, including buffer growth
// far past the size estimated from the first values, and stats in UTF-8 order.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rowsToArrow } from '../../../../sinks/parquet/index.js';
import type { DataType, StructType } from '../../../../sinks/schema.js';

const schemaOf = (type: DataType): StructType => ({
  type: 'struct',
  fields: [{ name: 'v', type, nullable: true, metadata: {} }],
});

describe('string columns', () => {
  it('grows past the estimated size and keeps every value intact', () => {
    // The first 256 values (the sizing sample) are one byte; later ones are 3-byte and 4-byte UTF-8.
    const rows = [
      ...Array.from({ length: 300 }, () => ({ v: 'a' })),
      ...Array.from({ length: 3000 }, (_, i) => ({ v: i % 11 === 0 ? null : `${'語'.repeat(i % 700)}😀${i}` })),
    ];
    const { table, stats } = rowsToArrow(schemaOf('string'), rows);
    const column = table.getChild('v');
    const expected = rows.map((r) => r.v);
    expect(Array.from({ length: rows.length }, (_, i) => column?.get(i) ?? null)).toEqual(expected);
    const data = column?.data[0];
    expect(data?.values.length).toBe(expected.reduce((n, s) => n + (s === null ? 0 : Buffer.byteLength(s)), 0));
    const present = expected.filter((s): s is string => s !== null);
    const sorted = [...present].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    expect(stats[0]).toMatchObject({ nullCount: expected.length - present.length, min: sorted[0], max: sorted.at(-1) });
  });

  it('switches between ASCII runs and value-by-value writing without losing a byte', () => {
    // ASCII, then a stretch of non-ASCII (a run is redone value by value and the following text is
    // written directly), then ASCII again; nulls throughout; across several blocks.
    const values = Array.from({ length: 40_000 }, (_, i) => {
      if (i % 97 === 0) return null;
      if (i >= 12_000 && i < 12_400) return `ünïcödé ${i} ${'€'.repeat(i % 5)}`;
      return `ascii-${i}-${'z'.repeat(i % 13)}`;
    });
    const { table, stats } = rowsToArrow(
      schemaOf('string'),
      values.map((v) => ({ v })),
    );
    const column = table.getChild('v');
    expect(Array.from({ length: values.length }, (_, i) => column?.get(i) ?? null)).toEqual(values);
    expect(stats[0]).toEqual({ path: ['v'], type: 'string', ...reference(values) });
  });

  it('handles short strings that are not ASCII', () => {
    const values = ['é', 'ab€', 'ÿ', '\u0080', 'x😀', 'plain'];
    const { table } = rowsToArrow(
      schemaOf('string'),
      values.map((v) => ({ v })),
    );
    expect(Array.from({ length: values.length }, (_, i) => table.getChild('v')?.get(i))).toEqual(values);
  });
});

/** Reference stats: null count, and min/max by UTF-8 bytes. */
function reference(values: (string | null)[]) {
  const present = values.filter((s): s is string => s !== null);
  const sorted = [...present].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const stats: Record<string, unknown> = { nullCount: values.length - present.length };
  if (sorted.length > 0) Object.assign(stats, { min: sorted[0], max: sorted.at(-1) });
  return stats;
}

describe('string columns (property)', () => {
  const text = fc.oneof(
    { weight: 4, arbitrary: fc.string({ maxLength: 40 }) },
    { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
    {
      weight: 1,
      arbitrary: fc
        .string({ unit: 'binary', maxLength: 20 })
        .filter((s) => (s as string & { isWellFormed(): boolean }).isWellFormed()),
    },
    // Long values make runs cross the run-size limit, ASCII and not.
    { weight: 1, arbitrary: fc.constantFrom('a'.repeat(9000), 'é'.repeat(7000), `${'b'.repeat(16383)}ü`) },
  );

  it('stores every value and computes UTF-8-ordered stats, for any mix of ASCII, Unicode and nulls', () => {
    fc.assert(
      fc.property(fc.array(fc.option(text, { nil: null, freq: 5 }), { maxLength: 3000, size: 'medium' }), (values) => {
        const { table, stats } = rowsToArrow(
          schemaOf('string'),
          values.map((v) => ({ v })),
        );
        const column = table.getChild('v');
        expect(Array.from({ length: values.length }, (_, i) => column?.get(i) ?? null)).toEqual(values);
        const { nullCount, min, max } = reference(values);
        expect(stats[0]).toEqual({
          path: ['v'],
          type: 'string',
          nullCount,
          ...(min === undefined ? {} : { min, max }),
        });
      }),
      { numRuns: 150 },
    );
  });
});

describe('binary columns', () => {
  it('copies bytes, including empty values and Buffers, past the estimated size', () => {
    const rows = [
      ...Array.from({ length: 256 }, (_, i) => ({ v: new Uint8Array([i]) })),
      ...Array.from({ length: 500 }, (_, i) => ({ v: i % 9 === 0 ? null : Buffer.alloc(i * 3, i % 256) })),
    ];
    const { table, stats } = rowsToArrow(schemaOf('binary'), rows);
    const column = table.getChild('v');
    for (let i = 0; i < rows.length; i++) {
      const want = rows[i]?.v;
      const got = column?.get(i);
      if (want === null) expect(got).toBeNull();
      else expect(Buffer.from(got as Uint8Array).equals(Buffer.from(want as Uint8Array))).toBe(true);
    }
    expect(stats[0]).toEqual({ path: ['v'], type: 'binary', nullCount: rows.filter((r) => r.v === null).length });
  });
});
