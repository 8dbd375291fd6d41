// ObservableSource: any RxJS Observable as a source. Offsets are arrival positions (a single
// partition, or several with `partitionBy`). Values are buffered in memory until their batch is
// committed (RxJS has no backpressure: a slow sink grows the buffer).
//
// Exactly-once holds only when the observable can be replayed: after a restart it is subscribed
// again and must emit the same values in the same order; values before the committed offsets are
// skipped. A hot or non-deterministic observable gives at-most/at-least-once across restarts (the
// source raises SOURCE_DATA_MISSING rather than silently inventing a different batch when a planned
// range is no longer available).

import type { Observable, Subscription } from 'rxjs';
import type { PartitionRange } from '../checkpoint-log.js';
import { SourceError } from '../errors.js';
import type { PartitionOffsets, Source, SourceContext, SourceMetrics } from '../source.js';
import type { Row, RowGroup } from '../types.js';
import { parseOffset } from './offsets.js';

export interface ObservableSourceOptions<T> {
  /** Turns an emitted value into a row. Default: objects as they are, other values as { value }. */
  toRow?: (value: T) => Row;
  /** Partition of a value (default: one partition '0'). */
  partitionBy?: (value: T) => string;
  /** Cap on the rows of one batch, per partition. Default 100 000. */
  maxRowsPerTrigger?: number;
  name?: string;
  /**
   * Whether the observable emits the same values again when subscribed after a restart (default
   * true). A live, non-replayable one (a Subject fed by requests) sets false: offsets then continue
   * after the checkpoint's, and rows of a batch planned but not committed by the previous process
   * are gone — that batch replays empty, with a warning naming the count. Acknowledge a value to its
   * producer only after its batch committed (see progress), so the producer can resend the lost ones.
   */
  replayable?: boolean;
}

interface Buffer {
  /** Offset of rows[0]. */
  base: number;
  rows: Row[];
}

function defaultRow(value: unknown): Row {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date)
    ? { ...(value as Row) }
    : { value };
}

export class ObservableSource<T> implements Source {
  readonly description: string;
  private readonly buffers = new Map<string, Buffer>();
  private subscription: Subscription | undefined;
  private failure: unknown;
  private completed = false;
  private readonly maxRows: number;
  private readonly replayable: boolean;
  /** Non-replayable: whether buffers were rebased onto the checkpoint's offsets yet. */
  private rebased = false;
  private warn: SourceContext['warn'] = () => {};

  constructor(
    private readonly observable: Observable<T>,
    private readonly options: ObservableSourceOptions<T> = {},
  ) {
    this.description = `ObservableSource[${options.name ?? 'observable'}]`;
    this.maxRows = options.maxRowsPerTrigger ?? 100_000;
    this.replayable = options.replayable ?? true;
  }

  /**
   * Non-replayable observables: the first values this process buffered continue after `offsets`
   * (what the checkpoint already planned), instead of restarting at 0.
   */
  private rebase(offsets: PartitionOffsets): void {
    if (this.replayable || this.rebased) return;
    this.rebased = true;
    for (const [partition, text] of Object.entries(offsets)) {
      const base = parseOffset(text, this.description);
      const buffer = this.buffers.get(partition);
      if (buffer) buffer.base = base;
      else this.buffers.set(partition, { base, rows: [] });
    }
  }

  /** True once the observable has completed (everything it will emit is buffered or processed). */
  get isComplete(): boolean {
    return this.completed;
  }

  async open(ctx: SourceContext): Promise<void> {
    this.warn = ctx.warn;
    const toRow = this.options.toRow ?? defaultRow;
    const partitionBy = this.options.partitionBy;
    this.subscription = this.observable.subscribe({
      next: (value) => {
        const partition = partitionBy ? partitionBy(value) : '0';
        let buffer = this.buffers.get(partition);
        if (!buffer) {
          buffer = { base: 0, rows: [] };
          this.buffers.set(partition, buffer);
        }
        buffer.rows.push(toRow(value));
      },
      error: (error) => {
        this.failure = error;
      },
      complete: () => {
        this.completed = true;
      },
    });
  }

