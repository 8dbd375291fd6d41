// select(...columns): keeps the named columns, optionally renamed ('old as new').

import type { StructType } from '../../sinks/schema.js';
import { StreamArgumentError } from '../errors.js';
import { mapGroups, type OperatorSpec, operatorBase, type StreamOperator } from '../operator.js';
import type { Row } from '../types.js';

function parseColumn(spec: string): { from: string; to: string } {
  const match = /^\s*(\S+)\s+as\s+(\S+)\s*$/i.exec(spec);
  return match ? { from: match[1]!, to: match[2]! } : { from: spec.trim(), to: spec.trim() };
}

/** Keeps `columns` in that order; `'a as b'` renames. Missing columns are null. */
export function select(...columns: string[]): OperatorSpec {
  if (columns.length === 0) throw new StreamArgumentError('select() needs at least one column', { option: 'select' });
  const parsed = columns.map(parseColumn);
  return {
    kind: 'select',
    plan(context): StreamOperator {
      let schema: StructType | undefined;
      if (context.schema) {
        const byName = new Map(context.schema.fields.map((f) => [f.name, f]));
        schema = {
          type: 'struct',
          fields: parsed.map(({ from, to }) => {
            const field = byName.get(from);
            if (!field) {
              throw new StreamArgumentError(
                `select: column '${from}' is not in the input (columns: ${[...byName.keys()].join(', ')})`,
                { option: 'select', column: from },
              );
            }
            return { ...field, name: to };
          }),
        };
      }
      const watermark =
        context.watermark && parsed.find((p) => p.from === context.watermark!.column)
          ? { ...context.watermark, column: parsed.find((p) => p.from === context.watermark!.column)!.to }
          : undefined;
      return {
        ...operatorBase('select', context, columns.join(',')),
        schema,
        watermark,
        process: (groups) =>
          mapGroups(groups, (rows) =>
            rows.map((row) => {
              const out: Row = {};
              for (const { from, to } of parsed) out[to] = row[from] ?? null;
              return out;
            }),
          ),
      };
    },
  };
}
