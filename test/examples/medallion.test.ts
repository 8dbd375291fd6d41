// The medallion example (bronze → silver → gold, three exactly-once streaming queries) against an
// independent reference model; delta-rs and Spark read the silver and gold tables it writes.

import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paths, runMedallion, startGold } from '../../examples/medallion/pipeline.js';
import { DeltaTable } from '../../sinks/delta/table.js';
import { LocalObjectStore } from '../../storage/local.js';
import { ObjectStoreDeadLetters } from '../../stream/dead-letters.js';
import type { StreamingQueryProgress } from '../../stream/progress.js';
import { pythonReaders } from '../kit/capabilities.js';
import { requireCapability } from '../kit/capability.js';
import { PythonSession } from '../kit/python.js';
import { expectedMedallion, type GoldRow } from './medallion-expected.js';

const readers = await requireCapability(pythonReaders);
const RECORDS = 2_000; // per partition: 8 000 raw records
const BATCH = 500;

function silverIds(rows: Record<string, unknown>[]): string[] {
  return rows.map((r) => String(r.event_id)).sort();
}

function goldRows(rows: Record<string, unknown>[]): GoldRow[] {
  return rows
    .map((r) => ({
      channel: String(r.channel),
      event_date: String(r.event_date).slice(0, 10),
      events: Number(r.events),
      users: Number(r.users),
    }))
    .sort((a, b) => a.event_date.localeCompare(b.event_date) || a.channel.localeCompare(b.channel));
}

describe('examples/medallion', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lakestream-medallion-'));
  const p = paths(dir);
  const expected = expectedMedallion(RECORDS, BATCH);
  const progress: StreamingQueryProgress[] = [];
  let session: PythonSession | undefined;
  const python = () => {
    session ??= new PythonSession();
    return session;
  };
  afterAll(async () => {
    await session?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  beforeAll(async () => {
    await runMedallion({
      root: dir,
      recordsPerPartition: RECORDS,
      bronzeBatchPerPartition: BATCH,
      progressBar: false,
      listener: { onQueryProgress: (e) => progress.push(e) },
    });
  }, 120_000);

  it('silver holds exactly the distinct, valid, on-time events; malformed ones are dead letters', async () => {
    const silver = await (await DeltaTable.open(new LocalObjectStore(p.silver))).scanRows();
    expect(silver.length).toBe(expected.silver.size);
    expect(silverIds(silver)).toEqual([...expected.silver.keys()].sort());
    const letters = await new ObjectStoreDeadLetters(
      new LocalObjectStore(p.checkpoint('silver')),
      'dead-letters/',
    ).readAll();
    expect(letters.length).toBe(expected.malformed);
    const silverProgress = progress.filter((e) => e.name === 'silver');
    const late = silverProgress.reduce((n, e) => n + Number(e.eventTime.numRowsDroppedByWatermark ?? 0), 0);
    expect(late).toBe(expected.late);
    expect(expected.late).toBeGreaterThan(0);
  });

  it('gold holds the daily events and distinct users per channel', async () => {
    const gold = await (await DeltaTable.open(new LocalObjectStore(p.gold))).scanRows();
    expect(goldRows(gold)).toEqual(expected.gold);
  });

  it('gold in update mode (merge by channel and day) gives the same table', async () => {
    const updateRoot = mkdtempSync(join(tmpdir(), 'lakestream-medallion-update-'));
    try {
      cpSync(p.silver, paths(updateRoot).silver, { recursive: true });
      // Several gold batches, so later ones merge into rows earlier ones wrote.
      const query = await startGold({
        root: updateRoot,
        goldMode: 'update',
        goldMaxFilesPerTrigger: 1,
        progressBar: false,
      });
      await query.awaitTermination();
      expect(query.recentProgress.length).toBeGreaterThan(3);
      expect(query.recentProgress.every((e) => e.sink.outcome === 'committed')).toBe(true);
      const gold = await (await DeltaTable.open(new LocalObjectStore(paths(updateRoot).gold))).scanRows();
      expect(goldRows(gold)).toEqual(expected.gold);
    } finally {
      rmSync(updateRoot, { recursive: true, force: true });
    }
  }, 60_000);

  it('a second run finds nothing new and changes no table', async () => {
    const versions = async () =>
      Promise.all(
        [p.bronze, p.silver, p.gold].map(
          async (t) => (await DeltaTable.open(new LocalObjectStore(t))).snapshot().version,
        ),
      );
    const before = await versions();
    await runMedallion({ root: dir, recordsPerPartition: RECORDS, bronzeBatchPerPartition: BATCH, progressBar: false });
    expect(await versions()).toEqual(before);
  }, 60_000);

  describe.skipIf(!readers.available)('read by delta-rs and Spark', () => {
    it('delta-rs reads silver and gold with the expected rows', async () => {
      const result = await python().run<{ silver: string[]; gold: Record<string, unknown>[] }>(
        `
result = {
  "silver": sorted(r["event_id"] for r in readers.delta_rs_rows(args["silver"], columns=["event_id"])),
  "gold": [{**r, "event_date": str(r["event_date"])} for r in readers.delta_rs_rows(args["gold"])],
}
`,
        { silver: p.silver, gold: p.gold },
      );
      expect(result.silver).toEqual([...expected.silver.keys()].sort());
      expect(goldRows(result.gold)).toEqual(expected.gold);
    }, 120_000);

    it('Spark reads silver and gold with the expected rows', async () => {
      const result = await python().run<{ silver: number; distinct: number; gold: Record<string, unknown>[] }>(
        `
s = readers.spark().read.format("delta").load(args["silver"])
result = {
  "silver": s.count(),
  "distinct": s.select("event_id").distinct().count(),
  "gold": [{**r, "event_date": str(r["event_date"])} for r in readers.spark_delta_rows(args["gold"])],
}
`,
        { silver: p.silver, gold: p.gold },
      );
      expect(result.silver).toBe(expected.silver.size);
      expect(result.distinct).toBe(expected.silver.size);
      expect(goldRows(result.gold)).toEqual(expected.gold);
    }, 180_000);
  });
});
