// Multi-process tests on a local-filesystem table: several child processes append at once (every
// append lands exactly once, versions stay contiguous, no commit is lost), and a writer SIGKILLed
// between its data files and its commit leaves a readable table whose orphans vacuum later removes.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeltaTable } from '../../../sinks/delta/table.js';
import type { StructType } from '../../../sinks/schema.js';
import { LocalObjectStore } from '../../../storage/local.js';
import { PROJECT_ROOT } from '../../kit/paths.js';

const FIXTURES = join(PROJECT_ROOT, 'test/sinks/delta/fixtures');
const schema: StructType = {
  type: 'struct',
  fields: [
    { name: 'id', type: 'long', nullable: false, metadata: {} },
    { name: 'worker', type: 'integer', nullable: true, metadata: {} },
    { name: 'seq', type: 'integer', nullable: true, metadata: {} },
  ],
};

interface Outcome {
  worker: number;
  seq: number;
  id: number;
  kind: string;
  version: number;
}

function run(script: string, args: string[]): { child: ChildProcess; lines: string[]; done: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', join(FIXTURES, script), ...args], {
    cwd: PROJECT_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let stderr = '';
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => lines.push(line));
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const done = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (code !== 0 && signal !== 'SIGKILL') reject(new Error(`${script} exited with ${code ?? signal}: ${stderr}`));
      else resolve(code);
    });
  });
  return { child, lines, done };
}

async function dataFiles(store: LocalObjectStore): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of store.list())
    if (o.key.endsWith('.parquet') && !o.key.startsWith('_delta_log/')) keys.push(o.key);
  return keys;
}

describe('concurrent writer processes', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lakestream-delta-concurrency-'));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('4 processes x 25 appends: every append present exactly once, versions contiguous, none lost', async () => {
    const path = join(dir, 'shared');
    const store = new LocalObjectStore(path);
    await DeltaTable.create(store, { schema });
    const workers = [0, 1, 2, 3].map((w) => run('append-worker.ts', [path, String(w), '25']));
    await Promise.all(workers.map((w) => w.done));
    const outcomes = workers.flatMap((w) => w.lines.map((l) => JSON.parse(l) as Outcome));
    expect(outcomes).toHaveLength(100);
    expect(outcomes.every((o) => o.kind === 'committed')).toBe(true);
    const committedVersions = outcomes.map((o) => o.version).sort((a, b) => a - b);
    expect(committedVersions).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));

    const table = await DeltaTable.open(store);
    expect(table.snapshot().version).toBe(100);
    const history = await table.history();
    expect(history.map((h) => h.version)).toEqual(Array.from({ length: 101 }, (_, i) => 100 - i));
    const rows = await table.scanRows();
    const ids = rows.map((r) => Number(r.id)).sort((a, b) => a - b);
    expect(ids).toEqual(outcomes.map((o) => o.id).sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(100);
    for (let w = 0; w < 4; w++) expect(table.snapshot().txnVersion(`worker-${w}`)).toBe(24);
    // Each process's commits are in its own order.
    for (let w = 0; w < 4; w++) {
      const mine = outcomes.filter((o) => o.worker === w).map((o) => o.version);
      expect(mine).toEqual([...mine].sort((a, b) => a - b));
    }
    // Checkpoints were written along the way (interval 10) and the latest one loads.
    await expect(store.head('_delta_log/00000000000000000100.checkpoint.parquet')).resolves.toBeDefined();
  }, 180_000);

  it('a writer killed between its data files and its commit leaves a readable table; vacuum removes the orphans', async () => {
    const path = join(dir, 'crash');
    const store = new LocalObjectStore(path);
    const table = await DeltaTable.create(store, { schema });
    await table.append([{ id: 1, worker: 0, seq: 0 }]);
    const before = await dataFiles(store);

    const crash = run('crash-worker.ts', [path, '500']);
    await new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        if (crash.lines.includes('FILES-WRITTEN')) {
          clearInterval(timer);
          resolve();
        }
      }, 20);
      crash.done.catch(reject);
    });
    crash.child.kill('SIGKILL');
    await crash.done;
    expect(crash.lines).not.toContain('COMMITTED');

    const orphans = (await dataFiles(store)).filter((k) => !before.includes(k));
    expect(orphans).toHaveLength(1);
    const reopened = await DeltaTable.open(store);
    expect(reopened.snapshot().version).toBe(1);
    expect((await reopened.scanRows()).map((r) => Number(r.id))).toEqual([1]);

    // Another writer carries on normally after the crash.
    await reopened.append([{ id: 2, worker: 0, seq: 1 }]);
    // Vacuum keeps recent files by default, and removes the orphan once it is old enough.
    expect((await reopened.vacuum({ dryRun: true })).files).toEqual([]);
    const vacuumed = await reopened.vacuum({ retentionHours: 0, force: true });
    expect(vacuumed.files).toEqual(orphans);
    expect(await dataFiles(store)).toHaveLength(2);
    expect((await reopened.scanRows()).map((r) => Number(r.id)).sort()).toEqual([1, 2]);
  }, 60_000);
});