  private check(): void {
    if (this.failure !== undefined) {
      throw new SourceError(
        'SOURCE_FAILED',
        `${this.description} errored: ${(this.failure as Error)?.message ?? String(this.failure)}`,
        {
          cause: this.failure,
        },
      );
    }
  }

  private latest(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [partition, buffer] of this.buffers) out[partition] = String(buffer.base + buffer.rows.length);
    return out;
  }

  /** Every partition seen so far starts at its first buffered offset (0, or after a rebase). */
  async initialOffsets(): Promise<PartitionOffsets> {
    const out: Record<string, string> = {};
    for (const [partition, buffer] of this.buffers) out[partition] = String(buffer.base);
    return out;
  }

  async nextOffsets(start: PartitionOffsets, limit?: PartitionOffsets): Promise<PartitionOffsets> {
    this.check();
    this.rebase(start);
    this.release(start);
    const out: Record<string, string> = { ...start };
    for (const [partition, end] of Object.entries(this.latest())) {
      const from = parseOffset(start[partition] ?? '0', this.description);
      let to = Math.max(from, Math.min(parseOffset(end, this.description), from + this.maxRows));
      const cap = limit?.[partition];
      if (cap !== undefined) to = Math.min(to, Math.max(from, parseOffset(cap, this.description)));
      out[partition] = String(to);
    }
    return out;
  }

  async availableNow(): Promise<PartitionOffsets> {
    this.check();
    return this.latest();
  }

  async read(ranges: Readonly<Record<string, PartitionRange>>): Promise<RowGroup[]> {
    this.check();
    if (!this.replayable && !this.rebased) {
      // The first read of a process is the replay of the previous process's uncommitted batch.
      const ends: Record<string, string> = {};
      for (const [partition, range] of Object.entries(ranges)) ends[partition] = range.end;
      this.rebase(ends);
    }
    const groups: RowGroup[] = [];
    for (const [partition, range] of Object.entries(ranges)) {
      let start = parseOffset(range.start, this.description);
      const end = parseOffset(range.end, this.description);
      const buffer = this.buffers.get(partition) ?? { base: 0, rows: [] };
      if (!this.replayable && start < buffer.base) {
        const lost = Math.min(end, buffer.base) - start;
        this.warn(
          `${this.description}: ${lost} rows of partition ${partition} planned by a previous process are lost (the observable is not replayable); their producers were never acknowledged`,
          {
            partition,
            start,
            end: Math.min(end, buffer.base),
          },
        );
        start = Math.min(end, buffer.base);
      }
      if (start < buffer.base || end > buffer.base + buffer.rows.length) {
        throw new SourceError(
          'SOURCE_DATA_MISSING',
          `${this.description}: partition ${partition} offsets ${start}..${end - 1} are not available ` +
            `(buffered ${buffer.base}..${buffer.base + buffer.rows.length - 1}); the observable did not replay the same values`,
          { context: { partition, start, end }, retryable: end > buffer.base + buffer.rows.length && !this.completed },
        );
      }
      groups.push({ partition, rows: buffer.rows.slice(start - buffer.base, end - buffer.base) });
    }
    return groups;
  }

  /** Drops buffered rows before `offsets` (already committed). */
  private release(offsets: PartitionOffsets): void {
    for (const [partition, text] of Object.entries(offsets)) {
      const buffer = this.buffers.get(partition);
      if (!buffer) continue;
      const upTo = parseOffset(text, this.description);
      const drop = Math.min(upTo - buffer.base, buffer.rows.length);
      if (drop > 0) {
        buffer.rows.splice(0, drop);
        buffer.base += drop;
      }
    }
  }

  async commit(end: PartitionOffsets): Promise<void> {
    this.release(end);
  }

  metrics(): SourceMetrics {
    return { latestOffset: this.latest() };
  }

  async close(): Promise<void> {
    this.subscription?.unsubscribe();
    this.subscription = undefined;
  }
}
