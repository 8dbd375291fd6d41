// Shared helpers of the crash-recovery tests (crash-matrix.test.ts, exactly-once.property.test.ts):
// - the pipelines under test (parseJson → withWatermark → dropDuplicatesWithinWatermark in append
//   mode; a windowed count/sum in update or complete mode) writing a real Delta table;
// - a "process": fresh source, DeltaSink, state provider and query over the same durable stores
//   (table, checkpoint, MemoryStateSpace), each store wrapped in its own FaultyObjectStore and the
//   state provider in a FaultyStateStoreProvider. A crash anywhere kills the whole process (every
//   later call of any of its parts throws INJECTED_CRASH, so nothing — not even the lease release —
//   happens after it, like kill -9); the next process takes the expired lease over;
// - an independent oracle: the exactly-once result computed from the input alone;
// - readers of the Delta log (txn entries of the query per table version) and of the checkpoint.

import { LakestreamError } from '../../common/errors.js';
import type { Action } from '../../sinks/delta/actions.js';
import { parseCommitFile } from '../../sinks/delta/log-codec.js';
import { DeltaSink, type DeltaSinkOptions } from '../../sinks/delta/stream-sink.js';
import { DeltaTable } from '../../sinks/delta/table.js';
import type { StructType } from '../../sinks/schema.js';
import { decodeCheckpointFile, encodeCheckpointFile } from '../../state/checkpoint/file-format.js';
import { LevelDbStateStoreProvider } from '../../state/leveldb-store.js';
import { MemoryStateSpace, MemoryStateStoreProvider } from '../../state/memory-store.js';
import { StorageError } from '../../storage/errors.js';
import { FaultyObjectStore, type RecordedCall } from '../../storage/faulty.js';
import type { ByteRange, ListOptions, ObjectMeta, ObjectStore } from '../../storage/object-store.js';
import type { BatchPlan } from '../../stream/checkpoint-log.js';
import { ManualClock } from '../../stream/clock.js';
import type { OperatorSpec } from '../../stream/operator.js';
import {
  aggregate,
  count,
  dropDuplicatesWithinWatermark,
  parseJson,
  sum,
  window,
  withWatermark,
} from '../../stream/operators/index.js';
import type { StreamingQueryProgress } from '../../stream/progress.js';
import type { StreamingQuery } from '../../stream/query.js';
import type { Source } from '../../stream/source.js';
import type { Trigger } from '../../stream/trigger.js';
import type { OutputMode, Row } from '../../stream/types.js';
import { readStream } from '../../stream/write-stream.js';
import { FaultyStateStoreProvider } from '../kit/faulty-state.js';

// ---------------------------------------------------------------------------------------------
// Input

/** Processing-time start of every test (also far below every event time). */
export const T0 = Date.parse('2024-05-01T00:00:00Z');
/** Normal events have event times at or after BASE; far-late ones far below it. */
export const BASE = T0 + 24 * 3_600_000;

/** One input event; `ts` in ms since the epoch. */
export interface Event {
  id: string;
  user: string;
  n: number;
  ts: number;
}

export const EVENT_SCHEMA: StructType = {
  type: 'struct',
  fields: [
    { name: 'id', type: 'string', nullable: true, metadata: {} },
    { name: 'user', type: 'string', nullable: true, metadata: {} },
    { name: 'n', type: 'long', nullable: true, metadata: {} },
    { name: 'ts', type: 'timestamp', nullable: true, metadata: {} },
  ],
};

/** The source row of an event: JSON text in `value`, as Kafka or a file would give it. */
export function eventRow(e: Event): Row {
  return { value: JSON.stringify({ id: e.id, user: e.user, n: e.n, ts: new Date(e.ts).toISOString() }) };
}

// ---------------------------------------------------------------------------------------------
// Pipelines

export type PipelineKind = 'dedup' | 'update' | 'complete';

