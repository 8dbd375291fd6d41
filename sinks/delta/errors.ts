// Faults of the Delta kernel. Expected commit outcomes (committed / already-committed / conflict after
// retries are exhausted is a fault, a lost race that is retried is not) are values, see transaction code.
import { LakestreamError, type LakestreamErrorOptions } from '../../common/errors.js';

/**
 * Stable codes of Delta faults:
 * - TABLE_NOT_FOUND: no _delta_log (or no version 0) at the location.
 * - TABLE_EXISTS: create of a table that already exists.
 * - VERSION_NOT_FOUND: time travel to a version/timestamp the log cannot reconstruct.
 * - UNSUPPORTED_FEATURE: the table uses a reader/writer feature lakestream does not implement
 *   (context.feature names it); never misread a table.
 * - LOG_CORRUPT: a commit/checkpoint file cannot be parsed or the log is not contiguous.
 * - SCHEMA_MISMATCH: data does not fit the table schema (context names column and both types).
 * - INVALID_DATA: a value cannot be encoded (context names the column and row).
 * - INVALID_ARGUMENT: a bad option or argument.
 * - COMMIT_CONFLICT: a concurrent commit makes this one invalid (context.conflict names the check).
 * - COMMIT_RETRIES_EXHAUSTED: lost the commit race more times than allowed (retryable).
 */
export type DeltaErrorCode =
  | 'TABLE_NOT_FOUND'
  | 'TABLE_EXISTS'
  | 'VERSION_NOT_FOUND'
  | 'UNSUPPORTED_FEATURE'
  | 'LOG_CORRUPT'
  | 'SCHEMA_MISMATCH'
  | 'INVALID_DATA'
  | 'INVALID_ARGUMENT'
  | 'COMMIT_CONFLICT'
  | 'COMMIT_RETRIES_EXHAUSTED';

const USER_CODES = new Set<DeltaErrorCode>([
  'TABLE_NOT_FOUND',
  'TABLE_EXISTS',
  'VERSION_NOT_FOUND',
  'UNSUPPORTED_FEATURE',
  'SCHEMA_MISMATCH',
  'INVALID_DATA',
  'INVALID_ARGUMENT',
]);

export interface DeltaErrorOptions extends Omit<LakestreamErrorOptions, 'code'> {
  code: DeltaErrorCode;
}

export class DeltaError extends LakestreamError {
  declare readonly code: DeltaErrorCode;
  constructor(message: string, options: DeltaErrorOptions) {
    super(message, { domain: USER_CODES.has(options.code) ? 'user' : 'external', ...options });
  }
}
