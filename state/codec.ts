// Codecs for state: an order-preserving tuple encoding of composite keys (so LevelDB byte order equals
// tuple order, e.g. event-time range scans for watermark eviction), and a value codec with a schema byte.

import { StateCodecError } from './errors.js';

/** One element of a composite key. */
export type KeyPart = null | boolean | number | bigint | string | Uint8Array;

// Type tags; parts of different types order by tag (null < false < true < bigint < number < string < bytes).
const NULL = 0x01;
const FALSE = 0x02;
const TRUE = 0x03;
const INT64 = 0x10;
const FLOAT64 = 0x11;
const STRING = 0x20;
const BYTES = 0x21;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Encodes a tuple so that unsigned byte order of the encodings equals element-wise tuple order, and
 * the encoding of a tuple is a byte prefix of the encoding of every longer tuple starting with it.
 *
 * - `bigint`: signed int64 (the event-time long), 8 bytes big-endian with the sign bit flipped.
 * - `number`: IEEE-754 float64 big-endian, sign bit flipped for >= 0 and all bits flipped for < 0,
 *   so negatives, fractions and integers order numerically (-0 is stored as 0; NaN is refused).
 * - `string`: UTF-8 (code point order); `Uint8Array`: raw. Both escape 0x00 as 0x00 0xFF and end
 *   with 0x00, so a shorter string sorts before its extensions ("a" < "a\0" < "ab").
 * - Mixed types in one position order by type (bigint and number are different types: use one).
 */
export function encodeKey(parts: readonly KeyPart[]): Uint8Array {
  return encodeKeyAfter(NO_PREFIX, parts);
}

/**
 * `prefix` followed by encodeKey(parts), in one new array: e.g. a tag key (encodeKey(['k'])) and a
 * row's key values without building a combined tuple or copying twice.
 */
export function encodeKeyAfter(prefix: Uint8Array, parts: readonly KeyPart[]): Uint8Array {
  reserve(prefix.length);
  scratch.set(prefix, 0);
  let at = prefix.length;
  for (let i = 0; i < parts.length; i++) at = writePart(parts[i]!, at);
  return scratch.slice(0, at);
}

/** Writes encodeKey([n]) (9 bytes) into `out` at `offset`: the float64 part of a number. */
export function writeNumberPart(n: number, out: Uint8Array, offset: number): void {
  if (Number.isNaN(n)) throw new StateCodecError('STATE_KEY_INVALID', 'NaN cannot be a key part');
  numberView.setFloat64(0, n === 0 ? 0 : n);
  out[offset] = FLOAT64;
  if ((numberBytes[0]! & 0x80) !== 0) for (let i = 0; i < 8; i++) out[offset + 1 + i] = ~numberBytes[i]! & 0xff;
  else {
    out[offset + 1] = numberBytes[0]! | 0x80;
    for (let i = 1; i < 8; i++) out[offset + 1 + i] = numberBytes[i]!;
  }
}

const NO_PREFIX = new Uint8Array(0);
const numberBytes = new Uint8Array(8);
const numberView = new DataView(numberBytes.buffer);
/** Shared encode buffer (encoding is synchronous); grown on demand. */
let scratch = new Uint8Array(1024);

/** Makes room for `needed` bytes in the scratch buffer, keeping its first `keep` bytes. */
function reserve(needed: number, keep = 0): void {
  if (needed <= scratch.length) return;
  const grown = new Uint8Array(Math.max(needed, scratch.length * 2));
  grown.set(scratch.subarray(0, keep));
  scratch = grown;
}

function writePart(part: KeyPart, at: number): number {
  reserve(at + 10, at);
  if (part === null) scratch[at++] = NULL;
  else if (part === false) scratch[at++] = FALSE;
  else if (part === true) scratch[at++] = TRUE;
  else if (typeof part === 'bigint') {
    if (part < INT64_MIN || part > INT64_MAX) {
      throw new StateCodecError('STATE_KEY_INVALID', `bigint key part ${part} is outside the int64 range`);
    }
    scratch[at++] = INT64;
    numberView.setBigUint64(0, BigInt.asUintN(64, part) ^ (1n << 63n));
    scratch.set(numberBytes, at);
    at += 8;
  } else if (typeof part === 'number') {
    writeNumberPart(part, scratch, at);
    at += 9;
  } else if (typeof part === 'string') {
    // ASCII without NUL is copied as is; anything else goes through the UTF-8 encoder (lone surrogates
    // become U+FFFD) and has its 0x00 bytes escaped.
    reserve(at + part.length + 2, at);
    scratch[at++] = STRING;
    let i = 0;
    for (; i < part.length; i++) {
      const code = part.charCodeAt(i);
      if (code === 0 || code >= 0x80) break;
      scratch[at++] = code;
    }
    if (i < part.length) at = writeEscaped(utf8.encode(i === 0 ? part : part.slice(i)), at);
    else scratch[at++] = 0x00;
  } else if (part instanceof Uint8Array) {
    scratch[at++] = BYTES;
    at = writeEscaped(part, at);
  } else {
    throw new StateCodecError('STATE_KEY_INVALID', `unsupported key part of type ${typeof part}`);
  }
  return at;
}

/** Writes bytes with 0x00 escaped as 0x00 0xFF, then the 0x00 terminator. */
function writeEscaped(bytes: Uint8Array, at: number): number {
  reserve(at + bytes.length * 2 + 1, at);
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i]!;
    scratch[at++] = byte;
    if (byte === 0x00) scratch[at++] = 0xff;
  }
  scratch[at++] = 0x00;
  return at;
}

