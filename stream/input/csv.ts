// Streaming RFC 4180 CSV reader with a header row: quoted fields with "" escapes and embedded
// delimiters/newlines, LF, CRLF or CR line ends, values as strings. Malformed input is INVALID_INPUT
// naming file and line (unterminated quote, stray quote, field count differing from the header).

import { InvalidInputError } from './errors.js';
import { readTextChunks } from './text-source.js';

export interface CsvOptions {
  /** Field separator, one character other than '"', CR or LF. Default ','. */
  delimiter?: string;
}

export const CSV_DEFAULTS: Readonly<Required<CsvOptions>> = Object.freeze({ delimiter: ',' });

/** One record as parsed: its fields and the line it starts on. */
export interface CsvRecord {
  /** 1-based physical line where the record starts (a quoted field may span several lines). */
  line: number;
  fields: string[];
}

/** A data row: header name → field text. */
export interface CsvRow {
  line: number;
  row: Record<string, string>;
}

export interface CsvFile {
  /** Column names from the header row, in order. A blank name becomes `_c<index>` as in Spark. */
  header: readonly string[];
  /** The data rows, read lazily; iterate once. */
  rows: AsyncIterable<CsvRow>;
  /** Releases the file when `rows` is not iterated to the end. */
  close(): Promise<void>;
}

const QUOTE = 0x22;
const CR = 0x0d;
const LF = 0x0a;

type State = 'field-start' | 'unquoted' | 'quoted' | 'quote-in-quoted';

/**
 * Incremental CSV tokenizer: push text chunks, get completed records. Lines consisting of nothing
 * at all are skipped (as Spark does); a line holding `""` is a record with one empty field.
 */
export class CsvParser {
  private readonly delimiter: number;
  private state: State = 'field-start';
  private field = '';
  private fields: string[] = [];
  private line = 1;
  private column = 0;
  private recordLine = 1;
  private quoteLine = 1;
  private recordHasContent = false;
  private afterCR = false;

  constructor(
    private readonly file: string,
    options: CsvOptions = CSV_DEFAULTS,
  ) {
    const delimiter = options.delimiter ?? CSV_DEFAULTS.delimiter;
    if (delimiter.length !== 1 || delimiter === '"' || delimiter === '\r' || delimiter === '\n') {
      throw new InvalidInputError(
        { file, line: 0 },
        `invalid CSV delimiter ${JSON.stringify(delimiter)}: use one character other than '"', CR or LF`,
      );
    }
    this.delimiter = delimiter.charCodeAt(0);
  }

  /** The physical line the parser has reached (for error messages outside the parser). */
  get currentLine(): number {
    return this.line;
  }

  /** Consumes a chunk; returns the records it completed. */
  push(chunk: string): CsvRecord[] {
    const out: CsvRecord[] = [];
    const n = chunk.length;
    let i = 0;
    while (i < n) {
      const c = chunk.charCodeAt(i);
      if (this.afterCR && this.state === 'field-start') {
        this.afterCR = false;
        if (c === LF) {
          i += 1;
          continue; // second half of CRLF, already counted
        }
      }
      switch (this.state) {
        case 'field-start':
          if (c === QUOTE) {
            this.state = 'quoted';
            this.quoteLine = this.line;
            this.recordHasContent = true;
            this.advance(c);
            i += 1;
            continue;
          }
          this.state = 'unquoted';
          continue; // re-read c as part of an unquoted field
        case 'unquoted': {
          let j = i;
          while (j < n) {
            const d = chunk.charCodeAt(j);
            if (d === this.delimiter || d === CR || d === LF || d === QUOTE) break;
            j += 1;
          }
          if (j > i) {
            this.field += chunk.slice(i, j);
            this.column += j - i;
            this.recordHasContent = true;
            i = j;
            continue;
          }
          if (c === QUOTE) {
            this.fail(
              this.line,
              this.column + 1,
              'quote inside an unquoted field (quote the whole field and double the quotes in it)',
            );
          }
          this.endField(c, out);
          i += 1;
          continue;
        }
        case 'quoted': {
          const close = chunk.indexOf('"', i);
          const end = close < 0 ? n : close;
          for (let k = i; k < end; k++) this.advance(chunk.charCodeAt(k));
          this.field += chunk.slice(i, end);
          i = end;
          if (close >= 0) {
            this.state = 'quote-in-quoted';
            this.advance(QUOTE);
            i += 1;
          }
          continue;
        }
        case 'quote-in-quoted':
          if (c === QUOTE) {
            this.field += '"';
            this.state = 'quoted';
            this.advance(c);
            i += 1;
            continue;
          }
          if (c !== this.delimiter && c !== CR && c !== LF) {
            this.fail(
              this.line,
              this.column + 1,
              `unexpected ${JSON.stringify(chunk[i])} after the closing quote of a field`,
            );
          }
          this.endField(c, out);
          i += 1;
          continue;
      }
    }
    return out;
  }

