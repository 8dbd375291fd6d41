// Unit tests of the feature gate: which protocols and table features lakestream reads and writes.
import { describe, expect, it } from 'vitest';
import type { MetadataAction, ProtocolAction } from '../../../sinks/delta/actions.js';
import { DeltaError } from '../../../sinks/delta/errors.js';
import { assertNoDeletionVector, assertReadable, assertWritable } from '../../../sinks/delta/protocol.js';
import { add, metaData } from './log-fixtures.js';

function refusal(run: () => void): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(DeltaError);
    expect((error as DeltaError).code).toBe('UNSUPPORTED_FEATURE');
    return (error as DeltaError).context.feature as string;
  }
}

const p = (
  minReaderVersion: number,
  minWriterVersion: number,
  features: Partial<ProtocolAction> = {},
): ProtocolAction => ({
  minReaderVersion,
  minWriterVersion,
  ...features,
});
const mapping = (mode: string): MetadataAction =>
  metaData({ configuration: { 'delta.columnMapping.mode': mode } }).metaData;

describe('protocol', () => {
  it.each([
    [p(1, 2), undefined, undefined],
    [p(2, 5), mapping('none'), undefined],
    [p(2, 5), mapping('name'), 'columnMapping'],
    [p(2, 5), mapping('id'), 'columnMapping'],
    [p(3, 7, { readerFeatures: ['timestampNtz', 'v2Checkpoint', 'vacuumProtocolCheck'] }), undefined, undefined],
    [p(3, 7, { readerFeatures: ['columnMapping'] }), mapping('none'), undefined],
    [p(3, 7, { readerFeatures: ['columnMapping'] }), mapping('name'), 'columnMapping'],
    [p(3, 7, { readerFeatures: ['deletionVectors'] }), undefined, 'deletionVectors'],
    [p(3, 7, { readerFeatures: ['timestampNtz', 'typeWidening'] }), undefined, 'typeWidening'],
    [p(3, 7, { readerFeatures: ['variantType-preview'] }), undefined, 'variantType-preview'],
    [p(3, 7, { readerFeatures: ['catalogManaged'] }), undefined, 'catalogManaged'],
    [p(4, 7), undefined, 'readerVersion4'],
    [p(0, 7), undefined, 'readerVersion0'],
  ])('reading %j with %j refuses %s', (protocol, metadata, feature) => {
    expect(refusal(() => assertReadable(protocol, metadata))).toBe(feature);
  });

  it('refuses a data file with a deletion vector, whatever the protocol says', () => {
    expect(refusal(() => assertNoDeletionVector(add('a').add))).toBeUndefined();
    expect(refusal(() => assertNoDeletionVector(add('a', { deletionVector: { storageType: 'i' } }).add))).toBe(
      'deletionVectors',
    );
  });

  it.each([
    [p(1, 2), undefined],
    [p(1, 3), 'checkConstraints'],
    [p(1, 4), 'checkConstraints'],
    [p(1, 7, { writerFeatures: ['appendOnly', 'invariants'] }), undefined],
    [p(1, 7, { writerFeatures: ['appendOnly', 'deletionVectors'] }), 'deletionVectors'],
    [p(3, 7, { readerFeatures: ['deletionVectors'], writerFeatures: ['deletionVectors'] }), 'deletionVectors'],
    [p(1, 8), 'writerVersion8'],
  ])('writing %j refuses %s', (protocol, feature) => {
    expect(refusal(() => assertWritable(protocol))).toBe(feature);
  });

  it('lets a writer declare the features it implements', () => {
    const protocol = p(1, 7, { writerFeatures: ['appendOnly', 'domainMetadata'] });
    expect(refusal(() => assertWritable(protocol))).toBe('domainMetadata');
    expect(
      refusal(() => assertWritable(protocol, undefined, new Set(['appendOnly', 'domainMetadata']))),
    ).toBeUndefined();
  });
});
