// parseJson(schema): parses a JSON text column (default 'value', as Kafka and the file source give
// it) against a schema, the way Spark's from_json with a schema does; a record that is not JSON or
// does not fit goes to the dead-letter destination with the reason, and is counted.

import { isWellFormed, writeUtf8 } from '../../common/strings.js';
import { YIELD_EVERY_ROWS, yieldToEventLoop } from '../../common/yield.js';
import { ColumnBatch } from '../../sinks/parquet/column-batch.js';
import { RejectedValue } from '../../sinks/parquet/errors.js';
import type { StructType } from '../../sinks/schema.js';
import { SourcedColumnRows } from '../column-rows.js';
import { JsonRejection, parsedJsonConformer } from '../input/conform-json.js';
import { JsonColumnScanner } from '../input/json-columns.js';
import { type BatchContext, type OperatorSpec, operatorBase, type StreamOperator } from '../operator.js';
import { rowMaker } from '../row-maker.js';
import type { Row, RowGroup } from '../types.js';

export interface ParseJsonOptions {
  /** The column holding the JSON text (or an already-parsed object). Default 'value'. */
  column?: string;
  /** Source columns to keep next to the parsed fields (e.g. ['topic', 'partition', 'offset']). */
  keep?: readonly string[];
}

function preview(value: unknown): string {
  const text = typeof value === 'string' ? value : String(value);
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}

/**
 * Parses `row[column]` with JSON.parse and conforms it to `schema` (fields outside the schema are
 * ignored, missing ones are null, numbers widen, timestamps must carry a zone). Integers beyond 2^53
 * lose precision in JSON.parse; declare such fields as string or decimal.
 *
 * When every operator after it and the sink take columns (and the schema is flat and primitive,
 * without `keep`), planning runs the columnar variant: each record's UTF-8 is scanned straight into
 * typed columns (JsonColumnScanner), records the scanner declines take the row path one by one, and
 * the outcome — rows, dead letters and their reasons — is the same.
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
        const raw = row[column];
        let parsed: unknown;
        // Fresh: made here by JSON.parse, so a value that already fits may be the row itself.
        let fresh = true;
        if (typeof raw === 'string') {
          try {
            parsed = JSON.parse(raw);
          } catch (error) {
            reject(`column '${column}' is not valid JSON (${(error as Error).message}): ${preview(raw)}`);
            return undefined;
          }
        } else if (raw instanceof Uint8Array) {
          try {
            parsed = JSON.parse(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('utf8'));
          } catch (error) {
            reject(`column '${column}' is not valid JSON (${(error as Error).message})`);
            return undefined;
          }
        } else if (raw === null || raw === undefined) {
          reject(`column '${column}' is null`);
          return undefined;
        } else {
          parsed = raw;
          fresh = false;
        }
        const result = conform(parsed, fresh);
        if (result instanceof JsonRejection) {
          reject(result.field ? `field '${result.field}': ${result.reason}` : result.reason);
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
      if (keep.length > 0 || !JsonColumnScanner.supports(schema)) return base;
      const remake = (input: Row): Row => {
        const row = parseRow(input, () => {});
        if (row === undefined) throw new Error('parseJson: a row that parsed before no longer parses');
        return row;
      };
      return {
        ...base,
        columnar: () => ({
          ...base,
          async process(groups, ctx) {
            for (const group of groups) {
              const columns = await scanGroup(group, schema, column, parseRow, ctx);
              if (columns === undefined) await parseGroup(group, ctx);
              else {
                group.columns = new SourcedColumnRows(columns.batch, columns.origin, group.rows, remake);
                group.rows = [];
              }
            }
            return groups;
          },
        }),
      };
    },
  };
}

/** Records seen before the columnar path may give up on a group whose records it mostly declines. */
const COLUMNAR_PROBE = 512;
// A plain Uint8Array (not a Buffer): its subarrays, which the scanner's copies take, are cheaper.
const scratchOf = (size: number) => new Uint8Array(Math.max(4096, size));
let scratch = scratchOf(0);

/**
 * The columnar path of parseJson for one group: each record's UTF-8 scanned into a ColumnBatch; a
 * record the scanner declines takes the row path (parseRow) and its row is appended in its place, or
 * it is a dead letter. Undefined — nothing emitted, the caller runs the row path on the whole group —
 * when more than one record in 8 is declined, or a row the row path makes cannot be held in the batch
 * (the row path hands it on, and a later operator or the writer decides).
 */
async function scanGroup(
  group: RowGroup,
  schema: StructType,
  column: string,
  parseRow: (row: Row, reject: (reason: string) => void) => Row | undefined,
  ctx: BatchContext,
): Promise<{ batch: ColumnBatch; origin: Int32Array } | undefined> {
  const rows = group.rows;
  const n = rows.length;
  const batch = new ColumnBatch(schema, n);
  const scanner = new JsonColumnScanner(schema, batch);
  const origin = new Int32Array(n);
  const letters: { reason: string; row: Row }[] = [];
  let declined = 0;
  for (let i = 0; i < n; i++) {
    if (i > 0 && i % YIELD_EVERY_ROWS === 0) await yieldToEventLoop();
    const row = rows[i]!;
    const raw = row[column];
    let taken = false;
    if (typeof raw === 'string') {
      // Lone surrogates would be written as U+FFFD: such text takes the row path.
      if (raw.length * 3 > scratch.length) scratch = scratchOf(raw.length * 3);
      taken = isWellFormed(raw) && scanner.scan(scratch, 0, writeUtf8(scratch, raw, 0));
    } else if (raw instanceof Uint8Array) taken = scanner.scan(raw, 0, raw.length);
    if (taken) {
      origin[batch.length - 1] = i;
      continue;
    }
    declined++;
    if (i + 1 >= COLUMNAR_PROBE && declined * 8 > i + 1) return undefined;
    const parsed = parseRow(row, (reason) => letters.push({ reason, row }));
    if (parsed === undefined) continue;
    try {
      batch.appendRow(parsed);
    } catch (error) {
      if (error instanceof RejectedValue) return undefined;
      throw error;
    }
    origin[batch.length - 1] = i;
  }
  for (const { reason, row } of letters) ctx.deadLetter({ partition: group.partition, reason, row });
  return { batch, origin };
}
