// ColumnBatch: rows of a flat schema of primitive columns written straight into typed arrays, one
// value at a time by a producer that already has them in binary form (the JSON scanner of the ingest
// stage writes UTF-8 bytes and numbers, never a row object), then turned into the Arrow table, the
// column statistics and the dictionary choice rowsToArrow would make for the same rows — so the
// Parquet bytes are the same. Rows are built one at a time and can be rolled back (a producer that
// finds mid-row that it cannot take a record hands it to the row path instead).
import { makeData, RecordBatch, Schema, Struct, Table } from 'apache-arrow';
import { keepShape } from '../../common/shapes.js';
import { isWellFormed, writeUtf8 } from '../../common/strings.js';
import type { DataType, StructType } from '../schema.js';
import type { ArrowColumns } from './arrow-table.js';
import { createColumns } from './columns/create.js';
import { dictionaryColumns } from './dictionary.js';
import { RejectedValue } from './errors.js';
import { type ParquetWriteOptions, resolveParquetWriteOptions } from './options.js';
import { type ColumnStats, type LeafStats, StatsPlan } from './stats.js';
import { canonicalDate, canonicalTimestamp, setInt64, toDays, toEpochMicros, toLong } from './values.js';

/** The column types a ColumnBatch holds. */
const BATCH_TYPES = new Set(['string', 'long', 'integer', 'short', 'byte', 'double', 'boolean', 'timestamp', 'date']);

/** Kinds of storage. */
const UTF8 = 0;
const INT64 = 1;
const NUMBER = 2;
const BOOL = 3;

/** The range of each small integer type. */
export const SMALL_RANGES: Readonly<Record<string, readonly [number, number]>> = {
  byte: [-128, 127],
  short: [-32768, 32767],
  integer: [-2147483648, 2147483647],
};

/** Largest byte length one Arrow Utf8 array can address (int32 offsets). */
const MAX_BYTES = 0x7fffffff;
/** Values longer than this are copied with one native call instead of a byte loop. */
const LONG_COPY = 24;
/** Rows after which string buffers are sized for the batch's capacity. */
const SIZING_ROWS = 64;
/** Leading rows rowsToArrow's dictionary choice samples (dictionary.ts). */
const DICTIONARY_SAMPLE = 1024;

/** Whether a ColumnBatch can hold rows of `schema`: top-level columns of the primitive types above, unique names. */
export function columnBatchSupports(schema: StructType): boolean {
  const names = new Set<string>();
  for (const f of schema.fields) {
    if (typeof f.type !== 'string' || !BATCH_TYPES.has(f.type) || names.has(f.name) || f.name === '__proto__') {
      return false;
    }
    names.add(f.name);
  }
  return names.size > 0;
}

const latin1 = new TextDecoder('latin1');
const utf8 = new TextDecoder();

/** Orders two byte ranges as unsigned bytes (UTF-8 byte order = code point order). */
const TWO_32 = 2 ** 32;

/** The least and greatest value of a long/timestamp column over rows [start, end) (+-Infinity: none). */
function int64Bounds(column: Column, start: number, end: number): [number | bigint, number | bigint] {
  let min: number | bigint = Number.POSITIVE_INFINITY;
  let max: number | bigint = Number.NEGATIVE_INFINITY;
  for (let i = start; i < end; i++) {
    if (column.valid[i] === 0) continue;
    const x = column.big?.get(i) ?? column.numbers![i]!;
    if (x < min) min = x;
    if (x > max) max = x;
  }
  return [min, max];
}

function compareBytes(a: Uint8Array, aStart: number, aEnd: number, bStart: number, bEnd: number): number {
  const n = Math.min(aEnd - aStart, bEnd - bStart);
  for (let i = 0; i < n; i++) {
    const d = a[aStart + i]! - a[bStart + i]!;
    if (d !== 0) return d;
  }
  return aEnd - aStart - (bEnd - bStart);
}

/** One column's storage as plain data: typed arrays (transferable between threads) and clonable values. */
export interface ColumnParts {
  valid: Uint8Array;
  numbers: Float64Array | undefined;
  big: Map<number, bigint> | undefined;
  offsets: Int32Array | undefined;
  bytes: Uint8Array;
  pos: number;
  samples: unknown[] | undefined;
  forms: Uint8Array | undefined;
}

/** A ColumnBatch as plain data (ColumnBatch.parts / ColumnBatch.fromParts), e.g. to post it to another thread. */
export interface ColumnBatchParts {
  capacity: number;
  length: number;
  columns: ColumnParts[];
}

class Column {
  readonly kind: number;
  /** Per row: 1 when the value is present. */
  readonly valid: Uint8Array;
  /** NUMBER/INT64/BOOL values (INT64: exact below 2^53; larger ones in `big`). */
  readonly numbers: Float64Array | undefined;
  /** INT64 values beyond ±2^53 by row. */
  big: Map<number, bigint> | undefined;
  /** UTF8: offsets[i]..offsets[i + 1] are row i's bytes. */
  readonly offsets: Int32Array | undefined;
  bytes: Uint8Array;
  pos = 0;
  /** The row (generation) that last set this column. */
  setAt = -1;
  /**
   * timestamp/date: for the dictionary sample, each row's value as the sample of dictionary.ts takes
   * it (its text; a Date's ms) unless it is a canonical text (see canonicalDate/canonicalTimestamp):
   * then undefined, and (timestamps) `forms` holds the text's length — canonical texts are equal
   * exactly when their value and (timestamps) length are.
   */
  samples: unknown[] | undefined;
  readonly forms: Uint8Array | undefined;

