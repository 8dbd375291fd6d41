// Smoke: the interop readers are real. delta-rs and Spark (with Delta) each write a tiny table and
// read it back, and each reads the other's table.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pythonReaders } from '../kit/capabilities.js';
import { requireCapability } from '../kit/capability.js';
import { PythonSession } from '../kit/python.js';

const cap = await requireCapability(pythonReaders);

describe.skipIf(!cap.available)('smoke: delta-rs and Spark readers', () => {
  let py: PythonSession;
  let dir: string;
  beforeAll(() => {
    py = new PythonSession();
    dir = mkdtempSync(join(tmpdir(), 'lakestream-smoke-'));
  });
  afterAll(async () => {
    await py?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('delta-rs writes and reads back a table', async () => {
    const path = join(dir, 'by-delta-rs');
    const rows = await py.run<Record<string, unknown>[]>(
      `
import pyarrow as pa
from deltalake import write_deltalake
write_deltalake(args["path"], pa.table({"id": [1, 2, 3], "name": ["a", "b", None]}))
write_deltalake(args["path"], pa.table({"id": [4], "name": ["d"]}), mode="append")
result = sorted(readers.delta_rs_rows(args["path"]), key=lambda r: r["id"])
`,
      { path },
    );
    expect(rows).toEqual([
      { id: 1, name: 'a' },
      { id: 2, name: 'b' },
      { id: 3, name: null },
      { id: 4, name: 'd' },
    ]);
    expect(await py.run('result = readers.delta_rs_version(args["path"])', { path })).toBe(1);
  });

  it('Spark with Delta writes and reads back a table, and reads the delta-rs table', async () => {
    const path = join(dir, 'by-spark');
    const result = await py.run<{ own: Record<string, unknown>[]; other: number[] }>(
      `
spark = readers.spark()
spark.createDataFrame([(1, "x"), (2, "y")], "id long, name string").write.format("delta").save(args["path"])
spark.createDataFrame([(3, "z")], "id long, name string").write.format("delta").mode("append").save(args["path"])
result = {
  "own": sorted(readers.spark_delta_rows(args["path"]), key=lambda r: r["id"]),
  "other": sorted(r["id"] for r in readers.spark_delta_rows(args["other"], version=0)),
}
`,
      { path, other: join(dir, 'by-delta-rs') },
    );
    expect(result.own).toEqual([
      { id: 1, name: 'x' },
      { id: 2, name: 'y' },
      { id: 3, name: 'z' },
    ]);
    expect(result.other).toEqual([1, 2, 3]);
    // And delta-rs reads Spark's table.
    const ids = await py.run<number[]>('result = sorted(r["id"] for r in readers.delta_rs_rows(args["path"]))', {
      path,
    });
    expect(ids).toEqual([1, 2, 3]);
  }, 180_000);
});
