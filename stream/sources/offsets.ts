// Integer offsets as decimal strings (the Observable, memory and generator sources; Kafka later).

import { SourceError } from '../errors.js';

/** Parses a decimal offset written by an integer-offset source. */
export function parseOffset(text: string | undefined, what: string): number {
  const value = text === undefined ? Number.NaN : Number(text);
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new SourceError(
      'SOURCE_OFFSET_INVALID',
      `${what}: offset ${JSON.stringify(text)} is not a non-negative integer`,
      {
        context: { offset: text },
      },
    );
  }
  return value;
}
