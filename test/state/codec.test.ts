// state/codec.ts: tuple key encoding preserves order (property-tested against a reference comparator)
// and round-trips; the JSON value codec checks its schema-version byte.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeKey,
  encodeKey,
  encodeKeyAfter,
  jsonValueCodec,
  type KeyPart,
  prefixEnd,
  writeNumberPart,
} from '../../state/codec.js';

const byteCompare = (a: Uint8Array, b: Uint8Array) => Buffer.compare(Buffer.from(a), Buffer.from(b));
const codePointCompare = (a: string, b: string) => {
  const x = [...a].map((c) => c.codePointAt(0)!);
  const y = [...b].map((c) => c.codePointAt(0)!);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
};
const sign = (n: number) => (n < 0 ? -1 : n > 0 ? 1 : 0);

/** Reference order of same-typed tuples, written independently of the encoding. */
function compareTuples(a: readonly KeyPart[], b: readonly KeyPart[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i]!;
    const y = b[i]!;
    let c = 0;
    if (typeof x === 'bigint' && typeof y === 'bigint') c = x < y ? -1 : x > y ? 1 : 0;
    else if (typeof x === 'number' && typeof y === 'number') c = sign(x - y);
    else if (typeof x === 'string' && typeof y === 'string') c = sign(codePointCompare(x, y));
    if (c !== 0) return c;
  }
  return sign(a.length - b.length);
}

const int64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
const double = fc.double({ noNaN: true }).map((d) => (Object.is(d, -0) ? 0 : d));
const tuple = fc.tuple(int64, double, fc.string({ unit: 'binary' }));

describe('encodeKey', () => {
  it('orders encodings like the tuples (event time, score, id)', () => {
    fc.assert(
      fc.property(tuple, tuple, (a, b) => {
        expect(sign(byteCompare(encodeKey(a), encodeKey(b)))).toBe(compareTuples(a, b));
      }),
      { numRuns: 2000 },
    );
  });

  it('orders strings with NUL bytes and prefixes: "a" < "a\\0" < "a\\0\\0" < "ab"', () => {
    const encoded = ['ab', 'a\0\0', 'a', 'a\0'].map((s) => encodeKey([s, 1n]));
    encoded.sort(byteCompare);
    expect(encoded.map((k) => decodeKey(k)[0])).toEqual(['a', 'a\0', 'a\0\0', 'ab']);
  });

  it('round-trips every part type', () => {
    const part = fc.oneof(
      fc.constant(null),
      fc.boolean(),
      int64,
      double,
      fc.string({ unit: 'binary' }),
      fc.uint8Array(),
    );
    fc.assert(
      fc.property(fc.array(part, { maxLength: 6 }), (parts) => {
        expect(decodeKey(encodeKey(parts))).toEqual(parts);
      }),
    );
  });

  it('makes a tuple prefix a byte prefix, so range scans by event time work', () => {
    const key = encodeKey([-5n, 'id-1']);
    const prefix = encodeKey([-5n]);
    expect(Buffer.from(key.subarray(0, prefix.length)).equals(Buffer.from(prefix))).toBe(true);
    const end = prefixEnd(prefix)!;
    expect(byteCompare(key, end)).toBeLessThan(0);
    expect(byteCompare(encodeKey([-4n, '']), end)).toBeGreaterThanOrEqual(0);
    expect(prefixEnd(Uint8Array.of(0xff, 0xff))).toBeUndefined();
    expect([...prefixEnd(Uint8Array.of(1, 0xff))!]).toEqual([2]);
  });

  it('encodes exactly like the straightforward reference encoder, also after a prefix (property)', () => {
    const part = fc.oneof(
      fc.constant(null),
      fc.boolean(),
      int64,
      double,
      fc.string({ unit: 'binary' }),
      fc.string({ unit: 'binary', minLength: 600, maxLength: 1500 }),
      fc.string({ unit: fc.constantFrom('a', '\0', 'é', '\u{1F600}', '\uD800') }),
      fc.uint8Array({ maxLength: 2000 }),
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 8 }), fc.array(part, { maxLength: 4 }), (prefix, parts) => {
        const expected = referenceEncode(parts);
        expect([...encodeKey(parts)]).toEqual(expected);
        expect([...encodeKeyAfter(prefix, parts)]).toEqual([...prefix, ...expected]);
      }),
      { numRuns: 500 },
    );
    for (const n of [0, -0, 1, -1, 0.5, -1e300, Number.MAX_VALUE, Number.NEGATIVE_INFINITY, 1_700_000_000_000]) {
      const out = new Uint8Array(11);
      writeNumberPart(n, out, 2);
      expect([...out.subarray(2)]).toEqual([...encodeKey([n])]);
    }
    const a = encodeKey(['x']);
    encodeKey(['y'.repeat(5000)]);
    expect([...a]).toEqual(referenceEncode(['x'])); // results never alias the shared buffer
  });

  it('refuses NaN, out-of-range bigints and malformed bytes with STATE_KEY_INVALID', () => {
    expect(() => encodeKey([Number.NaN])).toThrow(expect.objectContaining({ code: 'STATE_KEY_INVALID' }));
    expect(() => encodeKey([2n ** 63n])).toThrow(expect.objectContaining({ code: 'STATE_KEY_INVALID' }));
    expect(() => decodeKey(Uint8Array.of(0x20, 0x61))).toThrow(expect.objectContaining({ code: 'STATE_KEY_INVALID' }));
    expect(() => decodeKey(Uint8Array.of(0x10, 1, 2))).toThrow(expect.objectContaining({ code: 'STATE_KEY_INVALID' }));
    expect(() => decodeKey(Uint8Array.of(0x7f))).toThrow(expect.objectContaining({ code: 'STATE_KEY_INVALID' }));
  });
});

