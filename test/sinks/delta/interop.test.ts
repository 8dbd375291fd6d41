// Interop: tables written by lakestream (local filesystem) are read by delta-rs and by Spark (Delta 4.0)
// with exactly the expected rows — unpartitioned, partitioned with nulls and special characters, every
// type, schema evolution, overwrite/replaceWhere, checkpoints, optimize and vacuum — and Spark's own
// statistics and partition layout for the same data equal lakestream's; filtered queries skip correctly.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq } from '../../../sinks/delta/predicate.js';
import { type AppTransaction, DeltaTable } from '../../../sinks/delta/table.js';
import type { DataType, StructType } from '../../../sinks/schema.js';
import { LocalObjectStore } from '../../../storage/local.js';
import { pythonReaders } from '../../kit/capabilities.js';
import { requireCapability } from '../../kit/capability.js';
import { PythonSession } from '../../kit/python.js';

const cap = await requireCapability(pythonReaders);

const f = (name: string, type: DataType, nullable = true) => ({ name, type, nullable, metadata: {} });
type Row = Record<string, unknown>;

/** Python helpers: rows normalised the same way for delta-rs and Spark (and for the TS expectations). */
const HELPERS = `
import base64, datetime, decimal, json, math, os
from urllib.parse import unquote

def lk_norm(v):
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, int):
        return v if abs(v) < 2**53 else {"$int": str(v)}
    if isinstance(v, float):
        return v if math.isfinite(v) else {"$float": str(v)}
    if isinstance(v, datetime.datetime):
        if v.tzinfo is not None:
            v = v.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        return v.isoformat(timespec="microseconds") + "Z"
    if isinstance(v, datetime.date):
        return v.isoformat()
    if isinstance(v, decimal.Decimal):
        return format(v, "f")
    if isinstance(v, (bytes, bytearray, memoryview)):
        return {"$binary": base64.b64encode(bytes(v)).decode("ascii")}
    if hasattr(v, "asDict"):
        return lk_norm(v.asDict(recursive=True))
    if isinstance(v, dict):
        return {str(k): lk_norm(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [lk_norm(x) for x in v]
    return v

def lk_rows(rows, maps):
    out = []
    for row in rows:
        r = {}
        for k, v in row.items():
            if k in maps and v is not None:
                items = v.items() if isinstance(v, dict) else v
                r[k] = {str(a): lk_norm(b) for a, b in items}
            else:
                r[k] = lk_norm(v)
        out.append(r)
    return sorted(out, key=lambda r: r.get("id") if isinstance(r.get("id"), int) else -1)

def lk_log_adds(path, version=None):
    """Every add action of the commit files (or of one version), in log order."""
    log = os.path.join(path, "_delta_log")
    files = sorted(n for n in os.listdir(log) if n.endswith(".json") and not n.startswith("_"))
    adds = []
    for name in files:
        if version is not None and int(name[:20]) != version:
            continue
        with open(os.path.join(log, name)) as fh:
            for line in fh:
                line = line.strip()
                if line and '"add"' in line[:8]:
                    adds.append(json.loads(line)["add"])
    return adds

def lk_scan_files(frame):
    """Runs the query and returns (rows, files read) from the Delta scan's metrics (AQE off)."""
    rows = frame.collect()
    plan = frame._jdf.queryExecution().executedPlan()
    found = []
    def walk(node):
        metrics = node.metrics()
        if metrics.contains("numFiles"):
            found.append(metrics.apply("numFiles").value())
        children = node.children()
        for i in range(children.size()):
            walk(children.apply(i))
    walk(plan)
    return rows, sum(found)
`;

interface TableCase {
  name: string;
  path: string;
  /** Expected rows after all writes, in the normalised form of HELPERS.lk_norm. */
  rows: Row[];
  maps?: string[];
  /** Older versions to read too: version → expected rows. */
  versions?: Record<number, Row[]>;
  /** Spark WHERE clauses → expected ids. */
  where?: Record<string, number[]>;
}

