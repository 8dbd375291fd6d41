// Benchmark: Kafka → Delta ingestion end to end against a raw kafkajs consumer, on a real broker.
// A single-node broker (test/kit/kafka.ts: the test image, started with podman/docker) gets one topic
// of 4 partitions, filled once with N JSON events (bench/lib/events.ts eventJson: the rows of generate(),
// ~380 B each; round-robin over the partitions; producer batches of 2000 records per partition, acks -1,
// no compression). Then, alternating, each run in its own process (see below):
//   (a) raw: a kafkajs consumer (fresh groupId, fromBeginning, autoCommit off, kafkajs default fetch
//       sizes — the same as lakestream's reader) whose eachBatch JSON.parses every value, until it has
//       seen every partition's high watermark;
//   (b) lakestream: the ingest daemon's pipeline (cli/ingest: resolveConfig → buildPipeline → preflight →
//       writeStream) for { startingOffsets: earliest, maxOffsetsPerTrigger, format json (events.ts
//       SCHEMA), trigger availableNow, no dedup } into a fresh Delta table and checkpoint in a temp dir;
//       checked: the table's rows (add actions' stats.numRecords) = N, its seq column holds each event
//       exactly once, no dead letters (a failed check is printed as VERIFY FAILED with the numbers);
//   (c) lakestream + dedup: (b) with dedup { keys: [id], watermark: ts, 10 minutes } (LevelDB state).
// Each run of a leg is a fresh Node process (this file compiled to JavaScript and run by plain node, as
// the package ships — bench/lib/compiled.ts; with LAKESTREAM_BENCH_TSX=1 this file under this process's
// node flags), so
// one leg's heap and WebAssembly memory (which never shrinks) do not count in the next one's RSS; it
// measures, from connect to disconnect: wall, process CPU (user + system, all threads, including the
// encode workers) and peak RSS (every 20 ms). The parent measures the broker's CPU around it (its
// JVM's utime + stime from /proc): the broker runs on the same cores, so wall times include its share
// (and on a shared host, other processes' — compare the CPU columns, which do not).
// Run: npx tsx bench/kafka-ingest.ts [events=1000000] [repetitions=2] [maxOffsetsPerTrigger=100000]
//   (or env LAKESTREAM_BENCH_EVENTS / LAKESTREAM_BENCH_REPS / LAKESTREAM_BENCH_BATCH); 1 warm-up +
//   repetitions measured, medians. Quick: LAKESTREAM_BENCH_EVENTS=200000 npm run bench:kafka.
//   LAKESTREAM_BENCH_CODEC=zstd|snappy|uncompressed sets the Delta codec (default: the default, snappy);
//   LAKESTREAM_BENCH_WORKERS=n the config's workers (0: the serial pipeline on the main thread);
//   LAKESTREAM_BENCH_READ_AHEAD='96 MiB' its kafka.readAhead.
//   LAKESTREAM_BENCH_DEDUP=0 skips (c). LAKESTREAM_BENCH_ONLY=raw|lakestream|dedup runs one leg, e.g.
//   LAKESTREAM_BENCH_NODE_FLAGS='--cpu-prof --cpu-prof-dir=/tmp/prof' passes node flags to the compiled
//   leg processes (each writes its own CPU-*.cpuprofile; the threads' too). Or for a profile with
//   TypeScript names: LAKESTREAM_BENCH_TSX=1 LAKESTREAM_BENCH_ONLY=lakestream node --cpu-prof --import tsx
//   bench/kafka-ingest.ts (under tsx the flags pass on to the leg processes: each writes its own
//   CPU-*.cpuprofile)
import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { resolveConfig } from '../cli/ingest/config.js';
import { buildPipeline, preflight, startQuery } from '../cli/ingest/pipeline.js';
import { DEFAULT_COMPRESSION } from '../sinks/delta/compression.js';
import { DeltaTable } from '../sinks/delta/table.js';
import { LocalObjectStore } from '../storage/local.js';
import type { StreamingQueryProgress } from '../stream/progress.js';
import { containerEnv } from '../test/kit/container-env.js';
import { nodeFlags, runCompiled } from './lib/compiled.js';
import { eventJson, SCHEMA } from './lib/events.js';
import { type Measured, measure } from './lib/measure.js';
import { median } from './lib/timing.js';

