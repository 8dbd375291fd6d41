// The crash matrix of streaming-semantics §6.2: for each failure point, a process running a stateful
// pipeline into a real Delta table (LocalObjectStore in a temp dir, checkpoint in another) dies at
// batch 1 or 2 (kill -9: nothing of it runs after the crash, not even the lease release); a fresh
// process over the same files takes the expired lease over and runs to completion
// (Trigger.availableNow()). Then the table must equal the exactly-once result computed independently
// from the input, the Delta log must hold each batch of the query at most once, and the re-run batch
// must take the expected path (a fresh plan, a replay that commits, or a replay the table already has).
// Rows: (a) before offsets/N, (b) mid data-file write, (c) before the table commit, (d) table commit
// durable but unacknowledged, (e) around the state commit, which precedes the table commit as in
// Spark (before; partial across operators; after it), (f) after the table commit, before commits/N,
// (g) torn offsets/N or commits/N, for the dedup pipeline
// (append) and the windowed aggregation in update and complete mode; (h) a second runner.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DeltaTable } from '../../sinks/delta/table.js';
import { LocalObjectStore } from '../../storage/local.js';
import type { PartitionRange } from '../../stream/checkpoint-log.js';
import type { PartitionOffsets, Source, SourceContext } from '../../stream/source.js';
import { GeneratorSource } from '../../stream/sources/generator.js';
import { Trigger } from '../../stream/trigger.js';
import type { RowGroup } from '../../stream/types.js';
import {
  BASE,
  type CrashSpec,
  Durable,
  type Event,
  eventRow,
  expectedRows,
  isInjectedCrash,
  listKeys,
  mainOperatorId,
  type PipelineConfig,
  type PipelineKind,
  type Process,
  readTableRows,
  type StartOptions,
  tableRowsOf,
  txnCommits,
  txnProblems,
  WATERMARK_OPERATOR_ID,
} from './harness.js';

const root = mkdtempSync(join(tmpdir(), 'lakestream-crash-matrix-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;

const SECOND = 1000;
const DELAY_MS = 10 * SECOND;
const WINDOW_MS = 10 * SECOND;
/** Rows per batch: batches 0..3 hold 4 rows, batch 4 the rest. */
const BATCH_ROWS = 4;

const ev = (id: string, user: string, n: number, seconds: number): Event => ({
  id,
  user,
  n,
  ts: BASE + seconds * SECOND,
});

/**
 * The input, in arrival order (see the oracle's rules in harness.ts): resends of e1, e2, e4 and e6
 * arrive within the delay of the newest event time (safe: counted by the aggregations, dropped by
 * the dedup); L1 and L2 are far below the watermark every batch after the first runs with; the dedup
 * input also resends e1 long after its key expired (dropped as late).
 */
function matrixEvents(kind: PipelineKind): Event[] {
  const e1 = ev('e1', 'ann', 1, 0);
  const e2 = ev('e2', 'bob', 2, 3);
  const e4 = ev('e4', 'bob', 4, 12);
  const e6 = ev('e6', 'bob', 7, 21);
  return [
    // batch 0
    e1,
    e2,
    ev('e3', 'ann', 3, 5),
    e1,
    // batch 1 (watermark 5 − 10 s: nothing is late yet but L1)
    e4,
    ev('e5', 'ann', 5, 9),
    e2,
    ev('L1', 'ann', 6, -500),
    // batch 2
    e6,
    e4,
    ev('e7', 'ann', 8, 25),
    ev('L2', 'bob', 9, -400),
    // batch 3
    e6,
    ev('e8', 'ann', 10, 31),
    ev('e9', 'bob', 11, 40),
    ev('e10', 'ann', 12, 36),
    // batch 4
    ev('e11', 'bob', 13, 52),
    ...(kind === 'dedup' ? [e1] : []),
    ev('e12', 'ann', 14, 48),
  ];
}

function pipelineOf(kind: PipelineKind): PipelineConfig {
  return { kind, delayMs: DELAY_MS, windowMs: WINDOW_MS };
}

function generatorOf(events: readonly Event[]): GeneratorSource {
  return new GeneratorSource({
    rowsPerPartition: events.length,
    maxRowsPerTrigger: BATCH_ROWS,
    generate: (_partition, offset) => eventRow(events[offset]!),
    name: 'events',
  });
}

/** A table and a checkpoint folder of their own; state in memory, or in LevelDB (`state` folder). */
function freshDurable(state: 'memory' | 'leveldb' = 'memory'): Durable {
  const dir = join(root, `case-${dirs++}`);
  return new Durable({
    table: new LocalObjectStore(join(dir, 'table')),
    checkpoint: new LocalObjectStore(join(dir, 'checkpoint')),
    ...(state === 'leveldb' ? { stateDir: join(dir, 'state') } : {}),
  });
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected the query to fail');
    },
    (error: unknown) => error,
  );
}

