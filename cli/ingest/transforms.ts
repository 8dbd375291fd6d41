// The operators of an ingest pipeline beyond the runtime's own: the Kafka coordinates carried by every
// row, the config's transforms (select, rename, cast, derive) and the final projection that drops the
// coordinates and routes rows the Delta writer would refuse to the dead letters (so that one bad record
// never fails a batch for good).
//
// Every row carries the hidden columns kafka.topic, kafka.partition, kafka.offset, kafka.timestamp,
// kafka.key and kafka.value (the raw record value) from the source to the final projection: a dead
// letter at any stage names its source coordinates and raw value. Transforms may read them
// ('kafka.offset as source_offset'); they are never written unless renamed.

import { isWellFormed } from '../../common/strings.js';
import { formatDays, MS_PER_DAY, toDays, toEpochMicros, toUnscaledDecimal } from '../../sinks/parquet/values.js';
import type { DataType, PrimitiveType, StructField, StructType } from '../../sinks/schema.js';
import { decimalParts } from '../../sinks/schema.js';
import { type OperatorSpec, operatorBase, type StreamOperator } from '../../stream/operator.js';
import { rowMaker } from '../../stream/row-maker.js';
import { setRowOrigin } from '../../stream/row-origin.js';
import type { Row } from '../../stream/types.js';
import { KAFKA_PREFIX, type Transform } from './config.js';

/** A config mistake found when the pipeline is planned (a column that does not exist…): `path: message`. */
export class PlanIssue extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`${path}: ${message}`);
  }
}

export const KAFKA_COLUMNS = ['key', 'value', 'topic', 'partition', 'offset', 'timestamp'].map((c) => KAFKA_PREFIX + c);

const field = (name: string, type: DataType, nullable = true): StructField => ({ name, type, nullable, metadata: {} });

const isHidden = (name: string) => name.startsWith(KAFKA_PREFIX);

function visible(schema: StructType): StructField[] {
  return schema.fields.filter((f) => !isHidden(f.name));
}

function columnsOf(schema: StructType): string {
  return visible(schema)
    .map((f) => f.name)
    .join(', ');
}

function requireSchema(schema: StructType | undefined): StructType {
  if (!schema) throw new Error('ingest operators need a known input schema');
  return schema;
}

function findField(schema: StructType, name: string, path: string): StructField {
  const found = schema.fields.find((f) => f.name === name);
  if (!found) throw new PlanIssue(path, `column '${name}' is not in the input (columns: ${columnsOf(schema)})`);
  return found;
}

function typeText(type: DataType): string {
  return typeof type === 'string' ? type : type.type;
}

function preview(value: unknown): string {
  let text: string;
  if (typeof value === 'string') text = JSON.stringify(value);
  else if (value instanceof Date) text = value.toISOString();
  else if (typeof value === 'bigint') text = value.toString();
  else if (value instanceof Uint8Array) text = `${value.length} bytes`;
  else if (typeof value === 'object' && value !== null) text = 'an object';
  else text = String(value);
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}

/** Thrown by value conversions; becomes a dead letter's reason. */
class Refused extends Error {}

// ---------------------------------------------------------------------------------------------------
// kafkaRecord: the source row → { value, kafka.* }

/** The row kafkaRecord makes of a Kafka record (the parallel stage builds its rows with it too). */
export function kafkaRecordRow(
  key: unknown,
  value: unknown,
  topic: unknown,
  partition: unknown,
  offset: unknown,
  timestamp: unknown,
): Row {
  return {
    value,
    'kafka.key': key,
    'kafka.value': value,
    'kafka.topic': topic,
    'kafka.partition': partition,
    'kafka.offset': offset,
    'kafka.timestamp': timestamp,
  };
}

