// Turns any error into the CLI's output: one clear line naming what failed, plus a hint line.
import { LakestreamError } from '../common/errors.js';

/** Hints by error code: what the user can do next. */
const HINTS: Record<string, string> = {
  TABLE_NOT_FOUND: 'check the path; create the table with `lakestream table write <path> --input <file>`',
  TABLE_EXISTS: 'use --mode append or --mode overwrite to write to the existing table',
  VERSION_NOT_FOUND: 'see the available versions with `lakestream table history <path>`',
  UNSUPPORTED_FEATURE:
    'this table uses a Delta feature lakestream does not implement yet; read it with Spark or delta-rs',
  SCHEMA_MISMATCH: 'fix the input, or pass --merge-schema to add new columns to the table schema',
  INVALID_INPUT: 'fix the named line of the input file',
  INPUT_READ_FAILED: 'check the --input path',
  INVALID_DATA: 'fix the named record, or give a --schema that matches it',
  COMMIT_CONFLICT: 'another writer changed the table concurrently; run the command again',
  COMMIT_RETRIES_EXHAUSTED: 'the table is under heavy concurrent writes; run the command again',
  INVALID_ARGUMENT: 'see `lakestream --help`',
};

export interface ErrorReport {
  line: string;
  hint?: string;
}

export function reportError(error: unknown): ErrorReport {
  if (error instanceof LakestreamError) {
    const hint =
      HINTS[error.code] ?? (error.retryable ? 'the failure may be transient; run the command again' : undefined);
    return { line: `lakestream: ${oneLine(error.message)} [${error.code}]`, ...(hint ? { hint } : {}) };
  }
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    return {
      line: `lakestream: ${oneLine(error.message)}${code ? ` [${code}]` : ''}`,
      hint: 'this looks like a bug or an environment problem; rerun with LAKESTREAM_DEBUG=1 for the stack trace',
    };
  }
  return { line: `lakestream: ${oneLine(String(error))}` };
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
