// Row filters for scans: a small predicate language over top-level primitive columns (comparisons,
// IN, IS [NOT] NULL, AND/OR/NOT), its binding to a table schema, and SQL three-valued evaluation on rows.
import type { DataType, StructType } from '../schema.js';
import { DeltaError } from './errors.js';
import { compareValues, type DeltaValue, findByName, normalizeLiteral, type Row, ValueError } from './values.js';

export type ComparisonOp = '=' | '!=' | '<' | '<=' | '>' | '>=';

/**
 * A filter. Literals follow the reader's value model (values.ts) and are converted to the column's
 * type when bound: e.g. a number for a long column, a Date or ISO text for a timestamp column.
 * Comparisons with null are unknown (no row matches), as in SQL; NaN compares unequal to everything.
 */
export type Predicate =
  | { op: ComparisonOp; column: string; value: unknown }
  | { op: 'in'; column: string; values: readonly unknown[] }
  | { op: 'isNull' | 'isNotNull'; column: string }
  | { op: 'and' | 'or'; predicates: readonly Predicate[] }
  | { op: 'not'; predicate: Predicate };

export const eq = (column: string, value: unknown): Predicate => ({ op: '=', column, value });
export const ne = (column: string, value: unknown): Predicate => ({ op: '!=', column, value });
export const lt = (column: string, value: unknown): Predicate => ({ op: '<', column, value });
export const le = (column: string, value: unknown): Predicate => ({ op: '<=', column, value });
export const gt = (column: string, value: unknown): Predicate => ({ op: '>', column, value });
export const ge = (column: string, value: unknown): Predicate => ({ op: '>=', column, value });
export const isIn = (column: string, values: readonly unknown[]): Predicate => ({ op: 'in', column, values });
export const isNull = (column: string): Predicate => ({ op: 'isNull', column });
export const isNotNull = (column: string): Predicate => ({ op: 'isNotNull', column });
export const and = (...predicates: Predicate[]): Predicate => ({ op: 'and', predicates });
export const or = (...predicates: Predicate[]): Predicate => ({ op: 'or', predicates });
export const not = (predicate: Predicate): Predicate => ({ op: 'not', predicate });

/** A predicate bound to a schema: column names resolved, literals typed. */
export type BoundPredicate =
  | { op: ComparisonOp; column: string; type: DataType; value: DeltaValue }
  | { op: 'in'; column: string; type: DataType; values: DeltaValue[] }
  | { op: 'isNull' | 'isNotNull'; column: string; type: DataType }
  | { op: 'and' | 'or'; predicates: BoundPredicate[] }
  | { op: 'not'; predicate: BoundPredicate };

const COLLATION_KEY = '__COLLATIONS';

function invalid(message: string, context: Record<string, unknown> = {}): DeltaError {
  return new DeltaError(message, { code: 'INVALID_ARGUMENT', context });
}

function resolveColumn(schema: StructType, name: string): { column: string; type: DataType } {
  const field = findByName(schema.fields, name);
  if (!field) throw invalid(`filter column "${name}" is not in the table schema`, { column: name });
  if (typeof field.type !== 'string') {
    throw invalid(`filter column "${name}" has a nested type; filters apply to primitive columns`, { column: name });
  }
  const collations = field.metadata[COLLATION_KEY];
  const collated =
    typeof collations === 'object' &&
    collations !== null &&
    Object.values(collations).some((c) => String(c).toUpperCase() !== 'SPARK.UTF8_BINARY');
  if (collated) {
    throw new DeltaError(`filter column "${name}" has a collation; collated comparisons are not supported`, {
      code: 'UNSUPPORTED_FEATURE',
      context: { feature: 'collations', column: name },
    });
  }
  return { column: field.name, type: field.type };
}

function literal(value: unknown, type: DataType, column: string): DeltaValue {
  try {
    return normalizeLiteral(value, type);
  } catch (cause) {
    if (!(cause instanceof ValueError)) throw cause;
    throw invalid(`filter on "${column}": ${cause.message}`, { column });
  }
}