/** Asserts the exactly-once result: table = oracle, each batch at most once in the log. */
async function expectExactlyOnce(durable: Durable, kind: PipelineKind, events: readonly Event[]): Promise<string> {
  const expected = expectedRows(pipelineOf(kind), { events, firstBatchSize: BATCH_ROWS, delayMs: DELAY_MS });
  expect(tableRowsOf(kind, await readTableRows(durable.table))).toEqual(expected);
  const queryId = await durable.queryId();
  const commits = await txnCommits(durable.table, queryId);
  expect(txnProblems(commits)).toEqual([]);
  // Every batch a process reported as committed is in the log, once.
  const committed = durable.progress.filter((p) => p.sink.outcome === 'committed').map((p) => p.batchId);
  expect(new Set(committed).size).toBe(committed.length);
  for (const batchId of committed) expect(commits.filter((c) => c.batchId === batchId)).toHaveLength(1);
  if (kind === 'complete') {
    // Complete mode commits every batch (an overwrite), so the log holds exactly 0..last.
    expect(commits.map((c) => c.batchId)).toEqual([...commits.keys()]);
  }
  return queryId;
}

interface MatrixRow {
  /** Test name. */
  name: string;
  crash: (kind: PipelineKind) => CrashSpec;
  /** The batch the crash hits (the process reported every batch before it). */
  batch: number;
  /** How the restarted process runs that batch. */
  expect: { isReplay: boolean; outcome: string };
  /** A recovery notice the restart must report (torn files). */
  notice?: string;
  /** The crashed attempt left a data file that must stay unreferenced. */
  orphan?: 'crashed-put' | 'last-put';
}

const MATRIX: MatrixRow[] = [
  {
    name: '(a) crash before offsets/N is written: a fresh plan of N, no replay',
    crash: () => ({ point: 'before-offsets', batchId: 2 }),
    batch: 2,
    expect: { isReplay: false, outcome: 'committed' },
  },
  {
    name: '(b) crash right after offsets/N is durable: the identical range is replayed',
    crash: () => ({ point: 'after-offsets', batchId: 1 }),
    batch: 1,
    expect: { isReplay: true, outcome: 'committed' },
  },
  {
    name: '(b) crash mid data-file write (a torn file is left): the range is replayed, the torn file never referenced',
    crash: () => ({ point: 'torn-data-file', batchId: 1 }),
    batch: 1,
    expect: { isReplay: true, outcome: 'committed' },
    orphan: 'crashed-put',
  },
  {
    name: '(b) crash after a data file was written: the replay writes new files, the orphan stays unreferenced',
    crash: () => ({ point: 'data-file', batchId: 1 }),
    batch: 1,
    expect: { isReplay: true, outcome: 'committed' },
    orphan: 'crashed-put',
  },
  {
    name: '(c) crash with the data files written, before the table commit: replayed and committed once',
    crash: () => ({ point: 'before-table-commit', batchId: 1 }),
    batch: 1,
    expect: { isReplay: true, outcome: 'committed' },
    orphan: 'last-put',
  },
  {
    name: '(d) table commit durable but unacknowledged: the replay finds txn N and skips it',
    crash: () => ({ point: 'after-table-commit', batchId: 1 }),
    batch: 1,
    expect: { isReplay: true, outcome: 'already-committed' },
  },
  {
    name: '(e) crash before the state commit (the sink preparing its files alongside): nothing of N visible, replayed and committed once',
    crash: (kind) => ({ point: 'before-state-commit', batchId: 1, operator: mainOperatorId(kind) }),
    batch: 1,
    expect: { isReplay: true, outcome: 'committed' },
  },
  {
    name: '(e) crash between the state commits of two operators (watermark state at N, the other at N−1), before the table commit',
    crash: () => ({ point: 'after-state-commit', batchId: 2, operator: WATERMARK_OPERATOR_ID }),
    batch: 2,
    expect: { isReplay: true, outcome: 'committed' },
  },
  {
    name: '(e) crash after the state commit, before the table commit: state N durable, the replay re-runs against N−1 and replaces it',
    crash: (kind) => ({ point: 'after-state-commit', batchId: 1, operator: mainOperatorId(kind) }),
    batch: 1,
    expect: { isReplay: true, outcome: 'committed' },
  },
  {
    name: '(f) crash after the state and table commits, before commits/N: replay, already committed, state N rewritten',
    crash: () => ({ point: 'before-commits', batchId: 2 }),
    batch: 2,
    expect: { isReplay: true, outcome: 'already-committed' },
  },
  {
    name: '(g) torn offsets/N (truncated): discarded with a notice, N planned afresh',
    crash: () => ({ point: 'torn-offsets', batchId: 2, torn: 'truncated' }),
    batch: 2,
    expect: { isReplay: false, outcome: 'committed' },
    notice: 'offsets/2',
  },
  {
    name: '(g) torn commits/N (bad checksum): discarded with a notice, N replayed and found in the table',
    crash: () => ({ point: 'torn-commits', batchId: 1, torn: 'bad-checksum' }),
    batch: 1,
    expect: { isReplay: true, outcome: 'already-committed' },
    notice: 'commits/1',
  },
];

