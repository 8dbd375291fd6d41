// JsonColumnScanner: one JSON record's UTF-8 bytes straight into a ColumnBatch row — the fast path of
// parseJson(schema) for flat schemas of primitive columns. No JS object, no string for a string
// column (its bytes are copied, escapes decoded in place), numbers parsed from the bytes.
//
// The scanner takes a record only when it is sure of the outcome the row path (JSON.parse of the
// UTF-8-decoded text, conformed to the schema by conform-json.ts, then checked by the writer) gives:
// the same values, the same nulls. Anything else — not JSON, a value that does not fit, a duplicate
// key, a key with escapes or non-ASCII bytes, a string column given an object, text that is not valid
// UTF-8, a timestamp the conformer or the writer would refuse, a null in a non-nullable column — is
// declined (scan returns false and the row is rolled back) and the caller runs the record through the
// row path, which decides (and names the reason of a dead letter).

import { keepShape } from '../../common/shapes.js';
import { type ColumnBatch, columnBatchSupports, SHAPE_KEEPER, SMALL_RANGES } from '../../sinks/parquet/column-batch.js';
import { canonicalDate, canonicalTimestamp, toDays, toEpochMicros } from '../../sinks/parquet/values.js';
import type { StructType } from '../../sinks/schema.js';
import { conformsTemporal } from './conform-json.js';

const STRING = 0;
const LONG = 1;
const SMALL_INT = 2;
const DOUBLE = 3;
const BOOLEAN = 4;
const TIMESTAMP = 5;
const DATE = 6;

const KIND: Readonly<Record<string, number>> = {
  string: STRING,
  long: LONG,
  integer: SMALL_INT,
  short: SMALL_INT,
  byte: SMALL_INT,
  double: DOUBLE,
  boolean: BOOLEAN,
  timestamp: TIMESTAMP,
  date: DATE,
};

/** Deepest nesting of a skipped value the scanner follows (deeper records take the row path). */
const MAX_SKIP_DEPTH = 64;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const latin1 = new TextDecoder('latin1');

/** Byte classes inside a JSON string: 0 plain ASCII, else one of these. */
const C_QUOTE = 1;
const C_BACKSLASH = 2;
const C_CONTROL = 3;
const C_HIGH = 4;
const STRING_CLASS = new Uint8Array(256);
for (let c = 0; c < 0x20; c++) STRING_CLASS[c] = C_CONTROL;
for (let c = 0x80; c < 0x100; c++) STRING_CLASS[c] = C_HIGH;
STRING_CLASS[QUOTE] = C_QUOTE;
STRING_CLASS[BACKSLASH] = C_BACKSLASH;

/** The byte each one-character escape (a backslash, then one of "\\/bfnrt) stands for; 0 for others. */
const ESCAPED = new Uint8Array(256);
for (const [letter, byte] of [
  ['"', 0x22],
  ['\\', 0x5c],
  ['/', 0x2f],
  ['b', 0x08],
  ['f', 0x0c],
  ['n', 0x0a],
  ['r', 0x0d],
  ['t', 0x09],
] as const) {
  ESCAPED[letter.charCodeAt(0)] = byte;
}

/** 10^0 … 10^22: exactly representable doubles. */
const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);
function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  return l >= 0x61 && l <= 0x66 ? l - 0x61 + 10 : -1;
}

/** The code unit of the 4 hex digits at b[p, p + 4), or -1. */
function hex4(b: Uint8Array, p: number, end: number): number {
  if (p + 4 > end) return -1;
  const a = hexValue(b[p]!);
  const c = hexValue(b[p + 1]!);
  const d = hexValue(b[p + 2]!);
  const e = hexValue(b[p + 3]!);
  return a < 0 || c < 0 || d < 0 || e < 0 ? -1 : (a << 12) | (c << 8) | (d << 4) | e;
}

/** Whether b[start, end) is valid UTF-8 (what TextDecoder decodes without a replacement). */
export function isValidUtf8(b: Uint8Array, start: number, end: number): boolean {
  let i = start;
  while (i < end) {
    const c = b[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) need = 1;
    else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      if (c === 0xe0) lo = 0xa0;
      else if (c === 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      if (c === 0xf0) lo = 0x90;
      else if (c === 0xf4) hi = 0x8f;
    } else return false;
    if (i + need >= end) return false;
    const first = b[i + 1]!;
    if (first < lo || first > hi) return false;
    for (let k = 2; k <= need; k++) {
      const x = b[i + k]!;
      if (x < 0x80 || x > 0xbf) return false;
    }
    i += need + 1;
  }
  return true;
}