  constructor(
    readonly name: string,
    readonly type: string,
    readonly nullable: boolean,
    capacity: number,
    parts?: ColumnParts,
  ) {
    this.kind =
      type === 'string' ? UTF8 : type === 'long' || type === 'timestamp' ? INT64 : type === 'boolean' ? BOOL : NUMBER;
    if (parts !== undefined) {
      const kind = this.kind;
      const fits =
        parts.valid.length >= capacity &&
        (kind === UTF8) === (parts.offsets !== undefined && parts.numbers === undefined) &&
        (parts.offsets === undefined || parts.offsets.length > capacity) &&
        (parts.numbers === undefined || parts.numbers.length >= capacity) &&
        (parts.samples !== undefined) === (type === 'timestamp' || type === 'date') &&
        (parts.forms !== undefined) === (type === 'timestamp') &&
        parts.pos <= parts.bytes.length;
      if (!fits) throw new Error(`ColumnBatch.fromParts: the parts of column '${name}' do not fit a ${type} column`);
      this.valid = parts.valid;
      this.numbers = parts.numbers;
      this.big = parts.big;
      this.offsets = parts.offsets;
      this.bytes = parts.bytes;
      this.pos = parts.pos;
      this.samples = parts.samples;
      this.forms = parts.forms;
      return;
    }
    this.valid = new Uint8Array(capacity);
    this.numbers = this.kind === UTF8 ? undefined : new Float64Array(capacity);
    this.offsets = this.kind === UTF8 ? new Int32Array(capacity + 1) : undefined;
    this.bytes = new Uint8Array(this.kind === UTF8 ? 1024 + Math.min(capacity, SIZING_ROWS) * 64 : 0);
    // Empty (all undefined) until a row has a sample (setSample): most timestamps and dates are canonical.
    this.samples = type === 'timestamp' || type === 'date' ? [] : undefined;
    this.forms = type === 'timestamp' ? new Uint8Array(capacity) : undefined;
  }

  /**
   * Sets row `row`'s sample (timestamp/date columns). An empty `samples` reads as all undefined; the
   * first defined sample makes it a full array of `capacity` rows, filled so that V8 keeps it packed
   * (a large holey one can turn into a slow dictionary).
   */
  setSample(row: number, sample: unknown, capacity: number): void {
    let samples = this.samples!;
    if (samples.length === 0) {
      if (sample === undefined) return;
      samples = this.samples = new Array(Math.max(capacity, row + 1)).fill(undefined);
    }
    samples[row] = sample;
  }

  /** Room for `more` bytes after `pos`. */
  reserve(more: number): Uint8Array {
    const need = this.pos + more;
    if (need > this.bytes.length) {
      if (need > MAX_BYTES) {
        throw new RejectedValue(`column '${this.name}' holds more than 2 GiB of bytes in one batch`);
      }
      const next = new Uint8Array(Math.min(MAX_BYTES, Math.max(need, this.bytes.length * 2)));
      next.set(this.bytes.subarray(0, this.pos));
      this.bytes = next;
    }
    return this.bytes;
  }
}

/** Samples of rows [start, end) (by `rowOf`): none (an empty array reads the same) when all are undefined. */
function sampleSlice(samples: unknown[] | undefined, n: number, rowOf: (j: number) => number): unknown[] | undefined {
  if (samples === undefined) return undefined;
  let any = false;
  for (let j = 0; j < n && !any; j++) any = samples[rowOf(j)] !== undefined;
  if (!any) return [];
  const out = new Array<unknown>(n);
  for (let j = 0; j < n; j++) out[j] = samples[rowOf(j)];
  return out;
}

/** Typed arrays of `n` elements over buffers from `allocate` (which may give more bytes than asked). */
function arrays(allocate: (bytes: number) => ArrayBuffer) {
  return {
    u8: (n: number) => new Uint8Array(allocate(n), 0, n),
    i32: (n: number) => new Int32Array(allocate(4 * n), 0, n),
    f64: (n: number) => new Float64Array(allocate(8 * n), 0, n),
  };
}

/** A copy of stored rows [start, end) of `column` (ColumnBatch.sliceParts). */
function sliceColumn(
  column: Column,
  start: number,
  end: number,
  allocate: (bytes: number) => ArrayBuffer,
): ColumnParts {
  const n = end - start;
  const make = arrays(allocate);
  let offsets: Int32Array | undefined;
  let bytes = new Uint8Array(0);
  if (column.offsets !== undefined) {
    const base = column.offsets[start]!;
    offsets = make.i32(n + 1);
    offsets.set(column.offsets.subarray(start, end + 1));
    if (base !== 0) for (let i = 0; i <= n; i++) offsets[i]! -= base;
    bytes = make.u8(column.offsets[end]! - base);
    bytes.set(column.bytes.subarray(base, column.offsets[end]!));
  }
  const valid = make.u8(n);
  valid.set(column.valid.subarray(start, end));
  let numbers: Float64Array | undefined;
  if (column.numbers !== undefined) {
    numbers = make.f64(n);
    numbers.set(column.numbers.subarray(start, end));
  }
  let forms: Uint8Array | undefined;
  if (column.forms !== undefined) {
    forms = make.u8(n);
    forms.set(column.forms.subarray(start, end));
  }
  let big: Map<number, bigint> | undefined;
  if (column.big !== undefined) {
    for (const [row, value] of column.big) {
      if (row < start || row >= end) continue;
      big ??= new Map();
      big.set(row - start, value);
    }
  }
  return {
    valid,
    numbers,
    big,
    offsets,
    bytes,
    pos: bytes.length,
    samples: sampleSlice(column.samples, n, (j) => start + j),
    forms,
  };
}

