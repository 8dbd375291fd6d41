// readStream(source).pipe(...operators).writeStream(sink, options): the query builder, and the
// defaults it composes (checkpoint log, state store and dead letters under the checkpoint location).

import { join } from 'node:path';
import type { StructType } from '../sinks/schema.js';
import { ObjectStoreCheckpointLog } from '../state/checkpoint/object-store-log.js';
import { LevelDbStateStoreProvider } from '../state/leveldb-store.js';
import { MemoryStateStoreProvider } from '../state/memory-store.js';
import { LocalObjectStore } from '../storage/local.js';
import type { ObjectStore } from '../storage/object-store.js';
import { PrefixedObjectStore } from '../storage/prefixed.js';
import { type Clock, SYSTEM_CLOCK } from './clock.js';
import { type DeadLetterSink, ObjectStoreDeadLetters } from './dead-letters.js';
import { MicroBatchExecution } from './engine.js';
import { StreamArgumentError } from './errors.js';
import type { OperatorSpec } from './operator.js';
import { type PlannedPipeline, planPipeline } from './plan.js';
import type { StreamingQueryListener } from './progress.js';
import { progressBarListener } from './progress-bar.js';
import { StreamingQuery } from './query.js';
import type { Sink } from './sink.js';
import type { Source } from './source.js';
import type { StateStoreProvider } from './state-store.js';
import { DEFAULT_TRIGGER, type Trigger } from './trigger.js';
import { OUTPUT_MODES, type OutputMode } from './types.js';

/** Where a query keeps its checkpoint and how it runs. */
export interface WriteStreamOptions {
  /**
   * The checkpoint: a local folder path, or an ObjectStore. Holds `metadata`, `offsets/`, `commits/`,
   * `sources/0/`, `dead-letters/` and (for a folder path) the LevelDB state under `state/`.
   */
  checkpointLocation: string | ObjectStore;
  queryName?: string;
  /** Default: back-to-back micro-batches (Trigger.processingTime(0)). */
  trigger?: Trigger;
  /** Default 'append'. */
  outputMode?: OutputMode;
  /**
   * State of stateful operators. Default: LevelDB under `<checkpointLocation>/state` for a folder
   * path. With an ObjectStore checkpoint and stateful operators it is required (in-memory state
   * would not survive a restart).
   */
  stateStore?: StateStoreProvider;
  /** Rejected rows. Default: JSON Lines under `<checkpoint>/dead-letters/`, one file per batch. */
  deadLetters?: DeadLetterSink;
  /** Processing time and waiting (a ManualClock in tests). */
  clock?: Clock;
  /** Receives lifecycle and progress events. */
  listener?: StreamingQueryListener;
  /** Shorthand for listener.onQueryProgress. */
  onProgress?: StreamingQueryListener['onQueryProgress'];
  /** Non-fatal problems (recovery notices, retried batches). Default: ignored. */
  onWarning?: (message: string, context?: Record<string, unknown>) => void;
  /** Re-run a batch that failed with a retryable fault up to this many times. Default 3. */
  maxBatchRetries?: number;
  /** Checkpoint lease timeout in ms (a second runner is refused while the lease is live). Default 60 000. */
  leaseTimeoutMs?: number;
  /** Keep this many batches in offsets/ and commits/ (and state versions). Default 100. */
  minBatchesToRetain?: number;
  /** Draw a one-line progress display on stderr for availableNow/once runs. Default: when stderr is a TTY. */
  progressBar?: boolean;
  /**
   * Run parseJson straight into typed columns when every operator after it and the sink take columns
   * (withWatermark on a timestamp, dropDuplicatesWithinWatermark, the Delta sink in append mode on an
   * unpartitioned table of the parsed schema). Same outcome as rows, several times less work per row.
   * Default true; false keeps rows everywhere.
   */
  columnar?: boolean;
}

/** A streaming Dataset: a source plus the operators applied so far. Immutable: pipe() returns a new one. */
export class DataStream {
  constructor(
    readonly source: Source,
    readonly operators: readonly OperatorSpec[] = [],
    /** The schema of the source's rows, when known. */
    readonly schema?: StructType,
  ) {}

  /** Appends operators (filter, map, withWatermark, dropDuplicates, aggregate, …). */
  pipe(...operators: OperatorSpec[]): DataStream {
    return new DataStream(this.source, [...this.operators, ...operators], this.schema);
  }

