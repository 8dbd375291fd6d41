// withWatermark(column, delay): event-time tracking per source partition. The watermark proposed for
// the next batch is min over active partitions of (max event time − delay) — Flink's per-split rule,
// so a lagging partition's rows are not dropped because another partition ran ahead (Spark takes the
// max over partitions). A partition silent for `idleTimeout` (processing time) stops holding the
// watermark back, unless every partition is idle. Rows at or below the batch's watermark are late:
// dropped and counted (numRowsDroppedByWatermark).

import type { ColumnBatch } from '../../sinks/parquet/column-batch.js';
import type { StructType } from '../../sinks/schema.js';
import { StreamArgumentError } from '../errors.js';
import { type OperatorSpec, operatorBase, type StreamOperator } from '../operator.js';
import { type Duration, durationMs, eventTimeMs } from '../time.js';
import type { Row } from '../types.js';

export interface WithWatermarkOptions {
  /** A partition without rows for this long (processing time) is ignored by the min. Default: never idle. */
  idleTimeout?: Duration;
}

interface PartitionClock {
  /** Max event time seen (ms). */
  max: number;
  /** batchTimestampMs of the last batch with rows from the partition. */
  active: number;
}

const utf8 = new TextEncoder();
const utf8Decode = new TextDecoder();

function checkColumn(schema: StructType | undefined, column: string): void {
  if (!schema) return;
  const field = schema.fields.find((f) => f.name === column);
  if (!field) {
    throw new StreamArgumentError(
      `withWatermark: column '${column}' is not in the input (columns: ${schema.fields.map((f) => f.name).join(', ')})`,
      { option: 'withWatermark', column },
    );
  }
  if (field.type !== 'timestamp' && field.type !== 'long' && field.type !== 'date') {
    throw new StreamArgumentError(
      `withWatermark: column '${column}' has type ${JSON.stringify(field.type)}; an event-time column must be a timestamp`,
      { option: 'withWatermark', column },
    );
  }
}

/**
 * The event time (ms) of row `i` of timestamp column `c`, as eventTimeMs gives it for the row's value
 * on the row path: a canonical UTC text's µs floored to ms (eventTimeMs truncates the fraction), other
 * forms through eventTimeMs itself. Undefined for a null.
 */
export function columnEventTimeMs(batch: ColumnBatch, c: number, i: number): number | undefined {
  if (!batch.isValid(c, i)) return undefined;
  const sample = batch.sampleAt(c, i);
  if (sample !== undefined) return eventTimeMs(sample);
  const micros = batch.numberAt(c, i);
  return typeof micros === 'bigint' ? eventTimeMs(micros) : Math.floor(micros / 1000);
}

/**
 * The rows of `batch` whose event time (timestamp column `c`) is above `late`: keep[i] = 1 for them.
 * Rows without one (null) are appended to `missing`. Returns the greatest event time (-Infinity:
 * none) and the number of late rows. A synchronous loop of its own (not inside the operator's async
 * process): V8 optimizes it once and keeps it, where a hot loop in a once-per-batch async function is
 * compiled again on stack whenever the function's code was dropped.
 */
function admitEventTimes(
  batch: ColumnBatch,
  c: number,
  late: number,
  keep: Uint8Array,
  missing: number[],
): { max: number; late: number } {
  let max = Number.NEGATIVE_INFINITY;
  let dropped = 0;
  for (let i = 0; i < batch.length; i++) {
    const t = columnEventTimeMs(batch, c, i);
    if (t === undefined) {
      missing.push(i);
      continue;
    }
    if (t > max) max = t;
    if (t > late) keep[i] = 1;
    else dropped++;
  }
  return { max, late: dropped };
}

/**
 * Declares `column` as event time with an allowed lateness of `delay` ('10 minutes', ms). Values may
 * be Date, ISO-8601 text with a zone, epoch ms numbers or epoch µs bigints. A row whose event time is
 * null or unparseable goes to the dead-letter destination.
 */
export function withWatermark(column: string, delay: Duration, options: WithWatermarkOptions = {}): OperatorSpec {
  const delayMs = durationMs(delay, 'withWatermark.delay');
  const idleMs =
    options.idleTimeout === undefined ? undefined : durationMs(options.idleTimeout, 'withWatermark.idleTimeout');
  return {
    kind: 'withWatermark',
    plan(context): StreamOperator {
      checkColumn(context.schema, column);
      if (context.aggregated) {
        throw new StreamArgumentError('withWatermark must come before the aggregation it bounds', {
          option: 'withWatermark',
        });
      }
      return {
        ...operatorBase('withWatermark', context, `${column}:${delayMs}:${idleMs ?? 'none'}`),
        takesColumns: context.schema?.fields.find((f) => f.name === column)?.type === 'timestamp',
        state: { operator: 'withWatermark', key: 'partition:string', value: 'max,active:json' },
        watermark: { column, delayMs },
        async process(groups, ctx) {
          const store = ctx.state!;
          const late = ctx.watermarkMs > 0 ? ctx.watermarkMs : Number.NEGATIVE_INFINITY;
          const touched = new Map<string, number>();
          for (const group of groups) {
            const kept: Row[] = [];
            let max = Number.NEGATIVE_INFINITY;
            /** Whether a row of event time `t` (undefined: none) is kept; dead-letters or counts it otherwise. */
            const admit = (t: number | undefined, rowOf: () => Row): boolean => {
              if (t === undefined) {
                const row = rowOf();
                ctx.deadLetter({
                  partition: group.partition,
                  reason: `event-time column '${column}' is ${row[column] == null ? 'null' : `not a timestamp: ${String(row[column])}`}`,
                  row,
                });
                return false;
              }
              if (t > max) max = t;
              if (t > late) return true;
              ctx.metrics.numRowsDroppedByWatermark++;
              return false;
            };
            const columns = group.columns;
            if (columns !== undefined) {
              const { batch } = columns;
              const keep = new Uint8Array(batch.length);
              const missing: number[] = [];
              const scanned = admitEventTimes(batch, batch.indexOf(column), late, keep, missing);
              if (scanned.max > max) max = scanned.max;
              ctx.metrics.numRowsDroppedByWatermark += scanned.late;
              for (const i of missing) admit(undefined, () => columns.rowAt(i));
              columns.retain(keep);
            }
            for (const row of group.rows) if (admit(eventTimeMs(row[column]), () => row)) kept.push(row);
            group.rows = kept;
            if (max > Number.NEGATIVE_INFINITY)
              touched.set(group.partition, Math.max(max, touched.get(group.partition) ?? max));
          }
          const clocks = new Map<string, PartitionClock>();
          for await (const entry of store.scan('')) {
            clocks.set(utf8Decode.decode(entry.key), JSON.parse(utf8Decode.decode(entry.value)) as PartitionClock);
          }
          for (const [partition, max] of touched) {
            const previous = clocks.get(partition);
            const clock = { max: Math.max(max, previous?.max ?? max), active: ctx.batchTimestampMs };
            clocks.set(partition, clock);
            store.put(utf8.encode(partition), utf8.encode(JSON.stringify(clock)));
          }
          if (clocks.size === 0) return groups;
          let active = [...clocks.values()];
          if (idleMs !== undefined) {
            const live = active.filter((c) => ctx.batchTimestampMs - c.active < idleMs);
            if (live.length > 0) active = live;
          }
          ctx.proposeWatermark(Math.min(...active.map((c) => c.max)) - delayMs);
          return groups;
        },
      };
    },
  };
}
