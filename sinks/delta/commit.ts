// The optimistic commit loop: write <readVersion+1>.json with putIfAbsent; on 'exists' read the winning
// commits, run the conflict checks, and retry at the next free version with exponential backoff and
// jitter. A put whose outcome is unknown (error after a possible write) is resolved by reading the file.
import type { ObjectStore } from '../../storage/object-store.js';
import type { Action } from './actions.js';
import { checkConflicts, type TransactionSummary, type WinningCommit } from './conflict-checker.js';
import { DeltaError } from './errors.js';
import { readCommit } from './load-snapshot.js';
import { commitPath } from './log-path.js';
import { advanceSnapshot, commitTimestamp } from './replay.js';
import type { DeltaSnapshot } from './snapshot.js';

/** How the commit loop retries. */
export interface CommitOptions {
  /** Attempts to write a commit file before COMMIT_RETRIES_EXHAUSTED (delta-rs and Spark use 15). */
  maxAttempts?: number;
  /** First backoff delay; doubles per attempt up to maxDelayMs, with jitter. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Injectable sleep and randomness (tests). */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export const COMMIT_DEFAULTS = Object.freeze({ maxAttempts: 15, baseDelayMs: 20, maxDelayMs: 2_000 });

/** The outcome of a commit that did not fail. */
export type CommitOutcome =
  /** This transaction's actions are the table version `version` (attempts = commit files tried). */
  | { kind: 'committed'; version: number; attempts: number; snapshot: DeltaSnapshot }
  /**
   * The transaction's application transactions (txn) were already at or after the requested
   * versions at table version `version`: nothing was committed, the batch is already in the table.
   */
  | { kind: 'already-committed'; version: number; snapshot: DeltaSnapshot };

/** A transaction ready to commit: what it read, what it writes and the facts for conflict checks. */
export interface PreparedCommit {
  /** The snapshot the transaction read; the first attempt writes snapshot.version + 1. */
  readonly snapshot: DeltaSnapshot;
  /** All actions, commitInfo first. */
  readonly actions: readonly Action[];
  readonly summary: TransactionSummary;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** One line per action, as Delta commit files are written. */
export function serializeActions(actions: readonly Action[]): Uint8Array {
  return new TextEncoder().encode(actions.map((a) => JSON.stringify(a)).join('\n'));
}

function txnIdOf(actions: readonly Action[]): string | undefined {
  for (const action of actions) if ('commitInfo' in action) return action.commitInfo.txnId;
  return undefined;
}

function isRetryable(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { retryable?: unknown }).retryable === true;
}

/** Backoff before attempt `attempt + 1`: exponential, capped, with "equal jitter" (half fixed, half random). */
export function backoffDelay(attempt: number, options: CommitOptions = {}): number {
  const base = options.baseDelayMs ?? COMMIT_DEFAULTS.baseDelayMs;
  const max = options.maxDelayMs ?? COMMIT_DEFAULTS.maxDelayMs;
  const ceiling = Math.min(max, base * 2 ** Math.max(0, attempt - 1));
  const random = options.random ?? Math.random;
  return ceiling / 2 + (ceiling / 2) * random();
}

type PutResult = 'created' | 'exists' | 'own' | { retry: unknown };

/**
 * putIfAbsent of one commit file. When the put throws, the write may still have happened (e.g. a
 * timeout after the object was stored): the file is read back, and a file carrying our txnId is ours.
 */
async function putCommit(store: ObjectStore, version: number, bytes: Uint8Array, txnId: string): Promise<PutResult> {
  try {
    return await store.putIfAbsent(commitPath(version), bytes);
  } catch (error) {
    let existing: Action[] | undefined;
    try {
      existing = await readCommit(store, version);
    } catch {
      throw error; // cannot tell whether the commit landed: report the original fault
    }
    if (existing) return txnIdOf(existing) === txnId ? 'own' : 'exists';
    if (isRetryable(error)) return { retry: error };
    throw error;
  }
}

/** Reads the commits from `from` on, up to the first version that does not exist. */
async function readWinners(store: ObjectStore, from: number): Promise<WinningCommit[]> {
  const winners: WinningCommit[] = [];
  for (let version = from; ; version++) {
    const actions = await readCommit(store, version);
    if (!actions) return winners;
    winners.push({ version, actions });
  }
}

function advance(snapshot: DeltaSnapshot, commits: readonly WinningCommit[]): DeltaSnapshot {
  if (commits.length === 0) return snapshot;
  return advanceSnapshot(
    snapshot,
    commits.map((c) => ({ version: c.version, actions: c.actions, timestamp: commitTimestamp(c.actions, 0) })),
  );
}

/**
 * Commits `prepared` at the next free version. Returns 'committed' (also when an unacknowledged put
 * turns out to have stored our commit) or 'already-committed' (a concurrent commit set our txns).
 * Throws COMMIT_CONFLICT (context.conflict names the failed check) when a winning commit invalidates
 * this transaction, and COMMIT_RETRIES_EXHAUSTED (retryable) after maxAttempts lost races.
 */
export async function commitWithRetries(
  store: ObjectStore,
  prepared: PreparedCommit,
  options: CommitOptions = {},
): Promise<CommitOutcome> {
  const maxAttempts = options.maxAttempts ?? COMMIT_DEFAULTS.maxAttempts;
  const sleep = options.sleep ?? defaultSleep;
  const bytes = serializeActions(prepared.actions);
  const { summary } = prepared;
  let snapshot = prepared.snapshot;
  let version = snapshot.version + 1;
  let attempts = 0;
  for (;;) {
    attempts++;
    const result = await putCommit(store, version, bytes, summary.txnId);
    if (result === 'created' || result === 'own') {
      const own = { version, actions: prepared.actions };
      return { kind: 'committed', version, attempts, snapshot: advance(snapshot, [own]) };
    }
    if (result === 'exists') {
      const winners = await readWinners(store, version);
      if (winners.length === 0) {
        throw new DeltaError(`commit ${version} of ${store.location} exists but cannot be read back`, {
          code: 'LOG_CORRUPT',
          context: { location: store.location, version },
        });
      }
      const checked: WinningCommit[] = [];
      for (const winner of winners) {
        const verdict = checkConflicts(summary, winner);
        checked.push(winner);
        if (verdict.kind === 'already-committed') {
          const after = advance(snapshot, checked);
          if (verdict.reason === 'own-commit')
            return { kind: 'committed', version: winner.version, attempts, snapshot: after };
          return { kind: 'already-committed', version: winner.version, snapshot: after };
        }
        if (verdict.kind === 'conflict') {
          throw new DeltaError(`commit conflict (${verdict.check}) in ${store.location}: ${verdict.message}`, {
            code: 'COMMIT_CONFLICT',
            context: {
              location: store.location,
              conflict: verdict.check,
              readVersion: prepared.snapshot.version,
              ...verdict.context,
            },
          });
        }
      }
      snapshot = advance(snapshot, winners);
      version = snapshot.version + 1;
    }
    if (attempts >= maxAttempts) {
      throw new DeltaError(`gave up committing to ${store.location} after ${attempts} attempts`, {
        code: 'COMMIT_RETRIES_EXHAUSTED',
        retryable: true,
        ...(typeof result === 'object' ? { cause: result.retry } : {}),
        context: {
          location: store.location,
          attempts,
          readVersion: prepared.snapshot.version,
          lastVersionTried: version,
        },
      });
    }
    await sleep(backoffDelay(attempts, options));
  }
}

/**
 * Creates version 0 with putIfAbsent. Returns 'created' (also when an unacknowledged put stored our
 * commit, recognised by `txnId`) or 'exists' when another writer created the table first.
 */
export async function commitVersionZero(
  store: ObjectStore,
  actions: readonly Action[],
  txnId: string,
  options: CommitOptions = {},
): Promise<'created' | 'exists'> {
  const maxAttempts = options.maxAttempts ?? COMMIT_DEFAULTS.maxAttempts;
  const sleep = options.sleep ?? defaultSleep;
  const bytes = serializeActions(actions);
  for (let attempt = 1; ; attempt++) {
    const result = await putCommit(store, 0, bytes, txnId);
    if (result === 'created' || result === 'own') return 'created';
    if (result === 'exists') return 'exists';
    if (attempt >= maxAttempts) throw result.retry;
    await sleep(backoffDelay(attempt, options));
  }
}
