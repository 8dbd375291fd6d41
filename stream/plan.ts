// Planning a pipeline: OperatorSpecs → StreamOperators in order, threading schema, watermark and the
// stateful-operator history through PlanContext, and the query fingerprint stored in offsets/N.

import type { StructType } from '../sinks/schema.js';
import { UnsupportedOperationError } from './errors.js';
import type { OperatorSpec, StreamOperator } from './operator.js';
import type { OutputMode } from './types.js';

export interface PlannedPipeline {
  operators: readonly StreamOperator[];
  /** The schema of the output rows, when known. */
  schema: StructType | undefined;
  /** Columns identifying an output row (update-mode merge keys). */
  keyColumns: readonly string[];
  /** Fingerprint of the pipeline: one entry per operator id. */
  fingerprint: Readonly<Record<string, string>>;
  stateful: readonly StreamOperator[];
}

/** Plans `specs` for `outputMode`; refuses what Spark refuses (see streaming-semantics §1.4). */
export function planPipeline(
  specs: readonly OperatorSpec[],
  outputMode: OutputMode,
  inputSchema: StructType | undefined,
): PlannedPipeline {
  const operators: StreamOperator[] = [];
  let schema = inputSchema;
  let watermark: StreamOperator['watermark'];
  const statefulUpstream: string[] = [];
  let aggregated = false;
  let keyColumns: readonly string[] = [];
  let stateIndex = 0;
  specs.forEach((spec, index) => {
    let op = spec.plan({ index, outputMode, schema, watermark, statefulUpstream: [...statefulUpstream], aggregated });
    // Stateful operators are numbered among themselves, so adding or removing a stateless operator
    // (allowed on restart, as in Spark) does not move any state.
    if (op.state) op = { ...op, id: `${stateIndex++}-${op.kind}` };
    operators.push(op);
    schema = op.schema;
    watermark = op.watermark;
    if (op.state && op.kind !== 'withWatermark') statefulUpstream.push(op.kind);
    if (op.aggregation) {
      aggregated = true;
      keyColumns = op.keyColumns ?? [];
    }
  });
  if (!aggregated && outputMode === 'complete') {
    throw new UnsupportedOperationError(
      'Complete output mode not supported when there are no streaming aggregations on streaming DataFrames',
      { outputMode },
    );
  }
  // Only what state and output depend on is frozen: stateless operators may change between runs.
  const fingerprint: Record<string, string> = { outputMode };
  for (const op of operators) if (op.state) fingerprint[op.id] = op.fingerprint;
  return {
    operators,
    schema,
    keyColumns,
    fingerprint,
    stateful: operators.filter((op) => op.state !== undefined),
  };
}

/**
 * The pipeline with its last operator that can give columns (StreamOperator.columnar) switched to
 * columnar output, when every operator after it takes columns; unchanged otherwise. Call it only when
 * the sink takes columns. The fingerprint is unchanged: the outcome is the same.
 */
export function planColumnar(pipeline: PlannedPipeline): PlannedPipeline {
  const ops = pipeline.operators;
  for (let i = ops.length - 1; i >= 0; i--) {
    const op = ops[i]!;
    if (op.columnar !== undefined) {
      const columnar = op.columnar();
      // Its batches must hold exactly the pipeline's output columns (see StreamOperator.columnSchema).
      const holds = (columnar.columnSchema ?? columnar.schema)?.fields.map((f) => f.name).join('\0');
      if (holds !== pipeline.schema?.fields.map((f) => f.name).join('\0')) return pipeline;
      const operators = [...ops];
      operators[i] = columnar;
      return { ...pipeline, operators, stateful: operators.filter((o) => o.state !== undefined) };
    }
    if (!op.takesColumns) return pipeline;
  }
  return pipeline;
}