/** Resolves columns against `schema` and types the literals. Throws INVALID_ARGUMENT on a bad filter. */
export function bindPredicate(predicate: Predicate, schema: StructType): BoundPredicate {
  switch (predicate.op) {
    case 'and':
    case 'or':
      if (!Array.isArray(predicate.predicates)) throw invalid(`${predicate.op} needs an array of predicates`);
      return { op: predicate.op, predicates: predicate.predicates.map((p) => bindPredicate(p, schema)) };
    case 'not':
      return { op: 'not', predicate: bindPredicate(predicate.predicate, schema) };
    case 'isNull':
    case 'isNotNull':
      return { op: predicate.op, ...resolveColumn(schema, predicate.column) };
    case 'in': {
      const { column, type } = resolveColumn(schema, predicate.column);
      if (!Array.isArray(predicate.values)) throw invalid('in needs an array of values', { column });
      return { op: 'in', column, type, values: predicate.values.map((v) => literal(v, type, column)) };
    }
    case '=':
    case '!=':
    case '<':
    case '<=':
    case '>':
    case '>=': {
      const { column, type } = resolveColumn(schema, predicate.column);
      return { op: predicate.op, column, type, value: literal(predicate.value, type, column) };
    }
    default:
      throw invalid(`unknown filter operator ${JSON.stringify((predicate as { op: unknown }).op)}`);
  }
}

/** The columns a bound predicate reads. */
export function predicateColumns(predicate: BoundPredicate, into = new Set<string>()): Set<string> {
  switch (predicate.op) {
    case 'and':
    case 'or':
      for (const p of predicate.predicates) predicateColumns(p, into);
      break;
    case 'not':
      predicateColumns(predicate.predicate, into);
      break;
    default:
      into.add(predicate.column);
  }
  return into;
}

/** Tests one comparison; undefined means unknown (a null or incomparable operand). */
export function compareOp(op: ComparisonOp, left: DeltaValue, right: DeltaValue, type: DataType): boolean | undefined {
  const order = compareValues(left, right, type);
  if (order === undefined) return undefined;
  switch (op) {
    case '=':
      return order === 0;
    case '!=':
      return order !== 0;
    case '<':
      return order < 0;
    case '<=':
      return order <= 0;
    case '>':
      return order > 0;
    case '>=':
      return order >= 0;
  }
}

/**
 * Evaluates a bound predicate on one row with SQL's three-valued logic: true, false, or undefined
 * (unknown). `value(column)` returns the row's value of a column.
 */
export function evaluate(predicate: BoundPredicate, value: (column: string) => DeltaValue): boolean | undefined {
  switch (predicate.op) {
    case 'and': {
      let unknown = false;
      for (const p of predicate.predicates) {
        const r = evaluate(p, value);
        if (r === false) return false;
        if (r === undefined) unknown = true;
      }
      return unknown ? undefined : true;
    }
    case 'or': {
      let unknown = false;
      for (const p of predicate.predicates) {
        const r = evaluate(p, value);
        if (r === true) return true;
        if (r === undefined) unknown = true;
      }
      return unknown ? undefined : false;
    }
    case 'not': {
      const r = evaluate(predicate.predicate, value);
      return r === undefined ? undefined : !r;
    }
    case 'isNull':
      return value(predicate.column) === null;
    case 'isNotNull':
      return value(predicate.column) !== null;
    case 'in': {
      const v = value(predicate.column);
      if (v === null) return undefined;
      let unknown = false;
      for (const candidate of predicate.values) {
        const r = compareOp('=', v, candidate, predicate.type);
        if (r === true) return true;
        if (r === undefined) unknown = true;
      }
      return unknown ? undefined : false;
    }
    default:
      return compareOp(predicate.op, value(predicate.column), predicate.value, predicate.type);
  }
}

/** True when the row satisfies the predicate (unknown counts as not matching, as in SQL WHERE). */
export function matches(predicate: BoundPredicate, row: Row): boolean {
  return evaluate(predicate, (column) => row[column] ?? null) === true;
}
