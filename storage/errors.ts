// Faults of the storage layer. "Key exists" on putIfAbsent is an outcome ('exists'), not an error.
import { LakestreamError, type LakestreamErrorOptions } from '../common/errors.js';

/** A storage fault; `retryable` tells transient I/O apart from permanent problems. */
export class StorageError extends LakestreamError {
  constructor(message: string, options: LakestreamErrorOptions) {
    super(message, { domain: 'external', ...options });
  }
}

/** `get`/`head` of a key that does not exist. */
export class ObjectNotFoundError extends StorageError {
  constructor(location: string, key: string, cause?: unknown) {
    super(`object not found: ${key} in ${location}`, {
      code: 'OBJECT_NOT_FOUND',
      retryable: false,
      cause,
      context: { location, key },
    });
  }
}
