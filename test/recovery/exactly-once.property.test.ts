// Property: whatever the input, its split into batches, the crash points and the restarts, the Delta
// table ends up equal to the exactly-once result computed from the input alone, and the Delta log
// holds every batch of the query at most once.
//
// Input. Events {id, user, n, ts} in arrival order, built from random "ops":
// - new: a fresh id; a processing cursor advances by 0..4 s and ts = cursor − jitter (0..5 s), so ts
//   is mostly increasing and always > (max ts so far) − 8 s, the watermark delay;
// - resend: an exact copy (same id, user, n and ts) of an earlier event. The aggregations count
//   resends (they have no dedup), so there a resend is only picked among events still within the
//   delay of the newest ts, or among far-late events; the dedup pipeline may also resend long after
//   the key expired;
// - late: ts far below BASE − delay, never in the first batch.
// Why the result cannot depend on the split (the full argument is in harness.ts, next to classify()):
// the watermark of batch B is at most (max ts of the rows before B) − delay, so a "new" row is never
// late; every batch after the first runs with a watermark of at least (max ts of the first batch) −
// delay, so a "late" row is always dropped; and an exact resend is always dropped by
// dropDuplicatesWithinWatermark (by the state while its key lives, as late once the watermark passed
// ts + delay and evicted it). Expected: dedup → the first occurrences of the non-late events;
// update/complete → count and sum(n) per (user, 10 s window) over the non-late rows (update: no
// non-late row can fall in a window the watermark already closed, so the merged table holds every
// window's final value).
// The first batch is fixed across crashes: it is the first chunk (MemorySource: a restart within the
// step that added it re-adds only that chunk) or the first maxRowsPerTrigger rows (GeneratorSource).
//
// Runs. A MemorySource fed chunk by chunk under Trigger.processingTime(0) (graceful restarts between
// random chunks; after a restart the same chunks are added again), or a GeneratorSource over the
// array with maxRowsPerTrigger under Trigger.availableNow() (graceful stops after random batch
// counts). Each process takes the next crash spec (a failure point of harness.ts's CrashPoint and
// the nth matching call); a crash kills the process (kill -9) and a new one takes over the expired
// lease, on the same in-memory table, checkpoint and state stores.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemoryObjectStore } from '../../storage/memory.js';
import { ObjectStoreDeadLetters } from '../../stream/dead-letters.js';
import { GeneratorSource } from '../../stream/sources/generator.js';
import { MemorySource } from '../../stream/sources/memory.js';
import { Trigger } from '../../stream/trigger.js';
import {
  BASE,
  CRASH_POINTS,
  type CrashPoint,
  type CrashSpec,
  committedEndOffset,
  Durable,
  type Event,
  eventRow,
  expectedRows,
  isInjectedCrash,
  type PipelineConfig,
  type PipelineKind,
  type Process,
  readTableRows,
  type TornKind,
  tableRowsOf,
  txnCommits,
  txnProblems,
} from './harness.js';

const DELAY_MS = 8_000;
const JITTER_MS = 5_000;
const STEP_MS = 4_000;
const WINDOW_MS = 10_000;
const USERS = ['ann', 'bob', 'cy'];
const NUM_RUNS = 40;
const SEEDS: Record<PipelineKind, number> = { dedup: 20_240_501, update: 20_240_502, complete: 20_240_503 };
/** Safety net: a run needing more processes than this is a failure (a crash loop). */
const MAX_PROCESSES = 40;

type Op =
  | { kind: 'new'; step: number; jitter: number; user: number; n: number }
  | { kind: 'resend'; pick: number }
  | { kind: 'late'; back: number; user: number; n: number };

interface Scenario {
  ops: Op[];
  /** Rows of batch 0. */
  firstBatch: number;
  source: 'memory' | 'generator';
  /** Sizes of the chunks after the first (memory), cycled. */
  chunks: number[];
  /** memory: graceful restart after these steps; generator: stop after this many batches, per process. */
  restarts: number[];
  crashes: { point: CrashPoint; nth: number; torn: TornKind }[];
}

const userArb = fc.integer({ min: 0, max: USERS.length - 1 });
const nArb = fc.integer({ min: 1, max: 9 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('new' as const),
      step: fc.integer({ min: 0, max: STEP_MS }),
      jitter: fc.integer({ min: 0, max: JITTER_MS }),
      user: userArb,
      n: nArb,
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('resend' as const), pick: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('late' as const),
      back: fc.integer({ min: 0, max: 600_000 }),
      user: userArb,
      n: nArb,
    }),
  },
);