async function runRow(
  kind: PipelineKind,
  row: MatrixRow,
  state: 'memory' | 'leveldb' = 'memory',
  sink: Pick<StartOptions, 'autoCompact'> = {},
): Promise<Process> {
  const events = matrixEvents(kind);
  const pipeline = pipelineOf(kind);
  const durable = freshDurable(state);

  // Process 1 dies in batch `row.batch`.
  const p1 = durable.newProcess(row.crash(kind));
  const q1 = await p1.start({ source: generatorOf(events), pipeline, trigger: Trigger.availableNow(), ...sink });
  const error = await failure(q1.awaitTermination());
  expect(isInjectedCrash(error), `not an injected crash: ${String(error)}`).toBe(true);
  expect(p1.dead).toBe(true);
  expect(p1.progress.map((p) => p.batchId)).toEqual([...Array(row.batch).keys()]);
  const tableVersionAtCrash = (await DeltaTable.open(durable.table)).snapshot().version;

  // Process 2: fresh objects over the same files, after the dead process's lease expired.
  const p2 = durable.newProcess();
  const q2 = await p2.start({ source: generatorOf(events), pipeline, trigger: Trigger.availableNow(), ...sink });
  await q2.awaitTermination();
  expect(q2.id).toBe(q1.id);

  const first = p2.progress[0]!;
  expect(first.batchId).toBe(row.batch);
  expect(first.isReplay).toBe(row.expect.isReplay);
  expect(first.sink.outcome).toBe(row.expect.outcome);
  expect(p2.progress.slice(1).every((p) => !p.isReplay)).toBe(true);
  if (row.expect.outcome === 'already-committed') {
    // The replay found the batch in the table: no new table version for it.
    expect(first.sink.tableVersion).toBe(tableVersionAtCrash);
  }
  const tornNotices = p2.warnings.filter((w) => w.message === 'checkpoint recovery: torn-tail');
  expect(tornNotices.map((w) => w.context?.key)).toEqual(row.notice ? [row.notice] : []);

  await expectExactlyOnce(durable, kind, events);

  if (row.orphan) {
    const puts = p1.tableFaults.callsTo('put').filter((c) => /(^|\/)part-[^/]*\.parquet$/.test(c.key));
    const orphan =
      row.orphan === 'crashed-put' ? puts.find((c) => c.injected.length > 0)?.key : puts[puts.length - 1]?.key;
    expect(orphan).toBeDefined();
    expect(await listKeys(durable.table)).toContain(orphan);
    const referenced = (await DeltaTable.open(durable.table)).snapshot().files.map((f) => decodeURIComponent(f.path));
    expect(referenced).not.toContain(orphan);
  }
  return p1;
}

describe.each(['dedup', 'update', 'complete'] as const)('crash matrix, %s pipeline', (kind) => {
  it('runs without a crash to the oracle result (baseline)', async () => {
    const durable = freshDurable();
    const events = matrixEvents(kind);
    const p = durable.newProcess();
    const q = await p.start({
      source: generatorOf(events),
      pipeline: pipelineOf(kind),
      trigger: Trigger.availableNow(),
    });
    await q.awaitTermination();
    expect(p.progress.filter((x) => x.numInputRows > 0).map((x) => x.numInputRows)).toEqual([
      4,
      4,
      4,
      4,
      events.length - 16,
    ]);
    await expectExactlyOnce(durable, kind, events);
  });

  it.each(MATRIX)('$name', async (row) => {
    await runRow(kind, row);
  });
});

// The same rows with the durable LevelDB state store (the default of a folder checkpoint): the
// crashed process's uncommitted WriteBatch is lost, its committed versions survive the restart.
describe('crash matrix, dedup pipeline, LevelDB state', () => {
  it.each(MATRIX)('$name', async (row) => {
    await runRow('dedup', row, 'leveldb');
  });
});

