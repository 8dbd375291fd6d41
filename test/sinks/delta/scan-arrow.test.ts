// scanArrow returns the same rows as scanRows, as typed Arrow tables (projection, filter, partitions).
import { describe, expect, it } from 'vitest';
import { and, ge } from '../../../sinks/delta/predicate.js';
import { DeltaTable } from '../../../sinks/delta/table.js';
import type { StructType } from '../../../sinks/schema.js';
import { MemoryObjectStore } from '../../../storage/memory.js';

const schema: StructType = {
  type: 'struct',
  fields: [
    { name: 'id', type: 'long', nullable: false, metadata: {} },
    { name: 'ts', type: 'timestamp', nullable: true, metadata: {} },
    { name: 'amount', type: 'decimal(9,2)', nullable: true, metadata: {} },
    { name: 'tags', type: { type: 'array', elementType: 'string', containsNull: true }, nullable: true, metadata: {} },
    { name: 'day', type: 'date', nullable: true, metadata: {} },
  ],
};

describe('scanArrow', () => {
  it('yields typed Arrow tables with exactly the rows scanRows returns', async () => {
    const table = await DeltaTable.create(new MemoryObjectStore(), { schema, partitionColumns: ['day'] });
    const rows = Array.from({ length: 40 }, (_, i) => ({
      id: i,
      ts: new Date(Date.UTC(2026, 0, 1) + i * 3_600_000),
      amount: i % 7 === 0 ? null : `${i}.25`,
      tags: i % 3 === 0 ? null : [`t${i}`, null],
      day: i % 4 === 0 ? null : `2026-01-0${1 + (i % 3)}`,
    }));
    await table.append(rows.slice(0, 20));
    await table.append(rows.slice(20));
    const filter = and(ge('id', 5), ge('day', '2026-01-02'));
    const columns = ['day', 'id', 'ts', 'amount', 'tags'];
    const expected = await table.scanRows({ filter, columns });
    expect(expected.length).toBeGreaterThan(5);

    const got: Record<string, unknown>[] = [];
    for await (const batch of table.scanArrow({ filter, columns })) {
      expect(batch.table.schema.fields.map((f) => f.name)).toEqual(columns);
      const ts = batch.table.schema.fields.find((f) => f.name === 'ts');
      expect(String(ts?.type)).toBe('Timestamp<MICROSECOND, UTC>');
      // Stored as UTC microseconds (Arrow JS's row accessor reports milliseconds).
      const tsValues = batch.table.getChild('ts')?.data[0]?.values as BigInt64Array;
      expect(tsValues).toBeInstanceOf(BigInt64Array);
      const firstTs = (batch.table.toArray()[0]!.toJSON() as Record<string, unknown>).ts;
      if (firstTs !== null) expect(tsValues[0]).toBe(BigInt(firstTs as number) * 1000n);
      for (const r of batch.table.toArray()) {
        const o = r.toJSON() as Record<string, unknown>;
        got.push({
          id: BigInt(o.id as bigint),
          day: o.day === null ? null : new Date(o.day as number).toISOString().slice(0, 10),
          ts: o.ts === null ? null : BigInt(o.ts as number) * 1000n,
          tags: o.tags === null ? null : [...(o.tags as Iterable<unknown>)],
        });
      }
    }
    const key = (r: Record<string, unknown>) => String(r.id);
    const norm = expected.map((r) => ({ id: r.id, day: r.day, ts: r.ts, tags: r.tags }));
    expect(got.sort((a, b) => key(a).localeCompare(key(b)))).toEqual(norm.sort((a, b) => key(a).localeCompare(key(b))));
  });
});