const scenarioArb: fc.Arbitrary<Scenario> = fc.record({
  ops: fc.array(opArb, { minLength: 1, maxLength: 40, size: 'max' }),
  firstBatch: fc.integer({ min: 1, max: 6 }),
  source: fc.constantFrom('memory' as const, 'generator' as const),
  chunks: fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 6 }),
  restarts: fc.array(fc.integer({ min: 0, max: 8 }), { maxLength: 3 }),
  crashes: fc.array(
    fc.record({
      point: fc.constantFrom(...CRASH_POINTS),
      nth: fc.integer({ min: 1, max: 3 }),
      torn: fc.constantFrom<TornKind>('truncated', 'bad-checksum', 'empty'),
    }),
    { maxLength: 5, size: 'max' },
  ),
});

/** The events of a scenario (see the header for the rules each op follows). */
function buildEvents(ops: readonly Op[], firstBatch: number, kind: PipelineKind): Event[] {
  const events: Event[] = [];
  const firsts: Event[] = [];
  const lateIds = new Set<string>();
  let cursor = BASE + JITTER_MS;
  let runningMax = Number.NEGATIVE_INFINITY;
  const fresh = (step: number, jitter: number, user: number, n: number): Event => {
    cursor += step;
    return { id: `e${firsts.length}`, user: USERS[user]!, n, ts: cursor - jitter };
  };
  for (const op of ops) {
    const position = events.length;
    let event: Event;
    if (op.kind === 'resend') {
      const eligible =
        kind === 'dedup' ? firsts : firsts.filter((e) => lateIds.has(e.id) || e.ts > runningMax - DELAY_MS);
      const pick = eligible[op.pick % Math.max(1, eligible.length)];
      event = pick ? { ...pick } : fresh(0, 0, op.pick % USERS.length, 1);
    } else if (op.kind === 'late' && position >= firstBatch) {
      event = { id: `L${firsts.length}`, user: USERS[op.user]!, n: op.n, ts: BASE - 10 * DELAY_MS - op.back };
      lateIds.add(event.id);
    } else {
      event = op.kind === 'new' ? fresh(op.step, op.jitter, op.user, op.n) : fresh(0, 0, op.user, op.n);
    }
    if (!firsts.some((e) => e.id === event.id)) firsts.push(event);
    events.push(event);
    runningMax = Math.max(runningMax, event.ts);
  }
  return events;
}

/** Chunk 0 is the first batch; the rest is cut by the cycled chunk sizes. */
function chunksOf(events: readonly Event[], s: Scenario): Event[][] {
  const out: Event[][] = [events.slice(0, s.firstBatch)];
  for (let at = s.firstBatch, i = 0; at < events.length; i++) {
    const size = s.chunks[i % s.chunks.length]!;
    out.push(events.slice(at, at + size));
    at += size;
  }
  return out;
}

/** Which crash points fired over all runs, and how many runs there were (the coverage check at the end). */
const fired = new Map<CrashPoint, number>();
let runs = 0;

/** A process ended by `error`: it must be an injected crash that killed it. Anything else is a failure. */
function expectCrash(proc: Process, error: unknown): void {
  if (!isInjectedCrash(error) || !proc.dead) throw error;
  const point = proc.crash?.point;
  if (point) fired.set(point, (fired.get(point) ?? 0) + 1);
}

class Runner {
  readonly durable = new Durable({
    table: new MemoryObjectStore('table'),
    checkpoint: new MemoryObjectStore('checkpoint'),
  });
  private readonly specs: CrashSpec[];

  constructor(
    private readonly s: Scenario,
    private readonly pipeline: PipelineConfig,
    private readonly events: Event[],
  ) {
    this.specs = s.crashes.map((c) => ({ point: c.point, nth: c.nth, torn: c.torn }));
  }

  private newProcess(): Process {
    if (this.durable.processes.length >= MAX_PROCESSES) throw new Error('too many processes: a crash loop?');
    return this.durable.newProcess(this.specs.shift());
  }

