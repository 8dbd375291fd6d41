// SourcedColumnRows: the ColumnRows of a group an operator parsed into columns, remembering for each
// row the input row it came from, so that the row as the row path makes it can be made again (parsing
// that input row once more) when a dead letter or a consumer without columns needs it.

import { ColumnBatch } from '../sinks/parquet/column-batch.js';
import { RejectedValue } from '../sinks/parquet/errors.js';
import type { ColumnRows, ColumnRowsView, Row, RowGroup } from './types.js';

export class SourcedColumnRows implements ColumnRows {
  constructor(
    readonly batch: ColumnBatch,
    /** Per batch row: the index in `inputs` of the row it was made from. */
    private readonly origin: Int32Array,
    private readonly inputs: readonly Row[],
    /** Makes the row-path row of an input row (one that made a batch row, so it gives a row). */
    private readonly remake: (input: Row) => Row,
  ) {}

  rowAt(i: number): Row {
    if (i < 0 || i >= this.batch.length) throw new RangeError(`row ${i} of ${this.batch.length}`);
    return this.remake(this.inputs[this.origin[i]!]!);
  }

  retain(keep: Uint8Array): void {
    const n = this.batch.length;
    let to = 0;
    for (let i = 0; i < n; i++) if (keep[i] === 1) this.origin[to++] = this.origin[i]!;
    this.batch.retain(keep);
  }
}

/** The rows of `columns` as the row path holds them. */
export function rowsOf(columns: ColumnRowsView): Row[] {
  const out: Row[] = new Array(columns.batch.length);
  for (let i = 0; i < out.length; i++) out[i] = columns.rowAt(i);
  return out;
}

/** A run of a combined batch's rows: from columns of a group, or a group's rows. */
interface Segment {
  start: number;
  columns?: ColumnRowsView;
  rows?: readonly Row[];
}

class CombinedColumnRows implements ColumnRowsView {
  constructor(
    readonly batch: ColumnBatch,
    private readonly segments: readonly Segment[],
  ) {}

  rowAt(i: number): Row {
    if (i < 0 || i >= this.batch.length) throw new RangeError(`row ${i} of ${this.batch.length}`);
    let s = this.segments.length - 1;
    while (this.segments[s]!.start > i) s--;
    const segment = this.segments[s]!;
    return segment.columns !== undefined ? segment.columns.rowAt(i - segment.start) : segment.rows![i - segment.start]!;
  }
}

/**
 * Every row of `groups`, in group order (a group's columns, then its rows), in one batch with the
 * schema of their columns — what the sink gets, so that its files hold the rows in the order the row
 * path gives them. Undefined when no group has columns, or a row of a group without columns cannot be
 * held in the batch (the writer refuses its value): the caller hands the sink rows then.
 */
export function combineGroups(groups: readonly RowGroup[]): ColumnRowsView | undefined {
  let batchSchema: ColumnBatch['schema'] | undefined;
  let total = 0;
  for (const g of groups) {
    total += g.rows.length + (g.columns?.batch.length ?? 0);
    if (g.columns !== undefined && g.columns.batch.length > 0) batchSchema ??= g.columns.batch.schema;
  }
  if (batchSchema === undefined) return undefined;
  // One group holding every row in columns: its columns as they are.
  const only = groups.filter((g) => g.rows.length > 0 || (g.columns?.batch.length ?? 0) > 0);
  if (only.length === 1 && only[0]!.rows.length === 0) return only[0]!.columns;
  const batch = new ColumnBatch(batchSchema, total);
  const segments: Segment[] = [];
  for (const g of groups) {
    if (g.columns !== undefined && g.columns.batch.length > 0) {
      segments.push({ start: batch.length, columns: g.columns });
      batch.appendBatch(g.columns.batch);
    }
    if (g.rows.length === 0) continue;
    segments.push({ start: batch.length, rows: g.rows });
    for (const row of g.rows) {
      try {
        batch.appendRow(row);
      } catch (error) {
        if (error instanceof RejectedValue) return undefined;
        throw error;
      }
    }
  }
  return new CombinedColumnRows(batch, segments);
}
