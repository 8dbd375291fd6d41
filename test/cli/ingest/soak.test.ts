// kill -9 soak of the ingest daemon: while the test keeps producing to a 4-partition topic, the daemon
// (a real child process) is SIGKILLed at random moments — after its first log line, 0–2 s (0–3 s) — at least
// 30 times and restarted each time; then it runs until caught up. The table holds exactly the distinct
// valid events (no loss, no duplicates), the dead-letter table exactly the malformed records, and every
// txn is in each Delta log once. Four times: with dedup (the serial pipeline: state in LevelDB), on rows
// (transforms) and on columns (none: JSON scanned into typed columns, deduplicated on them); and
// without, where the table holds every valid record, duplicates included, exactly once: the parallel
// stage (records parsed and encoded in worker threads, files handed to the sink) and the columnar
// stage on the main thread (JSON scanned straight into columns, files written by the encode pool).

import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeltaTable } from '../../../sinks/delta/table.js';
import { LocalObjectStore } from '../../../storage/local.js';
import { containerRuntime } from '../../kit/capabilities.js';
import { requireCapability } from '../../kit/capability.js';
import { type StartedKafka, startKafka } from '../../kit/kafka.js';
import { prng } from '../../kit/prng.js';
import { compileCli, runDaemon, spawnDaemon, txnCounts } from './daemon-process.js';
import { EVENT_SCHEMA, events, type TestEvent } from './events.js';

const cap = await requireCapability(containerRuntime);

const KILLS = 30;
const MAX_ATTEMPTS = 45;
const PARTITIONS = 4;
/** Records produced during the soak, in chunks of CHUNK every TICK_MS. */
const TOTAL = 60_000;
const CHUNK = 100;
const TICK_MS = 200;

/** Whether a malformed record is still a row when nothing needs its event time (no dedup watermark). */
function writableWithoutWatermark(value: string): boolean {
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(value);
  } catch {
    return false;
  }
  if (parsed.user_id !== undefined && typeof parsed.user_id !== 'number') return false;
  if (parsed.event_time !== undefined && Number.isNaN(Date.parse(String(parsed.event_time)))) return false;
  return true;
}

// The worker-thread variant runs the compiled daemon, as the package's bin does: under tsx each
// worker would first spend a second loading the sources, and most kills would land before a batch.
// Its kills come 0–3 s after the first log line (the main-thread variant's: 0–2 s), since its
// workers start with the first batch.
// The columnar variant (JSON scanned straight into columns: no transforms, an unpartitioned table)
// runs its stage on the main thread (workers 0), its Parquet writes in the encode pool.
const VARIANTS = [
  {
    path: 'serial pipeline, dedup',
    dedup: true,
    columnar: false,
    workers: 0,
    topic: 'soak',
    compiled: false,
    killWindowMs: 2000,
    // Auto compaction after commits: kills land in compactions too.
    autoCompact: { minFiles: 4 },
  },
  {
    path: 'parallel stage, no dedup',
    dedup: false,
    columnar: false,
    workers: 2,
    topic: 'soak-parallel',
    compiled: true,
    killWindowMs: 3000,
    autoCompact: { minFiles: 4 },
  },
  {
    // No transforms and an unpartitioned table: the query on the main thread takes columns through
    // parseJson, the watermark, dedup and finalize (the coordinates on rows made for dead letters).
    path: 'serial pipeline on columns, dedup',
    dedup: true,
    columnar: true,
    workers: 0,
    topic: 'soak-columnar-dedup',
    compiled: false,
    killWindowMs: 2000,
  },
  {
    path: 'columnar stage on the main thread, no dedup',
    dedup: false,
    columnar: true,
    workers: 0,
    topic: 'soak-columnar',
    compiled: false,
    killWindowMs: 2000,
  },
] as const;

