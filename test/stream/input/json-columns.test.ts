// JsonColumnScanner: a record it takes must become exactly the row the row path makes (JSON.parse of
// the UTF-8 text, parsedJsonConformer, then the writer), and a record the row path rejects must be
// declined. Checked record by record and over a whole corpus (Parquet bytes of the scanned batch
// against the same rows appended), on seeded random records (field order, unknown nested fields,
// whitespace, escapes), on edge cases (escapes, surrogates, invalid UTF-8, numbers, timestamps,
// dates, duplicate keys, broken JSON) and on seeded random number, date and timestamp texts. Also
// the dictionary choice over scanned timestamps, and isValidUtf8 against a fatal TextDecoder.
import type { Table } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { ColumnBatch } from '../../../sinks/parquet/column-batch.js';
import { arrowToParquet, encodeRows, type ParquetWriteOptions, rowsToArrow } from '../../../sinks/parquet/index.js';
import type { DataType, StructField, StructType } from '../../../sinks/schema.js';
import { JsonRejection, parsedJsonConformer } from '../../../stream/input/conform-json.js';
import { isValidUtf8, JsonColumnScanner } from '../../../stream/input/json-columns.js';
import { prng } from '../../kit/prng.js';

const field = (name: string, type: DataType, nullable = true): StructField => ({ name, type, nullable, metadata: {} });
const struct = (...fields: StructField[]): StructType => ({ type: 'struct', fields });

/** Every type the scanner takes; id, name and dt are non-nullable; 'k y' has a space in its name. */
const SCHEMA = struct(
  field('id', 'long', false),
  field('name', 'string', false),
  field('s', 'string'),
  field('i', 'integer'),
  field('sh', 'short'),
  field('b', 'byte'),
  field('d', 'double'),
  field('bo', 'boolean'),
  field('ts', 'timestamp'),
  field('dt', 'date', false),
  field('l', 'long'),
  field('k y', 'string'),
);
/** The same columns, all nullable (so '{}' and records missing id/name/dt are rows). */
const NULLABLE = struct(...SCHEMA.fields.map((f) => ({ ...f, nullable: true })));

type Row = Record<string, unknown>;

// ---- The corpus.

interface Case {
  label: string;
  bytes: Uint8Array;
  /** A normal record: the scanner must take it. */
  normal: boolean;
  /** An edge case the scanner is meant to take (when the row path accepts it). */
  take?: boolean;
}

const utf8 = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'utf8'));

/** Concatenates text (as UTF-8) and raw bytes. */
function bytesOf(...parts: (string | number[])[]): Uint8Array {
  return new Uint8Array(
    Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p)))),
  );
}

/** How a record shows in a failure: its text, or its bytes in hex when not valid UTF-8. */
function show(bytes: Uint8Array): string {
  const text = Buffer.from(bytes).toString('utf8');
  return Buffer.from(text, 'utf8').equals(Buffer.from(bytes))
    ? JSON.stringify(text)
    : `hex ${Buffer.from(bytes).toString('hex')}`;
}

