// OPTIMIZE (bin-packing compaction): per partition, small files are packed into bins of about the
// target size, each bin is rewritten as new files, and one commit removes the old files and adds the new
// ones with dataChange=false (so streaming readers skip it and blind appends never conflict with it).
import type { ObjectStore } from '../../storage/object-store.js';
import type { AddAction } from './actions.js';
import type { CommitOutcome } from './commit.js';
import { DeltaError } from './errors.js';
import type { ParquetCompression } from './file-names.js';
import { compilePartitionPredicate } from './partition-values.js';
import type { Predicate } from './predicate.js';
import { scanRows } from './scan.js';
import type { DeltaSnapshot } from './snapshot.js';
import type { DeltaTransaction } from './transaction.js';

export interface OptimizeOptions {
  /** Size of the compacted files in bytes. Default delta.targetFileSize, else 128 MiB. */
  targetFileSize?: number;
  /** Files at least this large are left alone. Default: targetFileSize. */
  minFileSize?: number;
  /** Only compact partitions matching this predicate on partition columns. */
  partitionFilter?: Predicate;
  /** Only compact partitions with at least this many files smaller than minFileSize. Default 2. */
  minFiles?: number;
  compression?: ParquetCompression;
  /** Recorded in the commit's operation parameters: an automatic compaction after a write (auto-compact.ts). */
  auto?: boolean;
}

export interface OptimizeResult {
  /** The commit, or undefined when there was nothing to compact. */
  outcome: CommitOutcome | undefined;
  filesRemoved: number;
  filesAdded: number;
  partitionsOptimized: number;
  bytesRemoved: number;
  bytesAdded: number;
}

export const OPTIMIZE_DEFAULTS = Object.freeze({ targetFileSize: 128 * 1024 * 1024 });

function numRecords(add: AddAction): number | undefined {
  if (!add.stats) return undefined;
  const m = /"numRecords":(\d+)/.exec(add.stats);
  return m ? Number(m[1]) : undefined;
}

/** The files smaller than minFileSize (compaction candidates), grouped by their partition values. */
export function candidatesByPartition(
  files: readonly AddAction[],
  partitionColumns: readonly string[],
  minFileSize: number,
): Map<string, AddAction[]> {
  const byPartition = new Map<string, AddAction[]>();
  for (const file of files) {
    if (file.size >= minFileSize) continue;
    const key = JSON.stringify(partitionColumns.map((c) => file.partitionValues[c] ?? null));
    const list = byPartition.get(key);
    if (list) list.push(file);
    else byPartition.set(key, [file]);
  }
  return byPartition;
}

/**
 * Bin-packs the files of each partition: candidates (smaller than minFileSize) sorted by size are
 * put into consecutive bins of at most `target` bytes; bins of one file are dropped (nothing to gain),
 * and so are partitions with fewer than `minFiles` candidates.
 */
export function planBins(
  files: readonly AddAction[],
  partitionColumns: readonly string[],
  target: number,
  minFileSize: number,
  minFiles = 2,
): AddAction[][] {
  const bins: AddAction[][] = [];
  for (const list of candidatesByPartition(files, partitionColumns, minFileSize).values()) {
    if (list.length < minFiles) continue;
    list.sort((a, b) => a.size - b.size);
    let bin: AddAction[] = [];
    let size = 0;
    for (const file of list) {
      if (bin.length > 0 && size + file.size > target) {
        bins.push(bin);
        bin = [];
        size = 0;
      }
      bin.push(file);
      size += file.size;
    }
    bins.push(bin);
  }
  return bins.filter((b) => b.length > 1);
}

/** A view of `snapshot` whose live files are `files` (to read one bin with the scan code). */
function withFiles(snapshot: DeltaSnapshot, files: readonly AddAction[]): DeltaSnapshot {
  return Object.create(snapshot, { files: { value: files } }) as DeltaSnapshot;
}

/**
 * Compacts the table read by `tx` and commits (operation OPTIMIZE, SnapshotIsolation). A concurrent
 * commit that removed a compacted file makes it fail with COMMIT_CONFLICT (concurrent-delete-read);
 * concurrent appends never conflict.
 */
export async function optimize(
  store: ObjectStore,
  tx: DeltaTransaction,
  options: OptimizeOptions = {},
): Promise<OptimizeResult> {
  const snapshot = tx.snapshot;
  const configured = Number(snapshot.properties['delta.targetFileSize']);
  const target =
    options.targetFileSize ??
    (Number.isFinite(configured) && configured > 0 ? configured : OPTIMIZE_DEFAULTS.targetFileSize);
  const minFileSize = options.minFileSize ?? target;
  const minFiles = options.minFiles ?? 2;
  if (!(target > 0) || !(minFileSize > 0)) {
    throw new DeltaError('targetFileSize and minFileSize must be positive', { code: 'INVALID_ARGUMENT' });
  }
  if (!Number.isSafeInteger(minFiles) || minFiles < 2) {
    throw new DeltaError(`minFiles must be an integer of at least 2, got ${minFiles}`, { code: 'INVALID_ARGUMENT' });
  }
  let files = snapshot.files;
  let filterSql: string[] = [];
  if (options.partitionFilter) {
    const predicate = compilePartitionPredicate(snapshot.schema, snapshot.partitionColumns, options.partitionFilter);
    files = files.filter((f) => predicate.matches(f.partitionValues));
    filterSql = [predicate.sql];
  }
  const bins = planBins(files, snapshot.partitionColumns, target, minFileSize, minFiles);
  const result: OptimizeResult = {
    outcome: undefined,
    filesRemoved: 0,
    filesAdded: 0,
    partitionsOptimized: new Set(bins.map((b) => JSON.stringify((b[0] as AddAction).partitionValues))).size,
    bytesRemoved: 0,
    bytesAdded: 0,
  };
  if (bins.length === 0) return result;
  for (const bin of bins) {
    const rows = await scanRows(store, withFiles(snapshot, bin));
    const records = bin.map(numRecords);
    const knownRecords = records.every((n) => n !== undefined)
      ? records.reduce<number>((a, n) => a + (n as number), 0)
      : 0;
    const inputBytes = bin.reduce((n, f) => n + f.size, 0);
    const added = await tx.writeFiles(rows as Record<string, unknown>[], {
      targetFileSize: target,
      dataChange: false,
      ...(options.compression ? { compression: options.compression } : {}),
      ...(knownRecords > 0 ? { bytesPerRowHint: inputBytes / knownRecords } : {}),
    });
    tx.readFiles(bin);
    tx.removeFiles(bin, { dataChange: false });
    result.filesRemoved += bin.length;
    result.bytesRemoved += inputBytes;
    result.filesAdded += added.length;
    result.bytesAdded += added.reduce((n, a) => n + a.size, 0);
  }
  result.outcome = await tx.commit({
    name: 'OPTIMIZE',
    parameters: { predicate: JSON.stringify(filterSql), zOrderBy: '[]', auto: options.auto ?? false },
    metrics: {
      numRemovedFiles: result.filesRemoved,
      numAddedFiles: result.filesAdded,
      numRemovedBytes: result.bytesRemoved,
      numAddedBytes: result.bytesAdded,
      numPartitionsOptimized: result.partitionsOptimized,
    },
    isolationLevel: 'SnapshotIsolation',
  });
  return result;
}
