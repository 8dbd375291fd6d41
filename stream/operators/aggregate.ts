// aggregate({ groupBy, window, aggs }): Spark's streaming aggregation (groupBy(...).agg(...), with an
// optional event-time window) on the state store, with Spark's output modes and watermark rules:
// - append: a group is written once, when the watermark passes its window end (or its event-time
//   key), then its state is dropped;
// - update: the groups changed by the batch are written; closed groups are evicted silently;
// - complete: every group is written every batch; nothing is evicted and no row is late.
//
// State layout (tuple keys, state/codec.ts), with groupKey = [windowStart?, ...groupBy values]:
//   ['g', ...groupKey]                 → [dateColumns, ...accumulator states]   (encodeState)
//   ['i', closeMs, ...groupKey]         → ''   eviction index, range-scanned up to the watermark
//   ['d', ...groupKey, aggIndex, value] → ''   one key per distinct value of a countDistinct
// closeMs is the window end, or the event time of the groupBy column carrying the watermark.
// Byte order of the 'g' keys is (window start, group values): the output order of every mode.

import type { StructField, StructType } from '../../sinks/schema.js';
import { decodeKey, encodeKey, type KeyPart, prefixEnd } from '../../state/codec.js';
import { StreamArgumentError, UnsupportedOperationError } from '../errors.js';
import {
  type BatchContext,
  type OperatorSpec,
  operatorBase,
  type PlanContext,
  type StreamOperator,
  type WatermarkSpec,
} from '../operator.js';
import type { StateStore } from '../state-store.js';
import { eventTimeMs } from '../time.js';
import type { Row, RowGroup } from '../types.js';
import {
  type Accumulator,
  type AggregateFunction,
  accumulatorOf,
  aggregateResultType,
  checkAggregateInput,
  decodeState,
  describeAggregate,
  encodeState,
  isAggregateFunction,
  keyValueOf,
} from './aggregations.js';
import { describeWindow, validateWindow, type WindowSpec, windowStarts } from './window.js';

export interface AggregateOptions {
  /** Grouping columns; values are compared with strict equality after normalising Date → ms. */
  groupBy?: readonly string[];
  /** An event-time window (window('ts', '10 minutes', '5 minutes')); adds the output column `window`. */
  window?: WindowSpec;
  /** Output column → aggregate function, e.g. { events: count(), total: sum('amount') }. */
  aggs: Readonly<Record<string, AggregateFunction>>;
}

/** The output column holding { start: Date, end: Date } of a windowed aggregation. */
export const WINDOW_COLUMN = 'window';

const KIND = 'aggregate';
const EMPTY = Uint8Array.of(0);
const TAG_G = encodeKey(['g']);
const TAG_I = encodeKey(['i']);

const WINDOW_FIELD: StructField = {
  name: WINDOW_COLUMN,
  type: {
    type: 'struct',
    fields: [
      { name: 'start', type: 'timestamp', nullable: true, metadata: {} },
      { name: 'end', type: 'timestamp', nullable: true, metadata: {} },
    ],
  },
  nullable: false,
  metadata: {},
};

const EVENT_TIME_TYPES: ReadonlySet<string> = new Set(['timestamp', 'timestamp_ntz', 'date', 'long', 'string']);

/** Which key part closes a group once the watermark passes it. */
type Closing = { kind: 'window' } | { kind: 'column'; column: string };