function normalRecords(seed: number, n: number): Case[] {
  const rnd = prng(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const pad = (x: number, w: number) => String(x).padStart(w, '0');
  const ws = () => (rnd() < 0.7 ? '' : pick([' ', '  ', '\t', '\n', '\r\n', ' \n\t ']));

  const PIECES = [
    'é',
    'ñandú',
    '日本語',
    '😀',
    '👩‍👩‍👧',
    '\uffee',
    '\u0000',
    '\n',
    '"',
    '\\',
    '/',
    '\u001f',
    '\u007f',
    '\u2028',
    'Ω',
  ];
  const text = () => {
    let s = '';
    const k = int(0, 4);
    for (let j = 0; j < k; j++) {
      if (rnd() < 0.4) s += pick(PIECES);
      else for (let m = int(0, 8); m > 0; m--) s += String.fromCharCode(int(0x20, 0x7e));
    }
    return s;
  };
  /** A JSON string literal of `s`, escaping what must be and (at random) more: \/, \uXXXX. */
  const quote = (s: string, escapeLone = false) => {
    const hex = (c: number) => `\\u${(rnd() < 0.5 ? c.toString(16) : c.toString(16).toUpperCase()).padStart(4, '0')}`;
    let out = '"';
    for (let j = 0; j < s.length; j++) {
      const ch = s[j]!;
      const c = s.charCodeAt(j);
      const next = s.charCodeAt(j + 1);
      if (c >= 0xd800 && c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        // A surrogate pair: raw, or both halves escaped.
        out += rnd() < 0.3 ? hex(c) + hex(next) : s.slice(j, j + 2);
        j++;
      } else if (ch === '"') out += '\\"';
      else if (ch === '\\') out += '\\\\';
      else if (c < 0x20) {
        const short: Record<number, string> = { 8: '\\b', 9: '\\t', 10: '\\n', 12: '\\f', 13: '\\r' };
        out += short[c] !== undefined && rnd() < 0.7 ? short[c] : hex(c);
      } else if (ch === '/' && rnd() < 0.3) out += '\\/';
      else if (c >= 0xd800 && c <= 0xdfff) out += escapeLone ? hex(c) : ch;
      else if (c >= 0x80 && rnd() < 0.3) out += hex(c);
      else out += ch;
    }
    return `${out}"`;
  };
  const intText = (x: number) => {
    const r = rnd();
    if (x === 0 && r < 0.3) return '-0';
    if (r < 0.1) return `${x}.0`;
    if (r < 0.2 && x % 100 === 0 && x !== 0) return `${x / 100}${pick(['e2', 'E2', 'e+2', 'E+02'])}`;
    return String(x);
  };
  const doubleText = () => {
    const r = rnd();
    if (r < 0.05) return '-0';
    if (r < 0.1) return pick(['0', '0.0', '1.0', '-1', '1e2', '1E+2', '0.1', '123456789012345678', '1e-7', '5e-324']);
    const x = (rnd() - 0.5) * 10 ** int(-8, 12);
    if (r < 0.3) return x.toExponential(int(0, 10)).replace('e', pick(['e', 'E']));
    return String(x);
  };
  const date = () => {
    const y = int(1900, 2100);
    const m = int(1, 12);
    const dim =
      m === 2 ? (y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28) : [4, 6, 9, 11].includes(m) ? 30 : 31;
    return `${pad(y, 4)}-${pad(m, 2)}-${pad(int(1, dim), 2)}`;
  };
  // Repeated values, so that the dictionary choice ('auto') takes these columns: the same instant in
  // two texts, and the same strings written with and without escapes.
  const TS_POOL = ['2024-01-01T00:00:00Z', '2024-01-01T02:00:00+02:00', '2024-06-30T12:34:56.789Z'];
  const KY_POOL = ['alpha', 'béta', '😀', '', 'a "q" \\ /'];
  const timestamp = () => {
    if (rnd() < 0.85) return pick(TS_POOL);
    let t = `${date()}T${pad(int(0, 23), 2)}:${pad(int(0, 59), 2)}:${pad(int(0, 59), 2)}`;
    const f = rnd();
    if (f < 0.2) t += `.${int(0, 9)}`;
    else if (f < 0.4) t += `.${pad(int(0, 999999), 6)}`;
    else if (f < 0.5) t += `.${pad(int(0, 999999), 6)}000`;
    return t + pick(['Z', 'Z', '+02:00', '-05:30', '+05:30', '-00:00']);
  };
  const UNKNOWN_KEYS = ['extra', 'meta', 'ID', 'nam', 'names', 'd2', 'k', '', '__proto__', 'constructor', 'x y'];
  const anyJson = (depth: number): string => {
    const r = rnd();
    if (depth < 3 && r < 0.2) {
      const k = int(0, 3);
      const items = Array.from({ length: k }, () => `${ws()}${anyJson(depth + 1)}${ws()}`);
      return `[${items.join(',')}${k === 0 ? ws() : ''}]`;
    }
    if (depth < 3 && r < 0.4) {
      const k = int(0, 3);
      const items = Array.from(
        { length: k },
        () =>
          `${ws()}${quote(pick(UNKNOWN_KEYS.concat(['id', 'name', 's'])))}${ws()}:${ws()}${anyJson(depth + 1)}${ws()}`,
      );
      return `{${items.join(',')}${k === 0 ? ws() : ''}}`;
    }
    if (r < 0.55) return quote(text() + (rnd() < 0.2 ? '\ud800' : ''), true);
    if (r < 0.7) return doubleText();
    return pick(['true', 'false', 'null']);
  };
  /** A nullable value: null, missing, or `make()`'s JSON text. */
  const maybe = (make: () => string, emptyIsNull = false): string | undefined => {
    const r = rnd();
    if (r < 0.08) return 'null';
    if (r < 0.16) return undefined;
    if (emptyIsNull && r < 0.2) return '""';
    return make();
  };
  const out: Case[] = [];
  for (let j = 0; j < n; j++) {
    const values: [string, string | undefined][] = [
      ['id', intText(rnd() < 0.5 ? int(-1e6, 1e6) : Math.floor((rnd() - 0.5) * 2 * Number.MAX_SAFE_INTEGER))],
      ['name', quote(text())],
      ['s', maybe(() => (rnd() < 0.8 ? quote(text()) : rnd() < 0.5 ? doubleText() : pick(['true', 'false'])))],
      ['i', maybe(() => intText(rnd() < 0.2 ? pick([-2147483648, 2147483647]) : int(-1e5, 1e5) * 100), true)],
      ['sh', maybe(() => intText(rnd() < 0.2 ? pick([-32768, 32767]) : int(-327, 327) * 100), true)],
      ['b', maybe(() => intText(int(-128, 127)), true)],
      ['d', maybe(doubleText, true)],
      ['bo', maybe(() => pick(['true', 'false']), true)],
      ['ts', maybe(() => `"${timestamp()}"`, true)],
      ['dt', `"${date()}"`],
      ['l', maybe(() => intText(int(-1e9, 1e9)), true)],
      ['k y', maybe(() => quote(rnd() < 0.9 ? pick(KY_POOL) : text()))],
    ];
    let entries = values.filter((v): v is [string, string] => v[1] !== undefined).map(([k, v]) => [quote(k), v]);
    if (rnd() < 0.5) {
      for (let k = entries.length - 1; k > 0; k--) {
        const m = Math.floor(rnd() * (k + 1));
        [entries[k], entries[m]] = [entries[m]!, entries[k]!];
      }
    }
    const extras = new Set<string>();
    for (let k = int(0, 3); k > 0; k--) extras.add(pick(UNKNOWN_KEYS));
    for (const key of extras) {
      entries.splice(int(0, entries.length), 0, [JSON.stringify(key), anyJson(0)]);
    }
    entries = entries.map(([k, v]) => [`${ws()}${k}${ws()}`, `${ws()}${v}${ws()}`]);
    const record = `${ws()}{${entries.map(([k, v]) => `${k}:${v}`).join(',')}}${ws()}`;
    out.push({ label: `normal #${j}`, bytes: utf8(record), normal: true });
  }
  return out;
}

const BASE = '"id":1,"name":"n","dt":"2024-01-02"';
/** A record with the non-nullable fields and `extra`. */
const R = (extra: string) => `{${BASE},${extra}}`;
const FULL =
  '{"id":-42,"name":"Zoë \\"q\\" \\ud83d\\ude00","s":"x","i":7,"sh":-3,"b":1,"d":-0.5,"bo":true,"ts":"2024-01-02T03:04:05.123+05:30","dt":"2024-01-02","l":9007199254740991,"k y":null,"x":[1,{"y":"z"}]}';

function edgeCases(): Case[] {
  const cases: Case[] = [];
  const add = (label: string, bytes: Uint8Array | string, take?: boolean) =>
    cases.push({ label, bytes: typeof bytes === 'string' ? utf8(bytes) : bytes, normal: false, take });
  const taken = (label: string, bytes: Uint8Array | string) => add(label, bytes, true);

  // Strings with escapes.
  for (const v of [
    'a\\nb',
    '\\"q\\"',
    '\\\\',
    '\\/',
    '\\u00e9',
    '\\u00E9',
    '\\ud83d\\ude00',
    '\\uD83D\\uDE00',
    '\\b\\f\\r\\t\\u0000\\u001f',
    '\\u0041\\u07ff\\u0800\\uffff\\ue000',
    'x\\u20ACy\\\\\\"',
    '\\udbff\\udfff',
  ]) {
    taken(`string escape ${v}`, R(`"s":"${v}"`));
    taken(`string escape ${v} in name`, `{"id":1,"name":"${v}","dt":"2024-01-02"}`);
  }
  // Lone surrogates (the writer refuses them) and bad escapes (JSON.parse refuses them).
  for (const v of [
    '\\ud800',
    '\\udc00',
    'a\\ud800b',
    '\\ud800\\u0041',
    '\\ud83d\\ude00\\ud800',
    '\\ude00\\ud83d',
    '\\ud800\\n',
    '\\udbff',
  ]) {
    add(`lone surrogate ${v}`, R(`"s":"${v}"`));
    add(`lone surrogate ${v} in name`, `{"id":1,"name":"${v}","dt":"2024-01-02"}`);
    taken(`lone surrogate ${v} in a skipped field`, R(`"x":"${v}"`));
  }
  for (const v of ['\\x', '\\u12', '\\u12g4', '\\U00e9', '\\', '\\u', '\\ud83d\\u', '\\ud83d\\ude0']) {
    add(`bad escape ${v}`, R(`"s":"${v}"`));
    add(`bad escape ${v} in a skipped field`, R(`"x":"${v}"`));
  }
  taken('quote, backslash and slash as \\u escapes', R('"s":"\\u0022\\u005c\\u002F\\u002f"'));
  add('escaped high surrogate then a raw-encoded low one', bytesOf(`{${BASE},"s":"\\ud83d`, [0xed, 0xb8, 0x80], '"}'));
  taken('a long ASCII string', R(`"s":"${'abcdefghij'.repeat(500)}"`));
  taken('a long string of escapes', R(`"s":"${'\\u00e9\\n\\ud83d\\ude00'.repeat(1000)}"`));
  taken('a long raw non-ASCII string', R(`"s":"${'😀é日'.repeat(1000)}"`));
  taken(
    'a long name and a long skipped value',
    `{"id":1,"name":"${'\\"'.repeat(3000)}","dt":"2024-01-02","x":"${'y'.repeat(5000)}"}`,
  );
  taken('a DEL in an unknown key', R('"a\u007f":1'));
  // Raw non-ASCII, control characters.
  taken('raw non-ASCII', R('"s":"é日本😀\u2028\uffee"'));
  taken('raw DEL', R('"s":"a\u007fb"'));
  for (const c of [0x00, 0x01, 0x09, 0x0a, 0x0d, 0x1f]) {
    add(`raw control 0x${c.toString(16)} in a string`, bytesOf(`{${BASE},"s":"a`, [c], 'b"}'));
    add(`raw control 0x${c.toString(16)} in a skipped string`, bytesOf(`{${BASE},"x":"a`, [c], 'b"}'));
  }
  // Invalid UTF-8.
  const INVALID = [
    [0xff],
    [0xc3],
    [0xc0, 0x80],
    [0xc1, 0xbf],
    [0xe0, 0x80, 0x80],
    [0xed, 0xa0, 0x80],
    [0xf4, 0x90, 0x80, 0x80],
    [0xf8, 0x88, 0x80, 0x80, 0x80],
    [0xe6, 0x97],
    [0x80],
    [0xf0, 0x9f, 0x98],
  ];
  for (const bad of INVALID) {
    const hex = Buffer.from(bad).toString('hex');
    add(`invalid UTF-8 ${hex} in a string column`, bytesOf(`{${BASE},"s":"a`, bad, '"}'));
    add(`invalid UTF-8 ${hex} ending a string column`, bytesOf(`{${BASE},"s":"`, bad, '"}'));
    add(`invalid UTF-8 ${hex} in name`, bytesOf('{"id":1,"dt":"2024-01-02","name":"', bad, 'x"}'));
    taken(`invalid UTF-8 ${hex} in a skipped field`, bytesOf(`{${BASE},"x":"a`, bad, 'b"}'));
    taken(`invalid UTF-8 ${hex} deep in a skipped field`, bytesOf(`{${BASE},"x":[{"y":["`, bad, '"]}]}'));
    add(`invalid UTF-8 ${hex} in a skipped key`, bytesOf(`{${BASE},"x`, bad, '":1}'));
    add(`invalid UTF-8 ${hex} in a timestamp`, bytesOf(`{${BASE},"ts":"2024-01-02T03:04:05Z`, bad, '"}'));
    add(`invalid UTF-8 ${hex} between tokens`, bytesOf(`{${BASE},`, bad, '"s":"a"}'));
  }
  // Numbers, booleans and JSON values given to a string column: the row path writes their JS text.
  for (const v of [
    '0',
    '-0',
    '1.0',
    '1e2',
    '1E+2',
    '0.1',
    '-12.50',
    '123456789012345678',
    '9007199254740993',
    '12345678901234567890123',
    '1e400',
    '-1e400',
    '1e21',
    '1e-7',
    '5e-324',
    '0.000001',
    '999999999999999',
    '1000000000000000',
    '-999999999999999',
    '1.5e-10',
    '1e0000000000002',
    `0.${'0'.repeat(400)}1`,
    `1${'0'.repeat(30)}`,
    '1234567890123456',
    '100000000000000000000e-18',
    `0.${'0'.repeat(9999)}1e100000`,
    '1e22',
    '1e23',
    'true',
    'false',
  ]) {
    taken(`${v} to a string column`, R(`"s":${v}`));
    taken(`${v} to name`, `{"id":1,"name":${v},"dt":"2024-01-02"}`);
  }
  taken('null to a string column', R('"s":null'));
  taken('"" to a string column', R('"s":""'));
  taken('"" to name', '{"id":1,"name":"","dt":"2024-01-02"}');
  add('null to name', '{"id":1,"name":null,"dt":"2024-01-02"}');
  for (const v of ['{}', '[]', '{"a":1}', '[1,{"b":"c"}]', '{"a":[1,{"b":null}],"c":"\\u00e9"}']) {
    add(`${v} to a string column`, R(`"s":${v}`));
  }
  // '' is null in non-string columns.
  for (const f of ['i', 'sh', 'b', 'd', 'bo', 'ts', 'l']) taken(`"" to ${f}`, R(`"${f}":""`));
  add('"" to id (non-nullable)', '{"id":"","name":"n","dt":"2024-01-02"}');
  add('"" to dt (non-nullable)', '{"id":1,"name":"n","dt":""}');
  // Numbers to the numeric columns.
  const numbers: [string, string, boolean?][] = [
    ['id', '-0', true],
    ['id', '1.0', true],
    ['id', '1e2', true],
    ['id', '1E+2', true],
    ['id', '1.5e3', true],
    ['id', '2.50e1', true],
    ['id', '1e15', true],
    ['id', '9007199254740991', true],
    ['id', '-9007199254740991', true],
    ['id', '9007199254740992'],
    ['id', '123456789012345678'],
    ['id', '0.1'],
    ['id', '1.5'],
    ['id', '1e-1'],
    ['id', '1e400'],
    ['id', '"5"'],
    ['id', 'true'],
    ['id', 'null'],
    ['l', '-0', true],
    ['l', '100000000000000000000'],
    ['i', '2147483647', true],
    ['i', '-2147483648', true],
    ['i', '2147483648'],
    ['i', '-2147483649'],
    ['i', '1.0', true],
    ['i', '1e2', true],
    ['i', '-0', true],
    ['i', '-0.0', true],
    ['i', '1.5'],
    ['i', '1e10'],
    ['i', '"5"'],
    ['i', 'true'],
    ['i', '{}'],
    ['i', '[]'],
    ['sh', '32767', true],
    ['sh', '-32768', true],
    ['sh', '32768'],
    ['sh', '-32769'],
    ['b', '127', true],
    ['b', '-128', true],
    ['b', '1.27e2', true],
    ['b', '128'],
    ['b', '-129'],
    ['d', '-0', true],
    ['d', '-0.0', true],
    ['d', '0', true],
    ['d', '1.0', true],
    ['d', '1e2', true],
    ['d', '1E+2', true],
    ['d', '0.1', true],
    ['d', '123456789012345678', true],
    ['d', '1e400', true],
    ['d', '-1e400', true],
    ['d', '1e-400', true],
    ['d', '-1e-400', true],
    ['d', '5e-324', true],
    ['d', '1.7976931348623157e308', true],
    ['d', '0.30000000000000004', true],
    ['d', '3.141592653589793238462643383279', true],
    ['d', `0.${'0'.repeat(400)}1`, true],
    ['d', `1${'0'.repeat(400)}`, true],
    ['d', '123456789012345.5', true],
    ['d', '1e0000000000002', true],
    ['d', '-1E-0', true],
    ['id', '1234567890123456', true],
    ['id', '9007199254740991.0', true],
    ['id', '1e0000000000002', true],
    ['id', `1${'0'.repeat(400)}`],
    ['id', `0.${'0'.repeat(9999)}1e100000`],
    ['id', `0.${'0'.repeat(9999)}1e10000`, true],
    ['i', '100000000000000000000e-18', true],
    ['d', '1e22', true],
    ['d', '1e23', true],
    ['d', '1e-22', true],
    ['d', '1e-23', true],
    ['d', '0.1e-21', true],
    ['d', '123456789012345e22', true],
    ['d', '123456789012345e-22', true],
    ['d', '999999999999999e22', true],
    ['d', '9007199254740993', true],
    ['d', '1.000000000000001', true],
    ['d', '0.100000000000000', true],
    ['d', '2.2250738585072014e-308', true],
    ['d', '8.98846567431158e307', true],
    ['d', '-0.0e-5', true],
    ['d', '1.5e+022', true],
    ['d', '1e-99999', true],
    ['d', '1e99999', true],
    ['d', '1e1000000', true],
    // 10000 fraction digits and a 6-digit exponent: 10^-10000 × 10^100000 is Infinity.
    ['d', `0.${'0'.repeat(9999)}1e100000`, true],
    ['d', `0.${'0'.repeat(9999)}1e10000`, true],
    ['d', `0.${'0'.repeat(9999)}1e100005`, true],
    ['d', '"1.5"'],
    ['d', 'true'],
    ['d', '[1]'],
    ['bo', 'true', true],
    ['bo', 'false', true],
    ['bo', 'null', true],
    ['bo', '"true"'],
    ['bo', '1'],
    ['bo', '0'],
    ['ts', '1700000000000'],
    ['ts', 'true'],
    ['dt', '19000'],
  ];
  for (const [f, v, take] of numbers) {
    add(`${v} to ${f}`, f === 'id' ? `{"name":"n","dt":"2024-01-02","id":${v}}` : R(`"${f}":${v}`), take);
  }
  // Invalid numbers and literals.
  for (const v of [
    '01',
    '-01',
    '00',
    '-',
    '1.',
    '.5',
    '+1',
    '1e',
    '1e+',
    '1E-',
    '0x10',
    'Infinity',
    '-Infinity',
    'NaN',
    '1.e5',
    '--1',
    '1-',
    '1..2',
    '1e5.5',
    'tru',
    'True',
    'nul',
    'NULL',
    'nullx',
    'truex',
    'falsey',
    'truefalse',
  ]) {
    add(`invalid value ${v}`, R(`"d":${v}`));
    add(`invalid value ${v} to a string column`, R(`"s":${v}`));
    add(`invalid value ${v} in a skipped field`, R(`"x":${v}`));
    add(`invalid value ${v} in a skipped array`, R(`"x":[1,${v},2]`));
  }
  // Timestamps.
  const timestamps: [string, boolean?][] = [
    ['2024-01-02T03:04:05Z', true],
    ['2024-01-02T03:04:05+05:30', true],
    ['2024-01-02T03:04:05-05:30', true],
    ['2024-01-02T03:04:05.1Z', true],
    ['2024-01-02T03:04:05.123456Z', true],
    ['2024-01-02T03:04:05.1234560Z', true],
    ['2024-01-02T03:04:05.123456000Z', true],
    ['2024-01-02T03:04:05.000000000+01:00', true],
    ['2024-01-02T03:04:05.1234567Z'],
    ['2024-01-02T03:04:05.123456700Z'],
    ['2024-01-02T03:04:05.123456001Z'],
    ['2024-01-02T03:04:05.1234560000Z'],
    ['2024-01-02T03:04:05.Z'],
    ['2024-01-02T03:04:05+0530'],
    ['2024-01-02T03:04:05+05'],
    ['2024-01-02T03:04:05-00:00'],
    ['2024-01-02T03:04:05+23:59'],
    ['2024-01-02T03:04:05+24:00'],
    ['2024-01-02T03:04:05z'],
    ['2024-01-02t03:04:05Z'],
    ['2024-01-02 03:04:05Z'],
    ['2024-01-02T03:04Z'],
    ['2024-01-02T03Z'],
    ['2024-01-02T03:04:05'],
    ['2024-01-02'],
    ['2024-02-29T00:00:00Z', true],
    ['2023-02-29T00:00:00Z'],
    ['2024-02-30T00:00:00Z'],
    ['2024-13-01T00:00:00Z'],
    ['2024-01-02T24:00:00Z'],
    ['2024-01-02T23:60:00Z'],
    ['2024-01-02T23:59:60Z'],
    ['1970-01-01T00:00:00Z', true],
    ['1969-12-31T23:59:59.999999Z', true],
    ['1970-01-01T00:00:00.000001-23:59'],
    // Microseconds beyond 2^53 before about 1685-08 (the row path computes them exactly).
    ['0001-01-01T00:00:00.000001Z'],
    ['1600-01-01T00:00:00.000001Z'],
    ['1684-01-01T00:00:00.000001Z'],
    ['1686-01-01T00:00:00.000001Z', true],
    ['1700-01-01T00:00:00.000001Z', true],
    ['2200-12-31T23:59:59.999999Z', true],
    ['2201-01-01T00:00:00.000001Z'],
    ['9999-12-31T23:59:59.999999Z'],
    ['0001-01-01T00:00:00Z'],
    ['0000-01-01T00:00:00Z'],
    ['+002024-01-02T03:04:05Z'],
    [' 2024-01-02T03:04:05Z'],
    ['2024-01-02T03:04:05Z '],
    ['2024-1-2T03:04:05Z'],
    ['2024-01-02T03:04:05ZZ'],
  ];
  for (const [t, take] of timestamps) add(`timestamp ${t}`, R(`"ts":"${t}"`), take);
  add('timestamp with an escape', R('"ts":"2024-01-02T03:04:05\\u005a"'));
  add('timestamp with an escaped slash', R('"ts":"2024\\/01\\/02"'));
  add('timestamp of 70 characters', R(`"ts":"2024-01-02T03:04:05.${'0'.repeat(50)}Z"`));
  // Dates.
  const dates: [string, boolean?][] = [
    ['2024-02-29', true],
    ['2000-02-29', true],
    ['1900-02-29'],
    ['2023-02-29'],
    ['2024-02-30'],
    ['2024-04-31'],
    ['2024-13-01'],
    ['2024-00-10'],
    ['2024-01-00'],
    ['0000-01-01'],
    ['0001-01-01'],
    ['9999-12-31'],
    ['1970-01-01', true],
    ['2024-1-1'],
    ['20240101'],
    ['+002024-01-01'],
    ['-0001-01-01'],
    ['2024-01-01T00:00:00Z'],
    ['2024-01-01 '],
    ['2024/01/01'],
  ];
  for (const [d, take] of dates) add(`date ${d}`, `{"id":1,"name":"n","dt":"${d}"}`, take);
  add('date with an escape', '{"id":1,"name":"n","dt":"2024\\u002d01-02"}');
  // Duplicate keys (JSON.parse: the last wins) and keys with escapes.
  add('duplicate id', `{${BASE},"id":2}`);
  add('duplicate id, same value', `{${BASE},"id":1}`);
  add('duplicate s', R('"s":"a","s":"b"'));
  add('duplicate s, then null', R('"s":"a","s":null'));
  add('duplicate s, null then a value', R('"s":null,"s":"b"'));
  add('duplicate ts', R('"ts":"2024-01-02T03:04:05Z","ts":"not a timestamp"'));
  add('duplicate i, the first out of range', R('"i":1e10,"i":5'));
  taken('duplicate unknown key', R('"x":1,"x":{"a":[1]}'));
  add('key with an escape naming a field', '{"id":1,"n\\u0061me":"n","dt":"2024-01-02"}');
  add('key with an escape naming a field twice', `{${BASE},"\\u0073":"x"}`);
  add('unknown key with an escape', R('"n\\u0061me2":"x"'));
  add('unknown key with a quote escape', R('"a\\"b":"x"'));
  add('non-ASCII unknown key', R('"né":"x"'));
  taken('empty key', R('"":1'));
  taken('__proto__ key', R('"__proto__":{"a":1}'));
  taken('__proto__ key with null', R('"__proto__":null'));
  taken('constructor and toString keys', R('"constructor":1,"toString":"x","hasOwnProperty":[]'));
  taken('key differing in case', R('"ID":5,"Name":"x","S":"y"'));
  taken('key with a space', R('"k y":"v"'));
  taken('key with two spaces (unknown)', R('"k  y":"v"'));
  taken('field names nested in a skipped object', R('"x":{"id":2,"name":null,"s":{"s":[]}}'));
  // Nulls and missing fields.
  taken(
    'nulls in every nullable column',
    R('"s":null,"i":null,"sh":null,"b":null,"d":null,"bo":null,"ts":null,"l":null,"k y":null'),
  );
  add('null id', '{"id":null,"name":"n","dt":"2024-01-02"}');
  add('null dt', '{"id":1,"name":"n","dt":null}');
  add('missing id', '{"name":"n","dt":"2024-01-02"}');
  add('missing name', '{"id":1,"dt":"2024-01-02"}');
  add('missing dt', '{"id":1,"name":"n"}');
  add('empty object', '{}');
  add('empty object with spaces', ' { \n\t} ');
  // Whitespace.
  taken(
    'whitespace everywhere',
    ' \t\r\n{ \t\r\n"id" \t\r\n: \t\r\n1 \t\r\n, "name" : "n" , "dt" : "2024-01-02" , "x" : [ 1 , { "a" : [ ] } , { } ] \t\r\n} \t\r\n',
  );
  add('form feed as whitespace', `{\f${BASE}}`);
  add('no-break space as whitespace', `{\u00a0${BASE}}`);
  add('line separator as whitespace', `{${BASE}\u2028}`);
  add('BOM before the record', `\ufeff{${BASE}}`);
  // Broken JSON, other top-level values.
  for (const v of [
    '',
    ' ',
    '[]',
    `[{${BASE}}]`,
    '"str"',
    '1',
    'null',
    'true',
    '{',
    '}',
    '{{}}',
    `{${BASE}}}`,
    `{${BASE}},`,
    `{${BASE}} {}`,
    `{${BASE}}x`,
    `{${BASE}}\u0000`,
    `x{${BASE}}`,
    `{${BASE},}`,
    `{,${BASE}}`,
    `{${BASE},,"s":"a"}`,
    '{"id" 1,"name":"n","dt":"2024-01-02"}',
    '{"id":1 "name":"n","dt":"2024-01-02"}',
    "{'id':1,'name':'n','dt':'2024-01-02'}",
    '{id:1,name:"n",dt:"2024-01-02"}',
    R('"x":[1,2,]'),
    R('"x":{"a":1,}'),
    R('"x":{"a" 1}'),
    R('"x":{1:2}'),
    R('"x":{"a":1'),
    R('"x":[1'),
    R('"x":[1}'),
    R('"x":{"a":1]'),
    R('"x":"abc'),
    R('"x"'),
    R('"x":'),
    R('"s":"abc'),
  ]) {
    add(`broken or not an object: ${v}`, v);
  }
  // Every prefix of two full records (truncated JSON), and each with trailing garbage.
  for (const full of [FULL, `{${BASE},"x":{"a":[true,false,null,-1.5e-3,"\\u00e9"]},"s":"é\\n"}`]) {
    taken('full record', full);
    for (let cut = 0; cut < Buffer.byteLength(full); cut++)
      add(`truncated at ${cut}: ${full}`, utf8(full).subarray(0, cut));
    for (const tail of ['x', '}', ']', ',', '{}', '"', '0', 'null']) add(`trailing ${tail}`, `${full}${tail}`);
  }
  // Nesting in a skipped field.
  for (const depth of [1, 10, 62, 63, 64, 65, 100, 500]) {
    add(`skipped arrays nested ${depth} deep`, R(`"x":${'['.repeat(depth)}${']'.repeat(depth)}`), depth <= 60);
    add(`skipped objects nested ${depth} deep`, R(`"x":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`), depth <= 60);
  }
  return cases;
}

/** Seeded random number texts (valid and not) and temporal texts (canonical and not), in every column kind. */
function fuzzCases(seed: number): Case[] {
  const rnd = prng(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const digits = (n: number) => Array.from({ length: n }, () => String(int(0, 9))).join('');
  const cases: Case[] = [];
  const numberText = () => {
    let t = pick(['', '', '-']);
    const r = rnd();
    // Integer part: 0, short, up to 15 digits (the exact fast path), or longer.
    t += r < 0.2 ? '0' : String(int(1, 9)) + digits(r < 0.6 ? int(0, 6) : r < 0.85 ? int(7, 14) : int(15, 25));
    if (rnd() < 0.5) t += `.${rnd() < 0.3 ? '0'.repeat(int(1, 25)) : ''}${digits(int(1, rnd() < 0.7 ? 8 : 20))}`;
    if (rnd() < 0.4) {
      t += `${pick(['e', 'E'])}${pick(['', '+', '-'])}${rnd() < 0.1 ? '0'.repeat(int(1, 5)) : ''}`;
      t += String(rnd() < 0.7 ? int(0, 25) : rnd() < 0.8 ? int(26, 330) : int(331, 99999));
    }
    // Now and then broken.
    if (rnd() < 0.05) t = pick([`${t}.`, `0${t}`, `${t}e`, `${t}-`, `.${t}`, `+${t}`, `${t}x`]);
    return t;
  };
  for (let k = 0; k < 1500; k++) {
    const t = numberText();
    const f = pick(['d', 'd', 's', 'id', 'i', 'sh', 'b', 'l']);
    cases.push({
      label: `random number ${t} to ${f}`,
      bytes: utf8(f === 'id' ? `{"name":"n","dt":"2024-01-02","id":${t}}` : R(`"${f}":${t}`)),
      normal: false,
    });
  }
  const pad = (x: number, w: number) => String(x).padStart(w, '0');
  for (let k = 0; k < 1500; k++) {
    const y = pick([
      int(0, 9999),
      int(1, 2300),
      int(1900, 2100),
      pick([0, 1, 999, 1000, 1582, 1900, 2000, 2200, 2201, 9999]),
    ]);
    const m = rnd() < 0.95 ? int(1, 12) : pick([0, 13]);
    const d = rnd() < 0.9 ? int(1, 28) : int(29, 32);
    const date = `${pad(y, 4)}-${pad(m, 2)}-${pad(d, 2)}`;
    if (rnd() < 0.3) {
      cases.push({ label: `random date ${date}`, bytes: utf8(`{"id":1,"name":"n","dt":"${date}"}`), normal: false });
      continue;
    }
    let t = `${date}${rnd() < 0.85 ? 'T' : pick(['t', ' '])}${pad(rnd() < 0.95 ? int(0, 23) : 24, 2)}:${pad(int(0, 59), 2)}`;
    if (rnd() < 0.95) t += `:${pad(rnd() < 0.97 ? int(0, 59) : 60, 2)}`;
    if (rnd() < 0.6) {
      const n = int(0, 10);
      t += `.${rnd() < 0.3 && n > 6 ? digits(6) + '0'.repeat(n - 6) : digits(n)}`;
    }
    t += rnd() < 0.8 ? 'Z' : pick(['z', '+00:00', '-05:30', '+0530', '+05', '+24:00', '']);
    cases.push({ label: `random timestamp ${t}`, bytes: utf8(R(`"ts":"${t}"`)), normal: false });
  }
  return cases;
}

// ---- The row path (the oracle).

function rowPath(schema: StructType): (bytes: Uint8Array) => Row | string {
  const conform = parsedJsonConformer(schema);
  return (bytes) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
    } catch (error) {
      return `not JSON: ${(error as Error).message}`;
    }
    const row = conform(parsed, true);
    if (row instanceof JsonRejection) return `rejected: ${row.field}: ${row.reason}`;
    try {
      rowsToArrow(schema, [row]);
    } catch (error) {
      return `the writer refuses it: ${(error as Error).message}`;
    }
    try {
      new ColumnBatch(schema, 1).appendRow(row);
    } catch (error) {
      return `appendRow refuses it: ${(error as Error).message}`;
    }
    return row;
  };
}

