// The conflict checks a writer runs after losing a commit race (Spark's ConflictChecker, in the order of
// delta-protocol.md §9): protocol, metadata, app transactions (the exactly-once fence), appended files,
// deleted-files-read, delete-delete. Pure: it compares what this transaction did with one winning commit.
import type { Action, AddAction, CommitInfoAction, TxnAction } from './actions.js';
import { assertWritable } from './protocol.js';
import { canonicalPath } from './replay.js';

/**
 * Delta's isolation levels: appends commit as Serializable, overwrites as WriteSerializable (other
 * writers' blind appends do not conflict), compaction as SnapshotIsolation (no appended file does).
 */
export type IsolationLevel = 'Serializable' | 'WriteSerializable' | 'SnapshotIsolation';

/** What a transaction read, for the appended-files check. */
export type ReadPredicate =
  /** A blind append: read nothing, so no concurrent add can invalidate it. */
  | { kind: 'none' }
  /** Read the whole table (full overwrite). */
  | { kind: 'all' }
  /** Read the files whose partition values match (replaceWhere, optimize of some partitions). */
  | {
      kind: 'partitions';
      description: string;
      matches: (partitionValues: Readonly<Record<string, string | null>>) => boolean;
    };

/** The facts about the current (losing) transaction that the checks need. */
export interface TransactionSummary {
  /** commitInfo.txnId of this transaction: a winning commit with the same id is our own. */
  readonly txnId: string;
  readonly isolationLevel: IsolationLevel;
  readonly changesProtocol: boolean;
  readonly changesMetadata: boolean;
  /** Application transactions this commit sets (it also read them: txnVersion was checked). */
  readonly txns: readonly TxnAction[];
  readonly readPredicate: ReadPredicate;
  /** Canonical paths of the live files this transaction read (and may remove). */
  readonly readPaths: ReadonlySet<string>;
  /** Canonical paths this transaction removes. */
  readonly removedPaths: ReadonlySet<string>;
}

/** One commit that landed after this transaction's read version. */
export interface WinningCommit {
  readonly version: number;
  readonly actions: readonly Action[];
}

/** Names of the checks, as reported in COMMIT_CONFLICT's context.conflict. */
export type ConflictCheck =
  | 'protocol-changed'
  | 'metadata-changed'
  | 'concurrent-transaction'
  | 'concurrent-append'
  | 'concurrent-delete-read'
  | 'concurrent-delete-delete';

export type ConflictCheckResult =
  /** The winner does not invalidate this transaction: retry at the next version. */
  | { kind: 'compatible' }
  /**
   * This transaction's effect is already in the table: the winner is our own commit (same txnId),
   * or it set every txn we set to the same or a later version.
   */
  | { kind: 'already-committed'; version: number; reason: 'own-commit' | 'txn' }
  | { kind: 'conflict'; check: ConflictCheck; version: number; message: string; context: Record<string, unknown> };

function conflict(
  check: ConflictCheck,
  version: number,
  message: string,
  context: Record<string, unknown> = {},
): ConflictCheckResult {
  return { kind: 'conflict', check, version, message, context: { ...context, winningVersion: version } };
}

/**
 * Runs the checks of `current` against one winning commit. Throws UNSUPPORTED_FEATURE when the
 * winner upgraded the protocol beyond what this writer supports.
 */
export function checkConflicts(current: TransactionSummary, winner: WinningCommit): ConflictCheckResult {
  let commitInfo: CommitInfoAction | undefined;
  const adds: AddAction[] = [];
  const removed: string[] = [];
  const txns: TxnAction[] = [];
  let protocolChanged = false;
  let metadataChanged = false;
  for (const action of winner.actions) {
    if ('commitInfo' in action) commitInfo = action.commitInfo;
    else if ('add' in action) adds.push(action.add);
    else if ('remove' in action) removed.push(canonicalPath(action.remove.path));
    else if ('txn' in action) txns.push(action.txn);
    else if ('protocol' in action) {
      protocolChanged = true;
      assertWritable(action.protocol);
    } else if ('metaData' in action) metadataChanged = true;
  }
  const v = winner.version;

  // 0. Our own commit, durable although its put was not acknowledged.
  if (commitInfo?.txnId !== undefined && commitInfo.txnId === current.txnId) {
    return { kind: 'already-committed', version: v, reason: 'own-commit' };
  }

  // 1. Protocol.
  if (protocolChanged && current.changesProtocol) {
    return conflict('protocol-changed', v, `the protocol was changed concurrently by version ${v}`);
  }

  // 2. Metadata: any metadata change by the winner invalidates what this transaction planned with.
  if (metadataChanged) {
    return conflict(
      'metadata-changed',
      v,
      `the table metadata (schema, partitioning or properties) was changed by version ${v}`,
    );
  }

  // 3. Domain metadata: lakestream writes none, so nothing can overlap.

  // 4. Application transactions (the exactly-once fence).
  if (current.txns.length > 0) {
    const ours = new Map(current.txns.map((t) => [t.appId, t.version]));
    const touched = txns.filter((t) => ours.has(t.appId));
    if (touched.length > 0) {
      const covered = current.txns.every((mine) => {
        const theirs = touched.find((t) => t.appId === mine.appId);
        return theirs !== undefined && theirs.version >= mine.version;
      });
      if (covered) return { kind: 'already-committed', version: v, reason: 'txn' };
      return conflict(
        'concurrent-transaction',
        v,
        `version ${v} committed application transactions [${touched.map((t) => `${t.appId}@${t.version}`).join(', ')}] concurrently with this one [${current.txns.map((t) => `${t.appId}@${t.version}`).join(', ')}]`,
        { appIds: touched.map((t) => t.appId) },
      );
    }
  }

  // 5. Appended files that this transaction should have read.
  if (current.readPredicate.kind !== 'none' && current.isolationLevel !== 'SnapshotIsolation') {
    const blind = commitInfo?.isBlindAppend === true;
    const ignoreBlindAppends = current.isolationLevel === 'WriteSerializable' && !current.changesMetadata;
    const candidates = adds.filter((a) => (blind ? !ignoreBlindAppends : a.dataChange));
    const predicate = current.readPredicate;
    const hit = candidates.find((a) => predicate.kind === 'all' || predicate.matches(a.partitionValues));
    if (hit) {
      return conflict(
        'concurrent-append',
        v,
        `version ${v} added ${hit.path}, which this transaction should have read (${predicate.kind === 'all' ? 'whole table' : predicate.description})`,
        { path: hit.path },
      );
    }
  }

  // 6. Files this transaction read were deleted.
  const deletedRead = removed.find((p) => current.readPaths.has(p));
  if (deletedRead !== undefined) {
    return conflict('concurrent-delete-read', v, `version ${v} removed ${deletedRead}, which this transaction read`, {
      path: deletedRead,
    });
  }
  if (current.readPredicate.kind === 'all' && removed.length > 0) {
    return conflict(
      'concurrent-delete-read',
      v,
      `version ${v} removed ${removed[0]} while this transaction read the whole table`,
      {
        path: removed[0],
      },
    );
  }

  // 7. Files deleted by both.
  const both = removed.find((p) => current.removedPaths.has(p));
  if (both !== undefined) {
    return conflict('concurrent-delete-delete', v, `version ${v} also removed ${both}`, { path: both });
  }
  return { kind: 'compatible' };
}
