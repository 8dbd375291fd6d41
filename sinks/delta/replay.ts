// Log replay (PROTOCOL.md "Action Reconciliation"): a pure reducer from actions to table state — the
// latest protocol and metaData, live files and tombstones keyed by (canonical path, deletion vector id),
// the latest txn per appId, domain metadata — and the immutable DeltaSnapshot built from that state.
import type { StructType } from '../schema.js';
import type {
  Action,
  AddAction,
  CommitInfoAction,
  DomainMetadataAction,
  MetadataAction,
  ProtocolAction,
  RemoveAction,
  TxnAction,
} from './actions.js';
import { DeltaError } from './errors.js';
import { parseSchema } from './schema-json.js';
import type { DeltaSnapshot } from './snapshot.js';

/** The state reached after replaying a prefix of the log. Treat as immutable outside this module. */
export interface ReplayState {
  /** Last version applied; -1 before version 0. */
  readonly version: number;
  /** Timestamp (ms) of the last version applied (see commitTimestamp), or undefined before any. */
  readonly timestamp: number | undefined;
  readonly protocol: ProtocolAction | undefined;
  readonly metadata: MetadataAction | undefined;
  /** Live files by fileKey. */
  readonly files: ReadonlyMap<string, AddAction>;
  /** Tombstones by fileKey (every remove replayed and not re-added; checkpoints hold only unexpired ones). */
  readonly tombstones: ReadonlyMap<string, RemoveAction>;
  readonly txns: ReadonlyMap<string, TxnAction>;
  /** Domain metadata by domain; removed domains are dropped. */
  readonly domains: ReadonlyMap<string, DomainMetadataAction>;
}

/** Where a batch of actions comes from: a commit (version + timestamp) or a checkpoint (version). */
export interface ActionSource {
  version: number;
  /** Commit timestamp in ms; when omitted the previous state's timestamp is kept. */
  timestamp?: number;
}

/** The state before version 0. */
export function emptyReplayState(): ReplayState {
  return {
    version: -1,
    timestamp: undefined,
    protocol: undefined,
    metadata: undefined,
    files: new Map(),
    tombstones: new Map(),
    txns: new Map(),
    domains: new Map(),
  };
}

/**
 * The canonical form of an add/remove path used to match removes to adds: percent-decoded, with
 * `file:` URIs reduced to their absolute path (`file:/a`, `file:///a` and `/a` are one file), as
 * Spark canonicalizes paths before reconciling.
 */
export function canonicalPath(path: string): string {
  let decoded = path;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    // Not valid percent-encoding: compare the raw text.
  }
  const file = /^file:\/*(\/.*)$/.exec(decoded);
  if (file) return `/${(file[1] as string).replace(/^\/+/, '')}`;
  return decoded;
}

/** The unique id of a deletion vector descriptor (spec "Derived Fields"), or '' for none. */
export function deletionVectorId(dv: unknown): string {
  if (typeof dv !== 'object' || dv === null) return '';
  const d = dv as { storageType?: unknown; pathOrInlineDv?: unknown; offset?: unknown };
  const offset = typeof d.offset === 'number' ? `@${d.offset}` : '';
  return `${String(d.storageType)}${String(d.pathOrInlineDv)}${offset}`;
}

/** The reconciliation key of a file action: canonical path plus deletion vector id. */
export function fileKey(action: { path: string; deletionVector?: unknown }): string {
  const dv = deletionVectorId(action.deletionVector);
  return dv === '' ? canonicalPath(action.path) : `${canonicalPath(action.path)}\u0000${dv}`;
}

/** Mutable twin of ReplayState used while reducing. */
interface MutableState {
  version: number;
  timestamp: number | undefined;
  protocol: ProtocolAction | undefined;
  metadata: MetadataAction | undefined;
  files: Map<string, AddAction>;
  tombstones: Map<string, RemoveAction>;
  txns: Map<string, TxnAction>;
  domains: Map<string, DomainMetadataAction>;
}

function reduce(state: MutableState, actions: readonly Action[]): void {
  for (const action of actions) {
    if ('add' in action) {
      const key = fileKey(action.add);
      state.files.set(key, action.add);
      state.tombstones.delete(key);
    } else if ('remove' in action) {
      const key = fileKey(action.remove);
      state.files.delete(key);
      state.tombstones.set(key, action.remove);
    } else if ('metaData' in action) {
      state.metadata = action.metaData;
    } else if ('protocol' in action) {
      state.protocol = action.protocol;
    } else if ('txn' in action) {
      state.txns.set(action.txn.appId, action.txn);
    } else if ('domainMetadata' in action) {
      if (action.domainMetadata.removed) state.domains.delete(action.domainMetadata.domain);
      else state.domains.set(action.domainMetadata.domain, action.domainMetadata);
    }
    // commitInfo, cdc, checkpointMetadata and sidecar do not change the snapshot.
  }
}

/**
 * Applies the actions of one commit (or one checkpoint) to `state` and returns the new state; `state`
 * itself is not modified (its maps are copied), so a writer can advance a snapshot over winning
 * commits. Actions apply in order: a later add/remove of the same file wins.
 */
