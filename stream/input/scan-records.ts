// scanRecords: the columnar path of parseJson over one group's records, packed as UTF-8 into one
// array: each record scanned straight into a ColumnBatch (JsonColumnScanner); a record the scanner
// declines takes the row path and its row is appended in its place, or it is a dead letter. The same
// function runs on the calling thread and in the JSON scan workers (scan-pool.ts), so both give the
// same batch, rows and reasons. No I/O, no threads.

import { YIELD_EVERY_ROWS, yieldToEventLoop } from '../../common/yield.js';
import { ColumnBatch, type ColumnBatchParts } from '../../sinks/parquet/column-batch.js';
import { RejectedValue } from '../../sinks/parquet/errors.js';
import type { StructType } from '../../sinks/schema.js';
import type { Row } from '../types.js';
import { JsonRejection, parsedJsonConformer } from './conform-json.js';
import { JsonColumnScanner } from './json-columns.js';

/**
 * Records packed into one array: record i is bytes[ends[i − 1], ends[i]) (from 0 for i = 0), or — when
 * `rowOnly[i]` is 1 — not packed (empty) and taken by the row path alone (text that is not well-formed
 * UTF-16, a null, a value of another type).
 */
export interface PackedRecords {
  bytes: Uint8Array;
  ends: Int32Array;
  rowOnly: Uint8Array | undefined;
}

/** What scanRecords made of a group: the batch, each batch row's record index, and the dead letters. */
export interface ScannedRecords {
  batch: ColumnBatch;
  origin: Int32Array;
  letters: { record: number; reason: string }[];
}

/** ScannedRecords as plain data, as a scan worker posts it back. */
export type ScannedParts = Omit<ScannedRecords, 'batch'> & { parts: ColumnBatchParts };

/** The row of record `i` by the row path, or undefined after calling `reject` with the reason. */
export type RowPath = (record: number, reject: (reason: string) => void) => Row | undefined;

/** Records seen before the columnar path may give up on a group whose records it mostly declines. */
const COLUMNAR_PROBE = 512;

/**
 * Scans the records into a ColumnBatch of `schema`; `rowPath` makes the row of a record the scanner
 * declines. Undefined — the caller runs the row path on the whole group — when more than one record in
 * 8 is declined, or a row the row path makes cannot be held in the batch (the row path hands it on,
 * and a later operator or the writer decides). Yields to the event loop between slices of records.
 */
export async function scanRecords(
  schema: StructType,
  records: PackedRecords,
  rowPath: RowPath,
): Promise<ScannedRecords | undefined> {
  const { bytes, ends, rowOnly } = records;
  const n = ends.length;
  const batch = new ColumnBatch(schema, n);
  const scanner = new JsonColumnScanner(schema, batch);
  const origin = new Int32Array(n);
  const letters: { record: number; reason: string }[] = [];
  let declined = 0;
  let start = 0;
  for (let i = 0; i < n; i++) {
    if (i > 0 && i % YIELD_EVERY_ROWS === 0) await yieldToEventLoop();
    const end = ends[i]!;
    const taken = rowOnly?.[i] !== 1 && scanner.scan(bytes, start, end);
    start = end;
    if (taken) {
      origin[batch.length - 1] = i;
      continue;
    }
    declined++;
    if (i + 1 >= COLUMNAR_PROBE && declined * 8 > i + 1) return undefined;
    const parsed = rowPath(i, (reason) => letters.push({ record: i, reason }));
    if (parsed === undefined) continue;
    try {
      batch.appendRow(parsed);
    } catch (error) {
      if (error instanceof RejectedValue) return undefined;
      throw error;
    }
    origin[batch.length - 1] = i;
  }
  return { batch, origin, letters };
}

/** The start of a reason's preview of a record's text. */
function preview(value: unknown): string {
  const text = typeof value === 'string' ? value : String(value);
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}

/**
 * The row path of one record's value `raw` (a JSON text, its UTF-8 bytes, or an already-parsed value)
 * as parseJson takes it: JSON.parse, then the schema's conformer; a rejection is the reason (naming
 * the column or field), for the dead letter.
 */
export function parseRecord(
  raw: unknown,
  column: string,
  conform: ReturnType<typeof parsedJsonConformer>,
): Row | JsonRejectionReason {
  let parsed: unknown;
  // Fresh: made here by JSON.parse, so a value that already fits may be the row itself.
  let fresh = true;
  if (typeof raw === 'string') {
    try {
      parsed = JSON.parse(raw);
    } catch (error) {
      return new JsonRejectionReason(
        `column '${column}' is not valid JSON (${(error as Error).message}): ${preview(raw)}`,
      );
    }
  } else if (raw instanceof Uint8Array) {
    try {
      parsed = JSON.parse(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('utf8'));
    } catch (error) {
      return new JsonRejectionReason(`column '${column}' is not valid JSON (${(error as Error).message})`);
    }
  } else if (raw === null || raw === undefined) {
    return new JsonRejectionReason(`column '${column}' is null`);
  } else {
    parsed = raw;
    fresh = false;
  }
  const result = conform(parsed, fresh);
  if (result instanceof JsonRejection) {
    return new JsonRejectionReason(result.field ? `field '${result.field}': ${result.reason}` : result.reason);
  }
  return result;
}

/** Why parseRecord rejected a record. */
export class JsonRejectionReason {
  constructor(readonly reason: string) {}
}

/** The task a scan worker runs: records of one group, packed, and how to read them. */
export interface ScanTask {
  schema: StructType;
  /** The parsed column's name (for reasons). */
  column: string;
  records: PackedRecords;
  /** The records were text (decoded from UTF-8 for the row path) rather than bytes. */
  text: boolean;
}

/** Runs a ScanTask (in a scan worker): scanRecords with the row path on the packed records. */
export async function runScanTask(task: ScanTask): Promise<ScannedRecords | undefined> {
  const { schema, column, records, text } = task;
  const conform = parsedJsonConformer(schema);
  const buffer = Buffer.from(records.bytes.buffer, records.bytes.byteOffset, records.bytes.byteLength);
  return scanRecords(schema, records, (i, reject) => {
    const start = i === 0 ? 0 : records.ends[i - 1]!;
    const end = records.ends[i]!;
    const raw = text ? buffer.toString('utf8', start, end) : records.bytes.subarray(start, end);
    const row = parseRecord(raw, column, conform);
    if (row instanceof JsonRejectionReason) {
      reject(row.reason);
      return undefined;
    }
    return row;
  });
}
