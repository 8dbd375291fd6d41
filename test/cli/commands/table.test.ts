// `lakestream table …` end to end through runCli (in process) and, for exit codes, the real binary.
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../cli/run-cli.js';
import { PROJECT_ROOT } from '../../kit/paths.js';

const run = async (...argv: string[]) => {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
};

const logFiles = (table: string) =>
  readdirSync(join(table, '_delta_log'))
    .filter((f) => f.endsWith('.json'))
    .sort();

describe('lakestream table', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lakestream-cli-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes JSONL with an inferred schema, appends, overwrites and time-travels', async () => {
    const table = join(dir, 'events');
    const input = join(dir, 'events.jsonl');
    writeFileSync(input, '{"id":1,"user":"ann","score":1.5}\n{"id":2,"user":"bob","score":null}\n');
    expect((await run('table', 'write', table, '--input', input)).code).toBe(0);
    expect((await run('table', 'write', table, '--input', input)).code).toBe(0);
    const read = await run('table', 'read', table, '--format', 'jsonl');
    expect(read.out.map((l) => JSON.parse(l)).sort((a, b) => a.id - b.id)).toEqual([
      { id: 1, user: 'ann', score: 1.5 },
      { id: 1, user: 'ann', score: 1.5 },
      { id: 2, user: 'bob', score: null },
      { id: 2, user: 'bob', score: null },
    ]);
    writeFileSync(input, '{"id":3,"user":"cy","score":3}\n');
    const over = await run('table', 'write', table, '--input', input, '--mode', 'overwrite');
    expect(over.code).toBe(0);
    expect(over.out.join('\n')).toContain('overwrote 1 rows');
    expect((await run('table', 'read', table, '--format', 'jsonl')).out).toEqual(['{"id":3,"user":"cy","score":3}']);
    expect((await run('table', 'read', table, '--format', 'jsonl', '--version', '1')).out).toHaveLength(2);
    const history = await run('table', 'history', table, '--format', 'jsonl');
    expect(history.out.map((l) => JSON.parse(l).operation)).toEqual(['WRITE', 'WRITE', 'WRITE', 'CREATE TABLE']);
    const limited = await run('table', 'read', table, '--limit', '0');
    expect(limited.out.at(-1)).toBe('(0 rows)');
  });

  it('writes CSV partitioned by a date column with a given schema', async () => {
    const table = join(dir, 'sales');
    const input = join(dir, 'sales.csv');
    const schema = join(dir, 'sales.schema.json');
    writeFileSync(
      input,
      'day,store,amount\n2024-01-01,north,10.50\n2024-01-01,south,3.25\n2024-01-02,north,7.00\n,east,1.00\n',
    );
    writeFileSync(
      schema,
      JSON.stringify({
        type: 'struct',
        fields: [
          { name: 'day', type: 'date', nullable: true, metadata: {} },
          { name: 'store', type: 'string', nullable: true, metadata: {} },
          { name: 'amount', type: 'decimal(10,2)', nullable: true, metadata: {} },
        ],
      }),
    );
    const res = await run('table', 'write', table, '--input', input, '--schema', schema, '--partition-by', 'day');
    expect(res.err.join('\n')).toContain('created table');
    expect(res.code).toBe(0);
    expect(
      readdirSync(table)
        .filter((f) => f.startsWith('day='))
        .sort(),
    ).toEqual(['day=2024-01-01', 'day=2024-01-02', 'day=__HIVE_DEFAULT_PARTITION__']);
    const rows = (await run('table', 'read', table, '--format', 'jsonl')).out.map((l) => JSON.parse(l));
    expect(rows.sort((a, b) => a.store.localeCompare(b.store) || String(a.day).localeCompare(String(b.day)))).toEqual([
      { day: null, store: 'east', amount: 1.0 },
      { day: '2024-01-01', store: 'north', amount: 10.5 },
      { day: '2024-01-02', store: 'north', amount: 7.0 },
      { day: '2024-01-01', store: 'south', amount: 3.25 },
    ]);
    const opt = await run('table', 'optimize', table);
    expect(opt.code).toBe(0);
    const vac = await run('table', 'vacuum', table, '--dry-run');
    expect(vac.out.at(-1)).toMatch(/^would delete 0 files/);
  });

  it('refuses bad input with one clear error and leaves the table unchanged', async () => {
    const table = join(dir, 'strict');
    const good = join(dir, 'good.jsonl');
    writeFileSync(good, '{"id":1,"name":"a"}\n');
    expect((await run('table', 'write', table, '--input', good)).code).toBe(0);
    const before = logFiles(table);

    const bad = join(dir, 'bad.jsonl');
    writeFileSync(bad, '{"id":2,"name":"b"}\n{"id":3,"name":\n');
    const malformed = await run('table', 'write', table, '--input', bad);
    expect(malformed.code).toBe(1);
    expect(malformed.err[0]).toMatch(/bad\.jsonl:2.*\[INVALID_INPUT\]$/);
    expect(malformed.err[1]).toMatch(/^hint: /);

    const mismatch = join(dir, 'mismatch.jsonl');
    writeFileSync(mismatch, '{"id":"not-a-number","name":"c"}\n');
    const typed = await run('table', 'write', table, '--input', mismatch);
    expect(typed.code).toBe(1);
    expect(typed.err[0]).toContain('id');

    const missing = await run('table', 'read', join(dir, 'no-such-table'));
    expect(missing.code).toBe(1);
    expect(missing.err[0]).toContain('[TABLE_NOT_FOUND]');
    expect(missing.err[0]).toContain('no-such-table');
    expect(logFiles(table)).toEqual(before);
  });

  it('the binary prints one error line plus a hint and exits non-zero', async () => {
    const bin = join(PROJECT_ROOT, 'node_modules/.bin/tsx');
    const main = join(PROJECT_ROOT, 'cli/main.ts');
    const result = await promisify(execFile)(bin, [main, 'table', 'read', join(dir, 'absent')]).catch(
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
    expect('code' in result ? result.code : 0).toBe(1);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^lakestream: .*\[TABLE_NOT_FOUND\]$/);
    expect(lines[1]).toMatch(/^hint: /);
  });
});
