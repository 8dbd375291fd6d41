// The JSON scan pool: a group's records scanned in a worker thread give exactly what the calling
// thread's scanRecords gives (batch storage, origin of each row, dead letters and their reasons) for
// text and for bytes, with records the scanner declines and records only the row path takes; a group
// mostly declined falls back to the row path in both; a worker that dies fails the task retryably.

import { afterAll, describe, expect, it, vi } from 'vitest';
import { JsonScanPool } from '../../../stream/input/scan-pool.js';
import { type PackedRecords, runScanTask, type ScanTask } from '../../../stream/input/scan-records.js';
import { FLAT_SCHEMA } from '../../kit/flat-schema.js';
import { prng } from '../../kit/prng.js';

const SCHEMA = FLAT_SCHEMA;

/** Records the scanner declines or that test a value (all text). */
const EDGE_CASES = [
  '{"id":"a-1"', // not JSON: a dead letter
  '[1,2]',
  `{"id":"off","ts":"2024-05-01T02:00:00.5+02:00","n":1}`,
  `{"id":"é-ü","ts":"2024-05-01T00:00:00.123456Z"}`,
  `{"id":"esc\\"q","score":1e300}`,
  `{"i\\u0064":"escaped-key"}`,
  `{"id":"dup","id":"dup2"}`,
  `{"id":7}`,
  `{"id":"num","n":"5"}`,
  `{"id":"frac","n":1.5}`,
  `{"id":"big","n":9007199254740993}`,
  `{"id":"int","small":2147483648}`,
  `{"id":"nest","extra":{"a":[1,{"b":null}]}}`,
  `{"id":"badday","day":"2024-02-30"}`,
  `{"id":"surrogate-pair-🙂"}`,
];

function corpus(n: number, seed: number): string[] {
  const rand = prng(seed);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    if (rand() < 0.02) {
      out.push(EDGE_CASES[Math.floor(rand() * EDGE_CASES.length)]!);
      continue;
    }
    const micros = Math.floor(rand() * 1e6);
    out.push(
      JSON.stringify({
        id: `evt-${i}-${rand().toString(36).slice(2)}`,
        n: Math.floor(rand() * 1e12),
        score: rand() * 100,
        ok: rand() < 0.5,
        small: Math.floor(rand() * 1000),
        ts: `2024-05-01T00:${String(i % 60).padStart(2, '0')}:00.${String(micros).padStart(6, '0')}Z`,
        day: '2024-05-01',
      }),
    );
  }
  return out;
}

function pack(records: (string | Uint8Array)[]): PackedRecords {
  const chunks = records.map((r) => (typeof r === 'string' ? Buffer.from(r, 'utf8') : r));
  const ends = new Int32Array(records.length);
  let at = 0;
  chunks.forEach((c, i) => {
    at += c.length;
    ends[i] = at;
  });
  return { bytes: new Uint8Array(Buffer.concat(chunks)), ends, rowOnly: undefined };
}

/** A task and a copy of it (a task's buffers are transferred to the worker). */
function tasks(records: (string | Uint8Array)[], text: boolean): [ScanTask, ScanTask] {
  const task = (): ScanTask => ({ schema: SCHEMA, column: 'value', records: pack(records), text });
  return [task(), task()];
}

describe('JsonScanPool', () => {
  const pool = new JsonScanPool(1);
  afterAll(() => pool.close());

  for (const text of [true, false]) {
    it(`scans ${text ? 'text' : 'bytes'} in a worker exactly as on the calling thread`, async () => {
      const lines = corpus(6_000, text ? 1 : 2);
      const records = text ? lines : lines.map((l) => new TextEncoder().encode(l));
      const [local, posted] = tasks(records, text);
      const here = await runScanTask(local);
      const before = pool.tasks;
      const there = await pool.scan(posted);
      expect(pool.tasks).toBe(before + 1);
      expect(here).toBeDefined();
      expect(there).toBeDefined();
      expect(there!.batch.length).toBe(here!.batch.length);
      expect(there!.batch.parts().parts).toEqual(here!.batch.parts().parts);
      expect([...there!.origin]).toEqual([...here!.origin]);
      expect(there!.letters).toEqual(here!.letters);
      // The corpus reached the row path: declined records became rows, malformed ones dead letters.
      expect(here!.letters.length).toBeGreaterThan(0);
      expect(here!.batch.length + here!.letters.length).toBe(lines.length);
      const reasons = new Set(here!.letters.map((l) => l.reason.replace(/\(.*\)/, '()')));
      expect([...reasons].some((r) => r.startsWith("column 'value' is not valid JSON"))).toBe(true);
    });
  }

  it('a group whose records the scanner mostly declines falls back to the row path in both', async () => {
    const lines = corpus(1_000, 3).map((l, i) => (i % 4 === 0 ? `{"i\\u0064":"escaped-${i}"}` : l));
    const [local, posted] = tasks(lines, true);
    expect(await runScanTask(local)).toBeUndefined();
    expect(await pool.scan(posted)).toBeUndefined();
  });

  it('a worker that dies while scanning fails the task with the retryable WORKER_EXITED', async () => {
    const dying = new JsonScanPool(1, new URL('../../common/fixtures/exiting-worker.ts', import.meta.url));
    try {
      const [task] = tasks(corpus(10, 4), true);
      await expect(dying.scan(task)).rejects.toMatchObject({ code: 'WORKER_EXITED', retryable: true });
    } finally {
      await dying.close();
    }
  });

  it('the default pool: none unless LAKESTREAM_SCAN_WORKERS names a size; a bad value is INVALID_ARGUMENT', async () => {
    const fresh = async (value: string | undefined) => {
      vi.resetModules();
      if (value === undefined) delete process.env.LAKESTREAM_SCAN_WORKERS;
      else process.env.LAKESTREAM_SCAN_WORKERS = value;
      return (await import('../../../stream/input/scan-pool.js')).defaultScanPool;
    };
    try {
      expect((await fresh(undefined))()).toBeNull();
      expect((await fresh('0'))()).toBeNull();
      const two = (await fresh('2'))();
      expect(two?.size).toBe(2);
      await two?.close();
      const bad = await fresh('two');
      expect(() => bad()).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
      expect(() => bad()).toThrow(/LAKESTREAM_SCAN_WORKERS=two/);
    } finally {
      delete process.env.LAKESTREAM_SCAN_WORKERS;
    }
  });
});
