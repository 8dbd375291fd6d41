// IngestMetrics (cli/ingest/metrics.ts): the auto compaction counters. (The batch, lag and readiness
// metrics are checked against a running daemon in ingest.test.ts.)
import { describe, expect, it } from 'vitest';
import { IngestMetrics } from '../../../cli/ingest/metrics.js';

describe('IngestMetrics', () => {
  it('counts auto compactions and the small files they replaced', async () => {
    const metrics = new IngestMetrics('orders', { defaultMetrics: false });
    const compaction = { filesAdded: 1, partitionsOptimized: 1, bytesRemoved: 900, bytesAdded: 800 };
    metrics.onCompacted({ ...compaction, version: 7, filesRemoved: 50 });
    metrics.onCompacted({ ...compaction, version: 60, filesRemoved: 51 });
    const text = await metrics.registry.metrics();
    expect(text).toContain('lakestream_ingest_compactions_total{pipeline="orders"} 2');
    expect(text).toContain('lakestream_ingest_compacted_files_total{pipeline="orders"} 101');
  });
});
