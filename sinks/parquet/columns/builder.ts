// The ColumnBuilder contract (one Arrow column from row values, in one pass) and the base class with
// the null handling, validity bitmap and error reporting every builder shares.
import type { DataType as ArrowType, Data } from 'apache-arrow';
import { describeJsType, ParquetEncodeError, RejectedValue } from '../errors.js';
import type { LeafStats } from '../stats.js';

/** Row values are read as `items[i][key]`, or `items[i]` itself when the key is undefined. */
export type Items = readonly unknown[];
export type Keyed = Record<string, unknown> | null | undefined;

/**
 * Builds one Arrow column of a known length, block by block, in one pass over the items.
 *
 * Slot i is filled from `items[i]`. Keyed mode (`key` given): slot i holds `items[i][key]`; a
 * null/undefined `items[i]` means an enclosing struct is null, so the slot is null even when the
 * field is not nullable. Direct mode (`key` undefined): slot i holds `items[i]` (array elements,
 * map keys and values). `rows[i]` is the input row index of item i for error messages (identity
 * when undefined). Blocks let all columns of a few thousand rows be built while those rows are in
 * the CPU cache. A builder is used once: begin, append over consecutive ranges, finish.
 */
export interface ColumnBuilder {
  readonly arrowType: ArrowType;
  /** Allocates the column for `length` slots. */
  begin(length: number): void;
  /** Fills slots [start, end) from items[start, end). */
  append(items: Items, key: string | undefined, rows: Int32Array | undefined, start: number, end: number): void;
  /** The finished Arrow data. */
  finish(): Data;
}

/** Builds a whole column in one block. */
export function buildColumn(
  builder: ColumnBuilder,
  items: Items,
  key: string | undefined,
  rows: Int32Array | undefined,
): Data {
  builder.begin(items.length);
  builder.append(items, key, rows, 0, items.length);
  return builder.finish();
}

/** Where a builder sits: dotted column path for errors, nullability and (for stats leaves) its stats. */
export interface BuilderSpec {
  column: string;
  nullable: boolean;
  stats: LeafStats | undefined;
}

/** A validity bitmap with every bit set (bits are cleared for nulls). */
export function allValid(length: number): Uint8Array {
  return new Uint8Array((length + 7) >> 3).fill(0xff);
}

export abstract class BaseBuilder implements ColumnBuilder {
  abstract readonly arrowType: ArrowType;
  readonly column: string;
  readonly nullable: boolean;
  readonly stats: LeafStats | undefined;
  /** Slots in the column being built. */
  protected length = 0;
  /** Validity bitmap, allocated at the first null. */
  protected validity: Uint8Array | undefined;
  /** Null slots in the Arrow array (0 for a non-nullable field). */
  protected arrowNulls = 0;

  constructor(spec: BuilderSpec) {
    this.column = spec.column;
    this.nullable = spec.nullable;
    this.stats = spec.stats;
  }

  begin(length: number): void {
    this.length = length;
    this.validity = undefined;
    this.arrowNulls = 0;
  }

  abstract append(
    items: Items,
    key: string | undefined,
    rows: Int32Array | undefined,
    start: number,
    end: number,
  ): void;

  abstract finish(): Data;

  /**
   * Slot `i` is null: counted for stats, marked in the validity bitmap when the field is
   * nullable, refused when it is not (unless an enclosing struct is null, keyed mode).
   */
  protected markNull(i: number, items: Items, key: string | undefined): void {
    if (this.stats !== undefined) this.stats.nullCount++;
    if (this.nullable) {
      if (this.validity === undefined) this.validity = allValid(this.length);
      this.validity[i >> 3]! &= ~(1 << (i & 7));
      this.arrowNulls++;
    } else if (key === undefined || items[i] != null) {
      throw new RejectedValue('null in a non-nullable field');
    }
  }

  /** Validity bitmap to hand to makeData (undefined when there is no null). */
  protected takeValidity(): Uint8Array | undefined {
    return this.arrowNulls > 0 ? this.validity : undefined;
  }

  /** Rethrows a RejectedValue from slot `i` as a ParquetEncodeError naming column and row. */
  protected reject(error: unknown, i: number, rows: Int32Array | undefined, value: unknown): never {
    if (!(error instanceof RejectedValue)) throw error;
    const row = rows === undefined ? i : (rows[i] as number);
    const jsType = error.jsType ?? describeJsType(value);
    throw new ParquetEncodeError(`column '${this.column}', row ${row}: ${error.reason}`, {
      code: 'INVALID_DATA',
      context: { column: this.column, row, jsType },
    });
  }
}