export interface PipelineConfig {
  kind: PipelineKind;
  /** Watermark delay (ms). */
  delayMs: number;
  /** Tumbling window size of the aggregations (ms). */
  windowMs: number;
}

/** The operators of a pipeline; stateful ones (numbered among themselves) are '0-withWatermark' and '1-<dedup|aggregate>'. */
export function pipelineOperators(cfg: PipelineConfig): OperatorSpec[] {
  const head = [parseJson(EVENT_SCHEMA), withWatermark('ts', cfg.delayMs)];
  if (cfg.kind === 'dedup') return [...head, dropDuplicatesWithinWatermark(['id'])];
  return [
    ...head,
    aggregate({ groupBy: ['user'], window: window('ts', cfg.windowMs), aggs: { events: count(), total: sum('n') } }),
  ];
}

export function outputModeOf(kind: PipelineKind): OutputMode {
  return kind === 'dedup' ? 'append' : kind;
}

/** Operator id of the pipeline's main stateful operator (after withWatermark). */
export function mainOperatorId(kind: PipelineKind): string {
  return kind === 'dedup' ? '1-dropDuplicatesWithinWatermark' : '1-aggregate';
}

export const WATERMARK_OPERATOR_ID = '0-withWatermark';

// ---------------------------------------------------------------------------------------------
// The oracle
//
// The engine's watermark for batch B is max(watermark of B−1, max event time of the rows of batches
// before B − delay) (one source partition), and 0 (no lateness) in batch 0; withWatermark drops a row
// with ts <= watermark. Which rows are late therefore depends on how the input was split into
// batches, and a crash before offsets/N lets a restart re-plan the split. The oracle only accepts
// inputs whose result does not depend on the split, and throws on any other input:
// - a row is SAFE when it is in the first batch (watermark 0) or when ts > (max ts of every earlier
//   row) − delay: no watermark it can meet is as high as its ts, whatever the split;
// - a row is LATE when it is not in the first batch and ts <= (max ts of the first batch) − delay:
//   every batch after the first runs with at least that watermark;
// - for the dedup pipeline, a row whose id was seen before is a RESEND and must be an exact copy
//   (same user, n and event time). A resend is always dropped, whatever the split: if the first
//   occurrence was kept, its key stays in the state until the watermark reaches ts + delay, and from
//   then on the resend itself is late (ts <= watermark); if the first occurrence was late, so is the
//   resend (watermarks never go back). So the dedup output is the SAFE first occurrences, and a
//   resend may come any time later ("stale" resends included).
// - the aggregations count every row (no dedup): every row must be SAFE or LATE, and the result is
//   count/sum per (user, tumbling window) over the SAFE rows. In update mode a SAFE row never falls
//   in a window the watermark closed (window end > ts > watermark), so the merged table holds every
//   window with its final value; complete mode rewrites them all.
// `firstBatchSize` is the number of rows of batch 0, which the tests keep fixed across crashes.

export type RowClass = 'safe' | 'late' | 'resend';

export interface OracleInput {
  events: readonly Event[];
  firstBatchSize: number;
  delayMs: number;
}

export class AmbiguousInputError extends Error {}

/** Classifies every row (see above); throws AmbiguousInputError when the result would depend on the split. */
export function classify(input: OracleInput, kind: PipelineKind): RowClass[] {
  const { events, firstBatchSize, delayMs } = input;
  const first = events.slice(0, firstBatchSize);
  const firstMax = first.length > 0 ? Math.max(...first.map((e) => e.ts)) : Number.NEGATIVE_INFINITY;
  const seen = new Map<string, Event>();
  let runningMax = Number.NEGATIVE_INFINITY;
  return events.map((e, i) => {
    const previous = seen.get(e.id);
    let verdict: RowClass;
    if (kind === 'dedup' && previous) {
      if (previous.user !== e.user || previous.n !== e.n || previous.ts !== e.ts) {
        throw new AmbiguousInputError(`row ${i} reuses id ${e.id} with a different payload`);
      }
      verdict = 'resend';
    } else {
      const safe = i < firstBatchSize || e.ts > runningMax - delayMs;
      const late = i >= firstBatchSize && e.ts <= firstMax - delayMs;
      if (safe === late)
        throw new AmbiguousInputError(`row ${i} (${e.id} at ${e.ts}) is neither safe nor clearly late`);
      verdict = safe ? 'safe' : 'late';
      seen.set(e.id, e);
    }
    runningMax = Math.max(runningMax, e.ts);
    return verdict;
  });
}

