// One task of the ingest daemon's parallel stage, and runStage, which a worker thread runs on it:
// Kafka records → the config's stateless operators (kafkaRecord → parseJson → transforms → finalize,
// the very specs of the serial pipeline) → Delta data files encoded by the sink's plan. Pure apart
// from its cache of planned operators: no Kafka, no storage, no threads (tests call it in-process).

import { type DeltaEncodedFile, type DeltaEncodingPlan, encodeForPlan } from '../../../sinks/delta/encoded-file.js';
import type { StructType } from '../../../sinks/schema.js';
import type { BatchContext, OperatorMetrics, StreamOperator } from '../../../stream/operator.js';
import { planPipeline } from '../../../stream/plan.js';
import type { Row, RowGroup } from '../../../stream/types.js';
import type { IngestConfig } from '../config.js';
import { ingestOperators } from '../operators.js';
import { kafkaRecordRow } from '../transforms.js';

/** The part of an ingest config the stage runs (plain data: it is posted to the workers). */
export interface IngestStage {
  format: IngestConfig['format'];
  transforms: IngestConfig['transforms'];
  /** The KafkaSource's row schema (key/value types follow its formats). */
  sourceSchema: StructType;
}

/**
 * Byte strings packed into one array (transferred, not cloned): item i is bytes[ends[i-1], ends[i])
 * (from 0 for i = 0), or null when `nulls[i]` is 1.
 */
export interface PackedBytes {
  bytes: Uint8Array;
  ends: Int32Array;
  nulls: Uint8Array;
}

/** Consecutive records of one Kafka partition, as columns. */
export interface RecordChunk {
  /** The source's partition id ('<topic>-<partition>'). */
  partition: string;
  topic: string;
  kafkaPartition: number;
  /**
   * The records' keys and values: as the source gives them, or packed when they are bytes — the
   * source's undecoded text (KafkaSourceOptions.undecodedText) or binary — and then made here into
   * what the source schema's type says (a string decoded from UTF-8, or a Uint8Array).
   */
  keys: unknown[] | PackedBytes;
  values: unknown[] | PackedBytes;
  /** Ascending. */
  offsets: Float64Array;
  /** Epoch ms. */
  timestamps: Float64Array;
}

export interface StageTask {
  stage: IngestStage;
  plan: DeltaEncodingPlan;
  batchId: number;
  batchTimestampMs: number;
  watermarkMs: number;
  /** At most one chunk per partition. */
  chunks: RecordChunk[];
}

/** A record an inner operator rejected, by its coordinates. */
export interface StageLetter {
  /** The source's partition id. */
  partition: string;
  offset: number;
  reason: string;
  /** The inner operator's id, as the serial pipeline names it ('1-parseJson'). */
  operator: string;
}

export interface StageResult {
  files: DeltaEncodedFile[];
  letters: StageLetter[];
  /** Rows written to the files. */
  numRows: number;
  /** The inner operators' custom metrics, summed. */
  custom: Record<string, number>;
}

const planned = new Map<string, readonly StreamOperator[]>();

/** The stage's operators, planned once per stage (the same ids and checks as the serial pipeline). */
export function stageOperators(stage: IngestStage): readonly StreamOperator[] {
  const key = JSON.stringify(stage);
  let operators = planned.get(key);
  if (!operators) {
    operators = planPipeline(ingestOperators(stage, { origin: false }), 'append', stage.sourceSchema).operators;
    planned.set(key, operators);
  }
  return operators;
}

/** Whether the source schema's column `name` is text (its bytes are UTF-8 decoded to a string). */
export function isText(schema: StructType, name: string): boolean {
  return schema.fields.find((f) => f.name === name)?.type === 'string';
}

/** The items of a column: as given, or unpacked (UTF-8 decoded when `text`, else copied out as bytes). */
export function unpack(column: unknown[] | PackedBytes, n: number, text: boolean): unknown[] {
  if (Array.isArray(column)) return column;
  const { bytes, ends, nulls } = column;
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: unknown[] = new Array(n);
  let start = 0;
  for (let i = 0; i < n; i++) {
    const end = ends[i]!;
    out[i] = nulls[i] === 1 ? null : text ? buffer.toString('utf8', start, end) : bytes.slice(start, end);
    start = end;
  }
  return out;
}

/** Runs the stage's operators on the task's records and encodes their output by the plan. */
export async function runStage(task: StageTask): Promise<StageResult> {
  const planned = stageOperators(task.stage);
  // The rows are built here in the shape kafkaRecord (the first operator) gives, so it is skipped.
  if (planned[0]?.kind !== 'kafkaRecord') throw new Error('the ingest stage must start with kafkaRecord');
  const operators = planned.slice(1);
  const keyText = isText(task.stage.sourceSchema, 'key');
  const valueText = isText(task.stage.sourceSchema, 'value');
  let groups: RowGroup[] = task.chunks.map((c) => {
    const n = c.offsets.length;
    const keys = unpack(c.keys, n, keyText);
    const values = unpack(c.values, n, valueText);
    const rows: Row[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const timestamp = new Date(c.timestamps[i] as number);
      rows[i] = kafkaRecordRow(keys[i] ?? null, values[i] ?? null, c.topic, c.kafkaPartition, c.offsets[i], timestamp);
    }
    return { partition: c.partition, rows };
  });
  const letters: StageLetter[] = [];
  const custom: Record<string, number> = {};
  for (const op of operators) {
    const metrics: OperatorMetrics = { numRowsDroppedByWatermark: 0, numDeadLetters: 0, custom: {} };
    const ctx: BatchContext = {
      batchId: task.batchId,
      batchTimestampMs: task.batchTimestampMs,
      watermarkMs: task.watermarkMs,
      state: undefined,
      metrics,
      deadLetter: (letter) => {
        const offset = letter.row['kafka.offset'];
        if (typeof offset !== 'number') {
          // Every row carries its record's offset to the end of the stage; losing it is a bug.
          throw new Error(`${op.id} rejected a row of ${letter.partition} that has no source offset`);
        }
        letters.push({ partition: letter.partition, offset, reason: letter.reason, operator: op.id });
      },
      proposeWatermark: () => {},
    };
    groups = await op.process(groups, ctx);
    for (const [k, v] of Object.entries(metrics.custom)) custom[k] = (custom[k] ?? 0) + v;
  }
  const rows: Row[] = [];
  for (const g of groups) for (const row of g.rows) rows.push(row);
  const files = encodeForPlan(task.plan, rows);
  return { files, letters, numRows: rows.length, custom };
}
