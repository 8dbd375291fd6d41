// Strict RFC 8259 parser for one JSONL line that keeps what JSON.parse loses: integers beyond 2^53
// stay exact (bigint), and each value's inferred type is built while parsing (1.0 is a double, as in
// Spark). Errors are INVALID_INPUT naming file, line and column.

import { type InputPosition, InvalidInputError } from './errors.js';
import {
  type InferOptions,
  type InferredStruct,
  type InferredType,
  inferIntegerType,
  inferStringType,
  JSON_INFER_DEFAULTS,
  mergeTypes,
  NULL_TYPE,
  primitive,
} from './infer-schema.js';
import { toLongValue } from './literals.js';

/** A parsed JSON value: integers are numbers when safe, bigints otherwise; objects are plain objects. */
export type JsonValue = null | boolean | number | bigint | string | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

export interface ParsedJsonLine {
  row: JsonObject;
  type: InferredStruct;
}

/** Nesting deeper than this is refused (protects the stack; real rows are far shallower). */
export const MAX_JSON_DEPTH = 256;

const NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
const DOUBLE = primitive('double');
const BOOLEAN = primitive('boolean');
const ESCAPES: Readonly<Record<string, string>> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
};

/** Parses a line holding one JSON object; `position` (file, line) names it in errors. */
export function parseJsonLine(
  text: string,
  position: Omit<InputPosition, 'column' | 'field'>,
  options: InferOptions = JSON_INFER_DEFAULTS,
): ParsedJsonLine {
  const parser = new Parser(text, position, options);
  parser.skipSpace();
  if (parser.peek() !== '{') {
    const found = parser.atEnd() ? 'an empty line' : describeStart(parser.peek());
    parser.fail(`expected a JSON object, found ${found}`);
  }
  const { value, type } = parser.value(0);
  parser.skipSpace();
  if (!parser.atEnd()) parser.fail(`unexpected ${describeChar(parser.peek())} after the JSON object`);
  return { row: value as JsonObject, type: type as InferredStruct };
}

function describeStart(char: string): string {
  if (char === '[') return 'an array';
  if (char === '"') return 'a string';
  if (char === 't' || char === 'f') return 'a boolean';
  if (char === 'n') return 'null';
  if (char === '-' || (char >= '0' && char <= '9')) return 'a number';
  return describeChar(char);
}

function describeChar(char: string): string {
  const code = char.codePointAt(0) ?? 0;
  return code < 0x20 || code === 0x7f ? `control character U+${code.toString(16).padStart(4, '0')}` : `'${char}'`;
}

interface Parsed {
  value: JsonValue;
  type: InferredType;
}

class Parser {
  private at = 0;

  constructor(
    private readonly text: string,
    private readonly position: Omit<InputPosition, 'column' | 'field'>,
    private readonly options: InferOptions,
  ) {}

  fail(problem: string, at = this.at): never {
    throw new InvalidInputError({ ...this.position, column: at + 1 }, `invalid JSON: ${problem}`);
  }

  atEnd(): boolean {
    return this.at >= this.text.length;
  }

  peek(): string {
    return this.text[this.at] ?? '';
  }

  skipSpace(): void {
    const { text } = this;
    while (this.at < text.length) {
      const c = text.charCodeAt(this.at);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break;
      this.at += 1;
    }
  }

  value(depth: number): Parsed {
    if (depth > MAX_JSON_DEPTH) this.fail(`nesting deeper than ${MAX_JSON_DEPTH} levels`);
    this.skipSpace();
    const char = this.peek();
    switch (char) {
      case '{':
        return this.object(depth);
      case '[':
        return this.array(depth);
      case '"': {
        const value = this.string();
        return { value, type: inferStringType(value, this.options) };
      }
      case 't':
        return this.literal('true', true, BOOLEAN);
      case 'f':
        return this.literal('false', false, BOOLEAN);
      case 'n':
        return this.literal('null', null, NULL_TYPE);
      case '':
        return this.fail('unexpected end of line, expected a value');
      default:
        if (char === '-' || (char >= '0' && char <= '9')) return this.number();
        return this.fail(`unexpected ${describeChar(char)}, expected a value`);
    }
  }

  private literal(word: string, value: JsonValue, type: InferredType): Parsed {
    if (!this.text.startsWith(word, this.at)) this.fail(`unexpected ${describeChar(this.peek())}, expected a value`);
    this.at += word.length;
    return { value, type };
  }

