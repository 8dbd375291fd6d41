// parseJson(schema): parses a JSON text column (default 'value', as Kafka and the file source give
// it) against a schema, the way Spark's from_json with a schema does; a record that is not JSON or
// does not fit goes to the dead-letter destination with the reason, and is counted.

import type { StructType } from '../../sinks/schema.js';
import { JsonRejection, parsedJsonConformer } from '../input/conform-json.js';
import { type OperatorSpec, operatorBase, type StreamOperator } from '../operator.js';
import { rowMaker } from '../row-maker.js';
import type { Row } from '../types.js';

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
      return {
        ...operatorBase('parseJson', context, `${column}:${JSON.stringify(schema)}:${keep.join(',')}`),
        id,
        schema: outSchema,
        process(groups, ctx) {
          for (const group of groups) {
            const out: Row[] = [];
            for (const row of group.rows) {
              const raw = row[column];
              let parsed: unknown;
              // Fresh: made here by JSON.parse, so a value that already fits may be the row itself.
              let fresh = true;
              if (typeof raw === 'string') {
                try {
                  parsed = JSON.parse(raw);
                } catch (error) {
                  ctx.deadLetter({
                    partition: group.partition,
                    reason: `column '${column}' is not valid JSON (${(error as Error).message}): ${preview(raw)}`,
                    row,
                  });
                  continue;
                }
              } else if (raw instanceof Uint8Array) {
                try {
                  parsed = JSON.parse(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('utf8'));
                } catch (error) {
                  ctx.deadLetter({
                    partition: group.partition,
                    reason: `column '${column}' is not valid JSON (${(error as Error).message})`,
                    row,
                  });
                  continue;
                }
              } else if (raw === null || raw === undefined) {
                ctx.deadLetter({ partition: group.partition, reason: `column '${column}' is null`, row });
                continue;
              } else {
                parsed = raw;
                fresh = false;
              }
              const result = conform(parsed, fresh);
              if (result instanceof JsonRejection) {
                ctx.deadLetter({
                  partition: group.partition,
                  reason: result.field ? `field '${result.field}': ${result.reason}` : result.reason,
                  row,
                });
                continue;
              }
              if (make === undefined) {
                out.push(result);
                continue;
              }
              for (let j = 0; j < names.length; j++) values[j] = result[names[j] as string];
              for (let j = 0; j < keep.length; j++) values[names.length + j] = row[keep[j] as string] ?? null;
              out.push(make(values));
            }
            group.rows = out;
          }
          return groups;
        },
      };
    },
  };
}
