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
  const out: number[] = [];
  for (const part of parts) encodePart(part, out);
  return Uint8Array.from(out);
}

function encodePart(part: KeyPart, out: number[]): void {
  if (part === null) out.push(NULL);
  else if (part === false) out.push(FALSE);
  else if (part === true) out.push(TRUE);
  else if (typeof part === 'bigint') {
    if (part < INT64_MIN || part > INT64_MAX) {
      throw new StateCodecError('STATE_KEY_INVALID', `bigint key part ${part} is outside the int64 range`);
    }
    out.push(INT64);
    const view = new DataView(new ArrayBuffer(8));
    view.setBigUint64(0, BigInt.asUintN(64, part) ^ (1n << 63n));
    out.push(...new Uint8Array(view.buffer));
  } else if (typeof part === 'number') {
    if (Number.isNaN(part)) throw new StateCodecError('STATE_KEY_INVALID', 'NaN cannot be a key part');
    out.push(FLOAT64);
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setFloat64(0, part === 0 ? 0 : part);
    if ((bytes[0]! & 0x80) !== 0) for (let i = 0; i < 8; i++) bytes[i] = ~bytes[i]! & 0xff;
    else bytes[0] = bytes[0]! | 0x80;
    out.push(...bytes);
  } else if (typeof part === 'string') {
    out.push(STRING);
    pushEscaped(utf8.encode(part), out);
  } else if (part instanceof Uint8Array) {
    out.push(BYTES);
    pushEscaped(part, out);
  } else {
    throw new StateCodecError('STATE_KEY_INVALID', `unsupported key part of type ${typeof part}`);
  }
}

function pushEscaped(bytes: Uint8Array, out: number[]): void {
  for (const byte of bytes) {
    out.push(byte);
    if (byte === 0x00) out.push(0xff);
  }
  out.push(0x00);
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