  private number(): Parsed {
    NUMBER.lastIndex = this.at;
    const match = NUMBER.exec(this.text);
    if (match === null) return this.fail("invalid number: '-' must be followed by a digit");
    const literal = match[0];
    const start = this.at;
    this.at += literal.length;
    const next = this.peek();
    if ((next >= '0' && next <= '9') || next === '.' || next === 'e' || next === 'E') {
      this.fail(`invalid number starting ${JSON.stringify(this.text.slice(start, this.at + 1))}`, start);
    }
    if (match[1] !== undefined || match[2] !== undefined) return { value: Number(literal), type: DOUBLE };
    if (literal.length <= 15) return { value: Number(literal), type: primitive('long') };
    const big = BigInt(literal);
    return { value: toLongValue(big), type: inferIntegerType(big) };
  }

  private string(): string {
    const { text } = this;
    const open = this.at;
    this.at += 1;
    let out = '';
    let runStart = this.at;
    while (this.at < text.length) {
      const c = text.charCodeAt(this.at);
      if (c === 0x22) {
        out += text.slice(runStart, this.at);
        this.at += 1;
        return out;
      }
      if (c === 0x5c) {
        out += text.slice(runStart, this.at);
        out += this.escape();
        runStart = this.at;
        continue;
      }
      if (c < 0x20) this.fail(`unescaped ${describeChar(text[this.at]!)} in a string`);
      this.at += 1;
    }
    return this.fail('unterminated string', open);
  }

  private escape(): string {
    const at = this.at;
    const kind = this.text[at + 1] ?? '';
    const simple = ESCAPES[kind];
    if (simple !== undefined) {
      this.at += 2;
      return simple;
    }
    if (kind === 'u') {
      const hex = this.text.slice(at + 2, at + 6);
      if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail('invalid \\u escape, expected 4 hex digits', at);
      this.at += 6;
      return String.fromCharCode(Number.parseInt(hex, 16));
    }
    return this.fail(kind === '' ? 'unterminated string' : `invalid escape '\\${kind}'`, at);
  }

  private object(depth: number): Parsed {
    this.at += 1;
    const value: JsonObject = {};
    const fields = new Map<string, InferredType>();
    this.skipSpace();
    if (this.peek() === '}') {
      this.at += 1;
      return { value, type: { kind: 'struct', fields } };
    }
    for (;;) {
      this.skipSpace();
      const keyAt = this.at;
      if (this.peek() !== '"') this.fail(`expected a quoted key, found ${describeFound(this.peek())}`);
      const key = this.string();
      if (Object.hasOwn(value, key)) this.fail(`duplicate key ${JSON.stringify(key)}`, keyAt);
      this.skipSpace();
      if (this.peek() !== ':')
        this.fail(`expected ':' after key ${JSON.stringify(key)}, found ${describeFound(this.peek())}`);
      this.at += 1;
      const field = this.value(depth + 1);
      // defineProperty: a "__proto__" key must be data, not the object's prototype.
      Object.defineProperty(value, key, { value: field.value, enumerable: true, writable: true, configurable: true });
      fields.set(key, field.type);
      this.skipSpace();
      const next = this.peek();
      this.at += 1;
      if (next === '}') return { value, type: { kind: 'struct', fields } };
      if (next !== ',') this.fail(`expected ',' or '}' in an object, found ${describeFound(next)}`, this.at - 1);
    }
  }

  private array(depth: number): Parsed {
    this.at += 1;
    const value: JsonValue[] = [];
    let element: InferredType = NULL_TYPE;
    this.skipSpace();
    if (this.peek() === ']') {
      this.at += 1;
      return { value, type: { kind: 'array', element } };
    }
    for (;;) {
      const item = this.value(depth + 1);
      value.push(item.value);
      element = mergeTypes(element, item.type);
      this.skipSpace();
      const next = this.peek();
      this.at += 1;
      if (next === ']') return { value, type: { kind: 'array', element } };
      if (next !== ',') this.fail(`expected ',' or ']' in an array, found ${describeFound(next)}`, this.at - 1);
    }
  }
}

function describeFound(char: string): string {
  return char === '' ? 'the end of the line' : describeChar(char);
}
