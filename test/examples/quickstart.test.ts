// The `npm start` demo runs as a child process, and delta-rs reads the table it wrote.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { pythonReaders } from '../kit/capabilities.js';
import { requireCapability } from '../kit/capability.js';
import { PROJECT_ROOT } from '../kit/paths.js';
import { runPython } from '../kit/python.js';

const readers = await requireCapability(pythonReaders);

describe('examples/quickstart.ts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lakestream-quickstart-'));
  const table = join(dir, 'events');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs to completion and reports exactly-once results', async () => {
    const { stdout } = await promisify(execFile)(join(PROJECT_ROOT, 'node_modules/.bin/tsx'), [
      join(PROJECT_ROOT, 'examples/quickstart.ts'),
      table,
    ]);
    expect(stdout).toContain('replayed batch 10: already-committed (table version stays 10)');
    expect(stdout).toContain('rows: 50000, distinct event ids: 50000 (expected 50000)');
  }, 120_000);

  it.skipIf(!readers.available)(
    'writes a table delta-rs reads with the same rows',
    async () => {
      const result = await runPython<{ rows: number; distinct: number; version: number; web: number }>(
        `
from deltalake import DeltaTable
t = DeltaTable(args["path"]).to_pyarrow_table()
ids = t.column("event_id").to_pylist()
result = {"rows": len(ids), "distinct": len(set(ids)), "version": DeltaTable(args["path"]).version(),
          "web": sum(1 for c in t.column("channel").to_pylist() if c == "web")}
`,
        { path: table },
      );
      expect(result).toEqual({ rows: 50000, distinct: 50000, version: 10, web: 12500 });
    },
    120_000,
  );
});
