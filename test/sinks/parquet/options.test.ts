// ParquetWriteOptions validation: defaults filled in once, frozen, and every bad value refused as
// INVALID_OPTION naming the option.
import { describe, expect, it } from 'vitest';
import {
  PARQUET_WRITE_DEFAULTS,
  ParquetEncodeError,
  type ParquetWriteOptions,
  resolveParquetWriteOptions,
} from '../../../sinks/parquet/index.js';

describe('resolveParquetWriteOptions', () => {
  it('fills in the defaults: snappy, zstd level 1, 1Mi-row groups, no field ids, 32 stats columns, auto dictionary', () => {
    const resolved = resolveParquetWriteOptions();
    expect(resolved).toEqual({
      compression: 'snappy',
      zstdLevel: 1,
      rowGroupSize: 1_048_576,
      fieldIds: false,
      statsColumns: 32,
      dictionary: 'auto',
    });
    expect(resolved).toEqual(PARQUET_WRITE_DEFAULTS);
    expect(Object.isFrozen(resolved)).toBe(true);
  });

  it('keeps given values', () => {
    const options: ParquetWriteOptions = {
      compression: 'snappy',
      rowGroupSize: 10,
      fieldIds: true,
      statsColumns: -1,
      dictionary: false,
    };
    expect(resolveParquetWriteOptions(options)).toEqual({ ...options, zstdLevel: 1 });
  });

  it.each<[ParquetWriteOptions, string]>([
    [{ compression: 'gzip' as never }, 'compression'],
    [{ zstdLevel: 3 }, 'zstdLevel'],
    [{ rowGroupSize: 0 }, 'rowGroupSize'],
    [{ rowGroupSize: 1.5 }, 'rowGroupSize'],
    [{ statsColumns: 2.5 }, 'statsColumns'],
    [{ dictionary: 'yes' as never }, 'dictionary'],
  ])('refuses %o', (options, option) => {
    let caught: unknown;
    try {
      resolveParquetWriteOptions(options);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ParquetEncodeError);
    expect(caught).toMatchObject({ code: 'INVALID_OPTION', domain: 'user', context: { option } });
  });
});