export function applyActions(state: ReplayState, actions: readonly Action[], source: ActionSource): ReplayState {
  const next: MutableState = {
    version: source.version,
    timestamp: source.timestamp ?? state.timestamp,
    protocol: state.protocol,
    metadata: state.metadata,
    files: new Map(state.files),
    tombstones: new Map(state.tombstones),
    txns: new Map(state.txns),
    domains: new Map(state.domains),
  };
  reduce(next, actions);
  return next;
}

/**
 * Replays consecutive batches (a checkpoint then commits) without copying between them; `state` is
 * copied once. Equivalent to folding applyActions.
 */
export function applyBatches(
  state: ReplayState,
  batches: Iterable<{ actions: readonly Action[]; source: ActionSource }>,
): ReplayState {
  let next: MutableState | undefined;
  for (const { actions, source } of batches) {
    if (!next) {
      next = applyActions(state, [], source) as MutableState;
    } else {
      next.version = source.version;
      if (source.timestamp !== undefined) next.timestamp = source.timestamp;
    }
    reduce(next, actions);
  }
  return next ?? state;
}

/**
 * The timestamp (ms) of a commit: `commitInfo.inCommitTimestamp` when present (In-Commit Timestamps),
 * else `commitInfo.timestamp`, else the commit file's modification time.
 */
export function commitTimestamp(actions: readonly Action[], fileModified: number): number {
  for (const action of actions) {
    if ('commitInfo' in action) {
      const info: CommitInfoAction = action.commitInfo;
      if (typeof info.inCommitTimestamp === 'number') return info.inCommitTimestamp;
      if (typeof info.timestamp === 'number') return info.timestamp;
    }
  }
  return fileModified;
}

class Snapshot implements DeltaSnapshot {
  readonly version: number;
  readonly protocol: ProtocolAction;
  readonly metadata: MetadataAction;
  readonly schema: StructType;
  readonly partitionColumns: readonly string[];
  readonly properties: Readonly<Record<string, string>>;
  readonly files: readonly AddAction[];
  readonly tombstones: readonly RemoveAction[];
  readonly timestamp: number;
  readonly txns: ReadonlyMap<string, number>;

  constructor(readonly state: ReplayState) {
    const { protocol, metadata } = state;
    if (!protocol) throw missing('protocol', state.version);
    if (!metadata) throw missing('metaData', state.version);
    this.version = state.version;
    this.protocol = protocol;
    this.metadata = metadata;
    this.schema = parseSchema(metadata.schemaString);
    this.partitionColumns = Object.freeze([...metadata.partitionColumns]);
    this.properties = Object.freeze({ ...metadata.configuration });
    this.files = Object.freeze([...state.files.values()]);
    this.tombstones = Object.freeze([...state.tombstones.values()]);
    this.timestamp = state.timestamp ?? 0;
    this.txns = new Map([...state.txns].map(([appId, txn]) => [appId, txn.version]));
  }

  txnVersion(appId: string): number | undefined {
    return this.txns.get(appId);
  }
}

function missing(action: string, version: number): DeltaError {
  return new DeltaError(`no ${action} action found in the log up to version ${version}`, {
    code: 'LOG_CORRUPT',
    context: { version, missing: action },
  });
}

/** A DeltaSnapshot that also exposes the replay state it was built from (to advance it). */
export type ReplayedSnapshot = DeltaSnapshot & { readonly state: ReplayState };

/**
 * Builds the immutable snapshot of `state`. Throws LOG_CORRUPT when the state lacks a protocol or a
 * metaData action, and propagates schema parse errors (LOG_CORRUPT).
 */
export function snapshotFromState(state: ReplayState): ReplayedSnapshot {
  return new Snapshot(state);
}

/**
 * Advances a snapshot over later commits (e.g. the winners of a commit race). Each commit must be the
 * next version. The feature gate is the caller's business (protocol.ts).
 */
export function advanceSnapshot(
  snapshot: DeltaSnapshot,
  commits: readonly { version: number; actions: readonly Action[]; timestamp?: number }[],
): ReplayedSnapshot {
  let expected = snapshot.version + 1;
  const batches = commits.map((commit) => {
    if (commit.version !== expected) {
      throw new DeltaError(`cannot apply version ${commit.version} after version ${expected - 1}`, {
        code: 'LOG_CORRUPT',
        context: { version: commit.version, expected },
      });
    }
    expected++;
    return {
      actions: commit.actions,
      source: { version: commit.version, timestamp: commit.timestamp ?? commitTimestamp(commit.actions, 0) },
    };
  });
  return snapshotFromState(applyBatches(stateOf(snapshot), batches));
}

/** The replay state behind a snapshot (rebuilt from its public fields when it is not ours). */
export function stateOf(snapshot: DeltaSnapshot): ReplayState {
  if (snapshot instanceof Snapshot) return snapshot.state;
  const files = new Map<string, AddAction>();
  for (const add of snapshot.files) files.set(fileKey(add), add);
  const tombstones = new Map<string, RemoveAction>();
  for (const remove of snapshot.tombstones) tombstones.set(fileKey(remove), remove);
  const txns = new Map<string, TxnAction>();
  for (const [appId, version] of snapshot.txns) txns.set(appId, { appId, version });
  return {
    version: snapshot.version,
    timestamp: snapshot.timestamp,
    protocol: snapshot.protocol,
    metadata: snapshot.metadata,
    files,
    tombstones,
    txns,
    domains: new Map(),
  };
}