/** A copy of the stored rows selection[start, end) of `column` (ColumnBatch.sliceParts after retain). */
function gatherColumn(
  column: Column,
  selection: Int32Array,
  start: number,
  end: number,
  allocate: (bytes: number) => ArrayBuffer,
): ColumnParts {
  const n = end - start;
  const make = arrays(allocate);
  const rows = selection.subarray(start, end);
  const valid = make.u8(n);
  for (let j = 0; j < n; j++) valid[j] = column.valid[rows[j]!]!;
  let numbers: Float64Array | undefined;
  if (column.numbers !== undefined) {
    const from = column.numbers;
    numbers = make.f64(n);
    for (let j = 0; j < n; j++) numbers[j] = from[rows[j]!]!;
  }
  let forms: Uint8Array | undefined;
  if (column.forms !== undefined) {
    const from = column.forms;
    forms = make.u8(n);
    for (let j = 0; j < n; j++) forms[j] = from[rows[j]!]!;
  }
  let offsets: Int32Array | undefined;
  let bytes = new Uint8Array(0);
  if (column.offsets !== undefined) {
    const from = column.offsets;
    offsets = make.i32(n + 1);
    offsets[0] = 0;
    let total = 0;
    for (let j = 0; j < n; j++) {
      const row = rows[j]!;
      total += from[row + 1]! - from[row]!;
      offsets[j + 1] = total;
    }
    bytes = make.u8(total);
    // Runs of consecutive stored rows move at once.
    for (let j = 0; j < n; ) {
      let k = j + 1;
      while (k < n && rows[k] === rows[k - 1]! + 1) k++;
      bytes.set(column.bytes.subarray(from[rows[j]!]!, from[rows[k - 1]! + 1]!), offsets[j]!);
      j = k;
    }
  }
  let big: Map<number, bigint> | undefined;
  if (column.big !== undefined) {
    for (const [row, value] of column.big) {
      // The position of stored row `row` among the selected ones (ascending), if it is one of them.
      let lo = 0;
      let hi = n;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (rows[mid]! < row) lo = mid + 1;
        else hi = mid;
      }
      if (lo < n && rows[lo] === row) {
        big ??= new Map();
        big.set(lo, value);
      }
    }
  }
  return {
    valid,
    numbers,
    big,
    offsets,
    bytes,
    pos: bytes.length,
    samples: sampleSlice(column.samples, n, (j) => rows[j]!),
    forms,
  };
}

/** Records a long/timestamp value beyond ±2^53 of `row` in `column`. */
function setBig(column: Column, row: number, value: bigint): void {
  column.big ??= new Map();
  column.big.set(row, value);
}

/** The nulls of rows [start, end): how many, and (when any) the Arrow validity bitmap of those rows. */
interface Nulls {
  count: number;
  bitmap: Uint8Array | undefined;
}

function nullsOf(valid: Uint8Array, start: number, end: number): Nulls {
  let count = 0;
  let bitmap: Uint8Array | undefined;
  for (let i = start; i < end; i++) {
    if (valid[i] === 0) {
      if (bitmap === undefined) bitmap = new Uint8Array((end - start + 7) >> 3).fill(0xff);
      const j = i - start;
      bitmap[j >> 3]! &= ~(1 << (j & 7));
      count++;
    }
  }
  return { count, bitmap: count > 0 ? bitmap : undefined };
}

/** A string column's rows [start, end) as Arrow Utf8 data. */
// biome-ignore lint/suspicious/noExplicitAny: the builder's Arrow type
function utf8Data(column: Column, arrowType: any, nulls: Nulls, start: number, end: number) {
  const n = end - start;
  const offsets = column.offsets!;
  const base = offsets[start]!;
  // Rows from the batch's first byte on are their own offsets (a view, no copy).
  let out: Int32Array;
  if (base === 0) out = offsets.subarray(start, end + 1);
  else {
    out = new Int32Array(n + 1);
    for (let i = start; i < end; i++) out[i - start + 1] = offsets[i + 1]! - base;
  }
  return makeData({
    type: arrowType,
    length: n,
    nullCount: nulls.count,
    nullBitmap: nulls.bitmap,
    valueOffsets: out,
    // Committed rows' bytes never change (rows are appended after them; growing copies the buffer):
    // a view, not a copy.
    data: column.bytes.subarray(base, offsets[end]!),
  } as never);
}

/** The rows of the least and the greatest value (by bytes) of a string column's rows [start, end); -1: all null. */
function utf8Bounds(column: Column, start: number, end: number): [number, number] {
  const { valid, bytes } = column;
  const offsets = column.offsets!;
  let min = -1;
  let max = -1;
  for (let i = start; i < end; i++) {
    if (valid[i] === 0) continue;
    const s = offsets[i]!;
    const e = offsets[i + 1]!;
    if (min < 0) min = max = i;
    else if (compareBytes(bytes, s, e, offsets[min]!, offsets[min + 1]!) < 0) min = i;
    else if (compareBytes(bytes, s, e, offsets[max]!, offsets[max + 1]!) > 0) max = i;
  }
  return [min, max];
}

