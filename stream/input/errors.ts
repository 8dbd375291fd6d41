// Faults of the CLI's input readers (JSONL, CSV): bad content (INVALID_INPUT) and unreadable files
// (INPUT_READ_FAILED). Messages start with "<file>:<line>" so editors can jump to the spot.

import { LakestreamError } from '../../common/errors.js';

/** Where in an input file a problem is: 1-based line, optional 1-based column and field name. */
export interface InputPosition {
  file: string;
  line: number;
  column?: number;
  field?: string;
}

function where(position: InputPosition): string {
  const column = position.column === undefined ? '' : `:${position.column}`;
  const field = position.field === undefined ? '' : ` (field ${JSON.stringify(position.field)})`;
  return `${position.file}:${position.line}${column}${field}`;
}

/** The input file's content is malformed or does not fit the schema; the user must fix the named line. */
export class InvalidInputError extends LakestreamError {
  constructor(position: InputPosition, problem: string, cause?: unknown) {
    super(`${where(position)}: ${problem}`, {
      code: 'INVALID_INPUT',
      retryable: false,
      domain: 'user',
      cause,
      context: { ...position },
    });
  }
}

/** The input file cannot be opened or read (missing, a folder, no permission, I/O error). */
export class InputReadError extends LakestreamError {
  constructor(file: string, cause: unknown) {
    const errno = (cause as NodeJS.ErrnoException | undefined)?.code;
    const reason =
      errno === 'ENOENT'
        ? 'no such file'
        : errno === 'EISDIR'
          ? 'is a folder, not a file'
          : errno === 'EACCES' || errno === 'EPERM'
            ? 'permission denied'
            : cause instanceof Error
              ? cause.message
              : String(cause);
    super(`cannot read input file ${file}: ${reason}`, {
      code: 'INPUT_READ_FAILED',
      retryable: errno === 'EIO' || errno === 'EAGAIN' || errno === 'EMFILE' || errno === 'ENFILE',
      domain: errno === 'EIO' ? 'external' : 'user',
      cause,
      context: { file, errno },
    });
  }
}

/** A CLI option about the input is wrong (unknown format, bad delimiter); names the option. */
export class InputArgumentError extends LakestreamError {
  constructor(option: string, problem: string, context: Record<string, unknown> = {}) {
    super(`${option}: ${problem}`, {
      code: 'INVALID_ARGUMENT',
      retryable: false,
      domain: 'user',
      context: { option, ...context },
    });
  }
}
