// One task of the ingest daemon's parallel stage, and runStage, which a worker thread runs on it:
// Kafka records → the config's stateless operators (kafkaRecord → parseJson → transforms → finalize,
// the very specs of the serial pipeline) → Delta data files encoded by the sink's plan. Pure apart
// from its cache of planned operators: no Kafka, no storage, no threads (tests call it in-process).
//
// The columnar path: when the stage only parses JSON of a flat primitive schema into a table of the
// same columns (columnarSchema), each record's bytes are scanned straight into typed columns
// (stream/input/json-columns.ts → sinks/parquet/column-batch.ts) — no parsed object, no row, no
// string per value — and only the records the scanner declines run through the operators above. The
// files, stats and dead letters are those of the row path (test/cli/ingest/parallel/task.test.ts).

import {
  type BatchSliceWriter,
  type DeltaEncodedFile,
  type DeltaEncodingPlan,
  encodeBatchForPlan,
  encodeForPlan,
  planTakesBatch,
} from '../../../sinks/delta/encoded-file.js';
import { ColumnBatch } from '../../../sinks/parquet/column-batch.js';
import type { StructType } from '../../../sinks/schema.js';
import { JsonColumnScanner } from '../../../stream/input/json-columns.js';
import type { BatchContext, OperatorMetrics, StreamOperator } from '../../../stream/operator.js';
import { planPipeline } from '../../../stream/plan.js';
import type { Row, RowGroup } from '../../../stream/types.js';
import { columnarPipeline, type IngestConfig } from '../config.js';
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
  /** Records the columnar path scanned straight into columns (0 when the task took the row path). */
  scanned: number;
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
  const { ends, nulls } = column;
  const buffer = bufferOf(column);
  const out: unknown[] = new Array(n);
  let start = 0;
  for (let i = 0; i < n; i++) {
    const end = ends[i]!;
    out[i] = nulls[i] === 1 ? null : itemOf(buffer, start, end, text);
    start = end;
  }
  return out;
}

/** The packed bytes as a Buffer (a view). */
function bufferOf(packed: PackedBytes): Buffer {
  return Buffer.from(packed.bytes.buffer, packed.bytes.byteOffset, packed.bytes.byteLength);
}

/** Item [start, end) of packed bytes: UTF-8 decoded when `text`, else copied out. */
function itemOf(buffer: Buffer, start: number, end: number, text: boolean): unknown {
  return text ? buffer.toString('utf8', start, end) : new Uint8Array(buffer.subarray(start, end));
}

/** Options of runStage (tests). */
export interface RunStageOptions {
  /** Scan JSON records straight into columns where the stage allows it (default true); false: rows only. */
  columnar?: boolean;
  /** Writes the columnar path's Parquet files (default: on this thread). */
  write?: BatchSliceWriter;
}

/**
 * The JSON schema of a stage whose records the columnar path can take under `plan`: JSON format with
 * a flat primitive schema (JsonColumnScanner.supports), no transforms, values handed over as bytes,
 * and a table whose data columns are exactly the schema's (planTakesBatch). Else undefined.
 */
export function columnarSchema(task: StageTask): StructType | undefined {
  const { stage } = task;
  if (stage.format.type !== 'json' || !columnarPipeline(stage)) return undefined;
  const schema = stage.format.schema;
  if (!planTakesBatch(task.plan, schema)) return undefined;
  return task.chunks.every((c) => !Array.isArray(c.values)) ? schema : undefined;
}

