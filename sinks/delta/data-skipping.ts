// File skipping for scans: partition pruning on add.partitionValues and min/max/nullCount pruning on
// add.stats (PROTOCOL.md "Per-file Statistics"). A file is skipped only when the bounds prove that no
// row can satisfy the filter; truncated string maxima, ms-truncated timestamps and JSON-rounded
// floats/decimals are widened or ignored so that skipping is always safe.
import type { DataType, StructType } from '../schema.js';
import { decimalParts } from '../schema.js';
import type { AddAction } from './actions.js';
import { type BoundPredicate, compareOp, evaluate, predicateColumns } from './predicate.js';
import {
  type DeltaValue,
  findByName,
  formatDays,
  parseDays,
  parsePartitionValue,
  parseTimestampMicros,
} from './values.js';

/** Spark and delta-rs truncate string statistics to 32 characters; a shorter max is exact. */
const STRING_PREFIX_LENGTH = 32;

/** add.stats parsed; absent parts are empty. */
export interface FileStats {
  numRecords: number | undefined;
  minValues: Record<string, unknown>;
  maxValues: Record<string, unknown>;
  nullCount: Record<string, unknown>;
  tightBounds: boolean;
}

const asRecord = (v: unknown): Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

/** Parses add.stats; undefined when absent or not a JSON object (the file is then never skipped). */
export function parseStats(stats: string | null | undefined): FileStats | undefined {
  if (typeof stats !== 'string' || stats === '') return undefined;
  let json: unknown;
  try {
    json = JSON.parse(stats);
  } catch {
    return undefined;
  }
  const o = asRecord(json);
  const numRecords = typeof o.numRecords === 'number' && Number.isSafeInteger(o.numRecords) ? o.numRecords : undefined;
  return {
    numRecords,
    minValues: asRecord(o.minValues),
    maxValues: asRecord(o.maxValues),
    nullCount: asRecord(o.nullCount),
    tightBounds: o.tightBounds !== false,
  };
}

/** A safe lower/upper bound for the values of one column in one file. */
interface Bounds {
  lower: DeltaValue | undefined;
  upper: DeltaValue | undefined;
  nullCount: number | undefined;
}

/** Relative widening of bounds that went through a JSON double (floats, decimals). */
function widen(n: number, direction: -1 | 1): number {
  return n + direction * (Math.abs(n) * 2 ** -20 + Number.MIN_VALUE);
}

function statBound(raw: unknown, type: DataType, side: 'lower' | 'upper'): DeltaValue | undefined {
  if (raw === null || raw === undefined || typeof type !== 'string') return undefined;
  try {
    switch (type) {
      case 'byte':
      case 'short':
      case 'integer':
        return typeof raw === 'number' && Number.isSafeInteger(raw) ? raw : undefined;
      case 'long':
        return typeof raw === 'number' && Number.isSafeInteger(raw) ? BigInt(raw) : undefined;
      case 'float':
      case 'double':
        return typeof raw === 'number' && Number.isFinite(raw) ? widen(raw, side === 'lower' ? -1 : 1) : undefined;
      case 'string':
        if (typeof raw !== 'string') return undefined;
        if (side === 'lower') return raw;
        return [...raw].length < STRING_PREFIX_LENGTH ? raw : undefined;
      case 'date':
        return typeof raw === 'string' ? formatDays(parseDays(raw)) : undefined;
      case 'timestamp':
      case 'timestamp_ntz': {
        if (typeof raw !== 'string') return undefined;
        const micros = parseTimestampMicros(raw);
        // Statistics keep milliseconds: the true maximum may be up to 999 µs later.
        return side === 'lower' ? micros : micros + 999n;
      }
      case 'boolean':
        return typeof raw === 'boolean' ? raw : undefined;
      default:
        if (decimalParts(type) && typeof raw === 'number' && Number.isFinite(raw)) {
          return String(widen(raw, side === 'lower' ? -1 : 1));
        }
        return undefined;
    }
  } catch {
    return undefined;
  }
}

