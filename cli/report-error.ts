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
  CONFIG_INVALID:
    'fix the named keys; README "Run the ingestion daemon" describes every key (`lakestream ingest --print-config-schema` prints its JSON Schema)',
  CONFIG_UNREADABLE: 'check the --config path and its syntax (YAML for .yaml/.yml, JSON for .json)',
  SOURCE_UNAVAILABLE: 'check kafka.brokers, that the brokers are reachable from this host, and kafka.ssl / kafka.sasl',
  SOURCE_NOT_FOUND: 'create the topic, or fix kafka.topics / kafka.topicPattern',
  SOURCE_AUTH_FAILED: 'check kafka.sasl (mechanism, username, password) and kafka.ssl',
  SOURCE_DATA_LOST:
    'the records were deleted by retention before they were ingested; set kafka.failOnDataLoss: false to skip them',
  CHECKPOINT_LOCKED: 'another process runs this pipeline (same checkpoint); stop it, or wait until its lease expires',
  CHECKPOINT_CONF_CHANGED:
    'restore the previous dedup settings, or start from a new checkpoint folder (the table skips nothing it already has)',
  STATE_INCOMPATIBLE: 'restore the previous dedup settings, or start from a new checkpoint folder',
  TARGET_INCOMPATIBLE: 'write to a new table, or change format.schema / transforms to produce the existing columns',
  METRICS_LISTEN_FAILED: 'choose another metrics.port (0 picks a free one), or set metrics.enabled: false',
  DEAD_LETTERS_NOT_FOUND: 'create the dead-letter topic, or fix deadLetters.kafka.topic',
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
