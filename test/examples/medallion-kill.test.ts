// kill -9 of the real demo process at random moments, 20 times, then a run to completion: the bronze,
// silver and gold tables are exactly the reference model's (no loss, no duplicates), and every
// streaming commit of each query is in the table log once.

import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { paths } from '../../examples/medallion/pipeline.js';
import { DeltaTable } from '../../sinks/delta/table.js';
import { LocalObjectStore } from '../../storage/local.js';
import { PROJECT_ROOT } from '../kit/paths.js';
import { prng } from '../kit/prng.js';
import { expectedMedallion } from './medallion-expected.js';

const RECORDS = 24_000; // per partition: 96 000 raw records
const BATCH = 400; // 30 bronze batches, 30 silver batches
const GOLD_FILES = 4; // several gold batches too
const KILLS = 20;
const MAX_ATTEMPTS = 60;
/** Bronze commits: version 0 creates the table, then one per batch. */
const BATCHES_BRONZE = RECORDS / BATCH;

/** The latest version of a table (-1 before it exists), from its log folder. */
function versions(table: string): number {
  try {
    const commits = readdirSync(join(table, '_delta_log')).filter((n) => /^\d{20}\.json$/.test(n));
    return commits.length === 0 ? -1 : Math.max(...commits.map((n) => Number(n.slice(0, 20))));
  } catch {
    return -1;
  }
}

function runDemo(
  root: string,
  killAfterMs?: number,
): Promise<{ code: number | null; signal: string | null; out: string }> {
  return new Promise((resolve, reject) => {
    // One process (node with the tsx loader), so SIGKILL hits the pipeline itself, not a wrapper.
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(PROJECT_ROOT, 'examples/medallion.ts'), root, '--resume', '--announce'],
      {
        cwd: PROJECT_ROOT,
        env: {
          ...process.env,
          LAKESTREAM_DEMO_RECORDS: String(RECORDS),
          LAKESTREAM_DEMO_BATCH: String(BATCH),
          LAKESTREAM_DEMO_GOLD_FILES: String(GOLD_FILES),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      out += d.toString();
    });
    // The clock starts when the pipeline announces itself (modules loaded), so kills land in its work
    // rather than in TypeScript loading, whatever the machine's load.
    let timer: NodeJS.Timeout | undefined;
    child.stdout.once('data', () => {
      if (killAfterMs !== undefined) timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code, signal, out });
    });
  });
}

/** Streaming commits per (appId, txn version) in a table's log. */
function txnCounts(table: string): Map<string, number> {
  const counts = new Map<string, number>();
  const log = join(table, '_delta_log');
  for (const name of readdirSync(log).filter((n) => /^\d{20}\.json$/.test(n))) {
    for (const line of readFileSync(join(log, name), 'utf8').split('\n')) {
      if (!line.includes('"txn"')) continue;
      const txn = (JSON.parse(line) as { txn: { appId: string; version: number } }).txn;
      const key = `${txn.appId}@${txn.version}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  return counts;
}

describe('medallion demo under kill -9', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lakestream-medallion-kill-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it(`survives ${KILLS} SIGKILLs at random moments with exactly-once tables`, async () => {
    const seed = Number(process.env.LAKESTREAM_KILL_SEED ?? 20261123);
    const random = prng(seed);
    const kills: number[] = [];
    const p = paths(dir);
    /** Table versions (bronze/silver/gold) after each kill: shows where the kills landed. */
    const stages: string[] = [];
    for (let attempt = 0; kills.length < KILLS && attempt < MAX_ATTEMPTS; attempt++) {
      // Into the pipeline's work: the first kill early (bronze), then anywhere in 0–2 s (bronze, silver
      // or gold; an uninterrupted run takes ~9 s on an idle machine, a restart about 1 s to reopen
      // tables and state, more on a loaded machine), so that 20 kills fit before the work runs out.
      const delay = Math.round(random() * (attempt === 0 ? 500 : 2000));
      const result = await runDemo(dir, delay);
      if (result.signal === 'SIGKILL') {
        kills.push(delay);
        stages.push([p.bronze, p.silver, p.gold].map(versions).join('/'));
      } else expect(result.code, `attempt ${attempt} (seed ${seed}) failed:\n${result.out}`).toBe(0);
    }
    expect(kills.length, `seed ${seed}`).toBe(KILLS);
    const final = await runDemo(dir);
    expect(final.code, final.out).toBe(0);

    // The kills must have interrupted real work in more than one stage, not idle re-runs.
    const distinct = new Set(stages);
    expect(distinct.size, `stages after kills: ${stages.join(', ')}`).toBeGreaterThanOrEqual(5);
    expect(stages.some((s) => s.startsWith('-1/') || Number(s.split('/')[0]) < BATCHES_BRONZE)).toBe(true);
    expect(
      stages.some((s) => Number(s.split('/')[0]) === BATCHES_BRONZE && Number(s.split('/')[1]) < BATCHES_BRONZE),
    ).toBe(true);
    const expected = expectedMedallion(RECORDS, BATCH);
    const bronze = await (await DeltaTable.open(new LocalObjectStore(p.bronze))).scanRows();
    expect(bronze.length).toBe(RECORDS * 4);
    expect(new Set(bronze.map((r) => `${r.source_partition}:${r.source_offset}`)).size).toBe(RECORDS * 4);
    const silver = await (await DeltaTable.open(new LocalObjectStore(p.silver))).scanRows();
    expect(silver.map((r) => String(r.event_id)).sort()).toEqual([...expected.silver.keys()].sort());
    const gold = await (await DeltaTable.open(new LocalObjectStore(p.gold))).scanRows();
    expect(gold.map((r) => `${String(r.event_date).slice(0, 10)} ${r.channel} ${r.events} ${r.users}`).sort()).toEqual(
      expected.gold.map((g) => `${g.event_date} ${g.channel} ${g.events} ${g.users}`).sort(),
    );
    for (const table of [p.bronze, p.silver, p.gold]) {
      for (const [txn, n] of txnCounts(table)) expect(n, `${table}: ${txn} committed ${n} times`).toBe(1);
    }
  }, 600_000);
});
