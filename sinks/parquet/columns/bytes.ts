// Column builders for string (Arrow Utf8) and binary (Arrow Binary): int32 offsets plus one growing
// byte buffer; strings are UTF-8-encoded straight into it, ASCII runs with one native call per run.
import { Binary, type Data, makeData, Utf8 } from 'apache-arrow';
import { isWellFormed, writeLatin1, writeUtf8 } from '../../../common/strings.js';
import { ParquetEncodeError, RejectedValue } from '../errors.js';
import { compareUtf8 } from '../stats.js';
import { BaseBuilder, type Items, type Keyed } from './builder.js';

/** Largest byte length one Arrow Utf8/Binary array can address (int32 offsets). */
const MAX_BYTES = 0x7fffffff;
/** Characters gathered into one run before it is written (a small, young-generation string). */
const RUN_CHARS = 16_384;
/** ASCII strings shorter than this are copied by a charCode loop when written one by one. */
const SHORT_STRING = 16;
/** After a run that was not ASCII, characters written value by value before trying runs again. */
const DIRECT_CHARS = 4 * RUN_CHARS;
/** How many leading values are sampled to size the byte buffer. */
const SAMPLE = 256;

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

/**
 * string: JS strings, stored as UTF-8; min/max in UTF-8 byte order.
 *
 * A native string write costs ~100 ns per call whatever the length, so values are not written one
 * by one: a run of values is concatenated (up to RUN_CHARS characters) and written with one call.
 * While the run is ASCII (checked with one Buffer.byteLength over the run) its Latin-1 bytes are its
 * UTF-8 bytes and the offsets follow from string lengths; a run with any other character is
 * re-encoded value by value, and the next DIRECT_CHARS characters are written that way too (text
 * that is not ASCII would otherwise be encoded twice). This halves the cost of uuid- and payload-like
 * ASCII columns and costs non-ASCII text about 5%.
 */
export class Utf8Builder extends VarBytesBuilder {
  readonly arrowType = new Utf8();
  private min: string | undefined;
  private max: string | undefined;
  /** Characters still to write value by value after a run turned out not to be ASCII. */
  private directChars = 0;

  override begin(length: number): void {
    super.begin(length);
    this.min = undefined;
    this.max = undefined;
    this.directChars = 0;
  }

  append(items: Items, key: string | undefined, rows: Int32Array | undefined, start: number, end: number): void {
    this.reserve(items, key, start, end);
    const offsets = this.offsets;
    const track = this.stats !== undefined;
    // The pending run: its text, its length in UTF-16 units, its first slot and (native-order)
    // min/max candidates. `base` is where it will be written.
    let run = '';
    let runChars = 0;
    let runFirst = start;
    let runMin: string | undefined;
    let runMax: string | undefined;
    let base = this.pos;
    let i = start;
    let v: unknown;
    try {
      for (; i < end; i++) {
        v = key === undefined ? items[i] : (items[i] as Keyed)?.[key];
        if (v == null) {
          this.markNull(i, items, key);
          offsets[i + 1] = base + runChars;
          continue;
        }
        if (typeof v !== 'string') throw RejectedValue.wrongType('string', v);
        if (this.directChars > 0) {
          // Just after a non-ASCII run: write value by value for a while (runs would be redone).
          this.writeOne(v, i);
          this.directChars -= v.length;
          base = this.pos;
          runFirst = i + 1;
          continue;
        }
        run += v;
        runChars += v.length;
        offsets[i + 1] = base + runChars;
        if (track) {
          if (runMin === undefined || runMax === undefined) {
            runMin = v;
            runMax = v;
          } else if (v < runMin) runMin = v;
          else if (v > runMax) runMax = v;
        }
        if (runChars >= RUN_CHARS) {
          this.flushRun(items, key, rows, runFirst, i + 1, run, runChars, runMin, runMax);
          run = '';
          runChars = 0;
          runFirst = i + 1;
          runMin = undefined;
          runMax = undefined;
          base = this.pos;
        }
      }
    } catch (error) {
      this.reject(error, i, rows, v);
    }
    this.flushRun(items, key, rows, runFirst, end, run, runChars, runMin, runMax);
  }

  /** Writes the run of slots [first, last) whose non-null values concatenate to `run`. */
  private flushRun(
    items: Items,
    key: string | undefined,
    rows: Int32Array | undefined,
    first: number,
    last: number,
    run: string,
    runChars: number,
    runMin: string | undefined,
    runMax: string | undefined,
  ): void {
    const base = this.pos;
    if (base + runChars > this.bytes.length) this.bytes = grow(this.bytes, base, base + runChars, this.column);
    if (runChars === 0 || Buffer.byteLength(run, 'utf8') === runChars) {
      // All ASCII (or only empty strings): Latin-1 bytes are the UTF-8 bytes, and the offsets
      // already set are right.
      if (runChars > 0) writeLatin1(this.bytes, run, base);
      this.pos = base + runChars;
      // The candidates are ASCII, so native order agrees with UTF-8 order against any string.
      if (runMin !== undefined && runMax !== undefined) this.merge(runMin, runMax, true);
      return;
    }
    this.writeEach(items, key, rows, first, last);
    this.directChars = DIRECT_CHARS;
  }

  /** Re-encodes slots [first, last) one value at a time (a run with non-ASCII text). */
  private writeEach(items: Items, key: string | undefined, rows: Int32Array | undefined, first: number, last: number) {
    let j = first;
    let v: unknown;
    try {
      for (; j < last; j++) {
        v = key === undefined ? items[j] : (items[j] as Keyed)?.[key];
        if (v == null) this.offsets[j + 1] = this.pos;
        else this.writeOne(v as string, j);
      }
    } catch (error) {
      this.reject(error, j, rows, v);
    }
  }

  /** UTF-8-encodes one value into slot `i`. */
  private writeOne(s: string, i: number): void {
    const pos = this.pos;
    const len = s.length;
    if (pos + len * 3 > this.bytes.length) this.bytes = grow(this.bytes, pos, pos + len * 3, this.column);
    const buf = this.bytes;
    // Short ASCII strings: a charCode loop beats the ~100 ns native call.
    let j = 0;
    if (len < SHORT_STRING) {
      for (; j < len; j++) {
        const c = s.charCodeAt(j);
        if (c > 0x7f) break;
        buf[pos + j] = c;
      }
    }
    const written = j === len ? len : writeUtf8(buf, s, pos);
    const ascii = written === len;
    if (!ascii && !isWellFormed(s)) {
      throw new RejectedValue('string has a lone UTF-16 surrogate, which UTF-8 cannot hold');
    }
    this.pos = pos + written;
    this.offsets[i + 1] = this.pos;
    if (this.stats !== undefined) this.merge(s, s, ascii);
  }

  /** Merges a min/max candidate pair; `ascii` says native comparison is exact for them. */
  private merge(min: string, max: string, ascii: boolean): void {
    if (this.min === undefined || this.max === undefined) {
      this.min = min;
      this.max = max;
    } else if (ascii) {
      if (min < this.min) this.min = min;
      if (max > this.max) this.max = max;
    } else {
      if (compareUtf8(min, this.min) < 0) this.min = min;
      if (compareUtf8(max, this.max) > 0) this.max = max;
    }
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
