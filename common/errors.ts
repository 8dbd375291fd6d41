// The error shape every lakestream layer uses for faults (expected outcomes are values, not errors).
// Layers subclass LakestreamError in their own errors.ts with stable codes.

/** Who has to act: the user (bad input/config), an external system (I/O, network), or us (a bug). */
export type ErrorDomain = 'user' | 'external' | 'internal';

export interface LakestreamErrorOptions {
  /** Stable machine-readable code, e.g. 'COMMIT_CONFLICT'. Never reworded once released. */
  code: string;
  /** Whether retrying the same operation may succeed. Retry logic reads only this flag. */
  retryable?: boolean;
  domain?: ErrorDomain;
  cause?: unknown;
  /** Ids and paths that locate the fault (table path, version, record offset, option key…). */
  context?: Record<string, unknown>;
}

/** Base class of lakestream's faults: a message for people, a `code` for programs. */
export class LakestreamError extends Error {
  readonly code: string;
  readonly retryable: boolean;
  readonly domain: ErrorDomain;
  readonly context: Readonly<Record<string, unknown>>;

  constructor(message: string, options: LakestreamErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = options.code;
    this.retryable = options.retryable ?? false;
    this.domain = options.domain ?? 'internal';
    this.context = Object.freeze({ ...options.context });
  }
}

/** True when `error` is a LakestreamError with the given code. */
export function hasCode(error: unknown, code: string): error is LakestreamError {
  return error instanceof LakestreamError && error.code === code;
}
