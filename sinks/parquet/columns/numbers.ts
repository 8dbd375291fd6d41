// Column builders for the numeric types: byte/short/integer (Int8/16/32), long (Int64) and
// float/double (Float32/64), written straight into typed arrays with their min/max tracked inline.
import {
  type Data,
  Float32,
  Float64,
  Int8,
  Int16,
  Int32,
  Int64,
  makeData,
  type TimestampMicrosecond,
} from 'apache-arrow';
import { RejectedValue } from '../errors.js';
import { setInt64, toLong } from '../values.js';
import { BaseBuilder, type BuilderSpec, type Items, type Keyed } from './builder.js';

export type SmallIntType = 'byte' | 'short' | 'integer';

const SMALL_INTS = {
  byte: { arrow: () => new Int8(), Array: Int8Array, lo: -128, hi: 127 },
  short: { arrow: () => new Int16(), Array: Int16Array, lo: -32768, hi: 32767 },
  integer: { arrow: () => new Int32(), Array: Int32Array, lo: -2147483648, hi: 2147483647 },
} as const;

/** byte, short, integer: JS numbers that are integers within range. */
export class SmallIntBuilder extends BaseBuilder {
  readonly arrowType: Int8 | Int16 | Int32;
  private values: Int8Array | Int16Array | Int32Array = new Int32Array(0);
  private min = Number.POSITIVE_INFINITY;
  private max = Number.NEGATIVE_INFINITY;

  constructor(
    spec: BuilderSpec,
    private readonly typeName: SmallIntType,
  ) {
    super(spec);
    this.arrowType = SMALL_INTS[typeName].arrow();
  }

  override begin(length: number): void {
    super.begin(length);
    this.values = new SMALL_INTS[this.typeName].Array(length);
  }

  append(items: Items, key: string | undefined, rows: Int32Array | undefined, start: number, end: number): void {
    const { lo, hi } = SMALL_INTS[this.typeName];
    const values = this.values;
    let min = this.min;
    let max = this.max;
    let i = start;
    let v: unknown;
    try {
      for (; i < end; i++) {
        v = key === undefined ? items[i] : (items[i] as Keyed)?.[key];
        if (v == null) {
          this.markNull(i, items, key);
          continue;
        }
        if (typeof v !== 'number') throw RejectedValue.wrongType(this.typeName, v);
        if (!Number.isInteger(v) || v < lo || v > hi) {
          throw new RejectedValue(`${v} is not a ${this.typeName} (an integer in [${lo}, ${hi}])`);
        }
        values[i] = v;
        if (v < min) min = v;
        if (v > max) max = v;
      }
    } catch (error) {
      this.reject(error, i, rows, v);
    }
    this.min = min;
    this.max = max;
  }

  finish(): Data {
    if (this.stats !== undefined && this.min <= this.max) this.stats.offer(this.min, this.max);
    return makeData({
      type: this.arrowType,
      length: this.length,
      nullCount: this.arrowNulls,
      nullBitmap: this.takeValidity(),
      data: this.values,
    } as never);
  }
}

/**
 * Shared body of the 64-bit integer columns (long, timestamp): values converted by `convert` and
 * stored as int64 word pairs (no BigInt per number), with min/max in the same pass.
 */
export abstract class Int64ColumnBuilder extends BaseBuilder {
  abstract override readonly arrowType: Int64 | TimestampMicrosecond;
  private big = new BigInt64Array(0);
  private words = new Int32Array(0);
  private min: number | bigint = Number.POSITIVE_INFINITY;
  private max: number | bigint = Number.NEGATIVE_INFINITY;

  /** The column's value as a safe-integer number or a bigint; throws for values it cannot take. */
  protected abstract convert(value: unknown): number | bigint;

  override begin(length: number): void {
    super.begin(length);
    this.big = new BigInt64Array(length);
    this.words = new Int32Array(this.big.buffer);
  }

  append(items: Items, key: string | undefined, rows: Int32Array | undefined, start: number, end: number): void {
    const { big, words } = this;
    let min = this.min;
    let max = this.max;
    let i = start;
    let v: unknown;
    try {
      for (; i < end; i++) {
        v = key === undefined ? items[i] : (items[i] as Keyed)?.[key];
        if (v == null) {
          this.markNull(i, items, key);
          continue;
        }
        const x = this.convert(v);
        setInt64(words, big, i, x);
        if (x < min) min = x;
        if (x > max) max = x;
      }
    } catch (error) {
      this.reject(error, i, rows, v);
    }
    this.min = min;
    this.max = max;
  }

  finish(): Data {
    if (this.stats !== undefined && this.min !== Number.POSITIVE_INFINITY) this.stats.offer(this.min, this.max);
    return makeData({
      // Both types store int64 values; makeData has no overload for their union.
      type: this.arrowType as Int64,
      length: this.length,
      nullCount: this.arrowNulls,
      nullBitmap: this.takeValidity(),
      data: this.big,
    });
  }
}

/** long: safe-integer numbers or bigints. */
export class LongBuilder extends Int64ColumnBuilder {
  readonly arrowType = new Int64();
  protected convert(value: unknown): number | bigint {
    return toLong(value);
  }
}

export class FloatBuilder extends BaseBuilder {
  readonly arrowType: Float32 | Float64;
  private values: Float32Array | Float64Array = new Float64Array(0);
  private min = Number.POSITIVE_INFINITY;
  private max = Number.NEGATIVE_INFINITY;

  constructor(
    spec: BuilderSpec,
    private readonly single: boolean,
  ) {
    super(spec);
    this.arrowType = single ? new Float32() : new Float64();
  }

  override begin(length: number): void {
    super.begin(length);
    this.values = this.single ? new Float32Array(length) : new Float64Array(length);
  }

  append(items: Items, key: string | undefined, rows: Int32Array | undefined, start: number, end: number): void {
    const { single, values } = this;
    let min = this.min;
    let max = this.max;
    let i = start;
    let v: unknown;
    try {
      for (; i < end; i++) {
        v = key === undefined ? items[i] : (items[i] as Keyed)?.[key];
        if (v == null) {
          this.markNull(i, items, key);
          continue;
        }
        if (typeof v !== 'number') throw RejectedValue.wrongType(single ? 'float' : 'double', v);
        let x = v;
        if (single) {
          x = Math.fround(v);
          if (x !== v && !Number.isFinite(x) && Number.isFinite(v)) {
            throw new RejectedValue(`${v} is outside the float (32-bit) range`);
          }
        }
        values[i] = x;
        // NaN fails both comparisons, so it never becomes a bound.
        if (x < min) min = x;
        if (x > max) max = x;
      }
    } catch (error) {
      this.reject(error, i, rows, v);
    }
    this.min = min;
    this.max = max;
  }

  finish(): Data {
    // min > max when there was no non-NaN value (±Infinity values still compare as bounds).
    if (this.stats !== undefined && this.min <= this.max) this.stats.offer(this.min, this.max);
    return makeData({
      type: this.arrowType,
      length: this.length,
      nullCount: this.arrowNulls,
      nullBitmap: this.takeValidity(),
      data: this.values,
    } as never);
  }
}
