// DeltaSnapshot: an immutable view of a Delta table at one version (the result of log replay).
// The loader (load-snapshot.ts) builds it through an ObjectStore; writers read it to plan commits.
import type { StructType } from '../schema.js';
import type { AddAction, MetadataAction, ProtocolAction, RemoveAction } from './actions.js';

export interface DeltaSnapshot {
  /** Table version this snapshot reflects (the last commit replayed). */
  readonly version: number;
  readonly protocol: ProtocolAction;
  readonly metadata: MetadataAction;
  /** metadata.schemaString parsed. */
  readonly schema: StructType;
  readonly partitionColumns: readonly string[];
  /** metadata.configuration (table properties such as delta.checkpointInterval). */
  readonly properties: Readonly<Record<string, string>>;
  /** Live data files after replay (one per path), in log order. */
  readonly files: readonly AddAction[];
  /** Tombstones still within the retention window (kept for checkpoints and vacuum). */
  readonly tombstones: readonly RemoveAction[];
  /** Commit timestamp (ms) of this version: commitInfo.timestamp, else the commit file's mtime. */
  readonly timestamp: number;
  /** Latest `txn.version` recorded for an application id, or undefined when it never committed. */
  txnVersion(appId: string): number | undefined;
  /** All application transactions (appId → version). */
  readonly txns: ReadonlyMap<string, number>;
}
