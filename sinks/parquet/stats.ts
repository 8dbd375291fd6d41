// Per-leaf column statistics (null count, min, max) gathered by the column builders in the same pass
// that builds the Arrow buffers, and the plan of which leaves get them (the first N, Delta-style).
import type { DataType } from '../schema.js';
import { formatDays, formatDecimal } from './values.js';

/**
 * Statistics of one leaf column of an encoded file.
 *
 * Leaves are the non-struct fields reached through structs only; an array or map column is one leaf
 * (its elements, keys and values get no statistics). `nullCount` counts rows where the leaf is null,
 * including rows where an enclosing struct is null (as Spark does). `min`/`max` are present only for
 * orderable types when at least one non-null value was written:
 * - byte, short, integer, float, double: number. NaN is never a bound: it is excluded from min/max
 *   (a column of only NaN and nulls has none), as delta-kernel-rs and arrow-rs do.
 * - long: bigint. timestamp: bigint microseconds since the epoch (UTC).
 * - string: the full value, ordered by UTF-8 bytes (= code points); truncation is the table
 *   writer's job. date: 'YYYY-MM-DD'. decimal(p,s): exact text with s fraction digits, e.g. '12.30'.
 * - boolean, binary, array, map: null count only.
 */
export interface ColumnStats {
  /** Field names from the top-level column down to the leaf, e.g. ['address', 'city']. */
  path: readonly string[];
  type: DataType;
  nullCount: number;
  min?: unknown;
  max?: unknown;
}

/** How a leaf's min/max are compared and reported. */
export type StatsKind = 'number' | 'long' | 'timestamp' | 'date' | 'decimal' | 'string' | 'none';

/**
 * Orders strings as their UTF-8 bytes compare (i.e. by code point), which differs from JS's UTF-16
 * `<` only when both differ at units ≥ U+D800 (a surrogate against U+E000–U+FFFF).
 */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x !== y) {
      if (x >= 0xd800 && y >= 0xd800) {
        // Surrogates (supplementary code points) sort above U+E000–U+FFFF.
        x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
        y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
      }
      return x - y;
    }
  }
  return a.length - b.length;
}

/** Running statistics of one leaf; builders add their null count and the range they saw. */
export class LeafStats {
  nullCount = 0;
  private min: number | bigint | string | undefined;
  private max: number | bigint | string | undefined;

  constructor(
    readonly path: readonly string[],
    readonly type: DataType,
    readonly kind: StatsKind,
    /** Decimal scale (kind 'decimal'). */
    readonly scale = 0,
  ) {}

  /** Merges a range of non-null, non-NaN values (in the kind's native form: days, µs, unscaled). */
  offer(min: number | bigint | string, max: number | bigint | string): void {
    if (this.kind === 'string') {
      if (this.min === undefined || compareUtf8(min as string, this.min as string) < 0) this.min = min;
      if (this.max === undefined || compareUtf8(max as string, this.max as string) > 0) this.max = max;
      return;
    }
    if (this.min === undefined || min < this.min) this.min = min;
    if (this.max === undefined || max > this.max) this.max = max;
  }

  toColumnStats(): ColumnStats {
    const stats: ColumnStats = { path: this.path, type: this.type, nullCount: this.nullCount };
    if (this.min !== undefined && this.max !== undefined && this.kind !== 'none') {
      stats.min = this.report(this.min);
      stats.max = this.report(this.max);
    }
    return stats;
  }

  private report(value: number | bigint | string): unknown {
    switch (this.kind) {
      case 'long':
      case 'timestamp':
        return BigInt(value);
      case 'date':
        return formatDays(value as number);
      case 'decimal':
        return formatDecimal(value as number | bigint, this.scale);
      default:
        return value;
    }
  }
}

/** Hands out LeafStats to the first `limit` leaves (all when negative) in depth-first schema order. */
export class StatsPlan {
  private readonly leaves: LeafStats[] = [];
  private seen = 0;

  constructor(private readonly limit: number) {}

  /** Called once per leaf in schema order; undefined when the leaf is past the limit. */
  leaf(path: readonly string[], type: DataType, kind: StatsKind, scale = 0): LeafStats | undefined {
    const index = this.seen++;
    if (this.limit >= 0 && index >= this.limit) return undefined;
    const stats = new LeafStats(path, type, kind, scale);
    this.leaves.push(stats);
    return stats;
  }

  results(): ColumnStats[] {
    return this.leaves.map((leaf) => leaf.toColumnStats());
  }
}