/** Inverse of encodeKey. Throws STATE_KEY_INVALID on malformed input. */
export function decodeKey(bytes: Uint8Array): KeyPart[] {
  const parts: KeyPart[] = [];
  let i = 0;
  const fail = (why: string): never => {
    throw new StateCodecError('STATE_KEY_INVALID', `malformed key at byte ${i}: ${why}`, { length: bytes.length });
  };
  while (i < bytes.length) {
    const tag = bytes[i++]!;
    if (tag === NULL) parts.push(null);
    else if (tag === FALSE) parts.push(false);
    else if (tag === TRUE) parts.push(true);
    else if (tag === INT64 || tag === FLOAT64) {
      if (i + 8 > bytes.length) fail('truncated number');
      const raw = bytes.slice(i, i + 8);
      i += 8;
      if (tag === INT64) {
        const unsigned = new DataView(raw.buffer).getBigUint64(0) ^ (1n << 63n);
        parts.push(BigInt.asIntN(64, unsigned));
      } else {
        if ((raw[0]! & 0x80) !== 0) raw[0] = raw[0]! & 0x7f;
        else for (let j = 0; j < 8; j++) raw[j] = ~raw[j]! & 0xff;
        parts.push(new DataView(raw.buffer).getFloat64(0));
      }
    } else if (tag === STRING || tag === BYTES) {
      const chunk: number[] = [];
      for (;;) {
        if (i >= bytes.length) fail('unterminated string');
        const byte = bytes[i++]!;
        if (byte !== 0x00) chunk.push(byte);
        else if (bytes[i] === 0xff) {
          chunk.push(0x00);
          i++;
        } else break;
      }
      const raw = Uint8Array.from(chunk);
      if (tag === BYTES) parts.push(raw);
      else {
        try {
          parts.push(utf8Decoder.decode(raw));
        } catch (cause) {
          throw new StateCodecError('STATE_KEY_INVALID', 'key string part is not valid UTF-8', {}, cause);
        }
      }
    } else fail(`unknown type tag 0x${tag.toString(16)}`);
  }
  return parts;
}

/**
 * The smallest key greater than every key starting with `prefix` (for exclusive range ends), or
 * undefined when no such key exists (prefix empty or all 0xFF).
 */
export function prefixEnd(prefix: Uint8Array): Uint8Array | undefined {
  for (let i = prefix.length - 1; i >= 0; i--) {
    if (prefix[i]! < 0xff) {
      const end = prefix.slice(0, i + 1);
      end[i] = end[i]! + 1;
      return end;
    }
  }
  return undefined;
}

/** Encodes values of one type with a leading schema-version byte. */
export interface ValueCodec<T> {
  /** Schema version written as the first byte (0..255). */
  readonly schemaVersion: number;
  encode(value: T): Uint8Array;
  /** Throws STATE_VALUE_SCHEMA_MISMATCH for an unreadable schema version, STATE_VALUE_INVALID for bad bytes. */
  decode(bytes: Uint8Array): T;
}

export interface JsonValueCodecOptions<T> {
  schemaVersion: number;
  /** Converts a value written with an older schema version; without it older versions are refused. */
  upgrade?: (fromVersion: number, value: unknown) => T;
}

const BIGINT_TAG = '$bigint';

/**
 * Value codec: byte 0 is the schema version, the rest is UTF-8 JSON. Bigints round-trip as
 * `{"$bigint":"<decimal>"}`. Values are small per key, so JSON's readability wins over a binary form.
 */
export function jsonValueCodec<T>(options: JsonValueCodecOptions<T>): ValueCodec<T> {
  const { schemaVersion, upgrade } = options;
  if (!Number.isInteger(schemaVersion) || schemaVersion < 0 || schemaVersion > 255) {
    throw new RangeError(`schemaVersion must be an integer in 0..255, got ${schemaVersion}`);
  }
  return {
    schemaVersion,
    encode(value: T): Uint8Array {
      const json = JSON.stringify(value, (_key, v: unknown) =>
        typeof v === 'bigint' ? { [BIGINT_TAG]: v.toString() } : v,
      );
      if (json === undefined) throw new StateCodecError('STATE_VALUE_INVALID', 'value is not JSON-serialisable');
      const body = utf8.encode(json);
      const out = new Uint8Array(body.length + 1);
      out[0] = schemaVersion;
      out.set(body, 1);
      return out;
    },
    decode(bytes: Uint8Array): T {
      if (bytes.length < 2)
        throw new StateCodecError('STATE_VALUE_INVALID', `value of ${bytes.length} bytes is too short`);
      const version = bytes[0]!;
      let parsed: unknown;
      try {
        parsed = JSON.parse(utf8Decoder.decode(bytes.subarray(1)), (_key, v: unknown) =>
          v !== null && typeof v === 'object' && Object.keys(v).length === 1 && BIGINT_TAG in v
            ? BigInt((v as Record<string, string>)[BIGINT_TAG]!)
            : v,
        );
      } catch (cause) {
        throw new StateCodecError('STATE_VALUE_INVALID', 'value bytes are not valid JSON', { version }, cause);
      }
      if (version === schemaVersion) return parsed as T;
      if (version < schemaVersion && upgrade !== undefined) return upgrade(version, parsed);
      throw new StateCodecError(
        'STATE_VALUE_SCHEMA_MISMATCH',
        `value has schema version ${version}, this codec reads ${schemaVersion}` +
          (version < schemaVersion ? ' and has no upgrade function' : ' (written by newer code)'),
        { stored: version, expected: schemaVersion },
      );
    },
  };
}
