// The CLI's input entry point: picks the reader by format (JSONL or CSV), infers the schema in a
// first streaming pass unless one is given, then streams rows converted to that schema.
// Used by `lakestream table write <path> --input <file> [--schema schema.json]`.

import { extname } from 'node:path';
import type { StructType } from '../../sinks/schema.js';
import { jsonRowConformer } from './conform-json.js';
import { checkCsvHeader, csvRowConverter } from './convert-csv.js';
import { type CsvOptions, openCsv } from './csv.js';
import { InputArgumentError } from './errors.js';
import { CSV_INFER_DEFAULTS, type InferOptions, JSON_INFER_DEFAULTS, SchemaInference } from './infer-schema.js';
import { readJsonl } from './jsonl.js';

export type InputFormat = 'jsonl' | 'csv';

export interface ReadInputOptions {
  /** Input format; default from the file extension (.jsonl/.ndjson/.json → jsonl, .csv/.tsv → csv). */
  format?: InputFormat;
  /** The table schema; when absent it is inferred from the whole file. */
  schema?: StructType;
  /** Inference switches; defaults per format (JSON_INFER_DEFAULTS, CSV_INFER_DEFAULTS). */
  infer?: InferOptions;
  /** CSV options (delimiter; default ',' or tab for .tsv). */
  csv?: CsvOptions;
}

export interface InputTable {
  file: string;
  format: InputFormat;
  schema: StructType;
  /** Whether `schema` was inferred from the data. */
  inferred: boolean;
  /** Rows seen while inferring (undefined when the schema was given). */
  inferredFromRows?: number;
  /** Streams the rows, converted to `schema`; each call reads the file again. */
  rows(): AsyncIterable<Record<string, unknown>>;
}

const EXTENSIONS: Readonly<Record<string, InputFormat>> = {
  '.jsonl': 'jsonl',
  '.ndjson': 'jsonl',
  '.json': 'jsonl',
  '.csv': 'csv',
  '.tsv': 'csv',
};

/** The format of `file`, from the option or the extension. Throws INVALID_ARGUMENT when unknown. */
export function inputFormat(file: string, format?: string): InputFormat {
  if (format !== undefined) {
    if (format === 'jsonl' || format === 'csv') return format;
    throw new InputArgumentError('--format', `unknown input format ${JSON.stringify(format)}; use jsonl or csv`, {
      file,
    });
  }
  const detected = EXTENSIONS[extname(file).toLowerCase()];
  if (detected === undefined) {
    throw new InputArgumentError(
      '--input',
      `cannot tell the format of ${file} from its extension; use .jsonl or .csv, or pass --format jsonl|csv`,
      { file },
    );
  }
  return detected;
}

/** Opens an input file: infers the schema (one full pass) unless given, and returns a row source. */
export async function openInput(file: string, options: ReadInputOptions = {}): Promise<InputTable> {
  const format = inputFormat(file, options.format);
  const csv: CsvOptions = {
    delimiter: options.csv?.delimiter ?? (extname(file).toLowerCase() === '.tsv' ? '\t' : ','),
  };
  const infer = { ...(format === 'csv' ? CSV_INFER_DEFAULTS : JSON_INFER_DEFAULTS), ...definedOnly(options.infer) };
  let schema = options.schema;
  let inferredFromRows: number | undefined;
  if (schema === undefined) {
    const inference = new SchemaInference(infer);
    if (format === 'jsonl') {
      for await (const record of readJsonl(file, infer)) inference.addRowType(record.type);
    } else {
      const table = await openCsv(file, csv);
      inference.addColumns(table.header);
      for await (const { row } of table.rows) inference.addCsvRow(row);
    }
    schema = inference.schema();
    inferredFromRows = inference.rowCount;
  }
  const finalSchema = schema;
  const rows =
    format === 'jsonl'
      ? async function* (): AsyncGenerator<Record<string, unknown>> {
          const conform = jsonRowConformer(finalSchema, file);
          for await (const record of readJsonl(file, infer)) yield conform(record.row, record.line);
        }
      : async function* (): AsyncGenerator<Record<string, unknown>> {
          const convert = csvRowConverter(finalSchema, file);
          const table = await openCsv(file, csv);
          try {
            checkCsvHeader(table.header, finalSchema, file);
            for await (const { row, line } of table.rows) yield convert(row, line);
          } finally {
            await table.close();
          }
        };
  return {
    file,
    format,
    schema: finalSchema,
    inferred: options.schema === undefined,
    ...(inferredFromRows === undefined ? {} : { inferredFromRows }),
    rows,
  };
}

function definedOnly(options: InferOptions | undefined): InferOptions {
  const out: InferOptions = {};
  if (options?.inferDates !== undefined) out.inferDates = options.inferDates;
  if (options?.inferTimestamps !== undefined) out.inferTimestamps = options.inferTimestamps;
  return out;
}
