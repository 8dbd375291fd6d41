// MemorySource: rows added from code (Spark's MemoryStream), for tests and demos. Offsets are row
// counts per partition. Not durable: after a restart, add the same rows again (as Spark's StreamTest
// does) and the checkpoint resumes after what was committed.

import type { PartitionRange } from '../checkpoint-log.js';
import { SourceError } from '../errors.js';
import type { PartitionOffsets, Source, SourceMetrics } from '../source.js';
import type { Row, RowGroup } from '../types.js';
import { parseOffset } from './offsets.js';

export class MemorySource implements Source {
  readonly description: string;
  private readonly partitions = new Map<string, Row[]>();

  constructor(name = 'memory') {
    this.description = `MemorySource[${name}]`;
  }

  /** Appends rows to a partition (default '0'). Returns the partition's new end offset. */
  addData(rows: readonly Row[], partition = '0'): number {
    let list = this.partitions.get(partition);
    if (!list) {
      list = [];
      this.partitions.set(partition, list);
    }
    for (const row of rows) list.push(row);
    return list.length;
  }

  async open(): Promise<void> {}

  async initialOffsets(): Promise<PartitionOffsets> {
    const out: Record<string, string> = {};
    for (const partition of this.partitions.keys()) out[partition] = '0';
    return out;
  }

  private latest(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [partition, rows] of this.partitions) out[partition] = String(rows.length);
    return out;
  }

  async nextOffsets(start: PartitionOffsets, limit?: PartitionOffsets): Promise<PartitionOffsets> {
    const out: Record<string, string> = { ...start };
    for (const [partition, end] of Object.entries(this.latest())) {
      const cap = limit?.[partition];
      const from = parseOffset(start[partition] ?? '0', this.description);
      let to = Math.max(from, parseOffset(end, this.description));
      if (cap !== undefined) to = Math.min(to, Math.max(from, parseOffset(cap, this.description)));
      out[partition] = String(to);
    }
    return out;
  }

  async availableNow(): Promise<PartitionOffsets> {
    return this.latest();
  }

  async read(ranges: Readonly<Record<string, PartitionRange>>): Promise<RowGroup[]> {
    const groups: RowGroup[] = [];
    for (const [partition, range] of Object.entries(ranges)) {
      const rows = this.partitions.get(partition) ?? [];
      const start = parseOffset(range.start, this.description);
      const end = parseOffset(range.end, this.description);
      if (end > rows.length) {
        throw new SourceError(
          'SOURCE_DATA_MISSING',
          `${this.description}: partition ${partition} has ${rows.length} rows, the batch needs rows ${start}..${end - 1} (add the same data again after a restart)`,
          { context: { partition, start, end } },
        );
      }
      groups.push({ partition, rows: rows.slice(start, end).map((row) => ({ ...row })) });
    }
    return groups;
  }

  async commit(): Promise<void> {}

  metrics(): SourceMetrics {
    return { latestOffset: this.latest() };
  }

  async close(): Promise<void> {}
}