const iso = (d: string) => `${d.replace('Z', '').padEnd(26, '0').slice(0, 26)}Z`;
const b64 = (bytes: Uint8Array) => ({ $binary: Buffer.from(bytes).toString('base64') });
const sortById = (rows: Row[]) => [...rows].sort((a, b) => Number(a.id) - Number(b.id));

describe.skipIf(!cap.available)('interop: lakestream tables read by delta-rs and Spark', () => {
  let py: PythonSession;
  let dir: string;
  const cases: TableCase[] = [];
  const at = (name: string) => join(dir, name);
  const open = (
    name: string,
    properties: Record<string, string> = {},
    schema?: StructType,
    partitionColumns?: string[],
  ) =>
    DeltaTable.create(new LocalObjectStore(at(name)), {
      schema: schema as StructType,
      ...(partitionColumns ? { partitionColumns } : {}),
      properties,
    });

  beforeAll(async () => {
    process.env.TZ = 'UTC'; // PySpark turns timestamps into datetimes in the worker's local zone
    dir = mkdtempSync(join(tmpdir(), 'lakestream-delta-interop-'));
    py = new PythonSession();

    // 1. Unpartitioned, two appends, with a txn.
    {
      const schema: StructType = {
        type: 'struct',
        fields: [f('id', 'long', false), f('name', 'string'), f('score', 'double')],
      };
      const table = await open('basic', {}, schema);
      const rows = Array.from({ length: 100 }, (_, i) => ({ id: i, name: `n${i}`, score: i * 0.5 }));
      const txn: AppTransaction = { appId: 'query-1', version: 0 };
      await table.append(rows.slice(0, 50), { txn });
      await table.append(rows.slice(50), { txn: { ...txn, version: 1 } });
      cases.push({
        name: 'basic',
        path: at('basic'),
        rows,
        versions: { 1: rows.slice(0, 50) },
        where: {
          'id > 80': rows.filter((r) => r.id > 80).map((r) => r.id),
          "name = 'n5'": [5],
          'score <= 1.0': [0, 1, 2],
        },
      });
    }

    // 2. Partitioned by string, date and int, with nulls and characters that need escaping.
    {
      const schema: StructType = {
        type: 'struct',
        fields: [f('id', 'long'), f('s', 'string'), f('d', 'date'), f('i', 'integer'), f('v', 'string')],
      };
      const table = await open('partitioned', {}, schema, ['s', 'd', 'i']);
      const strings = ['a:b', 'x/y=z', 'ü ñ', 'sp ace', '100%', "q'uote", null];
      const dates = ['2024-01-01', '2024-02-29', null];
      const ints = [1, -5, null];
      const rows: Row[] = [];
      let id = 0;
      for (const s of strings)
        for (const d of dates) for (const i of ints) rows.push({ id: id++, s, d, i, v: `v${id}` });
      await table.append(rows);
      cases.push({
        name: 'partitioned',
        path: at('partitioned'),
        rows,
        where: {
          "s = 'a:b'": rows.filter((r) => r.s === 'a:b').map((r) => r.id as number),
          "d = DATE'2024-02-29' AND i = -5": rows
            .filter((r) => r.d === '2024-02-29' && r.i === -5)
            .map((r) => r.id as number),
          's IS NULL AND i IS NULL': rows.filter((r) => r.s === null && r.i === null).map((r) => r.id as number),
        },
      });
    }

    // 3. Every supported type, nested struct / array / map, long strings for stats truncation.
    {
      const schema: StructType = {
        type: 'struct',
        fields: [
          f('id', 'long'),
          f('b', 'byte'),
          f('sh', 'short'),
          f('i', 'integer'),
          f('big', 'long'),
          f('fl', 'float'),
          f('db', 'double'),
          f('dec', 'decimal(10,2)'),
          f('dec38', 'decimal(38,18)'),
          f('ok', 'boolean'),
          f('bin', 'binary'),
          f('day', 'date'),
          f('ts', 'timestamp'),
          f('s', 'string'),
          f('s2', 'string'),
          f('s3', 'string'),
          f('s4', 'string'),
          f('st', { type: 'struct', fields: [f('a', 'long'), f('b', { type: 'struct', fields: [f('c', 'string')] })] }),
          f('arr', { type: 'array', elementType: 'integer', containsNull: true }),
          f('arrs', { type: 'array', elementType: { type: 'struct', fields: [f('x', 'string')] }, containsNull: true }),
          f('m', { type: 'map', keyType: 'string', valueType: 'long', valueContainsNull: true }),
        ],
      };
      const table = await open('types', {}, schema);
      const long40 = `z${'ž'.repeat(39)}`;
      // Strings that exercise each branch of Delta's max-string truncation (ASCII tie-breaker, a
      // surrogate pair at the cut, and U+10FFFF runs that leave no bound).
      const s2 = ['a'.repeat(32) + '-tail', 'b'];
      const s3 = [`${'a'.repeat(31)}😀x`, `${'a'.repeat(31)}\uffff`];
      const s4 = ['\u{10FFFF}'.repeat(40), 'z'];
      const input: Row[] = [
        {
          id: 1,
          b: -128,
          sh: 32767,
          i: -2147483648,
          big: 9007199254740993n,
          fl: 1.25,
          db: -0.1,
          dec: '12345678.90',
          dec38: '-12345678901234567890.000000000000000001',
          ok: true,
          bin: new Uint8Array([0, 255, 7]),
          day: '1969-07-20',
          ts: '1969-12-31T23:59:59.999999Z',
          s: long40,
          s2: s2[0],
          s3: s3[0],
          s4: s4[0],
          st: { a: 5n, b: { c: 'deep' } },
          arr: [1, null, 3],
          arrs: [{ x: 'p' }, null],
          m: new Map([
            ['k', 1n],
            ['n', null],
          ]),
        },
        {
          id: 2,
          b: 127,
          sh: -32768,
          i: 2147483647,
          big: -9007199254740993n,
          fl: -3.5,
          db: 1e300,
          dec: '-0.01',
          dec38: '0.000000000000000001',
          ok: false,
          bin: new Uint8Array([]),
          day: '2024-02-29',
          ts: new Date(Date.UTC(2024, 1, 29, 12, 0, 0, 123)),
          s: 'abc😀',
          s2: s2[1],
          s3: s3[1],
          s4: s4[1],
          st: { a: null, b: null },
          arr: [],
          arrs: [],
          m: { x: -1n },
        },
        { id: 3 },
      ];
      await table.append(input);
      const rows: Row[] = [
        {
          id: 1,
          b: -128,
          sh: 32767,
          i: -2147483648,
          big: { $int: '9007199254740993' },
          fl: 1.25,
          db: -0.1,
          dec: '12345678.90',
          dec38: '-12345678901234567890.000000000000000001',
          ok: true,
          bin: b64(new Uint8Array([0, 255, 7])),
          day: '1969-07-20',
          ts: '1969-12-31T23:59:59.999999Z',
          s: long40,
          s2: s2[0],
          s3: s3[0],
          s4: s4[0],
          st: { a: 5, b: { c: 'deep' } },
          arr: [1, null, 3],
          arrs: [{ x: 'p' }, null],
          m: { k: 1, n: null },
        },
        {
          id: 2,
          b: 127,
          sh: -32768,
          i: 2147483647,
          big: { $int: '-9007199254740993' },
          fl: -3.5,
          db: 1e300,
          dec: '-0.01',
          dec38: '0.000000000000000001',
          ok: false,
          bin: b64(new Uint8Array([])),
          day: '2024-02-29',
          ts: iso('2024-02-29T12:00:00.123'),
          s: 'abc😀',
          s2: s2[1],
          s3: s3[1],
          s4: s4[1],
          st: { a: null, b: null },
          arr: [],
          arrs: [],
          m: { x: -1 },
        },
        Object.fromEntries(schema.fields.map((x) => [x.name, x.name === 'id' ? 3 : null])),
      ];
      cases.push({
        name: 'types',
        path: at('types'),
        rows,
        maps: ['m'],
        where: {
          [`s >= '${long40.slice(0, 35)}'`]: [1],
          "ts < TIMESTAMP'1970-01-01 00:00:00'": [1],
          "ts > TIMESTAMP'2024-02-29 12:00:00.122999'": [2],
          'dec < 0': [2],
          "day = DATE'2024-02-29'": [2],
          'st.a = 5': [1],
          'big > 9007199254740992': [1],
        },
      });
    }

    // 4. Schema evolution: a new top-level column and a new nested field.
    {
      const schema: StructType = {
        type: 'struct',
        fields: [f('id', 'long'), f('name', 'string'), f('info', { type: 'struct', fields: [f('a', 'long')] })],
      };
      const table = await open('evolved', {}, schema);
      await table.append([{ id: 1, name: 'one', info: { a: 1 } }]);
      await table.append([{ id: 2, name: 'two', info: { a: 2, b: 'bee' }, extra: 2.5 }], { mergeSchema: true });
      cases.push({
        name: 'evolved',
        path: at('evolved'),
        rows: [
          { id: 1, name: 'one', info: { a: 1, b: null }, extra: null },
          { id: 2, name: 'two', info: { a: 2, b: 'bee' }, extra: 2.5 },
        ],
        versions: { 1: [{ id: 1, name: 'one', info: { a: 1 } }] },
        where: { 'extra > 1': [2], 'extra IS NULL': [1] },
      });
    }

    // 5. Full overwrite, and replaceWhere on a partition column.
    {
      const schema: StructType = { type: 'struct', fields: [f('id', 'long'), f('p', 'integer')] };
      const over = await open('overwritten', {}, schema);
      await over.append([
        { id: 1, p: 1 },
        { id: 2, p: 2 },
      ]);
      await over.overwrite([{ id: 3, p: 3 }]);
      cases.push({
        name: 'overwritten',
        path: at('overwritten'),
        rows: [{ id: 3, p: 3 }],
        versions: {
          1: [
            { id: 1, p: 1 },
            { id: 2, p: 2 },
          ],
        },
      });
      const replaced = await open('replaced', {}, schema, ['p']);
      await replaced.append([
        { id: 1, p: 1 },
        { id: 2, p: 2 },
        { id: 3, p: 2 },
        { id: 4, p: null },
      ]);
      await replaced.overwrite([{ id: 5, p: 2 }], { replaceWhere: eq('p', 2) });
      cases.push({
        name: 'replaced',
        path: at('replaced'),
        rows: [
          { id: 1, p: 1 },
          { id: 4, p: null },
          { id: 5, p: 2 },
        ],
        where: { 'p = 2': [5], 'p IS NULL': [4] },
      });
    }

    // 6. Timestamp and boolean partition values.
    {
      const schema: StructType = {
        type: 'struct',
        fields: [f('id', 'long'), f('ts', 'timestamp'), f('flag', 'boolean'), f('dec', 'decimal(5,2)')],
      };
      const table = await open('ts-partitioned', {}, schema, ['ts', 'flag', 'dec']);
      await table.append([
        { id: 1, ts: '2024-01-02T03:04:05.123456Z', flag: true, dec: '1.5' },
        { id: 2, ts: '1960-06-01T00:00:00Z', flag: false, dec: '0.25' },
        { id: 3, ts: null, flag: null, dec: null },
      ]);
      cases.push({
        name: 'ts-partitioned',
        path: at('ts-partitioned'),
        rows: [
          { id: 1, ts: '2024-01-02T03:04:05.123456Z', flag: true, dec: '1.50' },
          { id: 2, ts: '1960-06-01T00:00:00.000000Z', flag: false, dec: '0.25' },
          { id: 3, ts: null, flag: null, dec: null },
        ],
        where: { "ts = TIMESTAMP'2024-01-02 03:04:05.123456'": [1], 'flag = false': [2], 'dec > 1': [1] },
      });
    }

    // 7. Checkpoints (interval 3), optimize and vacuum.
    {
      const schema: StructType = { type: 'struct', fields: [f('id', 'long'), f('p', 'string'), f('x', 'double')] };
      const store = new LocalObjectStore(at('maintained'));
      const table = await DeltaTable.create(store, {
        schema,
        partitionColumns: ['p'],
        properties: { 'delta.checkpointInterval': '3' },
      });
      const rows: Row[] = [];
      for (let v = 0; v < 7; v++) {
        const batch = Array.from({ length: 5 }, (_, k) => ({
          id: v * 5 + k,
          p: k % 2 ? 'odd' : 'even',
          x: v + k / 10,
        }));
        rows.push(...batch);
        await table.append(batch, { txn: { appId: 'stream', version: v } });
      }
      const optimized = await table.optimize();
      expect(optimized.filesRemoved).toBe(14);
      expect(optimized.filesAdded).toBe(2);
      await table.append([{ id: 100, p: 'new', x: 1 }]);
      rows.push({ id: 100, p: 'new', x: 1 });
      const vacuumed = await table.vacuum({ retentionHours: 0, force: true });
      expect(vacuumed.files).toHaveLength(14);
      cases.push({
        name: 'maintained',
        path: at('maintained'),
        rows,
        where: { 'x >= 6': rows.filter((r) => (r.x as number) >= 6).map((r) => r.id as number) },
      });
    }
    await py.run(HELPERS);
  }, 300_000);

  afterAll(async () => {
    await py?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('delta-rs reads every table (and older versions) with exactly the expected rows', async () => {
    const result = await py.run<Record<string, { rows: Row[]; versions: Record<string, Row[]> }>>(
      `
out = {}
for c in args["cases"]:
    out[c["name"]] = {
        "rows": lk_rows(readers.delta_rs_rows(c["path"]), c["maps"]),
        "versions": {str(v): lk_rows(readers.delta_rs_rows(c["path"], version=int(v)), c["maps"]) for v in c["versions"]},
    }
result = out
`,
      {
        cases: cases.map((c) => ({
          name: c.name,
          path: c.path,
          maps: c.maps ?? [],
          versions: Object.keys(c.versions ?? {}),
        })),
      },
    );
    for (const c of cases) {
      expect(result[c.name]?.rows, c.name).toEqual(sortById(c.rows));
      for (const [v, rows] of Object.entries(c.versions ?? {})) {
        const expected = sortById(rows).map((r) =>
          Object.fromEntries(Object.keys(result[c.name]?.versions[v]?.[0] ?? r).map((k) => [k, r[k] ?? null])),
        );
        expect(result[c.name]?.versions[v], `${c.name}@${v}`).toEqual(expected);
      }
    }
  }, 120_000);

  it('Spark reads every table with exactly the expected rows, and filtered queries return the right rows', async () => {
    const result = await py.run<
      Record<string, { rows: Row[]; versions: Record<string, Row[]>; where: Record<string, number[]> }>
    >(
      `
out = {}
for c in args["cases"]:
    out[c["name"]] = {
        "rows": lk_rows(readers.spark_delta_rows(c["path"]), c["maps"]),
        "versions": {str(v): lk_rows(readers.spark_delta_rows(c["path"], version=int(v)), c["maps"]) for v in c["versions"]},
        "where": {w: sorted(r["id"] for r in readers.spark_delta_rows(c["path"], where=w)) for w in c["where"]},
    }
result = out
`,
      {
        cases: cases.map((c) => ({
          name: c.name,
          path: c.path,
          maps: c.maps ?? [],
          versions: Object.keys(c.versions ?? {}),
          where: Object.keys(c.where ?? {}),
        })),
      },
    );
    for (const c of cases) {
      expect(result[c.name]?.rows, c.name).toEqual(sortById(c.rows));
      for (const [v, rows] of Object.entries(c.versions ?? {})) {
        expect(
          result[c.name]?.versions[v]?.map((r) => r.id),
          `${c.name}@${v}`,
        ).toEqual(sortById(rows).map((r) => r.id));
      }
      for (const [where, idsExpected] of Object.entries(c.where ?? {})) {
        expect(result[c.name]?.where[where], `${c.name}: ${where}`).toEqual([...idsExpected].sort((a, b) => a - b));
      }
    }
  }, 600_000);

  it('Spark data skipping reads only the files the stats allow', async () => {
    const result = await py.run<{ rows: number; files: number; all: number }>(
      `
spark = readers.spark()
spark.conf.set("spark.sql.adaptive.enabled", "false")
frame = spark.read.format("delta").load(args["path"]).where("id > 80")
rows, files = lk_scan_files(frame)
_, all_files = lk_scan_files(spark.read.format("delta").load(args["path"]))
spark.conf.set("spark.sql.adaptive.enabled", "true")
result = {"rows": len(rows), "files": files, "all": all_files}
`,
      { path: at('basic') },
    );
    // 'basic' has two files (ids 0-49, 50-99): only the second can hold id > 80.
    expect(result).toEqual({ rows: 19, files: 1, all: 2 });
  }, 120_000);

  it('writes to a table Spark created; Spark, delta-rs and lakestream then read each other', async () => {
    const path = at('by-spark');
    await py.run(
      `
import datetime
spark = readers.spark()
schema = "id long, name string, day date"
spark.createDataFrame([(1, "a", datetime.date(2024, 1, 1)), (2, "b", datetime.date(2024, 1, 2))], schema) \\
    .write.format("delta").partitionBy("day").save(args["path"])
spark.createDataFrame([(3, "c", datetime.date(2024, 1, 1))], schema).write.format("delta").mode("append").save(args["path"])
`,
      { path },
    );
    const store = new LocalObjectStore(path);
    const table = await DeltaTable.open(store);
    const ids = async () => (await table.scanRows()).map((r) => Number(r.id)).sort((a, b) => a - b);
    expect(await ids()).toEqual([1, 2, 3]);
    await table.append([{ id: 4, name: 'd', day: '2024-01-03' }], { txn: { appId: 'q', version: 0 } });
    await table.overwrite([{ id: 5, name: 'e', day: '2024-01-01' }], { replaceWhere: eq('day', '2024-01-01') });
    const result = await py.run<{ spark: number[]; rs: number[]; txn: number | null; after: number[] }>(
      `
import datetime
from deltalake import DeltaTable as RsTable
first = {"spark": sorted(r["id"] for r in readers.spark_delta_rows(args["path"])),
         "rs": sorted(r["id"] for r in readers.delta_rs_rows(args["path"])),
         "txn": RsTable(args["path"]).transaction_version("q")}
readers.spark().createDataFrame([(6, "f", datetime.date(2024, 1, 2))], "id long, name string, day date") \\
    .write.format("delta").mode("append").save(args["path"])
first["after"] = sorted(r["id"] for r in readers.delta_rs_rows(args["path"]))
result = first
`,
      { path },
    );
    expect(result).toEqual({ spark: [2, 4, 5], rs: [2, 4, 5], txn: 0, after: [2, 4, 5, 6] });
    await table.refresh();
    expect(await ids()).toEqual([2, 4, 5, 6]);
    expect(await table.txnVersion('q')).toBe(0);
  }, 600_000);

  it("stats, partition values and folders equal Spark's own for the same data", async () => {
    const result = await py.run<Record<string, { ours: unknown[]; spark: unknown[] }>>(
      `
spark = readers.spark()
out = {}
for name, parts in args["tables"]:
    src = os.path.join(args["dir"], name)
    dst = os.path.join(args["dir"], name + "-by-spark")
    frame = spark.read.format("delta").load(src).coalesce(1)
    writer = frame.write.format("delta")
    if parts:
        writer = writer.partitionBy(*parts)
    writer.save(dst)
    def summary(adds):
        rows = []
        for a in adds:
            folder = unquote(a["path"]).rsplit("/", 1)[0] if "/" in a["path"] else ""
            rows.append({"partitionValues": a["partitionValues"], "folder": folder, "stats": json.loads(a["stats"])})
        return sorted(rows, key=lambda r: json.dumps(r["partitionValues"], sort_keys=True))
    out[name] = {"ours": summary(lk_log_adds(src)), "spark": summary(lk_log_adds(dst, 0))}
result = out
`,
      {
        dir,
        tables: [
          ['types', []],
          ['partitioned', ['s', 'd', 'i']],
        ],
      },
    );
    for (const name of ['types', 'partitioned']) {
      const ours = result[name]?.ours ?? [];
      const spark = result[name]?.spark ?? [];
      expect(ours.length, name).toBe(spark.length);
      expect(ours, name).toEqual(spark);
    }
  }, 600_000);
});