/** Row 0 of a one-row table as written: null, string bytes (hex) and text, numbers, bigints. */
function cells(table: Table, schema: StructType): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of schema.fields) {
    const child = table.getChild(f.name)!;
    if (!child.isValid(0)) {
      out[f.name] = null;
      continue;
    }
    const data = child.data[0]!;
    if (f.type === 'string') {
      const offsets = data.valueOffsets as Int32Array;
      const raw = Buffer.from(data.values.subarray(offsets[0]!, offsets[1]!));
      out[f.name] = `${JSON.stringify(raw.toString('utf8'))} (${raw.toString('hex')})`;
    } else if (f.type === 'boolean') out[f.name] = child.get(0);
    else out[f.name] = (data.values as ArrayLike<unknown>)[0];
  }
  return out;
}

/** The one row of a batch, as cells. */
const batchCells = (batch: ColumnBatch, schema: StructType) =>
  cells(batch.toArrow(schema, 0, batch.length, { statsColumns: 0, dictionary: false }).table, schema);

const PAD_BEFORE = utf8('{"id":1,"x":"\\');
const PAD_AFTER = utf8('\\u0041"}}]0"e5:1,');

interface Outcome {
  /** Per-record failures (empty when the scanner keeps its contract). */
  failures: string[];
  /** Normal records the scanner declined. */
  declinedNormal: string[];
  /** Edge cases meant to be taken that were declined. */
  declinedTake: string[];
  /** The rows the row path accepts, in corpus order. */
  accepted: Row[];
  /** Batch A: scanned where the scanner takes the record, else the row path's row appended. */
  scanned: ColumnBatch;
  /** How many records the scanner took. */
  took: number;
}

