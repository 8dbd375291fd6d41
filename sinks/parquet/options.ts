// ParquetWriteOptions: how encodeRows writes a file (codec, row groups, field ids, stats columns),
// its DEFAULTS and the one-time validation into a frozen ResolvedParquetWriteOptions.
import { ParquetEncodeError } from './errors.js';

export type ParquetCompression = 'zstd' | 'snappy' | 'uncompressed';

export interface ParquetWriteOptions {
  /** Page codec. Default 'snappy' (Spark's and delta-rs's; zstd writes ~1.7× smaller files at ~3× the encode time). */
  compression?: ParquetCompression;
  /**
   * ZSTD level. parquet-wasm 0.8 exposes no level setting and always writes arrow-rs's default
   * level 1, so only 1 is accepted; any other value is an INVALID_OPTION error, never ignored.
   */
  zstdLevel?: number;
  /** Maximum rows per row group (arrow-rs default 1,048,576). */
  rowGroupSize?: number;
  /**
   * Write Parquet field ids (Iceberg, Delta column mapping 'id'): a field's `parquet.field.id`
   * metadata becomes its Parquet `field_id`; `parquet.field.nested.ids` on a field gives the ids of
   * its array elements and map keys/values (keys like `name.element`, `name.key`, `name.value`).
   * Default false: ids in the metadata are not written.
   */
  fieldIds?: boolean;
  /**
   * How many leaf columns get ColumnStats, counted depth-first through structs (an array or map
   * column counts as one leaf), like Delta's `dataSkippingNumIndexedCols`. Default 32; a negative
   * value means every column, 0 none.
   */
  statsColumns?: number;
  /**
   * Parquet dictionary encoding: true for every column, false for none, 'auto' (default) for the
   * top-level primitive columns whose leading 1024 values have ≤ 25% distinct values (see
   * dictionary.ts). On high-cardinality data a dictionary costs time and makes the file larger
   * (bench/parquet-encode.ts: about +17% size with dictionaries everywhere).
   */
  dictionary?: boolean | 'auto';
}

export interface ResolvedParquetWriteOptions {
  readonly compression: ParquetCompression;
  readonly zstdLevel: number;
  readonly rowGroupSize: number;
  readonly fieldIds: boolean;
  readonly statsColumns: number;
  readonly dictionary: boolean | 'auto';
}

export const PARQUET_WRITE_DEFAULTS: ResolvedParquetWriteOptions = Object.freeze({
  compression: 'snappy',
  zstdLevel: 1,
  rowGroupSize: 1_048_576,
  fieldIds: false,
  statsColumns: 32,
  dictionary: 'auto',
});

const COMPRESSIONS: ReadonlySet<string> = new Set<ParquetCompression>(['zstd', 'snappy', 'uncompressed']);

function invalid(option: string, value: unknown, why: string): ParquetEncodeError {
  return new ParquetEncodeError(`invalid Parquet write option ${option}=${String(value)}: ${why}`, {
    code: 'INVALID_OPTION',
    context: { option, value },
  });
}

/** Validates `options` once and fills in the defaults. Throws ParquetEncodeError INVALID_OPTION. */
export function resolveParquetWriteOptions(options: ParquetWriteOptions = {}): ResolvedParquetWriteOptions {
  const d = PARQUET_WRITE_DEFAULTS;
  const compression = options.compression ?? d.compression;
  if (!COMPRESSIONS.has(compression)) {
    throw invalid('compression', compression, "expected 'zstd', 'snappy' or 'uncompressed'");
  }
  const zstdLevel = options.zstdLevel ?? d.zstdLevel;
  if (zstdLevel !== 1) {
    throw invalid('zstdLevel', zstdLevel, 'parquet-wasm 0.8 writes ZSTD at level 1 only');
  }
  const rowGroupSize = options.rowGroupSize ?? d.rowGroupSize;
  if (!Number.isSafeInteger(rowGroupSize) || rowGroupSize < 1) {
    throw invalid('rowGroupSize', rowGroupSize, 'expected a positive integer');
  }
  const statsColumns = options.statsColumns ?? d.statsColumns;
  if (!Number.isSafeInteger(statsColumns)) throw invalid('statsColumns', statsColumns, 'expected an integer');
  const dictionary = options.dictionary ?? d.dictionary;
  if (dictionary !== true && dictionary !== false && dictionary !== 'auto') {
    throw invalid('dictionary', dictionary, "expected true, false or 'auto'");
  }
  return Object.freeze({
    compression,
    zstdLevel,
    rowGroupSize,
    fieldIds: options.fieldIds ?? d.fieldIds,
    statsColumns,
    dictionary,
  });
}