  /** Ends the input; returns the last record if the text did not end with a newline. */
  end(): CsvRecord[] {
    if (this.state === 'quoted') {
      this.fail(
        this.quoteLine,
        undefined,
        `unterminated quoted field (opened on line ${this.quoteLine}, record starting on line ${this.recordLine})`,
      );
    }
    const out: CsvRecord[] = [];
    if (this.state !== 'field-start' || this.fields.length > 0 || this.recordHasContent) {
      this.fields.push(this.field);
      this.finishRecord(out);
    }
    return out;
  }

  /** Handles a delimiter, CR or LF that ends the current field. */
  private endField(c: number, out: CsvRecord[]): void {
    this.fields.push(this.field);
    this.field = '';
    this.state = 'field-start';
    if (c === this.delimiter) {
      this.recordHasContent = true;
      this.column += 1;
      return;
    }
    if (this.recordHasContent || this.fields.length > 1) this.finishRecord(out);
    else this.fields = []; // a line with nothing on it
    this.newLine(c);
    this.recordLine = this.line;
  }

  private finishRecord(out: CsvRecord[]): void {
    out.push({ line: this.recordLine, fields: this.fields });
    this.fields = [];
    this.field = '';
    this.recordHasContent = false;
    this.state = 'field-start';
  }

  /** Tracks line/column for a character consumed inside a quoted field. */
  private advance(c: number): void {
    if (this.afterCR) {
      this.afterCR = false;
      if (c === LF) return;
    }
    if (c === CR || c === LF) this.newLine(c);
    else this.column += 1;
  }

  private newLine(c: number): void {
    this.line += 1;
    this.column = 0;
    this.afterCR = c === CR;
  }

  private fail(line: number, column: number | undefined, problem: string): never {
    throw new InvalidInputError(
      column === undefined ? { file: this.file, line } : { file: this.file, line, column },
      `invalid CSV: ${problem}`,
    );
  }
}

/** Reads every record of a CSV file lazily (the header is the first record). */
export async function* readCsvRecords(file: string, options: CsvOptions = CSV_DEFAULTS): AsyncGenerator<CsvRecord> {
  const parser = new CsvParser(file, options);
  for await (const chunk of readTextChunks(file, () => parser.currentLine)) yield* parser.push(chunk);
  yield* parser.end();
}

/** Column names from a header record: blank names become `_c<index>`; duplicates are INVALID_INPUT. */
export function headerNames(file: string, record: CsvRecord): string[] {
  const names = record.fields.map((name, index) => (name.trim() === '' ? `_c${index}` : name));
  const seen = new Map<string, number>();
  names.forEach((name, index) => {
    const first = seen.get(name);
    if (first !== undefined) {
      throw new InvalidInputError(
        { file, line: record.line },
        `invalid CSV header: column ${JSON.stringify(name)} appears twice (columns ${first + 1} and ${index + 1})`,
      );
    }
    seen.set(name, index);
  });
  return names;
}

/** Opens a CSV file: reads the header row, then streams data rows keyed by column name. */
export async function openCsv(file: string, options: CsvOptions = CSV_DEFAULTS): Promise<CsvFile> {
  const records = readCsvRecords(file, options);
  const first = await records.next();
  if (first.done) {
    throw new InvalidInputError({ file, line: 1 }, 'the CSV file is empty; expected a header row with column names');
  }
  const header = headerNames(file, first.value);
  async function* rows(): AsyncGenerator<CsvRow> {
    for await (const record of { [Symbol.asyncIterator]: () => records }) {
      if (record.fields.length !== header.length) {
        throw new InvalidInputError(
          { file, line: record.line },
          `invalid CSV: expected ${header.length} fields as in the header, found ${record.fields.length}`,
        );
      }
      const row: Record<string, string> = {};
      header.forEach((name, index) => {
        Object.defineProperty(row, name, {
          value: record.fields[index]!,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      });
      yield { line: record.line, row };
    }
  }
  return {
    header,
    rows: rows(),
    close: async () => {
      await records.return(undefined);
    },
  };
}