function runCorpus(schema: StructType, corpus: readonly Case[]): Outcome {
  const oracle = rowPath(schema);
  const outcome: Outcome = {
    failures: [],
    declinedNormal: [],
    declinedTake: [],
    accepted: [],
    scanned: new ColumnBatch(schema, corpus.length),
    took: 0,
  };
  // Record by record: a fresh batch, the record alone in its buffer and with bytes around it.
  const expectations = corpus.map((c) => {
    const expected = oracle(c.bytes);
    const name = `${c.label}: ${show(c.bytes)}`;
    const failures = outcome.failures.length;
    const alone = new ColumnBatch(schema, 1);
    const took = new JsonColumnScanner(schema, alone).scan(c.bytes, 0, c.bytes.length);
    const padded = new Uint8Array(PAD_BEFORE.length + c.bytes.length + PAD_AFTER.length);
    padded.set(PAD_BEFORE, 0);
    padded.set(c.bytes, PAD_BEFORE.length);
    padded.set(PAD_AFTER, PAD_BEFORE.length + c.bytes.length);
    const inside = new ColumnBatch(schema, 1);
    const tookInside = new JsonColumnScanner(schema, inside).scan(
      padded,
      PAD_BEFORE.length,
      PAD_BEFORE.length + c.bytes.length,
    );
    if (took !== tookInside) outcome.failures.push(`${name}: took ${took} alone, ${tookInside} inside other bytes`);
    if (alone.length !== (took ? 1 : 0) || inside.length !== (tookInside ? 1 : 0)) {
      outcome.failures.push(`${name}: the batch has the wrong number of rows`);
    }
    if (typeof expected === 'string') {
      if (took || tookInside) outcome.failures.push(`${name}: taken, but the row path says ${expected}`);
    } else if (!took) {
      if (c.normal) outcome.declinedNormal.push(name);
      if (c.take === true) outcome.declinedTake.push(name);
    } else {
      // The writer's row (rowsToArrow), independent of ColumnBatch.
      const want = cells(rowsToArrow(schema, [expected], { statsColumns: 0 }).table, schema);
      const got = batchCells(alone, schema);
      if (JSON.stringify(got, bigints) !== JSON.stringify(want, bigints) || !sameCells(got, want)) {
        outcome.failures.push(
          `${name}: scanned ${JSON.stringify(got, bigints)}, row path ${JSON.stringify(want, bigints)}`,
        );
      }
      if (tookInside && JSON.stringify(batchCells(inside, schema), bigints) !== JSON.stringify(got, bigints)) {
        outcome.failures.push(`${name}: scanned inside other bytes differs from scanned alone`);
      }
    }
    return { name, expected, took, failed: outcome.failures.length > failures };
  });
  // Then the whole corpus through one scanner (state carried from record to record), as the ingest
  // stage runs it: a declined record's row-path row is appended in its place. Records that failed
  // above are left out, so that this checks everything else.
  const { scanned } = outcome;
  const scanner = new JsonColumnScanner(schema, scanned);
  corpus.forEach((c, k) => {
    const { name, expected, took, failed } = expectations[k]!;
    if (failed) return;
    const before = scanned.length;
    const tookInBatch = scanner.scan(c.bytes, 0, c.bytes.length);
    if (tookInBatch !== took) outcome.failures.push(`${name}: took ${took} alone, ${tookInBatch} in the corpus batch`);
    if (scanned.length !== before + (tookInBatch ? 1 : 0))
      outcome.failures.push(`${name}: the corpus batch has the wrong number of rows`);
    if (tookInBatch) outcome.took++;
    // A taken record the row path rejects (reported above) leaves the batch a row longer than `accepted`.
    if (typeof expected === 'string') return;
    outcome.accepted.push(expected);
    if (!tookInBatch) scanned.appendRow(expected);
  });
  return outcome;
}