  /**
   * Starts the query: opens the checkpoint (refusing a second runner with CHECKPOINT_LOCKED), plans
   * the operators (refusing unsupported combinations with UNSUPPORTED_OPERATION), recovers, and runs
   * in the background. Resolves with the query handle once started.
   */
  async writeStream(sink: Sink, options: WriteStreamOptions): Promise<StreamingQuery> {
    const outputMode = options.outputMode ?? 'append';
    if (!OUTPUT_MODES.includes(outputMode)) {
      throw new StreamArgumentError(`outputMode must be one of ${OUTPUT_MODES.join(', ')}, got ${String(outputMode)}`, {
        option: 'outputMode',
      });
    }
    if (options.checkpointLocation === undefined || options.checkpointLocation === '') {
      throw new StreamArgumentError('checkpointLocation is required: a folder path or an ObjectStore', {
        option: 'checkpointLocation',
      });
    }
    planPipeline(this.operators, outputMode, this.schema); // refuse unsupported pipelines before touching anything
    const clock = options.clock ?? SYSTEM_CLOCK;
    const location = options.checkpointLocation;
    const store = typeof location === 'string' ? new LocalObjectStore(location) : location;
    const stateStore = (pipeline: PlannedPipeline): StateStoreProvider => {
      if (options.stateStore) return options.stateStore;
      if (typeof location === 'string') {
        return new LevelDbStateStoreProvider({
          rootDir: join(location, 'state'),
          ...(options.minBatchesToRetain ? { minVersionsToRetain: options.minBatchesToRetain } : {}),
        });
      }
      if (pipeline.stateful.length === 0) return new MemoryStateStoreProvider();
      throw new StreamArgumentError(
        'stateStore is required when checkpointLocation is an ObjectStore and the query has stateful operators ' +
          `(${pipeline.stateful.map((op) => op.kind).join(', ')}); pass e.g. new LevelDbStateStoreProvider({ rootDir })`,
        { option: 'stateStore' },
      );
    };
    const checkpoint = new ObjectStoreCheckpointLog(store, {
      now: () => clock.now(),
      ...(options.leaseTimeoutMs ? { leaseTimeoutMs: options.leaseTimeoutMs } : {}),
      ...(options.minBatchesToRetain ? { minBatchesToRetain: options.minBatchesToRetain } : {}),
    });
    const trigger = options.trigger ?? DEFAULT_TRIGGER;
    const listeners: StreamingQueryListener[] = [];
    if (options.listener) listeners.push(options.listener);
    if (options.onProgress) listeners.push({ onQueryProgress: options.onProgress });
    const bounded = trigger.kind !== 'processingTime';
    if (bounded && (options.progressBar ?? Boolean(process.stderr.isTTY))) {
      listeners.push(progressBarListener(process.stderr));
    }
    let query: StreamingQuery | undefined;
    const listener: StreamingQueryListener = {
      onQueryStarted: (e) => {
        for (const l of listeners) l.onQueryStarted?.(e);
      },
      onQueryProgress: (p) => {
        query?.onProgress(p);
        for (const l of listeners) l.onQueryProgress?.(p);
      },
      onQueryIdle: (e) => {
        for (const l of listeners) l.onQueryIdle?.(e);
      },
      onQueryTerminated: (e) => {
        for (const l of listeners) l.onQueryTerminated?.(e);
      },
    };
    const leaseTimeoutMs = options.leaseTimeoutMs ?? 60_000;
    const execution = new MicroBatchExecution({
      name: options.queryName ?? null,
      source: this.source,
      sourceMetadata: new PrefixedObjectStore(store, 'sources/0/'),
      specs: this.operators,
      schema: this.schema,
      sink,
      deadLetters: options.deadLetters ?? new ObjectStoreDeadLetters(store, 'dead-letters/'),
      checkpoint,
      stateStore,
      trigger,
      outputMode,
      clock,
      listener,
      maxBatchRetries: options.maxBatchRetries ?? 3,
      retryDelayMs: 200,
      heartbeatIntervalMs: Math.max(leaseTimeoutMs / 4, 1),
      conf: { watermarkPolicy: 'min', outputMode },
      columnar: options.columnar ?? true,
      warn: options.onWarning ?? (() => {}),
    });
    try {
      await execution.start();
    } catch (error) {
      await execution.close();
      throw error;
    }
    query = new StreamingQuery(execution, options.queryName ?? null, listener);
    listener.onQueryStarted?.({
      id: query.id,
      runId: query.runId,
      name: query.name,
      timestamp: new Date(clock.now()).toISOString(),
    });
    return query;
  }
}

/** Starts a streaming Dataset from a source (`readStream(source).pipe(...).writeStream(sink, options)`). */
export function readStream(source: Source, options: { schema?: StructType } = {}): DataStream {
  return new DataStream(source, [], options.schema);
}
