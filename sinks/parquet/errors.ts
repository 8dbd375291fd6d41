// Faults of the Parquet encoder: a row value that cannot be encoded, a schema type it cannot write,
// or a bad write option. All are the caller's to fix (domain 'user') and never retryable.
import { LakestreamError, type LakestreamErrorOptions } from '../../common/errors.js';

/**
 * Stable codes of Parquet encoding faults:
 * - INVALID_DATA: a row value does not fit its column (wrong JS type, out of range, null in a
 *   non-nullable field, decimal that needs rounding). `context` has `column` (dotted path, with
 *   `element`/`key`/`value` for array and map members), `row` (index in the input rows) and, for a
 *   wrong type, `jsType`.
 * - UNSUPPORTED_TYPE: the schema has a type the encoder refuses to write (timestamp_ntz, an empty
 *   struct, an unknown name). `context.column` names the field and `context.type` the type.
 * - INVALID_SCHEMA: the schema itself is malformed (duplicate field names ignoring case, a field id
 *   that is not an integer, a decimal precision outside 1..38); `context.column` names the field.
 * - INVALID_OPTION: a ParquetWriteOptions value is out of range; `context.option` names it.
 * - BATCH_TOO_LARGE: one call holds more data than one Arrow batch can address (2 GiB of string or
 *   binary bytes in one column); split the rows into several files.
 */
export type ParquetEncodeErrorCode =
  | 'INVALID_DATA'
  | 'UNSUPPORTED_TYPE'
  | 'INVALID_SCHEMA'
  | 'INVALID_OPTION'
  | 'BATCH_TOO_LARGE';

export interface ParquetEncodeErrorOptions extends Omit<LakestreamErrorOptions, 'code' | 'domain' | 'retryable'> {
  code: ParquetEncodeErrorCode;
}

/** A fault while turning rows into a Parquet file. Nothing was written when it is thrown. */
export class ParquetEncodeError extends LakestreamError {
  declare readonly code: ParquetEncodeErrorCode;
  constructor(message: string, options: ParquetEncodeErrorOptions) {
    super(message, { ...options, domain: 'user', retryable: false });
  }
}

/** How a JS value is named in error messages: 'null', 'undefined', 'array', 'Date', 'number'… */
export function describeJsType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'object') {
    const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
    return typeof name === 'string' && name !== '' && name !== 'Object' ? name : 'object';
  }
  return typeof value;
}

/**
 * Internal signal from the value converters (values.ts) that one value is refused, with the reason.
 * Column builders catch it and throw a ParquetEncodeError naming the column and row; it never
 * leaves sinks/parquet.
 */
export class RejectedValue extends Error {
  constructor(
    readonly reason: string,
    readonly jsType?: string,
  ) {
    super(reason);
    this.name = 'RejectedValue';
  }

  /** The value has the wrong JS type for the column type. */
  static wrongType(expected: string, value: unknown): RejectedValue {
    const jsType = describeJsType(value);
    return new RejectedValue(`expected a ${expected} value, got ${jsType}`, jsType);
  }
}

/** parquet-wasm failed on data the encoder had already validated: a lakestream or parquet-wasm bug. */
export class ParquetWriterError extends LakestreamError {
  constructor(message: string, cause: unknown, context: Record<string, unknown> = {}) {
    super(message, { code: 'WRITER_FAILED', domain: 'internal', retryable: false, cause, context });
  }
}

/**
 * The encode worker thread running a file's Parquet write ended (crash, out of memory, terminated)
 * before it answered. Code WORKER_EXITED; retryable: the pool replaces the worker, and encoding the
 * same rows again is expected to succeed. `cause` is the worker's error when it reported one.
 */
export class ParquetWorkerError extends LakestreamError {
  constructor(message: string, cause: unknown, context: Record<string, unknown> = {}) {
    super(message, { code: 'WORKER_EXITED', domain: 'internal', retryable: true, cause, context });
  }
}