const arg = (i: number, env: string, fallback: number) => Number(process.argv[i] ?? process.env[env] ?? fallback);
const EVENTS = arg(2, 'LAKESTREAM_BENCH_EVENTS', 1_000_000);
const REPS = arg(3, 'LAKESTREAM_BENCH_REPS', 2);
const BATCH = arg(4, 'LAKESTREAM_BENCH_BATCH', 100_000);
const DEDUP = process.env.LAKESTREAM_BENCH_DEDUP !== '0';
const ONLY = process.env.LAKESTREAM_BENCH_ONLY;
/** The Delta codec: the default (snappy) unless LAKESTREAM_BENCH_CODEC names another. */
const CODEC = process.env.LAKESTREAM_BENCH_CODEC;
/** The pipeline's worker threads (config `workers`; 0: the serial pipeline); default the config default. */
const WORKERS = process.env.LAKESTREAM_BENCH_WORKERS;
/** The config's kafka.readAhead (default: the source's, 64 MiB). */
const READ_AHEAD = process.env.LAKESTREAM_BENCH_READ_AHEAD;
const WARMUP = 1;
const PARTITIONS = 4;
const PER_PARTITION_BATCH = 2000; // ≈ 750 KB per partition and request: under the broker's 1 MB message.max.bytes
const ROOT = new URL('..', import.meta.url).pathname;
const TASK_ENV = 'LAKESTREAM_BENCH_TASK';
const RESULT_PREFIX = '@@kafka-ingest-result ';

type Leg = 'raw' | 'lakestream' | 'dedup';

/** What a leg process runs. */
interface Task {
  leg: Leg;
  events: number;
  batch: number;
  brokers: string[];
  topic: string;
  /** [partition, high watermark] */
  high: [number, number][];
  dir: string;
}

interface Run extends Measured {
  /** Broker JVM CPU ms during the leg process (NaN when /proc of the container is not readable). */
  brokerCpu: number;
  /** lakestream only: durationMs per phase, summed over batches. */
  phases?: Record<string, number>;
  batches?: number;
  /** The table did not hold what it should (reported, not fatal, for the dedup leg). */
  verifyFailed?: string;
}

const client = (brokers: string[], clientId = 'lakestream-bench') =>
  new Kafka({ clientId, brokers, logLevel: logLevel.NOTHING, retry: { retries: 8 } });

// ---------------------------------------------------------------------------------------------------
// The broker

/** The container runtime and the Kafka image, as `npm test` provisions them (idempotent, quick when present). */
function ensureContainers(): void {
  for (const script of ['container-runtime.sh', 'kafka-image.sh']) {
    execFileSync('bash', [join(ROOT, 'test/env', script)], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  for (const [k, v] of Object.entries(containerEnv())) process.env[k] = v;
}

/** CPU ms of a container's main process (the broker JVM) so far, from /proc/<pid>/stat; NaN if not readable. */
function brokerCpuReader(containerId: string): () => number {
  let pid: string | undefined;
  for (const cli of ['podman', 'docker']) {
    try {
      pid = execFileSync(cli, ['inspect', '--format', '{{.State.Pid}}', containerId], { encoding: 'utf8' }).trim();
      break;
    } catch {}
  }
  const ticks = 100; // USER_HZ on Linux
  return () => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return ((Number(fields[11]) + Number(fields[12])) / ticks) * 1000; // utime + stime
    } catch {
      return Number.NaN;
    }
  };
}

async function produce(kafka: Kafka, topic: string): Promise<{ jsonBytes: number }> {
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  let jsonBytes = 0;
  const inFlight = new Set<Promise<unknown>>();
  let messages: { partition: number; value: string }[] = [];
  const flush = async () => {
    const send = producer.send({ topic, acks: -1, messages });
    messages = [];
    // One request in flight: offsets follow the generator's order (event time, seq). Several in flight
    // can land out of order, and the dedup leg's watermark would then drop the overtaken rows as late.
    inFlight.add(send);
    void send.finally(() => inFlight.delete(send)).catch(() => {});
    await send;
  };
  try {
    let i = 0;
    for (const value of eventJson(EVENTS)) {
      jsonBytes += Buffer.byteLength(value);
      messages.push({ partition: i++ % PARTITIONS, value });
      if (messages.length === PER_PARTITION_BATCH * PARTITIONS) await flush();
    }
    if (messages.length > 0) await flush();
    await Promise.all(inFlight);
  } finally {
    await producer.disconnect();
  }
  return { jsonBytes };
}

/** Next offset to be written, per partition. */
async function highWatermarks(kafka: Kafka, topic: string): Promise<Map<number, number>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return new Map(offsets.map((o) => [o.partition, Number(o.high)]));
  } finally {
    await admin.disconnect();
  }
}

// ---------------------------------------------------------------------------------------------------
// The legs (each in its own process)