/** A row of the dedup pipeline's table, normalised (numbers, ts in ms). */
export interface DedupRow {
  id: string;
  user: string;
  n: number;
  ts: number;
}

/** A row of an aggregation's table, normalised. */
export interface WindowRow {
  user: string;
  start: number;
  end: number;
  events: number;
  total: number;
}

export function expectedDedupRows(input: OracleInput): DedupRow[] {
  const classes = classify(input, 'dedup');
  return sortDedup(
    input.events.filter((_, i) => classes[i] === 'safe').map((e) => ({ id: e.id, user: e.user, n: e.n, ts: e.ts })),
  );
}

export function expectedWindowRows(input: OracleInput, kind: 'update' | 'complete', windowMs: number): WindowRow[] {
  const classes = classify(input, kind);
  const groups = new Map<string, WindowRow>();
  input.events.forEach((e, i) => {
    if (classes[i] !== 'safe') return;
    const start = e.ts - (((e.ts % windowMs) + windowMs) % windowMs);
    const key = `${e.user}@${start}`;
    const group = groups.get(key) ?? { user: e.user, start, end: start + windowMs, events: 0, total: 0 };
    group.events += 1;
    group.total += e.n;
    groups.set(key, group);
  });
  return sortWindows([...groups.values()]);
}

/** The exactly-once table of a pipeline, normalised like tableRowsOf(). */
export function expectedRows(cfg: PipelineConfig, input: OracleInput): DedupRow[] | WindowRow[] {
  return cfg.kind === 'dedup' ? expectedDedupRows(input) : expectedWindowRows(input, cfg.kind, cfg.windowMs);
}

function toNumber(value: unknown): number {
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'number') return value;
  if (value instanceof Date) return value.getTime();
  throw new Error(`unexpected value ${String(value)}`);
}

/** Delta timestamps come back as µs bigints. */
function toMs(value: unknown): number {
  if (typeof value === 'bigint') return Number(value / 1000n);
  if (value instanceof Date) return value.getTime();
  throw new Error(`unexpected timestamp ${String(value)}`);
}