describe.skipIf(!cap.available).each(VARIANTS)('lakestream ingest under kill -9 ($path)', (variant) => {
  const { dedup, topic } = variant;
  let kafka: StartedKafka;
  let producer: Producer;
  let build: string | undefined;
  const root = mkdtempSync(join(tmpdir(), 'lakestream-ingest-soak-'));

  beforeAll(async () => {
    if (variant.compiled) build = await compileCli();
    kafka = await startKafka();
    producer = kafka.client('ingest-soak').producer();
    await producer.connect();
    await kafka.createTopic(topic, PARTITIONS);
  });
  afterAll(async () => {
    await producer?.disconnect().catch(() => {});
    await kafka?.stop();
    rmSync(root, { recursive: true, force: true });
    if (build) rmSync(build, { recursive: true, force: true });
  });

  it(`survives ${KILLS} SIGKILLs at random moments while a producer keeps producing`, async () => {
    const seed = Number(process.env.LAKESTREAM_KILL_SEED ?? 20261124);
    const random = prng(seed);
    const config = (trigger: Record<string, unknown>) => ({
      name: topic,
      checkpoint: './checkpoint',
      kafka: { brokers: kafka.brokers, topics: [topic], startingOffsets: 'earliest', maxOffsetsPerTrigger: 1_000 },
      format: { type: 'json', schema: EVENT_SCHEMA },
      transforms: variant.columnar
        ? []
        : [
            { derive: { name: 'event_date', fn: 'date', column: 'event_time' } },
            { select: ['event_id', 'user_id', 'channel', 'amount', 'event_time', 'event_date'] },
          ],
      ...(dedup ? { dedup: { keys: ['event_id'], watermark: { column: 'event_time', delay: '10 minutes' } } } : {}),
      target: {
        delta: { path: './table', ...(variant.columnar ? {} : { partitionBy: ['event_date'] }) },
        ...('autoCompact' in variant ? { autoCompact: variant.autoCompact } : {}),
      },
      deadLetters: { delta: { path: './dead-letters' } },
      workers: variant.workers,
      trigger,
      metrics: { port: 0, host: '127.0.0.1' },
    });
    const folder = join(root, 'soak');
    mkdirSync(folder);
    const running = join(folder, 'pipeline.json');
    const catchUp = join(folder, 'catch-up.json');
    writeFileSync(running, JSON.stringify(config({ interval: '100 ms' })));
    writeFileSync(catchUp, JSON.stringify(config({ availableNow: true })));

    // The producer: TOTAL records in small chunks while the daemon is being killed.
    const records: TestEvent[] = [...events(TOTAL, PARTITIONS)];
    let produced = 0;
    let producing = true;
    const producerLoop = (async () => {
      while (producing && produced < TOTAL) {
        const chunk = records.slice(produced, produced + CHUNK);
        await producer.send({
          topic,
          acks: -1,
          messages: chunk.map((e) => ({ partition: e.partition, value: e.value })),
        });
        produced += chunk.length;
        await new Promise((r) => setTimeout(r, TICK_MS));
      }
    })();

    const checkpoint = join(folder, 'checkpoint');
    const numbered = (sub: string) =>
      existsSync(join(checkpoint, sub)) ? readdirSync(join(checkpoint, sub)).map(Number) : [];
    const tableVersion = () => {
      const log = join(folder, 'table', '_delta_log');
      if (!existsSync(log)) return -1;
      const versions = readdirSync(log)
        .filter((n) => /^\d{20}\.json$/.test(n))
        .map((n) => Number(n.slice(0, 20)));
      return versions.length ? Math.max(...versions) : -1;
    };
    const kills: {
      delayMs: number;
      tableVersion: number;
      inFlight: boolean;
      produced: number;
      /** Batches this run committed before it was killed. */
      batches: number;
      startupMs: number;
    }[] = [];
    let replays = 0;
    let compactedLogs = 0;
    for (let attempt = 0; kills.length < KILLS && attempt < MAX_ATTEMPTS; attempt++) {
      const spawned = Date.now();
      const daemon = spawnDaemon(['--config', running], {}, build);
      await daemon.waitFor(() => true, 60_000); // its first log line: modules loaded, config read
      const startupMs = Date.now() - spawned;
      const delayMs = Math.round(random() * variant.killWindowMs);
      await new Promise((r) => setTimeout(r, delayMs));
      const killed = daemon.child.kill('SIGKILL');
      const { code, signal } = await daemon.exited;
      replays += daemon.logs.filter((l) => l.msg === 'batch' && l.replay === true).length;
      compactedLogs += daemon.logs.filter((l) => l.msg === 'compacted' && Number(l.filesRemoved) >= 4).length;
      if (signal === 'SIGKILL' && killed) {
        const committed = new Set(numbered('commits'));
        kills.push({
          delayMs,
          tableVersion: tableVersion(),
          inFlight: numbered('offsets').some((n) => !committed.has(n)),
          produced,
          batches: daemon.logs.filter((l) => l.msg === 'batch').length,
          startupMs,
        });
      } else {
        expect.fail(`attempt ${attempt} (seed ${seed}) ended by itself (${code}): ${daemon.stderr.join('\n')}`);
      }
    }
    producing = false;
    await producerLoop;
    expect(kills.length, `seed ${seed}`).toBe(KILLS);

    // Run until caught up.
    const final = await runDaemon(['--config', catchUp], {}, build);
    expect(final.stderr).toEqual([]);
    expect(final.code).toBe(0);
    const checked = final.logs.find((l) => l.msg === 'kafka and tables checked');
    expect(checked?.workers, 'the pipeline variant under test ran').toBe(variant.workers);
    replays += final.logs.filter((l) => l.msg === 'batch' && l.replay === true).length;
    compactedLogs += final.logs.filter((l) => l.msg === 'compacted' && Number(l.filesRemoved) >= 4).length;

    const inFlight = kills.filter((k) => k.inFlight).length;
    const working = kills.filter((k) => k.batches > 0).length;
    const versions = new Set(kills.map((k) => k.tableVersion));
    const avgStartup = Math.round(kills.reduce((n, k) => n + k.startupMs, 0) / kills.length);
    console.info(
      `ingest soak, ${variant.path} (seed ${seed}): ${kills.length} SIGKILLs and ${kills.length} restarts, then a run to the end; ` +
        `${inFlight} kills left a planned batch uncommitted, ${working} came after the run had committed batches, ` +
        `${replays} batches were replayed after a restart; table version ${kills[0]!.tableVersion} → ` +
        `${kills.at(-1)!.tableVersion} during the kills (${final.logs.filter((l) => l.msg === 'batch').length} ` +
        `batches in the final run); ${produced} records produced meanwhile; ${avgStartup} ms from spawn to the first log line`,
    );
    // The kills interrupted real work: batches in flight, runs that had committed, the table growing.
    expect(inFlight).toBeGreaterThanOrEqual(5);
    expect(working).toBeGreaterThanOrEqual(3);
    expect(replays).toBeGreaterThanOrEqual(2);
    expect(versions.size).toBeGreaterThanOrEqual(4);
    expect(kills.filter((k) => k.produced < TOTAL).length).toBeGreaterThanOrEqual(KILLS / 2);

    // Exactly once. With dedup: the distinct valid events of everything produced, each once, and every
    // malformed record dead-lettered once. Without: every record that parses and fits (duplicates too,
    // and records without an event time, which only a watermark needs), each once.
    const sent = records.slice(0, produced);
    const expected = new Map<string, number>();
    const nextOffset = new Array<number>(PARTITIONS).fill(0);
    const malformed = new Map<string, string>();
    for (const e of sent) {
      const offset = nextOffset[e.partition]!++;
      let id: string | undefined;
      if (!e.malformed) id = dedup && e.duplicate ? undefined : e.id;
      else if (!dedup && writableWithoutWatermark(e.value)) id = String(JSON.parse(e.value).event_id);
      else malformed.set(`${e.partition}:${offset}`, e.value);
      if (id !== undefined) expected.set(id, (expected.get(id) ?? 0) + 1);
    }
    const table = await DeltaTable.open(new LocalObjectStore(join(folder, 'table')));
    const rows = await table.scanRows();
    if ('autoCompact' in variant) {
      // Compactions ran (and kills came amid them): the rows below are read from their files.
      const compactions = (await table.history()).filter(
        (c) => c.commitInfo.operation === 'OPTIMIZE' && c.commitInfo.operationParameters?.auto === true,
      );
      console.info(
        `ingest soak, ${variant.path}: ${compactions.length} auto compactions in the table's history, ${compactedLogs} logged`,
      );
      expect(compactions.length).toBeGreaterThanOrEqual(3);
      // Each logged compaction is in the history (a kill may come between the commit and its log line).
      expect(compactedLogs).toBeGreaterThanOrEqual(1);
      expect(compactedLogs).toBeLessThanOrEqual(compactions.length);
    }
    const actual = new Map<string, number>();
    for (const r of rows) actual.set(String(r.event_id), (actual.get(String(r.event_id)) ?? 0) + 1);
    expect(rows.length).toBe([...expected.values()].reduce((a, b) => a + b, 0));
    const wrong = [...new Set([...expected.keys(), ...actual.keys()])].filter(
      (id) => (expected.get(id) ?? 0) !== (actual.get(id) ?? 0),
    );
    expect(
      wrong.slice(0, 10).map((id) => `${id}: expected ${expected.get(id) ?? 0}, got ${actual.get(id) ?? 0}`),
    ).toEqual([]);
    const letters = await (await DeltaTable.open(new LocalObjectStore(join(folder, 'dead-letters')))).scanRows();
    expect(letters.length).toBe(malformed.size);
    for (const l of letters) expect(malformed.get(`${l.partition}:${l.offset}`)).toBe(l.value);
    for (const table of ['table', 'dead-letters']) {
      for (const [txn, n] of txnCounts(join(folder, table))) expect(n, `${table}: ${txn} committed ${n} times`).toBe(1);
    }
  }, 360_000);
});
