// The Parquet codec of a Delta write: the write's own option, else the table property
// delta.parquet.compression.codec, else snappy — the default of Spark (spark.sql.parquet.compression.codec),
// delta-rs and kafka-delta-ingest. Snappy costs a third of zstd's encode time in parquet-wasm for files
// about 1.7× larger (bench/parquet-encode.ts); tables that prefer size set the property to zstd.
import { DeltaError } from './errors.js';
import type { ParquetCompression } from './file-names.js';

export const COMPRESSION_PROPERTY = 'delta.parquet.compression.codec';
export const DEFAULT_COMPRESSION: ParquetCompression = 'snappy';

/** Property values accepted (case-insensitive; 'none' is Spark's alias of 'uncompressed'). */
const BY_NAME: Readonly<Record<string, ParquetCompression>> = {
  zstd: 'zstd',
  snappy: 'snappy',
  uncompressed: 'uncompressed',
  none: 'uncompressed',
};

/**
 * The codec a table's properties ask for, or undefined when it sets none. A value lakestream cannot
 * write (gzip, lz4, brotli…) is INVALID_ARGUMENT naming the property, never silently replaced.
 */
export function compressionFromProperties(
  properties: Readonly<Record<string, string>>,
): ParquetCompression | undefined {
  const text = properties[COMPRESSION_PROPERTY];
  if (text === undefined) return undefined;
  const codec = BY_NAME[text.trim().toLowerCase()];
  if (codec === undefined) {
    throw new DeltaError(
      `table property ${COMPRESSION_PROPERTY}=${JSON.stringify(text)} is not a codec lakestream writes ` +
        `(expected zstd, snappy, uncompressed or none)`,
      { code: 'INVALID_ARGUMENT', context: { property: COMPRESSION_PROPERTY, value: text } },
    );
  }
  return codec;
}

/** The codec of a write: its explicit option, else the table property, else snappy. */
export function writeCompression(
  option: ParquetCompression | undefined,
  properties: Readonly<Record<string, string>>,
): ParquetCompression {
  return option ?? compressionFromProperties(properties) ?? DEFAULT_COMPRESSION;
}
