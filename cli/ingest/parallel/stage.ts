// parallelIngest: the ingest daemon's stateless pipeline (kafkaRecord → parseJson → transforms →
// finalize) and the Parquet encoding of its output, run in worker threads. The main thread keeps
// only what must be serial: reading Kafka, then the sink's commit. Each batch's records are cut
// into one task per worker; each task returns Delta data files encoded by the sink's current
// encoding plan plus the records its operators rejected, which become dead letters here, with the
// original Kafka row and the inner operator's id, exactly as the serial pipeline reports them.
// Used when the config has no dedup and no scale-out (stateful or per-row-origin work stays serial).

import { siblingModule, WorkerPool } from '../../../common/worker-pool.js';
import { type DeltaEncodingPlan, defaultSliceWriter } from '../../../sinks/delta/encoded-file.js';
import type { StructType } from '../../../sinks/schema.js';
import type { OperatorSpec, StreamOperator } from '../../../stream/operator.js';
import { planPipeline } from '../../../stream/plan.js';
import type { EncodedFile, Row, RowGroup } from '../../../stream/types.js';
import { ingestOperators } from '../operators.js';
import {
  type IngestStage,
  isText,
  type PackedBytes,
  type RecordChunk,
  runStage,
  type StageResult,
  type StageTask,
} from './task.js';

/** Fewest records worth a task of their own (smaller batches run as one task). */
const MIN_TASK_RECORDS = 4096;

/** Where the stage's files go: the sink's plan for the next files (DeltaSink.encodingPlan). */
export interface EncodingTarget {
  encodingPlan(): Promise<DeltaEncodingPlan>;
}

export interface ParallelIngestOptions {
  target: EncodingTarget;
  /** Worker threads; 0 runs the stage's one task per batch on the calling thread (for the columnar path). */
  workers: number;
  /**
   * Test seam: the worker module (default ./worker, which serves task.ts runStage). Fault-injection
   * tests give one that crashes mid-task.
   */
  workerModule?: URL;
}

export interface ParallelIngest extends OperatorSpec {
  /** Ends the worker threads (idle ones never keep the process alive). */
  close(): Promise<void>;
}

/** Splits the groups' records into at most `tasks` runs of near-equal size, at most one chunk per partition each. */
export function splitRecords(groups: readonly RowGroup[], tasks: number): RecordChunk[][] {
  let total = 0;
  for (const g of groups) total += g.rows.length;
  const per = Math.max(1, Math.ceil(total / Math.max(1, tasks)));
  const out: RecordChunk[][] = [];
  let current: RecordChunk[] = [];
  let room = per;
  for (const g of groups) {
    for (let start = 0; start < g.rows.length; ) {
      const n = Math.min(room, g.rows.length - start);
      current.push(chunkOf(g, start, n));
      start += n;
      room -= n;
      if (room === 0) {
        out.push(current);
        current = [];
        room = per;
      }
    }
  }
  if (current.length > 0) out.push(current);
  return out;
}

function chunkOf(group: RowGroup, start: number, n: number): RecordChunk {
  const offsets = new Float64Array(n);
  const timestamps = new Float64Array(n);
  const first = group.rows[start] as Row;
  for (let i = 0; i < n; i++) {
    const r = group.rows[start + i] as Row;
    offsets[i] = r.offset as number;
    timestamps[i] = (r.timestamp as Date).getTime();
  }
  return {
    partition: group.partition,
    topic: first.topic as string,
    kafkaPartition: first.partition as number,
    keys: column(group.rows, start, n, 'key'),
    values: column(group.rows, start, n, 'value'),
    offsets,
    timestamps,
  };
}

/** A column of rows[start, start + n): packed into one array when every item is bytes or null, else as is. */
function column(rows: readonly Row[], start: number, n: number, name: 'key' | 'value'): unknown[] | PackedBytes {
  let size = 0;
  let packable = true;
  for (let i = 0; i < n; i++) {
    const v = (rows[start + i] as Row)[name];
    if (v instanceof Uint8Array) size += v.length;
    else if (v !== null && v !== undefined) {
      packable = false;
      break;
    }
  }
  if (!packable) {
    const items: unknown[] = new Array(n);
    for (let i = 0; i < n; i++) items[i] = (rows[start + i] as Row)[name] ?? null;
    return items;
  }
  const bytes = new Uint8Array(size);
  const ends = new Int32Array(n);
  const nulls = new Uint8Array(n);
  let at = 0;
  for (let i = 0; i < n; i++) {
    const v = (rows[start + i] as Row)[name];
    if (v instanceof Uint8Array) {
      bytes.set(v, at);
      at += v.length;
    } else nulls[i] = 1;
    ends[i] = at;
  }
  return { bytes, ends, nulls };
}

