// The stateless operators of an ingest pipeline, in order: kafkaRecord (coordinates) → parseJson
// (json format, keeping the coordinates) → the config's transforms → [dedup] → finalize. The serial
// pipeline runs them on the main thread; the parallel stage runs the same specs in worker threads.

import type { OperatorSpec } from '../../stream/operator.js';
import { parseJson } from '../../stream/operators/parse-json.js';
import type { IngestConfig } from './config.js';
import { finalize, KAFKA_COLUMNS, kafkaRecord, transformOperators } from './transforms.js';

export function ingestOperators(
  config: Pick<IngestConfig, 'format' | 'transforms'>,
  options: {
    /** Rows carry their source coordinates to the sink (scale-out). */
    origin: boolean;
    /** Operators between the transforms and finalize (dedup). */
    beforeFinalize?: readonly OperatorSpec[];
  },
): OperatorSpec[] {
  const operators: OperatorSpec[] = [kafkaRecord()];
  if (config.format.type === 'json') {
    operators.push(parseJson(config.format.schema, { column: 'value', keep: KAFKA_COLUMNS }));
  }
  operators.push(...transformOperators(config.transforms));
  operators.push(...(options.beforeFinalize ?? []));
  operators.push(finalize({ origin: options.origin }));
  return operators;
}