/** A source that can be held: nextOffsets waits until released (a stalled, not dead, runner). */
class StallableSource implements Source {
  private gate: Promise<void> | undefined;
  private release: (() => void) | undefined;
  private signalWaiting!: () => void;
  /** Resolves once a nextOffsets call waits at the closed gate. */
  readonly waiting = new Promise<void>((resolve) => {
    this.signalWaiting = resolve;
  });

  private calls = 0;

  /** `holdAtCall`: the nextOffsets call (1-based) from which the gate is closed. */
  constructor(
    private readonly inner: Source,
    private readonly holdAtCall = Number.POSITIVE_INFINITY,
  ) {}

  get description(): string {
    return this.inner.description;
  }

  hold(): void {
    this.gate = new Promise((resolve) => {
      this.release = resolve;
    });
  }

  resume(): void {
    this.gate = undefined;
    this.release?.();
  }

  open(ctx: SourceContext): Promise<void> {
    return this.inner.open(ctx);
  }
  initialOffsets(): Promise<PartitionOffsets> {
    return this.inner.initialOffsets();
  }
  async nextOffsets(start: PartitionOffsets, limit?: PartitionOffsets): Promise<PartitionOffsets> {
    if (++this.calls === this.holdAtCall) this.hold();
    if (this.gate) {
      this.signalWaiting();
      await this.gate;
    }
    return this.inner.nextOffsets(start, limit);
  }
  availableNow(): Promise<PartitionOffsets> {
    return this.inner.availableNow();
  }
  read(ranges: Readonly<Record<string, PartitionRange>>): Promise<RowGroup[]> {
    return this.inner.read(ranges);
  }
  commit(end: PartitionOffsets): Promise<void> {
    return this.inner.commit(end);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

// Auto compaction (DeltaSinkOptions.autoCompact, minFiles 2: from batch 1 on, every batch's commit is
// followed by an OPTIMIZE of the table's two small files). A crash inside it comes after the batch's
// table commit is durable: the restart replays the batch, finds it committed, and the table is exact.
const COMPACT = { autoCompact: { minFiles: 2 } } as const;
const COMPACTION_FAILED = /^auto compaction of .* failed/;

/** Versions of the table's OPTIMIZE commits (auto: true) and the live files' count. */
async function compactions(durable: Durable): Promise<{ versions: number[]; files: number }> {
  const table = await DeltaTable.open(durable.table);
  const versions = (await table.history())
    .filter((c) => c.commitInfo.operation === 'OPTIMIZE' && c.commitInfo.operationParameters?.auto === true)
    .map((c) => c.version)
    .sort((a, b) => a - b);
  return { versions, files: table.snapshot().files.length };
}

describe('crash matrix, auto compaction (dedup pipeline)', () => {
  it('runs without a crash to the oracle result, compacting after every batch from the second', async () => {
    const durable = freshDurable();
    const events = matrixEvents('dedup');
    const p = durable.newProcess();
    await (
      await p.start({
        source: generatorOf(events),
        pipeline: pipelineOf('dedup'),
        trigger: Trigger.availableNow(),
        ...COMPACT,
      })
    ).awaitTermination();
    await expectExactlyOnce(durable, 'dedup', events);
    const committed = p.progress.filter((x) => x.sink.outcome === 'committed');
    const { versions, files } = await compactions(durable);
    // Each commit from the second leaves two small files: each is followed by an OPTIMIZE.
    expect(versions).toEqual(committed.slice(1).map((x) => (x.sink.tableVersion as number) + 1));
    expect(files).toBe(1);
    expect(p.warnings.filter((w) => COMPACTION_FAILED.test(w.message))).toEqual([]);
  });

  const rows: MatrixRow[] = [
    {
      name: 'crash after a compacted data file is durable: the file stays unreferenced, the batch is already committed',
      crash: () => ({ point: 'compaction-data-file', batchId: 1 }),
      batch: 1,
      expect: { isReplay: true, outcome: 'already-committed' },
      orphan: 'crashed-put',
    },
    {
      name: 'crash before the OPTIMIZE commit: the batch is already committed, the next commit compacts',
      crash: () => ({ point: 'before-compaction-commit', batchId: 2 }),
      batch: 2,
      expect: { isReplay: true, outcome: 'already-committed' },
    },
    {
      name: 'crash after a durable but unacknowledged OPTIMIZE commit: the batch is already committed, no row twice',
      crash: () => ({ point: 'after-compaction-commit', batchId: 1 }),
      batch: 1,
      expect: { isReplay: true, outcome: 'already-committed' },
    },
  ];
  it.each(rows)('$name', async (row) => {
    const p1 = await runRow('dedup', row, 'memory', COMPACT);
    // The crash hit the compaction (a warning, not the batch's failure), after the batch's commit.
    expect(p1.warnings.filter((w) => COMPACTION_FAILED.test(w.message))).toHaveLength(1);
    const { versions } = await compactions(p1.durable);
    expect(versions.length).toBeGreaterThan(0);
  });
});

describe('auto compaction under update mode (MERGE over compacted files)', () => {
  it('runs to the oracle result', async () => {
    const durable = freshDurable();
    const events = matrixEvents('update');
    const p = durable.newProcess();
    await (
      await p.start({
        source: generatorOf(events),
        pipeline: pipelineOf('update'),
        trigger: Trigger.availableNow(),
        ...COMPACT,
      })
    ).awaitTermination();
    await expectExactlyOnce(durable, 'update', events);
    expect((await compactions(durable)).versions.length).toBeGreaterThan(0);
  });
});

describe('crash matrix (h): two runners on one checkpoint', () => {
  const kind = 'dedup';

  it('a second runner on a live checkpoint is refused with CHECKPOINT_LOCKED and writes nothing', async () => {
    const durable = freshDurable();
    const events = matrixEvents(kind);
    const p1 = durable.newProcess();
    const q1 = await p1.start({
      source: generatorOf(events),
      pipeline: pipelineOf(kind),
      trigger: Trigger.processingTime(0),
    });
    await q1.processAllAvailable();
    const before = {
      table: await listKeys(durable.table),
      checkpoint: (await listKeys(durable.checkpoint)).filter((k) => !k.startsWith('lease/')),
    };

    const p2 = durable.newProcess();
    await expect(
      p2.start({ source: generatorOf(events), pipeline: pipelineOf(kind), trigger: Trigger.availableNow() }),
    ).rejects.toMatchObject({ code: 'CHECKPOINT_LOCKED' });
    expect(p2.progress).toEqual([]);
    expect(await listKeys(durable.table)).toEqual(before.table);
    expect((await listKeys(durable.checkpoint)).filter((k) => !k.startsWith('lease/'))).toEqual(before.checkpoint);
    expect(q1.isActive).toBe(true);

    await q1.stop();
    expect(q1.exception).toBeNull();
    // Released on stop: the next runner starts at once and finds nothing left to do.
    const p3 = durable.newProcess();
    const q3 = await p3.start({
      source: generatorOf(events),
      pipeline: pipelineOf(kind),
      trigger: Trigger.availableNow(),
    });
    await q3.awaitTermination();
    expect(p3.progress).toEqual([]);
    await expectExactlyOnce(durable, kind, events);
  });

  it('a stalled runner whose lease was taken over is fenced before it writes anything', async () => {
    const durable = freshDurable();
    const events = matrixEvents(kind);
    const pipeline = pipelineOf(kind);
    // Batches 0 and 1, then the runner stalls before planning batch 2 (no heartbeats while stalled):
    // at its third look for new offsets (which a pipelined runner takes while batch 1 still commits).
    const stalled = new StallableSource(generatorOf(events), 3);
    const p1 = durable.newProcess();
    const q1 = await p1.start({ source: stalled, pipeline, trigger: Trigger.processingTime(0) });
    const twoBatches = new Promise<void>((resolve) => {
      let batches = 0;
      q1.progress$.subscribe({
        next: () => {
          if (++batches === 2) resolve();
        },
        error: () => {},
      });
    });
    await Promise.all([stalled.waiting, twoBatches]);
    expect(p1.progress.map((p) => p.batchId)).toEqual([0, 1]);

    // The lease expires; a second runner takes over and finishes the input.
    durable.clock.advance(durable.leaseTimeoutMs + 1);
    const p2 = durable.newProcess();
    const q2 = await p2.start({ source: generatorOf(events), pipeline, trigger: Trigger.availableNow() });
    await q2.awaitTermination();
    expect(p2.progress[0]).toMatchObject({ batchId: 2, isReplay: false });
    const tableKeys = await listKeys(durable.table);

    // The stalled runner wakes up: its next write-ahead step finds the newer lease and stops.
    stalled.resume();
    await expect(q1.awaitTermination()).rejects.toMatchObject({ code: 'CHECKPOINT_LOCKED' });
    expect(p1.progress.map((p) => p.batchId)).toEqual([0, 1]);
    expect(await listKeys(durable.table)).toEqual(tableKeys);
    await expectExactlyOnce(durable, kind, events);
  });
});
