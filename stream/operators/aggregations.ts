// Aggregate functions of aggregate({ aggs }) — count, sum, min, max, avg, countDistinct — with their
// accumulators (the per-group state), Spark's result types, and the compact codec of accumulator state.

import type { DataType, StructField } from '../../sinks/schema.js';
import type { KeyPart } from '../../state/codec.js';
import { StateCorruptError, StreamArgumentError, UnsupportedOperationError } from '../errors.js';

export type AggregateKind = 'count' | 'sum' | 'min' | 'max' | 'avg' | 'countDistinct';

/** One aggregate of `aggs`: what to compute over which input column. */
export interface AggregateFunction {
  readonly kind: AggregateKind;
  /** The input column; undefined only for `count()` (counts rows). */
  readonly column: string | undefined;
}

function columnArg(kind: AggregateKind, column: unknown): string {
  if (typeof column !== 'string' || column === '') {
    throw new StreamArgumentError(`${kind}: the column must be a non-empty string, got ${JSON.stringify(column)}`, {
      option: kind,
    });
  }
  return column;
}

/** count() counts rows; count('col') counts rows where `col` is not null. Result: long, never null. */
export function count(column?: string): AggregateFunction {
  return { kind: 'count', column: column === undefined ? undefined : columnArg('count', column) };
}

/** Sum of the non-null values (numbers or bigints); null when there are none. Integers → long, floats → double. */
export function sum(column: string): AggregateFunction {
  return { kind: 'sum', column: columnArg('sum', column) };
}

/** Smallest non-null value (numbers, bigints, strings, Dates, booleans, bytes); keeps the input type. */
export function min(column: string): AggregateFunction {
  return { kind: 'min', column: columnArg('min', column) };
}

/** Largest non-null value (numbers, bigints, strings, Dates, booleans, bytes); keeps the input type. */
export function max(column: string): AggregateFunction {
  return { kind: 'max', column: columnArg('max', column) };
}

/** Mean of the non-null values as a double; null when there are none. */
export function avg(column: string): AggregateFunction {
  return { kind: 'avg', column: columnArg('avg', column) };
}

/** Number of distinct non-null values (Dates compared by ms). Result: long, never null. */
export function countDistinct(column: string): AggregateFunction {
  return { kind: 'countDistinct', column: columnArg('countDistinct', column) };
}

/** Spark-style text of an aggregate, e.g. 'sum(amount)', 'count(*)'. */
export function describeAggregate(fn: AggregateFunction): string {
  return `${fn.kind}(${fn.column ?? '*'})`;
}

const AGGREGATE_KINDS: ReadonlySet<string> = new Set<AggregateKind>([
  'count',
  'sum',
  'min',
  'max',
  'avg',
  'countDistinct',
]);

/** Whether `value` looks like an AggregateFunction (for validating untyped options). */
export function isAggregateFunction(value: unknown): value is AggregateFunction {
  if (value === null || typeof value !== 'object') return false;
  const { kind, column } = value as { kind?: unknown; column?: unknown };
  return (
    typeof kind === 'string' &&
    AGGREGATE_KINDS.has(kind) &&
    (typeof column === 'string' || (column === undefined && kind === 'count'))
  );
}

// ---------------------------------------------------------------------------------------------
// Grouping values as state key parts.

/** A grouping (or distinct) value as a key part; `date` says it was a Date (restored on output). */
export type KeyValue = { part: KeyPart; date: boolean } | { reason: string };

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * Normalises a value compared with strict equality (Date → ms, undefined → null, -0 → 0) into a key
 * part, or says why it cannot be one (objects, arrays, NaN, invalid Dates, bigints beyond int64).
 */
export function keyValueOf(value: unknown): KeyValue {
  if (value === undefined || value === null) return { part: null, date: false };
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return { part: value, date: false };
    case 'number':
      if (Number.isNaN(value)) return { reason: 'NaN cannot be grouped or counted' };
      return { part: value === 0 ? 0 : value, date: false };
    case 'bigint':
      if (value < INT64_MIN || value > INT64_MAX) return { reason: `bigint ${value} is outside the long range` };
      return { part: value, date: false };
  }
  if (value instanceof Date) {
    const ms = value.getTime();
    return Number.isNaN(ms) ? { reason: 'invalid Date' } : { part: ms === 0 ? 0 : ms, date: true };
  }
  if (value instanceof Uint8Array) return { part: value, date: false };
  return {
    reason: `a value of type ${Array.isArray(value) ? 'array' : typeof value} cannot be grouped or counted (use a string, number, bigint, boolean, Date, bytes or null)`,
  };
}

// ---------------------------------------------------------------------------------------------
// Accumulators.

/** An accumulator's state: JSON-able values plus bigint, Date, bytes and non-finite numbers (see encodeState). */
export type AccState = unknown;

