// Column builder for boolean: bit-packed values (Arrow Bool); booleans get a null count, no min/max.
import { Bool, type Data, makeData } from 'apache-arrow';
import { RejectedValue } from '../errors.js';
import { BaseBuilder, type Items, type Keyed } from './builder.js';

export class BooleanBuilder extends BaseBuilder {
  readonly arrowType = new Bool();
  private bits = new Uint8Array(0);

  override begin(length: number): void {
    super.begin(length);
    this.bits = new Uint8Array((length + 7) >> 3);
  }

  append(items: Items, key: string | undefined, rows: Int32Array | undefined, start: number, end: number): void {
    const bits = this.bits;
    let i = start;
    let v: unknown;
    try {
      for (; i < end; i++) {
        v = key === undefined ? items[i] : (items[i] as Keyed)?.[key];
        if (v == null) {
          this.markNull(i, items, key);
          continue;
        }
        if (v === true) bits[i >> 3]! |= 1 << (i & 7);
        else if (v !== false) throw RejectedValue.wrongType('boolean', v);
      }
    } catch (error) {
      this.reject(error, i, rows, v);
    }
  }

  finish(): Data {
    return makeData({
      type: this.arrowType,
      length: this.length,
      nullCount: this.arrowNulls,
      nullBitmap: this.takeValidity(),
      data: this.bits,
    });
  }
}