/** A long/timestamp column's rows [start, end) as Arrow Int64 data, their bounds offered to `stats`. */
function int64Data(
  column: Column,
  // biome-ignore lint/suspicious/noExplicitAny: the builder's Arrow type
  arrowType: any,
  nulls: Nulls,
  stats: LeafStats | undefined,
  start: number,
  end: number,
) {
  const n = end - start;
  const { valid } = column;
  const big = new BigInt64Array(n);
  const words = new Int32Array(big.buffer);
  const values = column.numbers!;
  // The values below 2^53 (numbers): low and high 32-bit words, and their bounds.
  let low = Number.POSITIVE_INFINITY;
  let high = Number.NEGATIVE_INFINITY;
  for (let i = start; i < end; i++) {
    if (valid[i] === 0) continue;
    const x = values[i]!;
    const hi = Math.floor(x / TWO_32);
    const j = 2 * (i - start);
    words[j] = (x - hi * TWO_32) | 0;
    words[j + 1] = hi;
    if (x < low) low = x;
    if (x > high) high = x;
  }
  let min: number | bigint = low;
  let max: number | bigint = high;
  if (column.big !== undefined && column.big.size > 0) {
    // Rows beyond 2^53 (their number is not their value): their words, and the bounds again.
    for (const [i, x] of column.big) if (i >= start && i < end && valid[i] !== 0) setInt64(words, big, i - start, x);
    [min, max] = int64Bounds(column, start, end);
  }
  if (stats !== undefined && min !== Number.POSITIVE_INFINITY) stats.offer(min, max);
  return makeData({ type: arrowType, length: n, nullCount: nulls.count, nullBitmap: nulls.bitmap, data: big } as never);
}

/** A boolean column's rows [start, end) as Arrow Bool data. */
// biome-ignore lint/suspicious/noExplicitAny: the builder's Arrow type
function boolData(column: Column, arrowType: any, nulls: Nulls, start: number, end: number) {
  const { valid } = column;
  const numbers = column.numbers!;
  const bits = new Uint8Array((end - start + 7) >> 3);
  for (let i = start; i < end; i++) {
    if (valid[i] !== 0 && numbers[i] === 1) bits[(i - start) >> 3]! |= 1 << ((i - start) & 7);
  }
  return makeData({
    type: arrowType,
    length: end - start,
    nullCount: nulls.count,
    nullBitmap: nulls.bitmap,
    data: bits,
  } as never);
}

/** A double/integer/short/byte/date column's rows [start, end) as Arrow data, their bounds offered to `stats`. */
function numberData(
  column: Column,
  // biome-ignore lint/suspicious/noExplicitAny: the builder's Arrow type
  arrowType: any,
  nulls: Nulls,
  stats: LeafStats | undefined,
  start: number,
  end: number,
) {
  const n = end - start;
  const numbers = column.numbers!;
  // Doubles are the batch's numbers (a view: values of null rows are never written).
  const double = column.type === 'double';
  const ints = double
    ? undefined
    : column.type === 'byte'
      ? new Int8Array(n)
      : column.type === 'short'
        ? new Int16Array(n)
        : new Int32Array(n);
  const data = ints ?? numbers.subarray(start, end);
  const [min, max] = numberBounds(column, start, end, ints);
  if (stats !== undefined && min <= max) stats.offer(min, max);
  return makeData({ type: arrowType, length: n, nullCount: nulls.count, nullBitmap: nulls.bitmap, data } as never);
}

/**
 * The bounds of a number column's rows [start, end), copying them into `into` (rows from 0) when given.
 * NaN fails both comparisons, so it never becomes a bound (as FloatBuilder).
 */
function numberBounds(
  column: Column,
  start: number,
  end: number,
  into?: Int8Array | Int16Array | Int32Array,
): [number, number] {
  const { valid } = column;
  const numbers = column.numbers!;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = start; i < end; i++) {
    if (valid[i] === 0) continue;
    const x = numbers[i]!;
    if (into !== undefined) into[i - start] = x;
    if (x < min) min = x;
    if (x > max) max = x;
  }
  return [min, max];
}

/**
 * Rows of a flat primitive schema (columnBatchSupports) in typed arrays.
 *
 * Protocol per row: set each present column once (setUtf8 / writeUtf8 + endUtf8, setNumber, setInt64,
 * setBoolean, setNull), then commitRow() — columns not set are null — or rollbackRow(). Values are
 * taken as given: the producer checked them (a non-nullable column must be set to a value, numbers
 * must fit their column). appendRow adds a whole row of JS values as encodeRows accepts them.
 */
export class ColumnBatch {
  private readonly columns: Column[];
  /** Committed rows. */
  length = 0;
  /**
   * After retain: the stored rows (ascending) that are rows 0..length-1, until they are moved into
   * place (settle) by the first method that needs the rows where they belong. sliceParts and
   * bytesPerRow read through it, so a batch retained and then written is never moved in place.
   */
  private selection: Int32Array | undefined;
  /** The stored rows while a selection is pending. */
  private stored = 0;