function checkOptions(options: AggregateOptions): void {
  const groupBy = options.groupBy ?? [];
  if (!Array.isArray(groupBy)) {
    throw new StreamArgumentError('aggregate: groupBy must be an array of column names', {
      option: 'aggregate.groupBy',
    });
  }
  if (options.aggs === null || typeof options.aggs !== 'object') {
    throw new StreamArgumentError('aggregate: aggs must be an object of output column → aggregate function', {
      option: 'aggregate.aggs',
    });
  }
  const names = new Set<string>();
  const claim = (name: string, what: string): void => {
    if (names.has(name)) {
      throw new StreamArgumentError(`aggregate: output column '${name}' appears twice (${what})`, {
        option: 'aggregate',
        column: name,
      });
    }
    names.add(name);
  };
  for (const column of groupBy) {
    if (typeof column !== 'string' || column === '') {
      throw new StreamArgumentError(
        `aggregate: groupBy columns must be non-empty strings, got ${JSON.stringify(column)}`,
        {
          option: 'aggregate.groupBy',
        },
      );
    }
    claim(column, 'groupBy column');
  }
  if (options.window !== undefined) {
    validateWindow(options.window);
    claim(WINDOW_COLUMN, 'the window column of a windowed aggregation');
  }
  for (const [name, fn] of Object.entries(options.aggs)) {
    if (!isAggregateFunction(fn)) {
      throw new StreamArgumentError(
        `aggregate: aggs.${name} is not an aggregate function (use count(), sum('col'), min, max, avg, countDistinct)`,
        { option: 'aggregate.aggs', column: name },
      );
    }
    claim(name, 'aggregate column');
  }
  if (groupBy.length === 0 && options.window === undefined && names.size === 0) {
    throw new StreamArgumentError('aggregate: needs at least one of groupBy, window or aggs', { option: 'aggregate' });
  }
}

function fieldOf(schema: StructType, column: string, what: string): StructField {
  const field = schema.fields.find((f) => f.name === column);
  if (!field) {
    throw new StreamArgumentError(
      `aggregate: ${what} '${column}' is not in the input (columns: ${schema.fields.map((f) => f.name).join(', ')})`,
      { option: 'aggregate', column },
    );
  }
  return field;
}

/** Output schema, or undefined when an input type it depends on is unknown. */
function outputSchema(options: AggregateOptions, schema: StructType | undefined): StructType | undefined {
  const fields: StructField[] = [];
  for (const column of options.groupBy ?? []) {
    const field = schema?.fields.find((f) => f.name === column);
    if (!field) return undefined;
    fields.push({ ...field, metadata: { ...field.metadata } });
  }
  if (options.window) fields.push(WINDOW_FIELD);
  for (const [name, fn] of Object.entries(options.aggs)) {
    const input = fn.column === undefined ? undefined : schema?.fields.find((f) => f.name === fn.column)?.type;
    const result = aggregateResultType(fn, input);
    if (!result) return undefined;
    fields.push({ name, type: result.type, nullable: result.nullable, metadata: {} });
  }
  return { type: 'struct', fields };
}

function checkPlan(options: AggregateOptions, context: PlanContext): Closing | undefined {
  const groupBy = options.groupBy ?? [];
  const win = options.window;
  if (context.aggregated) {
    throw new UnsupportedOperationError(
      'Multiple streaming aggregations are not supported with streaming DataFrames/Datasets: aggregate() after another aggregation',
      { operator: KIND },
    );
  }
  const schema = context.schema;
  if (schema) {
    for (const column of groupBy) fieldOf(schema, column, 'groupBy column');
    if (win) {
      const field = fieldOf(schema, win.column, 'window column');
      if (typeof field.type !== 'string' || !EVENT_TIME_TYPES.has(field.type)) {
        throw new StreamArgumentError(
          `aggregate: window column '${win.column}' has type ${JSON.stringify(field.type)}; a window needs a timestamp column`,
          { option: 'aggregate.window', column: win.column },
        );
      }
    }
    for (const [name, fn] of Object.entries(options.aggs)) {
      if (fn.column !== undefined) checkAggregateInput(name, fn, fieldOf(schema, fn.column, `column of aggs.${name}`));
    }
  }
  const watermark = context.watermark;
  let closing: Closing | undefined;
  if (watermark) {
    if (win && win.column === watermark.column) closing = { kind: 'window' };
    else if (groupBy.includes(watermark.column)) {
      closing = { kind: 'column', column: watermark.column };
    }
  }
  if (context.outputMode === 'append' && !closing) {
    const base =
      'Append output mode not supported when there are streaming aggregations on streaming DataFrames/DataSets without watermark';
    const detail = !watermark
      ? 'call withWatermark(column, delay) on the event-time column before aggregate()'
      : `the watermark column '${watermark.column}' is neither the window column${win ? ` '${win.column}'` : ''} nor a groupBy column`;
    throw new UnsupportedOperationError(`${base}: ${detail} (or use update or complete mode)`, {
      operator: KIND,
      outputMode: 'append',
      watermarkColumn: watermark?.column,
    });
  }
  return closing;
}

