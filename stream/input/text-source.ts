// Streams a UTF-8 input file as text chunks: strict decoding (invalid UTF-8 is INVALID_INPUT), a
// leading byte-order mark removed, open/read failures as InputReadError.

import { createReadStream } from 'node:fs';
import { InputReadError, InvalidInputError } from './errors.js';

/** Chunk size of reads; small enough for low memory, large enough for throughput. */
const CHUNK_BYTES = 256 * 1024;

/**
 * Yields the file's text in chunks (a chunk may end inside a line, never inside a character).
 * `lineAt()` is called on a decoding error so the message can name the line reached so far.
 */
export async function* readTextChunks(file: string, lineAt: () => number): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
  const stream = createReadStream(file, { highWaterMark: CHUNK_BYTES });
  let bytes = 0;
  const decode = (chunk?: Buffer): string => {
    try {
      return chunk === undefined ? decoder.decode() : decoder.decode(chunk, { stream: true });
    } catch (error) {
      throw new InvalidInputError({ file, line: lineAt() }, `invalid UTF-8 near byte offset ${bytes}`, error);
    }
  };
  try {
    for await (const chunk of stream) {
      const buffer = chunk as Buffer;
      const text = decode(buffer);
      bytes += buffer.byteLength;
      if (text.length > 0) yield text;
    }
  } catch (error) {
    if (error instanceof InvalidInputError) throw error;
    throw new InputReadError(file, error);
  } finally {
    stream.destroy();
  }
  const rest = decode();
  if (rest.length > 0) yield rest;
}