/** JSON.stringify replacer: bigints as 'Nn', -0 as '-0', NaN/Infinity as text. */
function bigints(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'number' && (Object.is(value, -0) || !Number.isFinite(value)))
    return Object.is(value, -0) ? '-0' : String(value);
  return value;
}

function sameCells(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  return Object.keys(b).every((k) => Object.is(a[k], b[k]) || (typeof a[k] === 'string' && a[k] === b[k]));
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return (
    Buffer.compare(
      Buffer.from(a.buffer, a.byteOffset, a.byteLength),
      Buffer.from(b.buffer, b.byteOffset, b.byteLength),
    ) === 0
  );
}

/** The scanned batch (A) against the accepted rows appended (B) and against encodeRows of them. */
function expectSameFile(
  schema: StructType,
  outcome: Outcome,
  options: ParquetWriteOptions,
  start = 0,
  end?: number,
): void {
  const rows = outcome.accepted;
  const stop = end ?? rows.length;
  if (options.dictionary === 'auto' && start === 0 && stop === rows.length) {
    // The repeated columns get a dictionary (so the sampled values of scanned rows count).
    expect(rowsToArrow(schema, rows, options).dictionaryColumns).toEqual(expect.arrayContaining(['ts', 'k y']));
  }
  expect(outcome.scanned.length).toBe(rows.length);
  const appended = new ColumnBatch(schema, rows.length);
  for (const r of rows) appended.appendRow(r);
  const a = outcome.scanned.toArrow(schema, start, stop, options);
  const b = appended.toArrow(schema, start, stop, options);
  const reference = encodeRows(schema, rows.slice(start, stop), options);
  expect(a.stats).toEqual(b.stats);
  expect(a.stats).toEqual(reference.stats);
  expect(a.dictionaryColumns).toEqual(b.dictionaryColumns);
  const bytesA = arrowToParquet(a.table, options, a.dictionaryColumns);
  const bytesB = arrowToParquet(b.table, options, b.dictionaryColumns);
  expect(sameBytes(bytesA, bytesB)).toBe(true);
  expect(sameBytes(bytesA, reference.bytes)).toBe(true);
}

