// kill -9 of the real demo process 20 times, then a run to completion: the bronze, silver and gold
// tables are exactly the reference model's (no loss, no duplicates), and every streaming commit of each
// query is in the table log once.
//
// Where the kills land is planned by progress, not by a clock alone: most kills wait until a stage's
// table reaches a random version, then a random few milliseconds more (so they fall anywhere inside
// the next batch: parquet writes, the commit, the checkpoint); the others come a random moment after
// start (recovery and table opening). A time-only schedule put every kill into bronze when the machine
// was loaded (restarts ate the time), and could run out of work on an idle one.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
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
const MAX_ATTEMPTS = 40;
/** Bronze commits: version 0 creates the table, then one per batch. */
const BATCHES_BRONZE = RECORDS / BATCH;
/** Silver reads one bronze commit per batch; gold reads GOLD_FILES silver files per batch. */
const LAST_VERSION = { bronze: BATCHES_BRONZE, silver: BATCHES_BRONZE, gold: BATCHES_BRONZE / GOLD_FILES } as const;
type Stage = keyof typeof LAST_VERSION;

/** When to kill a run: `afterMs` after the pipeline starts or, with `at`, after that table version's commit appears. */
interface Kill {
  afterMs: number;
  at?: { stage: Stage; version: number };
}

/**
 * The kill schedule: 4 kills at 0–800 ms after start (the first one at 0–300 ms, in bronze's first
 * batches), and 8 / 5 / 3 kills at random versions of bronze / silver / gold, in order, each 0–150 ms
 * after its version's commit appears.
 */
function schedule(random: () => number): Kill[] {
  const atVersion = (stage: Stage, n: number): Kill[] =>
    Array.from({ length: n }, () => 1 + Math.floor(random() * (LAST_VERSION[stage] - 2)))
      .sort((a, b) => a - b)
      .map((version) => ({ at: { stage, version }, afterMs: Math.round(random() * 150) }));
  const kills = [...atVersion('bronze', 8), ...atVersion('silver', 5), ...atVersion('gold', 3)];
  for (let i = 0; i < 3; i++)
    kills.splice(1 + Math.floor(random() * kills.length), 0, { afterMs: Math.round(random() * 800) });
  kills.unshift({ afterMs: Math.round(random() * 300) });
  return kills;
}

/** A table's commit file for `version`. */
function commitFile(table: string, version: number): string {
  return join(table, '_delta_log', `${String(version).padStart(20, '0')}.json`);
}

/** The latest version of a table (-1 before it exists), from its log folder. */
function versions(table: string): number {
  try {
    const commits = readdirSync(join(table, '_delta_log')).filter((n) => /^\d{20}\.json$/.test(n));
    return commits.length === 0 ? -1 : Math.max(...commits.map((n) => Number(n.slice(0, 20))));
  } catch {
    return -1;
  }
}

function runDemo(root: string, kill?: Kill): Promise<{ code: number | null; signal: string | null; out: string }> {
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
    let poll: NodeJS.Timeout | undefined;
    const killLater = () => {
      timer = setTimeout(() => child.kill('SIGKILL'), kill?.afterMs);
    };
    child.stdout.once('data', () => {
      if (kill?.at === undefined) {
        if (kill) killLater();
        return;
      }
      const file = commitFile(paths(root)[kill.at.stage], kill.at.version);
      poll = setInterval(() => {
        if (!existsSync(file)) return;
        clearInterval(poll);
        killLater();
      }, 5);
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      clearInterval(poll);
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
    const plan = schedule(prng(seed));
    expect(plan.length).toBe(KILLS);
    const p = paths(dir);
    /** Table versions (bronze/silver/gold) after each kill: shows where the kills landed. */
    const stages: string[] = [];
    // A run can end before its kill (its version was passed already, or the work ran out): the next
    // run takes the next kill of the plan.
    for (let attempt = 0; stages.length < KILLS && attempt < MAX_ATTEMPTS; attempt++) {
      const kill = plan[stages.length] as Kill;
      const result = await runDemo(dir, kill);
      if (result.signal === 'SIGKILL') stages.push([p.bronze, p.silver, p.gold].map(versions).join('/'));
      else expect(result.code, `attempt ${attempt} (seed ${seed}) failed:\n${result.out}`).toBe(0);
    }
    expect(stages.length, `seed ${seed}: kills landed ${stages.join(', ')}`).toBe(KILLS);
    const final = await runDemo(dir);
    expect(final.code, final.out).toBe(0);

    // The kills must have interrupted real work in more than one stage, not idle re-runs.
    const distinct = new Set(stages);
    expect(distinct.size, `stages after kills: ${stages.join(', ')}`).toBeGreaterThanOrEqual(5);
    const landed = `seed ${seed}: kills landed ${stages.join(', ')}`;
    expect(
      stages.some((s) => s.startsWith('-1/') || Number(s.split('/')[0]) < BATCHES_BRONZE),
      landed,
    ).toBe(true);
    expect(
      stages.some((s) => Number(s.split('/')[0]) === BATCHES_BRONZE && Number(s.split('/')[1]) < BATCHES_BRONZE),
      landed,
    ).toBe(true);
    expect(
      stages.some((s) => Number(s.split('/')[1]) === BATCHES_BRONZE && Number(s.split('/')[2]) < LAST_VERSION.gold),
      landed,
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
