// MicroBatchExecution: the loop that plans, runs and commits micro-batches with the write-ahead
// protocol of streaming-semantics.md §6.1:
//   1. plan batch N (source offsets, watermark, processing time) → offsets/N (CheckpointLog.planBatch)
//   2. read the range, run the operators against state version N−1
//   3. dead letters of N (idempotent per batch)
//   4. state stores commit version N, while the sink prepares N (data files written, nothing visible)
//   5. sink.commit (txn = queryId, N): the one atomic table commit
//   6. commits/N with the watermark for N+1 (CheckpointLog.markCommitted), then source.commit
// State is versioned, so committing it before the table (as Spark's tasks do, and as §6.1 step 3
// says) is safe: a restart re-runs a planned but uncommitted batch with the identical plan (Spark's
// rule) against state N−1, replacing any version N it finds; the sink recognises a batch it already
// has and skips it. Overlapping the state commit (LevelDB I/O) with the sink's file encoding and
// upload takes it off the critical path.

import { randomUUID } from 'node:crypto';
import { LakestreamError } from '../common/errors.js';
import type { StructType } from '../sinks/schema.js';
import type { ObjectStore } from '../storage/object-store.js';
import type { BatchPlan, CheckpointLog, PartitionRange } from './checkpoint-log.js';
import type { Clock } from './clock.js';
import { combineGroups, rowsOf } from './column-rows.js';
import type { DeadLetterRecord, DeadLetterSink } from './dead-letters.js';
import { CheckpointStateError, SourceError } from './errors.js';
import type { BatchContext, OperatorMetrics, OperatorSpec } from './operator.js';
import { type PlannedPipeline, planColumnar, planPipeline } from './plan.js';
import type { StateOperatorProgress, StreamingQueryListener, StreamingQueryProgress } from './progress.js';
import type { Sink, SinkCommitOutcome } from './sink.js';
import type { PartitionOffsets, Source } from './source.js';
import type { StateStore, StateStoreProvider } from './state-store.js';
import type { Trigger } from './trigger.js';
import type { ColumnRowsView, EncodedFile, OutputMode, Row, RowGroup } from './types.js';

/** The source id in offsets/N (one source per query). */
const SOURCE_ID = '0';
/** How often an idle back-to-back query polls its source. */
const IDLE_POLL_MS = 100;

export interface EngineOptions {
  name: string | null;
  source: Source;
  /** The source's private checkpoint area (sources/0/). */
  sourceMetadata: ObjectStore;
  /** The operators as written; planned in start(), once the source (and its schema) is open. */
  specs: readonly OperatorSpec[];
  /** The schema of the source's rows given by the user (else the source's own, if it knows it). */
  schema: StructType | undefined;
  /** Called with the planned pipeline to obtain the state store (the default depends on it). */
  stateStore: (pipeline: PlannedPipeline) => StateStoreProvider;
  sink: Sink;
  deadLetters: DeadLetterSink;
  checkpoint: CheckpointLog;
  trigger: Trigger;
  outputMode: OutputMode;
  clock: Clock;
  listener: StreamingQueryListener;
  /** Retries of a batch that failed with a retryable fault (the same plan is re-run). Default 3. */
  maxBatchRetries: number;
  /** Base delay between batch retries (ms, doubled each time). */
  retryDelayMs: number;
  /** Lease renewal interval while idle (planBatch and markCommitted also fence). */
  heartbeatIntervalMs: number;
  /** State-affecting confs frozen in offsets/N. */
  conf: Readonly<Record<string, string>>;
  warn: (message: string, context?: Record<string, unknown>) => void;
  /** Whether operators may hand the sink typed columns (planColumnar) when the sink takes them. */
  columnar?: boolean;
}

/** What a finished batch tells the loop. */
interface BatchResult {
  nextWatermarkMs: number;
  progress: StreamingQueryProgress;
}

