// Auto compaction: after a streaming commit, the partitions that have gathered many small files are
// compacted (OPTIMIZE, dataChange=false) in a commit of their own, so that a short trigger interval does
// not leave a table of thousands of tiny files. Databricks' `delta.autoOptimize.autoCompact` with its
// defaults (minNumFiles 50, maxFileSize 128 MiB). The batch's own commit is done and durable before it
// starts, so a compaction that fails or is interrupted loses nothing: its files are orphans for vacuum
// and the next commit tries again. No I/O here beyond the ObjectStore the transaction writes through.

import type { ObjectStore } from '../../storage/object-store.js';
import type { AddAction } from './actions.js';
import { DeltaError } from './errors.js';
import type { ParquetCompression } from './file-names.js';
import { candidatesByPartition, type OptimizeResult, optimize } from './optimize.js';
import type { DeltaSnapshot } from './snapshot.js';
import type { DeltaTransaction } from './transaction.js';

/** The table property that turns auto compaction on ('true' or 'auto') or off ('false'). */
export const AUTO_COMPACT_PROPERTY = 'delta.autoOptimize.autoCompact';

export interface AutoCompactOptions {
  /** Compact a partition once it has this many files smaller than maxFileSize. Default 50 (at least 2). */
  minFiles?: number;
  /** Files smaller than this are compacted, into files of about this size. Default 128 MiB. */
  maxFileSize?: number;
}

export const AUTO_COMPACT_DEFAULTS = Object.freeze({ minFiles: 50, maxFileSize: 128 * 1024 * 1024 });

export interface AutoCompactSettings {
  readonly minFiles: number;
  readonly maxFileSize: number;
}

/**
 * Whether and how a writer compacts the table after its commits: the writer's option when given
 * (`false` off, `true` or options on), else the table's delta.autoOptimize.autoCompact property
 * ('true' or 'auto' on), else off. Throws INVALID_ARGUMENT for a minFiles below 2 or a maxFileSize
 * that is not a positive integer, naming the option.
 */
export function autoCompactSettings(
  option: boolean | AutoCompactOptions | undefined,
  properties: Readonly<Record<string, string>>,
): AutoCompactSettings | undefined {
  if (option === false) return undefined;
  if (option === undefined) {
    const property = properties[AUTO_COMPACT_PROPERTY]?.trim().toLowerCase();
    if (property !== 'true' && property !== 'auto') return undefined;
  }
  const given = typeof option === 'object' ? option : {};
  const minFiles = given.minFiles ?? AUTO_COMPACT_DEFAULTS.minFiles;
  const maxFileSize = given.maxFileSize ?? AUTO_COMPACT_DEFAULTS.maxFileSize;
  if (!Number.isSafeInteger(minFiles) || minFiles < 2) {
    throw new DeltaError(`autoCompact.minFiles must be an integer of at least 2, got ${minFiles}`, {
      code: 'INVALID_ARGUMENT',
      context: { option: 'autoCompact.minFiles' },
    });
  }
  if (!Number.isSafeInteger(maxFileSize) || maxFileSize <= 0) {
    throw new DeltaError(`autoCompact.maxFileSize must be a positive number of bytes, got ${maxFileSize}`, {
      code: 'INVALID_ARGUMENT',
      context: { option: 'autoCompact.maxFileSize' },
    });
  }
  return { minFiles, maxFileSize };
}

/** Whether some partition of `files` has at least minFiles files smaller than maxFileSize. */
export function compactionDue(
  files: readonly AddAction[],
  partitionColumns: readonly string[],
  settings: AutoCompactSettings,
): boolean {
  for (const list of candidatesByPartition(files, partitionColumns, settings.maxFileSize).values()) {
    if (list.length >= settings.minFiles) return true;
  }
  return false;
}

/**
 * Compacts the partitions of `tx`'s snapshot that are due (compactionDue), in one OPTIMIZE commit
 * (operation parameter auto: true); undefined when none is. Faults are the commit's and the store's
 * errors (COMMIT_CONFLICT when a concurrent commit removed a file it compacts): the caller reports
 * them and carries on, since the data it compacts is committed already.
 */
export async function autoCompact(
  store: ObjectStore,
  tx: DeltaTransaction,
  settings: AutoCompactSettings,
  compression?: ParquetCompression,
): Promise<OptimizeResult | undefined> {
  const snapshot: DeltaSnapshot = tx.snapshot;
  if (!compactionDue(snapshot.files, snapshot.partitionColumns, settings)) return undefined;
  return optimize(store, tx, {
    targetFileSize: settings.maxFileSize,
    minFileSize: settings.maxFileSize,
    minFiles: settings.minFiles,
    ...(compression ? { compression } : {}),
    auto: true,
  });
}