/** A Map key for key bytes (one char per byte). */
function idOf(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

function bump(ctx: BatchContext, name: string, by: number): void {
  ctx.metrics.custom[name] = (ctx.metrics.custom[name] ?? 0) + by;
}

/** A group touched by the batch. */
interface Pending {
  groupKey: KeyPart[];
  gKey: Uint8Array;
  closeMs: number | undefined;
  /** groupBy indexes whose first-seen value was a Date. */
  dates: number[];
  rows: Row[];
  /** countDistinct values seen in the batch: state key → agg index. */
  distinct: Map<string, { key: Uint8Array; agg: number }>;
}

/** One output row with its 'g' key (for ordering). */
interface Emitted {
  gKey: Uint8Array;
  row: Row;
}

function planAggregate(options: AggregateOptions, context: PlanContext): StreamOperator {
  checkOptions(options);
  const closing = checkPlan(options, context);
  const groupBy = [...(options.groupBy ?? [])];
  const win = options.window;
  const aggNames = Object.keys(options.aggs);
  const fns = aggNames.map((name) => options.aggs[name]!);
  const accumulators: Accumulator[] = fns.map(accumulatorOf);
  const distinctAggs = fns.flatMap((fn, i) => (fn.kind === 'countDistinct' ? [i] : []));
  const mode = context.outputMode;
  // Complete mode keeps every group and accepts late rows (Spark: watermarks cannot drop state there).
  const evicting = closing !== undefined && mode !== 'complete';
  const prefixParts = win ? 1 : 0;

  const config = {
    groupBy,
    window: win ? describeWindow(win) : 'none',
    aggs: aggNames.map((name, i) => `${name}=${describeAggregate(fns[i]!)}`),
  };
  const closingText =
    closing === undefined ? 'none' : closing.kind === 'window' ? `${WINDOW_COLUMN}.end` : closing.column;
  // The downstream watermark: still on the groupBy column if it carries it; a window struct cannot be one.
  const watermarkOut: WatermarkSpec | undefined = closing?.kind === 'column' ? context.watermark : undefined;

  function toRow(groupKey: readonly KeyPart[], state: readonly unknown[]): Row {
    const dates = (state[0] as number[] | undefined) ?? [];
    const row: Row = {};
    groupBy.forEach((column, i) => {
      const part = groupKey[prefixParts + i];
      row[column] = dates.includes(i) && typeof part === 'number' ? new Date(part) : part;
    });
    if (win) {
      const start = groupKey[0] as number;
      row[WINDOW_COLUMN] = { start: new Date(start), end: new Date(start + win.sizeMs) };
    }
    aggNames.forEach((name, i) => {
      row[name] = accumulators[i]!.result(state[i + 1]);
    });
    return row;
  }

  /** Deletes the groups whose close time is <= the watermark; returns them as rows when `emit`. */
  async function evictClosed(
    store: StateStore,
    watermarkMs: number,
    emit: boolean,
  ): Promise<{ emitted: Emitted[]; count: number }> {
    const indexKeys: Uint8Array[] = [];
    const groupKeys: KeyPart[][] = [];
    for await (const entry of store.range(TAG_I, prefixEnd(encodeKey(['i', watermarkMs])))) {
      indexKeys.push(entry.key);
      groupKeys.push(decodeKey(entry.key).slice(2));
    }
    if (indexKeys.length === 0) return { emitted: [], count: 0 };
    const gKeys = groupKeys.map((k) => encodeKey(['g', ...k]));
    const values = emit ? await store.getMany(gKeys) : [];
    const distinctKeys: Uint8Array[] = [];
    if (distinctAggs.length > 0) {
      for (const groupKey of groupKeys) {
        for await (const entry of store.scan(encodeKey(['d', ...groupKey]))) distinctKeys.push(entry.key);
      }
    }
    const emitted: Emitted[] = [];
    gKeys.forEach((gKey, i) => {
      const value = values[i];
      if (emit && value !== undefined) emitted.push({ gKey, row: toRow(groupKeys[i]!, decodeState(value)) });
      store.delete(gKey);
      store.delete(indexKeys[i]!);
    });
    for (const key of distinctKeys) store.delete(key);
    return { emitted, count: indexKeys.length };
  }

  const base = operatorBase(KIND, context, JSON.stringify(config));
  return {
    ...base,
    schema: outputSchema(options, context.schema),
    watermark: watermarkOut,
    state: {
      operator: KIND,
      layout: 'g/i/d-v1',
      keys: JSON.stringify(groupBy),
      window: config.window,
      aggs: config.aggs.join(';'),
      closing: closingText,
    },
    keyColumns: win ? [...groupBy, WINDOW_COLUMN] : groupBy,
    aggregation: true,
    runsOnWatermarkAdvance: evicting,

    async process(groups: RowGroup[], ctx: BatchContext): Promise<RowGroup[]> {
      const store = ctx.state!;
      const watermarkMs = ctx.watermarkMs;
      const dropLate = evicting && watermarkMs > 0;
      const pending = new Map<string, Pending>();
      let dropped = 0;

      for (const group of groups) {
        for (const row of group.rows) {
          const reject = (reason: string): void => ctx.deadLetter({ partition: group.partition, reason, row });
          let eventMs: number | undefined;
          if (win) {
            eventMs = eventTimeMs(row[win.column]);
            if (eventMs === undefined) {
              const value = row[win.column];
              reject(
                `window column '${win.column}' is ${value == null ? 'null' : `not a timestamp: ${String(value)}`}`,
              );
              continue;
            }
          }
          const parts: KeyPart[] = [];
          const dates: number[] = [];
          let bad: string | undefined;
          for (let i = 0; i < groupBy.length && bad === undefined; i++) {
            const key = keyValueOf(row[groupBy[i]!]);
            if ('reason' in key) bad = `groupBy column '${groupBy[i]}': ${key.reason}`;
            else {
              parts.push(key.part);
              if (key.date) dates.push(i);
            }
          }
          if (bad !== undefined) {
            reject(bad);
            continue;
          }
          let columnCloseMs: number | undefined;
          if (closing?.kind === 'column') {
            columnCloseMs = eventTimeMs(row[closing.column]);
            if (columnCloseMs === undefined) {
              const value = row[closing.column];
              reject(
                `event-time column '${closing.column}' is ${value == null ? 'null' : `not a timestamp: ${String(value)}`}`,
              );
              continue;
            }
          }
          for (let i = 0; i < fns.length && bad === undefined; i++) {
            const column = fns[i]!.column;
            if (column === undefined) continue;
            const reason = accumulators[i]!.reject(row[column]);
            if (reason !== undefined)
              bad = `column '${column}' of aggs.${aggNames[i]} = ${describeAggregate(fns[i]!)}: ${reason}`;
          }
          if (bad !== undefined) {
            reject(bad);
            continue;
          }
          const starts: (number | undefined)[] = win ? windowStarts(eventMs!, win) : [undefined];
          for (const start of starts) {
            const closeMs = closing?.kind === 'window' ? start! + win!.sizeMs : columnCloseMs;
            if (dropLate && closeMs! <= watermarkMs) {
              dropped++;
              continue;
            }
            const groupKey = start === undefined ? parts : [start, ...parts];
            const gKey = encodeKey(['g', ...groupKey]);
            const id = idOf(gKey);
            let entry = pending.get(id);
            if (!entry) {
              entry = { groupKey, gKey, closeMs, dates, rows: [], distinct: new Map() };
              pending.set(id, entry);
            }
            entry.rows.push(row);
            for (const agg of distinctAggs) {
              const value = keyValueOf(row[fns[agg]!.column!]);
              if ('reason' in value || value.part === null) continue;
              const key = encodeKey(['d', ...groupKey, agg, value.part]);
              entry.distinct.set(idOf(key), { key, agg });
            }
          }
        }
      }
      ctx.metrics.numRowsDroppedByWatermark += dropped;

      // One read for every touched group and every distinct value seen.
      const touched = [...pending.values()];
      const distinctEntries = touched.flatMap((p) => [...p.distinct.values()]);
      const existing =
        touched.length > 0
          ? await store.getMany([...touched.map((p) => p.gKey), ...distinctEntries.map((d) => d.key)])
          : [];
      const distinctSeen = new Set<string>();
      distinctEntries.forEach((d, i) => {
        if (existing[touched.length + i] !== undefined) distinctSeen.add(idOf(d.key));
      });

      const updated: Emitted[] = [];
      touched.forEach((entry, i) => {
        const stored = existing[i];
        const state: unknown[] = stored ? decodeState(stored) : [entry.dates, ...accumulators.map((a) => a.init())];
        if (!stored && closing !== undefined && entry.closeMs !== undefined) {
          store.put(encodeKey(['i', entry.closeMs, ...entry.groupKey]), EMPTY);
        }
        for (const row of entry.rows) {
          for (let a = 0; a < accumulators.length; a++) {
            const fn = fns[a]!;
            if (fn.kind === 'countDistinct') continue;
            state[a + 1] = accumulators[a]!.add(state[a + 1], fn.column === undefined ? undefined : row[fn.column]);
          }
        }
        for (const [id, { key, agg }] of entry.distinct) {
          if (distinctSeen.has(id)) continue;
          state[agg + 1] = accumulators[agg]!.add(state[agg + 1], undefined);
          store.put(key, EMPTY);
        }
        store.put(entry.gKey, encodeState(state));
        if (mode === 'update') updated.push({ gKey: entry.gKey, row: toRow(entry.groupKey, state) });
      });
      bump(ctx, 'numGroupsUpdated', touched.length);

      let output: Emitted[] = [];
      let evicted = 0;
      if (mode === 'complete') {
        for await (const entry of store.scan(TAG_G)) {
          output.push({ gKey: entry.key, row: toRow(decodeKey(entry.key).slice(1), decodeState(entry.value)) });
        }
      } else {
        output = updated;
        if (evicting && watermarkMs > 0) {
          const closed = await evictClosed(store, watermarkMs, mode === 'append');
          evicted = closed.count;
          if (mode === 'append') output = closed.emitted;
        }
      }
      output.sort((a, b) => compareBytes(a.gKey, b.gKey));
      bump(ctx, 'numWindowsEmitted', output.length);
      bump(ctx, 'numWindowsEvicted', evicted);
      return output.length > 0 ? [{ partition: base.id, rows: output.map((o) => o.row) }] : [];
    },
  };
}

/**
 * A streaming aggregation (Spark's `groupBy(cols…, window(…)).agg(…)`): output rows hold the groupBy
 * columns, then `window: { start: Date, end: Date }` when windowed, then one column per aggregate.
 *
 * Planning refuses what Spark refuses: append mode without a watermark on the window column (or a
 * groupBy column), an aggregation after another aggregation, unknown columns of a known input schema.
 * With a watermark on the window (or groupBy) column, append mode writes each group once after the
 * watermark passes its window end and drops its state; update mode writes changed groups and evicts
 * closed ones; rows for closed windows are late (dropped, counted). Complete mode keeps everything.
 */
export function aggregate(options: AggregateOptions): OperatorSpec {
  checkOptions(options);
  return { kind: KIND, plan: (context) => planAggregate(options, context) };
}
