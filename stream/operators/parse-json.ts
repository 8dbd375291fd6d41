// parseJson(schema): parses a JSON text column (default 'value', as Kafka and the file source give
// it) against a schema, the way Spark's from_json with a schema does; a record that is not JSON or
// does not fit goes to the dead-letter destination with the reason, and is counted.

import { isWellFormed, writeUtf8 } from '../../common/strings.js';
import { YIELD_EVERY_ROWS, yieldToEventLoop } from '../../common/yield.js';
import type { ColumnBatch } from '../../sinks/parquet/column-batch.js';
import type { StructType } from '../../sinks/schema.js';
import { SourcedColumnRows } from '../column-rows.js';
import { parsedJsonConformer } from '../input/conform-json.js';
import { JsonColumnScanner } from '../input/json-columns.js';
import { defaultScanPool, MIN_POOLED_RECORDS } from '../input/scan-pool.js';
import { JsonRejectionReason, parseRecord, scanRecords } from '../input/scan-records.js';
import { type BatchContext, type OperatorSpec, operatorBase, type StreamOperator } from '../operator.js';
import { rowMaker } from '../row-maker.js';
import type { Row, RowGroup } from '../types.js';

export interface ParseJsonOptions {
  /** The column holding the JSON text (or an already-parsed object). Default 'value'. */
  column?: string;
  /** Source columns to keep next to the parsed fields (e.g. ['topic', 'partition', 'offset']). */
  keep?: readonly string[];
}

/**
 * Parses `row[column]` with JSON.parse and conforms it to `schema` (fields outside the schema are
 * ignored, missing ones are null, numbers widen, timestamps must carry a zone). Integers beyond 2^53
 * lose precision in JSON.parse; declare such fields as string or decimal.
 *
 * When every operator after it and the sink take columns (and the schema is flat and primitive),
 * planning runs the columnar variant: each record's UTF-8 is scanned straight into typed columns
 * (JsonColumnScanner), records the scanner declines take the row path one by one, and the outcome —
 * rows, dead letters and their reasons — is the same. `keep` columns are not in the batches (a row
 * made for a dead letter has them): with `keep`, only where an operator after it drops them.
 */
export function parseJson(schema: StructType, options: ParseJsonOptions = {}): OperatorSpec {
  const column = options.column ?? 'value';
  const keep = options.keep ?? [];
  return {
    kind: 'parseJson',
    plan(context): StreamOperator {
      const conform = parsedJsonConformer(schema);
      const id = `${context.index}-parseJson`;
      const outSchema: StructType = keep.length
        ? {
            type: 'struct',
            fields: [
              ...schema.fields,
              ...keep.map(
                (name) =>
                  context.schema?.fields.find((f) => f.name === name) ?? {
                    name,
                    type: 'string' as const,
                    nullable: true,
                    metadata: {},
                  },
              ),
            ],
          }
        : schema;
      // With kept columns, each output row is made at once with all its columns (row-maker.ts).
      const names = schema.fields.map((f) => f.name);
      const make = keep.length > 0 ? rowMaker([...names, ...keep]) : undefined;
      const values: unknown[] = new Array(names.length + keep.length);

      /** The row of one input row, or undefined after sending it to `reject` with the reason. */
      const parseRow = (row: Row, reject: (reason: string) => void): Row | undefined => {
        const result = parseRecord(row[column], column, conform);
        if (result instanceof JsonRejectionReason) {
          reject(result.reason);
          return undefined;
        }
        if (make === undefined) return result;
        for (let j = 0; j < names.length; j++) values[j] = result[names[j] as string];
        for (let j = 0; j < keep.length; j++) values[names.length + j] = row[keep[j] as string] ?? null;
        return make(values);
      };

      const parseGroup = async (group: RowGroup, ctx: BatchContext): Promise<void> => {
        const out: Row[] = [];
        const rows = group.rows;
        for (let i = 0; i < rows.length; i++) {
          if (i > 0 && i % YIELD_EVERY_ROWS === 0) await yieldToEventLoop();
          const row = rows[i]!;
          const parsed = parseRow(row, (reason) => ctx.deadLetter({ partition: group.partition, reason, row }));
          if (parsed !== undefined) out.push(parsed);
        }
        group.rows = out;
      };

      const base: StreamOperator = {
        ...operatorBase('parseJson', context, `${column}:${JSON.stringify(schema)}:${keep.join(',')}`),
        id,
        schema: outSchema,
        async process(groups, ctx) {
          for (const group of groups) await parseGroup(group, ctx);
          return groups;
        },
      };
      if (!JsonColumnScanner.supports(schema)) return base;
      const remake = (input: Row): Row => {
        const row = parseRow(input, () => {});
        if (row === undefined) throw new Error('parseJson: a row that parsed before no longer parses');
        return row;
      };
      return {
        ...base,
        columnar: () => {
          // The packing buffer of groups scanned on this thread, reused by the next group: a fresh one
          // per batch costs its page faults and, as external memory, brings V8's full collections sooner.
          const scratch: PackingScratch = { bytes: new Uint8Array(0) };
          return {
            ...base,
            // The batches hold the parsed columns; kept columns are on the rows only (rowAt gives
            // them), so planning takes this variant only where an operator after it drops them.
            ...(keep.length > 0 ? { columnSchema: schema } : {}),
            async process(groups, ctx) {
              for (const group of groups) {
                const columns = await scanGroup(group, schema, column, parseRow, ctx, scratch);
                if (columns === undefined) await parseGroup(group, ctx);
                else {
                  group.columns = new SourcedColumnRows(columns.batch, columns.origin, group.rows, remake);
                  group.rows = [];
                }
              }
              return groups;
            },
          };
        },
      };
    },
  };
}

