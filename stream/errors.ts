// Faults raised across the engine's seams (state store, checkpoint log) with stable codes.
// Implementations in state/ throw these so the engine can react by `code` without importing state/.

import { LakestreamError, type LakestreamErrorOptions } from '../common/errors.js';

/** Base of the stream layer's faults. */
export class StreamError extends LakestreamError {
  constructor(message: string, options: LakestreamErrorOptions) {
    super(message, options);
  }
}

/** One fingerprint part that differs between the stored state and the running query. */
export interface FingerprintChange {
  part: string;
  /** Stored value; undefined when the running query added the part. */
  stored: string | undefined;
  /** Running query's value; undefined when the part was removed. */
  current: string | undefined;
}

/** STATE_INCOMPATIBLE: the stored state was written by different operators or a different state schema. */
export class StateIncompatibleError extends StreamError {
  readonly changes: readonly FingerprintChange[];
  constructor(operatorId: string, location: string, changes: readonly FingerprintChange[]) {
    const described = changes
      .map((c) =>
        c.stored === undefined
          ? `'${c.part}' added (${JSON.stringify(c.current)})`
          : c.current === undefined
            ? `'${c.part}' removed (was ${JSON.stringify(c.stored)})`
            : `'${c.part}' changed from ${JSON.stringify(c.stored)} to ${JSON.stringify(c.current)}`,
      )
      .join('; ');
    super(
      `state of operator '${operatorId}' at ${location} is incompatible with this query: ${described}. ` +
        'Restore the previous code/schema or start from a new checkpoint.',
      { code: 'STATE_INCOMPATIBLE', domain: 'user', retryable: false, context: { operatorId, location, changes } },
    );
    this.changes = changes;
  }
}

/** STATE_VERSION_UNAVAILABLE: the requested version was never committed or was purged by retention. */
export class StateVersionUnavailableError extends StreamError {
  constructor(operatorId: string, version: number, detail: string, context: Record<string, unknown> = {}) {
    super(`state version ${version} of operator '${operatorId}' is not available: ${detail}`, {
      code: 'STATE_VERSION_UNAVAILABLE',
      domain: 'user',
      retryable: false,
      context: { operatorId, version, ...context },
    });
  }
}

/**
 * Misuse of a StateStore or provider (a bug in the caller): code STATE_STORE_CLOSED (used after
 * commit/abort/close), STATE_STORE_IN_USE (second open store of one operator), STATE_VERSION_ORDER
 * (commit version not above the base version).
 */
export class StateStoreUsageError extends StreamError {
  constructor(
    code: 'STATE_STORE_CLOSED' | 'STATE_STORE_IN_USE' | 'STATE_VERSION_ORDER',
    message: string,
    context = {},
  ) {
    super(message, { code, domain: 'internal', retryable: false, context });
  }
}

/** STATE_CORRUPT: stored state cannot be decoded (bad metadata, unknown layout version). */
export class StateCorruptError extends StreamError {
  constructor(message: string, context: Record<string, unknown>, cause?: unknown) {
    super(message, { code: 'STATE_CORRUPT', domain: 'external', retryable: false, context, cause });
  }
}

/** CHECKPOINT_CORRUPT: a checkpoint file that must be valid (not the tail) is unreadable, or the log has a gap. */
export class CheckpointCorruptError extends StreamError {
  constructor(message: string, context: Record<string, unknown>, cause?: unknown) {
    super(message, { code: 'CHECKPOINT_CORRUPT', domain: 'external', retryable: false, context, cause });
  }
}

/** CHECKPOINT_LOCKED: another runner holds (or took over) the checkpoint's lease. */
export class CheckpointLockedError extends StreamError {
  readonly owner: string;
  constructor(location: string, owner: string, detail: string, context: Record<string, unknown> = {}) {
    super(`checkpoint ${location} is locked by '${owner}': ${detail}`, {
      code: 'CHECKPOINT_LOCKED',
      domain: 'user',
      retryable: false,
      context: { location, owner, ...context },
    });
    this.owner = owner;
  }
}

/**
 * CHECKPOINT_CONFLICT: offsets/N already holds a different plan (a second writer, or a
 * non-deterministic planner); CHECKPOINT_CONF_CHANGED: a state-affecting conf changed between batches;
 * CHECKPOINT_OUT_OF_ORDER: planBatch/markCommitted called out of sequence (a caller bug);
 * CHECKPOINT_VERSION_UNSUPPORTED: a file written by a newer format version.
 */
export class CheckpointStateError extends StreamError {
  constructor(
    code:
      | 'CHECKPOINT_CONFLICT'
      | 'CHECKPOINT_CONF_CHANGED'
      | 'CHECKPOINT_OUT_OF_ORDER'
      | 'CHECKPOINT_VERSION_UNSUPPORTED',
    message: string,
    context: Record<string, unknown>,
  ) {
    const domain = code === 'CHECKPOINT_OUT_OF_ORDER' ? 'internal' : 'user';
    super(message, { code, domain, retryable: false, context });
  }
}

/** INVALID_ARGUMENT: a bad option or operator argument (names the option). */
export class StreamArgumentError extends StreamError {
  constructor(message: string, context: Record<string, unknown> = {}) {
    super(message, { code: 'INVALID_ARGUMENT', domain: 'user', retryable: false, context });
  }
}

/**
 * UNSUPPORTED_OPERATION: a pipeline Spark would also refuse (e.g. append mode with an aggregation
 * without a watermark), detected when the query is planned.
 */
export class UnsupportedOperationError extends StreamError {
  constructor(message: string, context: Record<string, unknown> = {}) {
    super(message, { code: 'UNSUPPORTED_OPERATION', domain: 'user', retryable: false, context });
  }
}

/** SOURCE_*: faults of a source (unreadable data, lost offsets…); `code` says which. */
export class SourceError extends StreamError {
  constructor(
    code: string,
    message: string,
    options: { retryable?: boolean; context?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, {
      code,
      domain: options.retryable ? 'external' : 'user',
      retryable: options.retryable ?? false,
      context: options.context ?? {},
      cause: options.cause,
    });
  }
}
