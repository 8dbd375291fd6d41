// Key layout of a checkpoint folder on an ObjectStore (Spark's, plus a lease folder):
// metadata | offsets/<N> | commits/<N> | lease/<epoch, 20 digits>; batch ids are plain decimals.

export const METADATA_KEY = 'metadata';
export const OFFSETS_PREFIX = 'offsets/';
export const COMMITS_PREFIX = 'commits/';
export const LEASE_PREFIX = 'lease/';

export const offsetsKey = (batchId: number): string => `${OFFSETS_PREFIX}${batchId}`;
export const commitsKey = (batchId: number): string => `${COMMITS_PREFIX}${batchId}`;
export const leaseKey = (epoch: number): string => `${LEASE_PREFIX}${String(epoch).padStart(20, '0')}`;

/** The number after `prefix` if `key` is `<prefix><canonical non-negative integer>`, else undefined. */
export function parseNumbered(key: string, prefix: string): number | undefined {
  if (!key.startsWith(prefix)) return undefined;
  const rest = key.slice(prefix.length);
  if (!/^\d+$/.test(rest)) return undefined;
  const n = Number(rest);
  return Number.isSafeInteger(n) ? n : undefined;
}
