// Source offsets of record kept in the Delta table, one txn per source partition (kafka-delta-ingest's
// scheme): appId '<prefix>-<partition id>' (Kafka: '<prefix>-<topic>-<partition>'), version = the next
// offset to read. Several writers (members of one consumer group) may process overlapping ranges of
// a partition while it moves between them; each commit keeps only the rows at or above the table's
// offset of their partition and advances it to the range end, in the same commit as the data. Delta
// refuses two concurrent commits setting the same appId (conflict-checker.ts), so the offsets of a
// partition form a chain in which every link wrote exactly the records it covers: no loss, no duplicate.
// Pure: no I/O, no Kafka.

import { LakestreamError } from '../../common/errors.js';
import type { PartitionRange } from '../../stream/checkpoint-log.js';
import { rowOrigin } from '../../stream/row-origin.js';
import type { Row } from '../../stream/types.js';
import type { AppTransaction } from './table.js';

/** The txn appId of a source partition. */
export function partitionAppId(prefix: string, partition: string): string {
  return `${prefix}-${partition}`;
}

/** What a batch does per partition: keep rows with offset >= floor; the txns to set. */
export interface PartitionTxnPlan {
  /** Per partition of the batch: the lowest offset not yet in the table. */
  readonly floors: ReadonlyMap<string, number>;
  /** txns advancing the partitions whose range ends beyond the table's offset. */
  readonly txns: readonly AppTransaction[];
}

function offsetOf(text: string, partition: string, what: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new LakestreamError(`partition '${partition}': ${what} offset ${JSON.stringify(text)} is not an offset`, {
      code: 'SINK_OFFSET_INVALID',
      domain: 'internal',
      context: { partition, offset: text },
    });
  }
  return n;
}

/**
 * Plans the partition txns of a batch against the table's current offsets (`txnVersion`). Throws
 * SINK_OFFSET_GAP when a range starts beyond the table's offset of its partition: records between
 * them were never written, and committing would skip them (the table was restored or its txns removed).
 */
export function planPartitionTxns(
  prefix: string,
  ranges: Readonly<Record<string, PartitionRange>>,
  txnVersion: (appId: string) => number | undefined,
): PartitionTxnPlan {
  const floors = new Map<string, number>();
  const txns: AppTransaction[] = [];
  for (const [partition, range] of Object.entries(ranges)) {
    const start = offsetOf(range.start, partition, 'start');
    const end = offsetOf(range.end, partition, 'end');
    const appId = partitionAppId(prefix, partition);
    const recorded = txnVersion(appId);
    if (recorded !== undefined && recorded < start) {
      throw new LakestreamError(
        `partition '${partition}': the batch starts at offset ${start}, but the table holds the partition only up to offset ${recorded} ` +
          `(txn ${appId}); committing would skip offsets ${recorded}..${start - 1}. Was the table restored to an older version?`,
        { code: 'SINK_OFFSET_GAP', domain: 'user', context: { partition, appId, start, recorded } },
      );
    }
    const floor = recorded === undefined ? start : Math.max(start, recorded);
    floors.set(partition, floor);
    if (end > floor) txns.push({ appId, version: end });
  }
  return { floors, txns };
}

/**
 * The rows the table does not hold yet: those whose origin offset is at or above their partition's
 * floor. Throws SINK_ROW_ORIGIN_MISSING for a row without an origin or from a partition outside the
 * batch's ranges (it could not be placed in the chain of offsets).
 */
export function rowsAboveFloors(rows: readonly Row[], floors: ReadonlyMap<string, number>): Row[] {
  const kept: Row[] = [];
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    const origin = rowOrigin(row);
    const floor = origin === undefined ? undefined : floors.get(origin.partition);
    if (origin === undefined || floor === undefined) {
      throw new LakestreamError(
        origin === undefined
          ? `row ${i} of the batch carries no source origin (stream/row-origin.ts), which partition transactions need`
          : `row ${i} of the batch comes from partition '${origin.partition}', which is not among the batch's source ranges`,
        { code: 'SINK_ROW_ORIGIN_MISSING', domain: 'internal', context: { row: i } },
      );
    }
    if (origin.offset >= floor) kept.push(row);
  }
  return kept;
}