/** The tuple encoding written the plain way (number arrays), as documented on encodeKey. */
function referenceEncode(parts: readonly KeyPart[]): number[] {
  const out: number[] = [];
  const escaped = (bytes: Uint8Array) => {
    for (const byte of bytes) {
      out.push(byte);
      if (byte === 0) out.push(0xff);
    }
    out.push(0);
  };
  for (const part of parts) {
    if (part === null) out.push(0x01);
    else if (part === false) out.push(0x02);
    else if (part === true) out.push(0x03);
    else if (typeof part === 'bigint') {
      const view = new DataView(new ArrayBuffer(8));
      view.setBigUint64(0, BigInt.asUintN(64, part) ^ (1n << 63n));
      out.push(0x10, ...new Uint8Array(view.buffer));
    } else if (typeof part === 'number') {
      const bytes = new Uint8Array(8);
      new DataView(bytes.buffer).setFloat64(0, part === 0 ? 0 : part);
      if ((bytes[0]! & 0x80) !== 0) for (let i = 0; i < 8; i++) bytes[i] = ~bytes[i]! & 0xff;
      else bytes[0] = bytes[0]! | 0x80;
      out.push(0x11, ...bytes);
    } else if (typeof part === 'string') {
      out.push(0x20);
      escaped(new TextEncoder().encode(part));
    } else {
      out.push(0x21);
      escaped(part);
    }
  }
  return out;
}

describe('jsonValueCodec', () => {
  it('prefixes the schema version and round-trips bigints', () => {
    const codec = jsonValueCodec<{ firstSeen: bigint; count: number }>({ schemaVersion: 3 });
    const bytes = codec.encode({ firstSeen: 1_700_000_000_000_123n, count: 2 });
    expect(bytes[0]).toBe(3);
    expect(codec.decode(bytes)).toEqual({ firstSeen: 1_700_000_000_000_123n, count: 2 });
  });

  it('upgrades older versions when told how, and refuses otherwise', () => {
    const v1 = jsonValueCodec<number>({ schemaVersion: 1 });
    const v2 = jsonValueCodec<{ n: number }>({
      schemaVersion: 2,
      upgrade: (from, value) => ({ n: (value as number) * from }),
    });
    const strict = jsonValueCodec<{ n: number }>({ schemaVersion: 2 });
    expect(v2.decode(v1.encode(21))).toEqual({ n: 21 });
    expect(() => strict.decode(v1.encode(21))).toThrow(
      expect.objectContaining({ code: 'STATE_VALUE_SCHEMA_MISMATCH' }),
    );
    expect(() => v1.decode(v2.encode({ n: 1 }))).toThrow(
      expect.objectContaining({ code: 'STATE_VALUE_SCHEMA_MISMATCH' }),
    );
    expect(() => v1.decode(Uint8Array.of(1, 0x7b))).toThrow(expect.objectContaining({ code: 'STATE_VALUE_INVALID' }));
    expect(() => jsonValueCodec({ schemaVersion: 256 })).toThrow(RangeError);
  });
});
