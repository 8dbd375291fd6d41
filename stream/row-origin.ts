// The origin of a row: the source partition and offset of the record it was made from, carried on the
// row under a symbol key so that it never becomes a column (Object.keys, JSON and the Parquet writer
// ignore symbol keys). A sink that records offsets per source partition in the table (DeltaSink's
// `partitionTransactions`, for consumer-group scale-out) uses it to drop rows the table already holds.
// Operators that build new row objects drop it; the ingest pipeline sets it in its last operator.

import type { Row } from './types.js';

/** Where a row came from: the source partition id (Kafka: '<topic>-<partition>') and record offset. */
export interface RowOrigin {
  readonly partition: string;
  readonly offset: number;
}

/** The symbol key of a row's origin (registered, so that copies of this module agree). */
export const ROW_ORIGIN: unique symbol = Symbol.for('lakestream.rowOrigin') as never;

/** Sets the origin of `row` (a non-enumerable symbol key: never a column, invisible to deep equality). */
export function setRowOrigin(row: Row, origin: RowOrigin): void {
  Object.defineProperty(row, ROW_ORIGIN, { value: origin, enumerable: false, writable: true, configurable: true });
}

/** The origin of `row`, when it carries one. */
export function rowOrigin(row: Row): RowOrigin | undefined {
  return (row as { [ROW_ORIGIN]?: RowOrigin })[ROW_ORIGIN];
}