describe('JsonColumnScanner against the row path', () => {
  const normal = normalRecords(20240611, 600);
  const edges = [...edgeCases(), ...fuzzCases(77)];
  const corpus = [...normal, ...edges];

  it('the corpus is what it claims: the row path accepts every normal record', () => {
    const oracle = rowPath(SCHEMA);
    const refused = normal.map((c) => [show(c.bytes), oracle(c.bytes)]).filter(([, r]) => typeof r === 'string');
    expect(refused).toEqual([]);
    expect(edges.length).toBeGreaterThan(300);
  });

  for (const [label, schema] of [
    ['schema with non-nullable columns', SCHEMA],
    ['all-nullable schema', NULLABLE],
  ] as const) {
    describe(label, () => {
      const outcome = runCorpus(schema, corpus);

      it('takes a record only when the row path accepts it, and then makes the same row', () => {
        expect(outcome.failures).toEqual([]);
      });

      it('takes every normal record', () => {
        expect(outcome.declinedNormal).toEqual([]);
      });

      it('takes the edge cases it is meant to take', () => {
        expect(outcome.declinedTake).toEqual([]);
      });

      it('the scanned batch encodes to the bytes and stats of the row path rows', () => {
        expect(outcome.took).toBeGreaterThan(normal.length);
        expectSameFile(schema, outcome, { statsColumns: -1, dictionary: 'auto' });
        expectSameFile(schema, outcome, { statsColumns: 3, dictionary: 'auto', compression: 'uncompressed' });
        expectSameFile(schema, outcome, { statsColumns: -1 }, 100, 700);
        expectSameFile(schema, outcome, { statsColumns: -1, dictionary: true }, 550, outcome.accepted.length);
      });
    });
  }

  it('the dictionary choice counts timestamp texts, not instants, as the row path does', () => {
    // 26 distinct texts of 23 instants (> 25% of 100 values: no dictionary); then 25 texts: a dictionary.
    const texts = Array.from({ length: 23 }, (_, k) => `2024-01-01T00:00:${String(k).padStart(2, '0')}Z`);
    texts.push('2024-01-01T00:00:00.0Z', '2024-01-01T00:00:00.000000Z', '2024-01-01T00:00:00+00:00');
    const rnd = prng(12);
    const oracle = rowPath(SCHEMA);
    const options: ParquetWriteOptions = { statsColumns: -1, dictionary: 'auto' };
    for (const [all, dictionary] of [
      [texts, false],
      [[...texts.slice(0, 24), texts[25]!], true],
      [[...texts.slice(0, 23), '2024-01-01T00:00:00.00Z', texts[24]!], true],
    ] as const) {
      const records = Array.from({ length: 100 }, (_, k) =>
        utf8(R(`"ts":"${k < all.length ? all[k] : all[Math.floor(rnd() * all.length)]}"`)),
      );
      const batch = new ColumnBatch(SCHEMA, records.length);
      const scanner = new JsonColumnScanner(SCHEMA, batch);
      expect(records.every((r) => scanner.scan(r, 0, r.length))).toBe(true);
      const rows = records.map((r) => oracle(r) as Row);
      const arrow = batch.toArrow(SCHEMA, 0, rows.length, options);
      const reference = encodeRows(SCHEMA, rows, options);
      const chosen = rowsToArrow(SCHEMA, rows, options).dictionaryColumns;
      expect(chosen.includes('ts')).toBe(dictionary);
      expect(arrow.dictionaryColumns).toEqual(chosen);
      expect(sameBytes(arrowToParquet(arrow.table, options, arrow.dictionaryColumns), reference.bytes)).toBe(true);
    }
  });

  it('a record the row path rejects in a non-nullable schema is a row of the nullable one', () => {
    const batch = new ColumnBatch(NULLABLE, 4);
    const scanner = new JsonColumnScanner(NULLABLE, batch);
    expect(scanner.scan(utf8('{}'), 0, 2)).toBe(true);
    expect(scanner.scan(utf8(' {"id":null} '), 0, 13)).toBe(true);
    expect(batch.length).toBe(2);
    const strict = new ColumnBatch(SCHEMA, 4);
    expect(new JsonColumnScanner(SCHEMA, strict).scan(utf8('{}'), 0, 2)).toBe(false);
    expect(strict.length).toBe(0);
  });
});

