// The feature gate (PROTOCOL.md "Protocol Evolution", "Table Features", "Reader Version Requirements"):
// which protocol versions and table features lakestream can read and write; anything else is refused
// with UNSUPPORTED_FEATURE naming the feature, so a table is never misread or corrupted.
import type { AddAction, MetadataAction, ProtocolAction } from './actions.js';
import { DeltaError } from './errors.js';

/**
 * Reader features the reader implements:
 * - `timestampNtz`: timestamp_ntz columns are read as wall-clock microseconds (scan.ts).
 * - `v2Checkpoint`: UUID-named checkpoints with sidecars (checkpoint-reader.ts).
 * - `vacuumProtocolCheck`: only constrains vacuum, which must itself check the writer features.
 */
export const SUPPORTED_READER_FEATURES: ReadonlySet<string> = new Set([
  'timestampNtz',
  'v2Checkpoint',
  'vacuumProtocolCheck',
]);

/**
 * Writer features a lakestream writer may honour by default: appendOnly (refuse removes when
 * delta.appendOnly=true) and invariants (only when the schema has none; the writer checks). The
 * writer passes its own set when it implements more.
 */
export const DEFAULT_WRITER_FEATURES: ReadonlySet<string> = new Set(['appendOnly', 'invariants']);

/** Features implied by legacy writer versions 3–6 (PROTOCOL.md "Writer Version Requirements"). */
const LEGACY_WRITER_FEATURES: Record<number, string[]> = {
  3: ['checkConstraints'],
  4: ['changeDataFeed', 'generatedColumns'],
  5: ['columnMapping'],
  6: ['identityColumns'],
};

function unsupported(feature: string, message: string, context: Record<string, unknown> = {}): DeltaError {
  return new DeltaError(message, { code: 'UNSUPPORTED_FEATURE', context: { feature, ...context } });
}

/** The table's column mapping mode (`delta.columnMapping.mode`), 'none' when unset. */
export function columnMappingMode(metadata: MetadataAction | undefined): string {
  return metadata?.configuration['delta.columnMapping.mode'] ?? 'none';
}

/**
 * Throws UNSUPPORTED_FEATURE unless this reader can read a table with `protocol` and `metadata`
 * correctly: reader version 1; version 2 only without column mapping; version 3 only with reader
 * features from SUPPORTED_READER_FEATURES (columnMapping is accepted when its mode is 'none').
 */
export function assertReadable(protocol: ProtocolAction, metadata?: MetadataAction): void {
  const { minReaderVersion: version } = protocol;
  if (!Number.isInteger(version) || version < 1 || version > 3) {
    throw unsupported(`readerVersion${version}`, `Delta reader version ${version} is not supported (max 3)`, {
      readerVersion: version,
    });
  }
  if (version >= 2 && columnMappingMode(metadata) !== 'none') {
    throw unsupported('columnMapping', `column mapping (mode ${columnMappingMode(metadata)}) is not supported`);
  }
  if (version === 3) {
    for (const feature of protocol.readerFeatures ?? []) {
      if (SUPPORTED_READER_FEATURES.has(feature)) continue;
      if (feature === 'columnMapping' && columnMappingMode(metadata) === 'none') continue;
      throw unsupported(feature, `Delta reader feature "${feature}" is not supported`);
    }
  }
}

/** Throws UNSUPPORTED_FEATURE when an add action carries a deletion vector (rows would be misread). */
export function assertNoDeletionVector(add: AddAction): void {
  if (add.deletionVector !== undefined && add.deletionVector !== null) {
    throw unsupported('deletionVectors', `data file ${add.path} has a deletion vector, which is not supported`, {
      path: add.path,
    });
  }
}

/**
 * Throws UNSUPPORTED_FEATURE unless a writer implementing `supported` may write the table: the
 * table must be readable, writer versions 3–6 are refused (their implied features need enforcement
 * lakestream lacks), and at version 7 every writer feature must be in `supported`.
 */
export function assertWritable(
  protocol: ProtocolAction,
  metadata?: MetadataAction,
  supported: ReadonlySet<string> = DEFAULT_WRITER_FEATURES,
): void {
  assertReadable(protocol, metadata);
  const version = protocol.minWriterVersion;
  if (!Number.isInteger(version) || version < 1 || version > 7) {
    throw unsupported(`writerVersion${version}`, `Delta writer version ${version} is not supported (max 7)`);
  }
  if (version < 7) {
    for (let v = 3; v <= version; v++) {
      for (const feature of LEGACY_WRITER_FEATURES[v] ?? []) {
        if (!supported.has(feature)) {
          throw unsupported(feature, `Delta writer version ${version} requires "${feature}", which is not supported`);
        }
      }
    }
    return;
  }
  for (const feature of protocol.writerFeatures ?? []) {
    if (!supported.has(feature)) throw unsupported(feature, `Delta writer feature "${feature}" is not supported`);
  }
}
