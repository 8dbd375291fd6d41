// Column builders for the nested types: struct (Arrow Struct), array (Arrow List with an 'element'
// child) and map (Arrow Map of 'entries' with 'key' and 'value'). Struct children are filled block by
// block with their parent; array elements and map entries are gathered, then built in one block.
import { type Data, type List, type Map_, makeData, type Struct } from 'apache-arrow';
import { RejectedValue } from '../errors.js';
import { BaseBuilder, type BuilderSpec, buildColumn, type ColumnBuilder, type Items, type Keyed } from './builder.js';

/** True for values a struct accepts: objects that are not arrays, Maps, Dates or byte arrays. */
function isRecord(v: unknown): v is Record<string, unknown> {
  return (
    typeof v === 'object' &&
    v !== null &&
    !Array.isArray(v) &&
    !(v instanceof Map) &&
    !(v instanceof Date) &&
    !ArrayBuffer.isView(v)
  );
}

export interface StructChild {
  name: string;
  builder: ColumnBuilder;
}

/** struct: objects; each child reads its property (missing → null). */
export class StructBuilder extends BaseBuilder {
  /** Struct values by slot; null where this struct (or an enclosing one) is null. */
  private values: unknown[] = [];

  constructor(
    spec: BuilderSpec,
    readonly arrowType: Struct,
    private readonly children: readonly StructChild[],
  ) {
    super(spec);
  }

  override begin(length: number): void {
    super.begin(length);
    this.values = new Array(length);
    for (const child of this.children) child.builder.begin(length);
  }

  append(items: Items, key: string | undefined, rows: Int32Array | undefined, start: number, end: number): void {
    const values = this.values;
    let i = start;
    let v: unknown;
    try {
      for (; i < end; i++) {
        v = key === undefined ? items[i] : (items[i] as Keyed)?.[key];
        if (v == null) {
          this.markNull(i, items, key);
          values[i] = null;
          continue;
        }
        if (!isRecord(v)) throw RejectedValue.wrongType('struct (object)', v);
        values[i] = v;
      }
    } catch (error) {
      this.reject(error, i, rows, v);
    }
    for (const child of this.children) child.builder.append(values, child.name, rows, start, end);
  }

  finish(): Data {
    const children = this.children.map((child) => child.builder.finish());
    this.values = [];
    return makeData({
      type: this.arrowType,
      length: this.length,
      nullCount: this.arrowNulls,
      nullBitmap: this.takeValidity(),
      children,
    });
  }
}

/** Growing Int32Array of the input row index of each gathered element (for error messages). */
class RowIndex {
  rows = new Int32Array(64);
  length = 0;

  push(row: number): void {
    if (this.length === this.rows.length) {
      const next = new Int32Array(this.rows.length * 2);
      next.set(this.rows);
      this.rows = next;
    }
    this.rows[this.length++] = row;
  }
}

/** array: JS arrays; elements are gathered and built by the element builder. */
export class ListBuilder extends BaseBuilder {
  private offsets = new Int32Array(1);
  private elements: unknown[] = [];
  private elementRows = new RowIndex();

  constructor(
    spec: BuilderSpec,
    readonly arrowType: List,
    private readonly element: ColumnBuilder,
  ) {
    super(spec);
  }

  override begin(length: number): void {
    super.begin(length);
    this.offsets = new Int32Array(length + 1);
    this.elements = [];
    this.elementRows = new RowIndex();
  }

  append(items: Items, key: string | undefined, rows: Int32Array | undefined, start: number, end: number): void {
    const { offsets, elements, elementRows } = this;
    let i = start;
    let v: unknown;
    try {
      for (; i < end; i++) {
        v = key === undefined ? items[i] : (items[i] as Keyed)?.[key];
        if (v == null) {
          this.markNull(i, items, key);
          offsets[i + 1] = elements.length;
          continue;
        }
        if (!Array.isArray(v)) throw RejectedValue.wrongType('array', v);
        const row = rows === undefined ? i : (rows[i] as number);
        for (let j = 0; j < v.length; j++) {
          elements.push(v[j]);
          elementRows.push(row);
        }
        offsets[i + 1] = elements.length;
      }
    } catch (error) {
      this.reject(error, i, rows, v);
    }
  }

  finish(): Data {
    const child = buildColumn(this.element, this.elements, undefined, this.elementRows.rows);
    this.elements = [];
    return makeData({
      type: this.arrowType,
      length: this.length,
      nullCount: this.arrowNulls,
      nullBitmap: this.takeValidity(),
      valueOffsets: this.offsets,
      child,
    });
  }
}

/** map: Map instances, or plain objects when the key type is string; keys are never null. */
export class MapBuilder extends BaseBuilder {
  private offsets = new Int32Array(1);
  private keys: unknown[] = [];
  private values: unknown[] = [];
  private entryRows = new RowIndex();

  constructor(
    spec: BuilderSpec,
    readonly arrowType: Map_,
    private readonly keyBuilder: ColumnBuilder,
    private readonly valueBuilder: ColumnBuilder,
    private readonly stringKeys: boolean,
  ) {
    super(spec);
  }

  override begin(length: number): void {
    super.begin(length);
    this.offsets = new Int32Array(length + 1);
    this.keys = [];
    this.values = [];
    this.entryRows = new RowIndex();
  }

  append(items: Items, key: string | undefined, rows: Int32Array | undefined, start: number, end: number): void {
    const { offsets, keys, values, entryRows } = this;
    let i = start;
    let v: unknown;
    try {
      for (; i < end; i++) {
        v = key === undefined ? items[i] : (items[i] as Keyed)?.[key];
        if (v == null) {
          this.markNull(i, items, key);
          offsets[i + 1] = keys.length;
          continue;
        }
        const row = rows === undefined ? i : (rows[i] as number);
        if (v instanceof Map) {
          for (const [k, value] of v) {
            keys.push(k);
            values.push(value);
            entryRows.push(row);
          }
        } else if (this.stringKeys && isRecord(v)) {
          for (const k of Object.keys(v)) {
            keys.push(k);
            values.push(v[k]);
            entryRows.push(row);
          }
        } else {
          throw RejectedValue.wrongType(this.stringKeys ? 'map (Map or object)' : 'map (Map)', v);
        }
        offsets[i + 1] = keys.length;
      }
    } catch (error) {
      this.reject(error, i, rows, v);
    }
  }

  finish(): Data {
    const entriesType = (this.arrowType.children[0] as { type: Struct }).type;
    const rows = this.entryRows.rows;
    const entries = makeData({
      type: entriesType,
      length: this.keys.length,
      nullCount: 0,
      children: [
        buildColumn(this.keyBuilder, this.keys, undefined, rows),
        buildColumn(this.valueBuilder, this.values, undefined, rows),
      ],
    });
    this.keys = [];
    this.values = [];
    return makeData({
      type: this.arrowType,
      length: this.length,
      nullCount: this.arrowNulls,
      nullBitmap: this.takeValidity(),
      valueOffsets: this.offsets,
      child: entries,
    });
  }
}