/**
 * The end of the run of plain string bytes (printable ASCII but quote and backslash) from b[q],
 * word by word where b is viewed as `words` (little-endian 4-byte words of it); stops at or before
 * the first other byte (exactly: the caller goes on byte by byte from there).
 */
function plainRun(b: Uint8Array, words: Int32Array, q: number, end: number): number {
  while (q < end && (q & 3) !== 0) {
    if (STRING_CLASS[b[q]!] !== 0) return q;
    q++;
  }
  const last = Math.min(end, words.length << 2) - 4;
  while (q <= last) {
    const w = words[q >> 2]!;
    const quote = w ^ 0x22222222;
    const slash = w ^ 0x5c5c5c5c;
    // A byte ≥ 0x80, < 0x20, = '"' or = '\\' sets its high bit here (bytes after one may too).
    if (
      ((w |
        (((w & 0x7f7f7f7f) + 0x60606060) ^ 0x80808080) |
        ((quote - 0x01010101) & ~quote) |
        ((slash - 0x01010101) & ~slash)) &
        0x80808080) !==
      0
    )
      return q;
    q += 4;
  }
  return q;
}

interface Field {
  name: Uint8Array;
  kind: number;
  nullable: boolean;
  lo: number;
  hi: number;
  type: string;
}

/** Scans JSON records of a flat primitive schema into a ColumnBatch; see the file comment. */
export class JsonColumnScanner {
  private readonly fields: Field[];
  /** Position after the last token read. */
  private p = 0;
  /** Field index expected next (fields usually come in the same order). */
  private next = 0;
  /** The 4-byte words of the buffer being scanned (when it starts 4-byte aligned), and that buffer. */
  private words: Int32Array | undefined;
  private wordsOf: Uint8Array | undefined;

