// filter(predicate): keeps the rows for which the predicate is true (Spark's filter/where).

import { mapGroups, type OperatorSpec, operatorBase, type StreamOperator } from '../operator.js';
import type { Row } from '../types.js';

/**
 * Keeps rows where `predicate(row)` is true. `name` (default: the function's source text) is part
 * of the query fingerprint.
 */
export function filter(predicate: (row: Row) => boolean, name?: string): OperatorSpec {
  return {
    kind: 'filter',
    plan(context): StreamOperator {
      return {
        ...operatorBase('filter', context, name ?? predicate.toString()),
        process: (groups) => mapGroups(groups, (rows) => rows.filter(predicate)),
      };
    },
  };
}