describe('isValidUtf8', () => {
  const fatal = new TextDecoder('utf-8', { fatal: true });
  const decodes = (b: Uint8Array) => {
    try {
      fatal.decode(b);
      return true;
    } catch {
      return false;
    }
  };

  it('agrees with a fatal TextDecoder on edge sequences', () => {
    const sequences: number[][] = [
      [],
      [0x00],
      [0x7f],
      [0x80],
      [0xbf],
      [0xc0, 0x80],
      [0xc1, 0xbf],
      [0xc2, 0x80],
      [0xdf, 0xbf],
      [0xc3],
      [0xc3, 0x41],
      [0xc3, 0xc3, 0xa9],
      [0xe0, 0x80, 0x80],
      [0xe0, 0x9f, 0xbf],
      [0xe0, 0xa0, 0x80],
      [0xe1, 0x80, 0x80],
      [0xec, 0xbf, 0xbf],
      [0xed, 0x80, 0x80],
      [0xed, 0x9f, 0xbf],
      [0xed, 0xa0, 0x80],
      [0xed, 0xbf, 0xbf],
      [0xee, 0x80, 0x80],
      [0xef, 0xbf, 0xbf],
      [0xef, 0xbb, 0xbf],
      [0xe6, 0x97],
      [0xe6, 0x97, 0x41],
      [0xe6, 0x41, 0x41],
      [0xf0, 0x80, 0x80, 0x80],
      [0xf0, 0x8f, 0xbf, 0xbf],
      [0xf0, 0x90, 0x80, 0x80],
      [0xf0, 0x9f, 0x98, 0x80],
      [0xf0, 0x9f, 0x98],
      [0xf0, 0x9f],
      [0xf1, 0x80, 0x80, 0x80],
      [0xf3, 0xbf, 0xbf, 0xbf],
      [0xf4, 0x8f, 0xbf, 0xbf],
      [0xf4, 0x90, 0x80, 0x80],
      [0xf5, 0x80, 0x80, 0x80],
      [0xf8, 0x88, 0x80, 0x80, 0x80],
      [0xfc, 0x84, 0x80, 0x80, 0x80, 0x80],
      [0xfe],
      [0xff],
      [0x41, 0xe2, 0x82, 0xac],
      [0x41, 0xe2, 0x82],
      [0xe2, 0x82, 0xac, 0x80],
      [0xf0, 0x9f, 0x98, 0x80, 0xf0, 0x9f, 0x98],
    ];
    for (const s of sequences) {
      const b = new Uint8Array(s);
      expect([Buffer.from(s).toString('hex'), isValidUtf8(b, 0, b.length)]).toEqual([
        Buffer.from(s).toString('hex'),
        decodes(b),
      ]);
    }
  });

  it('agrees with a fatal TextDecoder on seeded random bytes and sub-ranges', () => {
    const rnd = prng(8);
    const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
    // Byte classes weighted toward the boundaries of the UTF-8 grammar.
    const classes: [number, number][] = [
      [0x00, 0x7f],
      [0x80, 0x8f],
      [0x90, 0x9f],
      [0xa0, 0xbf],
      [0xc0, 0xc1],
      [0xc2, 0xdf],
      [0xe0, 0xe0],
      [0xe1, 0xec],
      [0xed, 0xed],
      [0xee, 0xef],
      [0xf0, 0xf0],
      [0xf1, 0xf3],
      [0xf4, 0xf4],
      [0xf5, 0xff],
    ];
    const disagreements: string[] = [];
    for (let k = 0; k < 30000; k++) {
      let b: Uint8Array;
      if (k % 3 === 0) {
        // Valid text with a byte or two changed.
        let s = '';
        for (let m = int(0, 4); m > 0; m--)
          s += String.fromCodePoint(
            pick(rnd, [
              int(0, 0x7f),
              int(0x80, 0x7ff),
              int(0x800, 0xd7ff),
              int(0xe000, 0xffff),
              int(0x10000, 0x10ffff),
            ]),
          );
        b = new Uint8Array(Buffer.from(s, 'utf8'));
        for (let m = int(0, 2); m > 0 && b.length > 0; m--) b[int(0, b.length - 1)] = int(0, 255);
      } else {
        b = new Uint8Array(int(0, 9));
        for (let m = 0; m < b.length; m++) {
          const [lo, hi] = classes[int(0, classes.length - 1)]!;
          b[m] = int(lo, hi);
        }
      }
      const start = int(0, b.length);
      const end = int(start, b.length);
      const whole = isValidUtf8(b, 0, b.length);
      const part = isValidUtf8(b, start, end);
      if (whole !== decodes(b) || part !== decodes(b.subarray(start, end))) {
        disagreements.push(`${Buffer.from(b).toString('hex')} [${start}, ${end})`);
      }
    }
    expect(disagreements).toEqual([]);
  });
});