  /** MemorySource chunk by chunk under processingTime(0). */
  async runMemory(): Promise<void> {
    const chunks = chunksOf(this.events, this.s);
    const restartAfter = new Set(this.s.restarts);
    const added: Event[][] = [];
    let live: { proc: Process; source: MemorySource } | undefined;
    const launch = async (): Promise<{ proc: Process; source: MemorySource }> => {
      for (;;) {
        const proc = this.newProcess();
        const source = new MemorySource('events');
        for (const chunk of added) source.addData(chunk.map(eventRow));
        try {
          await proc.start({ source, pipeline: this.pipeline, trigger: Trigger.processingTime(0) });
          return { proc, source };
        } catch (error) {
          expectCrash(proc, error);
        }
      }
    };
    /** processAllAvailable, restarting after crashes. */
    const settle = async (): Promise<{ proc: Process; source: MemorySource }> => {
      live ??= await launch();
      for (;;) {
        try {
          await live.proc.query!.processAllAvailable();
          return live;
        } catch (error) {
          expectCrash(live.proc, error);
          live = await launch();
        }
      }
    };
    const stop = async (): Promise<void> => {
      if (!live) return;
      const query = live.proc.query!;
      await query.stop();
      if (query.exception) expectCrash(live.proc, query.exception);
      live = undefined;
    };

    for (const [step, chunk] of chunks.entries()) {
      added.push(chunk);
      if (live) live.source.addData(chunk.map(eventRow));
      await settle();
      if (restartAfter.has(step)) await stop();
    }
    // processAllAvailable may return before a chunk added just then was planned: drain to the end.
    for (let round = 0; (await committedEndOffset(this.durable.checkpoint)) !== this.events.length; round++) {
      if (round > 20) throw new Error('the query does not reach the end of the input');
      await settle();
    }
    await stop();
  }

  /** GeneratorSource over the array with maxRowsPerTrigger = the first batch, under availableNow. */
  async runGenerator(): Promise<void> {
    const stops = this.s.restarts.filter((n) => n > 0);
    for (;;) {
      const proc = this.newProcess();
      const source = new GeneratorSource({
        rowsPerPartition: this.events.length,
        maxRowsPerTrigger: this.s.firstBatch,
        generate: (_partition, offset) => eventRow(this.events[offset]!),
        name: 'events',
      });
      const stopAfterBatches = stops.shift();
      try {
        const query = await proc.start({
          source,
          pipeline: this.pipeline,
          trigger: Trigger.availableNow(),
          ...(stopAfterBatches === undefined ? {} : { stopAfterBatches }),
        });
        await query.awaitTermination();
        if (!proc.stopRequested) break;
      } catch (error) {
        expectCrash(proc, error);
      }
    }
    expect(await committedEndOffset(this.durable.checkpoint)).toBe(this.events.length);
  }

  /** Stops whatever still runs (after a failed assertion), so no loop outlives the run. */
  async cleanup(): Promise<void> {
    for (const proc of this.durable.processes) {
      if (proc.query?.isActive) await proc.query.stop();
    }
  }
}

async function check(kind: PipelineKind, s: Scenario): Promise<void> {
  const pipeline: PipelineConfig = { kind, delayMs: DELAY_MS, windowMs: WINDOW_MS };
  const events = buildEvents(s.ops, s.firstBatch, kind);
  const expected = expectedRows(pipeline, { events, firstBatchSize: s.firstBatch, delayMs: DELAY_MS });
  const runner = new Runner(s, pipeline, events);
  runs++;
  try {
    if (s.source === 'memory') await runner.runMemory();
    else await runner.runGenerator();
  } finally {
    await runner.cleanup();
  }
  const { durable } = runner;
  expect(tableRowsOf(kind, await readTableRows(durable.table))).toEqual(expected);
  const commits = await txnCommits(durable.table, await durable.queryId());
  expect(txnProblems(commits)).toEqual([]);
  if (kind === 'complete') expect(commits.map((c) => c.batchId)).toEqual([...commits.keys()]);
  expect(await new ObjectStoreDeadLetters(durable.checkpoint, 'dead-letters/').readAll()).toEqual([]);
}

describe.each(['dedup', 'update', 'complete'] as const)(
  'exactly-once under random crashes and restarts: %s',
  (kind) => {
    it('the Delta table equals the exactly-once result of the input, each batch committed once', async () => {
      await fc.assert(
        fc.asyncProperty(scenarioArb, (s) => check(kind, s)),
        { seed: SEEDS[kind], numRuns: NUM_RUNS },
      );
    });
  },
);

describe('property test coverage', () => {
  it('every failure point fired in some run (so the properties above exercised them)', (ctx) => {
    if (runs === 0) ctx.skip(); // the properties were filtered out
    const missing = CRASH_POINTS.filter((point) => !fired.has(point));
    expect(missing).toEqual([]);
  });
});
