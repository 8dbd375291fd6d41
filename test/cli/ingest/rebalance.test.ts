// Scale-out: three `lakestream ingest` daemons (real child processes, each with its own checkpoint) in
// one consumer group write one Delta table while a producer keeps producing to a 6-partition topic.
// Members are added, SIGKILLed (their partitions move after the session timeout), stopped with SIGTERM
// (they leave the group at once) and restarted during the run. The table must hold every valid record
// exactly once (no loss, no duplicates), each per-partition offset txn must be in the log once and end
// at the partition's end, and the dead-letter table must hold every malformed record exactly once.

import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeltaTable } from '../../../sinks/delta/table.js';
import { LocalObjectStore } from '../../../storage/local.js';
import { containerRuntime } from '../../kit/capabilities.js';
import { requireCapability } from '../../kit/capability.js';
import { type StartedKafka, startKafka } from '../../kit/kafka.js';
import { type DaemonProcess, spawnDaemon, txnCounts } from './daemon-process.js';

const cap = await requireCapability(containerRuntime);

const TOPIC = 'rebalance';
const PARTITIONS = 6;
const TOTAL = 36_000;
const CHUNK = 300;
const TICK_MS = 100;
const SCHEMA = { seq: 'long', event_id: 'string', user_id: 'long', event_time: 'timestamp' };
const BASE_MS = Date.UTC(2025, 0, 15, 12, 0, 0);

