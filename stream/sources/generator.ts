// GeneratorSource: rows computed from (partition, offset) by a deterministic function — replayable by
// construction, so exactly-once holds across crashes without any external system. Used by the demo,
// benchmarks and kill -9 tests. Optionally rate-limited (rows per second of processing time) and bounded.

import type { PartitionRange } from '../checkpoint-log.js';
import { StreamArgumentError } from '../errors.js';
import type { PartitionOffsets, Source, SourceContext, SourceMetrics } from '../source.js';
import type { Row, RowGroup } from '../types.js';
import { parseOffset } from './offsets.js';

export interface GeneratorSourceOptions {
  /** Number of partitions, named '0'..'n-1'. Default 1. */
  partitions?: number;
  /** Rows per partition in total; undefined = unbounded. */
  rowsPerPartition?: number;
  /** Rows per second per partition made available, from the first open; undefined = all at once. */
  rowsPerSecond?: number;
  /** Cap on the rows of one batch, across partitions (split evenly). Default 100 000. */
  maxRowsPerTrigger?: number;
  /** The row at `offset` of `partition`; must be a pure function. */
  generate: (partition: number, offset: number) => Row;
  name?: string;
}

/** The rows at offsets [start, end) of partition `p` (a synchronous loop of its own, which V8 keeps optimized). */
function generateRows(generate: GeneratorSourceOptions['generate'], p: number, start: number, end: number): Row[] {
  const rows: Row[] = new Array(end - start);
  for (let offset = start; offset < end; offset++) rows[offset - start] = generate(p, offset);
  return rows;
}

export class GeneratorSource implements Source {
  readonly description: string;
  private readonly partitions: number;
  private readonly maxRows: number;
  private startedAt = 0;
  private now: () => number = Date.now;

  constructor(private readonly options: GeneratorSourceOptions) {
    this.partitions = options.partitions ?? 1;
    this.maxRows = options.maxRowsPerTrigger ?? 100_000;
    if (!Number.isSafeInteger(this.partitions) || this.partitions < 1) {
      throw new StreamArgumentError(`GeneratorSource partitions must be an integer >= 1, got ${options.partitions}`, {
        option: 'partitions',
      });
    }
    if (!(this.maxRows >= 1)) {
      throw new StreamArgumentError(`maxRowsPerTrigger must be >= 1, got ${options.maxRowsPerTrigger}`, {
        option: 'maxRowsPerTrigger',
      });
    }
    this.description = `GeneratorSource[${options.name ?? 'generator'}]`;
  }

  async open(ctx: SourceContext): Promise<void> {
    this.now = ctx.now;
    this.startedAt = ctx.now();
  }

  private available(): number {
    const total = this.options.rowsPerPartition ?? Number.MAX_SAFE_INTEGER;
    if (this.options.rowsPerSecond === undefined) return total;
    const produced = Math.floor(((this.now() - this.startedAt) / 1000) * this.options.rowsPerSecond);
    return Math.min(total, produced);
  }

  async initialOffsets(): Promise<PartitionOffsets> {
    const out: Record<string, string> = {};
    for (let p = 0; p < this.partitions; p++) out[String(p)] = '0';
    return out;
  }

  async nextOffsets(start: PartitionOffsets, limit?: PartitionOffsets): Promise<PartitionOffsets> {
    const available = this.available();
    const perPartition = Math.max(1, Math.floor(this.maxRows / this.partitions));
    const out: Record<string, string> = {};
    for (let p = 0; p < this.partitions; p++) {
      const key = String(p);
      const from = parseOffset(start[key] ?? '0', this.description);
      let to = Math.max(from, Math.min(available, from + perPartition));
      const cap = limit?.[key];
      if (cap !== undefined) to = Math.min(to, Math.max(from, parseOffset(cap, this.description)));
      out[key] = String(to);
    }
    return out;
  }

  async availableNow(): Promise<PartitionOffsets> {
    const available = this.available();
    const out: Record<string, string> = {};
    for (let p = 0; p < this.partitions; p++) out[String(p)] = String(available);
    return out;
  }

  async read(ranges: Readonly<Record<string, PartitionRange>>): Promise<RowGroup[]> {
    const groups: RowGroup[] = [];
    for (const [partition, range] of Object.entries(ranges)) {
      const p = parseOffset(partition, this.description);
      const start = parseOffset(range.start, this.description);
      const end = parseOffset(range.end, this.description);
      groups.push({ partition, rows: generateRows(this.options.generate, p, start, end) });
    }
    return groups;
  }

  async commit(): Promise<void> {}

  metrics(): SourceMetrics {
    const available = String(this.available());
    const latest: Record<string, string> = {};
    for (let p = 0; p < this.partitions; p++) latest[String(p)] = available;
    return { latestOffset: latest };
  }

  async close(): Promise<void> {}
}
