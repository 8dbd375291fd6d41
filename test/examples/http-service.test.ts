// The embedded HTTP service: a 200 answer means the events are committed; resent events are
// deduplicated; the service restarts on its checkpoint; delta-free checks read the table back.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startEventService } from '../../examples/http-service.js';
import { DeltaTable } from '../../sinks/delta/table.js';
import { LocalObjectStore } from '../../storage/local.js';

const event = (i: number) => ({
  event_id: `e${i}`,
  user_id: i % 7,
  channel: i % 2 ? 'web' : 'ios',
  event_time: new Date(Date.UTC(2026, 10, 23, 10, 0, i)).toISOString(),
});

async function post(url: string, body: string) {
  const response = await fetch(`${url}/events`, { method: 'POST', body });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('examples/http-service', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lakestream-http-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const table = async () => (await DeltaTable.open(new LocalObjectStore(join(dir, 'events')))).scanRows();

  it('acknowledges events once committed, deduplicates resends, and resumes after a restart', async () => {
    let service = await startEventService(dir);
    try {
      const first = await post(service.url, JSON.stringify([event(1), event(2), event(3)]));
      expect(first).toMatchObject({ status: 200, body: { accepted: 3 } });
      // Acknowledged means committed: the table has them now.
      expect((await table()).map((r) => r.event_id).sort()).toEqual(['e1', 'e2', 'e3']);
      // A client that resends (e.g. after a timeout) does not create duplicates; JSON Lines work too.
      const lines = [event(3), event(4)].map((e) => JSON.stringify(e)).join('\n');
      expect((await post(service.url, lines)).status).toBe(200);
      const bad = await post(service.url, '{"event_id": "broken"');
      expect(bad.status).toBe(200); // accepted and dead-lettered by parseJson, not lost
      const stats = await (await fetch(`${service.url}/stats`)).json();
      expect(stats).toHaveProperty('batchId');
    } finally {
      await service.close();
    }
    service = await startEventService(dir);
    try {
      expect((await post(service.url, JSON.stringify([event(4), event(5)]))).status).toBe(200);
      expect((await table()).map((r) => r.event_id).sort()).toEqual(['e1', 'e2', 'e3', 'e4', 'e5']);
      expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
    } finally {
      await service.close();
    }
  }, 60_000);
});
