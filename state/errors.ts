// Faults specific to the state/ implementations (codecs, LevelDB backend). Seam-level faults such as
// STATE_INCOMPATIBLE and CHECKPOINT_CORRUPT live in stream/errors.ts.

import { LakestreamError, type LakestreamErrorOptions } from '../common/errors.js';

/** Base of the state layer's own faults. */
export class StateError extends LakestreamError {
  constructor(message: string, options: LakestreamErrorOptions) {
    super(message, options);
  }
}

/**
 * A key or value cannot be encoded/decoded: STATE_KEY_INVALID (unsupported key part, malformed key
 * bytes), STATE_VALUE_SCHEMA_MISMATCH (value written with a schema version this codec cannot read),
 * STATE_VALUE_INVALID (undecodable value bytes).
 */
export class StateCodecError extends StateError {
  constructor(
    code: 'STATE_KEY_INVALID' | 'STATE_VALUE_SCHEMA_MISMATCH' | 'STATE_VALUE_INVALID',
    message: string,
    context: Record<string, unknown> = {},
    cause?: unknown,
  ) {
    super(message, {
      code,
      domain: code === 'STATE_KEY_INVALID' ? 'user' : 'internal',
      retryable: false,
      context,
      cause,
    });
  }
}

/**
 * The backing database failed: STATE_LOCKED (another process holds the LevelDB folder; not
 * retryable until it exits), STATE_IO (read/write error, retryable).
 */
export class StateBackendError extends StateError {
  constructor(code: 'STATE_LOCKED' | 'STATE_IO', message: string, context: Record<string, unknown>, cause?: unknown) {
    super(message, { code, domain: 'external', retryable: code === 'STATE_IO', context, cause });
  }
}

/** STATE_INVALID_ARGUMENT: a bad option or operator id passed to a state provider. */
export class StateArgumentError extends StateError {
  constructor(message: string, context: Record<string, unknown> = {}) {
    super(message, { code: 'STATE_INVALID_ARGUMENT', domain: 'user', retryable: false, context });
  }
}