/** Why a file may hold matching rows, judged from its partition values and statistics. */
export class FileSkipper {
  private readonly partitionColumns: Set<string>;
  private readonly columnsOf = new WeakMap<BoundPredicate, Set<string>>();

  constructor(
    private readonly schema: StructType,
    partitionColumns: readonly string[],
    private readonly predicate: BoundPredicate,
  ) {
    this.partitionColumns = new Set(
      partitionColumns.map((c) => findByName(schema.fields, c)?.name).filter((c): c is string => c !== undefined),
    );
  }

  /** False only when no row of `file` can satisfy the predicate. */
  mightMatch(file: AddAction): boolean {
    const partition = (column: string): DeltaValue => {
      const key = findByName(
        Object.keys(file.partitionValues).map((name) => ({ name })),
        column,
      )?.name;
      const field = findByName(this.schema.fields, column);
      if (!field) return null;
      try {
        return parsePartitionValue(key === undefined ? null : file.partitionValues[key], field.type);
      } catch {
        return null;
      }
    };
    const stats = parseStats(file.stats);
    if (stats?.numRecords === 0) return false;
    return this.visit(this.predicate, file, partition, stats);
  }

  private columns(p: BoundPredicate): Set<string> {
    let set = this.columnsOf.get(p);
    if (!set) {
      set = predicateColumns(p);
      this.columnsOf.set(p, set);
    }
    return set;
  }

  private visit(
    p: BoundPredicate,
    file: AddAction,
    partition: (column: string) => DeltaValue,
    stats: FileStats | undefined,
  ): boolean {
    if ([...this.columns(p)].every((c) => this.partitionColumns.has(c))) {
      // Partition columns are constant within a file: evaluate exactly.
      return evaluate(p, partition) === true;
    }
    switch (p.op) {
      case 'and':
        return p.predicates.every((q) => this.visit(q, file, partition, stats));
      case 'or':
        return p.predicates.some((q) => this.visit(q, file, partition, stats));
      case 'not':
        return true;
      default:
        return stats ? this.leaf(p, stats) : true;
    }
  }

  private bounds(column: string, type: DataType, stats: FileStats): Bounds {
    const nulls = stats.nullCount[column];
    return {
      lower: statBound(stats.minValues[column], type, 'lower'),
      upper: statBound(stats.maxValues[column], type, 'upper'),
      nullCount: stats.tightBounds && typeof nulls === 'number' && Number.isSafeInteger(nulls) ? nulls : undefined,
    };
  }

  private leaf(p: Exclude<BoundPredicate, { op: 'and' | 'or' | 'not' }>, stats: FileStats): boolean {
    const b = this.bounds(p.column, p.type, stats);
    const allNull = b.nullCount !== undefined && stats.numRecords !== undefined && b.nullCount >= stats.numRecords;
    if (p.op === 'isNull') return b.nullCount === undefined || b.nullCount > 0;
    if (p.op === 'isNotNull') return !allNull;
    if (allNull) return false;
    const inRange = (v: DeltaValue, lowerOp: '<' | '<=', upperOp: '<' | '<='): boolean => {
      if (v === null) return false;
      const aboveLower = b.lower === undefined || compareOp(lowerOp, b.lower, v, p.type) !== false;
      const belowUpper = b.upper === undefined || compareOp(upperOp, v, b.upper, p.type) !== false;
      return aboveLower && belowUpper;
    };
    switch (p.op) {
      case '=':
        return inRange(p.value, '<=', '<=');
      case 'in':
        return p.values.some((v) => inRange(v, '<=', '<='));
      case '<':
        return p.value !== null && (b.lower === undefined || compareOp('<', b.lower, p.value, p.type) !== false);
      case '<=':
        return p.value !== null && (b.lower === undefined || compareOp('<=', b.lower, p.value, p.type) !== false);
      case '>':
        return p.value !== null && (b.upper === undefined || compareOp('>', b.upper, p.value, p.type) !== false);
      case '>=':
        return p.value !== null && (b.upper === undefined || compareOp('>=', b.upper, p.value, p.type) !== false);
      case '!=':
        return p.value !== null;
    }
  }
}