/** Where the loop stands: the next batch id and what it starts from. */
interface Cursor {
  batchId: number;
  /** The end offsets of the last batch (or the initial offsets). */
  start: PartitionOffsets;
  /** The watermark the next batch runs with. */
  watermarkMs: number;
  /** The watermark the last batch ran with. */
  lastBatchWatermarkMs: number;
  /** Whether a batch ran in this run of the loop (Trigger.once runs one). */
  ranOnce: boolean;
}

/** What a trigger does: run `plan` (ending at `end`), or nothing when there is no plan. */
interface Step {
  triggerAt: number;
  end: PartitionOffsets;
  latestOffsetMs: number;
  plan: BatchPlan | undefined;
}

/** A batch read and run, not yet durable in any part. */
interface ComputedBatch {
  numInputRows: number;
  rows: Row[];
  files: EncodedFile[];
  columns: ColumnRowsView[];
  letters: DeadLetterRecord[];
  /** The stateful operators' stores, uncommitted. */
  stores: Map<string, StateStore>;
  opMetrics: Map<string, OperatorMetrics>;
  nextWatermarkMs: number;
  durationMs: { getBatch: number; addBatch: number };
  /** Drops the batch: aborts its stores. */
  abort(): void;
}

/** The next batch worked out ahead (startPrefetch). */
interface Prefetched {
  step: Step;
  computed: ComputedBatch | undefined;
}

/** The cursor after batch `plan` ran to `end` and proposed `nextWatermarkMs`. */
function advance(plan: BatchPlan, end: PartitionOffsets, nextWatermarkMs: number): Cursor {
  return {
    batchId: plan.batchId + 1,
    start: end,
    watermarkMs: nextWatermarkMs,
    lastBatchWatermarkMs: plan.watermarkMs,
    ranOnce: true,
  };
}

function ends(plan: BatchPlan): PartitionOffsets {
  const ranges = plan.sources[SOURCE_ID] ?? {};
  const out: Record<string, string> = {};
  for (const [partition, range] of Object.entries(ranges)) out[partition] = range.end;
  return out;
}

function sameOffsets(a: PartitionOffsets, b: PartitionOffsets): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const key of keys) if (a[key] !== b[key]) return false;
  return true;
}

function newMetrics(): OperatorMetrics {
  return { numRowsDroppedByWatermark: 0, numDeadLetters: 0, custom: {} };
}

function sameRecord(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): string[] {
  const changed: string[] = [];
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (a[key] !== b[key])
      changed.push(`'${key}': ${JSON.stringify(a[key] ?? null)} → ${JSON.stringify(b[key] ?? null)}`);
  }
  return changed;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function rate(rows: number, ms: number): number {
  return ms > 0 ? Math.round((rows * 1000 * 100) / ms) / 100 : 0;
}

export class MicroBatchExecution {
  readonly runId = randomUUID();
  queryId = '';
  private stopping = false;
  private readonly wake = new AbortController();
  private lastProgressAt: number | undefined;
  private lastHeartbeat = Number.NEGATIVE_INFINITY;
  /** Resolvers of processAllAvailable(), settled when a trigger finds no new data. */
  private idleWaiters: (() => void)[] = [];

  private planned: PlannedPipeline | undefined;
  private stateStore: StateStoreProvider | undefined;
  /** Bounded triggers: the offsets available at start (the run ends there). */
  private limit: PartitionOffsets | undefined;
  /** The next batch being worked out while the current one finishes (startPrefetch). */
  private prefetch: Promise<Prefetched> | undefined;

  constructor(private readonly o: EngineOptions) {}

  private get pipeline(): PlannedPipeline {
    if (!this.planned) throw new Error('the query is not started');
    return this.planned;
  }

  /** Asks the loop to stop after the batch in flight. */
  requestStop(): void {
    this.stopping = true;
    this.wake.abort();
  }

  get isStopping(): boolean {
    return this.stopping;
  }