type LegResult = Omit<Run, 'brokerCpu'>;

async function rawRun(task: Task): Promise<LegResult> {
  const high = new Map(task.high);
  const kafka = client(task.brokers, 'bench-raw');
  let consumed = 0;
  let checksum = 0;
  const run = await measure(async () => {
    const consumer = kafka.consumer({ groupId: `bench-raw-${randomUUID()}`, allowAutoTopicCreation: false });
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: [task.topic], fromBeginning: true });
      const remaining = new Set([...high].filter(([, h]) => h > 0).map(([p]) => p));
      const done = new Promise<void>((resolve, reject) => {
        if (remaining.size === 0) resolve();
        consumer
          .run({
            autoCommit: false,
            eachBatch: async ({ batch }) => {
              const messages = batch.messages;
              for (const m of messages) {
                const event = JSON.parse(m.value!.toString()) as { qty: number };
                checksum += event.qty;
              }
              consumed += messages.length;
              const last = messages[messages.length - 1];
              if (last && Number(last.offset) + 1 >= high.get(batch.partition)!) {
                remaining.delete(batch.partition);
                if (remaining.size === 0) resolve();
              }
            },
          })
          .catch(reject);
      });
      await done;
    } finally {
      await consumer.disconnect();
    }
  });
  if (consumed !== task.events || !(checksum > 0)) {
    throw new Error(`raw consumer read ${consumed} events; expected ${task.events}`);
  }
  const { value: _, ...measured } = run;
  return measured;
}

/**
 * What a Delta table holds of the events 0..n-1: rows (add actions' stats.numRecords), and from its
 * seq column the events missing and the rows that repeat an event.
 */
async function tableCheck(path: string, n: number): Promise<{ rows: number; missing: number; repeated: number }> {
  const table = await DeltaTable.open(new LocalObjectStore(path));
  let rows = 0;
  for (const add of table.snapshot().files) {
    const count = add.stats ? (JSON.parse(add.stats) as { numRecords?: number }).numRecords : undefined;
    if (count === undefined) throw new Error(`data file ${add.path} has no numRecords statistic`);
    rows += count;
  }
  const seen = new Uint8Array(n);
  let repeated = 0;
  for await (const batch of table.scan({ columns: ['seq'] })) {
    for (const row of batch.rows) {
      const seq = Number(row.seq);
      if (seen[seq]) repeated++;
      else seen[seq] = 1;
    }
  }
  const missing = seen.reduce((m, x) => m + (x ^ 1), 0);
  return { rows, missing, repeated };
}

async function lakestreamRun(task: Task): Promise<LegResult> {
  const dedup = task.leg === 'dedup';
  const document = {
    name: dedup ? 'bench-dedup' : 'bench',
    checkpoint: './checkpoint',
    kafka: {
      brokers: task.brokers,
      topics: [task.topic],
      startingOffsets: 'earliest',
      maxOffsetsPerTrigger: task.batch,
      ...(READ_AHEAD !== undefined ? { readAhead: READ_AHEAD } : {}),
    },
    format: { type: 'json', schema: SCHEMA },
    ...(dedup ? { dedup: { keys: ['id'], watermark: { column: 'ts', delay: '10 minutes' } } } : {}),
    target: { delta: { path: './table' }, ...(CODEC ? { compression: CODEC } : {}) },
    trigger: { availableNow: true },
    metrics: { enabled: false },
    log: { level: 'warn' },
    ...(WORKERS !== undefined ? { workers: Number(WORKERS) } : {}),
  };
  const config = resolveConfig(document, { file: join(task.dir, 'bench.yaml'), baseDir: task.dir, env: {} });
  const progress: StreamingQueryProgress[] = [];
  const warnings: string[] = [];
  // What runIngest does, without the log lines and the metrics server.
  const run = await measure(async () => {
    const pipeline = buildPipeline(config);
    await preflight(pipeline);
    const query = await startQuery(pipeline, {
      listener: { onQueryProgress: (p) => progress.push(p) },
      onWarning: (message) => warnings.push(message),
    });
    await query.awaitTermination();
    await pipeline.close();
  });
  const input = progress.reduce((n, p) => n + p.numInputRows, 0);
  const deadLetters = progress.reduce((n, p) => n + p.numDeadLetters, 0);
  const { rows, missing, repeated } = await tableCheck(config.target.delta.path, task.events);
  let verifyFailed: string | undefined;
  if (input !== task.events || rows !== task.events || missing > 0 || repeated > 0 || deadLetters !== 0) {
    // The events have distinct ids and reach no partition more than a few seconds of event time
    // behind another: dedup must drop nothing.
    const dropped = progress
      .map((p) => {
        const duplicates = p.stateOperators.reduce((n, s) => n + (s.customMetrics.numDuplicatesDropped ?? 0), 0);
        const late = p.stateOperators.reduce((n, s) => n + s.numRowsDroppedByWatermark, 0);
        return duplicates + late > 0
          ? `batch ${p.batchId}: ${p.numInputRows} in, ${p.sink.numOutputRows} out, ${duplicates} duplicates, ${late} late ` +
              `(watermark ${p.eventTime.watermark}, offsets ${JSON.stringify(p.sources[0]?.startOffset)} → ${JSON.stringify(p.sources[0]?.endOffset)})`
          : undefined;
      })
      .filter((x) => x !== undefined);
    const problem =
      `lakestream read ${input} records, wrote ${rows} rows (${missing} events missing, ${repeated} rows repeating one) ` +
      `and ${deadLetters} dead letters; expected each of the ${task.events} events once` +
      (dropped.length > 0 ? `; dropped by dedup: ${dropped.join('; ')}` : '') +
      (warnings.length > 0 ? ` (warnings: ${warnings.slice(0, 3).join('; ')})` : '');
    // Reported loudly with the run's numbers rather than thrown: the timing is still what it cost.
    verifyFailed = problem;
  }
  const phases: Record<string, number> = {};
  for (const p of progress) {
    for (const [phase, ms] of Object.entries(p.durationMs)) {
      if (phase !== 'triggerExecution') phases[phase] = (phases[phase] ?? 0) + ms;
    }
  }
  const { value: _, ...measured } = run;
  return { ...measured, phases, batches: progress.length, ...(verifyFailed ? { verifyFailed } : {}) };
}