function pick<T>(rnd: () => number, xs: readonly T[]): T {
  return xs[Math.floor(rnd() * xs.length)]!;
}

describe('JsonColumnScanner word-at-a-time string scan', () => {
  const schema: StructType = {
    type: 'struct',
    fields: [{ name: 's', type: 'string', nullable: true, metadata: {} }],
  };
  /**
   * Scans `records` laid out from byte `at` of a buffer that starts 4-byte aligned (scanned a word at a
   * time) or not (byte by byte); which records were declined, and the Parquet bytes of the batch.
   */
  function scanAt(records: Uint8Array[], at: number, aligned = true): string {
    const size = records.reduce((n, r) => n + r.length, at);
    const buffer = aligned ? new Uint8Array(size + 8) : new Uint8Array(new ArrayBuffer(size + 9), 1);
    const batch = new ColumnBatch(schema, records.length);
    const scanner = new JsonColumnScanner(schema, batch);
    let p = at;
    const declined: number[] = [];
    records.forEach((r, i) => {
      buffer.set(r, p);
      if (!scanner.scan(buffer, p, p + r.length)) declined.push(i);
      p += r.length;
    });
    const arrow = batch.toArrow(schema, 0, batch.length);
    return `${declined.join(',')}|${Buffer.from(arrowToParquet(arrow.table, {}, arrow.dictionaryColumns)).toString('hex')}`;
  }

  it('finds quotes, escapes, control characters and non-ASCII bytes at every place in a word', () => {
    const specials = ['\\"', '\\\\', '\\n', '\\u00e9', 'é', '😀', '\u0001', '"', '\u007f', '~', ' '];
    const records: Uint8Array[] = [];
    for (const special of specials) {
      for (let before = 0; before < 9; before++) {
        for (let after = 0; after < 6; after++) {
          const text = `${'a'.repeat(before)}${special}${'b'.repeat(after)}`;
          records.push(Buffer.from(`{"s":"${text}"}`, 'utf8'));
          records.push(Buffer.from(`{"s":"${text}","t":"${'x'.repeat(before)}"}`, 'utf8'));
        }
      }
    }
    // Invalid UTF-8 and a raw byte 0x80 at each offset.
    for (let before = 0; before < 8; before++) {
      records.push(Buffer.concat([Buffer.from(`{"s":"${'a'.repeat(before)}`), Buffer.from([0xc3]), Buffer.from('"}')]));
      records.push(
        Buffer.concat([Buffer.from(`{"s":"${'a'.repeat(before)}`), Buffer.from([0x80]), Buffer.from('a"}')]),
      );
    }
    const reference = scanAt(records, 0, false); // byte by byte
    for (const at of [0, 1, 2, 3, 4, 5]) expect(scanAt(records, at), `records from byte ${at}`).toBe(reference);
    // The reference itself: what the row path makes of each record (declined ones aside).
    const [declined] = reference.split('|');
    const expected = new Set<number>();
    records.forEach((r, i) => {
      const text = Buffer.from(r).toString('utf8');
      let ok = true;
      try {
        const value = (JSON.parse(text) as { s: string }).s;
        if (!(value as unknown as { isWellFormed(): boolean }).isWellFormed()) ok = false;
        if (Buffer.from(value, 'utf8').toString('utf8') !== value) ok = false;
        if (text.includes('\uFFFD')) ok = false;
      } catch {
        ok = false;
      }
      if (!ok) expected.add(i);
    });
    expect(
      new Set(
        declined!
          .split(',')
          .filter((x) => x !== '')
          .map(Number),
      ),
    ).toEqual(expected);
  });
});