/** The buffers of a task's chunks, transferred to the worker. */
function transfers(chunks: readonly RecordChunk[]): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  for (const c of chunks) {
    out.push(c.offsets.buffer as ArrayBuffer, c.timestamps.buffer as ArrayBuffer);
    for (const packed of [c.keys, c.values]) {
      if (!Array.isArray(packed)) {
        out.push(
          packed.bytes.buffer as ArrayBuffer,
          packed.ends.buffer as ArrayBuffer,
          packed.nulls.buffer as ArrayBuffer,
        );
      }
    }
  }
  return out;
}

/**
 * A record as the serial pipeline sees it (for its dead letter): the source's undecoded text
 * (KafkaSourceOptions.undecodedText) decoded where the source schema says string.
 */
function decodedRow(row: Row, schema: StructType): Row {
  const out: Row = { ...row };
  for (const name of ['key', 'value']) {
    const v = row[name];
    if (v instanceof Uint8Array && isText(schema, name))
      out[name] = Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('utf8');
  }
  return out;
}

/** The rows of `groups` by partition and offset, to find a rejected record's original row. */
function sourceRow(groups: readonly RowGroup[], partition: string, offset: number): Row | undefined {
  for (const g of groups) {
    if (g.partition !== partition) continue;
    let lo = 0;
    let hi = g.rows.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = (g.rows[mid] as Row).offset as number;
      if (v === offset) return g.rows[mid];
      if (v < offset) lo = mid + 1;
      else hi = mid - 1;
    }
  }
  return undefined;
}

export function parallelIngest(
  stage: Pick<IngestStage, 'format' | 'transforms'>,
  options: ParallelIngestOptions,
): ParallelIngest {
  let pool: WorkerPool<StageTask, StageResult> | undefined;
  const workers = options.workers;
  return {
    kind: 'parallelIngest',
    async close() {
      await pool?.close();
      pool = undefined;
    },
    plan(context): StreamOperator {
      if (!context.schema) throw new Error('parallelIngest needs the source schema');
      const full: IngestStage = { format: stage.format, transforms: stage.transforms, sourceSchema: context.schema };
      // Planned here too: config mistakes surface at startup exactly as in the serial pipeline.
      const inner = planPipeline(ingestOperators(full, { origin: false }), 'append', context.schema);
      return {
        id: `${context.index}-parallelIngest`,
        kind: 'parallelIngest',
        fingerprint: '',
        schema: inner.schema,
        watermark: undefined,
        async process(groups, ctx) {
          let total = 0;
          for (const g of groups) total += g.rows.length;
          if (total === 0) return groups;
          const plan = await options.target.encodingPlan();
          const tasks = splitRecords(groups, Math.max(1, Math.min(workers, Math.ceil(total / MIN_TASK_RECORDS))));
          const task = (chunks: RecordChunk[]): StageTask => ({
            stage: full,
            plan,
            batchId: ctx.batchId,
            batchTimestampMs: ctx.batchTimestampMs,
            watermarkMs: ctx.watermarkMs,
            chunks,
          });
          let results: StageResult[];
          if (workers === 0) {
            // On this thread; the Parquet writes in the encode pool, so reading goes on meanwhile.
            const write = defaultSliceWriter();
            results = [];
            for (const chunks of tasks) results.push(await runStage(task(chunks), { write }));
          } else {
            pool ??= new WorkerPool<StageTask, StageResult>(
              options.workerModule ?? siblingModule(import.meta.url, 'worker'),
              {
                size: workers,
                name: 'ingest worker',
                // A task's rows live until its files are encoded: a young generation that holds them
                // saves promoting them (measured: −5 % CPU per event in bench/kafka-ingest.ts).
                resourceLimits: { maxYoungGenerationSizeMb: 64 },
              },
            );
            const running = pool;
            results = await Promise.all(tasks.map((chunks) => running.run(task(chunks), transfers(chunks))));
          }
          const files: EncodedFile[] = [];
          for (const result of results) {
            for (const letter of result.letters) {
              const row = sourceRow(groups, letter.partition, letter.offset);
              if (!row) {
                throw new Error(`${letter.operator} rejected an unknown record ${letter.partition}@${letter.offset}`);
              }
              ctx.deadLetter({
                partition: letter.partition,
                reason: letter.reason,
                row: decodedRow(row, full.sourceSchema),
                operator: letter.operator,
              });
            }
            for (const [k, v] of Object.entries(result.custom))
              ctx.metrics.custom[k] = (ctx.metrics.custom[k] ?? 0) + v;
            files.push(...result.files);
          }
          return groups.map((g, i) => ({ partition: g.partition, rows: [], ...(i === 0 ? { files } : {}) }));
        },
      };
    },
  };
}
