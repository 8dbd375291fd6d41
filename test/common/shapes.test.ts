// keepShape against V8 itself: rounds of a micro-batch's per-batch objects (ColumnBatch,
// JsonColumnScanner, DedupKeyIndex) that all die before full collections, in a child node process
// with --trace-deopt (test/common/fixtures/shape-churn.ts). The classes the modules keep an instance
// of keep their optimized code; the fixture's own Control class, kept by no one, shows that the
// collections do free unkept shapes and throw away the code that checked them.

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ColumnBatch } from '../../sinks/parquet/column-batch.js';
import { JsonColumnScanner } from '../../stream/input/json-columns.js';
import { DedupKeyIndex } from '../../stream/operators/dedup-key-index.js';
import { PROJECT_ROOT } from '../kit/paths.js';

const ROUNDS = 6;

/** The function names --trace-deopt marked for deoptimization because an object they embedded died. */
function weakObjectDeopts(trace: string): string[] {
  const names: string[] = [];
  for (const line of trace.split('\n')) {
    if (!line.includes('reason: weak objects')) continue;
    const name = /<SharedFunctionInfo ([^>]*)>/.exec(line)?.[1];
    if (name !== undefined) names.push(name);
  }
  return names;
}

const methodsOf = (...classes: { prototype: object }[]) =>
  new Set(classes.flatMap((c) => Object.getOwnPropertyNames(c.prototype)).filter((name) => name !== 'constructor'));

describe('keepShape', () => {
  it('per-batch classes keep their optimized code across full collections that free unkept shapes', () => {
    const child = spawnSync(
      process.execPath,
      [
        '--expose-gc',
        '--trace-deopt',
        '--import',
        'tsx',
        join(PROJECT_ROOT, 'test/common/fixtures/shape-churn.ts'),
        String(ROUNDS),
      ],
      { cwd: PROJECT_ROOT, encoding: 'utf8', timeout: 120_000, maxBuffer: 64 * 2 ** 20 },
    );
    expect(child.status, child.stderr).toBe(0);
    expect(child.stdout).toContain(`round ${ROUNDS - 1}`);
    const deopted = weakObjectDeopts(child.stdout);
    // The control: its shape is freed and its method's code thrown away (V8 does not re-optimize the
    // method in time for every round's collections, so not each round).
    expect(deopted).toContain('controlAdd');
    const kept = methodsOf(ColumnBatch, JsonColumnScanner, DedupKeyIndex);
    expect(kept.size).toBeGreaterThan(30);
    expect(deopted.filter((name) => kept.has(name))).toEqual([]);
  }, 150_000);
});