/** Runs the stage's operators on the task's records and encodes their output by the plan. */
export async function runStage(task: StageTask, options: RunStageOptions = {}): Promise<StageResult> {
  const planned = stageOperators(task.stage);
  // The rows are built here in the shape kafkaRecord (the first operator) gives, so it is skipped.
  if (planned[0]?.kind !== 'kafkaRecord') throw new Error('the ingest stage must start with kafkaRecord');
  const operators = planned.slice(1);
  const schema = options.columnar === false ? undefined : columnarSchema(task);
  if (schema !== undefined) {
    const result = await runColumnar(task, operators, schema, options.write);
    if (result !== undefined) return result;
  }
  const keyText = isText(task.stage.sourceSchema, 'key');
  const valueText = isText(task.stage.sourceSchema, 'value');
  const groups: RowGroup[] = task.chunks.map((c) => {
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
  const rows: Row[] = [];
  for (const g of await runOperators(task, operators, groups, letters, custom))
    for (const row of g.rows) rows.push(row);
  const files = encodeForPlan(task.plan, rows);
  return { files, letters, numRows: rows.length, custom, scanned: 0 };
}

/** Runs `operators` on `groups`; rejected records go to `letters`, custom metrics are summed into `custom`. */
async function runOperators(
  task: StageTask,
  operators: readonly StreamOperator[],
  groups: RowGroup[],
  letters: StageLetter[],
  custom: Record<string, number>,
): Promise<RowGroup[]> {
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
  return groups;
}

/** Records seen before the columnar path may give up on a task whose records it mostly declines. */
const COLUMNAR_PROBE = 512;

/**
 * The columnar path: each record's JSON bytes are scanned straight into a ColumnBatch; a record the
 * scanner declines (see JsonColumnScanner) runs through the stage's operators alone, which make its
 * row (appended in its place, so rows keep their order) or its dead letter. Undefined when more than
 * one record in 8 is declined (the row path is then cheaper for the task).
 */
async function runColumnar(
  task: StageTask,
  operators: readonly StreamOperator[],
  schema: StructType,
  write: BatchSliceWriter | undefined,
): Promise<StageResult | undefined> {
  let total = 0;
  for (const c of task.chunks) total += c.offsets.length;
  const batch = new ColumnBatch(schema, total);
  const scanner = new JsonColumnScanner(schema, batch);
  const letters: StageLetter[] = [];
  const custom: Record<string, number> = {};
  const keyText = isText(task.stage.sourceSchema, 'key');
  const valueText = isText(task.stage.sourceSchema, 'value');
  let seen = 0;
  let declined = 0;
  for (const c of task.chunks) {
    const values = c.values as PackedBytes;
    const n = c.offsets.length;
    let i = 0;
    while (i < n) {
      const d = scanUntilDeclined(scanner, values, i, n);
      seen += d - i;
      if (d === n) break;
      i = d;
      seen++;
      declined++;
      if (seen >= COLUMNAR_PROBE && declined * 8 > seen) return undefined;
      const value = itemAt(values, i, valueText);
      const key = Array.isArray(c.keys) ? (c.keys[i] ?? null) : itemAt(c.keys, i, keyText);
      const row = kafkaRecordRow(key, value, c.topic, c.kafkaPartition, c.offsets[i], new Date(c.timestamps[i]!));
      const out = await runOperators(task, operators, [{ partition: c.partition, rows: [row] }], letters, custom);
      for (const g of out) for (const r of g.rows) batch.appendRow(r);
      i++;
    }
  }
  const files = await encodeBatchForPlan(task.plan, batch, write);
  return { files, letters, numRows: batch.length, custom, scanned: seen - declined };
}

/**
 * Scans records [from, n) of `values` into the scanner's batch until one is declined (or null): its
 * index, or n. A synchronous loop of its own (runColumnar awaits only for a declined record): V8
 * optimizes it once and keeps it, where the loop inside the async runColumnar was compiled again on
 * stack whenever a record took the other branch.
 */
function scanUntilDeclined(scanner: JsonColumnScanner, values: PackedBytes, from: number, n: number): number {
  const { bytes, ends, nulls } = values;
  let start = from === 0 ? 0 : ends[from - 1]!;
  for (let i = from; i < n; i++) {
    const end = ends[i]!;
    if (nulls[i] === 1 || !scanner.scan(bytes, start, end)) return i;
    start = end;
  }
  return n;
}

/** Item i of packed bytes (null, UTF-8 decoded when `text`, else copied out). */
function itemAt(packed: PackedBytes, i: number, text: boolean): unknown {
  if (packed.nulls[i] === 1) return null;
  return itemOf(bufferOf(packed), i === 0 ? 0 : packed.ends[i - 1]!, packed.ends[i]!, text);
}