  constructor(
    readonly schema: StructType,
    readonly capacity: number,
    parts?: ColumnBatchParts,
  ) {
    if (!columnBatchSupports(schema)) throw new Error('ColumnBatch: the schema has a column type it cannot hold');
    if (parts !== undefined && (parts.columns.length !== schema.fields.length || parts.length > capacity)) {
      throw new Error('ColumnBatch.fromParts: the parts do not fit the schema');
    }
    this.columns = schema.fields.map(
      (f, c) => new Column(f.name, f.type as string, f.nullable, capacity, parts?.columns[c]),
    );
    if (parts !== undefined) this.length = parts.length;
  }

  /** The batch made from `parts` (of a batch of this schema): its arrays are taken over, not copied. */
  static fromParts(schema: StructType, parts: ColumnBatchParts): ColumnBatch {
    return new ColumnBatch(schema, parts.capacity, parts);
  }

  /**
   * The batch's storage as plain data (only between rows), and the buffers to transfer when posting it
   * to another thread; the batch must not be used after they were transferred.
   */
  parts(): { parts: ColumnBatchParts; transfer: ArrayBuffer[] } {
    this.settle();
    const transfer = new Set<ArrayBuffer>();
    const columns = this.columns.map((column): ColumnParts => {
      for (const array of [column.valid, column.numbers, column.offsets, column.bytes, column.forms]) {
        if (array !== undefined && array.buffer instanceof ArrayBuffer) transfer.add(array.buffer);
      }
      return {
        valid: column.valid,
        numbers: column.numbers,
        big: column.big,
        offsets: column.offsets,
        bytes: column.bytes,
        pos: column.pos,
        samples: column.samples,
        forms: column.forms,
      };
    });
    return { parts: { capacity: this.capacity, length: this.length, columns }, transfer: [...transfer] };
  }

  /**
   * A copy of rows [start, end) as plain data (a batch of exactly those rows, see fromParts) and its
   * buffers to transfer; this batch is left as it is. Only between rows.
   */
  sliceParts(
    start: number,
    end: number,
    allocate: (bytes: number) => ArrayBuffer = (bytes) => new ArrayBuffer(bytes),
  ): { parts: ColumnBatchParts; transfer: ArrayBuffer[] } {
    const n = end - start;
    const transfer: ArrayBuffer[] = [];
    const selection = this.selection;
    const columns = this.columns.map((column): ColumnParts => {
      const part =
        selection === undefined
          ? sliceColumn(column, start, end, allocate)
          : gatherColumn(column, selection, start, end, allocate);
      for (const array of [part.valid, part.numbers, part.offsets, part.bytes, part.forms]) {
        if (array !== undefined) transfer.push(array.buffer as ArrayBuffer);
      }
      return part;
    });
    return { parts: { capacity: n, length: n, columns }, transfer };
  }

  /** Index of the column named `name`, or -1. */
  indexOf(name: string): number {
    return this.columns.findIndex((c) => c.name === name);
  }

  /** Whether column `c` was already set in the row being built. */
  isSet(c: number): boolean {
    this.settle();
    return this.columns[c]!.setAt === this.length;
  }

  /** Whether column `c` was set to a value (not null) in the row being built. */
  hasValue(c: number): boolean {
    this.settle();
    const column = this.columns[c]!;
    return column.setAt === this.length && column.valid[this.length] === 1;
  }

  /** Sets a string column to the (valid UTF-8) bytes src[start, end). */
  setUtf8(c: number, src: Uint8Array, start: number, end: number): void {
    this.settle();
    const column = this.columns[c]!;
    const buf = column.reserve(end - start);
    let pos = column.pos;
    if (end - start > LONG_COPY) {
      buf.set(src.subarray(start, end), pos);
      pos += end - start;
    } else for (let i = start; i < end; i++) buf[pos++] = src[i]!;
    column.pos = pos;
    this.mark(column, 1);
  }

  /** The byte buffer of string column `c` with room for `more` bytes from writePosition(c). */
  writeUtf8(c: number, more: number): Uint8Array {
    this.settle();
    return this.columns[c]!.reserve(more);
  }

  writePosition(c: number): number {
    this.settle();
    return this.columns[c]!.pos;
  }

  /** Ends a value written into writeUtf8's buffer: its bytes end at `end`. */
  endUtf8(c: number, end: number): void {
    this.settle();
    const column = this.columns[c]!;
    column.pos = end;
    this.mark(column, 1);
  }

  /** Sets a byte/short/integer/double column, a date column (days), or a long/timestamp one (a safe integer). */
  setNumber(c: number, value: number, sample?: unknown): void {
    this.settle();
    const column = this.columns[c]!;
    column.numbers![this.length] = value;
    column.big?.delete(this.length);
    if (column.samples !== undefined) column.setSample(this.length, sample, this.capacity);
    if (column.forms !== undefined) column.forms[this.length] = 0;
    this.mark(column, 1);
  }

  /** Sets a timestamp column to the microseconds of a canonical text `length` characters long (canonicalTimestamp). */
  setTimestamp(c: number, micros: number, length: number): void {
    this.settle();
    const column = this.columns[c]!;
    column.numbers![this.length] = micros;
    column.big?.delete(this.length);
    column.setSample(this.length, undefined, this.capacity);
    column.forms![this.length] = length;
    this.mark(column, 1);
  }

  setBoolean(c: number, value: boolean): void {
    this.settle();
    const column = this.columns[c]!;
    column.numbers![this.length] = value ? 1 : 0;
    this.mark(column, 1);
  }

