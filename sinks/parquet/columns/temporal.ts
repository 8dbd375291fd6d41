// Column builders for date (Arrow Date32, days since the epoch) and timestamp (Arrow
// Timestamp(MICROSECOND, 'UTC'), Parquet INT64 TIMESTAMP(isAdjustedToUTC=true, MICROS)).
import { type Data, DateDay, makeData, TimestampMicrosecond } from 'apache-arrow';
import { toDays, toEpochMicros } from '../values.js';
import { BaseBuilder, type Items, type Keyed } from './builder.js';
import { Int64ColumnBuilder } from './numbers.js';

/** date: 'YYYY-MM-DD', Date or day numbers (see values.ts). */
export class DateBuilder extends BaseBuilder {
  readonly arrowType = new DateDay();
  private values = new Int32Array(0);
  private min = Number.POSITIVE_INFINITY;
  private max = Number.NEGATIVE_INFINITY;

  override begin(length: number): void {
    super.begin(length);
    this.values = new Int32Array(length);
  }

  append(items: Items, key: string | undefined, rows: Int32Array | undefined, start: number, end: number): void {
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
        const days = toDays(v);
        values[i] = days;
        if (days < min) min = days;
        if (days > max) max = days;
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
    });
  }
}

/** timestamp: Date, ISO-8601 with zone, epoch ms number or epoch µs bigint (see values.ts). */
export class TimestampBuilder extends Int64ColumnBuilder {
  /** Always UTC-adjusted microseconds: never a zone-less timestamp, never INT96. */
  readonly arrowType = new TimestampMicrosecond('UTC');
  protected convert(value: unknown): number | bigint {
    return toEpochMicros(value);
  }
}
