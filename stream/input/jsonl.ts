// Streams a JSON Lines file (one JSON object per line, UTF-8, LF or CRLF) as rows with their
// inferred types. Blank lines are skipped; the first malformed line stops reading with an
// INVALID_INPUT error naming the file and line.

import type { InferOptions, InferredStruct } from './infer-schema.js';
import { JSON_INFER_DEFAULTS } from './infer-schema.js';
import { type JsonObject, parseJsonLine } from './json-line.js';
import { readTextChunks } from './text-source.js';

export interface JsonlRecord {
  /** 1-based line number in the file. */
  line: number;
  row: JsonObject;
  /** The row's inferred type: feed it to SchemaInference.addRowType. */
  type: InferredStruct;
}

export type JsonlOptions = InferOptions;

function isBlank(line: string): boolean {
  return /^[ \t\r]*$/.test(line);
}

/** Reads `file` lazily; each yielded record holds one line's object. */
export async function* readJsonl(
  file: string,
  options: JsonlOptions = JSON_INFER_DEFAULTS,
): AsyncGenerator<JsonlRecord> {
  let lineNumber = 0;
  let pending = '';
  const parse = (text: string): JsonlRecord => {
    const content = text.endsWith('\r') ? text.slice(0, -1) : text;
    const { row, type } = parseJsonLine(content, { file, line: lineNumber }, options);
    return { line: lineNumber, row, type };
  };
  for await (const chunk of readTextChunks(file, () => lineNumber + 1)) {
    let start = 0;
    for (let newline = chunk.indexOf('\n'); newline >= 0; newline = chunk.indexOf('\n', start)) {
      const text = pending + chunk.slice(start, newline);
      pending = '';
      start = newline + 1;
      lineNumber += 1;
      if (!isBlank(text)) yield parse(text);
    }
    pending += chunk.slice(start);
  }
  if (pending.length > 0) {
    lineNumber += 1;
    if (!isBlank(pending)) yield parse(pending);
  }
}
