// Column builders for string (Arrow Utf8) and binary (Arrow Binary): int32 offsets plus one growing
// byte buffer, strings UTF-8-encoded straight into it (no per-value allocation).
import { Binary, type Data, makeData, Utf8 } from 'apache-arrow';
import { ParquetEncodeError, RejectedValue } from '../errors.js';
import { compareUtf8 } from '../stats.js';
import { BaseBuilder, type Items, type Keyed } from './builder.js';

/** Largest byte length one Arrow Utf8/Binary array can address (int32 offsets). */
const MAX_BYTES = 0x7fffffff;
/** ASCII strings shorter than this are copied by a charCode loop, faster than a native call. */
const SHORT_STRING = 16;
/** How many leading values are sampled to size the byte buffer. */
const SAMPLE = 256;

/**
 * Buffer#utf8Write(string, offset, maxLength) is what Buffer#write dispatches to, minus its
 * argument parsing (a fifth of a string column's cost). Every Node release has it; should one not,
 * Buffer#write is used.
 */
interface Utf8Writable {
  utf8Write(s: string, offset: number, maxLength: number): number;
}
const HAS_UTF8_WRITE = typeof (Buffer.prototype as unknown as Partial<Utf8Writable>).utf8Write === 'function';

/** String.prototype.isWellFormed (ES2024, in Node ≥ 20). */
type WellFormed = string & { isWellFormed(): boolean };

/** Byte capacity for `length` values, from the average size of up to SAMPLE items (+25%). */
function estimateBytes(items: Items, key: string | undefined, start: number, end: number, length: number): number {
  const stop = Math.min(end, start + SAMPLE);
  let total = 0;
  for (let i = start; i < stop; i++) {
    const v = key === undefined ? items[i] : (items[i] as Keyed)?.[key];
    if (typeof v === 'string' || v instanceof Uint8Array) total += v.length;
  }
  const perValue = stop > start ? total / (stop - start) : 0;
  return Math.min(MAX_BYTES, Math.max(1024, Math.ceil(perValue * length * 1.25) + 64));
}

/** A byte buffer at least `need` long holding the first `used` bytes of `buf`. */
function grow(buf: Buffer, used: number, need: number, column: string): Buffer {
  if (need > MAX_BYTES) {
    throw new ParquetEncodeError(
      `column '${column}' holds more than 2 GiB of bytes in one batch; write the rows as several files`,
      { code: 'BATCH_TOO_LARGE', context: { column } },
    );
  }
  const next = Buffer.allocUnsafe(Math.min(MAX_BYTES, Math.max(need, buf.length * 2)));
  next.set(buf.subarray(0, used));
  return next;
}

/** Offsets and bytes shared by the string and binary builders. */
abstract class VarBytesBuilder extends BaseBuilder {
  protected offsets = new Int32Array(1);
  protected bytes: Buffer = Buffer.alloc(0);
  protected pos = 0;

  override begin(length: number): void {
    super.begin(length);
    this.offsets = new Int32Array(length + 1);
    this.bytes = Buffer.alloc(0);
    this.pos = 0;
  }

  /** Sizes the byte buffer from the first block. */
  protected reserve(items: Items, key: string | undefined, start: number, end: number): void {
    if (this.bytes.length === 0 && end > start) {
      this.bytes = Buffer.allocUnsafe(estimateBytes(items, key, start, end, this.length));
    }
  }

  finish(): Data {
    return makeData({
      type: this.arrowType,
      length: this.length,
      nullCount: this.arrowNulls,
      nullBitmap: this.takeValidity(),
      valueOffsets: this.offsets,
      data: this.bytes.subarray(0, this.pos),
    } as never);
  }
}

/** string: JS strings, stored as UTF-8; min/max in UTF-8 byte order. */
export class Utf8Builder extends VarBytesBuilder {
  readonly arrowType = new Utf8();
  private min: string | undefined;
  private max: string | undefined;

  append(items: Items, key: string | undefined, rows: Int32Array | undefined, start: number, end: number): void {
    this.reserve(items, key, start, end);
    const offsets = this.offsets;
    const track = this.stats !== undefined;
    let buf = this.bytes;
    let pos = this.pos;
    let min = this.min;
    let max = this.max;
    let i = start;
    let v: unknown;
    try {
      for (; i < end; i++) {
        v = key === undefined ? items[i] : (items[i] as Keyed)?.[key];
        if (v == null) {
          this.markNull(i, items, key);
          offsets[i + 1] = pos;
          continue;
        }
        if (typeof v !== 'string') throw RejectedValue.wrongType('string', v);
        const len = v.length;
        if (pos + len * 3 > buf.length) buf = grow(buf, pos, pos + len * 3, this.column);
        let ascii = true;
        let written: number;
        if (len < SHORT_STRING) {
          let j = 0;
          for (; j < len; j++) {
            const c = v.charCodeAt(j);
            if (c > 0x7f) break;
            buf[pos + j] = c;
          }
          if (j === len) written = len;
          else {
            written = HAS_UTF8_WRITE
              ? (buf as unknown as Utf8Writable).utf8Write(v, pos, buf.length - pos)
              : buf.write(v, pos, 'utf8');
            ascii = false;
          }
        } else {
          written = HAS_UTF8_WRITE
            ? (buf as unknown as Utf8Writable).utf8Write(v, pos, buf.length - pos)
            : buf.write(v, pos, 'utf8');
          ascii = written === len;
        }
        if (!ascii && !(v as WellFormed).isWellFormed()) {
          throw new RejectedValue('string has a lone UTF-16 surrogate, which UTF-8 cannot hold');
        }
        pos += written;
        offsets[i + 1] = pos;
        if (track) {
          if (min === undefined || max === undefined) {
            min = v;
            max = v;
          } else if (ascii) {
            // An ASCII string orders the same in UTF-16 and UTF-8 against any other string.
            if (v < min) min = v;
            else if (v > max) max = v;
          } else if (compareUtf8(v, min) < 0) min = v;
          else if (compareUtf8(v, max) > 0) max = v;
        }
      }
    } catch (error) {
      this.bytes = buf;
      this.reject(error, i, rows, v);
    }
    this.bytes = buf;
    this.pos = pos;
    this.min = min;
    this.max = max;
  }

  override finish(): Data {
    if (this.stats !== undefined && this.min !== undefined && this.max !== undefined) {
      this.stats.offer(this.min, this.max);
    }
    return super.finish();
  }
}

/** binary: Uint8Array values (Buffer included), copied into one byte buffer. */
export class BinaryBuilder extends VarBytesBuilder {
  readonly arrowType = new Binary();

  append(items: Items, key: string | undefined, rows: Int32Array | undefined, start: number, end: number): void {
    this.reserve(items, key, start, end);
    const offsets = this.offsets;
    let buf = this.bytes;
    let pos = this.pos;
    let i = start;
    let v: unknown;
    try {
      for (; i < end; i++) {
        v = key === undefined ? items[i] : (items[i] as Keyed)?.[key];
        if (v == null) {
          this.markNull(i, items, key);
          offsets[i + 1] = pos;
          continue;
        }
        if (!(v instanceof Uint8Array)) throw RejectedValue.wrongType('binary (Uint8Array)', v);
        if (pos + v.length > buf.length) buf = grow(buf, pos, pos + v.length, this.column);
        buf.set(v, pos);
        pos += v.length;
        offsets[i + 1] = pos;
      }
    } catch (error) {
      this.reject(error, i, rows, v);
    }
    this.bytes = buf;
    this.pos = pos;
  }
}