/** The Kafka record as { value, kafka.key, kafka.value, kafka.topic, kafka.partition, kafka.offset, kafka.timestamp }. */
export function kafkaRecord(): OperatorSpec {
  return {
    kind: 'kafkaRecord',
    plan(context): StreamOperator {
      const source = requireSchema(context.schema);
      const typeOf = (name: string): DataType => source.fields.find((f) => f.name === name)?.type ?? 'string';
      const schema: StructType = {
        type: 'struct',
        fields: [
          field('value', typeOf('value')),
          ...KAFKA_COLUMNS.map((c) => field(c, typeOf(c.slice(KAFKA_PREFIX.length)))),
        ],
      };
      return {
        ...operatorBase('kafkaRecord', context, 'kafkaRecord'),
        schema,
        process(groups) {
          for (const group of groups) {
            const rows = group.rows;
            for (let i = 0; i < rows.length; i++) {
              const r = rows[i]!;
              rows[i] = kafkaRecordRow(r.key, r.value, r.topic, r.partition, r.offset, r.timestamp);
            }
          }
          return groups;
        },
      };
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// select and rename: projections

/** Projects rows to `mapping` (output name → input name), keeping the hidden columns. */
function projection(
  kind: string,
  fingerprint: string,
  mapping: (schema: StructType) => { out: string; from: string }[],
): OperatorSpec {
  return {
    kind,
    plan(context): StreamOperator {
      const input = requireSchema(context.schema);
      const pairs = mapping(input);
      const byName = new Map(input.fields.map((f) => [f.name, f]));
      const names = new Set(pairs.map((p) => p.out));
      for (const f of input.fields)
        if (isHidden(f.name) && !names.has(f.name)) pairs.push({ out: f.name, from: f.name });
      const schema: StructType = {
        type: 'struct',
        fields: pairs.map(({ out, from }) => ({ ...byName.get(from)!, name: out })),
      };
      const watermark =
        context.watermark && pairs.find((p) => p.from === context.watermark!.column)
          ? { ...context.watermark, column: pairs.find((p) => p.from === context.watermark!.column)!.out }
          : undefined;
      const make = rowMaker(pairs.map((p) => p.out));
      const froms = pairs.map((p) => p.from);
      const n = pairs.length;
      const values: unknown[] = new Array(n);
      return {
        ...operatorBase(kind, context, fingerprint),
        schema,
        watermark,
        process(groups) {
          for (const group of groups) {
            const rows = group.rows;
            for (let i = 0; i < rows.length; i++) {
              const r = rows[i]!;
              for (let j = 0; j < n; j++) values[j] = r[froms[j]!] ?? null;
              rows[i] = make(values);
            }
          }
          return groups;
        },
      };
    },
  };
}

function checkNewName(name: string, path: string): void {
  if (isHidden(name)) throw new PlanIssue(path, `column names starting with '${KAFKA_PREFIX}' are reserved`);
}

function selectOp(columns: readonly string[], path: string): OperatorSpec {
  return projection('select', columns.join(','), (schema) => {
    const seen = new Set<string>();
    return columns.map((spec, i) => {
      const m = /^\s*(\S+)\s+as\s+(\S+)\s*$/i.exec(spec);
      const from = m ? m[1]! : spec.trim();
      const out = m ? m[2]! : spec.trim();
      const at = `${path}[${i}]`;
      findField(schema, from, at);
      if (isHidden(out)) {
        throw new PlanIssue(
          at,
          `'${from}' needs a new name to be written ('${from} as ${from.slice(KAFKA_PREFIX.length)}')`,
        );
      }
      if (seen.has(out)) throw new PlanIssue(at, `column '${out}' is selected twice`);
      seen.add(out);
      return { out, from };
    });
  });
}

function renameOp(renames: Readonly<Record<string, string>>, path: string): OperatorSpec {
  return projection('rename', JSON.stringify(renames), (schema) => {
    for (const [from, to] of Object.entries(renames)) {
      findField(schema, from, `${path}.${from}`);
      checkNewName(to, `${path}.${from}`);
    }
    const pairs: { out: string; from: string }[] = [];
    for (const f of schema.fields) {
      const to = renames[f.name];
      if (to !== undefined) pairs.push({ out: to, from: f.name });
      // A renamed coordinate is copied: dead letters further on still need it.
      if (to === undefined || isHidden(f.name)) pairs.push({ out: f.name, from: f.name });
    }
    const seen = new Set<string>();
    for (const { out, from } of pairs) {
      if (seen.has(out)) {
        const key = Object.keys(renames).find((k) => renames[k] === out) ?? from;
        throw new PlanIssue(`${path}.${key}`, `column '${out}' already exists`);
      }
      seen.add(out);
    }
    return pairs;
  });
}

// ---------------------------------------------------------------------------------------------------
// cast

const INT_RANGES: Readonly<Record<string, readonly [number, number]>> = {
  byte: [-128, 127],
  short: [-32768, 32767],
  integer: [-2147483648, 2147483647],
};
const FLOAT_MAX = 3.4028234663852886e38;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const TRUE_TEXT = new Set(['true', 't', 'yes', 'y', '1']);
const FALSE_TEXT = new Set(['false', 'f', 'no', 'n', '0']);

function refuse(value: unknown, type: string): never {
  throw new Refused(`${preview(value)} is not ${/^[aeiou]/i.test(type) ? 'an' : 'a'} ${type}`);
}

/** Epoch ms of a timestamp-like value: Date, number (ms), bigint (µs), ISO text with a zone, or a date. */
function epochMs(value: unknown, what: string): number {
  if (value instanceof Date) {
    const t = value.getTime();
    if (Number.isNaN(t)) refuse(value, what);
    return t;
  }
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) refuse(value, what);
    return value;
  }
  if (typeof value === 'bigint') return Number(value / 1000n) - (value % 1000n < 0n ? 1 : 0);
  if (typeof value === 'string') {
    try {
      if (value.length === 10) return toDays(value) * MS_PER_DAY;
      return Math.floor(Number(toEpochMicros(value)) / 1000);
    } catch {
      refuse(value, what);
    }
  }
  return refuse(value, what);
}

function castTo(type: PrimitiveType): (value: unknown) => unknown {
  switch (type) {
    case 'string':
      return (v) => {
        if (typeof v === 'string') return v;
        if (v instanceof Date) return v.toISOString();
        if (v instanceof Uint8Array) return Buffer.from(v).toString('utf8');
        if (typeof v === 'object') return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x));
        return String(v);
      };
    case 'long':
      return (v) => {
        if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
        let big: bigint | undefined;
        if (typeof v === 'bigint') big = v;
        else if (typeof v === 'string' && /^\s*[+-]?\d+\s*$/.test(v)) big = BigInt(v.trim());
        if (big === undefined || big < INT64_MIN || big > INT64_MAX) return refuse(v, 'long');
        return big >= -9_007_199_254_740_991n && big <= 9_007_199_254_740_991n ? Number(big) : big;
      };
    case 'integer':
    case 'short':
    case 'byte': {
      const [min, max] = INT_RANGES[type]!;
      return (v) => {
        const n =
          typeof v === 'number'
            ? v
            : typeof v === 'bigint'
              ? Number(v)
              : typeof v === 'string' && /^\s*[+-]?\d+\s*$/.test(v)
                ? Number(v)
                : Number.NaN;
        if (!Number.isInteger(n) || n < min || n > max) return refuse(v, type);
        return n;
      };
    }
    case 'double':
    case 'float':
      return (v) => {
        const n =
          typeof v === 'number'
            ? v
            : typeof v === 'bigint'
              ? Number(v)
              : typeof v === 'string' && /^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$/.test(v)
                ? Number(v)
                : Number.NaN;
        if (Number.isNaN(n) || (type === 'float' && Number.isFinite(n) && Math.abs(n) > FLOAT_MAX)) {
          return refuse(v, type);
        }
        return n;
      };
    case 'boolean':
      return (v) => {
        if (typeof v === 'boolean') return v;
        if (typeof v === 'number') return v !== 0;
        if (typeof v === 'string') {
          const t = v.trim().toLowerCase();
          if (TRUE_TEXT.has(t)) return true;
          if (FALSE_TEXT.has(t)) return false;
        }
        return refuse(v, 'boolean');
      };
    case 'date':
      return (v) => {
        if (typeof v === 'number') return refuse(v, "date (a 'YYYY-MM-DD' text or a timestamp)");
        return formatDays(Math.floor(epochMs(v, 'date') / MS_PER_DAY));
      };
    case 'timestamp':
      return (v) => {
        if (typeof v === 'string') {
          try {
            toEpochMicros(v);
            return v;
          } catch {
            return refuse(v, 'timestamp (ISO-8601 with a zone)');
          }
        }
        if (typeof v === 'bigint') return v;
        return new Date(epochMs(v, 'timestamp'));
      };
    case 'binary':
      return (v) => {
        if (v instanceof Uint8Array) return v;
        if (typeof v === 'string') return new Uint8Array(Buffer.from(v, 'utf8'));
        return refuse(v, 'binary');
      };
    default: {
      const { precision, scale } = decimalParts(type)!;
      return (v) => {
        const textValue = typeof v === 'bigint' ? v.toString() : typeof v === 'string' ? v.trim() : v;
        if (typeof textValue !== 'string' && typeof textValue !== 'number') return refuse(v, type);
        try {
          toUnscaledDecimal(textValue, precision, scale);
        } catch {
          return refuse(v, type);
        }
        return String(textValue);
      };
    }
  }
}