/** A reusable packing buffer (scanGroup). */
interface PackingScratch {
  bytes: Uint8Array;
}

/** Room for about the group's records as UTF-8 (one byte per character; pack grows it when short). */
function packedSizeOf(rows: readonly Row[], column: string): number {
  let size = 64;
  for (let i = 0; i < rows.length; i++) {
    const raw = rows[i]![column];
    if (typeof raw === 'string' || raw instanceof Uint8Array) size += raw.length;
  }
  return size;
}

/** A group's records being packed as UTF-8 into one buffer (pack). */
interface Packing {
  bytes: Uint8Array;
  /** Per record, the end of its bytes. */
  ends: Int32Array;
  /** rowOnly[i] = 1 for a record that takes the row path (not text or bytes); undefined while none. */
  rowOnly: Uint8Array | undefined;
  /** Records given as text, and the bytes used. */
  texts: number;
  at: number;
}

/**
 * Packs records [from, to) of `rows` (their `column`) into `p`. Synchronous, called per slice between
 * yields: V8 optimizes it once and keeps it, where the loop in the once-per-batch async scanGroup was
 * compiled again on stack whenever that function's code was dropped.
 */
function pack(p: Packing, rows: readonly Row[], column: string, from: number, to: number): void {
  for (let i = from; i < to; i++) {
    const raw = rows[i]![column];
    if (typeof raw === 'string' && isWellFormed(raw)) {
      // Lone surrogates would be written as U+FFFD: such text takes the row path (rowOnly).
      // Sized for one byte per character; the exact length only where 3 per character might not fit.
      if (p.at + raw.length * 3 > p.bytes.length) room(p, Buffer.byteLength(raw, 'utf8'));
      p.at += writeUtf8(p.bytes, raw, p.at);
      p.texts++;
    } else if (raw instanceof Uint8Array) {
      room(p, raw.length);
      p.bytes.set(raw, p.at);
      p.at += raw.length;
    } else {
      p.rowOnly ??= new Uint8Array(rows.length);
      p.rowOnly[i] = 1;
    }
    p.ends[i] = p.at;
  }
}

/** Grows p.bytes (doubling) to hold `more` bytes after p.at. */
function room(p: Packing, more: number): void {
  if (p.at + more <= p.bytes.length) return;
  const next = new Uint8Array(Math.max(p.bytes.length * 2, p.at + more));
  next.set(p.bytes.subarray(0, p.at));
  p.bytes = next;
}

/**
 * The columnar path of parseJson for one group: its records packed as UTF-8 and scanned into a
 * ColumnBatch (scanRecords), in a scan worker when the group is large and every record is packed text
 * (or every one bytes), else on this thread; the dead letters are sent here with their source rows.
 * Undefined (nothing emitted) when the caller must run the row path on the whole group.
 */
async function scanGroup(
  group: RowGroup,
  schema: StructType,
  column: string,
  parseRow: (row: Row, reject: (reason: string) => void) => Row | undefined,
  ctx: BatchContext,
  scratch: PackingScratch,
): Promise<{ batch: ColumnBatch; origin: Int32Array } | undefined> {
  const rows = group.rows;
  const n = rows.length;
  const size = packedSizeOf(rows, column);
  // A group a worker may scan gets its own buffer (it is transferred); others pack into the scratch.
  const pooled = n >= MIN_POOLED_RECORDS ? defaultScanPool() : null;
  // A new scratch has a quarter more room, so that the next groups, a little larger or smaller, fit it.
  const packing: Packing = {
    bytes:
      pooled !== null
        ? new Uint8Array(size)
        : scratch.bytes.length >= size
          ? scratch.bytes
          : new Uint8Array(size + (size >> 2)),
    ends: new Int32Array(n),
    rowOnly: undefined,
    texts: 0,
    at: 0,
  };
  const slice = 8 * YIELD_EVERY_ROWS;
  for (let from = 0; from < n; from += slice) {
    if (from > 0) await yieldToEventLoop();
    pack(packing, rows, column, from, Math.min(n, from + slice));
  }
  const { bytes, ends, rowOnly, texts } = packing;
  const records = { bytes, ends, rowOnly };
  const pool = rowOnly === undefined && (texts === 0 || texts === n) ? pooled : null;
  if (pooled === null) scratch.bytes = bytes;
  const scanned =
    pool !== null
      ? await pool.scan({ schema, column, records, text: texts === n })
      : await scanRecords(schema, records, (i, reject) => parseRow(rows[i]!, reject));
  if (scanned === undefined) return undefined;
  for (const { record, reason } of scanned.letters) {
    ctx.deadLetter({ partition: group.partition, reason, row: rows[record]! });
  }
  return { batch: scanned.batch, origin: scanned.origin };
}