  /** Resolves once the loop has found no new data (everything available processed). */
  whenIdle(): Promise<void> {
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Opens the checkpoint (taking its lease), the source, the sink. Throws before anything runs. */
  async start(): Promise<void> {
    const o = this.o;
    const meta = await o.checkpoint.open();
    this.queryId = meta.queryId;
    const now = () => o.clock.now();
    await o.source.open({ queryId: meta.queryId, metadata: o.sourceMetadata, now, warn: o.warn });
    this.planned = planPipeline(o.specs, o.outputMode, o.schema ?? o.source.schema);
    this.stateStore = o.stateStore(this.planned);
    const sinkMode: OutputMode =
      o.outputMode === 'update' && this.pipeline.keyColumns.length === 0 ? 'append' : o.outputMode;
    await o.sink.open({
      queryId: meta.queryId,
      outputMode: sinkMode,
      keyColumns: this.pipeline.keyColumns,
      schema: this.pipeline.schema,
      now,
      warn: o.warn,
    });
    await o.deadLetters.open({ queryId: meta.queryId });
    const schema = this.pipeline.schema;
    if (o.columnar && schema !== undefined && o.sink.acceptsColumns?.(schema)) {
      this.planned = planColumnar(this.pipeline);
    }
  }

  /** Runs until the trigger says stop, stop() is called, or a batch fails for good. */
  async run(): Promise<void> {
    const o = this.o;
    const recovery = await o.checkpoint.recover();
    for (const notice of recovery.notices) o.warn(`checkpoint recovery: ${notice.kind}`, { ...notice });
    let cursor: Cursor;
    if (recovery.kind === 'fresh') {
      cursor = {
        batchId: 0,
        start: await o.source.initialOffsets(),
        watermarkMs: 0,
        lastBatchWatermarkMs: 0,
        ranOnce: false,
      };
    } else if (recovery.kind === 'resume') {
      this.checkUnchanged(recovery.lastPlan);
      cursor = {
        batchId: recovery.nextBatchId,
        start: ends(recovery.lastPlan),
        watermarkMs: recovery.lastCommit.nextBatchWatermarkMs,
        lastBatchWatermarkMs: recovery.lastPlan.watermarkMs,
        ranOnce: false,
      };
    } else {
      this.checkUnchanged(recovery.plan);
      const result = await this.runWithRetries(recovery.plan, true);
      cursor = {
        batchId: recovery.batchId + 1,
        start: ends(recovery.plan),
        watermarkMs: result.nextWatermarkMs,
        lastBatchWatermarkMs: recovery.plan.watermarkMs,
        ranOnce: false,
      };
    }

    const trigger = o.trigger;
    const bounded = trigger.kind !== 'processingTime';
    this.limit = bounded ? await o.source.availableNow() : undefined;
    try {
      while (!this.stopping) {
        const prefetched = await this.takePrefetch();
        const triggerAt = o.clock.now();
        if (triggerAt - this.lastHeartbeat >= o.heartbeatIntervalMs) {
          try {
            await o.checkpoint.heartbeat();
          } catch (error) {
            prefetched?.computed?.abort();
            throw error;
          }
          this.lastHeartbeat = triggerAt;
        }
        const step = prefetched?.step ?? (await this.nextStep(cursor, triggerAt));
        if (step.plan !== undefined) {
          const plan = step.plan;
          const result = await this.runWithRetries(plan, false, step.latestOffsetMs, prefetched?.computed, true);
          cursor = advance(plan, step.end, result.nextWatermarkMs);
        } else {
          this.notifyIdle();
          if (bounded) break;
          o.listener.onQueryIdle?.({ id: this.queryId, runId: this.runId, timestamp: iso(o.clock.now()) });
        }
        if (trigger.kind === 'processingTime' && !this.stopping && this.prefetch === undefined) {
          const wait =
            step.plan !== undefined
              ? step.triggerAt + trigger.intervalMs - o.clock.now()
              : Math.max(trigger.intervalMs, IDLE_POLL_MS);
          if (wait > 0) await o.clock.sleep(wait, this.wake.signal);
        }
      }
    } finally {
      await this.discardPrefetch();
    }
    this.notifyIdle();
  }

  /**
   * What the trigger fired at `triggerAt` does from `cursor`: the plan of the next batch (when the
   * source has new data, or the watermark moved and an operator acts on that), or nothing.
   */
  private async nextStep(cursor: Cursor, triggerAt: number): Promise<Step> {
    const o = this.o;
    const { start } = cursor;
    const t0 = o.clock.now();
    const end =
      o.trigger.kind === 'once'
        ? cursor.ranOnce
          ? start
          : { ...start, ...this.limit }
        : await o.source.nextOffsets(start, this.limit);
    const latestOffsetMs = o.clock.now() - t0;
    const hasData = !sameOffsets(start, end);
    const watermarkMoved =
      cursor.watermarkMs > cursor.lastBatchWatermarkMs &&
      this.pipeline.operators.some((op) => op.runsOnWatermarkAdvance);
    if (!hasData && !watermarkMoved) return { triggerAt, end, latestOffsetMs, plan: undefined };
    const ranges: Record<string, PartitionRange> = {};
    // A partition that appeared since the last batch starts at its initial offset.
    const added = Object.keys(end).filter((p) => start[p] === undefined);
    const initial = added.length > 0 ? await o.source.initialOffsets() : {};
    for (const [partition, to] of Object.entries(end)) {
      const from = start[partition] ?? initial[partition];
      if (from === undefined) {
        throw new SourceError(
          'SOURCE_OFFSET_INVALID',
          `${o.source.description} returned new partition '${partition}' without an initial offset for it`,
          { context: { partition } },
        );
      }
      ranges[partition] = { start: from, end: to };
    }
    const plan: BatchPlan = {
      batchId: cursor.batchId,
      sources: { [SOURCE_ID]: ranges },
      watermarkMs: cursor.watermarkMs,
      batchTimestampMs: triggerAt,
      conf: o.conf,
      fingerprint: this.pipeline.fingerprint,
    };
    return { triggerAt, end, latestOffsetMs, plan };
  }

  /**
   * Called once batch `plan`'s operators ran (its state commit, files and table commit still to come):
   * starts working out the next batch — its plan, its source read and its operators — so that it
   * overlaps this batch's state commit, file encoding and table commit. Its stateful operators run
   * once `stateReady` (this batch's state commit) resolves, against the state just committed; if it
   * rejects, the work is dropped. Nothing of it is durable: its offsets/N+1 are written only when it
   * runs (after commits/N), and its state stores stay uncommitted until then. Only when the next
   * trigger is due at once (availableNow, or a processing-time trigger already overdue) and the query
   * is not stopping.
   */
  private startPrefetch(
    plan: BatchPlan,
    end: PartitionOffsets,
    nextWatermarkMs: number,
    stateReady: Promise<void>,
  ): void {
    const o = this.o;
    if (this.stopping || this.prefetch !== undefined || o.trigger.kind === 'once') return;
    const now = o.clock.now();
    if (o.trigger.kind === 'processingTime' && now < plan.batchTimestampMs + o.trigger.intervalMs) return;
    const next = advance(plan, end, nextWatermarkMs);
    const work = (async (): Promise<Prefetched> => {
      const step = await this.nextStep(next, now);
      if (step.plan === undefined) return { step, computed: undefined };
      return { step, computed: await this.compute(step.plan, stateReady) };
    })();
    work.catch(() => {}); // taken (or discarded) by the loop
    this.prefetch = work;
  }

  /** The prefetched next batch when it was worked out without a fault; undefined otherwise (discarded). */
  private async takePrefetch(): Promise<Prefetched | undefined> {
    const work = this.prefetch;
    this.prefetch = undefined;
    if (work === undefined) return undefined;
    try {
      const prefetched = await work;
      if (this.stopping) {
        prefetched.computed?.abort();
        return undefined;
      }
      return prefetched;
    } catch {
      return undefined; // the batch is worked out again, with its own retries
    }
  }

  /** Waits for a prefetch in flight and drops it (its state stores aborted). */
  private async discardPrefetch(): Promise<void> {
    const work = this.prefetch;
    this.prefetch = undefined;
    if (work === undefined) return;
    try {
      (await work).computed?.abort();
    } catch {
      // nothing of it was kept
    }
  }

  private notifyIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** A restart must use the confs and stateful operators the checkpoint was written with. */
  private checkUnchanged(plan: BatchPlan): void {
    const confChanges = sameRecord(plan.conf, this.o.conf);
    const fpChanges = sameRecord(plan.fingerprint, this.pipeline.fingerprint);
    if (confChanges.length + fpChanges.length > 0) {
      throw new CheckpointStateError(
        'CHECKPOINT_CONF_CHANGED',
        `the query differs from the one that wrote this checkpoint: ${[...confChanges, ...fpChanges].join('; ')}. ` +
          'Restore the previous operators/options or start from a new checkpoint location.',
        { changes: [...confChanges, ...fpChanges] },
      );
    }
  }

  private async runWithRetries(
    plan: BatchPlan,
    isReplay: boolean,
    latestOffsetMs = 0,
    precomputed?: ComputedBatch,
    pipelined = false,
  ): Promise<BatchResult> {
    for (let attempt = 0; ; attempt++) {
      try {
        const result = await this.runBatch(plan, isReplay || attempt > 0, latestOffsetMs, precomputed, pipelined);
        this.o.listener.onQueryProgress?.(result.progress);
        return result;
      } catch (error) {
        precomputed = undefined;
        // A prefetched next batch read state this batch no longer stands on.
        await this.discardPrefetch();
        const retryable = error instanceof LakestreamError && error.retryable;
        if (!retryable || attempt >= this.o.maxBatchRetries || this.stopping) throw error;
        this.o.warn(`batch ${plan.batchId} failed (attempt ${attempt + 1}), retrying`, {
          code: (error as LakestreamError).code,
          message: (error as Error).message,
        });
        await this.o.clock.sleep(this.o.retryDelayMs * 2 ** attempt, new AbortController().signal);
      }
    }
  }

  /**
   * Reads the batch's ranges and runs the operators against state version N−1 (stores opened, changes
   * uncommitted): everything of batch N that is not durable. `abort()` drops it.
   */
  private async compute(plan: BatchPlan, stateReady?: Promise<void>): Promise<ComputedBatch> {
    const o = this.o;
    const clock = o.clock;
    const started = clock.now();
    const ranges = plan.sources[SOURCE_ID] ?? {};
    const groups: RowGroup[] = await o.source.read(ranges);
    let numInputRows = 0;
    for (const g of groups) numInputRows += g.rows.length;
    const readAt = clock.now();
    const stores = new Map<string, StateStore>();
    const abort = () => {
      for (const store of stores.values()) store.abort();
    };
    try {
      const letters: DeadLetterRecord[] = [];
      const opMetrics = new Map<string, OperatorMetrics>();
      const proposals: number[] = [];
      // The stores are opened before the first stateful operator runs: a batch worked out ahead runs
      // the operators before it (parseJson, …) while the previous batch's state is still committing.
      const openStores = async () => {
        if (stateReady !== undefined) await stateReady;
        for (const op of this.pipeline.stateful) {
          stores.set(op.id, await this.stateStore!.open(op.id, plan.batchId - 1, op.state!));
        }
      };
      let opened = false;
      let current = groups;
      for (const op of this.pipeline.operators) {
        if (!opened && op.state !== undefined) {
          await openStores();
          opened = true;
        }
        const metrics = newMetrics();
        opMetrics.set(op.id, metrics);
        const ctx: BatchContext = {
          batchId: plan.batchId,
          batchTimestampMs: plan.batchTimestampMs,
          watermarkMs: plan.watermarkMs,
          state: stores.get(op.id),
          metrics,
          deadLetter: (letter) => {
            metrics.numDeadLetters++;
            letters.push({
              ...letter,
              operator: letter.operator ?? op.id,
              batchId: plan.batchId,
              queryId: this.queryId,
            });
          },
          proposeWatermark: (ms) => {
            if (Number.isFinite(ms)) proposals.push(ms);
          },
        };
        current = await op.process(current, ctx);
      }
      if (!opened) await openStores();
      const rows: Row[] = [];
      const files: EncodedFile[] = [];
      // Rows in columns go to the sink in one batch with the other groups' rows, in group order (as
      // the row path orders them); rows when that cannot be (combineGroups) or the sink takes no columns.
      const combined = o.sink.acceptsColumns !== undefined ? combineGroups(current) : undefined;
      const columns: ColumnRowsView[] = combined !== undefined ? [combined] : [];
      for (const g of current) {
        if (g.files) for (const file of g.files) files.push(file);
        if (combined !== undefined) continue;
        if (g.columns !== undefined) for (const row of rowsOf(g.columns)) rows.push(row);
        for (const row of g.rows) rows.push(row);
      }
      for (const file of files) {
        if (!o.sink.acceptsEncodedFiles?.(file.format)) {
          throw new LakestreamError(
            `the operators produced '${file.format}' data files, which ${o.sink.description} does not take`,
            { code: 'UNSUPPORTED_OPERATION', retryable: false, context: { format: file.format } },
          );
        }
      }
      const nextWatermarkMs =
        proposals.length > 0 ? Math.max(plan.watermarkMs, Math.min(...proposals)) : plan.watermarkMs;
      const done = clock.now();
      return {
        numInputRows,
        rows,
        files,
        columns,
        letters,
        stores,
        opMetrics,
        nextWatermarkMs,
        durationMs: { getBatch: readAt - started, addBatch: done - readAt },
        abort,
      };
    } catch (error) {
      abort();
      throw error;
    }
  }

  private async runBatch(
    plan: BatchPlan,
    isReplay: boolean,
    latestOffsetMs: number,
    precomputed: ComputedBatch | undefined,
    /** Whether the next batch may be worked out while this one finishes (startPrefetch). */
    pipelined: boolean,
  ): Promise<BatchResult> {
    const o = this.o;
    const clock = o.clock;
    const durationMs: Record<string, number> = { latestOffset: latestOffsetMs };
    const started = clock.now();
    let mark = started;
    const phase = (name: string): void => {
      const now = clock.now();
      durationMs[name] = (durationMs[name] ?? 0) + (now - mark);
      mark = now;
    };
    // Write-ahead: offsets/N before anything else. A replay finds its identical plan ('exists'); the
    // call still fences (the lease is verified).
    try {
      await o.checkpoint.planBatch(plan);
    } catch (error) {
      precomputed?.abort();
      throw error;
    }
    phase('walCommit');

    const ranges = plan.sources[SOURCE_ID] ?? {};
    const computed = precomputed ?? (await this.compute(plan));
    // A prefetched batch was read and run before its offsets were written: its own times.
    durationMs.getBatch = computed.durationMs.getBatch;
    durationMs.addBatch = computed.durationMs.addBatch;
    mark = clock.now();
    const { numInputRows, rows, files, columns, letters, stores, opMetrics, nextWatermarkMs } = computed;
    let prepared: Awaited<ReturnType<Sink['prepare']>> | undefined;
    try {
      await o.deadLetters.write(plan.batchId, letters, ranges);
      phase('deadLetters');
      // State commit and sink prepare run concurrently; both must succeed before the table commit.
      // Phases: stateCommit is the time until the state was durable, sinkPrepare until the files were.
      const stateProgress: StateOperatorProgress[] = [];
      const parallelStart = clock.now();
      let stateDoneAt = parallelStart;
      const stateCommit = (async () => {
        for (const op of this.pipeline.stateful) {
          const store = stores.get(op.id)!;
          await store.commit(plan.batchId);
          const m = store.metrics();
          const metrics = opMetrics.get(op.id)!;
          const rows = metrics.stateRows;
          stateProgress.push({
            operatorName: op.id,
            numRowsTotal: rows?.total ?? m.numRowsTotal,
            numRowsUpdated: rows?.updated ?? m.numRowsUpdated,
            numRowsRemoved: rows?.removed ?? m.numRowsRemoved,
            numRowsDroppedByWatermark: metrics.numRowsDroppedByWatermark,
            commitTimeMs: m.commitTimeMs,
            customMetrics: { ...metrics.custom },
          });
        }
        stateDoneAt = clock.now();
      })();
      // The next batch is worked out meanwhile; its stateful operators wait for this state (startPrefetch).
      if (pipelined) this.startPrefetch(plan, ends(plan), nextWatermarkMs, stateCommit);
      const [stateResult, prepareResult] = await Promise.allSettled([
        stateCommit,
        (async () =>
          o.sink.prepare({
            batchId: plan.batchId,
            rows,
            sourceRanges: ranges,
            ...(files.length > 0 ? { files } : {}),
            ...(columns.length > 0 ? { columns } : {}),
          }))(),
      ]);
      if (prepareResult.status === 'fulfilled') prepared = prepareResult.value;
      if (stateResult.status === 'rejected') throw stateResult.reason;
      if (prepareResult.status === 'rejected') throw prepareResult.reason;
      const parallelEnd = clock.now();
      durationMs.stateCommit = stateDoneAt - parallelStart;
      durationMs.sinkPrepare = parallelEnd - parallelStart;
      mark = parallelEnd;
      const outcome: SinkCommitOutcome = await o.sink.commit(prepared!);
      prepared = undefined;
      phase('sinkCommit');
      stores.clear();

      await o.checkpoint.markCommitted({ batchId: plan.batchId, nextBatchWatermarkMs: nextWatermarkMs });
      const end: Record<string, string> = {};
      const startOffsets: Record<string, string> = {};
      for (const [p, r] of Object.entries(ranges)) {
        end[p] = r.end;
        startOffsets[p] = r.start;
      }
      await o.source.commit(end);
      phase('commitOffsets');

      // A prefetched batch's read and operators ran before `started`.
      const ahead = precomputed !== undefined ? durationMs.getBatch + durationMs.addBatch : 0;
      const total = clock.now() - started + latestOffsetMs + ahead;
      durationMs.triggerExecution = total;
      const sinceLast = this.lastProgressAt === undefined ? total : plan.batchTimestampMs - this.lastProgressAt;
      this.lastProgressAt = plan.batchTimestampMs;
      let dropped = 0;
      for (const m of opMetrics.values()) dropped += m.numRowsDroppedByWatermark;
      const sourceMetrics = o.source.metrics?.() ?? {};
      const progress: StreamingQueryProgress = {
        id: this.queryId,
        runId: this.runId,
        name: o.name,
        timestamp: iso(plan.batchTimestampMs),
        batchId: plan.batchId,
        isReplay,
        numInputRows,
        inputRowsPerSecond: rate(numInputRows, sinceLast),
        processedRowsPerSecond: rate(numInputRows, total),
        durationMs,
        eventTime: { watermark: iso(plan.watermarkMs) },
        stateOperators: stateProgress,
        sources: [
          {
            description: o.source.description,
            startOffset: startOffsets,
            endOffset: end,
            latestOffset: sourceMetrics.latestOffset ?? null,
            numInputRows,
            inputRowsPerSecond: rate(numInputRows, sinceLast),
            processedRowsPerSecond: rate(numInputRows, total),
            metrics: sourceMetrics,
          },
        ],
        sink: {
          description: o.sink.description,
          numOutputRows: outcome.kind === 'committed' ? outcome.numRows : 0,
          outcome: outcome.kind,
          tableVersion: outcome.kind === 'skipped' ? null : (outcome.version ?? null),
        },
        numDeadLetters: letters.length,
      };
      if (dropped > 0) progress.eventTime.numRowsDroppedByWatermark = String(dropped);
      return { nextWatermarkMs, progress };
    } catch (error) {
      computed.abort();
      if (prepared) await o.sink.abort(prepared).catch(() => {});
      throw error;
    }
  }

  /** Closes everything (also after a failure); the first close error is reported through warn. */
  async close(): Promise<void> {
    const o = this.o;
    for (const close of [
      () => o.source.close(),
      () => o.sink.close(),
      () => o.deadLetters.close(),
      () => this.stateStore?.close(),
      () => o.checkpoint.close(),
    ]) {
      try {
        await close();
      } catch (error) {
        o.warn('closing the query failed', { message: (error as Error).message });
      }
    }
  }
}