/** How one aggregate folds values into its state. Pure: `add` returns the new state. */
export interface Accumulator {
  readonly fn: AggregateFunction;
  /** State of a group with no rows yet. */
  init(): AccState;
  /** Undefined when `value` (possibly null) can be aggregated, else why not (one line). */
  reject(value: unknown): string | undefined;
  /**
   * Folds one row's value (undefined for count()). For countDistinct, called once per value new to
   * the group (the distinct set lives in separate state keys).
   */
  add(state: AccState, value: unknown): AccState;
  /** The output value of the state. */
  result(state: AccState): unknown;
}

function typeName(value: unknown): string {
  if (value instanceof Date) return 'Date';
  if (value instanceof Uint8Array) return 'bytes';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/** number + number → number; bigint + bigint → bigint; mixed → number (so the type does not depend on order). */
function addNumbers(a: number | bigint | null, b: number | bigint): number | bigint {
  if (a === null) return b;
  if (typeof a === 'bigint' && typeof b === 'bigint') return a + b;
  return Number(a) + Number(b);
}

function rejectNumeric(value: unknown): string | undefined {
  if (value === undefined || value === null || typeof value === 'number' || typeof value === 'bigint') return undefined;
  return `expected a number or bigint, got ${typeName(value)}`;
}

// Ranks of comparable types: values of different types order by rank (as Spark never mixes types in
// one column, this only makes a mixed column deterministic).
function rankOf(value: unknown): number {
  switch (typeof value) {
    case 'boolean':
      return 0;
    case 'number':
    case 'bigint':
      return 1;
    case 'string':
      return 3;
  }
  if (value instanceof Date) return 2;
  return 4; // Uint8Array
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** Total order of min/max values: numbers and bigints numerically (NaN above all), Dates by ms, strings by code unit. */
export function compareValues(a: unknown, b: unknown): number {
  const ra = rankOf(a);
  const rb = rankOf(b);
  if (ra !== rb) return ra - rb;
  if (ra === 0) return Number(a) - Number(b);
  if (ra === 1) {
    const x = a as number | bigint;
    const y = b as number | bigint;
    const xNaN = typeof x === 'number' && Number.isNaN(x);
    const yNaN = typeof y === 'number' && Number.isNaN(y);
    if (xNaN || yNaN) return xNaN === yNaN ? 0 : xNaN ? 1 : -1;
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (ra === 2) return (a as Date).getTime() - (b as Date).getTime();
  if (ra === 3) return (a as string) < (b as string) ? -1 : (a as string) > (b as string) ? 1 : 0;
  return compareBytes(a as Uint8Array, b as Uint8Array);
}

function rejectComparable(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  switch (typeof value) {
    case 'number':
    case 'bigint':
    case 'string':
    case 'boolean':
      return undefined;
  }
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'invalid Date' : undefined;
  if (value instanceof Uint8Array) return undefined;
  return `a value of type ${typeName(value)} cannot be compared`;
}

function extreme(fn: AggregateFunction, sign: 1 | -1): Accumulator {
  return {
    fn,
    init: () => null,
    reject: rejectComparable,
    add: (state, value) => {
      if (value === undefined || value === null) return state;
      if (state === null) return value;
      return sign * compareValues(value, state) < 0 ? value : state;
    },
    result: (state) => state,
  };
}

/** The accumulator of an aggregate function. */
export function accumulatorOf(fn: AggregateFunction): Accumulator {
  switch (fn.kind) {
    case 'count':
      return {
        fn,
        init: () => 0,
        reject: () => undefined,
        add: (state, value) =>
          fn.column === undefined || (value !== undefined && value !== null) ? (state as number) + 1 : state,
        result: (state) => state,
      };
    case 'countDistinct':
      return {
        fn,
        init: () => 0,
        reject: (value) => {
          const key = keyValueOf(value);
          return 'reason' in key ? key.reason : undefined;
        },
        add: (state) => (state as number) + 1,
        result: (state) => state,
      };
    case 'sum':
      return {
        fn,
        init: () => null,
        reject: rejectNumeric,
        add: (state, value) =>
          value === undefined || value === null
            ? state
            : addNumbers(state as number | bigint | null, value as number | bigint),
        result: (state) => state,
      };
    case 'avg':
      // State: null, or [sum, count].
      return {
        fn,
        init: () => null,
        reject: rejectNumeric,
        add: (state, value) => {
          if (value === undefined || value === null) return state;
          const [s, n] = (state as [number | bigint, number] | null) ?? [null, 0];
          return [addNumbers(s, value as number | bigint), n + 1];
        },
        result: (state) => {
          if (state === null) return null;
          const [s, n] = state as [number | bigint, number];
          return Number(s) / n;
        },
      };
    case 'min':
      return extreme(fn, 1);
    case 'max':
      return extreme(fn, -1);
  }
}

// ---------------------------------------------------------------------------------------------
// Types.

const INTEGER_TYPES: ReadonlySet<string> = new Set(['long', 'integer', 'short', 'byte']);
const FLOAT_TYPES: ReadonlySet<string> = new Set(['float', 'double']);

/**
 * Refuses an aggregate over a column of a known type it cannot handle (sum/avg of non-numeric types,
 * sum/avg of decimals, min/max of nested types). `name` is the output column.
 */
export function checkAggregateInput(name: string, fn: AggregateFunction, field: StructField): void {
  const type = field.type;
  const what = `aggregate '${name}' = ${describeAggregate(fn)}`;
  if (fn.kind === 'sum' || fn.kind === 'avg') {
    if (typeof type === 'string' && type.startsWith('decimal(')) {
      throw new UnsupportedOperationError(`${what}: ${fn.kind} over a ${type} column is not supported yet`, {
        operator: 'aggregate',
        column: fn.column,
      });
    }
    if (typeof type !== 'string' || !(INTEGER_TYPES.has(type) || FLOAT_TYPES.has(type))) {
      throw new StreamArgumentError(
        `${what}: ${fn.kind} needs a numeric column, '${field.name}' is ${JSON.stringify(type)}`,
        {
          option: 'aggregate.aggs',
          column: fn.column,
        },
      );
    }
  }
  if ((fn.kind === 'min' || fn.kind === 'max') && typeof type !== 'string') {
    throw new StreamArgumentError(`${what}: ${fn.kind} of a nested column (${type.type}) is not supported`, {
      option: 'aggregate.aggs',
      column: fn.column,
    });
  }
}

/** The output field type of an aggregate (Spark's rules), or undefined when it needs an unknown input type. */
export function aggregateResultType(
  fn: AggregateFunction,
  input: DataType | undefined,
): { type: DataType; nullable: boolean } | undefined {
  switch (fn.kind) {
    case 'count':
    case 'countDistinct':
      return { type: 'long', nullable: false };
    case 'avg':
      return { type: 'double', nullable: true };
    case 'sum':
      if (typeof input !== 'string') return undefined;
      return { type: INTEGER_TYPES.has(input) ? 'long' : 'double', nullable: true };
    case 'min':
    case 'max':
      return input === undefined ? undefined : { type: input, nullable: true };
  }
}

// ---------------------------------------------------------------------------------------------
// State codec: byte 0 = layout version, then UTF-8 JSON in which bigint, Date, bytes and non-finite
// numbers are tagged objects ({"$b":"12"}, {"$d":1700000000000}, {"$u":"base64"}, {"$n":"NaN"}).

const STATE_VERSION = 1;
const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

function toJson(value: unknown): unknown {
  switch (typeof value) {
    case 'bigint':
      return { $b: value.toString() };
    case 'number':
      return Number.isFinite(value) ? value : { $n: String(value) };
    case 'undefined':
      return null;
  }
  if (value instanceof Date) return { $d: value.getTime() };
  if (value instanceof Uint8Array)
    return { $u: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') };
  if (Array.isArray(value)) return value.map(toJson);
  return value;
}

function fromJson(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(fromJson);
  if (value !== null && typeof value === 'object') {
    const tagged = value as { $b?: string; $n?: string; $d?: number; $u?: string };
    if (tagged.$b !== undefined) return BigInt(tagged.$b);
    if (tagged.$n !== undefined) return Number(tagged.$n);
    if (tagged.$d !== undefined) return new Date(tagged.$d);
    if (tagged.$u !== undefined) return new Uint8Array(Buffer.from(tagged.$u, 'base64'));
  }
  return value;
}

/** Encodes a group's state (an array of accumulator states and bookkeeping). */
export function encodeState(values: readonly unknown[]): Uint8Array {
  const body = utf8.encode(JSON.stringify(values.map(toJson)));
  const out = new Uint8Array(body.length + 1);
  out[0] = STATE_VERSION;
  out.set(body, 1);
  return out;
}

/** Inverse of encodeState. */
export function decodeState(bytes: Uint8Array): unknown[] {
  if (bytes[0] !== STATE_VERSION) {
    throw new StateCorruptError(`aggregate state value has layout version ${bytes[0]}, expected ${STATE_VERSION}`, {
      version: bytes[0],
    });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(utf8Decoder.decode(bytes.subarray(1)));
  } catch (cause) {
    throw new StateCorruptError('aggregate state value is not valid JSON', {}, cause);
  }
  if (!Array.isArray(parsed)) throw new StateCorruptError('aggregate state value is not an array', {});
  return parsed.map(fromJson);
}