/** Record i: malformed JSON for every 97th, else a valid event with seq = i. */
function record(i: number): { partition: number; value: string; valid: boolean } {
  const partition = (i * 7) % PARTITIONS;
  if (i % 97 === 13) return { partition, value: `{"seq": ${i}, "event_id": "bad${i}"`, valid: false };
  const value = JSON.stringify({
    seq: i,
    event_id: `e${i}`,
    user_id: (i * 7919) % 10_007,
    event_time: new Date(BASE_MS + i * 10).toISOString(),
  });
  return { partition, value, valid: true };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!cap.available)('lakestream ingest scale-out (consumer group)', () => {
  let kafka: StartedKafka;
  let producer: Producer;
  const root = mkdtempSync(join(tmpdir(), 'lakestream-ingest-rebalance-'));

  beforeAll(async () => {
    kafka = await startKafka();
    producer = kafka.client('ingest-rebalance').producer();
    await producer.connect();
    await kafka.createTopic(TOPIC, PARTITIONS);
  });
  afterAll(async () => {
    await producer?.disconnect().catch(() => {});
    await kafka?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('members added, SIGKILLed, stopped and restarted while producing: every record exactly once', async () => {
    const configFor = (member: string) => {
      const file = join(root, `${member}.json`);
      writeFileSync(
        file,
        JSON.stringify({
          name: 'events',
          checkpoint: `./checkpoints/${member}`,
          kafka: {
            brokers: kafka.brokers,
            topics: [TOPIC],
            groupId: 'lakestream-rebalance',
            startingOffsets: 'earliest',
            maxOffsetsPerTrigger: 2_000,
            scaleOut: { sessionTimeout: '6 seconds' },
          },
          format: { type: 'json', schema: SCHEMA },
          // Several members compact the one table, concurrently at times (a conflict is a warning).
          target: { delta: { path: './table' }, autoCompact: { minFiles: 4 } },
          deadLetters: { delta: { path: './dead-letters' } },
          trigger: { interval: '200 ms' },
          metrics: { port: 0, host: '127.0.0.1' },
        }),
      );
      return file;
    };
    mkdirSync(join(root, 'checkpoints'));
    const members = { a: configFor('a'), b: configFor('b'), c: configFor('c') };

    let produced = 0;
    let producing = true;
    const producerLoop = (async () => {
      while (producing && produced < TOTAL) {
        const chunk = Array.from({ length: Math.min(CHUNK, TOTAL - produced) }, (_, k) => record(produced + k));
        await producer.send({
          topic: TOPIC,
          acks: -1,
          messages: chunk.map((r) => ({ partition: r.partition, value: r.value })),
        });
        produced += chunk.length;
        await sleep(TICK_MS);
      }
    })();

    const running = new Map<string, DaemonProcess>();
    const all: DaemonProcess[] = [];
    const start = async (name: keyof typeof members) => {
      const daemon = spawnDaemon(['--config', members[name]]);
      running.set(name, daemon);
      all.push(daemon);
      await daemon.waitFor((l) => typeof l.msg === 'string' && l.msg.includes('assigned'), 60_000);
    };
    const kill = async (name: string) => {
      const daemon = running.get(name)!;
      daemon.child.kill('SIGKILL');
      await daemon.exited;
      running.delete(name);
    };
    const stop = async (name: string) => {
      const daemon = running.get(name)!;
      daemon.child.kill('SIGTERM');
      const { code } = await daemon.exited;
      expect(code, daemon.stderr.join('\n')).toBe(0);
      running.delete(name);
    };

    await start('a');
    await start('b');
    await sleep(4_000);
    await start('c'); // a third member joins: partitions move from a and b to c
    await sleep(4_000);
    await kill('a'); // a dies: its partitions move after the session timeout
    await sleep(8_000);
    await start('a'); // a comes back
    await sleep(4_000);
    await stop('b'); // b leaves cleanly: its partitions move at once
    await sleep(4_000);
    await kill('c'); // c dies mid-run
    await start('b'); // b comes back
    producing = false;
    await producerLoop;

    // Let the members catch up for a while, stop them, then one member runs to the end (availableNow).
    const valid = new Set<number>();
    const malformed = new Set<number>();
    for (let i = 0; i < produced; i++) (record(i).valid ? valid : malformed).add(i);
    const tablePath = join(root, 'table');
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const rows = await (await DeltaTable.open(new LocalObjectStore(tablePath))).scanRows();
      if (rows.length >= valid.size) break;
      await sleep(1_000);
    }
    for (const name of [...running.keys()]) await stop(name);
    const catchUp = join(root, 'catch-up.json');
    const catchUpConfig = JSON.parse(readFileSync(members.a, 'utf8')) as Record<string, unknown>;
    writeFileSync(catchUp, JSON.stringify({ ...catchUpConfig, trigger: { availableNow: true } }));
    const final = spawnDaemon(['--config', catchUp]);
    all.push(final);
    const { code } = await final.exited;
    expect(code, final.stderr.join('\n')).toBe(0);
    const rows = await (await DeltaTable.open(new LocalObjectStore(tablePath))).scanRows();

    // Where each record is in its partition, and how far the table's offsets of record go.
    const position = new Map<number, { partition: number; offset: number }>();
    const perPartition = new Array<number>(PARTITIONS).fill(0);
    for (let i = 0; i < produced; i++) {
      const partition = record(i).partition;
      position.set(i, { partition, offset: perPartition[partition]!++ });
    }
    const last = new Map<string, number>();
    for (const t of txnCounts(tablePath).keys()) {
      if (!t.startsWith(`events-${TOPIC}-`)) continue;
      const [appId, version] = t.split('@') as [string, string];
      last.set(appId, Math.max(last.get(appId) ?? 0, Number(version)));
    }
    const describeMissing = (seq: number) => {
      const at = position.get(seq)!;
      const recorded = last.get(`events-${TOPIC}-${at.partition}`) ?? 0;
      return `${seq} (partition ${at.partition} offset ${at.offset}; table offset ${recorded}: ${at.offset < recorded ? 'LOST' : 'not read'})`;
    };

    // Exactly once: every valid record, each once.
    const seqs = rows.map((r) => Number(r.seq));
    const counts = new Map<number, number>();
    for (const s of seqs) counts.set(s, (counts.get(s) ?? 0) + 1);
    const duplicated = [...counts].filter(([, n]) => n > 1).map(([s]) => s);
    const missing = [...valid].filter((s) => !counts.has(s));
    expect(duplicated.slice(0, 10), `${duplicated.length} records written more than once`).toEqual([]);
    expect(missing.slice(0, 10).map(describeMissing), `${missing.length} records missing`).toEqual([]);
    expect(seqs.length).toBe(valid.size);

    // Every txn (per-partition offsets and each member's batches) once; the offsets of record reach the end.
    for (const [txn, n] of txnCounts(tablePath)) expect(n, `${txn} committed ${n} times`).toBe(1);
    for (let p = 0; p < PARTITIONS; p++) expect(last.get(`events-${TOPIC}-${p}`)).toBe(perPartition[p]);

    // Dead letters: every malformed record once (the dead-letter table keeps offsets per partition too).
    const letters = await (await DeltaTable.open(new LocalObjectStore(join(root, 'dead-letters')))).scanRows();
    const letterSeqs = letters.map((l) => Number(/"seq": (\d+)/.exec(String(l.value))?.[1]));
    expect(letterSeqs.length).toBe(new Set(letterSeqs).size);
    expect(letterSeqs.sort((x, y) => x - y)).toEqual([...malformed].sort((x, y) => x - y));
    for (const [txn, n] of txnCounts(join(root, 'dead-letters'))) expect(n, `${txn} committed ${n} times`).toBe(1);

    // The run really moved partitions: several members committed, and some re-reads were dropped.
    const queryIds = new Set(
      [...txnCounts(tablePath).keys()].filter((t) => !t.startsWith(`events-${TOPIC}-`)).map((t) => t.split('@')[0]),
    );
    const assignments = all.flatMap((d) => d.logs.filter((l) => String(l.msg).includes('assigned')));
    const logDir = join(tablePath, '_delta_log');
    const versions = readdirSync(logDir).filter((n) => /^\d{20}\.json$/.test(n)).length;
    const conflicts = all.flatMap((d) => d.logs.filter((l) => JSON.stringify(l).includes('SINK_PARTITION_CONFLICT')));
    const compactions = (await (await DeltaTable.open(new LocalObjectStore(tablePath))).history()).filter(
      (c) => c.commitInfo.operation === 'OPTIMIZE',
    ).length;
    const compactionsFailed = all.flatMap((d) => d.logs.filter((l) => /^auto compaction/.test(String(l.msg)))).length;
    console.info(
      `scale-out: ${produced} records (${valid.size} valid, ${malformed.size} malformed) on ${PARTITIONS} partitions; ` +
        `${all.length} daemon runs, ${assignments.length} assignments, ${queryIds.size} members committed, ` +
        `${versions} table versions, ${conflicts.length} partition conflicts re-run, ${letters.length} dead letters, ` +
        `${compactions} auto compactions (${compactionsFailed} failed or conflicted, retried by a later commit)`,
    );
    expect(queryIds.size).toBe(3); // a, b and c (a and b restarted on their own checkpoints)
    expect(assignments.length).toBeGreaterThanOrEqual(8);
    expect(compactions).toBeGreaterThanOrEqual(1);
  }, 400_000);
});
