// map(fn): transforms each row (a stateless projection that may change the schema).

import type { StructType } from '../../sinks/schema.js';
import { mapGroups, type OperatorSpec, operatorBase, type StreamOperator } from '../operator.js';
import type { Row } from '../types.js';

export interface MapOptions {
  /** The schema of the rows `fn` returns (unknown downstream otherwise). */
  schema?: StructType;
  /** Fingerprint text (default: the function's source). */
  name?: string;
}

/** Replaces each row with `fn(row)`. Return `undefined` to drop a row on purpose (counted as filtered). */
export function map(fn: (row: Row) => Row | undefined, options: MapOptions = {}): OperatorSpec {
  return {
    kind: 'map',
    plan(context): StreamOperator {
      return {
        ...operatorBase('map', context, options.name ?? fn.toString()),
        schema: options.schema,
        process: (groups) =>
          mapGroups(groups, (rows) => {
            const out: Row[] = [];
            for (const row of rows) {
              const mapped = fn(row);
              if (mapped !== undefined) out.push(mapped);
            }
            return out;
          }),
      };
    },
  };
}
