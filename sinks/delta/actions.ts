// Delta log actions as they appear, one per line, in _delta_log/<version>.json (PROTOCOL.md "Actions").
// Wire types only: parsing/serialising lives with the log reader and the transaction writer.

export interface ProtocolAction {
  minReaderVersion: number;
  minWriterVersion: number;
  readerFeatures?: string[];
  writerFeatures?: string[];
}

export interface MetadataAction {
  id: string;
  name?: string | null;
  description?: string | null;
  format: { provider: string; options: Record<string, string> };
  /** The table schema: a StructType serialised as JSON text (see sinks/schema.ts). */
  schemaString: string;
  partitionColumns: string[];
  createdTime?: number | null;
  configuration: Record<string, string>;
}

export interface AddAction {
  /** Relative (RFC 2396 URI-encoded) or absolute URI of the data file. */
  path: string;
  /** Partition column → value as a string; null for a null value. */
  partitionValues: Record<string, string | null>;
  size: number;
  modificationTime: number;
  dataChange: boolean;
  /** File statistics as a JSON string: {numRecords, minValues, maxValues, nullCount, tightBounds?}. */
  stats?: string | null;
  tags?: Record<string, string> | null;
  deletionVector?: unknown;
  baseRowId?: number | null;
  defaultRowCommitVersion?: number | null;
  clusteringProvider?: string | null;
}

export interface RemoveAction {
  path: string;
  deletionTimestamp?: number | null;
  dataChange: boolean;
  extendedFileMetadata?: boolean;
  partitionValues?: Record<string, string | null>;
  size?: number;
  stats?: string | null;
  tags?: Record<string, string> | null;
  deletionVector?: unknown;
}

export interface TxnAction {
  appId: string;
  version: number;
  lastUpdated?: number;
}

export interface CommitInfoAction {
  timestamp?: number;
  operation?: string;
  operationParameters?: Record<string, unknown>;
  operationMetrics?: Record<string, unknown>;
  isolationLevel?: string;
  isBlindAppend?: boolean;
  engineInfo?: string;
  txnId?: string;
  readVersion?: number;
  [key: string]: unknown;
}

export interface DomainMetadataAction {
  domain: string;
  configuration: string;
  removed: boolean;
}

/** One line of a commit file. Unknown action kinds are kept so a reader can refuse or ignore them. */
export type Action =
  | { protocol: ProtocolAction }
  | { metaData: MetadataAction }
  | { add: AddAction }
  | { remove: RemoveAction }
  | { txn: TxnAction }
  | { commitInfo: CommitInfoAction }
  | { domainMetadata: DomainMetadataAction }
  | { cdc: Record<string, unknown> }
  | { checkpointMetadata: Record<string, unknown> }
  | { sidecar: Record<string, unknown> };