  /** Whether records of `schema` can be scanned (columnBatchSupports, ASCII field names). */
  static supports(schema: StructType): boolean {
    if (!columnBatchSupports(schema)) return false;
    // Field names of printable ASCII without quote or backslash: matched byte for byte to unescaped keys.
    return schema.fields.every((f) => /^[\x20-\x7e]+$/.test(f.name) && !/["\\]/.test(f.name));
  }

  constructor(
    schema: StructType,
    readonly batch: ColumnBatch,
  ) {
    if (!JsonColumnScanner.supports(schema)) throw new Error('JsonColumnScanner: unsupported schema');
    this.fields = schema.fields.map((f, i) => {
      if (batch.indexOf(f.name) !== i)
        throw new Error('JsonColumnScanner: the batch must have the schema columns in order');
      const range = SMALL_RANGES[f.type as string];
      return {
        name: Buffer.from(f.name, 'latin1'),
        kind: KIND[f.type as string]!,
        nullable: f.nullable,
        lo: range?.[0] ?? 0,
        hi: range?.[1] ?? 0,
        type: f.type as string,
      };
    });
  }

  /** Adds the record b[start, end) as a row; false (nothing added) when it must take the row path. */
  scan(b: Uint8Array, start: number, end: number): boolean {
    if (b !== this.wordsOf) {
      this.wordsOf = b;
      this.words = b.byteOffset % 4 === 0 ? new Int32Array(b.buffer, b.byteOffset, b.length >> 2) : undefined;
    }
    if (this.record(b, start, end)) {
      const { batch, fields } = this;
      for (let f = 0; f < fields.length; f++) {
        if (!fields[f]!.nullable && !batch.hasValue(f)) {
          batch.rollbackRow();
          return false;
        }
      }
      batch.commitRow();
      return true;
    }
    this.batch.rollbackRow();
    return false;
  }

  private record(b: Uint8Array, start: number, end: number): boolean {
    let p = this.skipSpace(b, start, end);
    if (p >= end || b[p] !== 0x7b) return false;
    p = this.skipSpace(b, p + 1, end);
    if (p < end && b[p] === 0x7d) return this.skipSpace(b, p + 1, end) === end;
    for (;;) {
      if (p >= end || b[p] !== QUOTE) return false;
      const keyStart = p + 1;
      // Usually the key is the field expected next: compared in place, no scan of its own.
      let f = this.next;
      let q = this.keyAt(f, b, keyStart, end);
      if (q < 0) {
        q = keyStart;
        while (q < end) {
          const c = b[q]!;
          if (c === QUOTE) break;
          if (c === BACKSLASH || c < 0x20 || c >= 0x80) return false;
          q++;
        }
        if (q >= end) return false;
        f = this.fieldAt(b, keyStart, q);
      } else this.next = f + 1 === this.fields.length ? 0 : f + 1;
      p = this.skipSpace(b, q + 1, end);
      if (p >= end || b[p] !== 0x3a) return false;
      p = this.skipSpace(b, p + 1, end);
      if (f >= 0) {
        if (this.batch.isSet(f) || !this.value(f, b, p, end)) return false;
      } else if (!this.skip(b, p, end, 0)) return false;
      p = this.skipSpace(b, this.p, end);
      if (p >= end) return false;
      if (b[p] === 0x2c) {
        p = this.skipSpace(b, p + 1, end);
        continue;
      }
      if (b[p] !== 0x7d) return false;
      return this.skipSpace(b, p + 1, end) === end;
    }
  }

  private skipSpace(b: Uint8Array, p: number, end: number): number {
    while (p < end && isSpace(b[p]!)) p++;
    return p;
  }

  /** Where the quote closing the key at b[start] is when the key is field f's name, else -1. */
  private keyAt(f: number, b: Uint8Array, start: number, end: number): number {
    const name = this.fields[f]!.name;
    const n = name.length;
    if (start + n >= end || b[start + n] !== QUOTE) return -1;
    for (let i = 0; i < n; i++) if (name[i] !== b[start + i]) return -1;
    return start + n;
  }

  /** The schema field named b[start, end), or -1. */
  private fieldAt(b: Uint8Array, start: number, end: number): number {
    const { fields } = this;
    const n = fields.length;
    const length = end - start;
    for (let k = 0; k < n; k++) {
      let f = this.next + k;
      if (f >= n) f -= n;
      const name = fields[f]!.name;
      if (name.length !== length) continue;
      let same = true;
      for (let i = 0; i < length; i++) {
        if (name[i] !== b[start + i]) {
          same = false;
          break;
        }
      }
      if (same) {
        this.next = f + 1 === n ? 0 : f + 1;
        return f;
      }
    }
    return -1;
  }

  /** Reads the value at b[p] into field f; sets this.p after it. */
  private value(f: number, b: Uint8Array, p: number, end: number): boolean {
    const field = this.fields[f]!;
    const { batch } = this;
    if (p >= end) return false;
    const c = b[p]!;
    if (c === QUOTE) return this.stringValue(f, field, b, p + 1, end);
    if (c === 0x6e) {
      if (!this.literal(b, p, end, 'null')) return false;
      batch.setNull(f);
      return true;
    }
    if (c === 0x74 || c === 0x66) {
      const value = c === 0x74;
      if (!this.literal(b, p, end, value ? 'true' : 'false')) return false;
      if (field.kind === BOOLEAN) batch.setBoolean(f, value);
      else if (field.kind === STRING) batch.setUtf8(f, b, p, this.p);
      else return false;
      return true;
    }
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      const value = this.number(b, p, end);
      if (value === undefined) return false;
      switch (field.kind) {
        case LONG:
          if (!Number.isSafeInteger(value)) return false;
          batch.setNumber(f, value);
          return true;
        case SMALL_INT:
          if (!Number.isInteger(value) || value < field.lo || value > field.hi) return false;
          batch.setNumber(f, value);
          return true;
        case DOUBLE:
          batch.setNumber(f, value);
          return true;
        case STRING: {
          // The row path writes the number's JS text (conform-json jsonText).
          const text = String(value);
          const buf = batch.writeUtf8(f, text.length);
          let at = batch.writePosition(f);
          for (let i = 0; i < text.length; i++) buf[at++] = text.charCodeAt(i);
          batch.endUtf8(f, at);
          return true;
        }
        default:
          return false;
      }
    }
    return false;
  }

  private literal(b: Uint8Array, p: number, end: number, word: string): boolean {
    if (p + word.length > end) return false;
    for (let i = 0; i < word.length; i++) if (b[p + i] !== word.charCodeAt(i)) return false;
    this.p = p + word.length;
    return true;
  }

  /**
   * Reads a JSON number at b[p] (strict grammar) and sets this.p after it. Returns its value — what
   * JSON.parse gives: exact digits by the fast path of Clinger (at most 15 significant digits and a
   * power of ten up to 22: one correctly rounded operation), else Number() of the text — or
   * undefined when it is not a JSON number.
   */
  private number(b: Uint8Array, p: number, end: number): number | undefined {
    const start = p;
    const negative = b[p] === 0x2d;
    if (negative) p++;
    if (p >= end) return undefined;
    let c = b[p]!;
    let mantissa = 0;
    let digits = 0;
    let exponent = 0;
    if (c === 0x30) p++;
    else if (c >= 0x31 && c <= 0x39) {
      while (p < end) {
        c = b[p]! - 0x30;
        if (c < 0 || c > 9) break;
        mantissa = mantissa * 10 + c;
        digits++;
        p++;
      }
    } else return undefined;
    if (p < end && b[p] === 0x2e) {
      p++;
      const from = p;
      while (p < end) {
        c = b[p]! - 0x30;
        if (c < 0 || c > 9) break;
        if (mantissa !== 0 || c !== 0) digits++;
        mantissa = mantissa * 10 + c;
        exponent--;
        p++;
      }
      if (p === from) return undefined;
    }
    if (p < end && (b[p] === 0x65 || b[p] === 0x45)) {
      p++;
      let sign = 1;
      if (p < end && (b[p] === 0x2b || b[p] === 0x2d)) {
        if (b[p] === 0x2d) sign = -1;
        p++;
      }
      const from = p;
      let e = 0;
      while (p < end) {
        c = b[p]! - 0x30;
        if (c < 0 || c > 9) break;
        e = e * 10 + c;
        p++;
      }
      if (p === from) return undefined;
      exponent += sign * e;
    }
    this.p = p;
    // (An exponent too long for exact arithmetic gives a non-integer or huge `exponent`: slow path.)
    if (digits <= 15 && Number.isSafeInteger(exponent) && exponent >= -22 && exponent <= 22) {
      const value = exponent < 0 ? mantissa / POW10[-exponent]! : mantissa * POW10[exponent]!;
      return negative ? -value : value;
    }
    return Number(latin1.decode(b.subarray(start, p)));
  }

  /** A string value (b[start] is after the opening quote) into field f. */
  private stringValue(f: number, field: Field, b: Uint8Array, start: number, end: number): boolean {
    let q = start;
    let escapes = false;
    let high = false;
    const words = this.words;
    if (words !== undefined) q = plainRun(b, words, q, end);
    while (q < end) {
      const k = STRING_CLASS[b[q]!]!;
      if (k === 0) {
        q++;
        continue;
      }
      if (k === C_QUOTE) break;
      if (k === C_BACKSLASH) {
        escapes = true;
        q += 2;
      } else if (k === C_HIGH) {
        high = true;
        q++;
      } else return false;
    }
    if (q >= end) return false;
    this.p = q + 1;
    const { batch } = this;
    if (field.kind === STRING) {
      if (high && !isValidUtf8(b, start, q)) return false;
      if (!escapes) {
        batch.setUtf8(f, b, start, q);
        return true;
      }
      return this.unescape(f, b, start, q);
    }
    // '' is null in a column that is not a string (Spark, conform-json).
    if (q === start) {
      batch.setNull(f);
      return true;
    }
    if (escapes || high || (field.kind !== TIMESTAMP && field.kind !== DATE) || q - start > 64) return false;
    if (field.kind === DATE) {
      const days = q - start === 10 ? canonicalDate(b, start) : -1;
      if (days !== -1) {
        batch.setNumber(f, days);
        return true;
      }
    } else {
      const micros = canonicalTimestamp(b, start, q);
      if (micros !== -1) {
        batch.setTimestamp(f, micros, q - start);
        return true;
      }
    }
    // Other forms (zone offsets, other separators…): the conformer's and the writer's own checks.
    const text = latin1.decode(b.subarray(start, q));
    if (field.kind === DATE) {
      if (!conformsTemporal('date', text)) return false;
      let days: number;
      try {
        days = toDays(text);
      } catch {
        return false;
      }
      batch.setNumber(f, days, text);
      return true;
    }
    if (!conformsTemporal('timestamp', text)) return false;
    let micros: number | bigint;
    try {
      micros = toEpochMicros(text);
    } catch {
      return false;
    }
    if (typeof micros !== 'number') return false;
    batch.setNumber(f, micros, text);
    return true;
  }

  /** Writes the string b[start, end) (valid UTF-8, with escapes) decoded into string field f. */
  private unescape(f: number, b: Uint8Array, start: number, end: number): boolean {
    const { batch } = this;
    // Decoding never lengthens: an escape is at least as long as the UTF-8 it stands for.
    const out = batch.writeUtf8(f, end - start);
    let at = batch.writePosition(f);
    let p = start;
    while (p < end) {
      const c = b[p]!;
      if (c !== BACKSLASH) {
        out[at++] = c;
        p++;
        continue;
      }
      const e = b[p + 1]!;
      p += 2;
      const simple = ESCAPED[e]!;
      if (simple !== 0) {
        out[at++] = simple;
        continue;
      }
      switch (e) {
        case 0x75: {
          let u = hex4(b, p, end);
          if (u < 0) return false;
          p += 4;
          if (u >= 0xdc00 && u <= 0xdfff) return false; // a lone low surrogate: the row path refuses it
          if (u >= 0xd800 && u <= 0xdbff) {
            if (b[p] !== BACKSLASH || b[p + 1] !== 0x75) return false;
            const low = hex4(b, p + 2, end);
            if (low < 0xdc00 || low > 0xdfff) return false;
            p += 6;
            u = 0x10000 + ((u - 0xd800) << 10) + (low - 0xdc00);
          }
          if (u < 0x80) out[at++] = u;
          else if (u < 0x800) {
            out[at++] = 0xc0 | (u >> 6);
            out[at++] = 0x80 | (u & 0x3f);
          } else if (u < 0x10000) {
            out[at++] = 0xe0 | (u >> 12);
            out[at++] = 0x80 | ((u >> 6) & 0x3f);
            out[at++] = 0x80 | (u & 0x3f);
          } else {
            out[at++] = 0xf0 | (u >> 18);
            out[at++] = 0x80 | ((u >> 12) & 0x3f);
            out[at++] = 0x80 | ((u >> 6) & 0x3f);
            out[at++] = 0x80 | (u & 0x3f);
          }
          break;
        }
        default:
          return false;
      }
    }
    batch.endUtf8(f, at);
    return true;
  }

  /** Skips (and checks) any JSON value at b[p]; sets this.p after it. */
  private skip(b: Uint8Array, p: number, end: number, depth: number): boolean {
    if (p >= end) return false;
    const c = b[p]!;
    if (c === QUOTE) {
      let q = p + 1;
      while (q < end) {
        const x = b[q]!;
        if (x === QUOTE) break;
        if (x < 0x20) return false;
        if (x === BACKSLASH) {
          const e = b[q + 1];
          if (e === 0x75) {
            if (hex4(b, q + 2, end) < 0) return false;
            q += 6;
            continue;
          }
          if (ESCAPED[e!] === 0) return false;
          q += 2;
          continue;
        }
        q++;
      }
      if (q >= end) return false;
      this.p = q + 1;
      return true;
    }
    if (c === 0x6e) return this.literal(b, p, end, 'null');
    if (c === 0x74) return this.literal(b, p, end, 'true');
    if (c === 0x66) return this.literal(b, p, end, 'false');
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.number(b, p, end) !== undefined;
    if (c !== 0x7b && c !== 0x5b) return false;
    if (depth >= MAX_SKIP_DEPTH) return false;
    const object = c === 0x7b;
    const close = object ? 0x7d : 0x5d;
    p = this.skipSpace(b, p + 1, end);
    if (p < end && b[p] === close) {
      this.p = p + 1;
      return true;
    }
    for (;;) {
      if (object) {
        if (p >= end || b[p] !== QUOTE || !this.skip(b, p, end, depth + 1)) return false;
        p = this.skipSpace(b, this.p, end);
        if (p >= end || b[p] !== 0x3a) return false;
        p = this.skipSpace(b, p + 1, end);
      }
      if (!this.skip(b, p, end, depth + 1)) return false;
      p = this.skipSpace(b, this.p, end);
      if (p >= end) return false;
      if (b[p] === 0x2c) {
        p = this.skipSpace(b, p + 1, end);
        continue;
      }
      if (b[p] !== close) return false;
      this.p = p + 1;
      return true;
    }
  }
}

keepShape(new JsonColumnScanner(SHAPE_KEEPER.schema, SHAPE_KEEPER));
