// withColumn(name, fn, type): adds or replaces one column computed from the row.

import type { DataType } from '../../sinks/schema.js';
import { mapGroups, type OperatorSpec, operatorBase, type StreamOperator } from '../operator.js';
import type { Row } from '../types.js';

/**
 * Sets `row[name] = fn(row)`. With `type`, the output schema (when the input's is known) gets the
 * column as a nullable field of that type; without it the output schema becomes unknown.
 */
export function withColumn(name: string, fn: (row: Row) => unknown, type?: DataType): OperatorSpec {
  return {
    kind: 'withColumn',
    plan(context): StreamOperator {
      let schema = undefined as typeof context.schema;
      if (context.schema && type !== undefined) {
        const field = { name, type, nullable: true, metadata: {} };
        const at = context.schema.fields.findIndex((f) => f.name === name);
        const fields = [...context.schema.fields];
        if (at >= 0) fields[at] = field;
        else fields.push(field);
        schema = { type: 'struct', fields };
      }
      return {
        ...operatorBase('withColumn', context, `${name}=${fn.toString()}:${JSON.stringify(type ?? null)}`),
        schema,
        process: (groups) =>
          mapGroups(groups, (rows) => {
            for (const row of rows) row[name] = fn(row);
            return rows;
          }),
      };
    },
  };
}
