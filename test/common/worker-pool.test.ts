// WorkerPool against real worker threads running test/common/fixtures/pool-worker.ts (a TypeScript
// module: loaded through tsx's register API, as the ingest worker is under tsx and vitest).
import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { siblingModule, WorkerPool, WorkerTaskError } from '../../common/worker-pool.js';
import type { PoolTestResult, PoolTestTask } from './fixtures/pool-worker.js';

const MODULE = new URL('./fixtures/pool-worker.ts', import.meta.url);
const ROOT = new URL('../..', import.meta.url).pathname;

let pool: WorkerPool<PoolTestTask, PoolTestResult> | undefined;
afterEach(async () => {
  await pool?.close();
  pool = undefined;
});

const sum = (values: number[], delayMs = 0): PoolTestTask => ({
  op: 'sum',
  values: Float64Array.from(values),
  delayMs,
});

describe('WorkerPool', () => {
  it('runs tasks on up to `size` threads, the rest in FIFO order', async () => {
    pool = new WorkerPool(MODULE, { size: 2 });
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => pool!.run(sum([i, i, 1], 30))));
    expect(results.map((r) => r.sum)).toEqual([1, 3, 5, 7, 9, 11]);
    expect(new Set(results.map((r) => r.threadId)).size).toBe(2);
  });

  it('moves transferred buffers instead of copying them, both ways', async () => {
    pool = new WorkerPool(MODULE, { size: 1 });
    const values = Float64Array.from([1, 2, 3]);
    const result = await pool.run({ op: 'sum', values }, [values.buffer]);
    expect(result.sum).toBe(6);
    expect(values.byteLength).toBe(0); // detached here: it was moved to the worker
    const back = await pool.run({ op: 'bytes', size: 1 << 20 });
    expect(back.bytes?.byteLength).toBe(1 << 20);
    expect(back.bytes?.[12345]).toBe(7);
  });

  it("rejects with the handler's LakestreamError code, retryable flag and (clonable) context", async () => {
    pool = new WorkerPool(MODULE, { size: 1 });
    const error = await pool.run({ op: 'fail', code: 'SOMETHING_FAILED', retryable: true }).catch((e) => e);
    expect(error).toBeInstanceOf(WorkerTaskError);
    expect(error).toMatchObject({ code: 'SOMETHING_FAILED', retryable: true, message: 'refused on purpose' });
    expect(error.context.what).toBe('test');
    expect(error.context.when).toEqual(new Date(0));
    expect(typeof error.context.fn).toBe('string');
    const plain = await pool.run({ op: 'throw' }).catch((e) => e);
    expect(plain).toMatchObject({ code: 'WORKER_TASK_FAILED', retryable: false, message: 'a plain error' });
    // The worker survives handler errors.
    expect((await pool.run(sum([2, 2]))).sum).toBe(4);
  });

  it('rejects the task of a worker that ends with the retryable WORKER_EXITED, and replaces the worker', async () => {
    pool = new WorkerPool(MODULE, { size: 1, name: 'test worker' });
    const first = await pool.run(sum([1]));
    const error = await pool.run({ op: 'exit' }).catch((e) => e);
    expect(error).toMatchObject({ code: 'WORKER_EXITED', retryable: true });
    expect(error.message).toContain('the test worker ended while running a task (exit code 3)');
    const after = await pool.run(sum([5]));
    expect(after.sum).toBe(5);
    expect(after.threadId).not.toBe(first.threadId);
  });

  it('rejects the task of a worker that cannot start with the non-retryable WORKER_START_FAILED', async () => {
    const broken = new WorkerPool<PoolTestTask, PoolTestResult>(
      new URL('./fixtures/broken-worker.ts', import.meta.url),
      {
        size: 1,
        name: 'test worker',
      },
    );
    try {
      const error = await broken.run(sum([1])).catch((e) => e);
      expect(error).toMatchObject({ code: 'WORKER_START_FAILED', retryable: false });
      expect(error.message).toContain('the test worker could not start: Error: this module cannot load');
      expect(broken.threads).toBe(0);
    } finally {
      await broken.close();
    }
  });

  it('retireAfterError replaces a worker that answered with an error; hooks map the errors', async () => {
    pool = new WorkerPool(MODULE, {
      size: 1,
      retireAfterError: true,
      taskError: (error) => new Error(`mapped: ${(error as { code: string }).code}`),
      exitError: (why) => new Error(`gone: ${why}`),
    });
    const first = await pool.run(sum([1]));
    expect(pool.threads).toBe(1);
    await expect(pool.run({ op: 'fail', code: 'X_FAILED', retryable: false })).rejects.toThrow('mapped: X_FAILED');
    const next = await pool.run(sum([1]));
    expect(next.threadId).not.toBe(first.threadId);
    await expect(pool.run({ op: 'exit' })).rejects.toThrow('gone: exit code 3');
  });

  it('close() rejects waiting tasks with POOL_CLOSED, and later runs too', async () => {
    pool = new WorkerPool(MODULE, { size: 1 });
    const running = pool.run(sum([1], 200));
    const waiting = pool.run(sum([2]));
    await new Promise((r) => setTimeout(r, 50));
    const closing = pool.close();
    await expect(waiting).rejects.toMatchObject({ code: 'POOL_CLOSED' });
    await expect(running).rejects.toMatchObject({ code: 'POOL_CLOSED' });
    await closing;
    await expect(pool.run(sum([3]))).rejects.toMatchObject({ code: 'POOL_CLOSED' });
  });

  it('refuses a size that is not a positive integer', () => {
    expect(() => new WorkerPool(MODULE, { size: 0 })).toThrow(/invalid worker pool size 0/);
  });

  it('never keeps a process alive once its tasks are done', () => {
    const script =
      `import { WorkerPool } from ${JSON.stringify(new URL('../../common/worker-pool.ts', import.meta.url).href)};` +
      `const pool = new WorkerPool(new URL(${JSON.stringify(MODULE.href)}), { size: 2 });` +
      `const r = await Promise.all([pool.run({ op: 'sum', values: Float64Array.from([1, 2]) }), pool.run({ op: 'sum', values: Float64Array.from([3]) })]);` +
      'console.log(r.map((x) => x.sum).join(","));';
    const started = Date.now();
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(child.stderr).toBe('');
    expect(child.stdout.trim()).toBe('3,3');
    expect(child.status).toBe(0);
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('siblingModule picks .ts under TypeScript and .js compiled', () => {
    expect(siblingModule('file:///x/a/stage.ts', 'worker').href).toBe('file:///x/a/worker.ts');
    expect(siblingModule('file:///x/dist/a/stage.js', 'worker').href).toBe('file:///x/dist/a/worker.js');
  });
});