  setNull(c: number): void {
    this.settle();
    this.mark(this.columns[c]!, 0);
  }

  private mark(column: Column, valid: number): void {
    column.setAt = this.length;
    column.valid[this.length] = valid;
  }

  /** Ends the row: columns not set are null. */
  commitRow(): void {
    this.settle();
    const row = this.length;
    if (row >= this.capacity) throw new Error('ColumnBatch: more rows than its capacity');
    for (const column of this.columns) {
      if (column.setAt !== row) {
        column.valid[row] = 0;
        column.setAt = row;
        column.big?.delete(row);
        if (column.samples !== undefined) column.setSample(row, undefined, this.capacity);
      }
      if (column.kind === UTF8) {
        if (column.valid[row] === 0) column.pos = column.offsets![row]!;
        column.offsets![row + 1] = column.pos;
      }
    }
    this.length = row + 1;
    if (this.length === SIZING_ROWS && this.capacity > 2 * SIZING_ROWS) this.resize();
  }

  /** Sizes each string column's buffer for all rows from the average of the first SIZING_ROWS (+15 %). */
  private resize(): void {
    for (const column of this.columns) {
      if (column.kind !== UTF8) continue;
      const want = Math.ceil((column.pos / SIZING_ROWS) * this.capacity * 1.15) + 1024;
      if (want > column.bytes.length) column.reserve(Math.min(MAX_BYTES, want) - column.pos);
    }
  }

  /** Drops what was set in the row being built. */
  rollbackRow(): void {
    this.settle();
    const row = this.length;
    for (const column of this.columns) {
      if (column.setAt === row) column.setAt = -1;
      if (column.kind === UTF8) column.pos = column.offsets![row]!;
    }
  }

