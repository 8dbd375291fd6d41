// Column builder for decimal(p,s): exact unscaled values in Arrow Decimal128 (four little-endian
// 32-bit words per value); values that would need rounding or more than p digits are refused.
import { type Data, Decimal, makeData } from 'apache-arrow';
import { setDecimal128, toUnscaledDecimal } from '../values.js';
import { BaseBuilder, type BuilderSpec, type Items, type Keyed } from './builder.js';

export class DecimalBuilder extends BaseBuilder {
  readonly arrowType: Decimal;
  private big = new BigInt64Array(0);
  private words = new Int32Array(0);
  private min: number | bigint = Number.POSITIVE_INFINITY;
  private max: number | bigint = Number.NEGATIVE_INFINITY;

  constructor(
    spec: BuilderSpec,
    private readonly precision: number,
    private readonly scale: number,
  ) {
    super(spec);
    this.arrowType = new Decimal(scale, precision, 128);
  }

  override begin(length: number): void {
    super.begin(length);
    this.big = new BigInt64Array(2 * length);
    this.words = new Int32Array(this.big.buffer);
  }

  append(items: Items, key: string | undefined, rows: Int32Array | undefined, start: number, end: number): void {
    const { precision, scale, big, words } = this;
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
        const unscaled = toUnscaledDecimal(v, precision, scale);
        setDecimal128(words, big, i, unscaled);
        if (unscaled < min) min = unscaled;
        if (unscaled > max) max = unscaled;
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
      type: this.arrowType,
      length: this.length,
      nullCount: this.arrowNulls,
      nullBitmap: this.takeValidity(),
      data: new Uint32Array(this.big.buffer),
    });
  }
}