/**
 * Runs one leg in a fresh process and reads its result line: this file as compiled into `build`, under
 * plain node (bench/lib/compiled.ts), or without a build this file with the same node flags.
 */
function runLeg(task: Task, build: string | undefined): Promise<LegResult> {
  const entry = build
    ? [...nodeFlags(), join(build, 'bench', 'kafka-ingest.js')]
    : [...process.execArgv, new URL(import.meta.url).pathname];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, entry, {
      env: { ...process.env, [TASK_ENV]: JSON.stringify(task) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith(RESULT_PREFIX));
      if (code === 0 && line) resolve(JSON.parse(line.slice(RESULT_PREFIX.length)) as LegResult);
      else reject(new Error(`the ${task.leg} leg exited with code ${code}: ${out.slice(-2000)}`));
    });
  });
}

// ---------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  ensureContainers();
  const { startKafka } = await import('../test/kit/kafka.js');
  const { compileSources } = await import('../test/kit/compile.js');
  const t0 = performance.now();
  const kafka = await startKafka();
  const stopBroker = () => kafka.stop().catch(() => undefined);
  const onSignal = () => void stopBroker().then(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let build: string | undefined;
  const root = mkdtempSync(join(tmpdir(), 'lakestream-bench-kafka-'));
  try {
    if (runCompiled()) {
      const c0 = performance.now();
      build = await compileSources('tsconfig.bench.json', 'bench-build-');
      console.log(`  compiled the sources in ${((performance.now() - c0) / 1000).toFixed(1)} s`);
    }
    const brokerCpu = brokerCpuReader(kafka.container.getId());
    const admin = client(kafka.brokers);
    const topic = 'bench-events';
    await kafka.createTopic(topic, PARTITIONS);
    const p0 = performance.now();
    const { jsonBytes } = await produce(admin, topic);
    const high = await highWatermarks(admin, topic);
    const produced = [...high.values()].reduce((a, b) => a + b, 0);
    if (produced !== EVENTS) throw new Error(`the topic holds ${produced} records; expected ${EVENTS}`);
    const legs: Leg[] = (['raw', 'lakestream', ...(DEDUP ? ['dedup' as const] : [])] as Leg[]).filter(
      (l) => ONLY === undefined || ONLY === l,
    );
    console.log(
      `kafka-ingest: ${EVENTS} JSON events (${(jsonBytes / EVENTS).toFixed(0)} B/event, ${(jsonBytes / 1e6).toFixed(1)} MB) ` +
        `in ${PARTITIONS} partitions (broker up in ${((p0 - t0) / 1000).toFixed(1)} s, produced in ` +
        `${((performance.now() - p0) / 1000).toFixed(1)} s), maxOffsetsPerTrigger ${BATCH}, ${CODEC ?? DEFAULT_COMPRESSION} Delta, node ${process.version}, ` +
        `${WARMUP} warm-up + ${REPS} measured, alternating [${legs.join(', ')}], one process per run ` +
        `(${runCompiled() ? 'compiled JavaScript, as the package ships' : 'TypeScript under tsx'})`,
    );
    console.log(
      '  the broker (single-node KRaft JVM in a container) shares the cores with the legs: wall times include its share',
    );

    const runs: Record<Leg, Run[]> = { raw: [], lakestream: [], dedup: [] };
    for (let rep = 0; rep < WARMUP + REPS; rep++) {
      for (const leg of legs) {
        const dir = join(root, `${leg}-${rep}`);
        const b0 = brokerCpu();
        const result = await runLeg(
          {
            leg,
            events: EVENTS,
            batch: BATCH,
            brokers: kafka.brokers,
            topic,
            high: [...high],
            dir,
          },
          build,
        );
        const r: Run = { ...result, brokerCpu: brokerCpu() - b0 };
        rmSync(dir, { recursive: true, force: true });
        if (rep >= WARMUP) runs[leg].push(r);
        const label = rep < WARMUP ? 'warm-up' : `rep ${rep - WARMUP + 1}`;
        console.log(
          `    ${label} ${leg}: ${r.wall.toFixed(0)} ms, cpu ${(r.cpu / 1000).toFixed(2)} s, ` +
            `peak RSS ${(r.rss / 2 ** 20).toFixed(0)} MiB, broker cpu ${(r.brokerCpu / 1000).toFixed(2)} s` +
            (r.verifyFailed ? `\n      VERIFY FAILED: ${r.verifyFailed}` : ''),
        );
      }
    }

    const line = (label: string, leg: Leg) => {
      const xs = runs[leg];
      if (xs.length === 0) return undefined;
      const wall = median(xs.map((x) => x.wall));
      const cpu = median(xs.map((x) => x.cpu));
      const rss = median(xs.map((x) => x.rss));
      const broker = median(xs.map((x) => x.brokerCpu));
      console.log(
        `${label.padEnd(40)} ${((EVENTS / wall) * 1000).toFixed(0).padStart(7)} events/s ` +
          `${(jsonBytes / 1e3 / wall).toFixed(1).padStart(5)} MB/s | cpu ${((cpu / 1000 / EVENTS) * 1e6).toFixed(2).padStart(6)} s/M events ` +
          `| peak RSS ${(rss / 2 ** 20).toFixed(0).padStart(5)} MiB | broker cpu ${((broker / 1000 / EVENTS) * 1e6).toFixed(2)} s/M events ` +
          `[wall ${xs.map((x) => x.wall.toFixed(0)).join(', ')} ms]`,
      );
      if (xs[0]?.phases) {
        const phases = Object.keys(xs[0].phases);
        console.log(
          `    phases, summed over ${xs[0].batches} batches (median ms): ` +
            phases.map((p) => `${p} ${median(xs.map((x) => x.phases?.[p] ?? 0)).toFixed(0)}`).join(', '),
        );
      }
      const failed = xs.filter((x) => x.verifyFailed).length;
      if (failed > 0) {
        console.log(
          `    VERIFY FAILED in ${failed} of ${xs.length} runs (see above): the table is not exactly the topic`,
        );
        process.exitCode = 1;
      }
      return { wall, cpu, rss };
    };
    const raw = line('(a) raw kafkajs eachBatch + JSON.parse', 'raw');
    const ls = line('(b) lakestream ingest → Delta', 'lakestream');
    const dd = line('(c) lakestream ingest + dedup → Delta', 'dedup');
    if (!raw) return;
    for (const [label, x] of [
      ['(b)', ls],
      ['(c)', dd],
    ] as const) {
      if (!x) continue;
      console.log(
        `${label}/(a) lakestream/raw: throughput ${(raw.wall / x.wall).toFixed(2)} (target ≥ 0.5), ` +
          `CPU per event ${(x.cpu / raw.cpu).toFixed(2)}× (raw/lakestream ${(raw.cpu / x.cpu).toFixed(2)}), ` +
          `peak RSS ${(x.rss / raw.rss).toFixed(2)}×`,
      );
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
    if (build) rmSync(build, { recursive: true, force: true });
    await stopBroker();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

const task = process.env[TASK_ENV];
if (task) {
  const t = JSON.parse(task) as Task;
  const result = t.leg === 'raw' ? await rawRun(t) : await lakestreamRun(t);
  process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(result)}\n`);
  process.exit(0);
} else {
  await main();
}