  /**
   * Adds a row of JS values (a row the row path made; values of the kinds encodeRows takes: strings,
   * safe-integer numbers or bigints for longs, timestamp text or Dates, 'YYYY-MM-DD' dates…).
   * Throws RejectedValue for a value its column cannot take (nothing of the row is kept).
   */
  appendRow(row: Readonly<Record<string, unknown>>): void {
    this.settle();
    try {
      this.columns.forEach((column, c) => {
        const v = row[column.name];
        if (v === null || v === undefined) {
          if (!column.nullable) throw new RejectedValue(`null in non-nullable column '${column.name}'`);
          this.setNull(c);
          return;
        }
        switch (column.type) {
          case 'string': {
            if (typeof v !== 'string') throw RejectedValue.wrongType('string', v);
            if (!isWellFormed(v)) {
              throw new RejectedValue('string has a lone UTF-16 surrogate, which UTF-8 cannot hold');
            }
            const max = v.length * 3;
            const buf = this.writeUtf8(c, max);
            const at = this.writePosition(c);
            const written = writeUtf8(buf, v, at);
            this.endUtf8(c, at + written);
            return;
          }
          case 'long':
          case 'timestamp': {
            if (column.type === 'timestamp' && typeof v === 'string') {
              const micros = v.length <= 27 ? canonicalTimestamp(Buffer.from(v, 'latin1'), 0, v.length) : -1;
              if (micros !== -1 && Buffer.byteLength(v) === v.length) {
                this.setTimestamp(c, micros, v.length);
                return;
              }
            }
            const x = column.type === 'long' ? toLong(v) : toEpochMicros(v);
            const sample = v instanceof Date ? v.getTime() : v;
            if (typeof x === 'bigint') {
              this.setNumber(c, Number(x), sample);
              column.big ??= new Map();
              column.big.set(this.length, x);
            } else this.setNumber(c, x, sample);
            return;
          }
          case 'date': {
            const canonical =
              typeof v === 'string' && v.length === 10 && Buffer.byteLength(v) === 10
                ? canonicalDate(Buffer.from(v, 'latin1'), 0)
                : -1;
            if (canonical !== -1) this.setNumber(c, canonical);
            else this.setNumber(c, toDays(v), v instanceof Date ? v.getTime() : v);
            return;
          }
          case 'boolean':
            if (typeof v !== 'boolean') throw RejectedValue.wrongType('boolean', v);
            this.setBoolean(c, v);
            return;
          case 'double':
            if (typeof v !== 'number') throw RejectedValue.wrongType('double', v);
            this.setNumber(c, v);
            return;
          default: {
            const [lo, hi] = SMALL_RANGES[column.type]!;
            if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) {
              throw new RejectedValue(`${String(v)} is not a ${column.type}`);
            }
            this.setNumber(c, v);
          }
        }
      });
    } catch (error) {
      this.rollbackRow();
      throw error;
    }
    this.commitRow();
  }

  /** Appends every row of `other`, a batch of the same schema (column for column), after its rows. */
  appendBatch(other: ColumnBatch): void {
    this.settle();
    other.settle();
    const m = other.length;
    const at = this.length;
    if (at + m > this.capacity) throw new Error('ColumnBatch: more rows than its capacity');
    this.columns.forEach((column, c) => {
      const from = other.columns[c]!;
      if (from.type !== column.type || from.name !== column.name) {
        throw new Error(
          `ColumnBatch.appendBatch: column ${c} is '${from.name}' ${from.type}, not '${column.name}' ${column.type}`,
        );
      }
      column.valid.set(from.valid.subarray(0, m), at);
      column.numbers?.set(from.numbers!.subarray(0, m), at);
      column.forms?.set(from.forms!.subarray(0, m), at);
      if (column.samples !== undefined && (column.samples.length > 0 || from.samples!.length > 0)) {
        for (let i = 0; i < m; i++) column.setSample(at + i, from.samples![i], this.capacity);
      }
      if (from.big !== undefined) for (const [i, b] of from.big) if (i < m) setBig(column, at + i, b);
      if (column.offsets !== undefined) {
        const fromOffsets = from.offsets!;
        const bytes = fromOffsets[m]! - fromOffsets[0]!;
        const buf = column.reserve(bytes);
        buf.set(from.bytes.subarray(fromOffsets[0]!, fromOffsets[m]!), column.pos);
        const shift = column.pos - fromOffsets[0]!;
        for (let i = 1; i <= m; i++) column.offsets[at + i] = fromOffsets[i]! + shift;
        column.pos += bytes;
      }
      column.setAt = -1;
    });
    this.length = at + m;
  }

  // ---- Reading rows back (operators working on the batch) ------------------------------------------

  /** The type of column `c` ('string', 'long', 'timestamp', …). */
  typeOf(c: number): string {
    return this.columns[c]!.type;
  }

  /** Whether row `i` of column `c` holds a value (not null). */
  isValid(c: number, i: number): boolean {
    this.settle();
    return this.columns[c]!.valid[i] === 1;
  }

  /**
   * The value of a numeric or boolean column at row `i` as the row path holds it: a number (booleans
   * 1/0; timestamps µs; dates days), or a bigint for a long or timestamp given as one (appendRow).
   */
  numberAt(c: number, i: number): number | bigint {
    this.settle();
    const column = this.columns[c]!;
    return column.big?.get(i) ?? column.numbers![i]!;
  }

  /**
   * The source form of a timestamp or date value at row `i` when it is not a canonical text: the
   * text, or a Date's ms, or the number or bigint given (appendRow); undefined for canonical texts.
   */
  sampleAt(c: number, i: number): unknown {
    this.settle();
    return this.columns[c]!.samples?.[i];
  }

  /** The byte buffer of string column `c`: row i's UTF-8 is utf8Bytes(c)[utf8Start(c, i), utf8Start(c, i + 1)). */
  utf8Bytes(c: number): Uint8Array {
    this.settle();
    return this.columns[c]!.bytes;
  }

  utf8Start(c: number, i: number): number {
    this.settle();
    return this.columns[c]!.offsets![i]!;
  }

  /**
   * Keeps the rows whose `keep` byte is 1, in order, dropping the others in place; returns the new
   * length. Only between rows (no row being built).
   */
  retain(keep: Uint8Array): number {
    const n = this.length;
    let kept = 0;
    while (kept < n && keep[kept] === 1) kept++;
    if (kept === n) return n;
    let m = kept;
    for (let i = kept; i < n; i++) if (keep[i] === 1) m++;
    const previous = this.selection;
    const selection = new Int32Array(m);
    for (let i = 0, j = 0; i < n; i++) if (keep[i] === 1) selection[j++] = previous === undefined ? i : previous[i]!;
    if (previous === undefined) this.stored = n;
    this.selection = selection;
    this.length = m;
    return m;
  }

  /** Moves a pending selection's rows into place (see `selection`). */
  private settle(): void {
    const selection = this.selection;
    if (selection === undefined) return;
    this.selection = undefined;
    const keep = new Uint8Array(this.stored);
    for (let j = 0; j < selection.length; j++) keep[selection[j]!] = 1;
    this.length = this.stored;
    this.compact(keep);
  }

  /** retain, in place: moves the kept rows down. */
  private compact(keep: Uint8Array): number {
    const n = this.length;
    let kept = 0;
    while (kept < n && keep[kept] === 1) kept++;
    if (kept === n) return n;
    for (const column of this.columns) {
      const { valid, numbers, offsets, samples, forms } = column;
      const big = column.big;
      column.big = undefined;
      let to = kept;
      let pos = offsets !== undefined ? offsets[kept]! : 0;
      // Runs of kept rows [i, j) move at once (native copies for values, one pass for offsets).
      for (let i = kept; i < n; ) {
        if (keep[i] !== 1) {
          i++;
          continue;
        }
        let j = i + 1;
        while (j < n && keep[j] === 1) j++;
        valid.copyWithin(to, i, j);
        numbers?.copyWithin(to, i, j);
        forms?.copyWithin(to, i, j);
        if (samples !== undefined && samples.length > 0) for (let r = i; r < j; r++) samples[to + r - i] = samples[r];
        if (big !== undefined) {
          for (let r = i; r < j; r++) {
            const b = big.get(r);
            if (b !== undefined) setBig(column, to + r - i, b);
          }
        }
        if (offsets !== undefined) {
          const s = offsets[i]!;
          const shift = pos - s;
          column.bytes.copyWithin(pos, s, offsets[j]!);
          for (let r = i; r < j; r++) offsets[to + r - i + 1] = offsets[r + 1]! + shift;
          pos = offsets[to + j - i]!;
        }
        to += j - i;
        i = j;
      }
      if (big !== undefined) for (const [i, b] of big) if (i < kept) setBig(column, i, b);
      if (offsets !== undefined) column.pos = pos;
      column.setAt = -1;
    }
    let length = kept;
    for (let i = kept; i < n; i++) if (keep[i] === 1) length++;
    this.length = length;
    return length;
  }

  /** Estimated in-memory bytes per row (file sizing): string bytes plus 8 per other value. */
  bytesPerRow(): number {
    if (this.length === 0) return 1;
    const selection = this.selection;
    let total = 0;
    for (const column of this.columns) {
      if (column.kind !== UTF8) total += 8 * this.length;
      else if (selection === undefined) total += column.pos;
      else {
        const offsets = column.offsets!;
        for (let j = 0; j < selection.length; j++) total += offsets[selection[j]! + 1]! - offsets[selection[j]!]!;
      }
    }
    return Math.max(1, total / this.length);
  }

  /**
   * The Arrow table of rows [start, end) under `schema` (the batch's columns by name, in any order;
   * each of the same type), with statistics and dictionary choice exactly as rowsToArrow makes them
   * for the same rows.
   */
  toArrow(schema: StructType, start: number, end: number, options?: ParquetWriteOptions): ArrowColumns {
    this.settle();
    const resolved = resolveParquetWriteOptions(options);
    const plan = new StatsPlan(resolved.statsColumns);
    const top = createColumns(schema, resolved.fieldIds, plan);
    const n = end - start;
    const children = top.map((t) => {
      const column = this.columns[this.indexOf(t.name)];
      if (column === undefined || column.type !== schema.fields.find((f) => f.name === t.name)?.type) {
        throw new Error(`ColumnBatch: no column '${t.name}' of the schema's type`);
      }
      return this.columnData(column, t.builder.arrowType, (t.builder as { stats?: LeafStats }).stats, start, end);
    });
    const fields = top.map((t) => t.field);
    const data = makeData({ type: new Struct(fields), length: n, nullCount: 0, children });
    const table = new Table([new RecordBatch(new Schema(fields), data)]);
    const dictionary = resolved.dictionary === 'auto' ? dictionaryColumns(schema, this.sampleRows(start, end)) : [];
    return { table, stats: plan.results(), dictionaryColumns: dictionary };
  }

  /** Null counts of every column over rows [start, end) (for leaves the statistics do not cover). */
  nullCounts(start: number, end: number): ColumnStats[] {
    this.settle();
    return this.columns.map((column) => {
      let nulls = 0;
      for (let i = start; i < end; i++) if (column.valid[i] === 0) nulls++;
      return { path: [column.name], type: column.type as DataType, nullCount: nulls };
    });
  }

  /**
   * Column `column`'s rows [start, end) as Arrow data, offering their bounds to `stats`. Dispatches to
   * one function per kind, each with its own loops: one function for every kind was compiled on stack
   * for the first column's kind and thrown away at the next ("Insufficient type feedback"), many times
   * per file.
   */
  private columnData(
    column: Column,
    // biome-ignore lint/suspicious/noExplicitAny: the builder's Arrow type, whichever it is
    arrowType: any,
    stats: LeafStats | undefined,
    start: number,
    end: number,
  ) {
    const nulls = nullsOf(column.valid, start, end);
    if (stats !== undefined) stats.nullCount += nulls.count;
    switch (column.kind) {
      case UTF8: {
        const data = utf8Data(column, arrowType, nulls, start, end);
        if (stats !== undefined) {
          const [min, max] = utf8Bounds(column, start, end);
          if (min >= 0) stats.offer(this.text(column, min), this.text(column, max));
        }
        return data;
      }
      case INT64:
        return int64Data(column, arrowType, nulls, stats, start, end);
      case BOOL:
        return boolData(column, arrowType, nulls, start, end);
      default:
        return numberData(column, arrowType, nulls, stats, start, end);
    }
  }

  private text(column: Column, row: number): string {
    const offsets = column.offsets!;
    return utf8.decode(column.bytes.subarray(offsets[row]!, offsets[row + 1]!));
  }

  /** The leading rows of [start, end) as the row path holds them, for the dictionary choice. */
  private sampleRows(start: number, end: number): Record<string, unknown>[] {
    const n = Math.min(end - start, DICTIONARY_SAMPLE);
    const rows: Record<string, unknown>[] = [];
    for (let i = 0; i < n; i++) rows.push({});
    for (const column of this.columns) {
      if (column.kind === BOOL) continue;
      for (let i = 0; i < n; i++) {
        const r = start + i;
        if (column.valid[r] === 0) continue;
        let v: unknown;
        if (column.kind === UTF8) {
          const s = column.offsets![r]!;
          const e = column.offsets![r + 1]!;
          // Distinct byte strings are distinct strings (valid UTF-8 decodes one-to-one).
          v = latin1.decode(column.bytes.subarray(s, e));
        } else if (column.samples?.[r] !== undefined) v = column.samples[r];
        else if (column.forms !== undefined && column.forms[r] !== 0) v = `${column.numbers![r]}:${column.forms[r]}`;
        else v = column.big?.get(r) ?? column.numbers![r];
        rows[i]![column.name] = v;
      }
    }
    return rows;
  }
}

/** A batch with a column of each type, kept so that the shapes of ColumnBatch and its columns survive (common/shapes.ts). */
export const SHAPE_KEEPER = keepShape(
  new ColumnBatch(
    {
      type: 'struct',
      fields: [...BATCH_TYPES].map((type) => ({ name: type, type: type as DataType, nullable: true, metadata: {} })),
    },
    1,
  ),
);