function castOp(casts: Readonly<Record<string, PrimitiveType>>, path: string): OperatorSpec {
  return {
    kind: 'cast',
    plan(context): StreamOperator {
      const input = requireSchema(context.schema);
      const entries = Object.entries(casts).map(([column, type]) => {
        const f = findField(input, column, `${path}.${column}`);
        if (typeof f.type !== 'string') {
          throw new PlanIssue(`${path}.${column}`, `column '${column}' is a ${typeText(f.type)} and cannot be cast`);
        }
        if (isHidden(column)) throw new PlanIssue(`${path}.${column}`, 'the Kafka coordinates cannot be cast');
        return { column, type, convert: castTo(type) };
      });
      const schema: StructType = {
        type: 'struct',
        fields: input.fields.map((f) => {
          const cast = entries.find((e) => e.column === f.name);
          return cast ? { ...f, type: cast.type } : f;
        }),
      };
      return {
        ...operatorBase('cast', context, JSON.stringify(casts)),
        schema,
        process(groups, ctx) {
          for (const group of groups) {
            const kept: Row[] = [];
            rows: for (const row of group.rows) {
              for (const { column, type, convert } of entries) {
                const value = row[column];
                if (value === null || value === undefined) continue;
                try {
                  row[column] = convert(value);
                } catch (error) {
                  if (!(error instanceof Refused)) throw error;
                  ctx.deadLetter({
                    partition: group.partition,
                    reason: `${path}: column '${column}': ${error.message} (cast to ${type})`,
                    row,
                  });
                  continue rows;
                }
              }
              kept.push(row);
            }
            group.rows = kept;
          }
          return groups;
        },
      };
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// derive

const TIME_TYPES = new Set(['timestamp', 'date', 'string', 'long']);

function deriveOp(t: Extract<Transform, { kind: 'derive' }>): OperatorSpec {
  return {
    kind: 'derive',
    plan(context): StreamOperator {
      const input = requireSchema(context.schema);
      checkNewName(t.name, `${t.path}.name`);
      const at = t.fn === 'concat' ? `${t.path}.columns` : `${t.path}.column`;
      const sources = t.columns.map((c, i) => findField(input, c, t.fn === 'concat' ? `${at}[${i}]` : at));
      let type: DataType;
      let compute: (row: Row) => unknown;
      const column = t.columns[0]!;
      switch (t.fn) {
        case 'date':
        case 'hour': {
          const source = sources[0]!;
          if (!TIME_TYPES.has(typeText(source.type))) {
            throw new PlanIssue(at, `${t.fn} needs a timestamp column, '${column}' is a ${typeText(source.type)}`);
          }
          const isDate = source.type === 'date';
          if (t.fn === 'date') {
            type = 'date';
            compute = (row) => {
              const v = row[column];
              if (v === null || v === undefined) return null;
              if (isDate && typeof v === 'string') return v;
              return formatDays(Math.floor(epochMs(v, 'timestamp') / MS_PER_DAY));
            };
          } else {
            type = 'integer';
            compute = (row) => {
              const v = row[column];
              if (v === null || v === undefined) return null;
              if (isDate) return 0;
              return new Date(epochMs(v, 'timestamp')).getUTCHours();
            };
          }
          break;
        }
        case 'lower':
        case 'upper': {
          const source = sources[0]!;
          if (source.type !== 'string') {
            throw new PlanIssue(at, `${t.fn} needs a string column, '${column}' is a ${typeText(source.type)}`);
          }
          type = 'string';
          const upper = t.fn === 'upper';
          compute = (row) => {
            const v = row[column];
            if (typeof v !== 'string') return v ?? null;
            return upper ? v.toUpperCase() : v.toLowerCase();
          };
          break;
        }
        case 'concat': {
          type = 'string';
          const columns = t.columns;
          const separator = t.separator;
          const toText = castTo('string');
          compute = (row) => {
            const parts: string[] = [];
            for (const c of columns) {
              const v = row[c];
              if (v !== null && v !== undefined) parts.push(toText(v) as string);
            }
            return parts.join(separator);
          };
          break;
        }
      }
      const existing = input.fields.findIndex((f) => f.name === t.name);
      const fields = [...input.fields];
      const added = field(t.name, type);
      if (existing >= 0) fields[existing] = added;
      else {
        const firstHidden = fields.findIndex((f) => isHidden(f.name));
        fields.splice(firstHidden < 0 ? fields.length : firstHidden, 0, added);
      }
      return {
        ...operatorBase('derive', context, `${t.name}=${t.fn}(${t.columns.join(',')})`),
        schema: { type: 'struct', fields },
        watermark: context.watermark?.column === t.name ? undefined : context.watermark,
        process(groups, ctx) {
          for (const group of groups) {
            const kept: Row[] = [];
            for (const row of group.rows) {
              try {
                row[t.name] = compute(row);
              } catch (error) {
                if (!(error instanceof Refused)) throw error;
                ctx.deadLetter({
                  partition: group.partition,
                  reason: `${t.path}: ${t.fn}(${t.columns.join(', ')}): ${error.message}`,
                  row,
                });
                continue;
              }
              kept.push(row);
            }
            group.rows = kept;
          }
          return groups;
        },
      };
    },
  };
}

/** The operators of the config's transforms, in order. */
export function transformOperators(transforms: readonly Transform[]): OperatorSpec[] {
  return transforms.map((t) => {
    switch (t.kind) {
      case 'select':
        return selectOp(t.columns, t.path);
      case 'rename':
        return renameOp(t.renames, t.path);
      case 'cast':
        return castOp(t.casts, t.path);
      default:
        return deriveOp(t);
    }
  });
}

// ---------------------------------------------------------------------------------------------------
// finalize: drop the coordinates, refuse what the writer would refuse

/** A check of one column's value against its type: undefined when fine, else the reason. */
function valueCheck(f: StructField): ((value: unknown) => string | undefined) | undefined {
  const type = f.type;
  const guarded = (fn: (v: unknown) => unknown) => (v: unknown) => {
    try {
      fn(v);
      return undefined;
    } catch (error) {
      return (error as Error).message;
    }
  };
  switch (type) {
    case 'string':
      return (v) =>
        typeof v !== 'string'
          ? `expected a string, got ${typeof v}`
          : isWellFormed(v)
            ? undefined
            : 'the text holds a lone UTF-16 surrogate';
    case 'timestamp':
      return guarded(toEpochMicros);
    case 'date':
      return guarded(toDays);
    case 'float':
      return (v) =>
        typeof v === 'number' && Number.isFinite(v) && Math.abs(v) > FLOAT_MAX
          ? `${v} is too large for a float`
          : undefined;
    default: {
      const decimal = typeof type === 'string' ? decimalParts(type) : undefined;
      if (decimal) return guarded((v) => toUnscaledDecimal(v, decimal.precision, decimal.scale));
      return undefined;
    }
  }
}

/**
 * The last operator: rows as the table's columns (the visible ones, in order); a row with a value the
 * Delta writer would refuse (a null in a non-nullable column, a timestamp finer than microseconds, a
 * decimal that needs rounding, a float overflow, a lone surrogate) becomes a dead letter. With `origin`
 * (scale-out), each row also gets its source coordinates (stream/row-origin.ts) for the sink's
 * per-partition offsets.
 */
export function finalize(options: { origin?: boolean } = {}): OperatorSpec {
  const withOrigin = options.origin === true;
  return {
    kind: 'finalize',
    plan(context): StreamOperator {
      const input = requireSchema(context.schema);
      const fields = visible(input);
      const names = fields.map((f) => f.name);
      const checks = fields.map((f) => ({ name: f.name, nullable: f.nullable, check: valueCheck(f) }));
      const n = names.length;
      const make = rowMaker(names);
      const values: unknown[] = new Array(n);
      return {
        ...operatorBase('finalize', context, names.join(',')),
        schema: { type: 'struct', fields },
        watermark: context.watermark && !isHidden(context.watermark.column) ? context.watermark : undefined,
        // Rows in columns hold only the visible columns (parseJson keeps the coordinates on rows), each
        // value one the batch took, and a ColumnBatch takes only what the writer takes (what the checks
        // below refuse, it refuses: its group then takes the row path). So columns pass as they are;
        // not with origin, which rows carry to the sink.
        takesColumns: !withOrigin,
        process(groups, ctx) {
          for (const group of groups) {
            const kept: Row[] = [];
            rows: for (const row of group.rows) {
              for (let j = 0; j < n; j++) {
                const c = checks[j]!;
                const v = row[c.name];
                if (v === null || v === undefined) {
                  if (!c.nullable) {
                    ctx.deadLetter({
                      partition: group.partition,
                      reason: `column '${c.name}' is null, but the schema declares it non-nullable`,
                      row,
                    });
                    continue rows;
                  }
                  values[j] = null;
                  continue;
                }
                const problem = c.check?.(v);
                if (problem !== undefined) {
                  ctx.deadLetter({
                    partition: group.partition,
                    reason: `column '${c.name}' cannot be written: ${problem}`,
                    row,
                  });
                  continue rows;
                }
                values[j] = v;
              }
              const o = make(values);
              if (withOrigin) {
                // The record's coordinates, for sinks that keep offsets per partition (scale-out).
                const offset = row['kafka.offset'];
                if (typeof offset === 'number') setRowOrigin(o, { partition: group.partition, offset });
              }
              kept.push(o);
            }
            group.rows = kept;
          }
          return groups;
        },
      };
    },
  };
}

/** Columns a dead letter reports, read from the row the operator rejected. */
export interface DeadLetterOrigin {
  topic: string | null;
  partition: number | null;
  offset: number | null;
  value: string | null;
  timestamp: Date | null;
}

/** The source coordinates and raw value of a rejected row at any stage of an ingest pipeline. */
export function deadLetterOrigin(row: Row): DeadLetterOrigin {
  const raw = row['kafka.value'] ?? row.value;
  const ts = row['kafka.timestamp'] ?? row.timestamp;
  const num = (v: unknown) => (typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : null);
  return {
    topic: (row['kafka.topic'] ?? row.topic ?? null) as string | null,
    partition: num(row['kafka.partition'] ?? row.partition),
    offset: num(row['kafka.offset'] ?? row.offset),
    value:
      typeof raw === 'string'
        ? raw
        : raw instanceof Uint8Array
          ? Buffer.from(raw).toString('utf8')
          : raw === null || raw === undefined
            ? null
            : String(raw),
    timestamp: ts instanceof Date ? ts : null,
  };
}