function sortDedup(rows: DedupRow[]): DedupRow[] {
  return rows.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

function sortWindows(rows: WindowRow[]): WindowRow[] {
  return rows.sort((a, b) => a.start - b.start || (a.user < b.user ? -1 : a.user > b.user ? 1 : 0));
}

/** Normalises the rows read from the table of a pipeline (same shape and order as expectedRows). */
export function tableRowsOf(kind: PipelineKind, rows: readonly Row[]): DedupRow[] | WindowRow[] {
  if (kind === 'dedup') {
    return sortDedup(rows.map((r) => ({ id: String(r.id), user: String(r.user), n: toNumber(r.n), ts: toMs(r.ts) })));
  }
  return sortWindows(
    rows.map((r) => {
      const w = r.window as { start: unknown; end: unknown };
      return {
        user: String(r.user),
        start: toMs(w.start),
        end: toMs(w.end),
        events: toNumber(r.events),
        total: toNumber(r.total),
      };
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// Reading the table, its log and the checkpoint

/** All rows of the table's latest snapshot. */
export async function readTableRows(store: ObjectStore): Promise<Row[]> {
  return (await DeltaTable.open(store)).scanRows();
}

/** Every commit file of the table (`_delta_log/<20 digits>.json`) with its actions, by version. */
export async function readLog(store: ObjectStore): Promise<{ version: number; actions: Action[] }[]> {
  const out: { version: number; actions: Action[] }[] = [];
  for await (const meta of store.list({ prefix: '_delta_log/' })) {
    const match = /^_delta_log\/(\d{20})\.json$/.exec(meta.key);
    if (!match) continue;
    out.push({ version: Number(match[1]), actions: parseCommitFile(await store.get(meta.key), meta.key) });
  }
  return out.sort((a, b) => a.version - b.version);
}

/** One txn action of the query: the batch it committed and the table version holding it. */
export interface TxnCommit {
  version: number;
  batchId: number;
}

/** The txn actions with appId = queryId, one entry per action, in table-version order. */
export async function txnCommits(store: ObjectStore, queryId: string): Promise<TxnCommit[]> {
  const out: TxnCommit[] = [];
  for (const commit of await readLog(store)) {
    for (const action of commit.actions) {
      if ('txn' in action && action.txn.appId === queryId)
        out.push({ version: commit.version, batchId: action.txn.version });
    }
  }
  return out;
}

/**
 * Problems with the query's txn entries: a batch committed more than once, a commit with two txns of
 * the query, or batch ids not strictly increasing with the table version. Empty when exactly-once holds.
 */
export function txnProblems(commits: readonly TxnCommit[]): string[] {
  const problems: string[] = [];
  const batches = new Map<number, number[]>();
  const versions = new Map<number, number>();
  for (const c of commits) {
    batches.set(c.batchId, [...(batches.get(c.batchId) ?? []), c.version]);
    versions.set(c.version, (versions.get(c.version) ?? 0) + 1);
  }
  for (const [batchId, at] of batches) {
    if (at.length > 1) problems.push(`batch ${batchId} committed ${at.length} times (versions ${at.join(', ')})`);
  }
  for (const [version, n] of versions) if (n > 1) problems.push(`version ${version} has ${n} txns of the query`);
  for (let i = 1; i < commits.length; i++) {
    if (commits[i]!.batchId <= commits[i - 1]!.batchId) {
      problems.push(`batch ${commits[i]!.batchId} (v${commits[i]!.version}) after batch ${commits[i - 1]!.batchId}`);
    }
  }
  return problems;
}

/** The query id stored in the checkpoint metadata. */
export async function checkpointQueryId(checkpoint: ObjectStore): Promise<string> {
  const decoded = decodeCheckpointFile(await checkpoint.get('metadata'), 'metadata');
  if (decoded.kind !== 'ok') throw new Error(`checkpoint metadata is unreadable: ${decoded.reason}`);
  return (decoded.value as { queryId: string }).queryId;
}

/** The end offset of partition '0' of the newest committed batch (undefined before the first commit). */
export async function committedEndOffset(checkpoint: ObjectStore): Promise<number | undefined> {
  let last: number | undefined;
  for await (const meta of checkpoint.list({ prefix: 'commits/' })) {
    const id = Number(meta.key.slice('commits/'.length));
    if (Number.isSafeInteger(id) && (last === undefined || id > last)) last = id;
  }
  if (last === undefined) return undefined;
  const decoded = decodeCheckpointFile(await checkpoint.get(`offsets/${last}`), `offsets/${last}`);
  if (decoded.kind !== 'ok') throw new Error(`offsets/${last} is unreadable: ${decoded.reason}`);
  const end = (decoded.value as BatchPlan).sources['0']?.['0']?.end;
  return end === undefined ? undefined : Number(end);
}

export async function listKeys(store: ObjectStore, prefix = ''): Promise<string[]> {
  const keys: string[] = [];
  for await (const meta of store.list({ prefix })) keys.push(meta.key);
  return keys.sort();
}

// ---------------------------------------------------------------------------------------------
// Crash points

/**
 * Where a process dies (streaming-semantics §6.2):
 * - before-offsets / torn-offsets / after-offsets: at the putIfAbsent of offsets/N (torn: a partial
 *   file is left; after: the plan is durable, nothing of the batch ran);
 * - data-file / torn-data-file: at the put of a data file (`part-….parquet`) in the table: after it
 *   (an orphan file) or before it with a truncated file left at its key;
 * - before-table-commit / after-table-commit: at the putIfAbsent of `_delta_log/<v>.json` (after:
 *   the commit is durable but never acknowledged);
 * - before-state-commit / after-state-commit: in a state store's commit (of `operator`, if given);
 * - before-commits / torn-commits / after-commits: at the putIfAbsent of commits/N;
 * - compaction-data-file / before-compaction-commit / after-compaction-commit: in the auto compaction
 *   that follows the batch's table commit (StartOptions.autoCompact), at the 2nd data-file put (after
 *   it is durable) or the 2nd log putIfAbsent of the batch: the batch's own come first. Not in
 *   CRASH_POINTS (they need auto compaction on and due in that batch).
 */
export type CrashPoint =
  | 'before-offsets'
  | 'torn-offsets'
  | 'after-offsets'
  | 'data-file'
  | 'torn-data-file'
  | 'before-table-commit'
  | 'after-table-commit'
  | 'before-state-commit'
  | 'after-state-commit'
  | 'before-commits'
  | 'torn-commits'
  | 'after-commits'
  | 'compaction-data-file'
  | 'before-compaction-commit'
  | 'after-compaction-commit';

export const CRASH_POINTS: readonly CrashPoint[] = [
  'before-offsets',
  'torn-offsets',
  'after-offsets',
  'data-file',
  'torn-data-file',
  'before-table-commit',
  'after-table-commit',
  'before-state-commit',
  'after-state-commit',
  'before-commits',
  'torn-commits',
  'after-commits',
];

/** How a torn file looks: a prefix of the real bytes, the bytes with one flipped, or nothing. */
export type TornKind = 'truncated' | 'bad-checksum' | 'empty';

export interface CrashSpec {
  point: CrashPoint;
  /**
   * Crash in batch `batchId` of the process (must be a batch it plans or replays): offsets, commits and
   * state rules match it exactly; table rules are armed once the process reported batch batchId − 1
   * (at start for 0). Without it the rule fires on the nth matching call of the whole process.
   */
  batchId?: number;
  /** The nth matching call (1-based; counted from arming). Default 1. */
  nth?: number;
  /** State crashes: the operator id (exact or pattern). Default: any stateful operator. */
  operator?: string | RegExp;
  /** Torn points: what is left. Default 'truncated'. */
  torn?: TornKind;
}

const DATA_FILE = /(^|\/)part-[^/]*\.parquet$/;
const LOG_COMMIT = /^_delta_log\/\d{20}\.json$/;

function isTorn(point: CrashPoint): boolean {
  return point === 'torn-offsets' || point === 'torn-commits' || point === 'torn-data-file';
}

/** The bytes a torn write leaves at `key`. */
function tornBytes(key: string, kind: TornKind): Uint8Array {
  let whole: Uint8Array;
  const offsets = /^offsets\/(\d+)$/.exec(key);
  const commits = /^commits\/(\d+)$/.exec(key);
  if (offsets) {
    whole = encodeCheckpointFile({
      batchId: Number(offsets[1]),
      sources: { 0: { 0: { start: '0', end: '1' } } },
      watermarkMs: 0,
      batchTimestampMs: T0,
      conf: {},
      fingerprint: {},
    });
  } else if (commits) {
    whole = encodeCheckpointFile({ batchId: Number(commits[1]), nextBatchWatermarkMs: 0 });
  } else {
    whole = new TextEncoder().encode('PAR1\u0015\u0004\u0015\u0010\u0015\u0014L\u0015\u0002\u0015\u0000torn data file');
  }
  if (kind === 'empty') return new Uint8Array(0);
  if (kind === 'bad-checksum') {
    const bytes = whole.slice();
    const at = Math.floor(bytes.length / 2);
    bytes[at] = bytes[at]! ^ 0x01;
    return bytes;
  }
  return whole.slice(0, Math.max(1, Math.floor(whole.length * 0.6)));
}

/** True when `error` (or a cause of it) is an injected crash. */
export function isInjectedCrash(error: unknown): boolean {
  for (let e = error, depth = 0; e !== undefined && e !== null && depth < 10; depth++) {
    if (e instanceof LakestreamError && e.code === 'INJECTED_CRASH') return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/** Shared "the process is dead" flag of one process's parts. */
class KillSwitch {
  dead = false;
  cause: string | undefined;
  private readonly listeners: (() => void)[] = [];
  onKill(listener: () => void): void {
    this.listeners.push(listener);
  }
  kill(cause: string): void {
    if (this.dead) return;
    this.dead = true;
    this.cause = cause;
    for (const listener of this.listeners) listener();
  }
}

/**
 * An ObjectStore of one process: calls go through the process's FaultyObjectStore; once any part of
 * the process crashed, every call throws INJECTED_CRASH. A crash here may leave a torn file behind.
 */
class ProcessStore implements ObjectStore {
  /** Set when a torn write should be left at the key of the crashed (crash-before) call. */
  tear: TornKind | undefined;

  constructor(
    readonly faulty: FaultyObjectStore,
    private readonly durable: ObjectStore,
    private readonly life: KillSwitch,
  ) {}

  get location(): string {
    return this.faulty.location;
  }

  get(key: string, range?: ByteRange): Promise<Uint8Array> {
    return this.run('get', key, () => this.faulty.get(key, range));
  }

  head(key: string): Promise<ObjectMeta> {
    return this.run('head', key, () => this.faulty.head(key));
  }

  put(key: string, data: Uint8Array): Promise<void> {
    return this.run('put', key, () => this.faulty.put(key, data));
  }

  putIfAbsent(key: string, data: Uint8Array): Promise<'created' | 'exists'> {
    return this.run('putIfAbsent', key, () => this.faulty.putIfAbsent(key, data));
  }

  delete(key: string): Promise<void> {
    return this.run('delete', key, () => this.faulty.delete(key));
  }

  async *list(options?: ListOptions): AsyncIterable<ObjectMeta> {
    this.checkAlive('list', options?.prefix ?? '');
    try {
      for await (const meta of this.faulty.list(options)) yield meta;
    } catch (error) {
      await this.onError(error);
      throw error;
    }
  }

  private checkAlive(op: string, key: string): void {
    if (this.life.dead) {
      throw new StorageError(`the process is dead (${this.life.cause}); ${op} ${key} in ${this.location} refused`, {
        code: 'INJECTED_CRASH',
        retryable: false,
        context: { op, key },
      });
    }
  }

  private async run<T>(op: string, key: string, perform: () => Promise<T>): Promise<T> {
    this.checkAlive(op, key);
    try {
      return await perform();
    } catch (error) {
      await this.onError(error);
      throw error;
    }
  }

  private async onError(error: unknown): Promise<void> {
    if (!this.faulty.crashed || this.life.dead) return;
    const call = this.crashedCall();
    this.life.kill(`${call?.injected.join(',')} at ${call?.op} ${call?.key} in ${this.location}: ${String(error)}`);
    // A torn write: the crashed put left part of its bytes (only where nothing was stored before).
    if (this.tear !== undefined && call?.injected.includes('crash-before')) {
      const exists = await this.durable.head(call.key).then(
        () => true,
        () => false,
      );
      if (!exists) await this.durable.put(call.key, tornBytes(call.key, this.tear));
    }
  }

  /** The call on which a crash rule fired. */
  crashedCall(): RecordedCall | undefined {
    return this.faulty.calls.find((c) => c.injected.some((a) => a === 'crash-before' || a === 'crash-after'));
  }
}

// ---------------------------------------------------------------------------------------------
// Durable stores and processes

export interface DurableOptions {
  table: ObjectStore;
  checkpoint: ObjectStore;
  /** In-memory state (default: a new space). */
  space?: MemoryStateSpace;
  /** LevelDB state in this folder instead of the in-memory space. */
  stateDir?: string;
  clock?: ManualClock;
  /** Lease timeout of the checkpoint (a dead process's lease expires after it). Default 10 s. */
  leaseTimeoutMs?: number;
}

/** What survives a crash: the table, the checkpoint, the state (memory space or LevelDB folder), the clock. */
export class Durable {
  readonly table: ObjectStore;
  readonly checkpoint: ObjectStore;
  readonly space: MemoryStateSpace;
  readonly stateDir: string | undefined;
  readonly clock: ManualClock;
  readonly leaseTimeoutMs: number;
  readonly processes: Process[] = [];

  constructor(options: DurableOptions) {
    this.table = options.table;
    this.checkpoint = options.checkpoint;
    this.space = options.space ?? new MemoryStateSpace();
    this.stateDir = options.stateDir;
    this.clock = options.clock ?? new ManualClock(T0);
    this.leaseTimeoutMs = options.leaseTimeoutMs ?? 10_000;
  }

  /**
   * A new process over the durable stores, optionally armed to crash. After a dead process, the
   * clock first moves past the lease timeout (its lease was never released and must expire).
   */
  newProcess(crash?: CrashSpec): Process {
    const previous = this.processes[this.processes.length - 1];
    if (previous?.dead) this.clock.advance(this.leaseTimeoutMs + 1);
    const proc = new Process(this, this.processes.length, crash);
    this.processes.push(proc);
    return proc;
  }

  /** Every progress report of every process, in order. */
  get progress(): StreamingQueryProgress[] {
    return this.processes.flatMap((p) => p.progress);
  }

  queryId(): Promise<string> {
    return checkpointQueryId(this.checkpoint);
  }
}

export interface StartOptions {
  source: Source;
  pipeline: PipelineConfig;
  trigger: Trigger;
  /** Stop gracefully once this process has reported this many batches. */
  stopAfterBatches?: number;
  /** The DeltaSink's auto compaction (DeltaSinkOptions.autoCompact). */
  autoCompact?: DeltaSinkOptions['autoCompact'];
}

/** One run of the query: fresh objects over the durable stores, with its own fault injectors. */
export class Process {
  readonly life = new KillSwitch();
  readonly tableFaults: FaultyObjectStore;
  readonly checkpointFaults: FaultyObjectStore;
  readonly stateFaults: FaultyStateStoreProvider;
  readonly table: ProcessStore;
  readonly checkpoint: ProcessStore;
  readonly progress: StreamingQueryProgress[] = [];
  readonly warnings: { message: string; context: Record<string, unknown> | undefined }[] = [];
  query: StreamingQuery | undefined;
  /** Whether stopAfterBatches asked the query to stop. */
  stopRequested = false;
  private readonly armers = new Map<number, (() => void)[]>();

  constructor(
    readonly durable: Durable,
    readonly index: number,
    readonly crash: CrashSpec | undefined,
  ) {
    this.tableFaults = new FaultyObjectStore(durable.table);
    this.checkpointFaults = new FaultyObjectStore(durable.checkpoint);
    this.table = new ProcessStore(this.tableFaults, durable.table, this.life);
    this.checkpoint = new ProcessStore(this.checkpointFaults, durable.checkpoint, this.life);
    const state =
      durable.stateDir === undefined
        ? new MemoryStateStoreProvider({ space: durable.space })
        : new LevelDbStateStoreProvider({ rootDir: durable.stateDir });
    this.stateFaults = new FaultyStateStoreProvider(state, {
      onCrash: (error) => this.life.kill(error.message),
    });
    this.life.onKill(() => this.stateFaults.kill(this.life.cause));
    if (crash) this.arm(crash);
  }

  get dead(): boolean {
    return this.life.dead;
  }

  /** Which crash fired, for messages. */
  get crashCause(): string | undefined {
    return this.life.cause;
  }

  private arm(spec: CrashSpec): void {
    const { point, batchId, nth } = spec;
    const before = !point.startsWith('after-') && point !== 'data-file' && point !== 'compaction-data-file';
    // An auto compaction's data file and commit come after the batch's own (one file per batch here).
    const compaction = point.includes('compaction');
    const exact = (prefix: string, any: RegExp) => (batchId === undefined ? any : `${prefix}${batchId}`);
    const nthOption = nth === undefined ? (compaction ? { nth: 2 } : {}) : { nth };
    if (isTorn(point)) {
      (point === 'torn-data-file' ? this.table : this.checkpoint).tear = spec.torn ?? 'truncated';
    }
    switch (point) {
      case 'before-offsets':
      case 'torn-offsets':
      case 'after-offsets':
        this.checkpointFaults.crashAt('putIfAbsent', {
          key: exact('offsets/', /^offsets\/\d+$/),
          before,
          ...nthOption,
        });
        break;
      case 'before-commits':
      case 'torn-commits':
      case 'after-commits':
        this.checkpointFaults.crashAt('putIfAbsent', {
          key: exact('commits/', /^commits\/\d+$/),
          before,
          ...nthOption,
        });
        break;
      case 'before-state-commit':
      case 'after-state-commit':
        this.stateFaults.crashAtCommit({
          before,
          ...nthOption,
          ...(batchId === undefined ? {} : { version: batchId }),
          ...(spec.operator === undefined ? {} : { operator: spec.operator }),
        });
        break;
      default: {
        const op = point.endsWith('-commit') ? 'putIfAbsent' : 'put';
        const key = op === 'put' ? DATA_FILE : LOG_COMMIT;
        const install = () => this.tableFaults.crashAt(op, { key, before, ...nthOption });
        if (batchId === undefined || batchId === 0) install();
        else this.armers.set(batchId - 1, [...(this.armers.get(batchId - 1) ?? []), install]);
      }
    }
  }

  /** Starts the query (rejects when the process crashes while starting). */
  async start(options: StartOptions): Promise<StreamingQuery> {
    const { pipeline } = options;
    const sink = new DeltaSink({
      store: this.table,
      ...(options.autoCompact !== undefined ? { autoCompact: options.autoCompact } : {}),
    });
    const query = await readStream(options.source)
      .pipe(...pipelineOperators(pipeline))
      .writeStream(sink, {
        checkpointLocation: this.checkpoint,
        stateStore: this.stateFaults,
        outputMode: outputModeOf(pipeline.kind),
        trigger: options.trigger,
        clock: this.durable.clock,
        maxBatchRetries: 0,
        leaseTimeoutMs: this.durable.leaseTimeoutMs,
        progressBar: false,
        onProgress: (p) => {
          this.progress.push(p);
          for (const install of this.armers.get(p.batchId) ?? []) install();
          this.armers.delete(p.batchId);
          if (options.stopAfterBatches !== undefined && this.progress.length >= options.stopAfterBatches) {
            this.stopRequested = true;
            void this.query?.stop();
          }
        },
        onWarning: (message, context) => this.warnings.push({ message, context }),
      });
    this.query = query;
    if (this.stopRequested) void query.stop();
    return query;
  }

  /** The progress of one batch in this process (the last report, if it ran more than once). */
  batch(batchId: number): StreamingQueryProgress | undefined {
    return this.progress.filter((p) => p.batchId === batchId).pop();
  }
}
